// The C ABI (tutti.h) through its own functions only (the C++ API is used for
// nothing but loading test speech): every function, misuse (NULL handles,
// wrong struct sizes, unknown ids, bad SDP), events by polling and by
// callback, RTP between two rooms, and no allocation in tutti_room_tick.
// Compiling this file is also the "tutti.h compiles as C++" check.
#include "tutti/tutti.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <numbers>
#include <atomic>
#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

#include "../lib/c_struct.hpp"
#include "alloc_counter.hpp"
#include "correlation.hpp"
#include "speech.hpp"
#include "tutti/kernels.hpp"
#include "tutti/wav.hpp"

namespace {

const char* const speech_files[] = {
    "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
};  // each longer than 5 s

// 16 kHz speech at -26 dBov RMS.
std::vector<float> speech(int index) {
    std::vector<float> v = tutti_test::read_speech(speech_files[index]);
    EXPECT_FALSE(v.empty()) << speech_files[index];
    return v;
}

using tutti_test::correlation_at;
using tutti_test::max_correlation;

double energy(const std::vector<float>& v, std::size_t from = 0) {
    double e = 0;
    for (std::size_t i = from; i < v.size(); ++i) e += double(v[i]) * v[i];
    return e;
}

tutti_room* make_room(std::uint32_t rate = 16000) {
    tutti_room_config c;
    tutti_room_config_init(&c);
    c.mixing_rate_hz = rate;
    tutti_room* r = nullptr;
    EXPECT_EQ(tutti_room_create(&c, &r), TUTTI_OK) << tutti_last_error();
    return r;
}

std::uint32_t join_pcm(tutti_room* r, std::uint32_t rate = 16000) {
    tutti_pcm_participant_config p;
    tutti_pcm_participant_config_init(&p);
    p.sample_rate_hz = rate;
    std::uint32_t id = 0;
    EXPECT_EQ(tutti_room_join_pcm(r, &p, &id), TUTTI_OK) << tutti_last_error();
    return id;
}

std::string last_error() { return tutti_last_error(); }

struct room_deleter {
    void operator()(tutti_room* r) const { tutti_room_destroy(r); }
};
using room_ptr = std::unique_ptr<tutti_room, room_deleter>;

// A 16 kHz PCM participant that says `voice` and records what it hears.
struct person {
    std::uint32_t id = 0;
    std::vector<float> voice;
    std::vector<float> heard;
};

void push(tutti_room* r, person& p, std::size_t t) {
    float f[320];
    std::int16_t s[320];
    for (std::size_t i = 0; i < 320; ++i) f[i] = t * 320 + i < p.voice.size() ? p.voice[t * 320 + i] : 0.0f;
    tutti::float_to_s16(f, s, 320);
    ASSERT_EQ(tutti_room_push_pcm(r, p.id, s, 320, 1), TUTTI_OK) << tutti_last_error();
}

void pull(tutti_room* r, person& p) {
    std::int16_t s[320];
    float f[320];
    ASSERT_EQ(tutti_room_pull_pcm(r, p.id, s, 320, 1), 320) << tutti_last_error();
    tutti::s16_to_float(s, f, 320);
    p.heard.insert(p.heard.end(), f, f + 320);
}

void run(tutti_room* r, std::vector<person>& people, std::size_t from, std::size_t ticks) {
    for (std::size_t t = from; t < from + ticks; ++t) {
        for (auto& p : people) push(r, p, t);
        ASSERT_EQ(tutti_room_tick(r, static_cast<std::int64_t>(t) * 20000), TUTTI_OK) << tutti_last_error();
        for (auto& p : people) pull(r, p);
    }
}

std::vector<tutti_room_event> poll_all(tutti_room* r) {
    std::vector<tutti_room_event> out;
    tutti_room_event buf[8];
    for (;;) {
        buf[0].struct_size = sizeof(tutti_room_event);
        const int n = tutti_room_poll_events(r, buf, 8);
        EXPECT_GE(n, 0);
        if (n <= 0) break;
        out.insert(out.end(), buf, buf + n);
    }
    return out;
}

int count(const std::vector<tutti_room_event>& events, int kind, std::uint32_t who) {
    return static_cast<int>(std::count_if(events.begin(), events.end(), [&](const tutti_room_event& e) {
        return e.kind == kind && e.participant == who;
    }));
}

TEST(CApi, VersionsAndStatusStrings) {
    EXPECT_EQ(tutti_version(), static_cast<std::uint32_t>(TUTTI_VERSION));
    EXPECT_STREQ(tutti_version_string(), "0.1.0");
    EXPECT_STREQ(tutti_strerror(TUTTI_OK), "ok");
    EXPECT_STREQ(tutti_strerror(TUTTI_E_INVALID_ARGUMENT), "invalid argument");
    EXPECT_STREQ(tutti_strerror(TUTTI_E_MALFORMED), "malformed input");
    EXPECT_STREQ(tutti_strerror(TUTTI_E_NOT_FOUND), "not found");
    EXPECT_STREQ(tutti_strerror(TUTTI_E_INTERNAL), "internal error");
    for (int s = TUTTI_E_INTERNAL; s <= TUTTI_OK; ++s) EXPECT_STRNE(tutti_strerror(s), "unknown status") << s;
    EXPECT_STREQ(tutti_strerror(1), "unknown status");
    EXPECT_STREQ(tutti_strerror(-10), "unknown status");
}

TEST(CApi, InitGivesTheCppDefaults) {
    tutti_room_config c;
    std::memset(&c, 0xab, sizeof c);
    tutti_room_config_init(&c);
    EXPECT_EQ(c.struct_size, sizeof c);
    EXPECT_EQ(c.mixing_rate_hz, 0u);
    EXPECT_EQ(c.tick_us, 20000u);
    EXPECT_EQ(c.max_participants, 64u);
    EXPECT_EQ(c.loudest_n, 3u);
    EXPECT_EQ(c.talk_start_dbov, -40.0f);
    EXPECT_EQ(c.event_capacity, 1024u);
    EXPECT_EQ(c.profile_stages, 0);
    EXPECT_EQ(c.allocator.malloc_fn, nullptr);
    EXPECT_EQ(c.event_callback, nullptr);
    tutti_rtp_participant_config r;
    std::memset(&r, 0xab, sizeof r);
    tutti_rtp_participant_config_init(&r);
    EXPECT_EQ(r.struct_size, sizeof r);
    EXPECT_EQ(r.receive_rtpmap, nullptr);
    EXPECT_EQ(r.send_fmtp, nullptr);
    EXPECT_EQ(r.telephone_event_payload_type, -1);
    EXPECT_EQ(r.telephone_event_clock_hz, 8000u);
    EXPECT_EQ(r.jitter_max_delay_ms, 500u);
    EXPECT_EQ(r.opus_bitrate_bps, 32000);
    EXPECT_EQ(r.opus_complexity, 10);
    EXPECT_EQ(r.default_frame_us, 20000u);
    tutti_pcm_participant_config p;
    tutti_pcm_participant_config_init(&p);
    EXPECT_EQ(p.struct_size, sizeof p);
    EXPECT_EQ(p.sample_rate_hz, 16000u);
    EXPECT_EQ(p.channels, 1u);
    tutti_room_config_init(nullptr);  // no crash
    tutti_rtp_participant_config_init(nullptr);
    tutti_pcm_participant_config_init(nullptr);
}

TEST(CApi, CreateMisuseSaysWhy) {
    tutti_room* r = reinterpret_cast<tutti_room*>(&r);  // must be reset to NULL on failure
    EXPECT_EQ(tutti_room_create(nullptr, &r), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(r, nullptr);
    EXPECT_NE(last_error().find("config is NULL"), std::string::npos) << last_error();
    tutti_room_config c;
    tutti_room_config_init(&c);
    EXPECT_EQ(tutti_room_create(&c, nullptr), TUTTI_E_INVALID_ARGUMENT);
    c.struct_size = 0;
    EXPECT_EQ(tutti_room_create(&c, &r), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("struct_size is 0"), std::string::npos) << last_error();
    c.struct_size = sizeof c - 1;
    EXPECT_EQ(tutti_room_create(&c, &r), TUTTI_E_INVALID_ARGUMENT);
    // The engine's own checks come through with its sentence.
    tutti_room_config_init(&c);
    c.tick_us = 12345;
    EXPECT_EQ(tutti_room_create(&c, &r), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(r, nullptr);
    EXPECT_EQ(last_error().rfind("tutti_room_create: ", 0), 0u) << last_error();
    EXPECT_GT(last_error().size(), std::strlen("tutti_room_create: invalid argument")) << last_error();
    // Half an allocator.
    tutti_room_config_init(&c);
    c.allocator.malloc_fn = [](size_t n, void*) { return std::malloc(n); };
    EXPECT_EQ(tutti_room_create(&c, &r), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("allocator"), std::string::npos) << last_error();
}

// A struct from a newer header: ours plus fields we do not know.
struct newer_room_config {
    tutti_room_config known;
    std::uint64_t future_field;
};

TEST(CApi, NewerStructsWithUnknownFieldsZeroAreAccepted) {
    newer_room_config n{};
    tutti_room_config_init(&n.known);
    n.known.struct_size = sizeof n;
    n.known.mixing_rate_hz = 8000;
    tutti_room* r = nullptr;
    ASSERT_EQ(tutti_room_create(&n.known, &r), TUTTI_OK) << tutti_last_error();
    room_ptr owner(r);
    // Output structs: the caller's extra bytes are zeroed, its struct_size kept.
    newer_room_config out;
    std::memset(&out, 0xab, sizeof out);
    out.known.struct_size = sizeof out;
    ASSERT_EQ(tutti_room_get_config(r, &out.known), TUTTI_OK);
    EXPECT_EQ(out.known.struct_size, sizeof out);
    EXPECT_EQ(out.known.mixing_rate_hz, 8000u);
    EXPECT_EQ(out.future_field, 0u);
    EXPECT_EQ(out.known.allocator.malloc_fn, nullptr);  // as given
    // A newer struct that asks for something we do not know is refused.
    n.future_field = 1;
    tutti_room* r2 = nullptr;
    EXPECT_EQ(tutti_room_create(&n.known, &r2), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("newer"), std::string::npos) << last_error();
    EXPECT_EQ(r2, nullptr);
    // Output struct too small.
    tutti_room_stats small{};
    small.struct_size = 8;
    EXPECT_EQ(tutti_room_get_stats(r, &small), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_get_stats(r, nullptr), TUTTI_E_INVALID_ARGUMENT);
    tutti_participant_stats ps{};
    ps.struct_size = 4;
    EXPECT_EQ(tutti_room_get_participant_stats(r, 1, &ps), TUTTI_E_INVALID_ARGUMENT);
    tutti_room_config cfg{};
    EXPECT_EQ(tutti_room_get_config(r, &cfg), TUTTI_E_INVALID_ARGUMENT);
}

// The size rules with fake "v1" and "v2" structs: a v1 caller against a v2
// library (missing fields keep defaults; outputs truncated) and back.
struct fake_v1 {
    std::size_t struct_size;
    std::uint32_t a;
    std::uint32_t b;
};
struct fake_v2 {
    std::size_t struct_size;
    std::uint32_t a;
    std::uint32_t b;
    std::uint64_t c;
};

TEST(CApi, OlderSmallerStructsTakeDefaultsForWhatTheyLack) {
    const fake_v1 old{sizeof(fake_v1), 7, 8};
    fake_v2 ours{sizeof(fake_v2), 1, 2, 99};  // defaults
    ASSERT_EQ(tutti_c::read_struct(&old, old.struct_size, sizeof(fake_v1), &ours, sizeof ours), tutti_c::struct_check::ok);
    EXPECT_EQ(ours.a, 7u);
    EXPECT_EQ(ours.b, 8u);
    EXPECT_EQ(ours.c, 99u);
    EXPECT_EQ(tutti_c::read_struct(&old, sizeof(std::size_t), sizeof(fake_v1), &ours, sizeof ours),
              tutti_c::struct_check::too_small);
    EXPECT_EQ(tutti_c::read_struct(nullptr, 0, sizeof(fake_v1), &ours, sizeof ours), tutti_c::struct_check::null);
    // Output: a v1 caller gets the v1 part, nothing written beyond it.
    struct {
        fake_v1 v1;
        std::uint64_t guard;
    } out;
    out.v1 = {sizeof(fake_v1), 0, 0};
    out.guard = 0x1234;
    const fake_v2 src{sizeof(fake_v2), 3, 4, 5};
    tutti_c::write_struct(&src, sizeof src, &out.v1, out.v1.struct_size);
    EXPECT_EQ(out.v1.struct_size, sizeof(fake_v1));
    EXPECT_EQ(out.v1.a, 3u);
    EXPECT_EQ(out.v1.b, 4u);
    EXPECT_EQ(out.guard, 0x1234u);
    // A v2 caller against a v1 library: the bytes it does not know are zero.
    fake_v2 newer{sizeof(fake_v2), 0, 0, 77};
    const fake_v1 v1src{sizeof(fake_v1), 5, 6};
    tutti_c::write_struct(&v1src, sizeof v1src, &newer, newer.struct_size);
    EXPECT_EQ(newer.a, 5u);
    EXPECT_EQ(newer.c, 0u);
}

TEST(CApi, NullRoomIsRefusedEverywhere) {
    const int inval = TUTTI_E_INVALID_ARGUMENT;
    std::uint32_t id = 0;
    tutti_pcm_participant_config p;
    tutti_pcm_participant_config_init(&p);
    tutti_rtp_participant_config rc;
    tutti_rtp_participant_config_init(&rc);
    float f[4] = {};
    std::int16_t s[4] = {};
    std::uint8_t b[4] = {};
    tutti_room_event ev[1];
    ev[0].struct_size = sizeof ev[0];
    tutti_participant_stats ps;
    ps.struct_size = sizeof ps;
    tutti_room_stats rs;
    rs.struct_size = sizeof rs;
    tutti_room_config cfg;
    tutti_room_config_init(&cfg);
    EXPECT_EQ(tutti_room_join_rtp(nullptr, &rc, &id), inval);
    EXPECT_EQ(last_error(), "tutti_room_join_rtp: room is NULL");
    EXPECT_EQ(tutti_room_join_rtp_sdp(nullptr, "v=0", -1, nullptr, &id), inval);
    EXPECT_EQ(tutti_room_join_pcm(nullptr, &p, &id), inval);
    EXPECT_EQ(tutti_room_leave(nullptr, 1), inval);
    EXPECT_EQ(tutti_room_set_input_gain(nullptr, 1, 1.0f), inval);
    EXPECT_EQ(tutti_room_set_output_gain(nullptr, 1, 1.0f), inval);
    EXPECT_EQ(tutti_room_set_muted(nullptr, 1, 1), inval);
    EXPECT_EQ(tutti_room_set_deaf(nullptr, 1, 1), inval);
    EXPECT_EQ(tutti_room_set_hears(nullptr, 1, 2, 0), inval);
    EXPECT_EQ(tutti_room_play_prompt(nullptr, 0, f, 4, 8000, 1.0f, &id), inval);
    EXPECT_EQ(tutti_room_play_prompt_s16(nullptr, 0, s, 4, 8000, 1.0f, &id), inval);
    EXPECT_EQ(tutti_room_stop_prompt(nullptr, 1), inval);
    EXPECT_EQ(tutti_room_enable_tap(nullptr, 1), inval);
    EXPECT_EQ(tutti_room_pull_tap(nullptr, f, 4, nullptr), inval);
    EXPECT_EQ(tutti_room_push_rtp(nullptr, 1, b, 4, 0), inval);
    EXPECT_EQ(tutti_room_push_pcm(nullptr, 1, s, 4, 1), inval);
    EXPECT_EQ(tutti_room_pull_rtp(nullptr, 1, b, 4), inval);
    EXPECT_EQ(tutti_room_pull_pcm(nullptr, 1, s, 4, 1), inval);
    EXPECT_EQ(tutti_room_tick(nullptr, 0), inval);
    EXPECT_EQ(last_error(), "tutti_room_tick: room is NULL");
    EXPECT_EQ(tutti_room_tick_frames(nullptr), 0u);
    EXPECT_EQ(tutti_room_poll_events(nullptr, ev, 1), inval);
    EXPECT_EQ(tutti_room_set_event_callback(nullptr, nullptr, nullptr), inval);
    EXPECT_EQ(tutti_room_get_participant_stats(nullptr, 1, &ps), inval);
    EXPECT_EQ(tutti_room_get_stats(nullptr, &rs), inval);
    EXPECT_EQ(tutti_room_get_config(nullptr, &cfg), inval);
    tutti_room_destroy(nullptr);  // no-op
}

TEST(CApi, UnknownIdsAndWrongShapesAreRefused) {
    room_ptr r(make_room());
    const std::uint32_t a = join_pcm(r.get());
    const std::uint32_t bogus = a + 1000;
    std::int16_t s[320] = {};
    std::uint8_t pkt[1500] = {};
    EXPECT_EQ(tutti_room_leave(r.get(), bogus), TUTTI_E_NOT_FOUND);
    EXPECT_NE(last_error().find(std::to_string(bogus)), std::string::npos) << last_error();
    EXPECT_EQ(tutti_room_set_input_gain(r.get(), bogus, 1.0f), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(tutti_room_set_output_gain(r.get(), bogus, 1.0f), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(tutti_room_set_muted(r.get(), bogus, 1), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(tutti_room_set_deaf(r.get(), bogus, 1), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(tutti_room_set_hears(r.get(), bogus, a, 0), TUTTI_E_NOT_FOUND);
    EXPECT_NE(last_error().find("listener"), std::string::npos) << last_error();
    EXPECT_EQ(tutti_room_set_hears(r.get(), a, a, 0), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_stop_prompt(r.get(), 12345), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(tutti_room_push_pcm(r.get(), bogus, s, 320, 1), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(last_error(), "tutti_room_push_pcm: unknown participant");
    EXPECT_EQ(tutti_room_pull_pcm(r.get(), bogus, s, 320, 1), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(tutti_room_push_rtp(r.get(), bogus, pkt, 20, 0), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(tutti_room_pull_rtp(r.get(), bogus, pkt, sizeof pkt), TUTTI_E_NOT_FOUND);
    tutti_participant_stats ps;
    ps.struct_size = sizeof ps;
    EXPECT_EQ(tutti_room_get_participant_stats(r.get(), bogus, &ps), TUTTI_E_NOT_FOUND);
    // RTP calls on a PCM participant; a wrong frame shape; NULL buffers.
    EXPECT_EQ(tutti_room_push_rtp(r.get(), a, pkt, 20, 0), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(last_error(), "tutti_room_push_rtp: not an RTP participant");
    EXPECT_EQ(tutti_room_pull_rtp(r.get(), a, pkt, sizeof pkt), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_push_pcm(r.get(), a, s, 320, 2), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_push_pcm(r.get(), a, nullptr, 320, 1), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_pull_pcm(r.get(), a, nullptr, 320, 1), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_push_rtp(r.get(), a, nullptr, 20, 0), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_pull_rtp(r.get(), a, nullptr, 20), TUTTI_E_INVALID_ARGUMENT);
    // Join misuse.
    std::uint32_t id = 0;
    EXPECT_EQ(tutti_room_join_pcm(r.get(), nullptr, &id), TUTTI_E_INVALID_ARGUMENT);
    tutti_pcm_participant_config p;
    tutti_pcm_participant_config_init(&p);
    EXPECT_EQ(tutti_room_join_pcm(r.get(), &p, nullptr), TUTTI_E_INVALID_ARGUMENT);
    p.struct_size = 4;
    EXPECT_EQ(tutti_room_join_pcm(r.get(), &p, &id), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("struct_size is 4"), std::string::npos) << last_error();
    tutti_pcm_participant_config_init(&p);
    p.sample_rate_hz = 7;
    EXPECT_NE(tutti_room_join_pcm(r.get(), &p, &id), TUTTI_OK);
    EXPECT_EQ(last_error().rfind("tutti_room_join_pcm: ", 0), 0u) << last_error();
    // The room still works after all of that.
    EXPECT_EQ(tutti_room_push_pcm(r.get(), a, s, 320, 1), TUTTI_OK);
    EXPECT_EQ(tutti_room_tick(r.get(), 0), TUTTI_OK);
    EXPECT_EQ(tutti_room_pull_pcm(r.get(), a, s, 320, 1), 320);
    EXPECT_EQ(tutti_room_tick_frames(r.get()), 320u);
}

TEST(CApi, RtpJoinFromStringsAndSdpWithClearErrors) {
    room_ptr r(make_room());
    tutti_rtp_participant_config c;
    tutti_rtp_participant_config_init(&c);
    std::uint32_t id = 0;
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_INVALID_ARGUMENT);  // no rtpmap
    EXPECT_NE(last_error().find("receive_rtpmap is NULL"), std::string::npos) << last_error();
    EXPECT_EQ(tutti_room_join_rtp(r.get(), nullptr, &id), TUTTI_E_INVALID_ARGUMENT);
    c.receive_rtpmap = "111 opus/48000/2";
    c.receive_fmtp = "useinbandfec=1; minptime=10";
    ASSERT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_OK) << tutti_last_error();
    EXPECT_NE(id, 0u);
    c.receive_rtpmap = "0";  // static PCMU
    c.receive_fmtp = nullptr;
    c.send_rtpmap = "a=rtpmap:8 PCMA/8000";
    c.send_ptime_ms = 20;
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_OK) << tutti_last_error();
    c.send_rtpmap = nullptr;
    c.receive_rtpmap = "2";  // no static assignment
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_NOT_FOUND);
    EXPECT_NE(last_error().find("no static assignment"), std::string::npos) << last_error();
    c.receive_rtpmap = "300";
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_MALFORMED);
    c.receive_rtpmap = "111 opus";  // no clock rate
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_MALFORMED);
    EXPECT_EQ(last_error().rfind("tutti_room_join_rtp: receive_rtpmap: ", 0), 0u) << last_error();
    c.receive_rtpmap = "96 nosuchcodec/8000";
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_NOT_FOUND);
    EXPECT_NE(last_error().find("nosuchcodec"), std::string::npos) << last_error();
    c.receive_rtpmap = "111 opus/48000/2";
    c.receive_fmtp = "96 useinbandfec=1";  // payload type of another format
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("payload type 96"), std::string::npos) << last_error();
    c.receive_fmtp = "a=fmtp:111 useinbandfec=1";
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_OK) << tutti_last_error();
    c.receive_fmtp = "useinbandfec=2";  // the codec says no
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_NE(last_error().find("useinbandfec"), std::string::npos) << last_error();
    c.receive_fmtp = nullptr;
    c.telephone_event_payload_type = 200;
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_INVALID_ARGUMENT);
    c.telephone_event_payload_type = -1;
    c.audio_level_extension_id = 15;
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_INVALID_ARGUMENT);
    c.audio_level_extension_id = 0;
    c.opus_application = 7;
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_INVALID_ARGUMENT);
    c.opus_application = TUTTI_OPUS_APPLICATION_VOIP;
    c.receive_ptime_ms = 5000;
    EXPECT_EQ(tutti_room_join_rtp(r.get(), &c, &id), TUTTI_E_INVALID_ARGUMENT);

    // SDP.
    EXPECT_EQ(tutti_room_join_rtp_sdp(r.get(), "this is not sdp", -1, nullptr, &id), TUTTI_E_MALFORMED);
    EXPECT_EQ(last_error().rfind("tutti_room_join_rtp_sdp: ", 0), 0u) << last_error();
    EXPECT_NE(last_error().find("line 1"), std::string::npos) << last_error();
    EXPECT_EQ(tutti_room_join_rtp_sdp(r.get(), "v=0\r\ns=-\r\n", -1, nullptr, &id), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(tutti_room_join_rtp_sdp(r.get(), nullptr, -1, nullptr, &id), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_join_rtp_sdp(r.get(), "v=0\r\n", 128, nullptr, &id), TUTTI_E_INVALID_ARGUMENT);
    const char* g729_only = "v=0\r\nm=audio 4000 RTP/AVP 18 101\r\na=rtpmap:101 telephone-event/8000\r\n";
    EXPECT_EQ(tutti_room_join_rtp_sdp(r.get(), g729_only, -1, nullptr, &id), TUTTI_E_NOT_FOUND);
    EXPECT_NE(last_error().find("18 G729, 101 telephone-event"), std::string::npos) << last_error();
    const char* offer =
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 18 111 0 101\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n";
    EXPECT_EQ(tutti_room_join_rtp_sdp(r.get(), offer, 5, nullptr, &id), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(tutti_room_join_rtp_sdp(r.get(), offer, -1, nullptr, &id), TUTTI_OK) << tutti_last_error();
    // With a config: its rtpmap/fmtp/ptime fields (ptime 5000 here) are ignored, the rest is used.
    EXPECT_EQ(tutti_room_join_rtp_sdp(r.get(), offer, 0, &c, &id), TUTTI_OK) << tutti_last_error();
    c.struct_size = 3;
    EXPECT_EQ(tutti_room_join_rtp_sdp(r.get(), offer, 0, &c, &id), TUTTI_E_INVALID_ARGUMENT);
}

TEST(CApi, ThreePcmParticipantsEachHearTheOthersNotThemselves) {
    room_ptr r(make_room());
    std::vector<person> people(3);
    for (int i = 0; i < 3; ++i) {
        people[i].id = join_pcm(r.get());
        people[i].voice = speech(i);
    }
    run(r.get(), people, 0, 200);  // 4 s
    for (int listener = 0; listener < 3; ++listener)
        for (int talker = 0; talker < 3; ++talker) {
            std::vector<float> v(people[talker].voice.begin(), people[talker].voice.begin() + 16000 * 4);
            const double c = max_correlation(v, people[listener].heard, 400);
            if (listener == talker) EXPECT_LT(c, 0.1) << listener;
            else EXPECT_GT(c, 0.45) << listener << " does not hear " << talker;
        }
    const auto events = poll_all(r.get());
    for (const auto& p : people) {
        EXPECT_EQ(count(events, TUTTI_ROOM_EVENT_JOINED, p.id), 1);
        EXPECT_GE(count(events, TUTTI_ROOM_EVENT_TALK_START, p.id), 1);
        tutti_participant_stats s;
        s.struct_size = sizeof s;
        ASSERT_EQ(tutti_room_get_participant_stats(r.get(), p.id, &s), TUTTI_OK);
        EXPECT_GT(s.talk_ticks, 50u);
        EXPECT_EQ(s.packets_out, 200u);
        EXPECT_GT(s.input_level_dbov, -60.0f);
        EXPECT_EQ(s.jitter.packets_received, 0u);  // PCM: no jitter buffer
    }
    tutti_room_stats rs;
    rs.struct_size = sizeof rs;
    ASSERT_EQ(tutti_room_get_stats(r.get(), &rs), TUTTI_OK);
    EXPECT_EQ(rs.ticks, 200u);
    EXPECT_EQ(rs.participants, 3u);
    EXPECT_EQ(rs.mixing_rate_hz, 16000u);
    EXPECT_GT(rs.tick_mean_us, 0.0);
    EXPECT_GE(rs.tick_max_us, rs.tick_mean_us);
    // Leave: a LEFT event, then the id is unknown.
    const std::uint32_t gone = people[2].id;
    ASSERT_EQ(tutti_room_leave(r.get(), gone), TUTTI_OK);
    people.pop_back();
    run(r.get(), people, 200, 2);
    EXPECT_EQ(count(poll_all(r.get()), TUTTI_ROOM_EVENT_LEFT, gone), 1);
    tutti_participant_stats s;
    s.struct_size = sizeof s;
    EXPECT_EQ(tutti_room_get_participant_stats(r.get(), gone, &s), TUTTI_E_NOT_FOUND);
    EXPECT_EQ(tutti_room_leave(r.get(), gone), TUTTI_E_NOT_FOUND);
}

TEST(CApi, MutedDeafHearsAndGains) {
    room_ptr r(make_room());
    std::vector<person> people(3);
    for (int i = 0; i < 3; ++i) {
        people[i].id = join_pcm(r.get());
        people[i].voice = speech(i);
    }
    ASSERT_EQ(tutti_room_set_muted(r.get(), people[0].id, 1), TUTTI_OK);
    ASSERT_EQ(tutti_room_set_deaf(r.get(), people[1].id, 1), TUTTI_OK);
    ASSERT_EQ(tutti_room_set_hears(r.get(), people[2].id, people[1].id, 0), TUTTI_OK);
    run(r.get(), people, 0, 150);
    const auto v = [&](int i) { return std::vector<float>(people[i].voice.begin(), people[i].voice.begin() + 16000 * 3); };
    EXPECT_LT(max_correlation(v(0), people[1].heard, 400), 0.1);  // muted: nobody hears 0
    EXPECT_LT(max_correlation(v(0), people[2].heard, 400), 0.1);
    EXPECT_EQ(energy(people[1].heard, 3200), 0.0);               // deaf
    EXPECT_LT(max_correlation(v(1), people[2].heard, 400), 0.1);  // 2 does not hear 1 ...
    EXPECT_GT(max_correlation(v(1), people[0].heard, 400), 0.45); // ... 0 does
    // Unmute, undeaf, restore; then halve what 2 hears: its energy drops ~4x.
    ASSERT_EQ(tutti_room_set_muted(r.get(), people[0].id, 0), TUTTI_OK);
    ASSERT_EQ(tutti_room_set_deaf(r.get(), people[1].id, 0), TUTTI_OK);
    ASSERT_EQ(tutti_room_set_hears(r.get(), people[2].id, people[1].id, 1), TUTTI_OK);
    for (auto& p : people) p.heard.clear();
    run(r.get(), people, 0, 100);
    EXPECT_GT(energy(people[1].heard, 3200), 1.0);
    const double full = energy(people[2].heard, 3200);
    ASSERT_EQ(tutti_room_set_output_gain(r.get(), people[2].id, 0.5f), TUTTI_OK);
    ASSERT_EQ(tutti_room_set_input_gain(r.get(), people[0].id, 1.0f), TUTTI_OK);
    for (auto& p : people) p.heard.clear();
    run(r.get(), people, 0, 100);  // the same speech again
    const double half = energy(people[2].heard, 3200);
    EXPECT_NEAR(half / full, 0.25, 0.05);
}

std::vector<tutti_room_event> callback_events;
void record_event(void* user, tutti_room* room, const tutti_room_event* e) {
    ASSERT_EQ(e->struct_size, sizeof(tutti_room_event));
    ASSERT_NE(room, nullptr);
    *static_cast<int*>(user) += 1;
    callback_events.push_back(*e);
}

TEST(CApi, EventsByCallbackFromTickAndByPollingWithTheCallersStride) {
    callback_events.clear();
    callback_events.reserve(64);
    int calls = 0;
    tutti_room_config c;
    tutti_room_config_init(&c);
    c.mixing_rate_hz = 16000;
    c.event_callback = record_event;
    c.event_user = &calls;
    tutti_room* raw = nullptr;
    ASSERT_EQ(tutti_room_create(&c, &raw), TUTTI_OK);
    room_ptr r(raw);
    std::vector<person> people(2);
    for (int i = 0; i < 2; ++i) people[i].id = join_pcm(r.get()), people[i].voice = speech(i);
    run(r.get(), people, 0, 50);
    EXPECT_GE(calls, 4);  // 2 joined + talk starts
    EXPECT_EQ(count(callback_events, TUTTI_ROOM_EVENT_JOINED, people[0].id), 1);
    EXPECT_EQ(count(callback_events, TUTTI_ROOM_EVENT_JOINED, people[1].id), 1);
    EXPECT_GE(count(callback_events, TUTTI_ROOM_EVENT_TALK_START, people[0].id), 1);
    tutti_room_config got;
    tutti_room_config_init(&got);
    ASSERT_EQ(tutti_room_get_config(r.get(), &got), TUTTI_OK);
    EXPECT_EQ(got.event_callback, &record_event);
    EXPECT_EQ(got.event_user, &calls);
    EXPECT_EQ(got.mixing_rate_hz, 16000u);
    // While a callback is set, polling finds nothing.
    tutti_room_event ev[4];
    ev[0].struct_size = sizeof ev[0];
    EXPECT_EQ(tutti_room_poll_events(r.get(), ev, 4), 0);
    // Remove it: events wait for polling, written with the caller's (larger) stride.
    ASSERT_EQ(tutti_room_set_event_callback(r.get(), nullptr, nullptr), TUTTI_OK);
    const int before = calls;
    const std::uint32_t late = join_pcm(r.get());
    ASSERT_EQ(tutti_room_leave(r.get(), people[1].id), TUTTI_OK);
    people.pop_back();
    run(r.get(), people, 50, 2);
    EXPECT_EQ(calls, before);
    struct bigger_event {
        tutti_room_event e;
        std::uint64_t future;
    } big[8];
    std::memset(big, 0xab, sizeof big);
    big[0].e.struct_size = sizeof(bigger_event);
    const int n = tutti_room_poll_events(r.get(), &big[0].e, 8);
    ASSERT_GE(n, 2);
    bool joined = false, left = false;
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(big[i].e.struct_size, sizeof(bigger_event));
        EXPECT_EQ(big[i].future, 0u);
        joined |= big[i].e.kind == TUTTI_ROOM_EVENT_JOINED && big[i].e.participant == late;
        left |= big[i].e.kind == TUTTI_ROOM_EVENT_LEFT;
    }
    EXPECT_TRUE(joined);
    EXPECT_TRUE(left);
    EXPECT_EQ(big[n].e.struct_size, 0xababababababababu);  // untouched beyond n
    // Stride below the first version, NULL array, zero capacity.
    ev[0].struct_size = 8;
    EXPECT_EQ(tutti_room_poll_events(r.get(), ev, 4), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_poll_events(r.get(), nullptr, 4), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_poll_events(r.get(), nullptr, 0), 0);
}

TEST(CApi, ACallbackThatRemovesItselfLeavesTheRestForPolling) {
    room_ptr r(make_room());
    int calls = 0;
    ASSERT_EQ(tutti_room_set_event_callback(
                  r.get(),
                  [](void* user, tutti_room* room, const tutti_room_event*) {
                      ++*static_cast<int*>(user);
                      EXPECT_EQ(tutti_room_set_event_callback(room, nullptr, nullptr), TUTTI_OK);
                  },
                  &calls),
              TUTTI_OK);
    for (int i = 0; i < 3; ++i) (void)join_pcm(r.get());  // three JOINED events at the next tick
    ASSERT_EQ(tutti_room_tick(r.get(), 0), TUTTI_OK);
    EXPECT_EQ(calls, 1);
    const auto rest = poll_all(r.get());
    EXPECT_EQ(std::count_if(rest.begin(), rest.end(), [](const tutti_room_event& e) { return e.kind == TUTTI_ROOM_EVENT_JOINED; }), 2);
}

TEST(CApi, ACallbackThatThrowsDoesNotUnwindThroughC) {
    room_ptr r(make_room());
    ASSERT_EQ(tutti_room_set_event_callback(
                  r.get(), [](void*, tutti_room*, const tutti_room_event*) { throw std::runtime_error("host bug"); }, nullptr),
              TUTTI_OK);
    (void)join_pcm(r.get());  // a JOINED event at the next tick
    EXPECT_EQ(tutti_room_tick(r.get(), 0), TUTTI_E_INTERNAL);
    EXPECT_NE(last_error().find("callback threw"), std::string::npos);
    ASSERT_EQ(tutti_room_set_event_callback(r.get(), nullptr, nullptr), TUTTI_OK);
    EXPECT_EQ(tutti_room_tick(r.get(), 20000), TUTTI_OK);
}

TEST(CApi, PromptsPlayStopAndReportDone) {
    room_ptr r(make_room());
    std::vector<person> people(2);
    for (auto& p : people) p.id = join_pcm(r.get());
    std::vector<float> tone(8000);  // 0.5 s at 16 kHz
    for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = 0.25f * std::sin(2 * std::numbers::pi_v<float> * 440.0f * float(i) / 16000.0f);
    std::vector<std::int16_t> tone16(4000, 4000);  // 0.5 s at 8 kHz
    std::uint32_t whole = 0, one = 0, stopped = 0;
    ASSERT_EQ(tutti_room_play_prompt(r.get(), TUTTI_WHOLE_ROOM, tone.data(), tone.size(), 16000, 1.0f, &whole), TUTTI_OK)
        << tutti_last_error();
    ASSERT_EQ(tutti_room_play_prompt_s16(r.get(), people[0].id, tone16.data(), tone16.size(), 8000, 0.5f, &one), TUTTI_OK);
    ASSERT_EQ(tutti_room_play_prompt(r.get(), people[1].id, tone.data(), tone.size(), 16000, 1.0f, &stopped), TUTTI_OK);
    EXPECT_NE(whole, one);
    ASSERT_EQ(tutti_room_stop_prompt(r.get(), stopped), TUTTI_OK);
    // Misuse.
    std::uint32_t id = 0;
    EXPECT_EQ(tutti_room_play_prompt(r.get(), 9999, tone.data(), tone.size(), 16000, 1.0f, &id), TUTTI_E_NOT_FOUND);
    EXPECT_NE(last_error().find("target 9999"), std::string::npos) << last_error();
    EXPECT_EQ(tutti_room_play_prompt(r.get(), TUTTI_WHOLE_ROOM, tone.data(), 0, 16000, 1.0f, &id), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_play_prompt(r.get(), TUTTI_WHOLE_ROOM, tone.data(), tone.size(), 4000, 1.0f, &id), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_play_prompt(r.get(), TUTTI_WHOLE_ROOM, nullptr, 10, 16000, 1.0f, &id), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_play_prompt(r.get(), TUTTI_WHOLE_ROOM, tone.data(), tone.size(), 16000, 1.0f, nullptr), TUTTI_E_INVALID_ARGUMENT);
    run(r.get(), people, 0, 40);  // 0.8 s
    EXPECT_GT(energy(people[0].heard), 100.0);  // both hear the room prompt
    EXPECT_GT(energy(people[1].heard), 100.0);
    const auto events = poll_all(r.get());
    int done = 0;
    for (const auto& e : events) {
        if (e.kind != TUTTI_ROOM_EVENT_PROMPT_DONE) continue;
        ++done;
        if (e.prompt == stopped) {
            EXPECT_EQ(e.stopped, 1);
            EXPECT_EQ(e.participant, people[1].id);
        } else {
            EXPECT_EQ(e.stopped, 0);
        }
        if (e.prompt == whole) {
            EXPECT_EQ(e.participant, TUTTI_WHOLE_ROOM);
        }
    }
    EXPECT_EQ(done, 3);
    EXPECT_EQ(tutti_room_stop_prompt(r.get(), whole), TUTTI_E_NOT_FOUND);  // already done
}

TEST(CApi, TapHandsOutEachTicksMix) {
    room_ptr r(make_room());
    std::vector<person> people(1);
    people[0].id = join_pcm(r.get());
    people[0].voice = speech(0);
    float out[960];
    std::uint32_t rate = 0;
    EXPECT_EQ(tutti_room_pull_tap(r.get(), out, 960, &rate), 0);  // not enabled
    ASSERT_EQ(tutti_room_enable_tap(r.get(), 1), TUTTI_OK);
    run(r.get(), people, 0, 3);
    EXPECT_EQ(tutti_room_pull_tap(r.get(), out, 960, &rate), 320);
    EXPECT_EQ(rate, 16000u);
    EXPECT_EQ(tutti_room_pull_tap(r.get(), out, 100, nullptr), TUTTI_E_BUFFER_TOO_SMALL);
    EXPECT_EQ(tutti_room_pull_tap(r.get(), nullptr, 100, nullptr), TUTTI_E_INVALID_ARGUMENT);
    EXPECT_EQ(tutti_room_pull_tap(r.get(), out, 960, nullptr), 320);
    EXPECT_EQ(tutti_room_pull_tap(r.get(), out, 960, nullptr), 0);
    ASSERT_EQ(tutti_room_enable_tap(r.get(), 0), TUTTI_OK);
    tutti_room_stats rs;
    rs.struct_size = sizeof rs;
    ASSERT_EQ(tutti_room_get_stats(r.get(), &rs), TUTTI_OK);
    EXPECT_EQ(rs.tap_frames, 3u * 320u);
}

// Two rooms joined by RTP (a cascade): room A's participant X and room B's
// participant Y exchange Opus packets; B's listener hears A's talker.
TEST(CApi, RtpBetweenTwoRoomsCarriesSpeech) {
    room_ptr a(make_room()), b(make_room());
    person talker, listener;
    talker.id = join_pcm(a.get());
    talker.voice = speech(0);
    listener.id = join_pcm(b.get());
    tutti_rtp_participant_config c;
    tutti_rtp_participant_config_init(&c);
    c.receive_rtpmap = "111 opus/48000/2";
    c.receive_fmtp = "useinbandfec=1";
    c.ssrc = 0x1111;
    std::uint32_t x = 0, y = 0;
    ASSERT_EQ(tutti_room_join_rtp(a.get(), &c, &x), TUTTI_OK) << tutti_last_error();
    const char* sdp = "v=0\r\nm=audio 4000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\n";
    c.ssrc = 0x2222;
    ASSERT_EQ(tutti_room_join_rtp_sdp(b.get(), sdp, 111, &c, &y), TUTTI_OK) << tutti_last_error();
    std::uint8_t pkt[1500];
    std::uint64_t forwarded = 0;
    std::vector<person*> in_a{&talker}, in_b{&listener};
    const std::size_t ticks = 200;
    for (std::size_t t = 0; t < ticks; ++t) {
        const auto now = static_cast<std::int64_t>(t) * 20000;
        push(a.get(), talker, t);
        push(b.get(), listener, t);
        ASSERT_EQ(tutti_room_tick(a.get(), now), TUTTI_OK);
        ASSERT_EQ(tutti_room_tick(b.get(), now), TUTTI_OK);
        pull(a.get(), talker);
        pull(b.get(), listener);
        int n;
        while ((n = tutti_room_pull_rtp(a.get(), x, pkt, sizeof pkt)) > 0) {
            ASSERT_EQ(tutti_room_push_rtp(b.get(), y, pkt, static_cast<size_t>(n), now + 1000), TUTTI_OK);
            ++forwarded;
        }
        ASSERT_EQ(n, 0);
        while ((n = tutti_room_pull_rtp(b.get(), y, pkt, sizeof pkt)) > 0)
            ASSERT_EQ(tutti_room_push_rtp(a.get(), x, pkt, static_cast<size_t>(n), now + 1000), TUTTI_OK);
        ASSERT_EQ(n, 0);
    }
    EXPECT_GE(forwarded, ticks - 1);
    ASSERT_EQ(tutti_room_tick(b.get(), ticks * 20000), TUTTI_OK);  // takes in the last forwarded packet
    std::vector<float> v(talker.voice.begin(), talker.voice.begin() + 16000 * 4);
    EXPECT_GT(max_correlation(v, listener.heard, 3200), 0.4);  // within 200 ms of jitter buffer and codec delay
    tutti_participant_stats s;
    s.struct_size = sizeof s;
    ASSERT_EQ(tutti_room_get_participant_stats(b.get(), y, &s), TUTTI_OK);
    EXPECT_EQ(s.packets_in, forwarded);
    EXPECT_EQ(s.jitter.packets_received, forwarded);
    EXPECT_EQ(s.jitter.packets_lost, 0u);
    EXPECT_GT(s.jitter.ticks, 0u);
    ASSERT_EQ(tutti_room_get_participant_stats(a.get(), x, &s), TUTTI_OK);
    EXPECT_GE(s.packets_out, forwarded);
    EXPECT_GT(s.frames_encoded + s.packets_shared, 0u);  // a listener that never talks sends the shared encoder's payloads
    // Too small an output buffer is a clear error, not a crash.
    push(a.get(), talker, ticks);
    ASSERT_EQ(tutti_room_tick(a.get(), ticks * 20000), TUTTI_OK);
    EXPECT_EQ(tutti_room_pull_rtp(a.get(), x, pkt, 4), TUTTI_E_BUFFER_TOO_SMALL);
}

// RFC 4733 from the SDP's telephone-event payload type reaches the events.
TEST(CApi, DtmfFromSdpTelephoneEvent) {
    room_ptr r(make_room(8000));
    const char* sdp = "v=0\r\nm=audio 4000 RTP/AVP 0 101 13\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n";
    std::uint32_t id = 0;
    ASSERT_EQ(tutti_room_join_rtp_sdp(r.get(), sdp, -1, nullptr, &id), TUTTI_OK) << tutti_last_error();
    std::uint8_t pkt[12 + 160];
    std::uint16_t seq = 100;
    std::uint32_t ts = 5000;
    const auto header = [&](std::uint8_t pt, bool marker) {
        pkt[0] = 0x80;
        pkt[1] = static_cast<std::uint8_t>(pt | (marker ? 0x80 : 0));
        pkt[2] = static_cast<std::uint8_t>(seq >> 8), pkt[3] = static_cast<std::uint8_t>(seq);
        pkt[4] = static_cast<std::uint8_t>(ts >> 24), pkt[5] = static_cast<std::uint8_t>(ts >> 16);
        pkt[6] = static_cast<std::uint8_t>(ts >> 8), pkt[7] = static_cast<std::uint8_t>(ts);
        pkt[8] = 0, pkt[9] = 0, pkt[10] = 0x33, pkt[11] = 0x44;
        ++seq;
    };
    for (std::size_t t = 0; t < 30; ++t) {
        const auto now = static_cast<std::int64_t>(t) * 20000;
        if (t < 10) {  // PCMU silence
            header(0, t == 0);
            std::memset(pkt + 12, 0xff, 160);
            ASSERT_EQ(tutti_room_push_rtp(r.get(), id, pkt, sizeof pkt, now), TUTTI_OK);
            ts += 160;
        } else if (t < 15) {  // key '5' for 5 ticks, the last one 'end'
            header(101, t == 10);
            const auto duration = static_cast<std::uint16_t>((t - 9) * 160);
            pkt[12] = 5;
            pkt[13] = t == 14 ? 0x8a : 0x0a;
            pkt[14] = static_cast<std::uint8_t>(duration >> 8), pkt[15] = static_cast<std::uint8_t>(duration);
            ASSERT_EQ(tutti_room_push_rtp(r.get(), id, pkt, 16, now), TUTTI_OK);
        }
        ASSERT_EQ(tutti_room_tick(r.get(), now), TUTTI_OK);
        while (tutti_room_pull_rtp(r.get(), id, pkt, sizeof pkt) > 0) {
        }
    }
    const auto events = poll_all(r.get());
    int begins = 0, ends = 0;
    for (const auto& e : events) {
        if (e.kind == TUTTI_ROOM_EVENT_DTMF_BEGIN) {
            ++begins;
            EXPECT_EQ(e.key, '5');
            EXPECT_EQ(e.participant, id);
        }
        if (e.kind == TUTTI_ROOM_EVENT_DTMF_END) {
            ++ends;
            EXPECT_EQ(e.duration_ms, 100u);
        }
    }
    EXPECT_EQ(begins, 1);
    EXPECT_EQ(ends, 1);
    tutti_participant_stats s;
    s.struct_size = sizeof s;
    ASSERT_EQ(tutti_room_get_participant_stats(r.get(), id, &s), TUTTI_OK);
    EXPECT_EQ(s.dtmf_events, 1u);
}

struct counting_allocator {
    int mallocs = 0, frees = 0;
    bool fail = false;
};

TEST(CApi, CallerAllocatorServesTheHandle) {
    counting_allocator counts;
    tutti_room_config c;
    tutti_room_config_init(&c);
    c.allocator.user = &counts;
    c.allocator.malloc_fn = [](size_t n, void* u) -> void* {
        auto* k = static_cast<counting_allocator*>(u);
        if (k->fail) return nullptr;
        ++k->mallocs;
        return std::malloc(n);
    };
    c.allocator.free_fn = [](void* p, void* u) {
        ++static_cast<counting_allocator*>(u)->frees;
        std::free(p);
    };
    tutti_room* r = nullptr;
    ASSERT_EQ(tutti_room_create(&c, &r), TUTTI_OK);
    EXPECT_EQ(counts.mallocs, 1);
    (void)join_pcm(r);
    ASSERT_EQ(tutti_room_tick(r, 0), TUTTI_OK);
    tutti_room_destroy(r);
    EXPECT_EQ(counts.frees, counts.mallocs);
    counts.fail = true;
    EXPECT_EQ(tutti_room_create(&c, &r), TUTTI_E_OUT_OF_MEMORY);
    EXPECT_EQ(r, nullptr);
    EXPECT_NE(last_error().find("allocator returned NULL"), std::string::npos);
}

TEST(CApi, RoomFullIsOutOfMemoryWithAMessage) {
    tutti_room_config c;
    tutti_room_config_init(&c);
    c.max_participants = 2;
    tutti_room* raw = nullptr;
    ASSERT_EQ(tutti_room_create(&c, &raw), TUTTI_OK);
    room_ptr r(raw);
    (void)join_pcm(r.get());
    (void)join_pcm(r.get());
    tutti_pcm_participant_config p;
    tutti_pcm_participant_config_init(&p);
    std::uint32_t id = 0;
    EXPECT_EQ(tutti_room_join_pcm(r.get(), &p, &id), TUTTI_E_OUT_OF_MEMORY);
    EXPECT_NE(last_error().find("full"), std::string::npos) << last_error();
}

// The thread rules of tutti.h through the C layer: control calls from another
// thread while the tick thread ticks, pushes and pulls (run under TSan in CI),
// and tutti_last_error() kept per thread.
TEST(CApi, ControlThreadWhileTickingAndLastErrorPerThread) {
    room_ptr r(make_room());
    std::vector<person> people(3);
    for (int i = 0; i < 3; ++i) people[i].id = join_pcm(r.get()), people[i].voice = speech(i);
    std::atomic<bool> done{false};
    std::atomic<int> control_failures{0};
    std::thread control([&] {
        std::vector<float> beep(1600, 0.1f);
        tutti_pcm_participant_config p;
        tutti_pcm_participant_config_init(&p);
        for (int round = 0; !done.load(); ++round) {
            const int on = round & 1;
            if (tutti_room_set_muted(r.get(), people[0].id, on) != TUTTI_OK) ++control_failures;
            if (tutti_room_set_output_gain(r.get(), people[1].id, on ? 0.5f : 1.0f) != TUTTI_OK) ++control_failures;
            if (tutti_room_set_hears(r.get(), people[2].id, people[1].id, on) != TUTTI_OK) ++control_failures;
            std::uint32_t extra = 0, prompt = 0;
            if (tutti_room_join_pcm(r.get(), &p, &extra) != TUTTI_OK || tutti_room_leave(r.get(), extra) != TUTTI_OK)
                ++control_failures;
            if (tutti_room_play_prompt(r.get(), TUTTI_WHOLE_ROOM, beep.data(), beep.size(), 16000, 1.0f, &prompt) == TUTTI_OK)
                (void)tutti_room_stop_prompt(r.get(), prompt);
            // A failure of our own: the message on this thread stays ours.
            EXPECT_EQ(tutti_room_leave(r.get(), 0xfffffff0u), TUTTI_E_NOT_FOUND);
            const std::string mine = tutti_last_error();
            EXPECT_EQ(mine.rfind("tutti_room_leave: ", 0), 0u) << mine;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    std::int16_t s[320] = {};
    for (std::size_t t = 0; t < 150; ++t) {
        for (auto& p : people) push(r.get(), p, t);
        ASSERT_EQ(tutti_room_tick(r.get(), static_cast<std::int64_t>(t) * 20000), TUTTI_OK) << tutti_last_error();
        for (auto& p : people) pull(r.get(), p);
        ASSERT_EQ(tutti_room_push_pcm(r.get(), 0xfffffff0u, s, 320, 1), TUTTI_E_NOT_FOUND);
        ASSERT_STREQ(tutti_last_error(), "tutti_room_push_pcm: unknown participant");
        (void)poll_all(r.get());
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // let the control thread interleave
    }
    done = true;
    control.join();
    EXPECT_EQ(control_failures.load(), 0);
    // The talkers kept being mixed through all of it.
    EXPECT_GT(energy(people[0].heard), 1.0);
}

int event_sink_calls = 0;
void event_sink(void*, tutti_room*, const tutti_room_event*) { ++event_sink_calls; }

// The real-time rule through the C layer: once participants are set up, tick,
// push, pull and the callback dispatch allocate nothing.
TEST(CApi, TickPushPullAndCallbacksAllocateNothing) {
    room_ptr r(make_room());
    ASSERT_EQ(tutti_room_set_event_callback(r.get(), event_sink, nullptr), TUTTI_OK);
    std::vector<person> people(2);
    for (int i = 0; i < 2; ++i) people[i].id = join_pcm(r.get()), people[i].voice = speech(i);
    tutti_rtp_participant_config c;
    tutti_rtp_participant_config_init(&c);
    c.receive_rtpmap = "9 G722/8000";
    std::uint32_t rtp = 0;
    ASSERT_EQ(tutti_room_join_rtp(r.get(), &c, &rtp), TUTTI_OK) << tutti_last_error();
    ASSERT_EQ(tutti_room_enable_tap(r.get(), 1), TUTTI_OK);
    std::uint32_t prompt = 0;
    std::vector<std::int16_t> beep(16000, 3000);
    ASSERT_EQ(tutti_room_play_prompt_s16(r.get(), TUTTI_WHOLE_ROOM, beep.data(), beep.size(), 16000, 1.0f, &prompt), TUTTI_OK);
    std::int16_t in[320], out[320];
    std::uint8_t pkt[1500];
    float tap[960];
    tutti_room_stats rs;
    rs.struct_size = sizeof rs;
    tutti_participant_stats ps;
    ps.struct_size = sizeof ps;
    const auto one_tick = [&](std::size_t t) {
        for (auto& p : people) {
            for (std::size_t i = 0; i < 320; ++i)
                in[i] = static_cast<std::int16_t>(p.voice[t * 320 + i] * 32767.0f);
            (void)tutti_room_push_pcm(r.get(), p.id, in, 320, 1);
        }
        (void)tutti_room_tick(r.get(), static_cast<std::int64_t>(t) * 20000);
        for (auto& p : people) (void)tutti_room_pull_pcm(r.get(), p.id, out, 320, 1);
        while (tutti_room_pull_rtp(r.get(), rtp, pkt, sizeof pkt) > 0) {
        }
        (void)tutti_room_pull_tap(r.get(), tap, 960, nullptr);
        (void)tutti_room_get_stats(r.get(), &rs);
        (void)tutti_room_get_participant_stats(r.get(), rtp, &ps);
    };
    for (std::size_t t = 0; t < 5; ++t) one_tick(t);  // set-up ticks
    {
        tutti_test::alloc_counter probe;  // the counter sees what the C layer allocates
        room_ptr other(make_room());
        EXPECT_GT(probe.count(), 0u);
    }
    const int calls_before = event_sink_calls;
    tutti_test::alloc_counter counter;
    for (std::size_t t = 5; t < 100; ++t) one_tick(t);
    EXPECT_EQ(counter.count(), 0u);
    EXPECT_GT(event_sink_calls, calls_before);  // talk and prompt events went through the callback
    EXPECT_EQ(rs.ticks, 100u);
}

}  // namespace

// Counters added after the first version (issue 9): late and early ticks
// reach C, and a caller built with the first version's structs still works
// (nothing is written past its struct_size).
TEST(CApi, LateAndEarlyTicksAndFirstVersionStatsStructs) {
    room_ptr r(make_room());
    const std::uint32_t a = join_pcm(r.get());
    ASSERT_EQ(tutti_room_tick(r.get(), 0), TUTTI_OK);
    ASSERT_EQ(tutti_room_tick(r.get(), 200000), TUTTI_OK);  // 200 ms late
    ASSERT_EQ(tutti_room_tick(r.get(), 200000), TUTTI_OK);  // twice
    tutti_room_stats rs;
    rs.struct_size = sizeof rs;
    ASSERT_EQ(tutti_room_get_stats(r.get(), &rs), TUTTI_OK);
    EXPECT_EQ(rs.late_ticks, 1u);
    EXPECT_EQ(rs.early_ticks, 1u);
    tutti_room_stats old;
    std::memset(&old, 0xAB, sizeof old);
    old.struct_size = offsetof(tutti_room_stats, late_ticks);
    ASSERT_EQ(tutti_room_get_stats(r.get(), &old), TUTTI_OK);
    EXPECT_EQ(old.ticks, 3u);
    EXPECT_EQ(old.late_ticks, 0xABABABABABABABABull) << "written past the caller's struct";
    tutti_participant_stats ps;
    std::memset(&ps, 0xAB, sizeof ps);
    ps.struct_size = offsetof(tutti_participant_stats, packets_rate_limited);
    ASSERT_EQ(tutti_room_get_participant_stats(r.get(), a, &ps), TUTTI_OK);
    EXPECT_EQ(ps.packets_rate_limited, 0xABABABABABABABABull);
    ps.struct_size = sizeof ps;
    ASSERT_EQ(tutti_room_get_participant_stats(r.get(), a, &ps), TUTTI_OK);
    EXPECT_EQ(ps.packets_rate_limited, 0u);
}
