// conference-server end-to-end test with real, independent RTP clients (ffmpeg).
//
// Starts tutti-conference-server (its own process, ports chosen by the kernel
// and read from its output, so parallel runs never collide), three ffmpeg
// senders (alice and carol send Opus, bob sends PCMU, all real speech; carol's
// codec comes from an SDP offer file, the others' from rtpmaps) and
// three ffmpeg receivers that write what the server sends each of them to WAV
// (they read an .sdp file). Meanwhile the test itself plays "mallory": garbage
// datagrams, a wrong payload type, packets from an unknown source and a flood.
// Then it checks:
//   * each receiver hears the other two talkers, and neither itself nor speech
//     nobody sent (waveform correlation against the source speech, 0.5 s
//     pieces, delay up to 2.5 s tracked from piece to piece: track_talker);
//   * the server's statistics (Prometheus text, scraped over HTTP and printed
//     at exit) match what was sent: every ffmpeg packet arrived and went to the
//     room; mallory's traffic is counted per reason, exactly;
//   * SIGTERM stops the server cleanly (exit 0) and the recording exists.
// Everything is on loopback and bounded: every wait has a deadline, and every
// process left is killed.
//
// Usage: tutti-conference-e2e <server-binary> <ffmpeg> <speech-dir> <work-dir>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numbers>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tutti/resampler.hpp"
#include "tutti/wav.hpp"

extern char** environ;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

int failures = 0;
void check(bool ok, const std::string& what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) ++failures;
}

std::vector<pid_t> children;

pid_t spawn(const std::vector<std::string>& args, const fs::path& out) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (pid > 0) children.push_back(pid);
    return pid;
}

// Waits for `pid` up to `timeout`; kills it after. Returns its exit status, or -1 if killed / failed.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int st = 0;
        const pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            std::erase(children, pid);
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        if (r < 0) return -1;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            std::erase(children, pid);
            return -1;
        }
        std::this_thread::sleep_for(20ms);
    }
}

void kill_all() {
    for (pid_t p : children) {
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
    }
    children.clear();
}

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::uint16_t free_udp_port() {  // bound then released: the kernel will not hand it out again at once
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

// Value of the metric line `name{labels}` in Prometheus text, or -1.
double metric(const std::string& text, const std::string& name_and_labels) {
    const std::string key = name_and_labels + " ";
    const auto at = text.find("\n" + key);
    if (at == std::string::npos) return -1;
    return std::atof(text.c_str() + at + 1 + key.size());
}

std::string http_get(std::uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
        send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
        char buf[4096];
        for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    return out;
}

std::vector<float> to_8k(const tutti::wav_file& w) {
    std::vector<float> mono(w.frames());
    for (std::size_t i = 0; i < mono.size(); ++i) mono[i] = w.samples[i * w.channels];
    if (w.sample_rate_hz == 8000) return mono;
    std::unique_ptr<tutti::resampler> rs;
    if (tutti::resampler::create(w.sample_rate_hz, 8000, 1, rs) != tutti::status::ok) return {};
    std::vector<float> out(rs->max_output_frames(mono.size()));
    const auto n = rs->process({mono.data(), mono.size(), 1}, {out.data(), out.size(), 1});
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

// In-place radix-2 FFT (size a power of two); the inverse is not scaled.
void fft(std::vector<std::complex<double>>& a, bool inverse) {
    const std::size_t n = a.size();
    for (std::size_t i = 1, j = 0; i < n; ++i) {  // bit-reversed order
        std::size_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) std::swap(a[i], a[j]);
    }
    for (std::size_t len = 2; len <= n; len <<= 1) {
        const double angle = (inverse ? 2.0 : -2.0) * std::numbers::pi / static_cast<double>(len);
        const std::complex<double> step(std::cos(angle), std::sin(angle));
        for (std::size_t i = 0; i < n; i += len) {
            std::complex<double> w(1.0);
            for (std::size_t k = 0; k < len / 2; ++k, w *= step) {
                const std::complex<double> u = a[i + k], v = a[i + k + len / 2] * w;
                a[i + k] = u + v;
                a[i + k + len / 2] = u - v;
            }
        }
    }
}

// Normalised cross-correlation of the piece source[at, at + n) with
// heard[at + lag, at + lag + n) for every lag in 0..max_lag:
// |sum x y| / sqrt(sum x^2 sum y^2), 0 where either side is silent.
std::vector<double> piece_correlation(const std::vector<float>& source, std::size_t at, std::size_t n, const std::vector<float>& heard,
                                      std::size_t max_lag) {
    const std::size_t span = max_lag + n;  // heard samples the lags reach (zeros past its end)
    std::size_t size = 1;
    while (size < span) size <<= 1;  // no wrap-around for lags <= span - n
    std::vector<std::complex<double>> h(size), x(size);
    std::vector<double> energy(span + 1, 0.0);  // prefix sums of heard^2
    for (std::size_t i = 0; i < span; ++i) {
        const double v = at + i < heard.size() ? heard[at + i] : 0.0;
        h[i] = v;
        energy[i + 1] = energy[i] + v * v;
    }
    double xx = 0;
    for (std::size_t i = 0; i < n; ++i) {
        x[i] = source[at + i];
        xx += double(source[at + i]) * source[at + i];
    }
    fft(h, false);
    fft(x, false);
    for (std::size_t i = 0; i < size; ++i) h[i] *= std::conj(x[i]);
    fft(h, true);  // h[lag] = size * sum_i heard[at + lag + i] source[at + i]
    std::vector<double> c(max_lag + 1, 0.0);
    const double silent = 1e-6;  // summed energy of a piece below one 16-bit step: silence
    for (std::size_t lag = 0; lag <= max_lag; ++lag) {
        const double yy = energy[lag + n] - energy[lag];
        if (xx > silent && yy > silent) c[lag] = std::abs(h[lag].real()) / static_cast<double>(size) / std::sqrt(xx * yy);
    }
    return c;
}

// How well a talker's speech is found in what a receiver heard, following its
// delay through the room. The source is cut into 0.5 s pieces; each piece is
// correlated (waveform, normalised) with the heard audio at every delay up to
// 2.5 s. The delay is then tracked from piece to piece (dynamic programming
// over the pieces): from one piece to the next it may move by up to 20 ms
// (the jitter buffer stretches and shortens speech a little all the time),
// or jump anywhere at a cost of 0.4 correlation (a jitter buffer resync, or
// the server skipping ticks it fell behind on: a step of 100 ms or more).
// The result is the mean correlation along the best path. A voice that is
// there matches its own source closely at its delay, piece after piece;
// for one that is absent the path can only collect chance peaks (about 0.1
// here), and jumping between them costs more than they give. No single
// delay for the whole stretch is assumed (a tick stall moves every delay
// halfway through), and the delay is found on the waveform itself, not on the
// loudness envelope of a mix where two people talk at once (which cannot tell
// the other talker from this one).
struct talker_track {
    double correlation = 0;            // mean along the path
    std::vector<std::size_t> delays;   // per piece, samples at 8 kHz
    int jumps = 0;
};
talker_track track_talker(const std::vector<float>& source_speech, const std::vector<float>& heard_audio) {
    constexpr std::size_t piece = 4000, max_lag = 20000, drift = 160;
    constexpr double jump_cost = 0.4;
    // Both pre-emphasised (x[n] - 0.9 x[n-1]): speech's energy sits in its
    // lowest harmonics, which makes any two voiced stretches correlate
    // broadly; a flatter spectrum lowers the chance level (over 60 recorded
    // runs absent voices reached 0.19 without it, 0.12 with it) and costs a
    // present voice little.
    auto emphasise = [](const std::vector<float>& x) {
        std::vector<float> y(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] - (i > 0 ? 0.9f * x[i - 1] : 0.0f);
        return y;
    };
    const std::vector<float> source = emphasise(source_speech), heard = emphasise(heard_audio);
    std::vector<std::vector<double>> c;
    for (std::size_t at = 0; at + piece <= source.size(); at += piece) c.push_back(piece_correlation(source, at, piece, heard, max_lag));
    talker_track t;
    if (c.empty()) return t;
    const std::size_t pieces = c.size(), lags = max_lag + 1;
    std::vector<std::vector<std::uint32_t>> from(pieces, std::vector<std::uint32_t>(lags, 0));
    std::vector<double> score = c[0], next(lags);
    for (std::size_t i = 1; i < pieces; ++i) {
        const std::size_t best = static_cast<std::size_t>(std::max_element(score.begin(), score.end()) - score.begin());
        std::deque<std::size_t> window;  // indices of score in [lag - drift, lag + drift], scores decreasing
        std::size_t pushed = 0;
        for (std::size_t lag = 0; lag < lags; ++lag) {
            for (; pushed < lags && pushed <= lag + drift; ++pushed) {
                while (!window.empty() && score[window.back()] <= score[pushed]) window.pop_back();
                window.push_back(pushed);
            }
            while (window.front() + drift < lag) window.pop_front();
            const bool jump = score[best] - jump_cost > score[window.front()];
            from[i][lag] = static_cast<std::uint32_t>(jump ? best : window.front());
            next[lag] = (jump ? score[best] - jump_cost : score[window.front()]) + c[i][lag];
        }
        score.swap(next);
    }
    std::size_t lag = static_cast<std::size_t>(std::max_element(score.begin(), score.end()) - score.begin());
    t.delays.resize(pieces);
    for (std::size_t i = pieces; i-- > 0;) {
        t.delays[i] = lag;
        t.correlation += c[i][lag];
        if (i == 0) break;
        const std::size_t prev = from[i][lag];
        if (prev + drift < lag || lag + drift < prev) ++t.jumps;
        lag = prev;
    }
    t.correlation /= static_cast<double>(pieces);
    return t;
}

void send_to(int fd, std::uint16_t port, const std::vector<std::uint8_t>& d) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

std::vector<std::uint8_t> rtp(std::uint8_t pt, std::uint16_t seq, std::size_t payload) {
    std::vector<std::uint8_t> p(12 + payload, 0xFF);  // 0xFF: mu-law silence
    p[0] = 0x80;
    p[1] = pt;
    p[2] = static_cast<std::uint8_t>(seq >> 8);
    p[3] = static_cast<std::uint8_t>(seq);
    const std::uint32_t ts = seq * 160u;
    p[4] = static_cast<std::uint8_t>(ts >> 24);
    p[5] = static_cast<std::uint8_t>(ts >> 16);
    p[6] = static_cast<std::uint8_t>(ts >> 8);
    p[7] = static_cast<std::uint8_t>(ts);
    p[8] = 0x12;
    p[9] = 0x34;
    p[10] = 0x56;
    p[11] = 0x78;
    return p;
}

struct talker {
    std::string name, codec, pt, file, enc;
    std::uint16_t server_port = 0, receive_port = 0;
    std::vector<float> source;  // 8 kHz, what was sent (0.5..3.5 s)
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s <server> <ffmpeg> <speech-dir> <work-dir>\n", argv[0]);
        return 2;
    }
    const std::string server = argv[1], ffmpeg = argv[2];
    const fs::path speech = fs::path(argv[3]) / "librivox", work = argv[4];
    fs::create_directories(work);
    constexpr double send_s = 4.0;

    std::vector<talker> t = {
        {"alice", "opus/48000/2", "111", "sense_and_sensibility_01_austen_64kb-0870.wav", "opus", 0, 0, {}},
        {"bob", "PCMU/8000", "0", "sense_and_sensibility_01_austen_64kb-0890.wav", "pcmu", 0, 0, {}},
        {"carol", "opus/48000/2", "111", "sense_and_sensibility_01_austen_64kb-0920.wav", "opus", 0, 0, {}},
    };
    // mallory's socket (its configured source) and another one (an unknown source).
    const int mallory = socket(AF_INET, SOCK_DGRAM, 0), stranger = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in ma{};
    ma.sin_family = AF_INET;
    ma.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(mallory, reinterpret_cast<sockaddr*>(&ma), sizeof ma);
    socklen_t malen = sizeof ma;
    getsockname(mallory, reinterpret_cast<sockaddr*>(&ma), &malen);

    std::ostringstream conf;
    conf << "address 127.0.0.1\nstats 127.0.0.1:0\nmixing_rate 48000\nloudest 3\nrecord " << (work / "room.wav").string() << "\n";
    for (auto& p : t) {
        p.receive_port = free_udp_port();
        if (p.name == "carol") {  // carol's codec comes from an SDP offer (Opus first, PCMU as a fallback)
            std::ofstream(work / "carol-offer.sdp") << "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                                       "m=audio 5004 RTP/AVP 111 0 101\r\na=rtpmap:111 opus/48000/2\r\n"
                                                       "a=fmtp:111 useinbandfec=1\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n";
            conf << "participant carol port=0 sdp=" << (work / "carol-offer.sdp").string();
        } else {
            conf << "participant " << p.name << " port=0 codec=" << p.codec << " pt=" << p.pt;
        }
        conf << " send=127.0.0.1:" << p.receive_port << "\n";
    }
    conf << "participant mallory port=0 codec=PCMU/8000 pt=0 from=127.0.0.1:" << ntohs(ma.sin_port) << "\n";
    std::ofstream(work / "server.conf") << conf.str();

    const pid_t srv = spawn({server, (work / "server.conf").string(), "--duration", "30"}, work / "server.out");
    // The server prints its ports first.
    std::uint16_t stats_port = 0, mallory_port = 0;
    // (seconds(5), not 5s: cppcheck 2.10 stops with an internal error on a literal in a for-init.)
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5); std::chrono::steady_clock::now() < deadline && !stats_port;) {
        std::this_thread::sleep_for(50ms);
        std::istringstream out(slurp(work / "server.out"));
        for (std::string line; std::getline(out, line);) {
            unsigned port = 0;
            char name[64];
            if (std::sscanf(line.c_str(), "participant %63[^:]: 127.0.0.1:%u", name, &port) == 2) {
                for (auto& p : t)
                    if (p.name == name) p.server_port = static_cast<std::uint16_t>(port);
                if (std::string(name) == "mallory") mallory_port = static_cast<std::uint16_t>(port);
            }
            if (std::sscanf(line.c_str(), "statistics: http://127.0.0.1:%u", &port) == 1) stats_port = static_cast<std::uint16_t>(port);
        }
    }
    check(srv > 0 && stats_port != 0 && mallory_port != 0, "server started and reported its ports");
    if (failures) return kill_all(), 1;

    // Receivers first, so they hear everything; then the senders, at real time.
    std::vector<pid_t> receivers, senders;
    for (auto& p : t) {
        const std::string enc_name = p.codec.substr(0, p.codec.find('/'));
        std::ofstream(work / (p.name + ".sdp")) << "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=tutti\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio "
                                                << p.receive_port << " RTP/AVP " << p.pt << "\r\na=rtpmap:" << p.pt << " " << p.codec << "\r\n";
        receivers.push_back(spawn({ffmpeg, "-hide_banner", "-loglevel", "error", "-protocol_whitelist", "file,udp,rtp", "-i",
                                   (work / (p.name + ".sdp")).string(), "-ac", "1", "-ar", "8000", "-y", (work / ("hears-" + p.name + ".wav")).string()},
                                  work / ("recv-" + p.name + ".log")));
    }
    std::this_thread::sleep_for(700ms);
    for (auto& p : t) {
        std::vector<std::string> a = {ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-i", (speech / p.file).string(), "-t",
                                      std::to_string(send_s), "-ac", "1"};
        if (p.enc == "opus") a.insert(a.end(), {"-ar", "48000", "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20", "-application", "voip", "-payload_type", "111"});
        else a.insert(a.end(), {"-af", "aresample=8000,asetnsamples=n=160", "-c:a", "pcm_mulaw"});  // one 20 ms frame per packet
        a.insert(a.end(), {"-f", "rtp", "rtp://127.0.0.1:" + std::to_string(p.server_port)});
        senders.push_back(spawn(a, work / ("send-" + p.name + ".log")));
    }

    // mallory, while the others talk.
    std::this_thread::sleep_for(1s);
    const int garbage = 20, wrong_pt = 15, unknown = 25, flood = 400;
    for (int i = 0; i < garbage; ++i) send_to(mallory, mallory_port, std::vector<std::uint8_t>(static_cast<std::size_t>(3 + i * 7), static_cast<std::uint8_t>(i)));
    for (int i = 0; i < wrong_pt; ++i) send_to(mallory, mallory_port, rtp(8, static_cast<std::uint16_t>(i), 160));
    for (int i = 0; i < unknown; ++i) send_to(stranger, mallory_port, rtp(0, static_cast<std::uint16_t>(i), 160));
    for (int i = 0; i < flood; ++i) {  // 20000 packets/s, in bursts of 50 that fit the kernel's socket buffer
        send_to(mallory, mallory_port, rtp(0, static_cast<std::uint16_t>(100 + i), 160));
        if (i % 50 == 49) std::this_thread::sleep_for(2500us);
    }

    for (pid_t s : senders) check(wait_for(s, 15s) == 0, "an ffmpeg sender finished");
    std::this_thread::sleep_for(1500ms);  // let the jitter buffers play out
    const std::string scraped = http_get(stats_port);
    check(scraped.rfind("HTTP/1.0 200 OK", 0) == 0 && metric(scraped, "tutti_ticks_total") > 200, "statistics endpoint answers with Prometheus text");
    for (pid_t r : receivers) {
        kill(r, SIGINT);  // ffmpeg finishes its WAV on SIGINT
        check(wait_for(r, 10s) != -1, "an ffmpeg receiver finished by itself after SIGINT");
    }
    kill(srv, SIGTERM);
    check(wait_for(srv, 10s) == 0, "server stopped cleanly on SIGTERM");
    kill_all();
    const std::string final_stats = slurp(work / "server.out");

    // What was sent arrived, and went to the room.
    for (auto& p : t) {
        const std::string l = "{participant=\"" + p.name + "\"}";
        const double in = metric(final_stats, "tutti_rtp_packets_in_total" + l);
        const double dgrams = metric(final_stats, "tutti_udp_datagrams_total" + l);
        const double expected = send_s * 50;
        check(std::abs(in - expected) <= 2, p.name + ": " + std::to_string(static_cast<int>(in)) + " RTP packets in, ~" +
                                                std::to_string(static_cast<int>(expected)) + " sent (20 ms each)");
        check(dgrams == in + metric(final_stats, "tutti_rtcp_packets_total" + l), p.name + ": no datagram dropped");
        check(metric(final_stats, "tutti_jitter_packets_received_total" + l) == in, p.name + ": the jitter buffer got them all");
        check(metric(final_stats, "tutti_rtp_packets_out_total" + l) > 200, p.name + ": the server sent it its mix");
    }
    // mallory: each kind of bad traffic counted, exactly.
    const std::string m = "{participant=\"mallory\"";
    auto drop = [&](const char* reason) { return metric(final_stats, "tutti_dropped_total" + m + ",reason=\"" + reason + "\"}"); };
    check(drop("not_rtp") == garbage, "garbage datagrams counted as not_rtp");
    check(drop("wrong_payload_type") == wrong_pt, "wrong payload types counted");
    check(drop("unknown_source") == unknown, "packets from an unknown source counted");
    const double accepted = metric(final_stats, "tutti_rtp_packets_in_total" + m + "}");
    check(drop("flood") >= flood / 2 && drop("flood") + drop("ring_full") + accepted == flood,
          "flood: " + std::to_string(static_cast<int>(drop("flood"))) + " dropped, " + std::to_string(static_cast<int>(accepted)) + " accepted");
    check(metric(final_stats, "tutti_udp_datagrams_total" + m + "}") == garbage + wrong_pt + unknown + flood, "mallory's datagrams all seen");

    // Who hears whom (see track_talker).
    constexpr std::size_t stretch = 24000;  // 3 s at 8 kHz
    std::vector<float> unsent;  // alice's recording after the part she sent: her voice, but never in the room
    for (auto& p : t) {
        tutti::wav_file w;
        if (tutti::read_wav_file(speech / p.file, w) != tutti::status::ok) return 1;
        std::vector<float> all = to_8k(w);
        const auto sent = static_cast<std::size_t>(send_s * 8000);
        if (p.name == "alice" && all.size() >= sent + stretch) unsent.assign(all.begin() + sent, all.begin() + sent + stretch);
        all.resize(sent - 4000);  // 0.5..3.5 s of what it said (not the onset)
        p.source.assign(all.begin() + 4000, all.end());
    }
    check(unsent.size() == stretch, "alice's recording goes on for 3 s after what she sent");
    // The measurement must be able to fail: silence does not pass for a talker
    // (nor, below, a receiver's own voice or what alice never sent).
    check(track_talker(t[0].source, std::vector<float>(6 * 8000, 0.0f)).correlation < 0.2, "silence is not heard as alice");
    for (auto& listener : t) {
        tutti::wav_file w;
        std::string error;
        const bool read = tutti::read_wav_file(work / ("hears-" + listener.name + ".wav"), w, &error) == tutti::status::ok;
        check(read, listener.name + ": receiver wrote its WAV " + error);
        if (!read) continue;
        const std::vector<float> heard = to_8k(w);
        char msg[200];
        for (auto& talker_ : t) {
            const talker_track k = track_talker(talker_.source, heard);
            std::vector<std::size_t> d = k.delays;
            std::sort(d.begin(), d.end());
            const double delay_s = d.empty() ? 0.0 : static_cast<double>(d[d.size() / 2]) / 8000.0;
            if (&talker_ == &listener) {
                std::snprintf(msg, sizeof msg, "%s does not hear itself (correlation %.2f < 0.2)", listener.name.c_str(), k.correlation);
                check(k.correlation < 0.2, msg);
            } else {
                std::snprintf(msg, sizeof msg, "%s hears %s (correlation %.2f > 0.25; delay %.2f s, %d jump%s)", listener.name.c_str(),
                              talker_.name.c_str(), k.correlation, delay_s, k.jumps, k.jumps == 1 ? "" : "s");
                check(k.correlation > 0.25, msg);
            }
        }
        const double c = track_talker(unsent, heard).correlation;
        std::snprintf(msg, sizeof msg, "%s does not hear what alice did not send (correlation %.2f < 0.2)", listener.name.c_str(), c);
        check(c < 0.2, msg);
    }
    tutti::wav_file rec;
    check(tutti::read_wav_file(work / "room.wav", rec) == tutti::status::ok && rec.frames() > 48000 * 4, "the room was recorded");
    std::printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
