// bench/network_trace.hpp: seeded, deterministic network traces for evaluating jitter buffers.
//
// Not library API: the evaluation (bench/jitter_eval.cpp), the benchmark
// (bench/jitter_bench.cpp) and the tests (tests/jitter_buffer_test.cpp, via a
// relative include) share it so that a scenario means the same packets
// everywhere.
//
// A trace is what a receiver sees of one RTP stream of 20 ms packets: for every
// packet the sender sent, its RTP fields, its send time and either its arrival
// time(s) or "lost". All times are microseconds on the RECEIVER's clock (a
// sender whose clock runs fast sends its 20 ms packets every 19.98 ms of
// receiver time). The same (scenario, seed, frame count) gives the same trace
// on every compiler and standard library: the random numbers come from
// SplitMix64 and the distributions are written out below (std::*_distribution
// differ between libstdc++ and libc++).
//
// Scenarios (all delays one-way):
//   clean_lan       1 ms ± 0.2 ms (normal), in order, no loss.
//   wifi            3 ms + gamma(shape 2, mean 15 ms) queueing jitter (FIFO), 1 % random
//                   loss, 0.5 % duplicates (second copy 0.1-5 ms later), 0.5 % of packets
//                   held 20-50 ms (they arrive after their successors: reordering).
//   heavy_tail      20 ms + Pareto (Lomax, scale 8 ms, alpha 2.5, cap 800 ms) jitter (FIFO),
//                   Gilbert-Elliott burst loss p = 0.02, r = 0.3 (every packet in the bad
//                   state is lost: 6.25 % loss in bursts of 3.3 packets on average).
//   delay_spikes    30 ms + gamma(2, mean 3 ms); every 8-12 s a spike of 150-400 ms that
//                   drains at the sending rate: the packet at the spike start is held S ms,
//                   each later one S - (its send time - spike start), so they bunch up and
//                   arrive together. No loss.
//   drift_fast      20 ms + gamma(2, mean 2 ms), sender clock +1000 ppm (default 10 min).
//   drift_slow      the same with the sender clock -1000 ppm.
//   g1050_mix       in the spirit of ITU-T G.1050: 60 ms + gamma(2, mean 8 ms) jitter, delay
//                   impulses (Poisson, one per 5 s on average, 60-200 ms draining like the
//                   spikes), 1 % reordering (held 20-60 ms), Gilbert-Elliott loss p = 0.005,
//                   r = 0.4, a route change at 1/3 of the trace that adds 40 ms to the base
//                   delay and one at 1/2 that removes it again (packets on the new, shorter
//                   route overtake the old ones), and a 2 s outage at 3/4.
//   dtx_talkspurts  25 ms + gamma(2, mean 3 ms), 0.5 % random loss; the sender sends
//                   nothing in pauses (Opus DTX / silence suppression) and sets the marker
//                   bit on the first packet of each talkspurt. Which frames are sent comes
//                   from the caller (the encoder's DTX decisions) or, without it, from an
//                   on/off model with ITU-T P.59's means (talkspurt 1.004 s, pause 1.587 s).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tutti_bench {

/// SplitMix64 with the few distributions the scenarios need, written out so
/// every platform draws the same numbers.
class trace_rng {
public:
    explicit trace_rng(std::uint64_t seed) noexcept : state_(seed) {}

    std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, 1).
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform in [lo, hi).
    double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
    /// True with probability p.
    bool chance(double p) noexcept { return uniform() < p; }
    /// Exponential with the given mean.
    double exponential(double mean) noexcept { return -mean * std::log1p(-uniform()); }
    /// Gamma with integer shape k (a sum of k exponentials) and the given mean.
    double gamma(int k, double mean) noexcept {
        double s = 0.0;
        for (int i = 0; i < k; ++i) s += exponential(mean / k);
        return s;
    }
    /// Standard normal (Box-Muller, one value per call).
    double normal() noexcept {
        const double u1 = 1.0 - uniform();  // (0, 1]
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
    /// Lomax (Pareto type II, starting at 0): scale * (U^(-1/alpha) - 1).
    double lomax(double scale, double alpha) noexcept {
        return scale * (std::pow(1.0 - uniform(), -1.0 / alpha) - 1.0);
    }

private:
    std::uint64_t state_;
};

/// One packet the sender sent.
struct trace_packet {
    std::uint32_t frame = 0;        ///< payload index: the 20 ms frame of source audio it carries
    std::uint16_t sequence = 0;     ///< RTP sequence number (wraps)
    std::uint32_t timestamp = 0;    ///< RTP timestamp (wraps)
    std::uint32_t ssrc = 0;
    bool marker = false;            ///< first packet of a talkspurt (and of the stream)
    std::int64_t send_us = 0;       ///< when it left the sender, receiver clock
    bool lost = false;              ///< never arrives
    std::int64_t arrival_us = 0;    ///< arrival of the first copy (unless lost)
    std::int64_t duplicate_us = -1; ///< arrival of a second copy, -1 for none
};

/// One arrival event: a copy of packets[packet] reaching the receiver.
struct trace_arrival {
    std::size_t packet = 0;
    std::int64_t arrival_us = 0;
    bool duplicate = false;
};

/// A whole trace. Packets are in send order.
struct network_trace {
    std::string scenario;
    std::uint64_t seed = 0;
    std::uint32_t rtp_clock_hz = 48000;
    std::uint32_t frame_us = 20000;
    double sender_ppm = 0.0;        ///< sender clock error: +1000 = sends 0.1 % fast
    std::size_t frame_count = 0;    ///< frames of source audio covered (sent or suppressed by DTX)
    std::vector<trace_packet> packets;

    /// When the sender would send frame `f` (whether or not it did), receiver clock.
    std::int64_t frame_send_us(double f) const noexcept {
        return static_cast<std::int64_t>(std::llround(f * frame_us / (1.0 + sender_ppm * 1e-6)));
    }
    /// RTP timestamp units per frame.
    std::uint32_t frame_ts() const noexcept {
        return static_cast<std::uint32_t>(std::uint64_t{rtp_clock_hz} * frame_us / 1000000u);
    }
    /// Every copy that arrives, by arrival time (ties in send order, first copies first).
    std::vector<trace_arrival> arrivals() const {
        std::vector<trace_arrival> out;
        out.reserve(packets.size() + packets.size() / 64);
        for (std::size_t i = 0; i < packets.size(); ++i) {
            if (packets[i].lost) continue;
            out.push_back({i, packets[i].arrival_us, false});
            if (packets[i].duplicate_us >= 0) out.push_back({i, packets[i].duplicate_us, true});
        }
        std::stable_sort(out.begin(), out.end(), [](const trace_arrival& a, const trace_arrival& b) {
            return a.arrival_us < b.arrival_us;
        });
        return out;
    }
    /// Smallest one-way delay (arrival - send) of any packet that arrived; 0 if none did.
    std::int64_t min_delay_us() const noexcept {
        std::int64_t m = std::numeric_limits<std::int64_t>::max();
        for (const trace_packet& p : packets)
            if (!p.lost) m = std::min(m, p.arrival_us - p.send_us);
        return m == std::numeric_limits<std::int64_t>::max() ? 0 : m;
    }
    /// Latest arrival of any copy; 0 if none arrived.
    std::int64_t last_arrival_us() const noexcept {
        std::int64_t m = 0;
        for (const trace_packet& p : packets)
            if (!p.lost) m = std::max({m, p.arrival_us, p.duplicate_us});
        return m;
    }
    std::size_t lost_count() const noexcept {
        return static_cast<std::size_t>(std::count_if(packets.begin(), packets.end(), [](const trace_packet& p) { return p.lost; }));
    }
    std::size_t duplicate_count() const noexcept {
        return static_cast<std::size_t>(
            std::count_if(packets.begin(), packets.end(), [](const trace_packet& p) { return !p.lost && p.duplicate_us >= 0; }));
    }
    /// First copies that arrive after a packet sent later (what a receiver counts as reordered).
    std::size_t reordered_count() const {
        std::size_t n = 0;
        std::size_t highest = 0;
        bool any = false;
        for (const trace_arrival& a : arrivals()) {
            if (a.duplicate) continue;
            if (any && a.packet < highest) ++n;
            if (!any || a.packet > highest) highest = a.packet;
            any = true;
        }
        return n;
    }
};

/// A named scenario.
struct scenario_info {
    const char* name;
    double default_seconds;  ///< trace length the evaluation uses
    const char* summary;     ///< one line for tables
};

/// Every scenario, in the order the evaluation reports them.
inline std::span<const scenario_info> scenarios() noexcept {
    static constexpr scenario_info list[] = {
        {"clean_lan", 60, "1 ms +- 0.2 ms, no loss"},
        {"wifi", 60, "gamma jitter mean 15 ms, 1% loss, 0.5% dup, 0.5% reorder"},
        {"heavy_tail", 60, "Pareto jitter, Gilbert-Elliott loss p=0.02 r=0.3"},
        {"delay_spikes", 60, "150-400 ms spikes every ~10 s, draining"},
        {"drift_fast", 600, "sender clock +1000 ppm, 10 min"},
        {"drift_slow", 600, "sender clock -1000 ppm, 10 min"},
        {"g1050_mix", 60, "impulses, reordering, route change +-40 ms, 2 s outage"},
        {"dtx_talkspurts", 60, "DTX: no packets in pauses, marker on talkspurts"},
    };
    return list;
}

/// True when `name` is one of scenarios().
inline bool scenario_exists(std::string_view name) noexcept {
    for (const scenario_info& s : scenarios())
        if (name == s.name) return true;
    return false;
}

namespace detail {

// Independent random streams per aspect of a scenario, so that (say) changing
// the loss model does not move every jitter value.
inline std::uint64_t substream(std::uint64_t seed, std::uint64_t aspect) noexcept {
    trace_rng r(seed ^ (aspect * 0xD1B54A32D192ED03ull));
    return r.next();
}

// Gilbert-Elliott two-state loss: good -> bad with p, bad -> good with r;
// packets in the bad state are lost.
struct gilbert_elliott {
    double p = 0.0, r = 1.0;
    bool bad = false;
    bool lose(trace_rng& rng) noexcept {
        bad = bad ? !rng.chance(r) : rng.chance(p);
        return bad;
    }
};

// P.59-like on/off talker for dtx_talkspurts when the caller gives no frame activity.
inline std::vector<bool> synthetic_talkspurts(std::size_t frames, double frame_s, std::uint64_t seed) {
    trace_rng rng(substream(seed, 7));
    std::vector<bool> on(frames, false);
    std::size_t f = 0;
    bool talking = true;
    while (f < frames) {
        const double dur = rng.exponential(talking ? 1.004 : 1.587);
        const auto n = std::max<std::size_t>(1, static_cast<std::size_t>(dur / frame_s + 0.5));
        for (std::size_t i = 0; i < n && f < frames; ++i, ++f) on[f] = talking;
        talking = !talking;
    }
    return on;
}

}  // namespace detail

/// Builds the trace of `scenario` (one of scenarios()) for `frame_count`
/// frames of source audio. `frame_sent[f] == false` means the sender's DTX
/// suppressed frame f (only dtx_talkspurts looks at it; empty = synthetic
/// talkspurts there, every frame elsewhere). Returns an empty trace (no
/// packets, scenario name kept) for an unknown name.
inline network_trace make_trace(std::string_view scenario, std::uint64_t seed, std::size_t frame_count,
                                std::uint32_t rtp_clock_hz = 48000, std::uint32_t frame_us = 20000,
                                const std::vector<bool>& frame_sent = {}) {
    network_trace t;
    t.scenario = std::string(scenario);
    t.seed = seed;
    t.rtp_clock_hz = rtp_clock_hz;
    t.frame_us = frame_us;
    t.frame_count = frame_count;
    if (!scenario_exists(scenario)) return t;
    if (scenario == "drift_fast") t.sender_ppm = 1000.0;
    if (scenario == "drift_slow") t.sender_ppm = -1000.0;

    using detail::substream;
    trace_rng header_rng(substream(seed, 1));
    trace_rng jitter_rng(substream(seed, 2));
    trace_rng loss_rng(substream(seed, 3));
    trace_rng dup_rng(substream(seed, 4));
    trace_rng reorder_rng(substream(seed, 5));
    trace_rng event_rng(substream(seed, 6));

    // Which frames are sent.
    std::vector<bool> sent;
    if (scenario == "dtx_talkspurts") {
        sent = frame_sent.size() >= frame_count
                   ? std::vector<bool>(frame_sent.begin(), frame_sent.begin() + static_cast<std::ptrdiff_t>(frame_count))
                   : detail::synthetic_talkspurts(frame_count, frame_us * 1e-6, seed);
    } else {
        sent.assign(frame_count, true);
    }

    const auto seq0 = static_cast<std::uint16_t>(header_rng.next());
    const auto ts0 = static_cast<std::uint32_t>(header_rng.next());
    const auto ssrc = static_cast<std::uint32_t>(header_rng.next());
    const std::uint32_t frame_ts = t.frame_ts();
    const double duration_us = static_cast<double>(frame_count) * frame_us;

    // Scenario events that depend on time, drawn up front.
    struct impulse {
        double start_us, height_us;
    };
    std::vector<impulse> impulses;
    if (scenario == "delay_spikes") {
        for (double at = event_rng.uniform(8e6, 12e6); at < duration_us; at += event_rng.uniform(8e6, 12e6))
            impulses.push_back({at, event_rng.uniform(150e3, 400e3)});
    } else if (scenario == "g1050_mix") {
        for (double at = event_rng.exponential(5e6); at < duration_us; at += event_rng.exponential(5e6))
            impulses.push_back({at, event_rng.uniform(60e3, 200e3)});
    }
    auto impulse_delay = [&](double send) {
        double extra = 0.0;
        for (const impulse& i : impulses)
            if (send >= i.start_us) extra = std::max(extra, i.height_us - (send - i.start_us));
        return extra;
    };

    detail::gilbert_elliott ge;
    if (scenario == "heavy_tail") ge = {0.02, 0.3};
    if (scenario == "g1050_mix") ge = {0.005, 0.4};

    std::int64_t fifo_last = std::numeric_limits<std::int64_t>::min();  // last in-order arrival
    int route = 0;
    bool previous_sent = false;
    std::uint16_t seq = seq0;
    for (std::size_t f = 0; f < frame_count; ++f) {
        if (!sent[f]) {
            previous_sent = false;
            continue;
        }
        trace_packet p;
        p.frame = static_cast<std::uint32_t>(f);
        p.sequence = seq++;
        p.timestamp = ts0 + static_cast<std::uint32_t>(f) * frame_ts;
        p.ssrc = ssrc;
        p.marker = !previous_sent;
        previous_sent = true;
        p.send_us = t.frame_send_us(static_cast<double>(f));
        const double send = static_cast<double>(p.send_us);

        double delay = 0.0;      // microseconds
        double hold = 0.0;       // extra delay outside FIFO order (reordering)
        double loss_p = 0.0;
        if (scenario == "clean_lan") {
            delay = std::max(300.0, 1000.0 + 200.0 * jitter_rng.normal());
        } else if (scenario == "wifi") {
            delay = 3000.0 + jitter_rng.gamma(2, 15000.0);
            loss_p = 0.01;
            if (reorder_rng.chance(0.005)) hold = reorder_rng.uniform(20e3, 50e3);
        } else if (scenario == "heavy_tail") {
            delay = 20000.0 + std::min(800e3, jitter_rng.lomax(8000.0, 2.5));
        } else if (scenario == "delay_spikes") {
            delay = 30000.0 + jitter_rng.gamma(2, 3000.0) + impulse_delay(send);
        } else if (scenario == "drift_fast" || scenario == "drift_slow") {
            delay = 20000.0 + jitter_rng.gamma(2, 2000.0);
        } else if (scenario == "g1050_mix") {
            const int now_route = (send >= duration_us / 3 && send < duration_us / 2) ? 1 : 0;
            if (now_route != route) {
                route = now_route;
                fifo_last = std::numeric_limits<std::int64_t>::min();  // a new path: no FIFO with the old one
            }
            delay = 60000.0 + 40000.0 * route + jitter_rng.gamma(2, 8000.0) + impulse_delay(send);
            if (reorder_rng.chance(0.01)) hold = reorder_rng.uniform(20e3, 60e3);
            if (send >= 0.75 * duration_us && send < 0.75 * duration_us + 2e6) p.lost = true;
        } else if (scenario == "dtx_talkspurts") {
            delay = 25000.0 + jitter_rng.gamma(2, 3000.0);
            loss_p = 0.005;
        }
        std::int64_t arrival = p.send_us + static_cast<std::int64_t>(std::llround(delay));
        if (fifo_last != std::numeric_limits<std::int64_t>::min())
            arrival = std::max(arrival, fifo_last + 50);  // 50 us serialization behind the previous packet
        fifo_last = arrival;
        p.arrival_us = arrival + static_cast<std::int64_t>(std::llround(hold));

        // Loss draws happen for every packet so the streams stay aligned.
        const bool ge_lost = ge.lose(loss_rng);
        const bool random_lost = loss_rng.chance(loss_p);
        p.lost = p.lost || ge_lost || random_lost;
        const double dup_p = scenario == "wifi" ? 0.005 : 0.0;
        const bool dup = dup_rng.chance(dup_p);
        const double dup_after = dup_rng.uniform(100.0, 5000.0);
        if (dup && !p.lost) p.duplicate_us = p.arrival_us + static_cast<std::int64_t>(dup_after);
        t.packets.push_back(p);
    }
    return t;
}

}  // namespace tutti_bench
