// Tests of the room's capacity features (issue 6): shared encoders against
// per-participant encoding, the seam when a listener moves between them,
// no decoding of silent participants, and thread-count independence.
// Real speech through real codecs (Opus 48 kHz; PCMU and G.722 beside it).
#include "tutti/conference.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"
#include "tutti/codec_registry.hpp"
#include "tutti/kernels.hpp"
#include "tutti/resampler.hpp"
#include "tutti/rtp.hpp"
#include "tutti/rtp_packetizer.hpp"
#include "tutti/wav.hpp"
#include "tutti/worker_pool.hpp"

namespace {

using namespace tutti;

const char* const speech_files[] = {
    "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
};

// Speech at -26 dBov RMS at `rate`, `seconds` long (zero-padded).
std::vector<float> speech(int index, std::uint32_t rate, double seconds) {
    wav_file w;
    EXPECT_EQ(read_wav_file(std::string(TUTTI_SPEECH_DIR) + speech_files[index], w), status::ok);
    const float rms = std::sqrt(sum_squares(w.samples.data(), w.samples.size()) / static_cast<float>(w.samples.size()));
    for (float& x : w.samples) x *= 0.05f / rms;
    std::vector<float> out(static_cast<std::size_t>(seconds * rate), 0.0f);
    std::unique_ptr<resampler> rs;
    EXPECT_EQ(resampler::create(16000, rate, 1, rs), status::ok);
    std::size_t written = 0;
    for (std::size_t i = 0; i + 320 <= w.samples.size() && written < out.size(); i += 320) {
        const auto n = rs->process(interleaved_view<const float>(w.samples.data() + i, 320, 1),
                                   interleaved_view<float>(out.data() + written, out.size() - written, 1));
        written += static_cast<std::size_t>(std::max<std::ptrdiff_t>(n, 0));
    }
    return out;
}

sdp_format fmt(std::uint8_t pt, const char* name, std::uint32_t clock, std::uint16_t ch = 1) {
    sdp_format f;
    f.payload_type = pt;
    f.encoding_name = name;
    f.clock_rate_hz = clock;
    f.channels = ch;
    return f;
}

// A remote endpoint: sends its voice as RTP (with an honest RFC 6464 level),
// keeps every payload the room sent it.
struct client {
    participant_id id = 0;
    sdp_format format;
    std::unique_ptr<encoder> enc;
    rtp_packetizer packetizer;
    std::vector<float> voice;  // at the codec rate; empty: silence
    std::vector<std::vector<std::uint8_t>> received;  // payloads, in order
    std::vector<std::uint64_t> received_tick;         // the tick each came in
    std::vector<std::uint64_t> switches;              // encoder_switches after each tick
    participant_stats stats;                          // after the last tick
};

struct scenario {
    std::size_t talkers = 3;
    std::size_t listeners = 5;
    std::size_t ticks = 400;  // 8 s
    bool dtx = false;         // clients use Opus DTX
    bool levels = true;       // clients send RFC 6464 levels
    bool pcmu = false;        // PCMU at 8 kHz (20 ms) instead of Opus at 48 kHz
    std::size_t talker_stride = 1;  // talker k is client k * talker_stride (spreads them over a big room)
    double talker_offset_s = 1.5;   // talker k starts at k * talker_offset_s
    bool one_voice = false;         // every talker reads the same recording
    std::size_t frame() const { return pcmu ? 160 : 960; }  // samples per tick
    bool is_talker(std::size_t i) const { return i % talker_stride == 0 && i / talker_stride < talkers; }
};

// Runs one room over the scenario; the same packets reach every room run with
// the same scenario, so rooms that differ only in settings can be compared.
std::vector<client> run_room(const scenario& sc, room_config rc, std::vector<room_event>* events = nullptr,
                             std::uint64_t* tick_allocations = nullptr, std::vector<float>* tap = nullptr) {
    std::unique_ptr<room> r;
    EXPECT_EQ(room::create(rc, r), status::ok);
    if (tap) {
        EXPECT_EQ(r->enable_tap(true), status::ok);
    }
    const std::size_t fr = sc.frame();
    std::vector<float> tap_frame(fr);
    codec_registry codecs = codec_registry::with_builtin_codecs();
    std::vector<client> clients(sc.talkers + sc.listeners);
    for (std::size_t i = 0; i < clients.size(); ++i) {
        client& c = clients[i];
        c.format = sc.pcmu ? fmt(0, "PCMU", 8000) : fmt(111, "opus", 48000, 2);
        codec_options o;
        EXPECT_EQ(codecs.make_encoder(c.format, o, c.enc), status::ok);
        if (sc.dtx) {
            auto* oe = dynamic_cast<opus_encoder*>(c.enc.get());
            EXPECT_TRUE(oe && oe->set_dtx(true) == status::ok);
        }
        rtp_packetizer_config pc;
        pc.ssrc = 1000 + static_cast<std::uint32_t>(i);
        pc.payload_type = c.format.payload_type;
        pc.clock_rate_hz = c.format.clock_rate_hz;
        pc.audio_level_id = sc.levels ? 1 : 0;
        pc.seed = static_cast<std::uint32_t>(i);
        EXPECT_EQ(c.packetizer.init(pc), status::ok);
        rtp_participant_config jc;
        jc.receive = jc.send = c.format;
        jc.audio_level_extension_id = sc.levels ? 1 : 0;
        jc.ssrc = 2000 + static_cast<std::uint32_t>(i);
        EXPECT_EQ(r->join_rtp(jc, c.id), status::ok);
        // Talkers take turns with overlaps: talker k speaks from 1.5 k s for 4 s.
        if (sc.is_talker(i)) {
            const std::size_t k = i / sc.talker_stride;
            const std::uint32_t rate = sc.pcmu ? 8000 : 48000;
            const auto v = speech(sc.one_voice ? 0 : static_cast<int>(k), rate, 4.0);
            c.voice.assign(static_cast<std::size_t>(sc.talker_offset_s * static_cast<double>(k) * rate), 0.0f);
            c.voice.insert(c.voice.end(), v.begin(), v.end());
        }
    }
    std::vector<float> frame(fr);
    std::vector<std::uint8_t> payload(1500), packet(1500);
    std::vector<room_event> ev(256);
    std::uint64_t allocs = 0;
    for (std::size_t t = 0; t < sc.ticks; ++t) {
        const std::int64_t now = static_cast<std::int64_t>(t) * 20000;
        for (client& c : clients) {
            for (std::size_t k = 0; k < fr; ++k) frame[k] = t * fr + k < c.voice.size() ? c.voice[t * fr + k] : 0.0f;
            const auto bytes = c.enc->encode(interleaved_view<const float>(frame.data(), fr, 1), payload);
            EXPECT_GE(bytes, 0);
            if (bytes <= 0) {
                c.packetizer.skip(static_cast<std::uint32_t>(fr));
                continue;
            }
            const rtp_audio_level level{true, rfc6464_level(measure_level({frame.data(), fr}).rms)};
            const auto len =
                c.packetizer.packetize({payload.data(), static_cast<std::size_t>(bytes)}, static_cast<std::uint32_t>(fr), false, packet, level);
            EXPECT_GT(len, 0);
            EXPECT_EQ(r->push_rtp(c.id, {packet.data(), static_cast<std::size_t>(len)}, now + 500), status::ok);
        }
        const tutti_test::alloc_counter during;
        EXPECT_EQ(r->tick(now + 20000), status::ok);
        allocs += during.count();
        for (client& c : clients) {
            std::ptrdiff_t n;
            while ((n = r->pull_rtp(c.id, packet)) > 0) {
                rtp_packet_view view;
                EXPECT_EQ(parse_rtp({packet.data(), static_cast<std::size_t>(n)}, view), rtp_parse_result::ok);
                c.received.emplace_back(view.payload().begin(), view.payload().end());
                c.received_tick.push_back(t);
            }
            participant_stats s;
            EXPECT_EQ(r->get_participant_stats(c.id, s), status::ok);
            c.switches.push_back(s.encoder_switches);
            c.stats = s;
        }
        if (tap) {
            EXPECT_EQ(r->pull_tap(tap_frame), static_cast<std::ptrdiff_t>(fr));
            tap->insert(tap->end(), tap_frame.begin(), tap_frame.end());
        }
        const std::size_t k = r->poll_events(ev);
        if (events) events->insert(events->end(), ev.begin(), ev.begin() + static_cast<std::ptrdiff_t>(k));
    }
    if (tick_allocations) *tick_allocations = allocs;
    return clients;
}

// Decodes a client's received Opus payloads to 48 kHz mono (one 20 ms frame each).
std::vector<float> decode(const client& c) {
    std::unique_ptr<decoder> dec;
    EXPECT_EQ(codec_registry::with_builtin_codecs().make_decoder(c.format, {}, dec), status::ok);
    std::vector<float> out;
    std::vector<float> frame(960 * 6);
    for (const auto& p : c.received) {
        const auto n = dec->decode(p, interleaved_view<float>(frame.data(), frame.size(), 1));
        EXPECT_EQ(n, 960);
        out.insert(out.end(), frame.begin(), frame.begin() + std::max<std::ptrdiff_t>(n, 0));
    }
    return out;
}

double rms(const float* x, std::size_t n) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += double(x[i]) * x[i];
    return n ? std::sqrt(s / static_cast<double>(n)) : 0.0;
}

room_config base_config() {
    room_config rc;
    rc.mixing_rate_hz = 48000;
    rc.max_participants = 32;
    return rc;
}

}  // namespace

// Listeners who never talk get byte-identical payloads from the shared encoder
// and from their own; a talker's stream is identical up to its first move back
// to the shared encoder, and that seam is no larger than the ordinary change
// from one frame to the next of the continuous (per-participant) stream.
TEST(ConferenceCapacity, SharedEncodingMatchesPerParticipantAndSwitchesSeamlessly) {
    const scenario sc;
    room_config shared = base_config();
    room_config own = base_config();
    own.encoding = encoding_mode::per_participant;
    const auto a = run_room(sc, shared);
    const auto b = run_room(sc, own);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = sc.talkers; i < a.size(); ++i) {
        ASSERT_EQ(a[i].received.size(), b[i].received.size()) << i;
        EXPECT_GE(a[i].received.size(), sc.ticks - 2) << i;
        for (std::size_t k = 0; k < a[i].received.size(); ++k) ASSERT_EQ(a[i].received[k], b[i].received[k]) << i << " " << k;
        EXPECT_EQ(a[i].switches.back(), 0u) << "a listener that never talks never leaves the shared encoder";
    }
    std::size_t seams = 0;
    for (std::size_t i = 0; i < sc.talkers; ++i) {
        const client& x = a[i];
        const client& y = b[i];
        ASSERT_EQ(x.received.size(), y.received.size());
        EXPECT_GE(x.switches.back(), 2u) << "talker " << i << " forks its own encoder and comes back";
        // Payloads identical until the tick it came back to the shared encoder (second switch).
        std::size_t back = sc.ticks;
        for (std::size_t t = 0; t < x.switches.size(); ++t)
            if (x.switches[t] >= 2) {
                back = t;
                break;
            }
        std::size_t first_diff = x.received.size();
        for (std::size_t k = 0; k < x.received.size(); ++k)
            if (x.received[k] != y.received[k]) {
                first_diff = k;
                break;
            }
        ASSERT_LT(first_diff, x.received.size());
        EXPECT_GE(x.received_tick[first_diff], back) << "talker " << i << ": streams differ before it went back to the shared encoder";
        // Seam: the decoded difference in the two frames after each move back,
        // against the median frame-to-frame change of the continuous stream.
        const auto s = decode(x);
        const auto c = decode(y);
        ASSERT_EQ(s.size(), c.size());
        std::vector<double> change;
        for (std::size_t f = 1; f * 960 + 960 <= c.size(); ++f) {
            std::vector<float> d(960);
            for (std::size_t k = 0; k < 960; ++k) d[k] = c[f * 960 + k] - c[(f - 1) * 960 + k];
            if (rms(c.data() + f * 960, 960) > 1e-3) change.push_back(rms(d.data(), 960));  // where there is sound
        }
        std::sort(change.begin(), change.end());
        ASSERT_FALSE(change.empty());
        const double median_change = change[change.size() / 2];
        for (std::size_t t = 1; t < x.switches.size(); ++t) {
            if (x.switches[t] == x.switches[t - 1] || x.switches[t] % 2 != 0) continue;  // even: back on the shared encoder
            // The first packet the shared encoder made for it: the frame after tick t's switch.
            std::size_t k = 0;
            while (k < x.received_tick.size() && x.received_tick[k] < t) ++k;
            if (k * 960 + 2 * 960 > s.size()) continue;
            std::vector<float> e(2 * 960);
            for (std::size_t j = 0; j < e.size(); ++j) e[j] = s[k * 960 + j] - c[k * 960 + j];
            const double seam = rms(e.data(), e.size());
            const double level = rms(c.data() + k * 960, 2 * 960);
            std::printf("talker %zu back to shared at tick %zu: seam %.5f (%.1f dB under the signal), median frame-to-frame change %.5f\n",
                        i, t, seam, 20 * std::log10(std::max(level, 1e-9) / std::max(seam, 1e-9)), median_change);
            EXPECT_LE(seam, median_change);
            ++seams;
        }
    }
    EXPECT_GE(seams, 2u);
}

// Silent listeners are not decoded (DTX, their levels, or without either the
// SILK VAD flag in their Opus frames says so), and skipping never loses a
// talkspurt's start: talk_start events come at the same ticks as with every
// participant decoded, and the first 240 ms of each talkspurt sound the same
// to the listeners.
TEST(ConferenceCapacity, SilentParticipantsAreNotDecodedAndOnsetsSurvive) {
    // mode 0: (b) no DTX, RFC 6464 levels; 1: (a) DTX without levels; 2: (c) neither (the VAD flag alone);
    // 3: PCMU at 8 kHz without levels (the level read off the G.711 codes).
    for (const int mode : {0, 1, 2, 3}) {
        const bool dtx = mode == 1;
        scenario sc;
        sc.dtx = dtx;
        sc.levels = mode == 0;
        sc.pcmu = mode == 3;
        room_config skip = base_config();
        if (sc.pcmu) skip.mixing_rate_hz = 8000;
        room_config full = skip;
        full.skip_silent_decode = false;
        std::vector<room_event> ea, eb;
        std::vector<float> ha, hb;  // the room mix (tap): what listeners hear, before encoding
        const auto a = run_room(sc, skip, &ea, nullptr, &ha);
        const auto b = run_room(sc, full, &eb, nullptr, &hb);
        std::vector<std::uint64_t> starts_a, starts_b;
        for (const auto& e : ea)
            if (e.kind == room_event_kind::talk_start) starts_a.push_back(e.tick);
        for (const auto& e : eb)
            if (e.kind == room_event_kind::talk_start) starts_b.push_back(e.tick);
        EXPECT_EQ(starts_a, starts_b) << "mode " << mode;
        for (std::size_t i = sc.talkers; i < a.size(); ++i) {
            // With DTX, libopus refreshes the comfort noise every 400 ms: that packet is decoded.
            EXPECT_GE(a[i].stats.ticks_not_decoded, sc.ticks * (dtx ? 8 : 9) / 10) << "listener " << i << " mode " << mode;
            EXPECT_EQ(b[i].stats.ticks_not_decoded, 0u);
        }
        for (std::size_t i = 0; i < sc.talkers; ++i)
            std::printf("mode %d: talker %zu not decoded for %llu of %zu ticks\n", mode, i,
                        static_cast<unsigned long long>(a[i].stats.ticks_not_decoded), sc.ticks);
        EXPECT_GE(starts_a.size(), sc.talkers);
        // Listeners hear the same onsets: compare the room mix in the 240 ms
        // from each talk start (the decoder resumed on the packets the jitter
        // buffer held before the first loud one, or on its old state).
        for (std::uint64_t t : starts_b) {
            const std::size_t from = static_cast<std::size_t>(t) * sc.frame(), n = sc.frame() * 12;
            if (from + n > std::min(ha.size(), hb.size())) continue;
            std::vector<float> e(n);
            for (std::size_t j = 0; j < n; ++j) e[j] = ha[from + j] - hb[from + j];
            const double snr = 20 * std::log10(std::max(rms(hb.data() + from, n), 1e-9) / std::max(rms(e.data(), n), 1e-9));
            std::printf("mode %d: onset at tick %llu, room mix with skipping vs full decoding: %.1f dB SNR\n", mode,
                        static_cast<unsigned long long>(t), snr);
            EXPECT_GT(snr, 30.0);
        }
    }
}

// Output is bit-identical whatever the worker pool's size, and ticks with a
// pool allocate nothing.
TEST(ConferenceCapacity, OutputIndependentOfThreadCount) {
    scenario sc;
    sc.ticks = 200;
    sc.listeners = 9;
    std::uint64_t allocs = 0;
    const auto one = run_room(sc, base_config());
    for (unsigned threads : {2u, 3u}) {
        std::unique_ptr<worker_pool> pool;
        ASSERT_EQ(worker_pool::create(threads, pool), status::ok);
        room_config rc = base_config();
        rc.workers = pool.get();
        rc.profile_stages = true;
        const auto many = run_room(sc, rc, nullptr, &allocs);
        ASSERT_EQ(one.size(), many.size());
        for (std::size_t i = 0; i < one.size(); ++i) {
            ASSERT_EQ(one[i].received.size(), many[i].received.size()) << threads << " " << i;
            for (std::size_t k = 0; k < one[i].received.size(); ++k)
                ASSERT_EQ(one[i].received[k], many[i].received[k]) << threads << " threads, participant " << i << ", packet " << k;
        }
        // The first tick applies the joins (the queue hands over what the
        // control side built); after it nothing allocates.
        EXPECT_EQ(allocs, 0u) << threads;
    }
}

// A room of several input blocks (the pool runs the input pass per 128
// participants and merges the blocks' findings in order), talkers in different
// blocks: the same packets to everyone and the same events in the same order
// with 1, 2 and 3 threads as without a pool.
TEST(ConferenceCapacity, OutputAndEventsIndependentOfThreadCountAcrossBlocks) {
    scenario sc;
    sc.pcmu = true;
    sc.ticks = 300;
    sc.listeners = 300 - sc.talkers;
    sc.talker_stride = 130;    // clients 0, 130 and 260: blocks 0, 1 and 2
    sc.talker_offset_s = 0.0;  // all start together (the same words): their events come in one tick, in participant order
    sc.one_voice = true;
    room_config rc = base_config();
    rc.mixing_rate_hz = 8000;
    rc.max_participants = 320;
    std::vector<room_event> events_one;
    const auto one = run_room(sc, rc, &events_one);
    std::vector<room_event> starts;
    for (const room_event& e : events_one)
        if (e.kind == room_event_kind::talk_start) starts.push_back(e);
    ASSERT_GE(starts.size(), sc.talkers);  // every talker was heard starting ...
    ASSERT_EQ(starts[0].tick, starts[1].tick);  // ... two in the same tick, so the order across blocks is tested
    for (unsigned threads : {1u, 2u, 3u}) {
        std::unique_ptr<worker_pool> pool;
        ASSERT_EQ(worker_pool::create(threads, pool), status::ok);
        rc.workers = pool.get();
        std::vector<room_event> events_many;
        std::uint64_t allocs = 0;
        const auto many = run_room(sc, rc, &events_many, &allocs);
        ASSERT_EQ(one.size(), many.size());
        for (std::size_t i = 0; i < one.size(); ++i)
            ASSERT_EQ(one[i].received, many[i].received) << threads << " threads, participant " << i;
        ASSERT_EQ(events_one.size(), events_many.size()) << threads;
        for (std::size_t i = 0; i < events_one.size(); ++i) {
            EXPECT_EQ(events_one[i].kind, events_many[i].kind) << threads << " threads, event " << i;
            EXPECT_EQ(events_one[i].participant, events_many[i].participant) << threads << " threads, event " << i;
            EXPECT_EQ(events_one[i].tick, events_many[i].tick) << threads << " threads, event " << i;
            EXPECT_EQ(events_one[i].level_dbov, events_many[i].level_dbov) << threads << " threads, event " << i;
        }
        EXPECT_EQ(allocs, 0u) << threads;
    }
}

TEST(ConferenceCapacity, WorkerPoolRefusesBadSizes) {
    std::unique_ptr<worker_pool> pool;
    EXPECT_EQ(worker_pool::create(0, pool), status::invalid_argument);
    EXPECT_EQ(worker_pool::create(worker_pool::max_threads + 1, pool), status::invalid_argument);
    ASSERT_EQ(worker_pool::create(1, pool), status::ok);
    EXPECT_EQ(pool->threads(), 1u);
    std::vector<int> hits(1000, 0);
    pool->run(hits.size(), [](void* ctx, std::size_t i, unsigned) noexcept { ++static_cast<int*>(ctx)[i]; }, hits.data());
    EXPECT_TRUE(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
    ASSERT_EQ(worker_pool::create(2, pool), status::ok);
    for (int round = 0; round < 100; ++round)
        pool->run(hits.size(), [](void* ctx, std::size_t i, unsigned) noexcept { ++static_cast<int*>(ctx)[i]; }, hits.data());
    EXPECT_TRUE(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 101; }));
}

// The room's output job lets a listener wait for its group's encoder, an
// index below it: that needs every lower index to be run by a thread that
// does not wait for a higher one. Here every index waits for the one before
// it, the strictest such chain, with more threads than cores; a pool that ran
// a thread's claimed indices out of order, or left a lower index to a thread
// already waiting, would hang here.
TEST(ConferenceCapacity, WorkerPoolLetsAnIndexWaitForALowerOne) {
    struct chain {
        std::vector<std::atomic<bool>> done;
        std::vector<unsigned> order;  // who finished, in finishing order (written in turn: each waits for the last)
        std::atomic<std::size_t> finished{0};
    };
    for (unsigned threads : {2u, 3u, 4u}) {
        std::unique_ptr<worker_pool> pool;
        ASSERT_EQ(worker_pool::create(threads, pool), status::ok);
        for (int round = 0; round < 50; ++round) {
            chain c;
            c.done = std::vector<std::atomic<bool>>(200);
            c.order.resize(200);
            pool->run(c.done.size(), [](void* ctx, std::size_t i, unsigned) noexcept {
                chain& ch = *static_cast<chain*>(ctx);
                while (i > 0 && !ch.done[i - 1].load(std::memory_order_acquire)) std::this_thread::yield();
                ch.order[ch.finished.fetch_add(1, std::memory_order_relaxed)] = static_cast<unsigned>(i);
                ch.done[i].store(true, std::memory_order_release);
            }, &c);
            ASSERT_EQ(c.finished.load(), c.done.size()) << threads;
            for (std::size_t i = 0; i < c.order.size(); ++i) ASSERT_EQ(c.order[i], i) << threads << " threads";
        }
    }
}
