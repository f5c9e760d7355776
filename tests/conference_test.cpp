// The conference room end to end: real speech through real codecs, mix-minus,
// mixed codecs, real-time rules (no allocation in tick, control calls from
// other threads).
#include "tutti/conference.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
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

namespace {

using namespace tutti;

const char* const speech_files[] = {
    "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
};

// 16 kHz speech at -26 dBov RMS (so talkers are equally loud), resampled to `rate`.
std::vector<float> speech(int index, std::uint32_t rate) {
    wav_file w;
    EXPECT_EQ(read_wav_file(std::string(TUTTI_SPEECH_DIR) + speech_files[index], w), status::ok);
    const float rms = std::sqrt(sum_squares(w.samples.data(), w.samples.size()) / static_cast<float>(w.samples.size()));
    for (float& x : w.samples) x *= 0.05f / rms;
    if (rate == 16000) return w.samples;
    std::unique_ptr<resampler> rs;
    EXPECT_EQ(resampler::create(16000, rate, 1, rs), status::ok);
    std::vector<float> out(w.samples.size() * rate / 16000 + 64);
    const std::size_t chunk = 320;
    std::size_t written = 0;
    for (std::size_t i = 0; i + chunk <= w.samples.size(); i += chunk) {
        const auto n = rs->process(interleaved_view<const float>(w.samples.data() + i, chunk, 1),
                                   interleaved_view<float>(out.data() + written, out.size() - written, 1));
        written += static_cast<std::size_t>(std::max<std::ptrdiff_t>(n, 0));
    }
    out.resize(written);
    return out;
}

// Normalised cross-correlation of a and b at one lag (b delayed by `lag`).
double correlation_at(const std::vector<float>& a, const std::vector<float>& b, std::size_t lag) {
    double ab = 0, aa = 0, bb = 0;
    const std::size_t n = std::min(a.size(), b.size() > lag ? b.size() - lag : 0);
    for (std::size_t i = 0; i < n; ++i) {
        ab += double(a[i]) * b[i + lag];
        aa += double(a[i]) * a[i];
        bb += double(b[i + lag]) * b[i + lag];
    }
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

// Largest normalised cross-correlation over lags 0..max_lag: a coarse search
// every 4 lags, then every lag around the best (speech is smooth enough).
double max_correlation(const std::vector<float>& a, const std::vector<float>& b, std::size_t max_lag) {
    double best = 0;
    std::size_t best_lag = 0;
    for (std::size_t lag = 0; lag <= max_lag; lag += 4) {
        const double c = correlation_at(a, b, lag);
        if (c > best) best = c, best_lag = lag;
    }
    for (std::size_t lag = best_lag > 4 ? best_lag - 4 : 0; lag <= best_lag + 4; ++lag) best = std::max(best, correlation_at(a, b, lag));
    return best;
}

// The first `n` samples of `v` (all of it when shorter).
std::vector<float> head(const std::vector<float>& v, std::size_t n) {
    return std::vector<float>(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(n, v.size())));
}

struct pcm_person {
    participant_id id = 0;
    std::vector<float> voice;
    std::vector<float> heard;
};

// Runs PCM participants through `ticks` ticks of 20 ms.
void run_pcm(room& r, std::vector<pcm_person>& people, std::uint32_t rate, std::size_t ticks) {
    const std::size_t n = rate / 50;
    std::vector<std::int16_t> in(n), out(n);
    std::vector<float> f(n);
    for (std::size_t t = 0; t < ticks; ++t) {
        for (auto& p : people) {
            for (std::size_t i = 0; i < n; ++i) f[i] = t * n + i < p.voice.size() ? p.voice[t * n + i] : 0.0f;
            float_to_s16(f.data(), in.data(), n);
            ASSERT_EQ(r.push_pcm(p.id, interleaved_view<const std::int16_t>(in.data(), n, 1)), status::ok);
        }
        ASSERT_EQ(r.tick(static_cast<std::int64_t>(t) * 20000), status::ok);
        for (auto& p : people) {
            ASSERT_EQ(r.pull_pcm(p.id, interleaved_view<std::int16_t>(out.data(), n, 1)), static_cast<std::ptrdiff_t>(n));
            s16_to_float(out.data(), f.data(), n);
            p.heard.insert(p.heard.end(), f.begin(), f.end());
        }
    }
}

TEST(Conference, MixMinusEachHearsEveryoneElseNotItself) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.mixing_rate_hz = 16000}, r), status::ok);
    std::vector<pcm_person> people(3);
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, people[i].id), status::ok);
        people[i].voice = speech(i, 16000);
    }
    run_pcm(*r, people, 16000, 250);  // 5 s
    for (int listener = 0; listener < 3; ++listener)
        for (int talker = 0; talker < 3; ++talker) {
            const std::vector<float> v = head(people[talker].voice, 16000 * 5);
            const double c = max_correlation(v, people[listener].heard, 400);
            if (listener == talker) EXPECT_LT(c, 0.1) << listener << " hears itself";
            else EXPECT_GT(c, 0.45) << listener << " does not hear " << talker;
        }
    participant_stats s;
    ASSERT_EQ(r->get_participant_stats(people[0].id, s), status::ok);
    EXPECT_GT(s.talk_ticks, 100u);
}

TEST(Conference, MutedIsHeardByNobodyDeafHearsNothingRelationsHold) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.mixing_rate_hz = 16000}, r), status::ok);
    std::vector<pcm_person> people(3);
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, people[i].id), status::ok);
        people[i].voice = speech(i, 16000);
    }
    ASSERT_EQ(r->set_muted(people[0].id, true), status::ok);
    ASSERT_EQ(r->set_deaf(people[1].id, true), status::ok);
    ASSERT_EQ(r->set_hears(people[2].id, people[1].id, false), status::ok);
    run_pcm(*r, people, 16000, 150);
    const auto v = [&](int i) { return head(people[i].voice, 16000 * 3); };
    EXPECT_LT(max_correlation(v(0), people[1].heard, 400), 0.1);  // nobody hears the muted one
    EXPECT_LT(max_correlation(v(0), people[2].heard, 400), 0.1);
    double deaf_energy = 0;
    for (float x : people[1].heard) deaf_energy += double(x) * x;
    EXPECT_EQ(deaf_energy, 0.0);                                   // the deaf one hears nothing
    EXPECT_LT(max_correlation(v(1), people[2].heard, 400), 0.1);   // 2 does not hear 1
    EXPECT_GT(max_correlation(v(1), people[0].heard, 400), 0.5);   // 0 does
    EXPECT_EQ(r->set_hears(people[2].id, people[2].id, false), status::invalid_argument);
    EXPECT_EQ(r->set_muted(12345, true), status::not_found);
}

// An RTP client: encodes its speech with its codec and sends packets; decodes what it gets.
struct rtp_client {
    participant_id id = 0;
    sdp_format format;
    std::unique_ptr<encoder> enc;
    std::unique_ptr<decoder> dec;
    rtp_packetizer packetizer;
    std::vector<float> voice;  // at the codec rate
    std::vector<float> heard;  // decoded, at the codec rate
    std::size_t sent = 0;
};

sdp_format fmt(std::uint8_t pt, const char* name, std::uint32_t clock, std::uint16_t ch = 1) {
    sdp_format f;
    f.payload_type = pt;
    f.encoding_name = name;
    f.clock_rate_hz = clock;
    f.channels = ch;
    return f;
}

TEST(Conference, MixedCodecsEveryoneHearsEveryone) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.loudest_n = 4}, r), status::ok);  // automatic mixing rate, all four mixed
    const codec_registry codecs = codec_registry::with_builtin_codecs();
    std::vector<rtp_client> clients(3);
    clients[0].format = fmt(111, "opus", 48000, 2);
    clients[1].format = fmt(9, "G722", 8000);
    clients[2].format = fmt(0, "PCMU", 8000);
    for (std::size_t i = 0; i < clients.size(); ++i) {
        auto& c = clients[i];
        ASSERT_EQ(codecs.make_encoder(c.format, {}, c.enc), status::ok);
        ASSERT_EQ(codecs.make_decoder(c.format, {}, c.dec), status::ok);
        rtp_packetizer_config out_stream;
        out_stream.ssrc = 1000 + static_cast<std::uint32_t>(i);
        out_stream.payload_type = c.format.payload_type;
        out_stream.clock_rate_hz = c.format.clock_rate_hz;
        out_stream.seed = 7;
        ASSERT_EQ(c.packetizer.init(out_stream), status::ok);
        rtp_participant_config pc;
        pc.receive = pc.send = c.format;
        pc.ssrc = 2000 + static_cast<std::uint32_t>(i);
        std::string error;
        ASSERT_EQ(r->join_rtp(pc, c.id, &error), status::ok) << error;
        c.voice = speech(static_cast<int>(i), c.enc->format().sample_rate_hz);
    }
    // A PCM participant at 16 kHz too.
    pcm_person pcm;
    ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, pcm.id), status::ok);
    pcm.voice = speech(3, 16000);

    std::vector<std::uint8_t> payload(1500), packet(1500);
    std::vector<float> frame(1920), pcmf(320);
    std::vector<std::int16_t> pcm16(320);
    const std::size_t ticks = 300;
    for (std::size_t t = 0; t < ticks; ++t) {
        const std::int64_t now = static_cast<std::int64_t>(t) * 20000;
        for (auto& c : clients) {
            const auto f = c.enc->format();
            const std::size_t n = f.frame_samples();
            for (std::size_t k = 0; k < n * f.channels; ++k) {
                const std::size_t i = t * n + k / f.channels;
                frame[k] = i < c.voice.size() ? c.voice[i] : 0.0f;
            }
            const auto bytes = c.enc->encode(interleaved_view<const float>(frame.data(), n, f.channels), payload);
            ASSERT_GT(bytes, 0);
            const auto plen = c.packetizer.packetize({payload.data(), static_cast<std::size_t>(bytes)},
                                                     static_cast<std::uint32_t>(c.format.clock_rate_hz / 50), false, packet);
            ASSERT_GT(plen, 0);
            ASSERT_EQ(r->push_rtp(c.id, {packet.data(), static_cast<std::size_t>(plen)}, now + 3000), status::ok);
        }
        for (std::size_t i = 0; i < 320; ++i) pcmf[i] = t * 320 + i < pcm.voice.size() ? pcm.voice[t * 320 + i] : 0.0f;
        float_to_s16(pcmf.data(), pcm16.data(), 320);
        ASSERT_EQ(r->push_pcm(pcm.id, interleaved_view<const std::int16_t>(pcm16.data(), 320, 1)), status::ok);
        ASSERT_EQ(r->tick(now + 20000), status::ok);
        for (auto& c : clients) {
            for (;;) {
                const auto n = r->pull_rtp(c.id, packet);
                ASSERT_GE(n, 0);
                if (n == 0) break;
                rtp_packet_view view;
                ASSERT_EQ(parse_rtp({packet.data(), static_cast<std::size_t>(n)}, view), rtp_parse_result::ok);
                const auto f = c.dec->format();
                std::vector<float> out(5760 * f.channels);
                const auto got = c.dec->decode(view.payload(), interleaved_view<float>(out.data(), 5760, f.channels));
                ASSERT_GT(got, 0);
                for (std::ptrdiff_t k = 0; k < got; ++k) c.heard.push_back(out[static_cast<std::size_t>(k) * f.channels]);
            }
        }
        ASSERT_EQ(r->pull_pcm(pcm.id, interleaved_view<std::int16_t>(pcm16.data(), 320, 1)), 320);
        s16_to_float(pcm16.data(), pcmf.data(), 320);
        pcm.heard.insert(pcm.heard.end(), pcmf.begin(), pcmf.end());
    }
    EXPECT_EQ(r->stats().mixing_rate_hz, 48000u);
    // Compare at 8 kHz: everything resampled down to the narrowest codec.
    auto at8k = [](const std::vector<float>& x, std::uint32_t rate) {
        if (rate == 8000) return x;
        std::unique_ptr<resampler> rs;
        EXPECT_EQ(resampler::create(rate, 8000, 1, rs), status::ok);
        std::vector<float> out(x.size() * 8000 / rate + 64);
        const std::size_t chunk = rate / 50;
        std::size_t w = 0;
        for (std::size_t i = 0; i + chunk <= x.size(); i += chunk)
            w += static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, rs->process(interleaved_view<const float>(x.data() + i, chunk, 1),
                                                                                  interleaved_view<float>(out.data() + w, out.size() - w, 1))));
        out.resize(w);
        return out;
    };
    std::vector<std::vector<float>> voices, heard;
    for (auto& c : clients) {
        voices.push_back(at8k(c.voice, c.enc->format().sample_rate_hz));
        heard.push_back(at8k(c.heard, c.dec->format().sample_rate_hz));
    }
    voices.push_back(at8k(pcm.voice, 16000));
    heard.push_back(at8k(pcm.heard, 16000));
    const std::size_t seconds = 5 * 8000;
    for (std::size_t l = 0; l < heard.size(); ++l)
        for (std::size_t t = 0; t < voices.size(); ++t) {
            const std::vector<float> v = head(voices[t], seconds);
            const double c = max_correlation(v, heard[l], 1200);  // up to 150 ms of path delay
            if (l == t) EXPECT_LT(c, 0.15) << l << " hears itself";
            else EXPECT_GT(c, 0.3) << l << " does not hear " << t;
        }
}

TEST(Conference, TickNeverAllocatesWithJoinsAndLeavesBetween) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.mixing_rate_hz = 16000, .max_participants = 16}, r), status::ok);
    std::vector<pcm_person> people(4);
    for (int i = 0; i < 4; ++i) {
        ASSERT_EQ(r->join_pcm({.sample_rate_hz = i % 2 ? 8000u : 16000u, .channels = 1}, people[i].id), status::ok);
        people[i].voice = speech(i, 16000);
    }
    std::vector<std::int16_t> in(320), out(320);
    std::uint64_t tick_allocations = 0;
    participant_id extra = 0;
    for (int t = 0; t < 3000; ++t) {
        if (t % 50 == 10) {  // join and leave between ticks (allocation allowed there)
            if (extra) {
                ASSERT_EQ(r->leave(extra), status::ok);
            }
            ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, extra), status::ok);
        }
        for (auto& p : people) {
            const std::size_t n = p.id == people[1].id || p.id == people[3].id ? 160 : 320;
            for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<std::int16_t>(p.voice[(t * n + i) % p.voice.size()] * 20000);
            (void)r->push_pcm(p.id, interleaved_view<const std::int16_t>(in.data(), n, 1));
        }
        tutti_test::alloc_counter counter;
        ASSERT_EQ(r->tick(t * 20000), status::ok);
        tick_allocations += counter.count();
        for (auto& p : people) {
            const std::size_t n = p.id == people[1].id || p.id == people[3].id ? 160 : 320;
            (void)r->pull_pcm(p.id, interleaved_view<std::int16_t>(out.data(), n, 1));
        }
        if (extra) (void)r->pull_pcm(extra, interleaved_view<std::int16_t>(out.data(), 320, 1));
        room_event events[64];
        while (r->poll_events(events) > 0) {
        }
    }
    EXPECT_EQ(tick_allocations, 0u);
    EXPECT_EQ(r->stats().ticks, 3000u);
}

TEST(Conference, ControlCallsFromAnotherThreadWhileTicking) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.mixing_rate_hz = 16000, .max_participants = 32}, r), status::ok);
    std::vector<participant_id> steady(3);
    for (auto& id : steady) ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, id), status::ok);
    std::atomic<bool> stop{false};
    std::atomic<int> joins{0};
    std::thread control([&] {
        std::vector<participant_id> mine;
        for (int i = 0; !stop.load(); ++i) {
            participant_id id = 0;
            if (r->join_pcm({.sample_rate_hz = i % 2 ? 8000u : 16000u, .channels = 1}, id) == status::ok) {
                mine.push_back(id);
                ++joins;
            }
            (void)r->set_input_gain(steady[static_cast<std::size_t>(i) % 3], 0.5f + 0.1f * static_cast<float>(i % 5));
            (void)r->set_hears(steady[0], steady[1], i % 2 == 0);
            if (mine.size() > 5) {
                EXPECT_EQ(r->leave(mine.front()), status::ok);
                mine.erase(mine.begin());
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        for (auto id : mine) (void)r->leave(id);
    });
    std::vector<std::int16_t> frame(320, 1000), out(320);
    for (int t = 0; t < 10000; ++t) {
        for (auto id : steady) ASSERT_EQ(r->push_pcm(id, interleaved_view<const std::int16_t>(frame.data(), 320, 1)), status::ok);
        ASSERT_EQ(r->tick(t * 20000), status::ok);
        for (auto id : steady) ASSERT_EQ(r->pull_pcm(id, interleaved_view<std::int16_t>(out.data(), 320, 1)), 320);
        room_event events[64];
        while (r->poll_events(events) > 0) {
        }
    }
    stop = true;
    control.join();
    for (int t = 0; t < 5; ++t) ASSERT_EQ(r->tick(t), status::ok);
    EXPECT_GT(joins.load(), 10);
    EXPECT_EQ(r->stats().participants, 3u);
}

}  // namespace
