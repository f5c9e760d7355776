// tests/codec_registry_test.cpp: tests for tutti/codec_registry.hpp.
//
// The open table (add / replace / remove / find, a plugin-style factory with
// its context), and every SDP quirk of the built-in factories: G.722's 8000 Hz
// clock for 16 kHz audio, Opus's opus/48000/2 and its fmtp -> config mapping
// parameter by parameter, fixed clocks of G.711, L16's rates and byte order,
// packet time from ptime/maxptime, and not_found for what tutti cannot code.
#include "tutti/codec_registry.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "tutti/codecs/g711.hpp"
#include "tutti/codecs/opus.hpp"

namespace {

using tutti::codec_options;
using tutti::codec_registry;
using tutti::sdp_format;
using tutti::status;

// An sdp_format from rtpmap and fmtp text, with ptime / maxptime in ms.
sdp_format fmt(const char* rtpmap, const char* fmtp = "", std::uint32_t ptime = 0, std::uint32_t maxptime = 0) {
    sdp_format f;
    EXPECT_EQ(tutti::parse_rtpmap(rtpmap, f), status::ok) << rtpmap;
    EXPECT_EQ(tutti::parse_fmtp_params(fmtp, f.fmtp), status::ok) << fmtp;
    f.ptime_ms = ptime;
    f.maxptime_ms = maxptime;
    return f;
}

const codec_registry& builtin() {
    static const codec_registry r = codec_registry::with_builtin_codecs();
    return r;
}

// The Opus encoder / decoder configs the registry's factories really used.
tutti::opus_encoder_config opus_enc(const sdp_format& f, const codec_options& o = {}) {
    std::unique_ptr<tutti::encoder> e;
    std::string error;
    EXPECT_EQ(builtin().make_encoder(f, o, e, &error), status::ok) << error;
    if (!e) return {};
    auto* opus = dynamic_cast<tutti::opus_encoder*>(e.get());
    EXPECT_NE(opus, nullptr);
    return opus != nullptr ? opus->config() : tutti::opus_encoder_config{};
}
tutti::opus_decoder_config opus_dec(const sdp_format& f, const codec_options& o = {}) {
    std::unique_ptr<tutti::decoder> d;
    std::string error;
    EXPECT_EQ(builtin().make_decoder(f, o, d, &error), status::ok) << error;
    if (!d) return {};
    auto* opus = dynamic_cast<tutti::opus_decoder*>(d.get());
    EXPECT_NE(opus, nullptr);
    return opus != nullptr ? opus->config() : tutti::opus_decoder_config{};
}

// ---------------------------------------------------------------------------
// The table

TEST(CodecRegistry, BuiltinNames) {
    EXPECT_EQ(builtin().names(), (std::vector<std::string>{"PCMU", "PCMA", "G722", "L16", "opus"}));
    for (const char* n : {"pcmu", "PCMA", "g722", "l16", "OPUS", "Opus"}) EXPECT_NE(builtin().find(n), nullptr) << n;
    EXPECT_EQ(builtin().find("G729"), nullptr);
    EXPECT_TRUE(codec_registry().names().empty());
}

struct plugin_state {
    int encoders = 0;
    int decoders = 0;
    std::string last_name;
};

tutti::status plugin_encoder(void* context, const sdp_format& f, const codec_options&,
                             std::unique_ptr<tutti::encoder>& out, std::string*) {
    auto* s = static_cast<plugin_state*>(context);
    ++s->encoders;
    s->last_name = f.encoding_name;
    out = tutti::make_g711_encoder(tutti::g711_law::mu_law);  // stands in for a plugin codec
    return status::ok;
}
tutti::status plugin_decoder(void* context, const sdp_format&, const codec_options&,
                             std::unique_ptr<tutti::decoder>& out, std::string* error) {
    ++static_cast<plugin_state*>(context)->decoders;
    (void)out;
    if (error != nullptr) *error = "plugin says no";
    return status::unsupported;
}

TEST(CodecRegistry, AddRejectsDuplicatesUnlessReplaced) {
    plugin_state state;
    const tutti::codec_factory plugin{&plugin_encoder, &plugin_decoder, &state};
    codec_registry r = codec_registry::with_builtin_codecs();
    std::string error;
    EXPECT_EQ(r.add("opus", plugin, &error), status::invalid_argument);
    EXPECT_NE(error.find("already registered"), std::string::npos) << error;
    EXPECT_EQ(r.add("OPUS", plugin), status::invalid_argument);  // names ignore case
    EXPECT_EQ(r.add("", plugin, &error), status::invalid_argument);
    EXPECT_EQ(r.add(std::string(65, 'x'), plugin), status::invalid_argument);
    EXPECT_EQ(r.add("X-NULL", tutti::codec_factory{nullptr, &plugin_decoder, nullptr}), status::invalid_argument);
    EXPECT_EQ(r.add("X-NULL", tutti::codec_factory{&plugin_encoder, nullptr, nullptr}), status::invalid_argument);
    EXPECT_EQ(r.find("X-NULL"), nullptr);

    // A plugin codec under a new name: the registry passes its context back.
    ASSERT_EQ(r.add("x-plugin", plugin), status::ok);
    std::unique_ptr<tutti::encoder> e;
    ASSERT_EQ(r.make_encoder(fmt("100 X-Plugin/8000"), {}, e), status::ok);
    EXPECT_NE(e, nullptr);
    EXPECT_EQ(state.encoders, 1);
    EXPECT_EQ(state.last_name, "X-Plugin");
    std::unique_ptr<tutti::decoder> d;
    EXPECT_EQ(r.make_decoder(fmt("100 x-plugin/8000"), {}, d, &error), status::unsupported);
    EXPECT_EQ(error, "plugin says no");
    EXPECT_EQ(state.decoders, 1);

    // replace() overrides the built-in Opus; the order of names is kept.
    ASSERT_EQ(r.replace("Opus", plugin), status::ok);
    e.reset();
    ASSERT_EQ(r.make_encoder(fmt("111 opus/48000/2"), {}, e), status::ok);
    EXPECT_EQ(state.encoders, 2);
    EXPECT_EQ(r.names(), (std::vector<std::string>{"PCMU", "PCMA", "G722", "L16", "Opus", "x-plugin"}));
    EXPECT_EQ(r.replace("brand-new", plugin), status::ok);  // replace() also adds
    EXPECT_EQ(r.names().back(), "brand-new");

    EXPECT_EQ(r.remove("BRAND-NEW"), status::ok);
    EXPECT_EQ(r.remove("brand-new"), status::not_found);
    EXPECT_EQ(r.find("brand-new"), nullptr);

    // The built-in registry a copy was made from is untouched.
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2")).sample_rate_hz, 48000u);
}

TEST(CodecRegistry, UnknownNamesAreNotFound) {
    for (const char* rtpmap : {"101 telephone-event/8000", "13 CN/8000", "63 red/48000/2", "18 G729/8000",
                               "3 GSM/8000", "97 iLBC/8000", "98 speex/16000", "99 PCMU-WB/16000"}) {
        std::unique_ptr<tutti::encoder> e;
        std::unique_ptr<tutti::decoder> d;
        std::string error;
        EXPECT_EQ(builtin().make_encoder(fmt(rtpmap), {}, e, &error), status::not_found) << rtpmap;
        EXPECT_NE(error.find("no codec registered"), std::string::npos) << error;
        EXPECT_EQ(builtin().make_decoder(fmt(rtpmap), {}, d), status::not_found) << rtpmap;
        EXPECT_EQ(e, nullptr);
        EXPECT_EQ(d, nullptr);
    }
    std::unique_ptr<tutti::encoder> e;
    EXPECT_EQ(builtin().make_encoder(sdp_format{}, {}, e), status::not_found);  // empty name
}

// ---------------------------------------------------------------------------
// G.711, G.722, L16

TEST(CodecRegistry, G711NeedsItsFixedClockAndMono) {
    for (const char* name : {"PCMU", "PCMA"}) {
        for (const std::string& rtpmap : {std::string("0 ") + name + "/16000", std::string("0 ") + name + "/8000/2",
                                         std::string("0 ") + name + "/48000"}) {
            std::unique_ptr<tutti::encoder> e;
            std::unique_ptr<tutti::decoder> d;
            std::string error;
            EXPECT_EQ(builtin().make_encoder(fmt(rtpmap.c_str()), {}, e, &error), status::invalid_argument) << rtpmap;
            EXPECT_NE(error.find("8000 Hz mono"), std::string::npos) << error;
            EXPECT_EQ(builtin().make_decoder(fmt(rtpmap.c_str()), {}, d), status::invalid_argument) << rtpmap;
            EXPECT_EQ(e, nullptr);
        }
        std::unique_ptr<tutti::encoder> e;
        std::unique_ptr<tutti::decoder> d;
        const std::string ok = std::string("8 ") + name + "/8000";
        ASSERT_EQ(builtin().make_encoder(fmt(ok.c_str()), {}, e), status::ok);
        ASSERT_EQ(builtin().make_decoder(fmt(ok.c_str()), {}, d), status::ok);
        EXPECT_EQ(e->format(), (tutti::audio_format{8000, 1, 20000}));
        EXPECT_EQ(d->format(), (tutti::audio_format{8000, 1, 20000}));
    }
    // The law follows the name: PCMU encodes silence as 0xFF, PCMA as 0xD5.
    for (const auto& [rtpmap, code] : {std::pair{"0 PCMU/8000", 0xFF}, std::pair{"8 pcma/8000", 0xD5}}) {
        std::unique_ptr<tutti::encoder> e;
        ASSERT_EQ(builtin().make_encoder(fmt(rtpmap), {}, e), status::ok);
        std::array<float, 160> zeros{};
        std::array<std::uint8_t, 160> payload{};
        ASSERT_EQ(e->encode(tutti::interleaved_view<const float>(zeros.data(), 160, 1), payload), 160);
        EXPECT_EQ(payload[0], code) << rtpmap;
    }
}

TEST(CodecRegistry, PacketTimeFromPtimeAndMaxptime) {
    struct ptime_case {
        std::uint32_t ptime, maxptime, expected_ms;
    };
    // Sample-based codecs: 10/20/30/40/60 ms; ties go to the shorter one.
    const ptime_case cases[] = {
        {0, 0, 20},  {10, 0, 10},  {20, 0, 20},  {30, 0, 30},  {40, 0, 40},  {60, 0, 60},  {25, 0, 20},
        {35, 0, 30}, {50, 0, 40},  {5, 0, 10},   {1, 0, 10},   {100, 0, 60}, {0, 30, 20}, {0, 15, 10},
        {60, 40, 40}, {30, 20, 20}, {20, 150, 20}, {45, 0, 40},
    };
    for (const auto& c : cases) {
        std::unique_ptr<tutti::encoder> e;
        std::unique_ptr<tutti::decoder> d;
        const sdp_format f = fmt("0 PCMU/8000", "", c.ptime, c.maxptime);
        ASSERT_EQ(builtin().make_encoder(f, {}, e), status::ok) << c.ptime << "/" << c.maxptime;
        ASSERT_EQ(builtin().make_decoder(f, {}, d), status::ok);
        EXPECT_EQ(e->format().frame_us, c.expected_ms * 1000) << "ptime " << c.ptime << " maxptime " << c.maxptime;
        EXPECT_EQ(d->format().frame_us, c.expected_ms * 1000);
    }
    // maxptime below every choice.
    std::unique_ptr<tutti::encoder> e;
    std::string error;
    EXPECT_EQ(builtin().make_encoder(fmt("0 PCMU/8000", "", 0, 5), {}, e, &error), status::invalid_argument);
    EXPECT_NE(error.find("maxptime:5"), std::string::npos) << error;
    // The host's default when SDP says nothing.
    codec_options o;
    o.default_frame_us = 30000;
    ASSERT_EQ(builtin().make_encoder(fmt("8 PCMA/8000"), o, e), status::ok);
    EXPECT_EQ(e->format().frame_us, 30000u);
    // choose_frame_us directly, with an odd supported list.
    const std::array<std::uint32_t, 2> two{10000, 60000};
    EXPECT_EQ(tutti::choose_frame_us(fmt("0 PCMU/8000", "", 35), {}, two), 10000u);   // 25 vs 25: shorter
    EXPECT_EQ(tutti::choose_frame_us(fmt("0 PCMU/8000", "", 40), {}, two), 60000u);
    EXPECT_EQ(tutti::choose_frame_us(fmt("0 PCMU/8000", "", 40, 9), {}, two), 0u);
}

TEST(CodecRegistry, G722Is16kHzAudioOnAn8000HzClock) {
    const sdp_format f = fmt("9 G722/8000", "", 30);
    std::unique_ptr<tutti::encoder> e;
    std::unique_ptr<tutti::decoder> d;
    ASSERT_EQ(builtin().make_encoder(f, {}, e), status::ok);
    ASSERT_EQ(builtin().make_decoder(f, {}, d), status::ok);
    EXPECT_EQ(e->format(), (tutti::audio_format{16000, 1, 30000}));
    EXPECT_EQ(d->format(), (tutti::audio_format{16000, 1, 30000}));
    // 30 ms = 480 samples at 16 kHz = 240 bytes, decoding back to 480 frames.
    std::vector<float> pcm(480, 0.1f);
    std::vector<std::uint8_t> payload(1000);
    ASSERT_EQ(e->encode(tutti::interleaved_view<const float>(pcm.data(), 480, 1), payload), 240);
    payload.resize(240);
    EXPECT_EQ(d->frames_in(payload), 480);
    // What a confused peer writes: the audio rate as the clock.
    std::string error;
    EXPECT_EQ(builtin().make_decoder(fmt("9 G722/16000"), {}, d, &error), status::invalid_argument);
    EXPECT_NE(error.find("G722/8000"), std::string::npos) << error;
    EXPECT_EQ(builtin().make_encoder(fmt("9 G722/8000/2"), {}, e), status::invalid_argument);
}

TEST(CodecRegistry, L16AnyRateMonoOrStereoBigEndian) {
    struct l16_case {
        const char* rtpmap;
        std::uint32_t ptime;
        tutti::audio_format expected;
    };
    const l16_case cases[] = {
        {"96 L16/8000", 0, {8000, 1, 20000}},
        {"96 L16/16000/2", 20, {16000, 2, 20000}},
        {"10 L16/44100/2", 0, {44100, 2, 20000}},
        {"96 L16/48000/2", 10, {48000, 2, 10000}},
        {"96 L16/192000", 60, {192000, 1, 60000}},
        {"96 L16/11025", 20, {11025, 1, 40000}},  // 20 ms is 220.5 samples: the nearest whole one
        {"96 L16/22050", 0, {22050, 1, 20000}},
    };
    for (const auto& c : cases) {
        std::unique_ptr<tutti::encoder> e;
        std::unique_ptr<tutti::decoder> d;
        std::string error;
        ASSERT_EQ(builtin().make_encoder(fmt(c.rtpmap, "", c.ptime), {}, e, &error), status::ok) << c.rtpmap << error;
        ASSERT_EQ(builtin().make_decoder(fmt(c.rtpmap, "", c.ptime), {}, d), status::ok) << c.rtpmap;
        EXPECT_EQ(e->format(), c.expected) << c.rtpmap;
        EXPECT_EQ(d->format(), c.expected) << c.rtpmap;
    }
    for (const char* bad : {"96 L16/4000", "96 L16/384000", "96 L16/8000/3", "96 L16/16000/8"}) {
        std::unique_ptr<tutti::encoder> e;
        std::string error;
        EXPECT_EQ(builtin().make_encoder(fmt(bad), {}, e, &error), status::invalid_argument) << bad;
        EXPECT_NE(error.find("L16"), std::string::npos) << error;
    }
    // Network byte order: 0.5 is 0x4000, -1.0 is 0x8000, left then right.
    std::unique_ptr<tutti::encoder> e;
    ASSERT_EQ(builtin().make_encoder(fmt("96 L16/8000/2", "", 10), {}, e), status::ok);
    std::vector<float> pcm(160, 0.0f);
    pcm[0] = 0.5f;
    pcm[1] = -1.0f;
    std::vector<std::uint8_t> payload(320);
    ASSERT_EQ(e->encode(tutti::interleaved_view<const float>(pcm.data(), 80, 2), payload), 320);
    EXPECT_EQ(payload[0], 0x40);
    EXPECT_EQ(payload[1], 0x00);
    EXPECT_EQ(payload[2], 0x80);
    EXPECT_EQ(payload[3], 0x00);
}

// ---------------------------------------------------------------------------
// Opus

TEST(CodecRegistry, OpusIsAlwaysOpus48000Stereo) {
    for (const char* bad : {"111 opus/48000", "111 opus/48000/1", "111 opus/16000/2", "111 opus/8000"}) {
        std::unique_ptr<tutti::encoder> e;
        std::unique_ptr<tutti::decoder> d;
        std::string error;
        EXPECT_EQ(builtin().make_encoder(fmt(bad), {}, e, &error), status::invalid_argument) << bad;
        EXPECT_NE(error.find("opus/48000/2"), std::string::npos) << error;
        EXPECT_EQ(builtin().make_decoder(fmt(bad), {}, d), status::invalid_argument) << bad;
    }
}

TEST(CodecRegistry, OpusDefaults) {
    const auto e = opus_enc(fmt("111 opus/48000/2"));
    EXPECT_EQ(e.sample_rate_hz, 48000u);
    EXPECT_EQ(e.channels, 1);
    EXPECT_EQ(e.frame_us, 20000u);
    EXPECT_EQ(e.bitrate_bps, 32000);
    EXPECT_EQ(e.complexity, 10);
    EXPECT_EQ(e.application, tutti::opus_application::voip);
    EXPECT_FALSE(e.cbr);
    EXPECT_FALSE(e.inband_fec);
    EXPECT_FALSE(e.dtx);
    EXPECT_EQ(e.expected_loss_percent, 0);
    EXPECT_EQ(e.max_bandwidth, tutti::opus_bandwidth::fullband);
    const auto d = opus_dec(fmt("111 opus/48000/2"));
    EXPECT_EQ(d.sample_rate_hz, 48000u);
    EXPECT_EQ(d.channels, 1);
    EXPECT_EQ(d.frame_us, 20000u);
}

TEST(CodecRegistry, OpusInbandFecUsesTheExpectedLoss) {
    codec_options o;
    o.expected_loss_percent = 15;
    const auto on = opus_enc(fmt("111 opus/48000/2", "minptime=10;useinbandfec=1"), o);
    EXPECT_TRUE(on.inband_fec);
    EXPECT_EQ(on.expected_loss_percent, 15);
    const auto off = opus_enc(fmt("111 opus/48000/2", "useinbandfec=0"), o);
    EXPECT_FALSE(off.inband_fec);
}

TEST(CodecRegistry, OpusDtxAndCbr) {
    const auto e = opus_enc(fmt("111 opus/48000/2", "usedtx=1; cbr=1"));
    EXPECT_TRUE(e.dtx);
    EXPECT_TRUE(e.cbr);
    const auto e0 = opus_enc(fmt("111 opus/48000/2", "usedtx=0;cbr=0"));
    EXPECT_FALSE(e0.dtx);
    EXPECT_FALSE(e0.cbr);
}

TEST(CodecRegistry, OpusMaxPlaybackRateSetsBandwidthAndEncoderRate) {
    struct rate_case {
        const char* value;
        std::uint32_t rate;
        tutti::opus_bandwidth bandwidth;
    };
    using bw = tutti::opus_bandwidth;
    const rate_case cases[] = {
        {"4000", 8000, bw::narrowband},     {"8000", 8000, bw::narrowband},    {"11025", 12000, bw::mediumband},
        {"12000", 12000, bw::mediumband},   {"16000", 16000, bw::wideband},    {"22050", 24000, bw::superwideband},
        {"24000", 24000, bw::superwideband}, {"32000", 48000, bw::fullband},   {"44100", 48000, bw::fullband},
        {"48000", 48000, bw::fullband},     {"96000", 48000, bw::fullband},
    };
    for (const auto& c : cases) {
        const std::string p = std::string("maxplaybackrate=") + c.value;
        const auto e = opus_enc(fmt("111 opus/48000/2", p.c_str()));
        EXPECT_EQ(e.sample_rate_hz, c.rate) << p;
        EXPECT_EQ(e.max_bandwidth, c.bandwidth) << p;
        EXPECT_EQ(opus_dec(fmt("111 opus/48000/2", p.c_str())).sample_rate_hz, 48000u) << "decoder ignores " << p;
    }
}

TEST(CodecRegistry, OpusSpropMaxCaptureRateSetsDecoderRate) {
    for (const auto& [value, rate] : {std::pair{"8000", 8000u}, std::pair{"16000", 16000u}, std::pair{"20000", 24000u},
                                      std::pair{"48000", 48000u}}) {
        const std::string p = std::string("sprop-maxcapturerate=") + value;
        EXPECT_EQ(opus_dec(fmt("111 opus/48000/2", p.c_str())).sample_rate_hz, rate) << p;
        EXPECT_EQ(opus_enc(fmt("111 opus/48000/2", p.c_str())).sample_rate_hz, 48000u) << "encoder ignores " << p;
    }
}

TEST(CodecRegistry, OpusHostRateCapLowersBothSides) {
    codec_options o;
    o.opus_max_sample_rate_hz = 16000;
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2"), o).sample_rate_hz, 16000u);
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2"), o).max_bandwidth, tutti::opus_bandwidth::wideband);
    EXPECT_EQ(opus_dec(fmt("111 opus/48000/2"), o).sample_rate_hz, 16000u);
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2", "maxplaybackrate=8000"), o).sample_rate_hz, 8000u);
}

TEST(CodecRegistry, OpusStereoAndSpropStereo) {
    const auto f = fmt("111 opus/48000/2", "stereo=1");
    EXPECT_EQ(opus_enc(f).channels, 2);
    EXPECT_EQ(opus_dec(f).channels, 1);
    const auto g = fmt("111 opus/48000/2", "sprop-stereo=1");
    EXPECT_EQ(opus_enc(g).channels, 1);
    EXPECT_EQ(opus_dec(g).channels, 2);
    const auto h = fmt("111 opus/48000/2", "stereo=0;sprop-stereo=0");
    EXPECT_EQ(opus_enc(h).channels, 1);
    EXPECT_EQ(opus_dec(h).channels, 1);
}

TEST(CodecRegistry, OpusMaxAverageBitrateCapsTheBitrate) {
    codec_options o;  // 32000
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2", "maxaveragebitrate=20000"), o).bitrate_bps, 20000);
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2", "maxaveragebitrate=64000"), o).bitrate_bps, 32000);
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2", "maxaveragebitrate=100"), o).bitrate_bps, 6000);
    o.opus_bitrate_bps = 510000;
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2", "maxaveragebitrate=9000000"), o).bitrate_bps, 510000);
    o.opus_bitrate_bps = tutti::opus_bitrate_auto;
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2", "maxaveragebitrate=24000"), o).bitrate_bps, 24000);
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2"), o).bitrate_bps, tutti::opus_bitrate_auto);
}

TEST(CodecRegistry, OpusOptionsPassThrough) {
    codec_options o;
    o.opus_complexity = 5;
    o.opus_app = tutti::opus_application::audio;
    const auto e = opus_enc(fmt("111 opus/48000/2"), o);
    EXPECT_EQ(e.complexity, 5);
    EXPECT_EQ(e.application, tutti::opus_application::audio);
}

TEST(CodecRegistry, OpusPacketTime) {
    struct ptime_case {
        std::uint32_t ptime, maxptime;
        const char* fmtp;
        std::uint32_t expected_ms;
    };
    const ptime_case cases[] = {
        {0, 0, "", 20},          {10, 0, "", 10},         {20, 0, "", 20},         {40, 0, "", 40},
        {60, 0, "", 60},         {30, 0, "", 20},         {50, 0, "", 40},         {120, 0, "", 60},
        {5, 0, "", 10},          {0, 10, "", 10},         {60, 40, "", 40},        {0, 0, "ptime=40", 40},
        {20, 0, "ptime=40", 20}, {0, 0, "maxptime=10", 10}, {0, 0, "ptime=abc", 20}, {0, 120, "", 20},
    };
    for (const auto& c : cases) {
        const auto f = fmt("111 opus/48000/2", c.fmtp, c.ptime, c.maxptime);
        EXPECT_EQ(opus_enc(f).frame_us, c.expected_ms * 1000) << c.ptime << "/" << c.maxptime << " " << c.fmtp;
        EXPECT_EQ(opus_dec(f).frame_us, c.expected_ms * 1000);
    }
    std::unique_ptr<tutti::encoder> e;
    EXPECT_EQ(builtin().make_encoder(fmt("111 opus/48000/2", "", 0, 5), {}, e), status::invalid_argument);
    // An encoded 60 ms packet says 60 ms in its TOC.
    ASSERT_EQ(builtin().make_encoder(fmt("111 opus/48000/2", "", 60), {}, e), status::ok);
    std::vector<float> pcm(2880, 0.0f);
    std::vector<std::uint8_t> payload(tutti::opus_max_payload_bytes);
    const auto n = e->encode(tutti::interleaved_view<const float>(pcm.data(), 2880, 1), payload);
    ASSERT_GT(n, 0);
    tutti::opus_payload_info info;
    ASSERT_EQ(tutti::parse_opus_payload(std::span(payload.data(), static_cast<std::size_t>(n)), info), status::ok);
    EXPECT_EQ(info.duration_us(), 60000u);
}

TEST(CodecRegistry, OpusBadFmtpValuesAreInvalidArguments) {
    for (const char* bad : {"useinbandfec=yes", "usedtx=2", "stereo=true", "cbr=", "maxplaybackrate=abc",
                            "maxplaybackrate=0", "sprop-maxcapturerate=-1", "maxaveragebitrate=32k",
                            "maxaveragebitrate=99999999999"}) {
        std::unique_ptr<tutti::encoder> e;
        std::unique_ptr<tutti::decoder> d;
        std::string error;
        EXPECT_EQ(builtin().make_encoder(fmt("111 opus/48000/2", bad), {}, e, &error), status::invalid_argument) << bad;
        const std::string key(bad, std::string_view(bad).find('='));
        EXPECT_NE(error.find(key), std::string::npos) << error;
        EXPECT_EQ(builtin().make_decoder(fmt("111 opus/48000/2", bad), {}, d), status::invalid_argument) << bad;
    }
    // Parameters we do not use are ignored, whatever their value.
    EXPECT_EQ(opus_enc(fmt("111 opus/48000/2", "minptime=abc;x-google-foo=1;0-16")).channels, 1);
}

TEST(CodecRegistry, OpusConfigsFromSdpDirectly) {
    tutti::opus_encoder_config e;
    tutti::opus_decoder_config d;
    codec_options o;
    o.expected_loss_percent = 10;
    const auto f = fmt("111 opus/48000/2",
                       "maxplaybackrate=16000;sprop-maxcapturerate=8000;stereo=1;sprop-stereo=1;"
                       "maxaveragebitrate=24000;cbr=1;useinbandfec=1;usedtx=1",
                       40);
    ASSERT_EQ(tutti::opus_configs_from_sdp(f, o, &e, &d), status::ok);
    EXPECT_EQ(e.sample_rate_hz, 16000u);
    EXPECT_EQ(e.max_bandwidth, tutti::opus_bandwidth::wideband);
    EXPECT_EQ(e.channels, 2);
    EXPECT_EQ(e.bitrate_bps, 24000);
    EXPECT_TRUE(e.cbr);
    EXPECT_TRUE(e.inband_fec);
    EXPECT_EQ(e.expected_loss_percent, 10);
    EXPECT_TRUE(e.dtx);
    EXPECT_EQ(e.frame_us, 40000u);
    EXPECT_EQ(d.sample_rate_hz, 8000u);
    EXPECT_EQ(d.channels, 2);
    EXPECT_EQ(d.frame_us, 40000u);
    EXPECT_EQ(tutti::opus_configs_from_sdp(f, o, nullptr, nullptr), status::ok);
}

}  // namespace
