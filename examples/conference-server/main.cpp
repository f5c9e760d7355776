// tutti-conference-server: the UDP/RTP conference server (server.hpp) as a program.
//
// Usage: tutti-conference-server <config> [--record <file.wav>] [--stats <port>] [--duration <seconds>]
// Stops cleanly on SIGINT/SIGTERM (or after --duration), writes the recording
// if asked, and prints the final statistics (Prometheus text) to stdout.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "server.hpp"

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
    double duration_s = 0;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--record")) config.record_path = argv[i + 1];
        else if (!std::strcmp(argv[i], "--stats")) config.stats_port = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--duration")) duration_s = std::atof(argv[i + 1]);
        else {
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
