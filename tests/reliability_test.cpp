// Fault injection on a conference room (issue 9): allocation failure at every
// allocation of a join, a host whose tick comes late, twice or with its clock
// stepped back, and a participant flooding 100 × its packet rate. Each test
// runs a room that suffers the fault beside one that does not and holds the
// other participants' audio to it.
//
// A plugin that returns errors or stalls is tested in plugin_test.cpp
// (Plugin.FailingAndStallingProcessorsAreBypassedAndDisabled): bypassed after
// max_failures_in_row, disabled, and a third participant hears what it hears
// without plugins (correlation > 0.999).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "speech.hpp"
#include "tutti/codec_registry.hpp"
#include "tutti/conference.hpp"
#include "tutti/detail/buffer_heap.hpp"
#include "tutti/kernels.hpp"
#include "tutti/resampler.hpp"
#include "tutti/rtp.hpp"
#include "tutti/rtp_packetizer.hpp"
#include "tutti/wav.hpp"

namespace {

using namespace tutti;

// Buffers from plain operator new, not the buffer heap's chunks, so that every
// one of them is an allocation fail_allocation() can fail (the heap reads this
// once, at its first block; the tests below check that it did).
const bool plain_buffers = setenv("TUTTI_BUFFER_HEAP", "0", 1) == 0;

// 16 kHz speech at -26 dBov RMS, resampled to `rate`.
std::vector<float> speech(int index, std::uint32_t rate) {
    static const char* const files[] = {
        "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
        "/librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
        "/librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
    };
    std::vector<float> v = tutti_test::speech(files[index], rate);
    EXPECT_FALSE(v.empty()) << files[index];
    return v;
}

sdp_format fmt(std::uint8_t pt, const char* name, std::uint32_t clock, std::uint16_t channels = 1) {
    sdp_format f;
    f.payload_type = pt;
    f.encoding_name = name;
    f.clock_rate_hz = clock;
    f.channels = channels;
    return f;
}

double correlation(const std::vector<float>& a, const std::vector<float>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        ab += double(a[i]) * b[i];
        aa += double(a[i]) * a[i];
        bb += double(b[i]) * b[i];
    }
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

// A remote PCMU client: speech (or silence) encoded and packetized 20 ms at a time.
struct pcmu_client {
    participant_id id = 0;
    std::unique_ptr<encoder> enc;
    rtp_packetizer packetizer;
    std::vector<float> voice;  // 8 kHz, looped; empty: silence

    void init(std::uint32_t ssrc, std::vector<float> v) {
        ASSERT_EQ(codec_registry::with_builtin_codecs().make_encoder(fmt(0, "PCMU", 8000), {}, enc), status::ok);
        rtp_packetizer_config c;
        c.ssrc = ssrc;
        c.payload_type = 0;
        c.clock_rate_hz = 8000;
        c.seed = ssrc;
        ASSERT_EQ(packetizer.init(c), status::ok);
        voice = std::move(v);
    }
    // The datagram of frame `t` (20 ms each).
    std::vector<std::uint8_t> packet(std::size_t t) {
        float frame[160];
        for (std::size_t i = 0; i < 160; ++i) frame[i] = voice.empty() ? 0.0f : voice[(t * 160 + i) % voice.size()];  // looped
        std::uint8_t payload[160];
        const auto n = enc->encode(interleaved_view<const float>(frame, 160, 1), payload);
        std::vector<std::uint8_t> out(1500);
        const auto len = packetizer.packetize({payload, static_cast<std::size_t>(n)}, 160, false, out);
        out.resize(static_cast<std::size_t>(std::max<std::ptrdiff_t>(len, 0)));
        return out;
    }
};

rtp_participant_config pcmu_config(std::uint32_t ssrc) {
    rtp_participant_config pc;
    pc.receive = pc.send = fmt(0, "PCMU", 8000);
    pc.ssrc = ssrc;
    return pc;
}

// One tick of 16 kHz PCM out of the room, as float.
std::vector<float> pull16(room& r, participant_id id) {
    std::vector<std::int16_t> pcm(320);
    EXPECT_EQ(r.pull_pcm(id, interleaved_view<std::int16_t>(pcm.data(), 320, 1)), 320);
    std::vector<float> f(320);
    s16_to_float(pcm.data(), f.data(), 320);
    return f;
}

void push16(room& r, participant_id id, const std::vector<float>& voice, std::size_t t) {
    std::vector<float> f(320);
    for (std::size_t i = 0; i < 320; ++i) f[i] = t * 320 + i < voice.size() ? voice[t * 320 + i] : 0.0f;
    std::vector<std::int16_t> pcm(320);
    float_to_s16(f.data(), pcm.data(), 320);
    ASSERT_EQ(r.push_pcm(id, interleaved_view<const std::int16_t>(pcm.data(), 320, 1)), status::ok);
}

// ---------------------------------------------------------------------------
// Allocation failure during join.

// Makes the k-th allocation of `join` fail for k = 1, 2, ... until a join
// succeeds without reaching the armed failure. Each failed join must return
// out_of_memory with a message, leave no C++ allocation behind, and leave the
// room exactly as it was: a talker and a listener already in the room
// (`with`) hear sample for sample what they hear in a room that never saw the
// failed joins (`without`). Returns how many allocations the join makes.
template <class Join>
std::size_t fail_every_allocation(room& with, room& without, participant_id talker[2], participant_id listener[2],
                                  const std::vector<float>& voice, std::size_t& t, Join join) {
    std::string error;
    error.reserve(512);  // so that writing a message allocates nothing of its own
    EXPECT_TRUE(plain_buffers && !detail::get_heap_stats().pooled) << "buffers came from the pooled heap: their allocations cannot fail here";
    std::size_t k = 1;
    for (;; ++k) {
        error.clear();
        participant_id id = 0;
        const std::int64_t live_before = tutti_test::live_allocations();
        const std::uint64_t heap_before = detail::get_heap_stats().bytes_in_use;
        tutti_test::fail_allocation(k);
        const status s = join(with, id, &error);
        const bool failed = tutti_test::allocation_failed();
        tutti_test::fail_allocation(0);
        if (!failed) {
            EXPECT_EQ(s, status::ok) << "allocation " << k << ": " << error;
            break;
        }
        EXPECT_EQ(s, status::out_of_memory) << "allocation " << k << " failed: " << error;
        EXPECT_FALSE(error.empty()) << "allocation " << k;
        EXPECT_EQ(tutti_test::live_allocations(), live_before) << "allocation " << k << ": a failed join kept memory";
        EXPECT_EQ(detail::get_heap_stats().bytes_in_use, heap_before) << "allocation " << k << ": a failed join kept buffers";
        // The room goes on as if nothing had happened.
        for (room* r : {&with, &without}) {
            push16(*r, talker[r == &without], voice, t);
            EXPECT_EQ(r->tick(static_cast<std::int64_t>(t) * 20000), status::ok);
        }
        const std::vector<float> a = pull16(with, listener[0]), b = pull16(without, listener[1]);
        EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "allocation " << k << ": the room changed";
        (void)pull16(with, talker[0]);
        (void)pull16(without, talker[1]);
        EXPECT_EQ(with.stats().participants, without.stats().participants);
        ++t;
        if (::testing::Test::HasFailure()) break;  // one broken allocation is enough to read
    }
    return k - 1;
}

TEST(Reliability, AllocationFailureAtEveryAllocationOfAJoinIsCleanAndLeaksNothing) {
    std::unique_ptr<room> with, without;
    // Automatic mixing rate: a failed Opus join must not move it to 48 kHz either.
    ASSERT_EQ(room::create({.max_participants = 8}, with), status::ok);
    ASSERT_EQ(room::create({.max_participants = 8}, without), status::ok);
    participant_id talker[2], listener[2];
    for (room* r : {with.get(), without.get()}) {
        const int i = r == without.get();
        ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000}, talker[i]), status::ok);
        ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000}, listener[i]), status::ok);
    }
    const std::vector<float> voice = speech(0, 16000);
    std::size_t t = 0;
    // Opus with shared encoding: decoder, encoder, jitter buffer, resamplers for every mixing rate, and a new shared encoder.
    const std::size_t opus = fail_every_allocation(*with, *without, talker, listener, voice, t, [](room& r, participant_id& id, std::string* e) {
        return r.join_rtp([] {
            rtp_participant_config pc;
            pc.receive = pc.send = fmt(111, "opus", 48000, 2);
            return pc;
        }(), id, e);
    });
    EXPECT_GT(opus, 50u);
    ASSERT_FALSE(HasFailure());
    // The successful Opus join is in `with` only: join it in `without` too, so the rooms stay alike.
    participant_id twin = 0;
    rtp_participant_config opus_pc;
    opus_pc.receive = opus_pc.send = fmt(111, "opus", 48000, 2);
    ASSERT_EQ(without->join_rtp(opus_pc, twin), status::ok);
    const std::size_t g722 = fail_every_allocation(*with, *without, talker, listener, voice, t, [](room& r, participant_id& id, std::string* e) {
        rtp_participant_config pc;
        pc.receive = pc.send = fmt(9, "G722", 8000);
        return r.join_rtp(pc, id, e);
    });
    EXPECT_GT(g722, 20u);
    ASSERT_FALSE(HasFailure());
    rtp_participant_config g722_pc;
    g722_pc.receive = g722_pc.send = fmt(9, "G722", 8000);
    ASSERT_EQ(without->join_rtp(g722_pc, twin), status::ok);
    const std::size_t pcm = fail_every_allocation(*with, *without, talker, listener, voice, t, [](room& r, participant_id& id, std::string* e) {
        return r.join_pcm({.sample_rate_hz = 8000}, id, e);
    });
    EXPECT_GT(pcm, 10u);
    RecordProperty("allocations_opus_join", static_cast<int>(opus));
    RecordProperty("allocations_g722_join", static_cast<int>(g722));
    RecordProperty("allocations_pcm_join", static_cast<int>(pcm));
    std::printf("allocations per join: opus %zu, G.722 %zu, PCM %zu; each one failed in turn\n", opus, g722, pcm);
}

// ---------------------------------------------------------------------------
// A host whose tick() comes late, twice, or with its clock stepped back.

TEST(Reliability, LateDoubleAndBackwardTicksAreCountedAndTheRoomResyncs) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.mixing_rate_hz = 16000, .max_participants = 4}, r), status::ok);
    pcmu_client talker;
    talker.init(7, speech(1, 8000));
    ASSERT_EQ(r->join_rtp(pcmu_config(70), talker.id), status::ok);
    participant_id listener = 0;
    ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000}, listener), status::ok);

    // The talker sends a packet every 20 ms of real time, arriving 5 ms later,
    // whatever the host's tick does; the host ticks at the times in `plan`.
    std::size_t sent = 0;
    std::uint64_t pushed = 0, refused = 0;
    auto deliver_until = [&](std::int64_t now) {
        for (; static_cast<std::int64_t>(sent) * 20000 + 5000 <= now; ++sent) {
            const auto p = talker.packet(sent);
            const status s = r->push_rtp(talker.id, p, static_cast<std::int64_t>(sent) * 20000 + 5000);
            ++pushed;
            if (s == status::buffer_too_small) ++refused;
            else EXPECT_EQ(s, status::ok);
        }
    };
    std::vector<float> heard;            // everything the listener got, tick by tick
    std::vector<std::int64_t> tick_at;   // now_us of each tick
    auto tick = [&](std::int64_t now) {
        deliver_until(now);
        ASSERT_EQ(r->tick(now), status::ok);
        const auto f = pull16(*r, listener);
        heard.insert(heard.end(), f.begin(), f.end());
        tick_at.push_back(now);
    };
    auto level_at = [&](std::size_t k) { return measure_level({heard.data() + k * 320, 320}).rms; };
    // Ticks in [from, to) at which the listener hears speech, against those at
    // which the talker sent speech a tick before (packets take 5 ms, playout
    // adds a little): near 0 when the room plays what arrives, on time.
    auto mismatch = [&](std::size_t from, std::size_t to) {
        std::size_t n = 0;
        for (std::size_t k = from; k < to; ++k) {
            const std::size_t frame = static_cast<std::size_t>(tick_at[k] / 20000 - 1) * 160 % talker.voice.size();
            const bool voiced = measure_level({talker.voice.data() + frame, std::min<std::size_t>(160, talker.voice.size() - frame)}).rms > -45.0f;
            n += voiced != (level_at(k) > -45.0f) ? 1 : 0;
        }
        return static_cast<double>(n) / static_cast<double>(to - from);
    };
    std::int64_t now = 0;
    for (int i = 0; i < 150; ++i, now += 20000) tick(now);
    const double normal = mismatch(50, 150);
    EXPECT_LT(normal, 0.1);
    EXPECT_EQ(r->stats().late_ticks, 0u);
    EXPECT_EQ(r->stats().early_ticks, 0u);

    // 1. A tick 200 ms late: one tick of audio, the delay shrinks back.
    now += 180000;
    tick(now);
    now += 20000;
    const std::size_t after_late = heard.size() / 320;
    for (int i = 0; i < 100; ++i, now += 20000) tick(now);
    EXPECT_EQ(r->stats().late_ticks, 1u);
    participant_stats ps;
    ASSERT_EQ(r->get_participant_stats(talker.id, ps), status::ok);
    EXPECT_LT(ps.jitter.current_delay_ms, ps.jitter.target_delay_ms + 30.0f) << "the 180 ms the late tick added must be gone after 2 s";
    EXPECT_LT(mismatch(after_late + 50, after_late + 100), 0.1) << "plays on time again";

    // 2. The same time twice, then a step back by 40 ms: each tick still makes one tick of audio.
    const std::size_t before_double = heard.size() / 320;
    tick(now - 20000);  // same now as the previous tick
    tick(now - 60000);  // 40 ms before it
    EXPECT_EQ(r->stats().early_ticks, 2u);
    EXPECT_EQ(heard.size() / 320, before_double + 2);
    for (int i = 0; i < 100; ++i, now += 20000) tick(now);
    EXPECT_EQ(r->stats().late_ticks, 2u);  // the step forward again after the step back is > 1.5 ticks
    EXPECT_LT(mismatch(before_double + 52, before_double + 102), 0.1) << "plays on time again";

    // 3. The host stops for 5 s while packets keep arriving: the ring overflows
    // (counted; it keeps the oldest 3.4 s), the jitter buffer drops the stale
    // backlog (a restart, see jitter_buffer_config::capacity_packets) and plays
    // on time again within a second.
    std::uint64_t refused_before = refused;
    now += 5000000;
    tick(now);
    now += 20000;
    EXPECT_GT(refused, refused_before) << "5 s of packets cannot fit in the ring";
    ASSERT_EQ(r->get_participant_stats(talker.id, ps), status::ok);
    EXPECT_EQ(ps.packets_in_overflow, refused);
    EXPECT_EQ(ps.packets_in, pushed);
    const std::size_t after_stall = heard.size() / 320;
    for (int i = 0; i < 200; ++i, now += 20000) tick(now);
    EXPECT_EQ(r->stats().late_ticks, 3u);
    ASSERT_EQ(r->get_participant_stats(talker.id, ps), status::ok);
    EXPECT_LT(ps.jitter.current_delay_ms, ps.jitter.target_delay_ms + 30.0f) << "a 5 s backlog must not stay as delay";
    EXPECT_LT(mismatch(after_stall + 50, after_stall + 200), 0.1) << "plays on time again";
    // No burst of garbage at any point: never above the limiter's ceiling.
    float peak = 0;
    for (float x : heard) peak = std::max(peak, std::fabs(x));
    EXPECT_LE(peak, r->config().limiter_ceiling + 0.01f);
    std::printf("late ticks %llu, early ticks %llu, ring overflow %llu, jitter: late %llu, overflow %llu, resyncs %llu, accelerated %llu samples, silence cut %llu samples\n",
                (unsigned long long)r->stats().late_ticks, (unsigned long long)r->stats().early_ticks,
                (unsigned long long)ps.packets_in_overflow, (unsigned long long)ps.jitter.packets_late,
                (unsigned long long)ps.jitter.packets_overflow, (unsigned long long)ps.jitter.resyncs,
                (unsigned long long)ps.jitter.accelerate_samples, (unsigned long long)ps.jitter.silence_skipped_samples);
}

// ---------------------------------------------------------------------------
// A participant flooding 100 × its packet rate.

TEST(Reliability, FloodingParticipantIsCappedCountedAndOthersHearTheSame) {
    std::unique_ptr<room> rooms[2];  // [0] with the flood, [1] without
    pcmu_client talkers[2][2], flooder[2];
    participant_id listener[2] = {};
    for (int k = 0; k < 2; ++k) {
        ASSERT_EQ(room::create({.mixing_rate_hz = 16000, .max_participants = 8}, rooms[k]), status::ok);
        for (int i = 0; i < 2; ++i) {
            talkers[k][i].init(static_cast<std::uint32_t>(10 + i), speech(i, 8000));
            ASSERT_EQ(rooms[k]->join_rtp(pcmu_config(static_cast<std::uint32_t>(20 + i)), talkers[k][i].id), status::ok);
        }
        flooder[k].init(30, {});
        ASSERT_EQ(rooms[k]->join_rtp(pcmu_config(40), flooder[k].id), status::ok);
        ASSERT_EQ(rooms[k]->join_pcm({.sample_rate_hz = 16000}, listener[k]), status::ok);
    }
    std::vector<float> heard[2];
    std::uint64_t flood_pushed = 0, flood_refused = 0;
    const std::size_t ticks = 300, flood_from = 50, flood_to = 250;
    std::vector<std::uint8_t> junk(1500);
    std::uint32_t rng = 1;
    auto next = [&] { return rng = rng * 1664525u + 1013904223u; };
    for (std::size_t t = 0; t < ticks; ++t) {
        const std::int64_t now = static_cast<std::int64_t>(t) * 20000;
        for (int k = 0; k < 2; ++k) {
            room& r = *rooms[k];
            for (auto& c : talkers[k]) ASSERT_EQ(r.push_rtp(c.id, c.packet(t), now - 15000), status::ok);
            const auto own = flooder[k].packet(t);
            ASSERT_EQ(r.push_rtp(flooder[k].id, own, now - 15000), status::ok);
            if (k == 0 && t >= flood_from && t < flood_to) {
                // 99 more per 20 ms: its own packet again, under random sequence numbers and timestamps, and junk.
                for (int i = 0; i < 99; ++i) {
                    std::size_t n = own.size();
                    std::memcpy(junk.data(), own.data(), n);
                    if (i % 3 == 2) {
                        n = 20 + next() % 200;
                        for (std::size_t j = 0; j < n; ++j) junk[j] = static_cast<std::uint8_t>(next());
                    } else {
                        junk[2] = static_cast<std::uint8_t>(next());
                        junk[3] = static_cast<std::uint8_t>(next());
                        junk[4] = static_cast<std::uint8_t>(next());
                    }
                    const status s = r.push_rtp(flooder[k].id, {junk.data(), n}, now - 15000);
                    ++flood_pushed;
                    if (s == status::buffer_too_small) ++flood_refused;
                }
            }
            ASSERT_EQ(r.tick(now), status::ok);
            const auto f = pull16(r, listener[k]);
            heard[k].insert(heard[k].end(), f.begin(), f.end());
            std::vector<std::uint8_t> out(1500);
            for (auto* c : {&talkers[k][0], &talkers[k][1], &flooder[k]})
                while (r.pull_rtp(c->id, out) > 0) {
                }
        }
    }
    participant_stats fs;
    ASSERT_EQ(rooms[0]->get_participant_stats(flooder[0].id, fs), status::ok);
    // Capped: over the flood, at most the burst plus max_receive_packets_per_second were read.
    const std::uint64_t flood_ticks = flood_to - flood_from;
    const std::uint64_t read = fs.packets_in - fs.packets_in_overflow - fs.packets_rate_limited;
    EXPECT_EQ(fs.packets_in, ticks + flood_pushed);
    EXPECT_EQ(fs.packets_in_overflow, flood_refused);
    EXPECT_LE(read, ticks + max_receive_burst_packets + flood_ticks * max_receive_packets_per_second / 50);
    EXPECT_GE(fs.packets_rate_limited, flood_pushed - flood_refused - max_receive_burst_packets - flood_ticks * max_receive_packets_per_second / 50);
    EXPECT_GT(fs.packets_rate_limited, flood_ticks * 60);  // most of the 99 per tick
    // Once the flood stops, its own packets are read again.
    participant_stats other;
    ASSERT_EQ(rooms[0]->get_participant_stats(talkers[0][0].id, other), status::ok);
    EXPECT_EQ(other.packets_rate_limited, 0u);
    // The others hear exactly what they hear without the flood.
    ASSERT_EQ(heard[0].size(), heard[1].size());
    EXPECT_GT(correlation(heard[0], heard[1]), 0.999);
    float max_diff = 0;
    for (std::size_t i = 0; i < heard[0].size(); ++i) max_diff = std::max(max_diff, std::fabs(heard[0][i] - heard[1][i]));
    EXPECT_EQ(max_diff, 0.0f) << "the flooder is silent: the listener's audio should be bit-identical";
    std::printf("flood: %llu extra datagrams, %llu refused (ring full), %llu rate limited, %llu read in %llu ticks\n",
                (unsigned long long)flood_pushed, (unsigned long long)flood_refused, (unsigned long long)fs.packets_rate_limited,
                (unsigned long long)read, (unsigned long long)ticks);
}

}  // namespace
