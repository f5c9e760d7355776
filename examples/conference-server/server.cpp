// examples/conference-server/server.cpp: see server.hpp.
#include "server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "room_recorder.hpp"
#include "tutti/codec_registry.hpp"
#include "tutti/rtp.hpp"
#include "tutti/sdp.hpp"

namespace tutti_examples {

namespace {

std::int64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The whole of `text` as a whole number in [lo, hi]: "70000" for a port,
// "x" or "80x" are refused, not read as 4464, 0 or 80 the way atoi would.
bool parse_number(std::string_view text, long lo, long hi, long& out) {
    long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) return false;
    out = v;
    return true;
}

bool parse_host_port(std::string_view text, sockaddr_in& out) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    const std::string host(text.substr(0, colon));
    long port = 0;
    if (!parse_number(text.substr(colon + 1), 1, 65535, port)) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) return false;
    out = a;
    return true;
}

std::uint64_t addr_key(const sockaddr_in& a) noexcept {
    return (std::uint64_t{ntohl(a.sin_addr.s_addr)} << 16) | ntohs(a.sin_port);
}
sockaddr_in key_addr(std::uint64_t k) noexcept {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(static_cast<std::uint32_t>(k >> 16));
    a.sin_port = htons(static_cast<std::uint16_t>(k & 0xFFFF));
    return a;
}

// Why the I/O thread dropped a datagram.
enum drop_reason : std::size_t { unknown_source, not_rtp, wrong_payload_type, flood, ring_full, drop_reason_count };
constexpr const char* drop_names[] = {"unknown_source", "not_rtp", "wrong_payload_type", "flood", "ring_full"};

// Latency histogram with 1 us buckets up to 100 ms (the tail beyond goes in the last bucket).
struct histogram {
    std::vector<std::uint32_t> buckets = std::vector<std::uint32_t>(100001, 0);
    std::uint64_t count = 0;
    double max_us = 0;
    void add(double us) {
        const auto b = static_cast<std::size_t>(std::clamp(us, 0.0, 100000.0));
        ++buckets[b];
        ++count;
        max_us = std::max(max_us, us);
    }
    double quantile(double q) const {
        if (count == 0) return 0;
        const auto want = static_cast<std::uint64_t>(q * static_cast<double>(count - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t b = 0; b < buckets.size(); ++b)
            if ((seen += buckets[b]) >= want) return static_cast<double>(b);
        return max_us;
    }
};

}  // namespace

tutti::status parse_server_config(std::string_view text, server_config& out, std::string* error) {
    server_config c;
    const tutti::codec_registry codecs = tutti::codec_registry::with_builtin_codecs();
    std::istringstream in{std::string(text)};
    std::string line;
    int number = 0;
    auto bad = [&](const std::string& why) {
        if (error) *error = "line " + std::to_string(number) + ": " + why;
        return tutti::status::malformed;
    };
    long n = 0;  // the number parse_number() read last
    auto number_in = [&](const std::string& digits, long lo, long hi) { return parse_number(digits, lo, hi, n); };
    auto range = [](const std::string& what, long lo, long hi) {
        return what + ": expected a whole number " + std::to_string(lo) + ".." + std::to_string(hi);
    };
    while (std::getline(in, line)) {
        ++number;
        if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        std::istringstream words(line);
        std::string key;
        if (!(words >> key)) continue;
        std::string value;
        if (key == "participant") {
            server_participant_config p;
            if (!(words >> p.name)) return bad("participant needs a name");
            std::string codec, fmtp, sdp;
            int pt = -1;
            for (std::string kv; words >> kv;) {
                const auto eq = kv.find('=');
                if (eq == std::string::npos) return bad("expected key=value, got '" + kv + "'");
                const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
                if (k == "port") {
                    if (!number_in(v, 0, 65535)) return bad(range(kv, 0, 65535));
                    p.port = static_cast<std::uint16_t>(n);
                } else if (k == "codec") codec = v;
                else if (k == "pt") {
                    if (!number_in(v, 0, 127)) return bad(range(kv, 0, 127));
                    pt = static_cast<int>(n);
                }
                else if (k == "fmtp") fmtp = v;
                else if (k == "sdp") sdp = v;
                else if (k == "send") {
                    if (!parse_host_port(v, p.send_to)) return bad("send=" + v + ": expected IPv4:port");
                } else if (k == "from") {
                    if (!parse_host_port(v, p.from)) return bad("from=" + v + ": expected IPv4:port");
                } else if (k == "max_pps") {
                    if (!number_in(v, 1, 1000000)) return bad(range(kv, 1, 1000000));
                    p.max_packets_per_s = static_cast<std::uint32_t>(n);
                }
                else return bad("unknown participant key '" + k + "'");
            }
            std::string why;
            if (!sdp.empty()) {  // an SDP offer: the first audio format tutti can code
                std::ifstream f(sdp);
                std::stringstream body;
                body << f.rdbuf();
                std::vector<tutti::sdp_format> formats;
                if (!f || tutti::parse_sdp_audio(body.str(), formats, &why) != tutti::status::ok)
                    return bad(sdp + ": " + (why.empty() ? "cannot read" : why));
                const auto it = std::find_if(formats.begin(), formats.end(),
                                             [&](const tutti::sdp_format& s) { return codecs.find(s.encoding_name) != nullptr; });
                if (it == formats.end()) return bad(sdp + ": no audio format tutti can code");
                p.format = *it;
            } else {
                if (codec.empty() || pt < 0) return bad("participant needs codec=<name>/<rate>[/<channels>] and pt=<n>, or sdp=<file>");
                if (tutti::parse_rtpmap(std::to_string(pt) + " " + codec, p.format, &why) != tutti::status::ok) return bad(why);
                if (!fmtp.empty() && tutti::parse_fmtp_params(fmtp, p.format.fmtp, &why) != tutti::status::ok) return bad(why);
            }
            if (codecs.find(p.format.encoding_name) == nullptr) return bad("codec '" + p.format.encoding_name + "' is not available");
            c.participants.push_back(std::move(p));
        } else if (!(words >> value)) {
            return bad("'" + key + "' needs a value");
        } else if (key == "address") {
            c.address = value;
        } else if (key == "stats") {  // <ipv4>:<port> or <port>
            const auto colon = value.rfind(':');
            if (colon != std::string::npos) c.stats_address = value.substr(0, colon);
            if (!number_in(colon == std::string::npos ? value : value.substr(colon + 1), 0, 65535))
                return bad(range("stats " + value, 0, 65535));
            c.stats_port = static_cast<int>(n);
        } else if (key == "tick_ms") {  // the room checks what it supports; this only refuses what is not a number
            if (!number_in(value, 1, 1000)) return bad(range("tick_ms " + value, 1, 1000));
            c.tick_ms = static_cast<std::uint32_t>(n);
        } else if (key == "mixing_rate") {
            if (!number_in(value, 0, 192000)) return bad(range("mixing_rate " + value, 0, 192000));
            c.mixing_rate_hz = static_cast<std::uint32_t>(n);
        } else if (key == "loudest") {
            if (!number_in(value, 1, 1000)) return bad(range("loudest " + value, 1, 1000));
            c.loudest_n = static_cast<std::uint32_t>(n);
        } else if (key == "record") {
            c.record_path = value;
        } else {
            return bad("unknown key '" + key + "'");
        }
    }
    if (c.participants.empty()) {
        if (error) *error = "no participants";
        return tutti::status::not_found;
    }
    out = std::move(c);
    return tutti::status::ok;
}

struct conference_server::impl {
    struct peer {
        server_participant_config config;
        tutti::participant_id id = 0;
        int fd = -1;
        std::uint16_t bound_port = 0;
        std::atomic<std::uint64_t> latched{0};  // source address (addr_key), 0 until the first RTP packet
        // Written by the I/O thread only; read by the tick thread for snapshots.
        std::atomic<std::uint64_t> datagrams{0}, rtcp{0}, pushed{0};
        std::atomic<std::uint64_t> dropped[drop_reason_count]{};
        double tokens = 0;
        std::int64_t tokens_at_ns = 0;
        // Tick thread only.
        std::uint64_t sent = 0, send_errors = 0;
    };
    struct snapshot_row {
        tutti::participant_stats stats;
        std::uint64_t datagrams = 0, rtcp = 0, pushed = 0, sent = 0, send_errors = 0;
        std::uint64_t dropped[drop_reason_count] = {};
    };

    server_config config;
    std::unique_ptr<tutti::room> room;
    std::vector<std::unique_ptr<peer>> peers;
    int stop_fd = -1, stats_fd = -1;
    std::uint16_t stats_bound = 0;
    std::atomic<bool> stopping{false};
    room_recorder recorder;

    mutable std::mutex snap_mu;  // snapshot + histograms: the tick thread publishes, readers format
    std::vector<snapshot_row> rows;
    tutti::room_stats room_stats{};
    histogram work, late;
    std::atomic<std::uint64_t> overruns{0}, events{0};
    double io_cpu_s = 0, tick_cpu_s = 0;

    ~impl() {
        for (auto& p : peers)
            if (p->fd >= 0) close(p->fd);
        if (stop_fd >= 0) close(stop_fd);
        if (stats_fd >= 0) close(stats_fd);
    }

    static double thread_cpu_s() {
        rusage ru{};
        getrusage(RUSAGE_THREAD, &ru);
        return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    }

    void on_datagram(peer& p, const std::uint8_t* data, std::size_t size, const sockaddr_in& src, std::int64_t now_ns) {
        p.datagrams.fetch_add(1, std::memory_order_relaxed);
        auto drop = [&](drop_reason r) { p.dropped[r].fetch_add(1, std::memory_order_relaxed); };
        const std::uint64_t key = addr_key(src);
        const std::uint64_t expected = p.config.from.sin_port != 0 ? addr_key(p.config.from) : p.latched.load(std::memory_order_relaxed);
        if (expected != 0 && key != expected) return drop(unknown_source);
        tutti::rtp_packet_view view;
        const auto parsed = tutti::parse_rtp({data, size}, view);
        if (parsed == tutti::rtp_parse_result::rtcp) {
            p.rtcp.fetch_add(1, std::memory_order_relaxed);  // RTCP reports are not used by this server
            return;
        }
        if (parsed != tutti::rtp_parse_result::ok) return drop(not_rtp);
        if (view.payload_type() != p.config.format.payload_type) return drop(wrong_payload_type);
        // Token bucket: max_packets_per_s, burst of one second (a delay spike that drains at once).
        const double rate = p.config.max_packets_per_s;
        p.tokens = std::min(rate, p.tokens + rate * static_cast<double>(now_ns - p.tokens_at_ns) * 1e-9);
        p.tokens_at_ns = now_ns;
        if (p.tokens < 1.0) return drop(flood);
        p.tokens -= 1.0;
        if (expected == 0) p.latched.store(key, std::memory_order_relaxed);  // symmetric RTP: latch the first RTP source
        if (room->push_rtp(p.id, {data, size}, now_ns / 1000) != tutti::status::ok) return drop(ring_full);
        p.pushed.fetch_add(1, std::memory_order_relaxed);
    }

    void serve_http(int fd) {
        timeval tv{0, 200000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        char req[2048];
        std::size_t got = 0;
        while (got < sizeof req - 1) {  // read the request head; its content does not matter
            const ssize_t n = recv(fd, req + got, sizeof req - 1 - got, 0);
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
            req[got] = '\0';
            if (std::strstr(req, "\r\n\r\n") || std::strstr(req, "\n\n")) break;
        }
        const std::string body = metrics_text();
        const std::string head = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
        const std::string all = head + body;
        std::size_t off = 0;
        while (off < all.size()) {
            const ssize_t n = send(fd, all.data() + off, all.size() - off, MSG_NOSIGNAL);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        close(fd);
    }

    void io_loop() {
        std::vector<pollfd> fds;
        for (auto& p : peers) fds.push_back({p->fd, POLLIN, 0});
        fds.push_back({stop_fd, POLLIN, 0});
        std::uint8_t buf[2048];
        while (!stopping.load()) {
            if (poll(fds.data(), fds.size(), 500) < 0 && errno != EINTR) break;
            for (std::size_t i = 0; i < peers.size(); ++i) {
                if (!(fds[i].revents & POLLIN)) continue;
                for (int k = 0; k < 64; ++k) {  // bounded, so one flooded port cannot starve the others
                    sockaddr_in src{};
                    socklen_t len = sizeof src;
                    const ssize_t n = recvfrom(peers[i]->fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&src), &len);
                    if (n < 0) break;
                    on_datagram(*peers[i], buf, static_cast<std::size_t>(n), src, monotonic_ns());
                }
            }
        }
        io_cpu_s = thread_cpu_s();
    }

    // The statistics endpoint has its own thread: a slow HTTP client must not
    // hold up packet reception (serve_http may wait up to 200 ms for a request).
    void stats_loop() {
        pollfd fds[2] = {{stats_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
        while (!stopping.load()) {
            if (poll(fds, 2, 500) <= 0 || !(fds[0].revents & POLLIN)) continue;
            const int c = accept(stats_fd, nullptr, nullptr);
            if (c >= 0) serve_http(c);
        }
    }

    void tick_loop() {
        const std::int64_t tick_ns = std::int64_t{config.tick_ms} * 1000000;
        std::int64_t next = (monotonic_ns() / tick_ns + 1) * tick_ns;
        std::vector<std::uint8_t> packet(1500);
        std::vector<snapshot_row> fresh(peers.size());
        tutti::room_event ev[32];
        while (!stopping.load(std::memory_order_relaxed)) {
            timespec ts{static_cast<time_t>(next / 1000000000), static_cast<long>(next % 1000000000)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
            }
            const std::int64_t woke = monotonic_ns();
            (void)room->tick(woke / 1000);
            for (std::size_t i = 0; i < peers.size(); ++i) {
                peer& p = *peers[i];
                const std::uint64_t dest = p.config.send_to.sin_port != 0 ? addr_key(p.config.send_to) : p.latched.load(std::memory_order_relaxed);
                for (std::ptrdiff_t n; (n = room->pull_rtp(p.id, packet)) > 0;) {
                    if (dest == 0) continue;  // nowhere to send yet
                    const sockaddr_in to = key_addr(dest);
                    if (sendto(p.fd, packet.data(), static_cast<std::size_t>(n), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0)
                        ++p.send_errors;
                    else
                        ++p.sent;
                }
            }
            if (!config.record_path.empty()) recorder.on_tick(*room);
            for (std::size_t n; (n = room->poll_events(ev)) > 0;) events += n;
            const std::int64_t done = monotonic_ns();

            for (std::size_t i = 0; i < peers.size(); ++i) {
                peer& p = *peers[i];
                snapshot_row& r = fresh[i];
                (void)room->get_participant_stats(p.id, r.stats);
                r.datagrams = p.datagrams.load(std::memory_order_relaxed);
                r.rtcp = p.rtcp.load(std::memory_order_relaxed);
                r.pushed = p.pushed.load(std::memory_order_relaxed);
                for (std::size_t d = 0; d < drop_reason_count; ++d) r.dropped[d] = p.dropped[d].load(std::memory_order_relaxed);
                r.sent = p.sent;
                r.send_errors = p.send_errors;
            }
            {
                std::lock_guard lock(snap_mu);  // host code, beside the room's tick: never contended for long
                rows.swap(fresh);
                room_stats = room->stats();
                work.add(static_cast<double>(done - woke) * 1e-3);
                late.add(static_cast<double>(woke - next) * 1e-3);
            }
            next += tick_ns;
            if (monotonic_ns() > next + tick_ns) {  // fell more than a tick behind: skip, do not burst
                ++overruns;
                next = (monotonic_ns() / tick_ns + 1) * tick_ns;
            }
        }
        tick_cpu_s = thread_cpu_s();
    }

    std::string metrics_text() const {
        std::lock_guard lock(snap_mu);
        std::string s;
        char line[512];
        auto add = [&](const char* fmt, auto... args) {
            std::snprintf(line, sizeof line, fmt, args...);
            s += line;
        };
        s += "# HELP tutti_ticks_total Room ticks run.\n# TYPE tutti_ticks_total counter\n";
        add("tutti_ticks_total %llu\n", static_cast<unsigned long long>(room_stats.ticks));
        s += "# HELP tutti_tick_work_seconds Time per tick in room::tick and sending.\n# TYPE tutti_tick_work_seconds summary\n";
        for (double q : {0.5, 0.99}) add("tutti_tick_work_seconds{quantile=\"%g\"} %.9f\n", q, work.quantile(q) * 1e-6);
        add("tutti_tick_work_seconds_max %.9f\n", work.max_us * 1e-6);
        s += "# HELP tutti_tick_lateness_seconds Wake-up after the tick deadline.\n# TYPE tutti_tick_lateness_seconds summary\n";
        for (double q : {0.5, 0.99}) add("tutti_tick_lateness_seconds{quantile=\"%g\"} %.9f\n", q, late.quantile(q) * 1e-6);
        add("tutti_tick_lateness_seconds_max %.9f\n", late.max_us * 1e-6);
        add("tutti_tick_last_seconds %.9f\n", room_stats.tick_last_us * 1e-6);
        add("tutti_tick_overruns_total %llu\n", static_cast<unsigned long long>(overruns.load()));
        add("tutti_participants %u\n", room_stats.participants);
        add("tutti_mixing_rate_hertz %u\n", room_stats.mixing_rate_hz);
        add("tutti_talkers_mixed %u\n", room_stats.talkers_mixed);
        add("tutti_room_events_total %llu\n", static_cast<unsigned long long>(events.load()));
        for (std::size_t i = 0; i < rows.size() && i < peers.size(); ++i) {
            const snapshot_row& r = rows[i];
            const char* n = peers[i]->config.name.c_str();
            const auto& j = r.stats.jitter;
            auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
            add("tutti_udp_datagrams_total{participant=\"%s\"} %llu\n", n, u(r.datagrams));
            add("tutti_rtcp_packets_total{participant=\"%s\"} %llu\n", n, u(r.rtcp));
            for (std::size_t d = 0; d < drop_reason_count; ++d)
                add("tutti_dropped_total{participant=\"%s\",reason=\"%s\"} %llu\n", n, drop_names[d], u(r.dropped[d]));
            add("tutti_rtp_packets_in_total{participant=\"%s\"} %llu\n", n, u(r.pushed));
            add("tutti_rtp_packets_rejected_total{participant=\"%s\"} %llu\n", n, u(r.stats.packets_rejected));
            add("tutti_rtp_packets_out_total{participant=\"%s\"} %llu\n", n, u(r.sent));
            add("tutti_rtp_send_errors_total{participant=\"%s\"} %llu\n", n, u(r.send_errors));
            add("tutti_jitter_packets_received_total{participant=\"%s\"} %llu\n", n, u(j.packets_received));
            add("tutti_jitter_packets_lost_total{participant=\"%s\"} %llu\n", n, u(j.packets_lost));
            add("tutti_jitter_packets_late_total{participant=\"%s\"} %llu\n", n, u(j.packets_late));
            add("tutti_jitter_packets_duplicate_total{participant=\"%s\"} %llu\n", n, u(j.packets_duplicate));
            add("tutti_jitter_packets_reordered_total{participant=\"%s\"} %llu\n", n, u(j.packets_reordered));
            add("tutti_jitter_fec_recovered_total{participant=\"%s\"} %llu\n", n, u(j.fec_recovered));
            add("tutti_jitter_concealed_samples_total{participant=\"%s\"} %llu\n", n, u(j.concealed_samples));
            add("tutti_jitter_delay_seconds{participant=\"%s\"} %.4f\n", n, static_cast<double>(j.current_delay_ms) * 1e-3);
            add("tutti_jitter_target_delay_seconds{participant=\"%s\"} %.4f\n", n, static_cast<double>(j.target_delay_ms) * 1e-3);
            add("tutti_jitter_interarrival_seconds{participant=\"%s\"} %.4f\n", n, static_cast<double>(j.jitter_ms) * 1e-3);
            add("tutti_input_level_dbov{participant=\"%s\"} %.1f\n", n, static_cast<double>(r.stats.input_level_dbov));
            add("tutti_output_level_dbov{participant=\"%s\"} %.1f\n", n, static_cast<double>(r.stats.output_level_dbov));
            add("tutti_talking{participant=\"%s\"} %d\n", n, r.stats.talking ? 1 : 0);
            add("tutti_mixed{participant=\"%s\"} %d\n", n, r.stats.mixed ? 1 : 0);
            add("tutti_talk_ticks_total{participant=\"%s\"} %llu\n", n, u(r.stats.talk_ticks));
            add("tutti_times_selected_total{participant=\"%s\"} %llu\n", n, u(r.stats.times_selected));
        }
        return s;
    }
};

conference_server::conference_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
conference_server::~conference_server() = default;

tutti::status conference_server::create(const server_config& config, std::unique_ptr<conference_server>& out, std::string* error) {
    auto m = std::make_unique<impl>();
    m->config = config;
    auto fail = [&](tutti::status s, const std::string& why) {
        if (error) *error = why;
        return s;
    };
    if (config.tick_ms != 10 && config.tick_ms != 20 && config.tick_ms != 40) return fail(tutti::status::invalid_argument, "tick_ms must be 10, 20 or 40");
    tutti::room_config rc;
    rc.mixing_rate_hz = config.mixing_rate_hz;
    rc.tick_us = config.tick_ms * 1000;
    rc.loudest_n = config.loudest_n;
    rc.max_participants = static_cast<std::uint32_t>(std::max<std::size_t>(config.participants.size(), 1));
    std::string why;
    if (auto s = tutti::room::create(rc, m->room, &why); s != tutti::status::ok) return fail(s, "room: " + why);
    sockaddr_in bind_addr{};
    bind_addr.sin_family = AF_INET;
    if (inet_pton(AF_INET, config.address.c_str(), &bind_addr.sin_addr) != 1)
        return fail(tutti::status::invalid_argument, "address '" + config.address + "' is not IPv4");
    std::uint32_t ssrc = 0x54550000;
    for (const auto& pc : config.participants) {
        auto p = std::make_unique<impl::peer>();
        p->config = pc;
        p->tokens = pc.max_packets_per_s;
        p->tokens_at_ns = monotonic_ns();
        p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int rcvbuf = 1 << 20;
        setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        sockaddr_in a = bind_addr;
        a.sin_port = htons(pc.port);
        if (p->fd < 0 || bind(p->fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            return fail(tutti::status::io_error, pc.name + ": bind " + config.address + ":" + std::to_string(pc.port) + ": " + std::strerror(errno));
        socklen_t len = sizeof a;
        getsockname(p->fd, reinterpret_cast<sockaddr*>(&a), &len);
        p->bound_port = ntohs(a.sin_port);
        tutti::rtp_participant_config rpc;
        rpc.receive = rpc.send = pc.format;
        rpc.ssrc = ++ssrc;
        if (auto s = m->room->join_rtp(rpc, p->id, &why); s != tutti::status::ok) return fail(s, pc.name + ": " + why);
        m->peers.push_back(std::move(p));
    }
    m->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (config.stats_port >= 0) {
        m->stats_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(m->stats_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(config.stats_port));
        if (inet_pton(AF_INET, config.stats_address.c_str(), &a.sin_addr) != 1 ||
            bind(m->stats_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(m->stats_fd, 8) != 0)
            return fail(tutti::status::io_error, "stats endpoint " + config.stats_address + ":" + std::to_string(config.stats_port) + ": " +
                                                     std::strerror(errno));
        socklen_t len = sizeof a;
        getsockname(m->stats_fd, reinterpret_cast<sockaddr*>(&a), &len);
        m->stats_bound = ntohs(a.sin_port);
    }
    if (!config.record_path.empty() && start_room_recording(*m->room, m->recorder) != tutti::status::ok)
        return fail(tutti::status::internal_error, "cannot start recording");
    m->rows.resize(m->peers.size());
    out.reset(new conference_server(std::move(m)));
    return tutti::status::ok;
}

tutti::status conference_server::run(std::string* error) {
    std::thread ticker([this] { impl_->tick_loop(); });
    std::thread stats;
    if (impl_->stats_fd >= 0) stats = std::thread([this] { impl_->stats_loop(); });
    impl_->io_loop();
    impl_->stopping.store(true);
    ticker.join();
    if (stats.joinable()) stats.join();
    if (!impl_->config.record_path.empty())
        return impl_->recorder.finish(*impl_->room, impl_->config.record_path, error);
    return tutti::status::ok;
}

void conference_server::stop() noexcept {
    impl_->stopping.store(true);
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = write(impl_->stop_fd, &one, sizeof one);
}

std::uint16_t conference_server::port(std::size_t i) const noexcept { return i < impl_->peers.size() ? impl_->peers[i]->bound_port : 0; }
std::uint16_t conference_server::stats_port() const noexcept { return impl_->stats_bound; }
std::string conference_server::metrics() const { return impl_->metrics_text(); }

tick_timing conference_server::timing() const {
    std::lock_guard lock(impl_->snap_mu);
    tick_timing t;
    t.ticks = impl_->work.count;
    t.work_p50_us = impl_->work.quantile(0.5);
    t.work_p99_us = impl_->work.quantile(0.99);
    t.work_max_us = impl_->work.max_us;
    t.late_p50_us = impl_->late.quantile(0.5);
    t.late_p99_us = impl_->late.quantile(0.99);
    t.late_max_us = impl_->late.max_us;
    t.overruns = impl_->overruns.load();
    return t;
}

double conference_server::cpu_seconds() const noexcept { return impl_->io_cpu_s + impl_->tick_cpu_s; }

}  // namespace tutti_examples
