// conference-server load test: N RTP clients against the server, in one process.
//
// The server (server.hpp) runs on loopback with N participants (Opus, G.722
// and PCMU in turn, 48 kHz mixing, loudest 3). N clients send real speech
// (pre-encoded once per codec and file, then replayed) from their own
// sockets; each packet leaves at its arrival time in a seeded network trace
// (bench/network_trace.hpp, default "wifi": gamma jitter around 15 ms, 1 % loss,
// duplicates and reordering), so the server sees the jitter and loss on the
// wire. A receive thread drains the mixes the server sends back. At the end it
// prints the server's tick timing (time in room::tick + sending per tick, and
// wake-up lateness after the absolute deadline: p50/p99/max) and the CPU its
// two threads used (getrusage RUSAGE_THREAD), total and per participant.
//
// Usage: tutti-conference-load [participants=16] [seconds=60] [scenario=wifi] [--check]
// --check (the CI smoke run) exits non-zero if the server missed ticks or a
// client got no mix.
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "network_trace.hpp"
#include "server.hpp"
#include "tutti/codec_registry.hpp"
#include "tutti/resampler.hpp"
#include "tutti/wav.hpp"

namespace {

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct codec_choice {
    const char* name;
    std::uint8_t pt;
    std::uint32_t clock;
    std::uint16_t channels;
};
constexpr codec_choice choices[] = {{"opus", 111, 48000, 2}, {"G722", 9, 8000, 1}, {"PCMU", 0, 8000, 1}};

// 20 ms payloads of one speech file in one codec.
std::vector<std::vector<std::uint8_t>> encode_file(const std::filesystem::path& file, const codec_choice& c) {
    tutti::wav_file w;
    if (tutti::read_wav_file(file, w) != tutti::status::ok) return {};
    tutti::sdp_format f;
    f.payload_type = c.pt;
    f.encoding_name = c.name;
    f.clock_rate_hz = c.clock;
    f.channels = c.channels;
    std::unique_ptr<tutti::encoder> enc;
    if (tutti::codec_registry::with_builtin_codecs().make_encoder(f, {}, enc) != tutti::status::ok) return {};
    const auto ef = enc->format();
    std::unique_ptr<tutti::resampler> rs;
    (void)tutti::resampler::create(w.sample_rate_hz, ef.sample_rate_hz, 1, rs);
    std::vector<float> pcm(rs->max_output_frames(w.samples.size()));
    const auto n = rs->process({w.samples.data(), w.samples.size(), 1}, {pcm.data(), pcm.size(), 1});
    pcm.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    std::vector<std::vector<std::uint8_t>> out;
    const std::size_t fs = ef.frame_samples();
    std::vector<float> frame(fs * ef.channels);
    std::vector<std::uint8_t> payload(1500);
    for (std::size_t at = 0; at + fs <= pcm.size(); at += fs) {
        for (std::size_t k = 0; k < frame.size(); ++k) frame[k] = pcm[at + k / ef.channels];
        const auto bytes = enc->encode({frame.data(), fs, ef.channels}, payload);
        if (bytes > 0) out.emplace_back(payload.begin(), payload.begin() + bytes);
    }
    return out;
}

struct client {
    int fd = -1;
    std::size_t stream = 0;  // index into the encoded streams
    codec_choice codec{};
    tutti_bench::network_trace trace;
    std::atomic<std::uint64_t> received{0};
    std::uint64_t sent = 0;
};

struct send_event {
    std::int64_t at_us;
    std::uint32_t client;
    std::uint32_t packet;
};

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    const bool check = std::erase(args, "--check") > 0;
    const std::size_t n = args.size() > 0 ? std::strtoul(args[0].c_str(), nullptr, 10) : 16;
    const double seconds = args.size() > 1 ? std::atof(args[1].c_str()) : 60.0;
    const std::string scenario = args.size() > 2 ? args[2] : "wifi";
    if (n == 0 || seconds <= 0 || !tutti_bench::scenario_exists(scenario)) {
        std::fprintf(stderr, "usage: %s [participants] [seconds] [scenario] [--check]\n", argv[0]);
        return 2;
    }
    const std::filesystem::path speech = std::filesystem::path(TUTTI_LOAD_SPEECH_DIR) / "librivox";
    const char* files[] = {"sense_and_sensibility_01_austen_64kb-0870.wav", "sense_and_sensibility_01_austen_64kb-0880.wav",
                           "sense_and_sensibility_01_austen_64kb-0890.wav", "sense_and_sensibility_01_austen_64kb-0920.wav",
                           "sense_and_sensibility_01_austen_64kb-0930.wav"};
    // Streams: codec c, file f at index c * 5 + f, encoded only when some client uses them.
    std::vector<std::vector<std::vector<std::uint8_t>>> streams(3 * 5);

    tutti_examples::server_config config;
    config.stats_port = -1;
    std::vector<std::unique_ptr<client>> clients;
    for (std::size_t i = 0; i < n; ++i) {
        auto c = std::make_unique<client>();
        const std::size_t ci = i % 3, fi = i % 5;
        c->codec = choices[ci];
        c->stream = ci * 5 + fi;
        if (streams[c->stream].empty()) streams[c->stream] = encode_file(speech / files[fi], c->codec);
        if (streams[c->stream].empty()) {
            std::fprintf(stderr, "cannot encode %s\n", files[fi]);
            return 1;
        }
        tutti_examples::server_participant_config p;
        p.name = "p" + std::to_string(i);
        p.format.payload_type = c->codec.pt;
        p.format.encoding_name = c->codec.name;
        p.format.clock_rate_hz = c->codec.clock;
        p.format.channels = c->codec.channels;
        config.participants.push_back(p);
        clients.push_back(std::move(c));
    }
    std::unique_ptr<tutti_examples::conference_server> server;
    std::string error;
    if (tutti_examples::conference_server::create(config, server, &error) != tutti::status::ok) {
        std::fprintf(stderr, "server: %s\n", error.c_str());
        return 1;
    }
    std::thread server_thread([&] { (void)server->run(); });

    // Clients: a socket each, connected to its server port; the trace gives each packet's time on the wire.
    const auto frames = static_cast<std::size_t>(seconds * 50);
    std::vector<send_event> events;
    for (std::size_t i = 0; i < n; ++i) {
        client& c = *clients[i];
        c.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(server->port(i));
        connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        c.trace = tutti_bench::make_trace(scenario, 1000 + i, frames, c.codec.clock);
        for (const auto& arr : c.trace.arrivals())
            events.push_back({arr.arrival_us + static_cast<std::int64_t>(i) * 997, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(arr.packet)});
    }
    std::sort(events.begin(), events.end(), [](const send_event& a, const send_event& b) { return a.at_us < b.at_us; });

    std::atomic<bool> done{false};
    std::thread receiver([&] {
        std::vector<pollfd> fds;
        for (auto& c : clients) fds.push_back({c->fd, POLLIN, 0});
        std::uint8_t buf[1500];
        while (!done.load()) {
            if (poll(fds.data(), fds.size(), 100) <= 0) continue;
            for (std::size_t i = 0; i < fds.size(); ++i)
                if (fds[i].revents & POLLIN)
                    while (recv(fds[i].fd, buf, sizeof buf, 0) > 0) clients[i]->received.fetch_add(1, std::memory_order_relaxed);
        }
    });

    // Baseline in the same run: a thread that only sleeps to the same 20 ms
    // absolute deadlines and measures how late it wakes (what the machine's
    // scheduler alone costs the tick thread).
    std::vector<double> idle_late;
    idle_late.reserve(frames + 100);
    std::thread idle([&] {
        std::int64_t next = (now_ns() / 20000000 + 1) * 20000000;
        while (!done.load()) {
            timespec ts{static_cast<time_t>(next / 1000000000), static_cast<long>(next % 1000000000)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
            }
            idle_late.push_back(static_cast<double>(now_ns() - next) * 1e-3);
            next += 20000000;
        }
    });
    const std::int64_t start = now_ns() + 100000000;  // 100 ms from now
    std::uint8_t packet[1500];
    for (const send_event& e : events) {
        const std::int64_t at = start + e.at_us * 1000;
        timespec ts{static_cast<time_t>(at / 1000000000), static_cast<long>(at % 1000000000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
        }
        client& c = *clients[e.client];
        const auto& tp = c.trace.packets[e.packet];
        const auto& stream = streams[c.stream];
        const auto& payload = stream[tp.frame % stream.size()];
        packet[0] = 0x80;
        packet[1] = static_cast<std::uint8_t>((tp.marker ? 0x80 : 0) | c.codec.pt);
        packet[2] = static_cast<std::uint8_t>(tp.sequence >> 8);
        packet[3] = static_cast<std::uint8_t>(tp.sequence);
        for (int k = 0; k < 4; ++k) {
            packet[4 + k] = static_cast<std::uint8_t>(tp.timestamp >> (24 - 8 * k));
            packet[8 + k] = static_cast<std::uint8_t>(tp.ssrc >> (24 - 8 * k));
        }
        std::memcpy(packet + 12, payload.data(), payload.size());
        if (send(c.fd, packet, 12 + payload.size(), 0) > 0) ++c.sent;
    }
    // Read the statistics while the server runs (what the Prometheus endpoint does; TSan checks it in CI).
    const bool metrics_ok = server->metrics().find("tutti_rtp_packets_in_total{participant=\"p0\"}") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server->stop();
    server_thread.join();
    done.store(true);
    receiver.join();
    idle.join();
    std::sort(idle_late.begin(), idle_late.end());
    auto q = [&](double p) { return idle_late.empty() ? 0.0 : idle_late[static_cast<std::size_t>(p * static_cast<double>(idle_late.size() - 1))]; };

    const auto t = server->timing();
    const double cpu = server->cpu_seconds();
    const double run_s = static_cast<double>(t.ticks) * 0.02;
    std::uint64_t sent = 0, lost = 0, got = 0, silent_clients = 0;
    for (auto& c : clients) {
        sent += c->sent;
        lost += c->trace.lost_count();
        got += c->received.load();
        if (c->received.load() == 0) ++silent_clients;
        close(c->fd);
    }
    std::printf("conference-server load: %zu participants (Opus/G.722/PCMU in turn), %.0f s, network '%s'\n", n, seconds, scenario.c_str());
    std::printf("  packets: %llu sent by clients (+%llu lost on the network), %llu mix packets received back\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(lost), static_cast<unsigned long long>(got));
    std::printf("  ticks: %llu, overruns %llu\n", static_cast<unsigned long long>(t.ticks), static_cast<unsigned long long>(t.overruns));
    std::printf("  tick work (room::tick + send) us: p50 %.0f  p99 %.0f  max %.0f\n", t.work_p50_us, t.work_p99_us, t.work_max_us);
    std::printf("  tick wake-up lateness us:         p50 %.0f  p99 %.0f  max %.0f\n", t.late_p50_us, t.late_p99_us, t.late_max_us);
    std::printf("  baseline: idle thread's lateness:  p50 %.0f  p99 %.0f  max %.0f (same deadlines, no work)\n", q(0.5), q(0.99),
                idle_late.empty() ? 0.0 : idle_late.back());
    std::printf("  server CPU (I/O + tick threads): %.1f %% of one core, %.2f %% per participant\n", 100.0 * cpu / run_s,
                100.0 * cpu / run_s / static_cast<double>(n));
    if (check) {
        const bool ok = t.ticks >= static_cast<std::uint64_t>(seconds * 50 * 0.8) && silent_clients == 0 && got > 0 && metrics_ok;
        std::printf("%s\n", ok ? "PASSED" : "FAILED: missed ticks, a client got no mix, or no statistics");
        return ok ? 0 : 1;
    }
    return 0;
}
