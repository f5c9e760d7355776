// Tests for tutti/codecs/l16.hpp: RFC 3551 byte order, exact round trip,
// malformed payloads, and concealment through the shared PLC.
#include "tutti/codecs/l16.hpp"

#include "alloc_counter.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

using tutti::audio_format;

TEST(L16, FactoriesCheckTheFormat) {
    for (const std::uint32_t rate : {8000u, 11025u, 16000u, 22050u, 32000u, 44100u, 48000u, 96000u}) {
        for (const std::uint16_t ch : {std::uint16_t{1}, std::uint16_t{2}}) {
            const audio_format f{rate, ch, 40000};
            auto e = tutti::make_l16_encoder(f);
            auto d = tutti::make_l16_decoder(f);
            ASSERT_TRUE(e && d) << rate << " " << ch;
            EXPECT_EQ(e->format(), f);
            EXPECT_EQ(d->format(), f);
        }
    }
    EXPECT_FALSE(tutti::make_l16_encoder({8000, 0, 20000}));
    EXPECT_FALSE(tutti::make_l16_decoder({8000, 9, 20000}));
    EXPECT_FALSE(tutti::make_l16_encoder({7999, 1, 20000}));
    EXPECT_FALSE(tutti::make_l16_decoder({11025, 1, 2500}));  // 27.5625 samples per frame
    EXPECT_FALSE(tutti::make_l16_decoder({48000, 1, 0}));
}

// Network byte order, two's complement, channels interleaved (RFC 3551 §4.5.11).
TEST(L16, ByteOrderMatchesHandWrittenBytes) {
    const std::vector<std::uint8_t> wire = {0x12, 0x34, 0xFF, 0xFE, 0x80, 0x00, 0x7F, 0xFF, 0x00, 0x01, 0x00, 0x00};
    const std::vector<float> pcm = {0x1234 / 32768.0f, -2 / 32768.0f, -1.0f, 32767 / 32768.0f, 1 / 32768.0f, 0.0f};
    // Stereo, 3 frames: L = 0x1234, -1.0, 1/32768; R = -2, 32767, 0.
    auto dec = tutti::make_l16_decoder({48000, 2, 20000});
    std::vector<float> out(6, 9.0f);
    EXPECT_EQ(dec->frames_in(wire), 3);
    ASSERT_EQ(dec->decode(wire, {out.data(), 3, 2}), 3);
    EXPECT_EQ(out, pcm);

    auto enc = tutti::make_l16_encoder({8000, 1, 2500});  // 20 frames of mono
    std::vector<float> in(20, 0.0f);
    std::copy(pcm.begin(), pcm.end(), in.begin());
    std::vector<std::uint8_t> payload(40);
    ASSERT_EQ(enc->encode({in.data(), 20, 1}, payload), 40);
    EXPECT_TRUE(std::equal(wire.begin(), wire.end(), payload.begin()));
    EXPECT_EQ(payload[12], 0);
    EXPECT_EQ(payload[13], 0);
}

TEST(L16, EncoderRoundsAndSaturates) {
    std::vector<float> in = {1.0f, 2.0f, -1.0f, -3.0f, 0.5f / 32768.0f, 1.5f / 32768.0f, -0.5f / 32768.0f,
                             std::nanf("")};
    std::vector<std::uint8_t> out(in.size() * 2);
    tutti::l16_pack(in.data(), out.data(), in.size());
    const std::vector<std::uint8_t> want = {0x7F, 0xFF, 0x7F, 0xFF, 0x80, 0x00, 0x80, 0x00,
                                            0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x80, 0x00};
    EXPECT_EQ(out, want);
}

// Every int16 value survives float -> L16 -> float and L16 -> float -> L16 exactly, in frames.
TEST(L16, RoundTripIsExactForEveryInt16) {
    for (const std::uint16_t ch : {std::uint16_t{1}, std::uint16_t{2}}) {
        const audio_format f{16000, ch, 10000};  // 160 frames
        auto enc = tutti::make_l16_encoder(f);
        auto dec = tutti::make_l16_decoder(f);
        const std::size_t frame_samples = f.frame_samples_all_channels();
        std::vector<float> all;
        for (int x = -32768; x <= 32767; ++x) all.push_back(static_cast<float>(x) / 32768.0f);
        all.resize((all.size() / frame_samples + 1) * frame_samples, 0.25f);
        std::vector<std::uint8_t> payload(frame_samples * 2);
        std::vector<float> back(frame_samples);
        std::vector<std::uint8_t> again(frame_samples * 2);
        for (std::size_t b = 0; b < all.size(); b += frame_samples) {
            ASSERT_EQ(enc->encode({all.data() + b, f.frame_samples(), ch}, payload),
                      static_cast<std::ptrdiff_t>(payload.size()));
            for (std::size_t i = 0; i < frame_samples; ++i) {  // big-endian, by hand
                const auto v = static_cast<std::uint16_t>(static_cast<std::int16_t>(std::lround(all[b + i] * 32768.0f)));
                ASSERT_EQ(payload[2 * i], v >> 8);
                ASSERT_EQ(payload[2 * i + 1], v & 0xFF);
            }
            ASSERT_EQ(dec->decode(payload, {back.data(), f.frame_samples(), ch}),
                      static_cast<std::ptrdiff_t>(f.frame_samples()));
            ASSERT_TRUE(std::equal(back.begin(), back.end(), all.begin() + static_cast<std::ptrdiff_t>(b)));
            ASSERT_EQ(enc->encode({back.data(), f.frame_samples(), ch}, again), static_cast<std::ptrdiff_t>(again.size()));
            ASSERT_EQ(again, payload);
        }
    }
}

TEST(L16, MalformedPayloadsAreRejectedAndTheNextGoodOneDecodes) {
    auto dec = tutti::make_l16_decoder({16000, 2, 20000});
    std::vector<std::uint8_t> good(8);
    for (std::size_t i = 0; i < good.size(); ++i) good[i] = static_cast<std::uint8_t>(0x10 + i);
    std::vector<float> pcm(640, 5.0f);
    const auto malformed = tutti::as_count(tutti::status::malformed);
    for (const std::size_t len : {0u, 1u, 2u, 3u, 5u, 6u, 7u}) {
        EXPECT_EQ(dec->frames_in({good.data(), len}), malformed) << len;
        EXPECT_EQ(dec->decode({good.data(), len}, {pcm.data(), 320, 2}), malformed) << len;
    }
    EXPECT_EQ(pcm[0], 5.0f);
    EXPECT_EQ(dec->decode(good, {pcm.data(), 1, 2}), tutti::as_count(tutti::status::buffer_too_small));
    EXPECT_EQ(dec->decode(good, {pcm.data(), 640, 1}), tutti::as_count(tutti::status::invalid_argument));
    EXPECT_EQ(dec->conceal({pcm.data(), 640, 1}), tutti::as_count(tutti::status::invalid_argument));
    ASSERT_EQ(dec->decode(good, {pcm.data(), 320, 2}), 2);
    EXPECT_EQ(pcm[0], 0x1011 / 32768.0f);
    EXPECT_EQ(pcm[1], 0x1213 / 32768.0f);
    EXPECT_EQ(pcm[2], 0x1415 / 32768.0f);
    EXPECT_EQ(pcm[3], 0x1617 / 32768.0f);
    EXPECT_EQ(pcm[4], 5.0f);
    // Mono: odd lengths are malformed, even ones fine.
    auto mono = tutti::make_l16_decoder({8000, 1, 20000});
    EXPECT_EQ(mono->frames_in({good.data(), 7}), malformed);
    EXPECT_EQ(mono->frames_in({good.data(), 6}), 3);
}

TEST(L16, RealTimeCallsDoNotAllocate) {
    const audio_format f{48000, 2, 20000};
    auto enc = tutti::make_l16_encoder(f);
    auto dec = tutti::make_l16_decoder(f);
    std::vector<float> pcm(960 * 2), out(960 * 2);
    std::vector<std::uint8_t> payload(960 * 4);
    bool all_ok = true;
    tutti_test::alloc_counter counter;
    for (int k = 0; k < 100; ++k) {
        for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = 0.3f * std::sin(0.01f * static_cast<float>(k * 1920 + i));
        all_ok &= enc->encode({pcm.data(), 960, 2}, payload) == 3840;
        const bool lost = (k % 9) >= 5;
        all_ok &= (lost ? dec->conceal({out.data(), 960, 2}) : dec->decode(payload, {out.data(), 960, 2})) == 960;
        all_ok &= dec->decode({payload.data(), 3}, {out.data(), 960, 2}) < 0;  // malformed
        if (k == 50) dec->reset();
    }
    const auto allocations = counter.count();
    EXPECT_TRUE(all_ok);
    EXPECT_EQ(allocations, 0u);
}

// Loss at 48 kHz stereo: a periodic signal is continued on both channels, the
// loss fades to exact silence by 60 ms, and the next good packet is faded in.
TEST(L16, ConcealsStereoLossAndFadesToSilence) {
    const audio_format f{48000, 2, 20000};
    auto enc = tutti::make_l16_encoder(f);
    auto dec = tutti::make_l16_decoder(f);
    const std::size_t fr = 960, period = 300;
    auto left = [&](std::size_t n) { return static_cast<float>(0.5 * std::sin(2 * M_PI * double(n % period) / period)); };
    auto right = [&](std::size_t n) { return static_cast<float>(0.25 * std::sin(6 * M_PI * double(n % period) / period + 1)); };
    std::vector<float> pcm(fr * 2), out(fr * 2);
    std::vector<std::uint8_t> payload(fr * 4);
    std::size_t n = 0;
    auto next_payload = [&] {
        for (std::size_t i = 0; i < fr; ++i, ++n) {
            pcm[2 * i] = left(n);
            pcm[2 * i + 1] = right(n);
        }
        EXPECT_EQ(enc->encode({pcm.data(), fr, 2}, payload), static_cast<std::ptrdiff_t>(payload.size()));
    };
    for (int k = 0; k < 5; ++k) {
        next_payload();
        ASSERT_EQ(dec->decode(payload, {out.data(), fr, 2}), static_cast<std::ptrdiff_t>(fr));
    }
    // First lost frame: the first 10 ms should continue both channels.
    ASSERT_EQ(dec->conceal({out.data(), fr, 2}), static_cast<std::ptrdiff_t>(fr));
    double el = 0, er = 0, sl = 0, sr = 0;
    for (std::size_t i = 0; i < 480; ++i) {
        const float tl = left(n + i), tr = right(n + i);
        el += std::pow(out[2 * i] - tl, 2);
        er += std::pow(out[2 * i + 1] - tr, 2);
        sl += tl * tl;
        sr += tr * tr;
    }
    n += fr;
    EXPECT_GT(10 * std::log10(sl / el), 25.0);
    EXPECT_GT(10 * std::log10(sr / er), 25.0);
    // Frames 2..5 lost: from 60 ms (sample 2880 of the loss) on, exact silence.
    for (int k = 1; k < 5; ++k) {
        ASSERT_EQ(dec->conceal({out.data(), fr, 2}), static_cast<std::ptrdiff_t>(fr));
        n += fr;
        if (k >= 3) {
            for (float v : out) ASSERT_EQ(v, 0.0f);
        }
    }
    // Recovery: fades in from silence over at most 10 ms, then exact.
    next_payload();
    ASSERT_EQ(dec->decode(payload, {out.data(), fr, 2}), static_cast<std::ptrdiff_t>(fr));
    EXPECT_LT(std::fabs(out[0]), 0.01f);
    for (std::size_t i = 480 * 2; i < fr * 2; ++i) {
        ASSERT_EQ(out[i], std::nearbyint(pcm[i] * 32768.0f) / 32768.0f) << i;  // what L16 carries
    }
}

}  // namespace
