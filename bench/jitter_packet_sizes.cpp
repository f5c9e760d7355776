// jitter_packet_sizes: the jitter buffer with packets of 10, 20, 30, 40 and
// 60 ms against 10, 20 and 40 ms ticks, on the named network traces
// (network_trace.hpp). jitter_eval compares receivers on 20 ms packets and
// ticks; this checks that other packetizations (iLBC's 30 ms, G.711 at any
// ptime, Opus at 10-60 ms) get one steady delay instead of a churn of
// concealment and time stretching.
//
// The payloads are G.711 µ-law noise at speech level (the buffer's decisions
// depend on arrival times and levels, not on the words). Figures per run:
// the mean of current_delay_ms over the ticks after the first 20 packets,
// and the counters at the end (the last 100 ms are concealed after the
// stream ends, 0.17 % of 60 s).
//
//   jitter_packet_sizes [--tick MS]... [--scenario NAME]... [--seed N]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "network_trace.hpp"
#include "tutti/codecs/g711.hpp"
#include "tutti/jitter_buffer.hpp"

namespace {

struct result {
    tutti::jitter_buffer_stats stats;
    double mean_delay_ms = 0.0;
};

result run(const std::string& scenario, std::uint64_t seed, std::uint32_t ptime_ms, std::uint32_t tick_ms) {
    constexpr std::uint32_t rate = 8000;
    const std::uint32_t packet_us = ptime_ms * 1000, tick_us = tick_ms * 1000;
    const std::size_t packets = 60000 / ptime_ms;  // 60 s
    const auto trace = tutti_bench::make_trace(scenario, seed, packets, rate, packet_us);
    auto dec = tutti::make_g711_decoder(tutti::g711_law::mu_law, packet_us);
    tutti::jitter_buffer_config c;
    c.rtp_clock_hz = rate;
    c.tick_us = tick_us;
    std::unique_ptr<tutti::jitter_buffer> jb;
    if (tutti::jitter_buffer::create(c, *dec, jb) != tutti::status::ok) {
        std::fprintf(stderr, "jitter buffer refused %u ms ticks\n", tick_ms);
        std::exit(1);
    }
    std::vector<std::uint8_t> payload(rate / 1000 * ptime_ms);
    std::vector<float> out(rate / 1000 * tick_ms);
    std::uint32_t noise = 12345;
    const auto arrivals = trace.arrivals();
    std::size_t next = 0, delays = 0;
    double delay_sum = 0.0;
    const std::int64_t end = trace.frame_send_us(static_cast<double>(packets)) + 1000000;
    for (std::int64_t now = 7000; now < end; now += tick_us) {
        for (; next < arrivals.size() && arrivals[next].arrival_us <= now; ++next) {
            const auto& p = trace.packets[arrivals[next].packet];
            for (auto& b : payload) {
                noise = noise * 1664525u + 1013904223u;
                b = static_cast<std::uint8_t>(0x90 + (noise >> 28));  // µ-law codes of -20..-10 dBov
            }
            (void)jb->insert({p.sequence, p.timestamp, p.ssrc, 0, p.marker}, payload, arrivals[next].arrival_us);
        }
        (void)jb->get({out.data(), out.size(), 1}, now);
        if (jb->stats().packets_decoded > 20) {
            delay_sum += jb->stats().current_delay_ms;
            ++delays;
        }
    }
    return {jb->stats(), delays ? delay_sum / static_cast<double>(delays) : 0.0};
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::uint32_t> ticks;
    std::vector<std::string> scenarios;
    std::uint64_t seed = 1;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--tick") && i + 1 < argc) ticks.push_back(static_cast<std::uint32_t>(std::atoi(argv[++i])));
        else if (!std::strcmp(argv[i], "--scenario") && i + 1 < argc) scenarios.emplace_back(argv[++i]);
        else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
        else {
            std::fprintf(stderr, "usage: jitter_packet_sizes [--tick MS]... [--scenario NAME]... [--seed N]\n");
            return 2;
        }
    }
    if (ticks.empty()) ticks = {20};
    if (scenarios.empty()) scenarios = {"clean_lan", "wifi", "heavy_tail", "delay_spikes", "g1050_mix"};
    std::printf("| tick ms | scenario | packet ms | mean delay ms | concealed %% | late | accelerated ms | stretched ms |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    for (std::uint32_t tick : ticks)
        for (const std::string& sc : scenarios)
            for (std::uint32_t ptime : {10u, 20u, 30u, 40u, 60u}) {
                const result r = run(sc, seed, ptime, tick);
                const auto& s = r.stats;
                std::printf("| %u | %s | %u | %.1f | %.2f | %llu | %.0f | %.0f |\n", tick, sc.c_str(), ptime, r.mean_delay_ms,
                            100.0 * static_cast<double>(s.concealed_samples) / (8000.0 * 60.0),
                            static_cast<unsigned long long>(s.packets_late), static_cast<double>(s.accelerate_samples) / 8.0,
                            static_cast<double>(s.stretch_samples) / 8.0);
            }
}
