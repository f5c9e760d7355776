// Tests of tutti::jitter_buffer (include/tutti/jitter_buffer.hpp).
//
// Most tests use `frame_decoder`, a fake decoder whose payload is a 2-byte
// frame index and whose output is a constant that encodes that index, so every
// tick of output says exactly which frame (or silence, or concealment) was
// played. Those tests pin the target delay (min_delay_ms = max_delay_ms) and
// use a wide hysteresis, so that no time stretching blurs the frames: they
// check the bookkeeping (order, duplicates, late packets, wraps, SSRC, DTX,
// bad payloads) exactly. The drift test uses the adaptive defaults with a
// tone decoder (time stretching needs a periodic signal) and the seeded
// drift traces of bench/network_trace.hpp; the FEC test uses real Opus.
#include "tutti/jitter_buffer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "../bench/network_trace.hpp"
#include "alloc_counter.hpp"
#include "tutti/codecs/g711.hpp"
#include "tutti/codecs/opus.hpp"
#include "tutti/kernels.hpp"
#include "tutti/wav.hpp"

namespace {

using tutti::status;

constexpr std::uint32_t rate = 8000;
constexpr std::size_t frame = 160;  // 20 ms at 8 kHz = RTP timestamp units per packet
constexpr std::int64_t tick_us = 20000;
constexpr float conceal_marker = -0.75f;

// Output value of frame `index` in [0.25, 0.5): exact in float, so a tick can be matched exactly.
float value_of(std::uint32_t index) { return 0.25f + static_cast<float>(index % 1024) / 4096.0f; }

// Payload of frame `index`: its index, big-endian.
std::vector<std::uint8_t> payload_of(std::uint32_t index) {
    return {static_cast<std::uint8_t>(index >> 8), static_cast<std::uint8_t>(index & 0xFF)};
}

// A decoder whose payload is a 2-byte frame index. `constant` mode fills each
// frame with value_of(index) and concealment with conceal_marker; `tone` mode
// plays a continuous 200 Hz sine (what time stretching can work on) and
// conceals with a quieter one. Never allocates after construction.
class frame_decoder final : public tutti::decoder {
public:
    enum class mode { constant, tone };
    explicit frame_decoder(mode m = mode::constant) : mode_(m) { decoded_.reserve(100000); }
    // Tone mode: the tone's frequency, and the first frame played at -49 dBov
    // (quiet: below the stretcher's -40 dBov, above the -55 dBov of near silence).
    frame_decoder(double tone_hz, std::uint32_t quiet_from) : mode_(mode::tone), tone_hz_(tone_hz), quiet_from_(quiet_from) {
        decoded_.reserve(100000);
    }

    tutti::audio_format format() const noexcept override { return {rate, 1, 20000}; }
    std::ptrdiff_t frames_in(std::span<const std::uint8_t> p) const noexcept override {
        return p.size() == 2 ? static_cast<std::ptrdiff_t>(frame) : tutti::as_count(status::malformed);
    }
    std::ptrdiff_t decode(std::span<const std::uint8_t> p, tutti::interleaved_view<float> pcm) noexcept override {
        if (p.size() != 2) return tutti::as_count(status::malformed);
        if (pcm.frames() < frame) return tutti::as_count(status::buffer_too_small);
        const auto index = static_cast<std::uint32_t>(p[0] << 8 | p[1]);
        if (decoded_.size() < decoded_.capacity()) decoded_.push_back(index);
        fill(pcm.subview(0, frame), mode_ == mode::constant ? value_of(index) : index >= quiet_from_ ? 0.005f : 0.3f);
        return static_cast<std::ptrdiff_t>(frame);
    }
    std::ptrdiff_t conceal(tutti::interleaved_view<float> pcm) noexcept override {
        ++conceal_calls_;
        fill(pcm, mode_ == mode::constant ? conceal_marker : 0.1f);
        return static_cast<std::ptrdiff_t>(pcm.frames());
    }
    void reset() noexcept override { phase_ = 0; }

    const std::vector<std::uint32_t>& decoded() const { return decoded_; }

private:
    void fill(tutti::interleaved_view<float> pcm, float level) {
        for (std::size_t i = 0; i < pcm.frames(); ++i) {
            if (mode_ == mode::constant) {
                pcm(0, i) = level;
            } else {
                pcm(0, i) = level * static_cast<float>(std::sin(2.0 * std::numbers::pi * tone_hz_ * static_cast<double>(phase_) / rate));
                ++phase_;
            }
        }
    }
    mode mode_;
    std::vector<std::uint32_t> decoded_;
    std::uint64_t conceal_calls_ = 0;
    std::uint64_t phase_ = 0;
    double tone_hz_ = 200.0;
    std::uint32_t quiet_from_ = 0xFFFFFFFF;
};

// One packet to deliver.
struct packet {
    std::int64_t arrival_us;
    tutti::rtp_packet_info info;
    std::vector<std::uint8_t> payload;
};

// What one tick of output held.
constexpr std::int64_t silence = -1, concealment = -2, mixed = -3;

struct replay {
    std::vector<std::int64_t> ticks;  // per tick: frame index, silence, concealment or mixed
    std::vector<tutti::jitter_buffer_stats> stats;  // after each tick
    std::vector<status> insert_results;

    // The counters after the tick that played frame `index` (after the stream
    // ends the buffer conceals max_conceal_ms, as for any loss, so checks of
    // concealment look here rather than at the end).
    const tutti::jitter_buffer_stats& stats_at(std::int64_t index) const {
        const auto at = ticks_of(index);
        return at.empty() ? stats.back() : stats[at.back()];
    }

    // Ticks at which frame `index` was played.
    std::vector<std::size_t> ticks_of(std::int64_t index) const {
        std::vector<std::size_t> out;
        for (std::size_t k = 0; k < ticks.size(); ++k)
            if (ticks[k] == index) out.push_back(k);
        return out;
    }
};

std::int64_t classify(const float* x) {
    const float v = x[0];
    for (std::size_t i = 1; i < frame; ++i)
        if (x[i] != v) return mixed;
    if (v == 0.0f) return silence;
    if (v == conceal_marker) return concealment;
    const float idx = (v - 0.25f) * 4096.0f;
    if (idx >= 0.0f && idx < 1024.0f && value_of(static_cast<std::uint32_t>(idx)) == v) return static_cast<std::int64_t>(idx);
    return mixed;
}

// Delivers `packets` (any order; sorted by arrival here) and takes `ticks`
// ticks at 0, 20, 40 ... ms, inserting before each tick what has arrived by then.
replay run(tutti::jitter_buffer& jb, std::vector<packet> packets, std::size_t ticks) {
    std::stable_sort(packets.begin(), packets.end(), [](const packet& a, const packet& b) { return a.arrival_us < b.arrival_us; });
    replay r;
    std::vector<float> out(frame);
    std::size_t next = 0;
    for (std::size_t k = 0; k < ticks; ++k) {
        const auto now = static_cast<std::int64_t>(k) * tick_us;
        for (; next < packets.size() && packets[next].arrival_us <= now; ++next)
            r.insert_results.push_back(jb.insert(packets[next].info, packets[next].payload, packets[next].arrival_us));
        EXPECT_EQ(jb.get({out.data(), frame, 1}, now), status::ok);
        r.ticks.push_back(classify(out.data()));
        r.stats.push_back(jb.stats());
    }
    return r;
}

// The defaults (an adaptive target), at the test's RTP clock.
tutti::jitter_buffer_config adaptive_config() {
    tutti::jitter_buffer_config c;
    c.rtp_clock_hz = rate;
    return c;
}

// The defaults with a room's max_delay_ms (room_config::jitter_max_delay_ms), as in the soak run.
tutti::jitter_buffer_config room_jitter_config() {
    tutti::jitter_buffer_config c = adaptive_config();
    c.max_delay_ms = 500;
    return c;
}

// A pinned 40 ms target with a hysteresis wider than a tick: no time stretching.
tutti::jitter_buffer_config fixed_config() {
    tutti::jitter_buffer_config c = adaptive_config();
    c.min_delay_ms = c.max_delay_ms = c.initial_delay_ms = 40;
    c.hysteresis_ms = 30;
    return c;
}

std::unique_ptr<tutti::jitter_buffer> make(const tutti::jitter_buffer_config& c, tutti::decoder& d) {
    std::unique_ptr<tutti::jitter_buffer> jb;
    EXPECT_EQ(tutti::jitter_buffer::create(c, d, jb), status::ok);
    return jb;
}

// `count` frames from `first`, sent every 20 ms, arriving 5 ms after sending.
std::vector<packet> stream(std::uint32_t count, std::uint16_t seq0 = 1000, std::uint32_t ts0 = 0, std::uint32_t ssrc = 1,
                           std::uint32_t first = 0, std::int64_t t0_us = 5000) {
    std::vector<packet> out;
    for (std::uint32_t i = 0; i < count; ++i) {
        packet p;
        p.arrival_us = t0_us + static_cast<std::int64_t>(i) * tick_us;
        p.info = {static_cast<std::uint16_t>(seq0 + i), ts0 + i * static_cast<std::uint32_t>(frame), ssrc, 0, i == 0};
        p.payload = payload_of(first + i);
        out.push_back(p);
    }
    return out;
}

// Every frame in [from, to) except `missing` is played exactly once, at consecutive
// ticks (frame f at the tick of `from` plus f - from); nothing is mixed.
void expect_plays_in_order(const replay& r, std::uint32_t from, std::uint32_t to, const std::vector<std::uint32_t>& missing = {}) {
    ASSERT_EQ(r.ticks_of(from).size(), 1u) << "frame " << from;
    const std::size_t start = r.ticks_of(from)[0];
    for (std::uint32_t f = from; f < to; ++f) {
        const bool gone = std::find(missing.begin(), missing.end(), f) != missing.end();
        const auto at = r.ticks_of(f);
        if (gone) {
            EXPECT_TRUE(at.empty()) << "frame " << f << " should not be played";
            continue;
        }
        ASSERT_EQ(at.size(), 1u) << "frame " << f << " played " << at.size() << " times";
        EXPECT_EQ(at[0], start + (f - from)) << "frame " << f << " out of place";
    }
    EXPECT_EQ(std::count(r.ticks.begin(), r.ticks.end(), mixed), 0) << "a tick mixed two frames (unexpected time stretching)";
}

TEST(JitterBuffer, RejectsBadConfigAndWrongTickSize) {
    frame_decoder d;
    std::unique_ptr<tutti::jitter_buffer> jb;
    tutti::jitter_buffer_config c = fixed_config();
    c.min_delay_ms = 200;
    c.max_delay_ms = 100;
    EXPECT_EQ(tutti::jitter_buffer::create(c, d, jb), status::invalid_argument);
    EXPECT_EQ(jb, nullptr);
    jb = make(fixed_config(), d);
    ASSERT_NE(jb, nullptr);
    EXPECT_EQ(jb->tick_frames(), frame);
    std::vector<float> out(frame + 1);
    EXPECT_EQ(jb->get({out.data(), frame + 1, 1}, 0), status::invalid_argument);
}

TEST(JitterBuffer, InOrderStreamPlaysEveryFrameOnce) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    const replay r = run(*jb, stream(100), 110);
    expect_plays_in_order(r, 0, 100);
    const std::size_t start = r.ticks_of(0)[0];
    for (std::size_t k = 0; k < start; ++k) EXPECT_EQ(r.ticks[k], silence) << "tick " << k;
    // Played at the pinned delay: sent at 20 f ms, played at 20 (start + f) ms, >= 40 ms.
    EXPECT_GE(static_cast<std::int64_t>(start) * tick_us, 40000 + 5000);
    EXPECT_LE(static_cast<std::int64_t>(start) * tick_us, 40000 + 5000 + tick_us);
    const auto& s = jb->stats();
    EXPECT_EQ(s.packets_received, 100u);
    EXPECT_EQ(s.packets_decoded, 100u);
    EXPECT_EQ(s.packets_lost, 0u);
    EXPECT_EQ(s.packets_late, 0u);
    EXPECT_EQ(s.packets_duplicate, 0u);
    EXPECT_EQ(s.packets_reordered, 0u);
    EXPECT_EQ(r.stats_at(99).concealed_samples, 0u);
    EXPECT_EQ(s.ticks, 110u);
    EXPECT_EQ(d.decoded().size(), 100u);
}

TEST(JitterBuffer, ReorderedPacketPlaysInOrder) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    auto packets = stream(100);
    packets[50].arrival_us = packets[51].arrival_us + 3000;  // 51 arrives 3 ms before 50, both within the 40 ms delay
    const replay r = run(*jb, packets, 110);
    expect_plays_in_order(r, 0, 100);
    const auto& s = jb->stats();
    EXPECT_EQ(s.packets_reordered, 1u);
    EXPECT_EQ(s.packets_lost, 0u);
    EXPECT_EQ(s.packets_late, 0u);
    EXPECT_EQ(r.stats_at(99).concealed_samples, 0u);
}

TEST(JitterBuffer, DuplicateCountedAndPlayedOnce) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    auto packets = stream(100);
    packet copy = packets[30];
    copy.arrival_us += 3000;
    packets.push_back(copy);
    packet late_copy = packets[60];  // a copy after the frame was played
    late_copy.arrival_us += 200000;
    packets.push_back(late_copy);
    const replay r = run(*jb, packets, 110);
    expect_plays_in_order(r, 0, 100);
    const auto& s = jb->stats();
    EXPECT_EQ(s.packets_duplicate, 2u);
    EXPECT_EQ(s.packets_received, 100u);
    EXPECT_EQ(s.packets_lost, 0u);
    EXPECT_EQ(s.packets_late, 0u);
    for (const status st : r.insert_results) EXPECT_EQ(st, status::ok);
}

TEST(JitterBuffer, LatePacketCountedAndNotPlayed) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    auto packets = stream(100);
    packets[40].arrival_us += 200000;  // 200 ms late: far behind its playout time
    const replay r = run(*jb, packets, 110);
    expect_plays_in_order(r, 0, 100, {40});
    const std::size_t at = r.ticks_of(39)[0] + 1;
    EXPECT_EQ(r.ticks[at], concealment);
    const auto& s = jb->stats();
    EXPECT_EQ(s.packets_late, 1u);
    EXPECT_EQ(s.packets_lost, 1u);  // it did not arrive in time: played as PLC
    EXPECT_EQ(r.stats_at(99).concealed_samples, frame);
    EXPECT_EQ(d.decoded().size(), 99u);
}

TEST(JitterBuffer, SequenceAndTimestampWrapWithoutLoss) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    // The sequence number wraps at frame 36, the timestamp at frame 50.
    const replay r = run(*jb, stream(100, 65500, 0xFFFFFFFFu - 50 * frame + 1), 110);
    expect_plays_in_order(r, 0, 100);
    const auto& s = jb->stats();
    EXPECT_EQ(s.packets_lost, 0u);
    EXPECT_EQ(s.packets_late, 0u);
    EXPECT_EQ(s.packets_reordered, 0u);
    EXPECT_EQ(s.resyncs, 0u);
    EXPECT_EQ(r.stats_at(99).concealed_samples, 0u);
}

TEST(JitterBuffer, SsrcChangeResyncsAndPlaysTheNewStream) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    auto packets = stream(50, 1000, 0, 1);
    const auto second = stream(50, 31000, 123456789u, 2, 50, 5000 + 50 * tick_us);
    packets.insert(packets.end(), second.begin(), second.end());
    const replay r = run(*jb, packets, 120);
    EXPECT_EQ(jb->stats().resyncs, 1u);
    expect_plays_in_order(r, 0, 40);   // the old stream until shortly before the change
    expect_plays_in_order(r, 50, 100); // the whole new stream
    EXPECT_GT(r.ticks_of(50)[0], r.ticks_of(39)[0]);
}

// An outage longer than the buffer's window (capacity_packets × 20 ms =
// 2.56 s) but shorter than resync_threshold_ms: the sequence numbers after it
// are beyond the window. They used to be refused as overflow forever, so the
// stream never played again (found by the soak run, bench/soak.cpp). Now the
// first packet after the outage is refused (it could be forged) and playout
// restarts at the second, which follows it.
TEST(JitterBuffer, OutageLongerThanTheWindowResumesPlayout) {
    for (const std::uint32_t lost : {50u, 127u, 128u, 130u, 300u, 450u}) {
        SCOPED_TRACE(lost);
        frame_decoder d;
        auto jb = make(fixed_config(), d);
        auto packets = stream(100 + lost + 100);
        packets.erase(packets.begin() + 100, packets.begin() + 100 + lost);
        const replay r = run(*jb, packets, 100 + lost + 100 + 10);
        expect_plays_in_order(r, 0, 100);
        const bool beyond = lost >= 128;
        const std::uint32_t resume = beyond ? 101 + lost : 100 + lost;
        expect_plays_in_order(r, resume, 200 + lost);
        // It plays one pinned delay (40 ms + 5 ms transit) after it arrived.
        const std::size_t resumed = r.ticks_of(resume)[0];
        EXPECT_LE(static_cast<std::int64_t>(resumed) * tick_us, static_cast<std::int64_t>(resume) * tick_us + 5000 + 40000 + tick_us);
        const auto& s = jb->stats();
        EXPECT_EQ(s.packets_received, beyond ? 199u : 200u);
        EXPECT_EQ(s.packets_decoded, beyond ? 199u : 200u);
        EXPECT_EQ(s.packets_lost, lost);
        EXPECT_EQ(s.packets_overflow, beyond ? 1u : 0u);  // the first packet after the outage
        EXPECT_EQ(s.resyncs, beyond ? 1u : 0u);
    }
}

// Packets under forged sequence numbers 500..1850 ahead of the real stream,
// and a straggler 150 behind, each alone (as the soak run's floods send): none
// of them moves playout, which plays the real stream on as if they had not
// come. (A single forged packet beyond the window used to restart playout
// there, and the real stream was late for up to 40 s.) Two consecutive
// packets more than 100 behind playout do restart it (RFC 3550 A.1): a sender
// whose numbers went back.
TEST(JitterBuffer, IsolatedForgedNumbersDoNotMovePlayoutConsecutiveOnesDo) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    auto packets = stream(200);
    for (std::uint32_t i = 0; i < 10; ++i) {
        packet f = packets[50 + i];
        f.info.sequence = static_cast<std::uint16_t>(f.info.sequence + 500 + 150 * i);
        f.info.timestamp += 160 * (500 + 150 * i);
        f.payload = payload_of(900);
        f.arrival_us += 1000;
        packets.push_back(f);
    }
    packet old = packets[10];
    old.arrival_us = packets[150].arrival_us + 1000;
    packets.push_back(old);
    const replay r = run(*jb, packets, 230);
    expect_plays_in_order(r, 0, 200);
    EXPECT_TRUE(r.ticks_of(900).empty());
    EXPECT_EQ(jb->stats().resyncs, 0u);
    // Each dropped: beyond the window (overflow), or with a timestamp jump over
    // resync_threshold_ms not yet confirmed, or too far behind (late).
    EXPECT_EQ(jb->stats().packets_overflow + jb->stats().packets_late, 11u);
    EXPECT_EQ(jb->stats().packets_received, 200u);

    // The sender restarts its numbers 2000 lower (same SSRC, timestamps on):
    // the first is late, playout restarts at the second; what was held of the
    // old numbers (frame 99) goes.
    frame_decoder d2;
    auto jb2 = make(fixed_config(), d2);
    auto restarted = stream(100);
    const auto after = stream(100, static_cast<std::uint16_t>(1000 - 1000 + 100 - 1000), 100 * 160, 1, 100, 5000 + 100 * tick_us);
    restarted.insert(restarted.end(), after.begin(), after.end());
    const replay r2 = run(*jb2, restarted, 220);
    expect_plays_in_order(r2, 0, 99);
    expect_plays_in_order(r2, 101, 200);
    EXPECT_EQ(jb2->stats().packets_overflow, 1u);
    EXPECT_TRUE(r2.ticks_of(99).empty());
    EXPECT_TRUE(r2.ticks_of(100).empty());
    EXPECT_EQ(jb2->stats().resyncs, 1u);
    EXPECT_EQ(jb2->stats().packets_late, 1u);
}

// A packet in sequence whose timestamp is 5 s ahead (forged, in the soak
// run's floods). It used to become the delay reference (it looks 5 s
// early), the real packets then read as 5 s late, and once it was played
// the media clock stood 5 s ahead: the real stream came back only after a
// restart, up to 2.5 s later. Now it is not the reference alone (the next
// packet is not as early), and when its turn comes the real packet after
// it continues the stream exactly, so it is dropped and its frame
// concealed as a loss: one tick of PLC, nothing restarted.
TEST(JitterBuffer, ForgedTimestampAheadCostsOneConcealedFrame) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    auto packets = stream(400);
    packets[100].info.timestamp += 5 * 8000;
    packets[100].payload = payload_of(900);
    const replay r = run(*jb, packets, 410);
    expect_plays_in_order(r, 0, 400, {100});
    EXPECT_EQ(r.ticks[r.ticks_of(99)[0] + 1], concealment);
    EXPECT_TRUE(r.ticks_of(900).empty());
    EXPECT_EQ(jb->stats().packets_late, 1u);
    EXPECT_EQ(jb->stats().packets_lost, 1u);
    EXPECT_EQ(jb->stats().resyncs, 0u);
}

// Appends a flood like the soak run's over ticks 100-199: 30 copies per tick
// (what passes a room's rate limit) under SSRC 1, with sequence numbers up
// to 2000 above the stream's at that tick (`seq_at(t)`) and timestamps up to
// 2 s ahead, arriving anywhere in the tick; their frame is 900.
template <class SeqAt>
void add_flood(std::vector<packet>& packets, std::uint64_t seed, SeqAt seq_at) {
    tutti_bench::trace_rng rng(seed);
    packet f = stream(1)[0];
    f.info.marker = false;
    f.payload = payload_of(900);
    for (std::uint32_t t = 100; t < 200; ++t)
        for (int i = 0; i < 30; ++i) {
            f.info.sequence = static_cast<std::uint16_t>(seq_at(t) + rng.next() % 2000);
            f.info.timestamp = static_cast<std::uint32_t>(t * frame + rng.next() % 16000);
            f.arrival_us = static_cast<std::int64_t>(t) * tick_us + static_cast<std::int64_t>(rng.next() % tick_us);
            packets.push_back(f);
        }
}

// The frame from which every frame decoded is the one before plus 1, to the
// end, within the talk frames 100-399.
std::uint32_t in_order_since(const std::vector<std::uint32_t>& decoded) {
    std::size_t at = decoded.size() - 1;
    while (at > 0 && decoded[at - 1] + 1 == decoded[at] && decoded[at - 1] >= 100 && decoded[at - 1] < 400) --at;
    return decoded[at];
}

// A flood (add_flood) while the participant is silent with DTX. Forged
// numbers in the window are played, consecutive ones beyond it move playout
// there, and their timestamps make them the delay reference (each looks up
// to 2 s early) and fill the lateness history. The talkspurt that follows,
// 0.1, 0.3 or 0.9 s after the flood, must play from its first or second
// packet, at a target learnt from the real stream. At 17c706b, with the
// talkspurt 0.9 s after, its first 0.6-1.1 s was dropped as late (against
// the forged reference) on every seed of 30 tried, then played at 500 ms
// (max_delay_ms) until the history forgot.
TEST(JitterBuffer, RealStreamPlaysSoonAfterAFloodOfForgedCopies) {
    for (std::uint64_t seed = 1; seed <= 10; ++seed) for (const std::uint32_t talk_at : {205u, 215u, 245u}) {
        SCOPED_TRACE(seed);
        SCOPED_TRACE(talk_at);
        frame_decoder d;
        auto jb = make(room_jitter_config(), d);
        // Silent with DTX from tick 60 (a packet every 400 ms, as Opus sends
        // in a pause); the flood is ticks 100-199; a talkspurt (frames
        // 100-399) starts at tick talk_at.
        auto packets = stream(60);
        std::uint16_t seq = 1060;
        for (std::uint32_t t = 60; t < talk_at; t += 20, ++seq) packets.push_back(stream(1, seq, t * frame, 1, 700 + t / 20, 5000 + t * tick_us)[0]);
        const auto talk = stream(300, seq, talk_at * frame, 1, 100, 5000 + talk_at * tick_us);
        packets.insert(packets.end(), talk.begin(), talk.end());
        add_flood(packets, seed, [](std::uint32_t t) { return 1060 + t / 20; });
        const replay r = run(*jb, packets, 560);
        // From its first or second frame on, every frame of the talkspurt is
        // decoded once, in order (the first is dropped as a pending jump if
        // playout stood on forged numbers; the second confirms the jump).
        ASSERT_FALSE(d.decoded().empty());
        ASSERT_EQ(d.decoded().back(), 399u);
        EXPECT_LE(in_order_since(d.decoded()), 101u);
        // Half a second in: the target is the real stream's, the delay at it, nothing of it late.
        const tutti::jitter_buffer_stats& s = r.stats[talk_at + 25];
        EXPECT_LT(s.target_delay_ms, 40.0f);
        EXPECT_LT(s.current_delay_ms, s.target_delay_ms + 10.0f);
        EXPECT_EQ(r.stats.back().packets_late, r.stats[talk_at].packets_late);
    }
}

// The same flood while the participant talks on: once it ends, the stream
// plays again, in order, from its fifth packet after the flood at the
// latest, mostly its first (the flood is over 60 ms after its last copy;
// what came after it stays and plays). Seed 2 resumed 17 frames late before.
TEST(JitterBuffer, TalkerIsHeardAgainSoonAfterAFlood) {
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        SCOPED_TRACE(seed);
        frame_decoder d;
        auto jb = make(room_jitter_config(), d);
        auto packets = stream(400);
        add_flood(packets, seed, [](std::uint32_t t) { return 1000 + t; });
        const replay r = run(*jb, packets, 420);
        ASSERT_EQ(d.decoded().back(), 399u);
        EXPECT_LE(in_order_since(d.decoded()), 205u);
        EXPECT_EQ(r.stats.back().packets_late, r.stats[215].packets_late);
    }
}

// Disorder that networks make is not a flood: 10 % of the packets
// swapped with their successor, 7 % duplicated, 5 % lost, over 20 s: no
// restart, every packet that came played in order.
TEST(JitterBuffer, ReorderingAndDuplicatesAreNotAFlood) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    const auto clean = stream(1000);
    std::vector<packet> packets;
    std::vector<std::uint32_t> missing;
    for (std::uint32_t i = 0; i < 1000; ++i) {
        if (i % 20 == 7) {
            missing.push_back(i);
            continue;
        }
        packet p = clean[i];
        if (i % 10 == 3) p.arrival_us += tick_us + 1000;  // after its successor
        packets.push_back(p);
        if (i % 14 == 5) {
            p.arrival_us += 3000;
            packets.push_back(p);
        }
    }
    const replay r = run(*jb, packets, 1010);
    expect_plays_in_order(r, 0, 1000, missing);
    EXPECT_EQ(jb->stats().resyncs, 0u);
    EXPECT_EQ(jb->stats().packets_duplicate, 65u);
}

TEST(JitterBuffer, DtxGapIsSilenceNotLoss) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    // 50 frames, a 1 s pause with nothing sent (sequence numbers continue, the
    // timestamp jumps by 50 frames), then a talkspurt (marker) of 50 frames.
    auto packets = stream(50);
    auto after = stream(50, 1050, 100 * frame, 1, 50, 5000 + 100 * tick_us);
    packets.insert(packets.end(), after.begin(), after.end());
    const replay r = run(*jb, packets, 160);
    expect_plays_in_order(r, 0, 50);
    expect_plays_in_order(r, 50, 100);
    const std::size_t end_first = r.ticks_of(49)[0], start_second = r.ticks_of(50)[0];
    // The pause keeps (about) its length: 50 ticks, +-3 for silence adjustments.
    EXPECT_NEAR(static_cast<double>(start_second - end_first - 1), 50.0, 3.0);
    // Before the talkspurt shows the gap was DTX, it may be concealed for at most
    // max_conceal_ms (100 ms) plus a tick; after that it is silence.
    std::size_t concealed = 0;
    for (std::size_t k = end_first + 1; k < start_second; ++k) {
        EXPECT_TRUE(r.ticks[k] == silence || r.ticks[k] == concealment) << "tick " << k << " = " << r.ticks[k];
        if (r.ticks[k] == concealment) ++concealed;
        if (k > end_first + 6) {
            EXPECT_EQ(r.ticks[k], silence) << "tick " << k;
        }
    }
    EXPECT_LE(concealed, 6u);
    const auto& s = jb->stats();
    EXPECT_EQ(s.packets_lost, 0u);
    EXPECT_EQ(s.packets_late, 0u);
    EXPECT_EQ(s.packets_decoded, 100u);
}

TEST(JitterBuffer, BadPayloadsAreRejectedAndTheStreamContinues) {
    frame_decoder d;
    auto jb = make(fixed_config(), d);
    auto packets = stream(60);
    packets[20].payload.clear();                                              // empty
    packets[30].payload.assign(jb->config().max_payload_bytes + 1, 0x55);     // oversize
    packets[40].payload = {1, 2, 3};                                          // the decoder refuses it
    const replay r = run(*jb, packets, 70);
    ASSERT_EQ(r.insert_results.size(), 60u);
    EXPECT_EQ(r.insert_results[20], status::malformed);
    EXPECT_EQ(r.insert_results[30], status::buffer_too_small);
    EXPECT_EQ(r.insert_results[40], status::malformed);
    std::size_t ok = 0;
    for (const status st : r.insert_results) ok += st == status::ok ? 1 : 0;
    EXPECT_EQ(ok, 57u);
    expect_plays_in_order(r, 0, 60, {20, 30, 40});
    for (const std::uint32_t f : {20u, 30u, 40u}) EXPECT_EQ(r.ticks[r.ticks_of(f - 1)[0] + 1], concealment) << f;
    const auto& s = jb->stats();
    EXPECT_EQ(r.stats_at(59).concealed_samples, 3 * frame);
    EXPECT_EQ(s.packets_rejected, 3u);
    EXPECT_EQ(s.packets_received, 57u);
    EXPECT_EQ(s.packets_lost, 3u);
}

TEST(JitterBuffer, OpusInBandFecRecoversOneLostPacket) {
    tutti::wav_file w;
    const std::string path = std::string(TUTTI_SPEECH_DIR) + "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";
    if (tutti::read_wav_file(path, w) != status::ok || w.sample_rate_hz != 16000 || w.channels != 1)
        GTEST_SKIP() << "pocketsphinx-testdata not installed in " << TUTTI_SPEECH_DIR;
    tutti::opus_encoder_config ec;
    ec.sample_rate_hz = 16000;
    ec.bitrate_bps = 24000;
    ec.inband_fec = true;
    ec.expected_loss_percent = 20;
    std::unique_ptr<tutti::opus_encoder> enc;
    ASSERT_EQ(tutti::make_opus_encoder(ec, enc), status::ok);
    constexpr std::size_t n = 320, frames = 150;
    ASSERT_GE(w.samples.size(), frames * n);
    std::vector<std::vector<std::uint8_t>> payloads;
    std::vector<std::uint8_t> buf(1500);
    for (std::size_t f = 0; f < frames; ++f) {
        const std::ptrdiff_t bytes = enc->encode({w.samples.data() + f * n, n, 1}, buf);
        ASSERT_GT(bytes, 0);
        payloads.emplace_back(buf.begin(), buf.begin() + bytes);
    }
    // A speech frame whose successor carries LBRR.
    std::size_t drop = 0;
    for (std::size_t f = 60; f + 1 < frames && drop == 0; ++f) {
        tutti::opus_payload_info info;
        const float rms = tutti::measure_level({w.samples.data() + f * n, n}).rms;
        if (rms > -35.0f && tutti::parse_opus_payload(payloads[f + 1], info) == status::ok && info.lbrr) drop = f;
    }
    ASSERT_NE(drop, 0u) << "no frame with LBRR in its successor";

    std::unique_ptr<tutti::opus_decoder> dec;
    tutti::opus_decoder_config dc;
    dc.sample_rate_hz = 16000;
    ASSERT_EQ(tutti::make_opus_decoder(dc, dec), status::ok);
    tutti::jitter_buffer_config c = fixed_config();
    c.rtp_clock_hz = 48000;
    auto jb = make(c, *dec);
    ASSERT_EQ(jb->tick_frames(), n);
    std::vector<float> out(n);
    // Packet k arrives at 20 k ms; ticks at 20 k + 1 ms. Stop when the last frame has been decoded.
    for (std::size_t k = 0; jb->stats().packets_decoded + jb->stats().packets_lost < frames && k < frames + 20; ++k) {
        const auto now = static_cast<std::int64_t>(k) * tick_us;
        if (k < frames && k != drop) {
            const tutti::rtp_packet_info info{static_cast<std::uint16_t>(7 + k), static_cast<std::uint32_t>(k * 960), 9, 111, k == 0};
            ASSERT_EQ(jb->insert(info, payloads[k], now), status::ok);
        }
        ASSERT_EQ(jb->get({out.data(), n, 1}, now + 1000), status::ok);
    }
    const auto& s = jb->stats();
    EXPECT_EQ(s.fec_recovered, 1u);
    EXPECT_EQ(s.packets_lost, 1u);
    EXPECT_EQ(s.concealed_samples, 0u);
    EXPECT_EQ(s.packets_decoded, frames - 1);
    EXPECT_EQ(dec->stats().fec_recovered, 1u);
}

// Forwards to a real decoder and counts the concealment requests it refused.
class refusal_counter final : public tutti::decoder {
public:
    explicit refusal_counter(tutti::decoder& inner) : inner_(inner) {}
    tutti::audio_format format() const noexcept override { return inner_.format(); }
    std::ptrdiff_t frames_in(std::span<const std::uint8_t> p) const noexcept override { return inner_.frames_in(p); }
    std::ptrdiff_t decode(std::span<const std::uint8_t> p, tutti::interleaved_view<float> pcm) noexcept override {
        return inner_.decode(p, pcm);
    }
    std::ptrdiff_t conceal(tutti::interleaved_view<float> pcm) noexcept override {
        const std::ptrdiff_t n = inner_.conceal(pcm);
        ++calls;
        if (n < 0) ++refused;
        return n;
    }
    std::ptrdiff_t decode_fec(std::span<const std::uint8_t> p, tutti::interleaved_view<float> pcm) noexcept override {
        return inner_.decode_fec(p, pcm);
    }
    void reset() noexcept override { inner_.reset(); }
    std::size_t calls = 0, refused = 0;

private:
    tutti::decoder& inner_;
};

// libopus conceals only whole multiples of 2.5 ms (opus_decoder::conceal returns
// invalid_argument otherwise). With real speech on the jittery Wi-Fi trace the
// adaptive buffer conceals and stretches often; every concealment it asks for
// must be one the decoder accepts, or the gap is filled with something other
// than PLC (silence).
TEST(JitterBuffer, OpusConcealmentRequestsAreAccepted) {
    tutti::wav_file w;
    const std::string path = std::string(TUTTI_SPEECH_DIR) + "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";
    if (tutti::read_wav_file(path, w) != status::ok || w.sample_rate_hz != 16000 || w.channels != 1)
        GTEST_SKIP() << "pocketsphinx-testdata not installed in " << TUTTI_SPEECH_DIR;
    constexpr std::size_t n = 320, frames = 1000;  // 20 s: the 7 s utterance, looped
    std::vector<float> speech;
    while (speech.size() < frames * n) speech.insert(speech.end(), w.samples.begin(), w.samples.end());
    tutti::opus_encoder_config ec;
    ec.sample_rate_hz = 16000;
    ec.bitrate_bps = 24000;
    ec.complexity = 5;
    std::unique_ptr<tutti::opus_encoder> enc;
    ASSERT_EQ(tutti::make_opus_encoder(ec, enc), status::ok);
    std::vector<std::vector<std::uint8_t>> payloads;
    std::vector<std::uint8_t> buf(1500);
    for (std::size_t f = 0; f < frames; ++f) {
        const std::ptrdiff_t bytes = enc->encode({speech.data() + f * n, n, 1}, buf);
        ASSERT_GT(bytes, 0);
        payloads.emplace_back(buf.begin(), buf.begin() + bytes);
    }
    std::unique_ptr<tutti::opus_decoder> opus;
    tutti::opus_decoder_config dc;
    dc.sample_rate_hz = 16000;
    ASSERT_EQ(tutti::make_opus_decoder(dc, opus), status::ok);
    refusal_counter dec(*opus);
    tutti::jitter_buffer_config c;
    c.rtp_clock_hz = 48000;
    auto jb = make(c, dec);
    const auto trace = tutti_bench::make_trace("wifi", 1, frames, 48000);
    const auto arrivals = trace.arrivals();
    std::vector<float> out(n);
    std::size_t next = 0;
    for (std::int64_t now = 7300; next < arrivals.size(); now += tick_us) {
        for (; next < arrivals.size() && arrivals[next].arrival_us <= now; ++next) {
            const auto& p = trace.packets[arrivals[next].packet];
            ASSERT_EQ(jb->insert({p.sequence, p.timestamp, p.ssrc, 111, p.marker}, payloads[p.frame], arrivals[next].arrival_us), status::ok);
        }
        ASSERT_EQ(jb->get({out.data(), n, 1}, now), status::ok);
    }
    EXPECT_GT(dec.calls, 0u) << "the trace has losses: something must have been concealed";
    EXPECT_EQ(dec.refused, 0u) << "of " << dec.calls << " conceal() calls";
}

// What a 10-minute replay with the adaptive defaults did after its first 10 s.
struct drift_result {
    std::size_t violations = 0;       // ticks with delay - target outside [-20, +40] ms
    float lowest = 1e9f, highest = -1e9f;
    std::uint64_t longest_gap = 0;    // samples of the longest run of concealment/silence
    std::uint64_t gap_samples = 0;    // all concealment/silence
    std::uint64_t samples = 0;        // all output
    tutti::jitter_buffer_stats stats;
};

drift_result replay_drift(const tutti_bench::network_trace& trace) {
    drift_result r;
    frame_decoder d(frame_decoder::mode::tone);
    auto jb = make(adaptive_config(), d);
    if (!jb) return r;
    const auto arrivals = trace.arrivals();
    std::vector<float> out(frame);
    std::size_t next = 0;
    std::uint64_t run = 0;
    const std::int64_t end = trace.last_arrival_us() + 1000000;
    for (std::int64_t now = 3000; now < end; now += tick_us) {
        for (; next < arrivals.size() && arrivals[next].arrival_us <= now; ++next) {
            const auto& p = trace.packets[arrivals[next].packet];
            EXPECT_EQ(jb->insert({p.sequence, p.timestamp, p.ssrc, 0, p.marker}, payload_of(p.frame), arrivals[next].arrival_us), status::ok);
        }
        const auto before = jb->stats();
        EXPECT_EQ(jb->get({out.data(), frame, 1}, now), status::ok);
        const auto& s = jb->stats();
        if (now < 10000000 || next >= arrivals.size()) continue;  // warm-up, and the end of the stream
        r.samples += frame;
        const std::uint64_t gap = (s.concealed_samples - before.concealed_samples) + (s.silence_samples - before.silence_samples);
        r.gap_samples += gap;
        run = gap > 0 ? run + gap : 0;
        r.longest_gap = std::max(r.longest_gap, run);
        const float error = s.current_delay_ms - s.target_delay_ms;
        r.lowest = std::min(r.lowest, error);
        r.highest = std::max(r.highest, error);
        if (error < -20.0f || error > 40.0f) ++r.violations;
    }
    r.stats = jb->stats();
    return r;
}

// The same packets with the sender's clock right: each packet keeps its network
// delay, but is sent every 20.000 ms.
tutti_bench::network_trace without_drift(tutti_bench::network_trace t) {
    for (auto& p : t.packets) {
        const std::int64_t send = static_cast<std::int64_t>(p.frame) * 20000;
        p.arrival_us += send - p.send_us;
        if (p.duplicate_us >= 0) p.duplicate_us += send - p.send_us;
        p.send_us = send;
    }
    t.sender_ppm = 0.0;
    return t;
}

// A sender whose clock runs 1000 ppm fast or slow for 10 minutes (the seeded
// drift traces: 20 ms + gamma jitter of mean 2 ms, no loss): the buffer must
// neither grow nor starve. After the first 10 s the playout delay stays within
// [target - 20 ms, target + 40 ms] at every tick; there is no run of
// concealment or silence of 150 ms or more; and there is no more concealment
// than the same packets cause without the drift (+0.5 % of the output: a buffer
// that let a slow sender starve it would conceal far more, one that let a fast
// sender fill it would break the delay bound).
void drift_test(const char* scenario) {
    const auto trace = tutti_bench::make_trace(scenario, 11, 30000, rate);
    ASSERT_EQ(trace.packets.size(), 30000u);
    const drift_result r = replay_drift(trace);
    const drift_result base = replay_drift(without_drift(trace));
    EXPECT_EQ(r.violations, 0u) << scenario << ": delay - target ranged over [" << r.lowest << ", " << r.highest << "] ms";
    EXPECT_LT(r.longest_gap, 150u * rate / 1000) << scenario << ": an interruption of " << r.longest_gap * 1000 / rate << " ms";
    EXPECT_LE(static_cast<double>(r.gap_samples), static_cast<double>(base.gap_samples) + 0.005 * static_cast<double>(r.samples))
        << scenario << ": " << r.gap_samples << " samples concealed or silent, " << base.gap_samples << " without drift";
    EXPECT_GE(r.stats.packets_decoded, 30000u * 98 / 100) << scenario;
    EXPECT_EQ(r.stats.resyncs, 0u) << scenario;
    EXPECT_EQ(base.violations, 0u) << "(no drift)";
}

TEST(JitterBuffer, SenderDriftPlus1000PpmForTenMinutes) { drift_test("drift_fast"); }
// A sender 1000 ppm slow starves the buffer unless it stretches speech while
// holding a single 20 ms packet: the stretcher's 30 ms block is then the
// unplayed audio preceded by the end of what was already played.
TEST(JitterBuffer, SenderDriftMinus1000PpmForTenMinutes) { drift_test("drift_slow"); }

// Mean playout delay (the buffer's current_delay_ms) over the ticks from 10 s
// to the end of the stream, ticks starting at `phase_us`.
double mean_delay_ms(const tutti_bench::network_trace& trace, std::int64_t phase_us) {
    frame_decoder d(frame_decoder::mode::tone);
    auto jb = make(adaptive_config(), d);
    if (!jb) return 0.0;
    const auto arrivals = trace.arrivals();
    std::vector<float> out(frame);
    std::size_t next = 0;
    double sum = 0.0;
    std::size_t n = 0;
    for (std::int64_t now = phase_us; next < arrivals.size(); now += tick_us) {
        for (; next < arrivals.size() && arrivals[next].arrival_us <= now; ++next) {
            const auto& p = trace.packets[arrivals[next].packet];
            EXPECT_EQ(jb->insert({p.sequence, p.timestamp, p.ssrc, 0, p.marker}, payload_of(p.frame), arrivals[next].arrival_us), status::ok);
        }
        EXPECT_EQ(jb->get({out.data(), frame, 1}, now), status::ok);
        if (now < 10000000) continue;
        sum += jb->stats().current_delay_ms;
        ++n;
    }
    return n ? sum / static_cast<double>(n) : 0.0;
}

// Drift costs no delay. Against the tick grid, a sender 1000 ppm fast or slow
// turns its packets' phase once every 20 s: the delay at which a packet is in
// time for its tick sweeps a whole tick, so the fair comparison is the same
// packets without drift averaged over tick phases (eight, 2.5 ms apart). The
// target must follow the sweep: when each packet's need was recorded already
// rounded to the tick grid in its own phase, the quantile's memory (a few
// hundred packets, several ms of drift) held it 2 ms (fast) to 4.4 ms (slow)
// above the no-drift mean. The slow sender is allowed 1 ms more: the
// reference (the fastest packet of the last 2 s) is then up to 2 s old,
// so current_delay_ms reads up to 2 ms more than the delay above the
// fastest packet now.
TEST(JitterBuffer, DriftCostsNoDelay) {
    for (const auto& [scenario, allowed_ms] : {std::pair{"drift_fast", 1.0}, std::pair{"drift_slow", 2.0}}) {
        const auto trace = tutti_bench::make_trace(scenario, 11, 9000, rate);
        const double drift = mean_delay_ms(trace, 3000);
        double phases = 0.0;
        for (int k = 0; k < 8; ++k) phases += mean_delay_ms(without_drift(trace), 3000 + k * 2500) / 8.0;
        EXPECT_LE(drift, phases + allowed_ms) << scenario << ": " << drift << " ms with drift, " << phases << " ms without";
        EXPECT_GE(drift, phases - 2.0) << scenario << ": " << drift << " ms with drift, " << phases << " ms without";
    }
}

// A delay spike that drains (packets held up to 150 ms, then arriving all
// together): the rewind that plays the late packets puts the delay far above
// target, and the drain must take it back to the target, not stop anywhere
// inside the hysteresis band, where it would stay until the next pause. A
// 200 Hz tone (5 ms periods) with a 12 ms hysteresis.
TEST(JitterBuffer, DelaySpikeDrainsBackToTarget) {
    frame_decoder d(frame_decoder::mode::tone);
    tutti::jitter_buffer_config c = adaptive_config();
    c.hysteresis_ms = 12;
    auto jb = make(c, d);
    ASSERT_TRUE(jb);
    // Packets arrive 13 ms after sending (the delay settles at 7 ms on the
    // tick grid); those sent in the 150 ms from 8 s all arrive at 8.163 s.
    // The first of them that is at most max_rewind_ms late is 53 ms late:
    // the rewind puts the delay 53 ms above where it was. The late packets
    // needed that delay, so the target rises with them (to 27 ms) for as
    // long as the statistics hold them, about 0.5 s, and then falls back:
    // two drains, each of which must end at the target. Fast accelerate
    // takes 15 ms (three periods) at a time, which would leave a few ms
    // inside the band.
    std::vector<packet> packets = stream(900, 1000, 0, 1, 0, 13000);
    const std::int64_t spike_at = 400 * tick_us, spike_us = 150000;
    for (auto& p : packets) {
        const std::int64_t send = p.arrival_us - 13000;
        if (send >= spike_at && send < spike_at + spike_us) p.arrival_us = spike_at + spike_us + 13000;
    }
    const replay r = run(*jb, packets, 880);
    EXPECT_GT(r.stats[420].accelerate_samples, 30u * rate / 1000) << "the spike should have been drained (test premise)";
    EXPECT_NEAR(r.stats[600].target_delay_ms, r.stats[399].target_delay_ms, 0.5f) << "the spike should be forgotten after 4 s";
    // From 0.4 s after the spike on: back at the target (a drain that stops
    // inside the band leaves a whole 5 ms period here).
    for (std::size_t k = 430; k < 880; ++k) {
        const float excess = r.stats[k].current_delay_ms - r.stats[k].target_delay_ms;
        ASSERT_LT(excess, 2.5f) << "tick " << k << ": " << excess << " ms above target";
        ASSERT_GT(excess, -2.0f) << "tick " << k << ": " << -excess << " ms below target";
    }
}

// A residual above the target that speech splices cannot take (less than a
// pitch period, inside the hysteresis) is cut at the next quiet frame, to the
// sample, instead of waiting for a pause. A 140 Hz tone (57-sample periods at
// 8 kHz); packet 300 comes one tick late: it is concealed for a tick and then
// played (the delay rises by 20 ms), and the drain takes periods until the
// delay is about 1 ms off the target. From frame 400 the tone is at -49 dBov:
// quiet for the stretcher (below -40 dBov), too loud to drop as near silence
// (-55 dBov).
TEST(JitterBuffer, QuietFrameTakesTheResidualAboveTarget) {
    frame_decoder d(140.0, 400);
    auto jb = make(adaptive_config(), d);
    ASSERT_TRUE(jb);
    std::vector<packet> packets = stream(600, 1000, 0, 1, 0, 13000);
    packets[300].arrival_us += tick_us;
    const replay r = run(*jb, packets, 600);
    const auto excess = [&](std::size_t k) { return r.stats[k].current_delay_ms - r.stats[k].target_delay_ms; };
    EXPECT_GT(r.stats[310].accelerate_samples, 0u) << "the rewind should have been drained (test premise)";
    for (std::size_t k = 310; k < 400; ++k)  // the premise: a residual speech cannot take
        ASSERT_GT(std::fabs(excess(k)), 0.5f) << "tick " << k << " (test premise)";
    for (std::size_t k = 402; k < 600; ++k) ASSERT_LT(std::fabs(excess(k)), 0.13f) << "tick " << k;  // one sample
}

// A sender that sends in bursts, as ffmpeg -re does (it paces its input in
// chunks: here every 128 ms the 6 or 7 packets completed in it go out
// together) on a steady network. The first packet of each burst needs the
// most delay: up to 120 ms more than the burst's last one. (Bursts every 140
// ms, a multiple of the tick, keep one phase against the ticks and were learnt
// even before; at 128 ms the phase moves.) When it is not there at its time the
// buffer conceals and then plays it late (a rewind: the delay grows by what
// was concealed), so the delay it needed must be learnt from that rewind; a
// buffer that learns only the delay it had before the rewind keeps its target
// too low, conceals at every burst and accelerates the surplus away again.
// After 4 s of learning, no burst may be concealed (the test's tone decoder
// lets time stretching work as on speech).
TEST(JitterBuffer, BurstySenderIsLearntNotConcealedEveryBurst) {
    frame_decoder d(frame_decoder::mode::tone);
    auto jb = make(adaptive_config(), d);
    ASSERT_TRUE(jb);
    constexpr std::uint32_t count = 1050;
    constexpr std::int64_t chunk_us = 128000;
    std::vector<packet> packets = stream(count);
    for (std::uint32_t i = 0; i < count; ++i) {  // sent at the end of the chunk that completes it
        const std::int64_t done_us = static_cast<std::int64_t>(i + 1) * tick_us;
        packets[i].arrival_us = (done_us + chunk_us - 1) / chunk_us * chunk_us + 3000;
    }
    const replay r = run(*jb, packets, count + 20);
    const std::size_t from = 200, to = count - 10;  // after 4 s; before the stream ends (then the buffer conceals its tail)
    const auto& a = r.stats[from];
    const auto& b = r.stats[to];
    EXPECT_EQ(b.concealed_samples, a.concealed_samples)
        << (b.concealed_samples - a.concealed_samples) * 1000 / rate << " ms concealed in " << (to - from) * tick_us / 1000
        << " ms; target " << b.target_delay_ms << " ms, delay " << b.current_delay_ms << " ms";
    EXPECT_EQ(b.packets_late, a.packets_late);
    // The price is delay, not more than the bursts need: 120 ms, on the tick grid.
    EXPECT_LE(b.target_delay_ms, 150.0f);
}

// A lasting step up in the network's delay (a route change), larger than the
// target plus max_rewind_ms: every packet arrives after its time was concealed
// and too late to rewind to. Those packets come spaced like the stream, so the
// target learns their lateness, and packets as late as the target are played:
// the stream comes back after a few packets. It used to be dropped as late for
// 1.8 s (92 packets), until the delay reference caught up.
TEST(JitterBuffer, LastingDelayStepIsFollowedNotDroppedUntilTheReferenceMoves) {
    frame_decoder d(frame_decoder::mode::tone);
    auto jb = make(adaptive_config(), d);
    ASSERT_TRUE(jb);
    constexpr std::uint32_t count = 1000, step_at = 250;
    std::vector<packet> packets = stream(count);
    for (std::uint32_t i = step_at; i < count; ++i) packets[i].arrival_us += 150000;  // from 5 s on: 150 ms more, for good
    const replay r = run(*jb, packets, count + 20);
    const auto& before = r.stats[step_at];
    const auto& end = r.stats[count - 10];
    EXPECT_LE(end.packets_late - before.packets_late, 10u);
    std::size_t silent = 0;  // ticks of silence (concealment fades to it): the step itself is 7.5 ticks without a packet
    for (std::size_t k = step_at; k < count - 10; ++k) silent += r.ticks[k] == silence ? 1 : 0;
    EXPECT_LE(silent, 10u) << "target " << end.target_delay_ms << " ms, delay " << end.current_delay_ms << " ms";
    EXPECT_EQ(end.resyncs, before.resyncs);  // followed, not restarted
    // 2 s (the reference window) after the step the reference moves up to the
    // new path. Playout is then already 150 ms later, where the new path needs
    // it: the delay against the new reference is back at its target, and is
    // not built up a second time by stretching the tone (the history's
    // lateness was measured against the old reference and moves down with it).
    const std::size_t moved = step_at + 100 + 5;
    const auto& after_move = r.stats[moved];
    EXPECT_LE(after_move.target_delay_ms, 25.0f);
    for (std::size_t k = moved; k < count - 10; ++k) ASSERT_LE(r.stats[k].current_delay_ms, 25.0f) << "tick " << k;
    EXPECT_LE(end.stretch_samples - after_move.stretch_samples, frame);
    EXPECT_LE(end.accelerate_samples - after_move.accelerate_samples, frame);
}

// The opposite step: a route 100 ms shorter, for good. A fall of the delay
// reference by more than 2 ms waits for the next packet to be as early (a
// lone early packet may be forged); here every packet is, so the reference
// follows at the second packet and the 100 ms the buffer now holds too much
// are accelerated away within a second, not kept for the 2 s the old
// reference would stay in the window.
TEST(JitterBuffer, LastingDelayStepDownIsFollowedAtOnce) {
    frame_decoder d(frame_decoder::mode::tone);
    auto jb = make(adaptive_config(), d);
    ASSERT_TRUE(jb);
    constexpr std::uint32_t count = 600, step_at = 250;
    std::vector<packet> packets = stream(count);
    for (std::uint32_t i = 0; i < step_at; ++i) packets[i].arrival_us += 100000;  // the long route until 5 s
    const replay r = run(*jb, packets, count + 20);
    const auto& before = r.stats[step_at];
    const std::size_t settled = step_at + 5 + 50;  // 1 s after the step
    for (std::size_t k = settled; k < count; ++k) ASSERT_LE(r.stats[k].current_delay_ms, r.stats[k].target_delay_ms + 6.0f) << "tick " << k;
    EXPECT_EQ(r.stats[count].packets_late, before.packets_late);
    EXPECT_EQ(r.stats[count].resyncs, before.resyncs);
    EXPECT_GE(r.stats[settled].accelerate_samples + r.stats[settled].silence_skipped_samples, before.accelerate_samples + before.silence_skipped_samples + 700u);
}

// Packets that are not a multiple of the tick (30 ms on 20 ms ticks: iLBC,
// or G.711 at ptime 30) start at two phases against the ticks, shorter ones
// at several. On a clean network one steady delay serves every phase: nothing
// concealed, stretched or cut. (A target for the next packet's phase alone
// swung between two grid points and concealed 14 % of a 30 ms stream.)
TEST(JitterBuffer, PacketsOfAnyLengthPlayWithoutConcealmentOnACleanNetwork) {
    for (std::uint32_t ptime_ms : {10u, 30u, 40u, 60u}) {
        for (std::int64_t phase_us : {0, 3000, 7000, 11000, 17000}) {
            const std::uint32_t n = 8 * ptime_ms;  // samples (and bytes) per packet at 8 kHz
            auto dec = tutti::make_g711_decoder(tutti::g711_law::mu_law, ptime_ms * 1000);
            auto jb = make(adaptive_config(), *dec);
            ASSERT_TRUE(jb);
            std::uint32_t rng = 1;
            auto next_random = [&rng] { return rng = rng * 1664525u + 1013904223u; };
            std::vector<std::uint8_t> payload(n);
            std::vector<float> out(frame);
            const std::uint32_t count = 10000 / ptime_ms;  // 10 s
            std::uint32_t sent = 0;
            std::int64_t arrival = 0;
            for (std::int64_t now = 0; sent + 3 < count; now += tick_us) {  // (stops with packets in hand: nothing concealed past the end)
                for (; sent < count && (arrival = phase_us + std::int64_t{sent} * ptime_ms * 1000 + 800 + next_random() % 400) <= now; ++sent) {
                    for (auto& b : payload) b = static_cast<std::uint8_t>(0x90 + (next_random() >> 28));  // loud noise
                    ASSERT_EQ(jb->insert({static_cast<std::uint16_t>(sent), sent * n, 1, 0, sent == 0}, payload, arrival), status::ok);
                }
                ASSERT_EQ(jb->get({out.data(), frame, 1}, now), status::ok);
            }
            const auto& st = jb->stats();
            EXPECT_EQ(st.concealed_samples, 0u) << ptime_ms << " ms packets, phase " << phase_us << " us";
            EXPECT_EQ(st.accelerate_samples + st.stretch_samples, 0u) << ptime_ms << " ms packets, phase " << phase_us << " us";
            EXPECT_EQ(st.packets_late, 0u) << ptime_ms << " ms packets, phase " << phase_us << " us";
            EXPECT_LE(st.current_delay_ms, 21.0f) << ptime_ms << " ms packets, phase " << phase_us << " us";  // at most a tick and the jitter
        }
    }
}

TEST(JitterBuffer, InsertAndGetDoNotAllocate) {
    frame_decoder d;
    auto jb = make(adaptive_config(), d);
    // 5000 packets of the Wi-Fi trace (jitter, loss, duplicates, reordering) and 5000 ticks.
    const auto trace = tutti_bench::make_trace("wifi", 5, 5200, rate);
    auto arrivals = trace.arrivals();
    std::vector<std::vector<std::uint8_t>> payloads;
    for (std::uint32_t f = 0; f < 5200; ++f) payloads.push_back(payload_of(f));
    std::vector<float> out(frame);
    std::size_t inserts = 0, gets = 0, next = 0;
    tutti_test::alloc_counter counter;
    for (std::int64_t now = 0; inserts < 5000 || gets < 5000; now += tick_us) {
        for (; next < arrivals.size() && arrivals[next].arrival_us <= now && inserts < 5000; ++next, ++inserts) {
            const auto& p = trace.packets[arrivals[next].packet];
            (void)jb->insert({p.sequence, p.timestamp, p.ssrc, 0, p.marker}, payloads[p.frame], arrivals[next].arrival_us);
        }
        if (gets < 5000) {
            (void)jb->get({out.data(), frame, 1}, now);
            ++gets;
        }
    }
    EXPECT_EQ(counter.count(), 0u);
    EXPECT_EQ(inserts + gets, 10000u);
    EXPECT_GT(jb->stats().packets_decoded, 4500u);
}

// The generator itself: deterministic, and the scenarios have the properties
// the evaluation relies on.
TEST(NetworkTrace, SeededAndDeterministic) {
    for (const auto& sc : tutti_bench::scenarios()) {
        const auto a = tutti_bench::make_trace(sc.name, 3, 3000);
        const auto b = tutti_bench::make_trace(sc.name, 3, 3000);
        const auto c = tutti_bench::make_trace(sc.name, 4, 3000);
        ASSERT_EQ(a.packets.size(), b.packets.size()) << sc.name;
        bool same = true, differs = a.packets.size() != c.packets.size();
        for (std::size_t i = 0; i < a.packets.size(); ++i) {
            same = same && a.packets[i].arrival_us == b.packets[i].arrival_us && a.packets[i].lost == b.packets[i].lost &&
                   a.packets[i].sequence == b.packets[i].sequence;
            if (i < c.packets.size()) differs = differs || a.packets[i].arrival_us != c.packets[i].arrival_us;
        }
        EXPECT_TRUE(same) << sc.name;
        EXPECT_TRUE(differs) << sc.name;
    }
    EXPECT_TRUE(tutti_bench::make_trace("no_such_scenario", 1, 100).packets.empty());
}

TEST(NetworkTrace, ScenarioProperties) {
    const auto lan = tutti_bench::make_trace("clean_lan", 1, 3000);
    EXPECT_EQ(lan.lost_count(), 0u);
    EXPECT_EQ(lan.reordered_count(), 0u);
    EXPECT_GE(lan.min_delay_us(), 300);
    const auto wifi = tutti_bench::make_trace("wifi", 1, 30000);
    EXPECT_NEAR(static_cast<double>(wifi.lost_count()) / 30000.0, 0.01, 0.003);
    EXPECT_NEAR(static_cast<double>(wifi.duplicate_count()) / 30000.0, 0.005, 0.002);
    EXPECT_GT(wifi.reordered_count(), 0u);
    const auto ge = tutti_bench::make_trace("heavy_tail", 1, 30000);
    EXPECT_NEAR(static_cast<double>(ge.lost_count()) / 30000.0, 0.0625, 0.015);
    const auto fast = tutti_bench::make_trace("drift_fast", 1, 30000);
    const auto slow = tutti_bench::make_trace("drift_slow", 1, 30000);
    // 10 minutes of audio sent 0.6 s sooner / later.
    EXPECT_NEAR(static_cast<double>(fast.packets.back().send_us - slow.packets.back().send_us), -1.2e6, 1e3);
    const auto g = tutti_bench::make_trace("g1050_mix", 1, 3000);
    std::size_t outage = 0;
    for (const auto& p : g.packets) outage += p.lost && p.send_us >= 45000000 && p.send_us < 47000000 ? 1 : 0;
    EXPECT_EQ(outage, 100u);
    const auto dtx = tutti_bench::make_trace("dtx_talkspurts", 1, 3000);
    EXPECT_LT(dtx.packets.size(), 2400u);
    std::size_t markers = 0;
    for (std::size_t i = 1; i < dtx.packets.size(); ++i) {
        const auto& p = dtx.packets[i];
        EXPECT_EQ(static_cast<std::uint16_t>(dtx.packets[i - 1].sequence + 1), p.sequence);
        EXPECT_EQ(p.marker, p.frame != dtx.packets[i - 1].frame + 1);
        markers += p.marker ? 1 : 0;
    }
    EXPECT_GT(markers, 10u);
}

}  // namespace
