// tutti-conference-server: the UDP/RTP conference server (server.hpp) as a program.
//
// Usage: tutti-conference-server <config> [--record <file.wav>] [--stats <port>] [--duration <seconds>]
// Stops cleanly on SIGINT/SIGTERM (or after --duration), writes the recording
// if asked, and prints the final statistics (Prometheus text) to stdout.
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "server.hpp"

namespace {

// Whole-argument numbers only: "--stats 80x" or "--duration soon" is refused,
// not read as 0 the way atoi/atof would (0 means "any port" / "until a signal").
bool parse_port(const char* text, int& out) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || v < 0 || v > 65535) return false;
    out = static_cast<int>(v);
    return true;
}

// Seconds, 0 < s <= 1e9 (so that it fits a time_t; 0 is what leaving it out means).
bool parse_seconds(const char* text, double& out) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !std::isfinite(v) || v <= 0 || v > 1e9) return false;
    out = v;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <config> [--record <file.wav>] [--stats <port>] [--duration <seconds>]\n", argv[0]);
        return 2;
    }
    std::ifstream file(argv[1]);
    std::stringstream text;
    text << file.rdbuf();
    if (!file) {
        std::fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[1]);
        return 2;
    }
    tutti_examples::server_config config;
    std::string error;
    if (tutti_examples::parse_server_config(text.str(), config, &error) != tutti::status::ok) {
        std::fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], error.c_str());
        return 2;
    }
    if (argc % 2 != 0) {  // every option takes a value
        std::fprintf(stderr, "%s: %s needs a value\n", argv[0], argv[argc - 1]);
        return 2;
    }
    double duration_s = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--record")) config.record_path = argv[i + 1];
        else if (!std::strcmp(argv[i], "--stats")) {
            if (!parse_port(argv[i + 1], config.stats_port)) {
                std::fprintf(stderr, "%s: --stats wants a port 0..65535 (0: any free one), not '%s'\n", argv[0], argv[i + 1]);
                return 2;
            }
        } else if (!std::strcmp(argv[i], "--duration")) {
            if (!parse_seconds(argv[i + 1], duration_s)) {
                std::fprintf(stderr, "%s: --duration wants seconds, more than 0 and at most 1e9, not '%s'\n", argv[0], argv[i + 1]);
                return 2;
            }
        } else {
            std::fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return 2;
        }
    }
    // Signals go to one thread that waits for them: the I/O and tick threads never see them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    std::unique_ptr<tutti_examples::conference_server> server;
    if (tutti_examples::conference_server::create(config, server, &error) != tutti::status::ok) {
        std::fprintf(stderr, "%s: %s\n", argv[0], error.c_str());
        return 1;
    }
    for (std::size_t i = 0; i < config.participants.size(); ++i)
        std::printf("participant %s: %s:%u %s/%u\n", config.participants[i].name.c_str(), config.address.c_str(), server->port(i),
                    config.participants[i].format.encoding_name.c_str(), config.participants[i].format.clock_rate_hz);
    if (config.stats_port >= 0) std::printf("statistics: http://%s:%u/metrics\n", config.stats_address.c_str(), server->stats_port());
    std::fflush(stdout);

    std::thread waiter([&] {
        if (duration_s > 0) {
            timespec limit{static_cast<time_t>(duration_s), static_cast<long>((duration_s - static_cast<double>(static_cast<time_t>(duration_s))) * 1e9)};
            siginfo_t info;
            sigtimedwait(&signals, &info, &limit);
        } else {
            int sig = 0;
            sigwait(&signals, &sig);
        }
        server->stop();
    });
    const tutti::status s = server->run(&error);
    waiter.join();
    if (s != tutti::status::ok) std::fprintf(stderr, "%s: recording: %s\n", argv[0], error.c_str());
    else if (!config.record_path.empty()) std::printf("recording: %s\n", config.record_path.c_str());
    std::fputs(server->metrics().c_str(), stdout);
    return s == tutti::status::ok ? 0 : 1;
}
