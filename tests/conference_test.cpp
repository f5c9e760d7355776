// The conference room end to end: real speech through real codecs, mix-minus,
// mixed codecs, real-time rules (no allocation in tick, control calls from
// other threads).
#include "tutti/conference.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "alloc_counter.hpp"
#include "correlation.hpp"
#include "speech.hpp"
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
    std::vector<float> v = tutti_test::speech(speech_files[index], rate);
    EXPECT_FALSE(v.empty()) << speech_files[index];
    return v;
}

using tutti_test::correlation_at;
using tutti_test::max_correlation;

std::vector<float> head(const std::vector<float>& v, std::size_t n) {
    return std::vector<float>(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(n, v.size())));
}

struct pcm_person {
    participant_id id = 0;
    std::vector<float> voice;
    std::vector<float> heard;
};

// Runs PCM participants through `ticks` ticks of 20 ms, the first at `first_tick` * 20 ms.
void run_pcm(room& r, std::vector<pcm_person>& people, std::uint32_t rate, std::size_t ticks, std::size_t first_tick = 0) {
    const std::size_t n = rate / 50;
    std::vector<std::int16_t> in(n), out(n);
    std::vector<float> f(n);
    for (std::size_t t = 0; t < ticks; ++t) {
        for (auto& p : people) {
            for (std::size_t i = 0; i < n; ++i) f[i] = t * n + i < p.voice.size() ? p.voice[t * n + i] : 0.0f;
            float_to_s16(f.data(), in.data(), n);
            ASSERT_EQ(r.push_pcm(p.id, interleaved_view<const std::int16_t>(in.data(), n, 1)), status::ok);
        }
        ASSERT_EQ(r.tick(static_cast<std::int64_t>(first_tick + t) * 20000), status::ok);
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

// "Does not hear" lists are bounded (max_relations): a talker who leaves must
// free its place, or a long conference fills every list with the departed.
TEST(Conference, RelationsFreeTheirPlaceWhenTheTalkerLeaves) {
    std::unique_ptr<room> r;
    room_config config;
    config.mixing_rate_hz = 16000;
    config.max_relations = 2;
    ASSERT_EQ(room::create(config, r), status::ok);
    std::vector<pcm_person> people(2);
    for (auto& p : people) ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, p.id), status::ok);
    people[1].voice = speech(1, 16000);
    participant_id gone[2];
    for (auto& g : gone) {
        ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, g), status::ok);
        ASSERT_EQ(r->set_hears(people[0].id, g, false), status::ok);  // the list is now full
    }
    run_pcm(*r, people, 16000, 2);
    for (auto g : gone) ASSERT_EQ(r->leave(g), status::ok);
    run_pcm(*r, people, 16000, 5, 2);  // ramped out and gone
    EXPECT_EQ(r->set_hears(people[0].id, gone[0], false), status::not_found);  // not in the room
    ASSERT_EQ(r->set_hears(people[0].id, people[1].id, false), status::ok);
    people[0].heard.clear();
    run_pcm(*r, people, 16000, 150, 7);
    EXPECT_LT(max_correlation(head(people[1].voice, 16000 * 3), people[0].heard, 400), 0.1);  // the new entry holds
    EXPECT_EQ(r->set_hears(people[0].id, gone[0], true), status::ok);  // hearing one who left again is harmless
}

// Ids are serial * max_participants + slot + 1 in 32 bits. In the largest room
// (100000 slots) the serial passes 2^32 / 100000 after 42950 joins: the
// product used to wrap, so a later participant's id no longer named its slot
// (leave and every control call said not_found, the slot was lost) and an id
// could become 0. Found by clang-tidy (bugprone-implicit-widening-of-
// multiplication-result). Runs 43500 join/leave cycles (well under a second).
TEST(Conference, IdsStayValidAfterTheSerialWrapsInTheLargestRoom) {
    std::unique_ptr<room> r;
    room_config config;
    config.mixing_rate_hz = 8000;
    config.max_participants = 100000;
    ASSERT_EQ(room::create(config, r), status::ok);
    participant_id stays = 0;
    ASSERT_EQ(r->join_pcm({.sample_rate_hz = 8000, .channels = 1}, stays), status::ok);
    participant_id previous = stays;
    std::int64_t now_us = 0;
    for (int i = 0; i < 43500; ++i) {
        participant_id id = 0;
        ASSERT_EQ(r->join_pcm({.sample_rate_hz = 8000, .channels = 1}, id), status::ok) << "join " << i;
        ASSERT_NE(id, 0u) << "join " << i;
        ASSERT_NE(id, previous) << "join " << i;
        ASSERT_EQ(r->set_muted(id, true), status::ok) << "join " << i << " id " << id;
        ASSERT_EQ(r->leave(id), status::ok) << "join " << i << " id " << id;
        ASSERT_EQ(r->tick(now_us += 20000), status::ok);
        previous = id;
    }
    EXPECT_EQ(r->set_muted(stays, true), status::ok);  // the first one is still reachable
}

// Statistics are found by the participant's slot, as the tick sees the room:
// not before its join reaches the tick, still while it ramps out after
// leave(), not once it is gone, and never another participant's when a later
// join reuses the slot.
TEST(Conference, StatsFollowTheParticipantThroughItsSlot) {
    std::unique_ptr<room> r;
    room_config config;
    config.mixing_rate_hz = 8000;
    config.max_participants = 2;
    ASSERT_EQ(room::create(config, r), status::ok);
    participant_stats s;
    EXPECT_EQ(r->get_participant_stats(0, s), status::not_found);
    participant_id a = 0, b = 0;
    ASSERT_EQ(r->join_pcm({.sample_rate_hz = 8000, .channels = 1}, a), status::ok);
    EXPECT_EQ(r->get_participant_stats(a, s), status::not_found);  // the tick has not seen the join
    std::int64_t now_us = 0;
    ASSERT_EQ(r->tick(now_us += 20000), status::ok);
    ASSERT_EQ(r->get_participant_stats(a, s), status::ok);
    ASSERT_EQ(r->leave(a), status::ok);
    EXPECT_EQ(r->get_participant_stats(a, s), status::ok);  // still in the room until the tick lets it go
    for (int i = 0; i < 10; ++i) ASSERT_EQ(r->tick(now_us += 20000), status::ok);
    EXPECT_EQ(r->get_participant_stats(a, s), status::not_found);
    participant_id c = 0;  // two slots, both taken again: one of b and c has a's
    ASSERT_EQ(r->join_pcm({.sample_rate_hz = 8000, .channels = 1}, b), status::ok);
    ASSERT_EQ(r->join_pcm({.sample_rate_hz = 8000, .channels = 1}, c), status::ok);
    ASSERT_TRUE((b - 1) % 2 == (a - 1) % 2 || (c - 1) % 2 == (a - 1) % 2);
    ASSERT_EQ(r->tick(now_us += 20000), status::ok);
    EXPECT_EQ(r->get_participant_stats(b, s), status::ok);
    EXPECT_EQ(r->get_participant_stats(c, s), status::ok);
    EXPECT_EQ(r->get_participant_stats(a, s), status::not_found);  // the id that had the slot before
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

// Payload types and extension ids outside what RTP allows are refused at join
// with a sentence, not taken and misread later.
TEST(Conference, JoinRefusesOutOfRangePayloadTypesAndExtensionIds) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({}, r), status::ok);
    const auto join = [&](auto change, const char* says) {
        rtp_participant_config pc;
        pc.receive = pc.send = fmt(0, "PCMU", 8000);
        change(pc);
        participant_id id = 0;
        std::string error;
        EXPECT_EQ(r->join_rtp(pc, id, &error), status::invalid_argument) << says;
        EXPECT_NE(error.find(says), std::string::npos) << error;
    };
    join([](rtp_participant_config& pc) { pc.telephone_event_payload_type = 200; }, "telephone_event_payload_type must be");
    join([](rtp_participant_config& pc) { pc.telephone_event_payload_type = -5; }, "telephone_event_payload_type must be");
    join([](rtp_participant_config& pc) { pc.comfort_noise_payload_type = 128; }, "comfort_noise_payload_type must be");
    join([](rtp_participant_config& pc) { pc.comfort_noise_payload_type = 0; }, "is the audio payload type");
    join([](rtp_participant_config& pc) { pc.audio_level_extension_id = 15; }, "audio_level_extension_id must be");
    EXPECT_EQ(r->stats().participants, 0u);
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
    std::vector<float> tap(960);
    const std::vector<float> prompt_f = head(people[0].voice, 8000);  // 0.5 s
    std::vector<std::int16_t> prompt_s(4000, 1000);
    std::uint64_t tick_allocations = 0, prompts = 0;
    participant_id extra = 0;
    ASSERT_EQ(r->enable_tap(true), status::ok);
    for (int t = 0; t < 3000; ++t) {
        if (t % 50 == 10) {  // join and leave between ticks (allocation allowed there)
            if (extra) {
                ASSERT_EQ(r->leave(extra), status::ok);
            }
            ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, extra), status::ok);
        }
        if (t % 20 == 3) {  // prompts to the room, to one (also one about to leave), some stopped
            prompt_id a = 0, b = 0;
            ASSERT_EQ(r->play_prompt(whole_room, std::span<const float>(prompt_f), 16000, a, 0.3f), status::ok);
            ASSERT_EQ(r->play_prompt(t % 40 == 3 ? people[2].id : extra, std::span<const std::int16_t>(prompt_s), 8000, b), status::ok);
            if (t % 60 == 3) {
                ASSERT_EQ(r->stop_prompt(a), status::ok);
            }
            prompts += 2;
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
        ASSERT_EQ(r->pull_tap(tap), 320);
        room_event events[64];
        for (std::size_t n; (n = r->poll_events(events)) > 0;)
            for (std::size_t i = 0; i < n; ++i) prompts -= events[i].kind == room_event_kind::prompt_done;
    }
    EXPECT_EQ(tick_allocations, 0u);
    EXPECT_EQ(r->stats().ticks, 3000u);
    EXPECT_LE(prompts, 2u);  // every prompt but the last pair reported prompt_done
    EXPECT_EQ(r->stats().tap_dropped, 0u);
}

TEST(Conference, ControlCallsFromAnotherThreadWhileTicking) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.mixing_rate_hz = 16000, .max_participants = 32}, r), status::ok);
    std::vector<participant_id> steady(3);
    for (auto& id : steady) ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, id), status::ok);
    std::atomic<bool> stop{false};
    std::atomic<int> joins{0};
    std::atomic<std::uint64_t> tapped{0};
    const std::vector<std::int16_t> prompt(1600, 3000);  // 200 ms
    ASSERT_EQ(r->enable_tap(true), status::ok);
    std::thread tap_thread([&] {
        std::vector<float> buf(960);
        while (!stop.load()) {
            const auto n = r->pull_tap(buf);
            ASSERT_GE(n, 0);
            if (n > 0) tapped += static_cast<std::uint64_t>(n);
            else std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    });
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
            prompt_id pid = 0;
            if (r->play_prompt(i % 3 ? whole_room : steady[2], std::span<const std::int16_t>(prompt), 8000, pid) == status::ok && i % 2)
                (void)r->stop_prompt(pid);
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
        for (auto id : steady) {
            ASSERT_EQ(r->pull_pcm(id, interleaved_view<std::int16_t>(out.data(), 320, 1)), 320);
            // No lost audio for the others: steady[2] hears the two other steady
            // talkers (no relation is ever set on it) in every tick after warm-up.
            if (id == steady[2] && t > 50) {
                long energy = 0;
                for (std::int16_t x : out) energy += x < 0 ? -x : x;
                ASSERT_GT(energy, 320 * 500) << "tick " << t;
            }
        }
        room_event events[64];
        while (r->poll_events(events) > 0) {
        }
    }
    stop = true;
    control.join();
    tap_thread.join();
    EXPECT_GT(tapped.load(), 0u);
    for (int t = 0; t < 5; ++t) ASSERT_EQ(r->tick(t), status::ok);
    EXPECT_GT(joins.load(), 10);
    EXPECT_EQ(r->stats().participants, 3u);
}


// ---------------------------------------------------------------------------
// Loudest-N, gains, prompts, the tap, events, RFC 6464.

// RMS level in dB of v[from, to).
double rms_db(const std::vector<float>& v, std::size_t from, std::size_t to) {
    double e = 0;
    to = std::min(to, v.size());
    for (std::size_t i = from; i < to; ++i) e += double(v[i]) * v[i];
    return 10.0 * std::log10(e / static_cast<double>(std::max<std::size_t>(1, to - from)) + 1e-30);
}

// Resamples `x` with tutti's resampler (as the room does), 20 ms at a time.
std::vector<float> resample(const std::vector<float>& x, std::uint32_t from, std::uint32_t to) {
    if (from == to) return x;
    std::unique_ptr<resampler> rs;
    EXPECT_EQ(resampler::create(from, to, 1, rs), status::ok);
    std::vector<float> out(x.size() * to / from + 64);
    const std::size_t chunk = from / 50;
    std::size_t w = 0;
    for (std::size_t i = 0; i + chunk <= x.size(); i += chunk)
        w += static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, rs->process(interleaved_view<const float>(x.data() + i, chunk, 1),
                                                                              interleaved_view<float>(out.data() + w, out.size() - w, 1))));
    out.resize(w);
    return out;
}

std::vector<float> wav16k(const std::string& name) {
    wav_file w;
    EXPECT_EQ(read_wav_file(std::string(TUTTI_SPEECH_DIR) + name, w), status::ok);
    EXPECT_EQ(w.sample_rate_hz, 16000u);
    return w.samples;
}

std::vector<room_event> drain(room& r) {
    std::vector<room_event> all;
    room_event events[64];
    for (std::size_t n; (n = r.poll_events(events)) > 0;) all.insert(all.end(), events, events + n);
    return all;
}

// Ten talkers 3 dB apart (steady Gaussian noise, -20 .. -47 dBov) and one
// listener; loudest_n = 3. Phase 1 (5 s): the three loudest are mixed from the
// first tick and nothing changes. Phase 2: a talker 6 dB above the weakest
// mixed one for 100 ms (< switch_hold_ms = 200) does not get in; one that
// stays there 400 ms replaces it, and the replaced one comes back after.
TEST(Conference, LoudestNMixesTheThreeLoudestHoldsSteadyAndSwitchesOnlyAfterTheHold) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.mixing_rate_hz = 16000, .loudest_n = 3, .talk_start_dbov = -55.0f, .talk_stop_dbov = -60.0f,
                            .switch_margin_db = 3.0f, .switch_hold_ms = 200},
                           r),
              status::ok);
    constexpr int talkers = 10;
    constexpr std::size_t ticks = 400, n = 320;
    std::vector<pcm_person> people(talkers + 1);  // the last one listens
    std::mt19937 rng(42);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    for (int k = talkers; k >= 0; --k)  // quietest first: join order must not decide the initial selection
        ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, people[k].id), status::ok);
    for (int k = 0; k < talkers; ++k) {
        people[k].voice.resize(ticks * n);
        for (std::size_t i = 0; i < people[k].voice.size(); ++i) {
            const std::size_t t = i / n;
            float db = -20.0f - 3.0f * static_cast<float>(k);
            if (k == 8 && t >= 260 && t < 265) db = -20.0f;  // 100 ms burst, 6 dB above talker 2 (-26)
            if (k == 9 && t >= 300 && t < 320) db = -20.0f;  // 400 ms burst
            people[k].voice[i] = gauss(rng) * std::pow(10.0f, db / 20.0f);
        }
    }
    std::vector<std::uint32_t> mixed_mask(ticks);
    std::vector<std::int16_t> in(n), out(n);
    std::vector<float> f(n);
    for (std::size_t t = 0; t < ticks; ++t) {
        for (int k = 0; k < talkers; ++k) {
            float_to_s16(people[k].voice.data() + t * n, in.data(), n);
            ASSERT_EQ(r->push_pcm(people[k].id, interleaved_view<const std::int16_t>(in.data(), n, 1)), status::ok);
        }
        ASSERT_EQ(r->tick(static_cast<std::int64_t>(t) * 20000), status::ok);
        for (int k = 0; k <= talkers; ++k) {
            ASSERT_EQ(r->pull_pcm(people[k].id, interleaved_view<std::int16_t>(out.data(), n, 1)), static_cast<std::ptrdiff_t>(n));
            if (k == talkers) {
                s16_to_float(out.data(), f.data(), n);
                people[k].heard.insert(people[k].heard.end(), f.begin(), f.end());
            }
            participant_stats s;
            ASSERT_EQ(r->get_participant_stats(people[k].id, s), status::ok);
            if (s.mixed) mixed_mask[t] |= 1u << k;
        }
        (void)drain(*r);
    }
    // Phase 1: {0, 1, 2} from the first tick, no change for 5 s.
    std::size_t changes = 0;
    for (std::size_t t = 0; t < 250; ++t) {
        EXPECT_EQ(mixed_mask[t], 0b111u) << "tick " << t;
        if (t > 0 && mixed_mask[t] != mixed_mask[t - 1]) ++changes;
    }
    EXPECT_EQ(changes, 0u);
    // The short burst changes nothing.
    for (std::size_t t = 250; t < 300; ++t) EXPECT_EQ(mixed_mask[t], 0b111u) << "tick " << t;
    // The long burst: not yet after 100 ms, in by 300 ms (talker 2 out), and talker 2 back after it ends.
    EXPECT_EQ(mixed_mask[305], 0b111u);
    EXPECT_EQ(mixed_mask[315], 0b1000000011u);
    EXPECT_EQ(mixed_mask[ticks - 1], 0b111u);
    std::size_t switch_tick = 0;
    for (std::size_t t = 300; t < 320 && !switch_tick; ++t)
        if (mixed_mask[t] & (1u << 9)) switch_tick = t;
    EXPECT_GE(switch_tick, 309u);  // 200 ms of challenge = 10 ticks
    EXPECT_LE(switch_tick, 311u);
    std::uint64_t selected[talkers];
    for (int k = 0; k < talkers; ++k) {
        participant_stats s;
        ASSERT_EQ(r->get_participant_stats(people[k].id, s), status::ok);
        selected[k] = s.times_selected;
        EXPECT_GT(s.talk_ticks, 390u) << k;
    }
    EXPECT_EQ(selected[0], 1u);
    EXPECT_EQ(selected[1], 1u);
    EXPECT_EQ(selected[2], 2u);
    EXPECT_EQ(selected[8], 0u);
    EXPECT_EQ(selected[9], 1u);
    for (int k = 3; k < 8; ++k) EXPECT_EQ(selected[k], 0u) << k;
    // What the listener hears in phase 1: the three loudest, nobody else.
    const std::size_t from = 10 * n, to = 250 * n;
    const std::vector<float> heard(people[talkers].heard.begin() + from, people[talkers].heard.begin() + to);
    for (int k = 0; k < talkers; ++k) {
        const std::vector<float> v(people[k].voice.begin() + from, people[k].voice.begin() + to);
        const double c = correlation_at(heard, v, 0);
        if (k < 3) EXPECT_GT(c, 0.3) << "talker " << k << " not heard";
        else EXPECT_LT(std::abs(c), 0.05) << "talker " << k << " heard";
    }
}

// Input gain 0.5 lowers what everyone else hears by 6.02 dB; output gain 0.5
// lowers what that one listener hears by 6.02 dB and nobody else's.
TEST(Conference, InputAndOutputGainsScaleByTheirDecibels) {
    const std::vector<float> voice = head(speech(0, 16000), 16000 * 3);
    struct result {
        double b = 0, c = 0;
    };
    auto run = [&](float input_gain, float output_gain_b) {
        std::unique_ptr<room> r;
        EXPECT_EQ(room::create({.mixing_rate_hz = 16000}, r), status::ok);
        std::vector<pcm_person> people(3);
        for (auto& p : people) EXPECT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, p.id), status::ok);
        people[0].voice = voice;
        EXPECT_EQ(r->set_input_gain(people[0].id, input_gain), status::ok);
        EXPECT_EQ(r->set_output_gain(people[1].id, output_gain_b), status::ok);
        run_pcm(*r, people, 16000, 150);
        return result{rms_db(people[1].heard, 16000 / 2, 16000 * 3), rms_db(people[2].heard, 16000 / 2, 16000 * 3)};
    };
    const result plain = run(1.0f, 1.0f), in_half = run(0.5f, 1.0f), out_half = run(1.0f, 0.5f);
    const double six = 20.0 * std::log10(0.5);
    EXPECT_NEAR(in_half.b - plain.b, six, 0.5);
    EXPECT_NEAR(in_half.c - plain.c, six, 0.5);
    EXPECT_NEAR(out_half.b - plain.b, six, 0.5);
    EXPECT_NEAR(out_half.c - plain.c, 0.0, 0.05);
    std::printf("gain 0.5: input %.2f dB, output %.2f dB (expected %.2f)\n", in_half.b - plain.b, out_half.b - plain.b, six);
}

// A room prompt (8 kHz float) reaches everyone and the tap; a private prompt
// (48 kHz int16) reaches only its target; both report prompt_done on time; a
// stopped prompt reports stopped; the tap carries the talkers and the room prompt.
TEST(Conference, PromptsReachTheirTargetsAndTheTapCarriesTheRoomMix) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.mixing_rate_hz = 16000}, r), status::ok);
    std::vector<pcm_person> people(3);
    for (auto& p : people) ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, p.id), status::ok);
    people[0].voice = head(speech(0, 16000), 16000 * 5);
    ASSERT_EQ(r->enable_tap(true), status::ok);

    const std::vector<float> room_prompt = head(speech(2, 8000), 8000 * 3);  // 3 s at 8 kHz
    const std::vector<float> private_f = head(resample(wav16k("/cards/005.wav"), 16000, 48000), 48000 * 3);
    std::vector<std::int16_t> private_prompt(private_f.size());
    float_to_s16(private_f.data(), private_prompt.data(), private_f.size());
    prompt_id room_id = 0, private_id = 0, long_id = 0;
    ASSERT_EQ(r->play_prompt(whole_room, std::span<const float>(room_prompt), 8000, room_id), status::ok);
    ASSERT_EQ(r->play_prompt(people[2].id, std::span<const std::int16_t>(private_prompt), 48000, private_id), status::ok);
    EXPECT_NE(room_id, private_id);
    EXPECT_EQ(r->play_prompt(98765, std::span<const float>(room_prompt), 8000, long_id), status::not_found);
    EXPECT_EQ(r->play_prompt(whole_room, std::span<const float>(room_prompt), 7000, long_id), status::invalid_argument);
    EXPECT_EQ(r->play_prompt(whole_room, std::span<const float>(), 8000, long_id), status::invalid_argument);

    std::vector<float> tap, chunk(960);
    std::vector<room_event> events;
    const std::size_t n = 320;
    std::vector<std::int16_t> in(n), out(n);
    std::vector<float> f(n);
    for (std::size_t t = 0; t < 250; ++t) {
        if (t == 160) {  // a long prompt, stopped 1 s later
            ASSERT_EQ(r->play_prompt(whole_room, std::span<const float>(room_prompt), 8000, long_id, 0.5f), status::ok);
        }
        if (t == 210) {
            ASSERT_EQ(r->stop_prompt(long_id), status::ok);
        }
        for (auto& p : people) {
            for (std::size_t i = 0; i < n; ++i) f[i] = t * n + i < p.voice.size() ? p.voice[t * n + i] : 0.0f;
            float_to_s16(f.data(), in.data(), n);
            ASSERT_EQ(r->push_pcm(p.id, interleaved_view<const std::int16_t>(in.data(), n, 1)), status::ok);
        }
        ASSERT_EQ(r->tick(static_cast<std::int64_t>(t) * 20000), status::ok);
        for (auto& p : people) {
            ASSERT_EQ(r->pull_pcm(p.id, interleaved_view<std::int16_t>(out.data(), n, 1)), static_cast<std::ptrdiff_t>(n));
            s16_to_float(out.data(), f.data(), n);
            p.heard.insert(p.heard.end(), f.begin(), f.end());
        }
        std::uint32_t rate = 0;
        ASSERT_EQ(r->pull_tap(chunk, &rate), static_cast<std::ptrdiff_t>(n));
        EXPECT_EQ(rate, 16000u);
        EXPECT_EQ(r->pull_tap(chunk), 0);  // one tick per tick
        tap.insert(tap.end(), chunk.begin(), chunk.begin() + n);
        for (const room_event& e : drain(*r)) events.push_back(e);
    }
    EXPECT_EQ(r->stop_prompt(long_id), status::not_found);
    EXPECT_EQ(r->stats().tap_frames, 250u * n);
    EXPECT_EQ(r->stats().tap_dropped, 0u);

    // prompt_done: the 3 s prompts after 150 ticks (+ resampler flush), the stopped one at once.
    int done = 0;
    for (const room_event& e : events) {
        if (e.kind != room_event_kind::prompt_done) continue;
        ++done;
        if (e.prompt == room_id) {
            EXPECT_EQ(e.participant, whole_room);
            EXPECT_FALSE(e.stopped);
            EXPECT_GE(e.tick, 149u);
            EXPECT_LE(e.tick, 152u);
        } else if (e.prompt == private_id) {
            EXPECT_EQ(e.participant, people[2].id);
            EXPECT_FALSE(e.stopped);
            EXPECT_GE(e.tick, 149u);
            EXPECT_LE(e.tick, 152u);
        } else {
            EXPECT_EQ(e.prompt, long_id);
            EXPECT_TRUE(e.stopped);
            EXPECT_EQ(e.tick, 210u);
        }
    }
    EXPECT_EQ(done, 3);

    // What each heard over the first 3 s.
    const std::size_t span = 16000 * 3;
    const std::vector<float> room_ref = head(resample(room_prompt, 8000, 16000), span);
    const std::vector<float> private_ref = head(resample(private_f, 48000, 16000), span);
    const std::vector<float> voice0 = head(people[0].voice, span);
    for (int k = 0; k < 3; ++k) {
        const double c = max_correlation(room_ref, head(people[k].heard, span + 400), 200);
        EXPECT_GT(c, 0.4) << k << " does not hear the room prompt";
        const double p = max_correlation(private_ref, head(people[k].heard, span + 400), 200);
        if (k == 2) EXPECT_GT(p, 0.4) << "the target does not hear its prompt";
        else EXPECT_LT(p, 0.1) << k << " hears another's private prompt";
        std::printf("listener %d: room prompt %.2f, private prompt %.2f\n", k, c, p);
    }
    const double tap_voice = max_correlation(voice0, head(tap, span + 400), 200);
    const double tap_room = max_correlation(room_ref, head(tap, span + 400), 200);
    const double tap_private = max_correlation(private_ref, head(tap, span + 400), 200);
    std::printf("tap: talker %.2f, room prompt %.2f, private prompt %.2f\n", tap_voice, tap_room, tap_private);
    EXPECT_GT(tap_voice, 0.4);
    EXPECT_GT(tap_room, 0.4);
    EXPECT_LT(tap_private, 0.1);
    // The tap is exactly what a silent listener hears (same mix, same limiter), up to int16 rounding.
    double worst = 0;
    for (std::size_t i = 0; i < span; ++i) worst = std::max(worst, double(std::abs(tap[i] - people[1].heard[i])));
    EXPECT_LT(worst, 1.0 / 32768);
    // The long prompt (started at tick 160) is heard until the stop at tick 210, not after.
    const std::vector<float> long_ref = resample(room_prompt, 8000, 16000);
    auto heard_long = [&](std::size_t from_tick, std::size_t ticks) {
        const std::vector<float> ref(long_ref.begin() + static_cast<std::ptrdiff_t>((from_tick - 160) * n),
                                     long_ref.begin() + static_cast<std::ptrdiff_t>((from_tick - 160 + ticks) * n));
        const std::vector<float> h(people[1].heard.begin() + static_cast<std::ptrdiff_t>(from_tick * n),
                                   people[1].heard.begin() + static_cast<std::ptrdiff_t>((from_tick + ticks + 1) * n));
        return max_correlation(ref, h, 200);
    };
    const double before_stop = heard_long(165, 40), after_stop = heard_long(212, 35);
    std::printf("stopped prompt: %.2f before the stop, %.2f after\n", before_stop, after_stop);
    EXPECT_GT(before_stop, 0.3);
    EXPECT_LT(after_stop, 0.1);
}

// An RTP participant sends speech, then silence, and presses '5' (RFC 4733)
// in between; a PCM participant joins and leaves: every event comes out once.
TEST(Conference, EventsForTalkDtmfJoinAndLeave) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.mixing_rate_hz = 16000}, r), status::ok);
    const codec_registry codecs = codec_registry::with_builtin_codecs();
    rtp_client c;
    c.format = fmt(0, "PCMU", 8000);
    ASSERT_EQ(codecs.make_encoder(c.format, {}, c.enc), status::ok);
    rtp_packetizer_config out_stream;
    out_stream.ssrc = 77;
    out_stream.payload_type = 0;
    out_stream.clock_rate_hz = 8000;
    out_stream.telephone_event_payload_type = 101;
    out_stream.seed = 3;
    ASSERT_EQ(c.packetizer.init(out_stream), status::ok);
    rtp_participant_config pc;
    pc.receive = pc.send = c.format;
    pc.telephone_event_payload_type = 101;
    pc.ssrc = 78;
    ASSERT_EQ(r->join_rtp(pc, c.id), status::ok);
    c.voice = head(speech(0, 8000), 8000 * 2);  // 2 s of speech, then silence
    participant_id extra = 0;
    ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, extra), status::ok);

    std::vector<std::uint8_t> payload(1500), packet(1500);
    std::vector<float> frame(160);
    std::vector<room_event> events;
    const std::size_t dtmf_from = 125, dtmf_ticks = 10;  // 200 ms of '5' at 2.5 s
    std::size_t repeats = 0;
    for (std::size_t t = 0; t < 200; ++t) {
        const std::int64_t now = static_cast<std::int64_t>(t) * 20000;
        if (t == 50) {
            ASSERT_EQ(r->leave(extra), status::ok);
        }
        std::ptrdiff_t len = 0;
        if (t >= dtmf_from && t < dtmf_from + dtmf_ticks) {  // audio suppressed during the key, as phones do
            const auto d = static_cast<std::uint32_t>((t - dtmf_from + 1) * 160);
            if (t == dtmf_from) len = c.packetizer.begin_event(5, 10, d, packet);
            else if (t + 1 == dtmf_from + dtmf_ticks) len = c.packetizer.end_event(d, packet), repeats = 2;
            else len = c.packetizer.update_event(d, packet);
            c.packetizer.skip(160);
        } else {
            for (std::size_t i = 0; i < 160; ++i) frame[i] = t * 160 + i < c.voice.size() ? c.voice[t * 160 + i] : 0.0f;
            const auto bytes = c.enc->encode(interleaved_view<const float>(frame.data(), 160, 1), payload);
            ASSERT_GT(bytes, 0);
            len = c.packetizer.packetize({payload.data(), static_cast<std::size_t>(bytes)}, 160, false, packet);
        }
        ASSERT_GT(len, 0);
        ASSERT_EQ(r->push_rtp(c.id, {packet.data(), static_cast<std::size_t>(len)}, now + 1000), status::ok);
        if (repeats && t >= dtmf_from + dtmf_ticks) {  // the two end repeats, one per tick
            len = c.packetizer.repeat_event_end(packet);
            ASSERT_GT(len, 0);
            ASSERT_EQ(r->push_rtp(c.id, {packet.data(), static_cast<std::size_t>(len)}, now + 2000), status::ok);
            --repeats;
        }
        ASSERT_EQ(r->tick(now + 20000), status::ok);
        while (r->pull_rtp(c.id, packet) > 0) {
        }
        for (const room_event& e : drain(*r)) events.push_back(e);
    }
    auto count = [&](room_event_kind k, participant_id id) {
        return std::count_if(events.begin(), events.end(), [&](const room_event& e) { return e.kind == k && e.participant == id; });
    };
    EXPECT_EQ(count(room_event_kind::joined, c.id), 1);
    EXPECT_EQ(count(room_event_kind::joined, extra), 1);
    EXPECT_EQ(count(room_event_kind::left, extra), 1);
    EXPECT_EQ(count(room_event_kind::left, c.id), 0);
    EXPECT_EQ(count(room_event_kind::dtmf_begin, c.id), 1);
    EXPECT_EQ(count(room_event_kind::dtmf_end, c.id), 1);
    const auto starts = count(room_event_kind::talk_start, c.id), stops = count(room_event_kind::talk_stop, c.id);
    EXPECT_GE(starts, 1);
    EXPECT_EQ(starts, stops);
    std::uint64_t first_start = 0, last_stop = 0, dtmf_begin_tick = 0;
    bool seen_start = false;
    for (const room_event& e : events) {
        if (e.kind == room_event_kind::talk_start && !seen_start) first_start = e.tick, seen_start = true;
        if (e.kind == room_event_kind::talk_start) {
            EXPECT_GT(e.level_dbov, -40.0f);
        }
        if (e.kind == room_event_kind::talk_stop) last_stop = e.tick;
        if (e.kind == room_event_kind::dtmf_begin) {
            EXPECT_EQ(e.key, '5');
            dtmf_begin_tick = e.tick;
        }
        if (e.kind == room_event_kind::dtmf_end) {
            EXPECT_EQ(e.key, '5');
            EXPECT_EQ(e.duration_ms, 200u);
        }
    }
    EXPECT_LT(first_start, 25u);                 // speech from the start (jitter buffer delay included)
    EXPECT_GE(last_stop, 100u);                  // speech ends at 2 s, + hang-over 400 ms
    EXPECT_LE(last_stop, 140u);
    EXPECT_EQ(dtmf_begin_tick, dtmf_from);       // the event is not delayed by the jitter buffer
    participant_stats s;
    ASSERT_EQ(r->get_participant_stats(c.id, s), status::ok);
    EXPECT_EQ(s.dtmf_events, 1u);
    EXPECT_EQ(s.packets_in, 202u);
    EXPECT_EQ(s.packets_rejected, 0u);
    EXPECT_GT(s.talk_ticks, 50u);
    EXPECT_GT(s.times_selected, 0u);
    EXPECT_GT(s.frames_encoded + s.packets_shared, 190u);  // its own encoder while talking, the shared one otherwise
    // Every packet is played; the silence after the speech, known silent from
    // its G.711 codes, is not decoded (skip_silent_decode).
    EXPECT_GE(s.jitter.packets_decoded + s.jitter.packets_not_decoded, 188u);  // 190 audio packets, the last may wait
    EXPECT_GE(s.jitter.packets_decoded, s.talk_ticks);
    EXPECT_GT(s.jitter.packets_not_decoded, 50u);
    std::printf("talk %llu ticks, selected %llu times, talk_stop at tick %llu\n", static_cast<unsigned long long>(s.talk_ticks),
                static_cast<unsigned long long>(s.times_selected), static_cast<unsigned long long>(last_stop));
}


// RFC 6464 (documented at room::join_rtp): the client's level caps the decoded
// one. A client that sends loud speech marked level 127 (silence) is treated as
// silent: it never talks and nobody hears it. A client that claims 0 dBov over
// quiet speech (-50 dBov) gains nothing: it stays below talk_start. An honest
// client is heard.
TEST(Conference, Rfc6464LevelCapsTheDecodedLevel) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({.mixing_rate_hz = 16000}, r), status::ok);
    const codec_registry codecs = codec_registry::with_builtin_codecs();
    std::vector<rtp_client> clients(3);  // 0 says "silence", 1 says "full scale", 2 tells the truth
    for (std::size_t i = 0; i < clients.size(); ++i) {
        auto& c = clients[i];
        c.format = fmt(0, "PCMU", 8000);
        ASSERT_EQ(codecs.make_encoder(c.format, {}, c.enc), status::ok);
        rtp_packetizer_config out_stream;
        out_stream.ssrc = 500 + static_cast<std::uint32_t>(i);
        out_stream.payload_type = 0;
        out_stream.clock_rate_hz = 8000;
        out_stream.audio_level_id = 3;
        out_stream.seed = 11;
        ASSERT_EQ(c.packetizer.init(out_stream), status::ok);
        rtp_participant_config pc;
        pc.receive = pc.send = c.format;
        pc.audio_level_extension_id = 3;
        pc.ssrc = 600 + static_cast<std::uint32_t>(i);
        ASSERT_EQ(r->join_rtp(pc, c.id), status::ok);
        c.voice = head(speech(static_cast<int>(i), 8000), 8000 * 3);
    }
    for (float& x : clients[1].voice) x *= 0.1f;  // -46 dBov
    pcm_person listener;
    ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, listener.id), status::ok);
    std::vector<std::uint8_t> payload(1500), packet(1500);
    std::vector<float> frame(160), f(320);
    std::vector<std::int16_t> pcm(320);
    const std::size_t ticks = 150;
    for (std::size_t t = 0; t < ticks; ++t) {
        const std::int64_t now = static_cast<std::int64_t>(t) * 20000;
        for (std::size_t i = 0; i < clients.size(); ++i) {
            auto& c = clients[i];
            for (std::size_t k = 0; k < 160; ++k) frame[k] = t * 160 + k < c.voice.size() ? c.voice[t * 160 + k] : 0.0f;
            const auto bytes = c.enc->encode(interleaved_view<const float>(frame.data(), 160, 1), payload);
            ASSERT_GT(bytes, 0);
            const float real = measure_level({frame.data(), 160}).rms;
            const rtp_audio_level level{true, i == 0 ? std::uint8_t{127} : i == 1 ? std::uint8_t{0} : rfc6464_level(real)};
            const auto len = c.packetizer.packetize({payload.data(), static_cast<std::size_t>(bytes)}, 160, false, packet, level);
            ASSERT_GT(len, 0);
            ASSERT_EQ(r->push_rtp(c.id, {packet.data(), static_cast<std::size_t>(len)}, now + 1000), status::ok);
        }
        ASSERT_EQ(r->tick(now + 20000), status::ok);
        for (auto& c : clients)
            while (r->pull_rtp(c.id, packet) > 0) {
            }
        ASSERT_EQ(r->pull_pcm(listener.id, interleaved_view<std::int16_t>(pcm.data(), 320, 1)), 320);
        s16_to_float(pcm.data(), f.data(), 320);
        listener.heard.insert(listener.heard.end(), f.begin(), f.end());
        (void)drain(*r);
    }
    participant_stats st[3];
    for (std::size_t i = 0; i < 3; ++i) {
        ASSERT_EQ(r->get_participant_stats(clients[i].id, st[i]), status::ok);
        EXPECT_EQ(st[i].packets_with_level, ticks) << i;
        EXPECT_TRUE(st[i].client_voice) << i;
    }
    EXPECT_EQ(st[0].client_level_dbov, -127.0f);
    EXPECT_EQ(st[0].talk_ticks, 0u);             // its audio is loud, but its level says silence ...
    EXPECT_EQ(st[0].ticks_not_decoded, ticks);   // ... so it is never decoded (skip_silent_decode) ...
    EXPECT_GE(st[0].jitter.packets_not_decoded, ticks - 3);  // ... while its jitter buffer plays its packets out
    EXPECT_EQ(st[0].jitter.packets_decoded, 0u);
    EXPECT_EQ(st[1].ticks_not_decoded, 0u);      // a level above talk_start is always decoded
    EXPECT_EQ(st[0].times_selected, 0u);
    EXPECT_EQ(st[1].client_level_dbov, 0.0f);
    EXPECT_EQ(st[1].talk_ticks, 0u);             // claiming 0 dBov does not lift -46 dBov speech over talk_start
    EXPECT_GT(st[2].talk_ticks, 60u);
    EXPECT_GT(st[2].times_selected, 0u);
    const std::vector<float> heard = listener.heard;
    const double liar = max_correlation(resample(clients[0].voice, 8000, 16000), heard, 1200);
    const double honest = max_correlation(resample(clients[2].voice, 8000, 16000), heard, 1200);
    std::printf("listener: level-127 talker %.2f, honest talker %.2f\n", liar, honest);
    EXPECT_LT(liar, 0.1);
    EXPECT_GT(honest, 0.5);
}

// A prompt follows a change of the automatic mixing rate (16 -> 48 -> 16 kHz).
TEST(Conference, PromptFollowsTheAutomaticMixingRate) {
    std::unique_ptr<room> r;
    ASSERT_EQ(room::create({}, r), status::ok);
    std::vector<pcm_person> people(1);
    ASSERT_EQ(r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, people[0].id), status::ok);
    const std::vector<float> voice = head(speech(1, 16000), 16000 * 2);
    prompt_id id = 0;
    ASSERT_EQ(r->play_prompt(whole_room, std::span<const float>(voice), 16000, id), status::ok);
    run_pcm(*r, people, 16000, 30);
    EXPECT_EQ(r->stats().mixing_rate_hz, 16000u);
    participant_id wide = 0;
    ASSERT_EQ(r->join_pcm({.sample_rate_hz = 48000, .channels = 1}, wide), status::ok);
    std::vector<std::int16_t> out(960);
    for (int t = 0; t < 40; ++t) {
        ASSERT_EQ(r->push_pcm(people[0].id, interleaved_view<const std::int16_t>(std::vector<std::int16_t>(320).data(), 320, 1)), status::ok);
        ASSERT_EQ(r->tick((30 + t) * 20000), status::ok);
        std::vector<std::int16_t> o(320);
        ASSERT_EQ(r->pull_pcm(people[0].id, interleaved_view<std::int16_t>(o.data(), 320, 1)), 320);
        std::vector<float> f(320);
        s16_to_float(o.data(), f.data(), 320);
        people[0].heard.insert(people[0].heard.end(), f.begin(), f.end());
        (void)r->pull_pcm(wide, interleaved_view<std::int16_t>(out.data(), 960, 1));
    }
    EXPECT_EQ(r->stats().mixing_rate_hz, 48000u);
    ASSERT_EQ(r->leave(wide), status::ok);
    people[0].voice.clear();
    run_pcm(*r, people, 16000, 40);
    EXPECT_EQ(r->stats().mixing_rate_hz, 16000u);
    const auto events = drain(*r);
    const auto done = std::find_if(events.begin(), events.end(), [](const room_event& e) { return e.kind == room_event_kind::prompt_done; });
    ASSERT_NE(done, events.end());
    EXPECT_FALSE(done->stopped);
    EXPECT_GE(done->tick, 99u);  // 2 s; a rate change may drop up to a tick each
    EXPECT_LE(done->tick, 102u);
    // Each stretch (16, 48, then 16 kHz mixing) on its own: the path delay differs between them.
    const std::size_t stretches[][2] = {{2, 30}, {32, 70}, {72, 100}};
    for (const auto& st : stretches) {
        const std::vector<float> v(voice.begin() + static_cast<std::ptrdiff_t>(st[0] * 320), voice.begin() + static_cast<std::ptrdiff_t>(st[1] * 320));
        const std::vector<float> h(people[0].heard.begin() + static_cast<std::ptrdiff_t>((st[0] - 2) * 320),
                                   people[0].heard.begin() + static_cast<std::ptrdiff_t>((st[1] + 2) * 320));
        const double c = max_correlation(v, h, 1280);
        std::printf("prompt, ticks %zu..%zu: correlation %.2f\n", st[0], st[1], c);
        EXPECT_GT(c, 0.9) << "ticks " << st[0] << ".." << st[1];
    }
}

}  // namespace
