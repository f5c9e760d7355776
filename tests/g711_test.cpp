// Tests for tutti/codecs/g711.hpp and the Appendix I style PLC (tutti/detail/g711_plc.hpp):
// the companding tables against the G.711 segment tables, the codec objects'
// contract, quality on real speech, concealment, and interoperability with
// ffmpeg (an independent implementation).
#include "tutti/codecs/g711.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "tutti/detail/g711_plc.hpp"
#include "tutti/kernels.hpp"
#include "tutti/resampler.hpp"
#include "tutti/wav.hpp"

#include "alloc_counter.hpp"

namespace {

using tutti::g711_law;

// ---------------------------------------------------------------------------
// Helpers

constexpr std::size_t frame = 160;  // 20 ms at 8 kHz

double snr_db(const std::vector<float>& ref, const std::vector<float>& test, std::size_t begin = 0,
              std::size_t end = SIZE_MAX) {
    end = std::min({end, ref.size(), test.size()});
    double s = 0, e = 0;
    for (std::size_t i = begin; i < end; ++i) {
        s += double{ref[i]} * ref[i];
        e += (double{ref[i]} - test[i]) * (double{ref[i]} - test[i]);
    }
    return 10.0 * std::log10(s / std::max(e, 1e-30));
}

// Mean over 20 ms segments whose level is above -45 dBov (active speech) of the
// segment SNR, each clamped to [-10, 60] dB as usual so one exact segment cannot dominate.
double segmental_snr_db(const std::vector<float>& ref, const std::vector<float>& test) {
    double sum = 0;
    int count = 0;
    for (std::size_t b = 0; b + frame <= std::min(ref.size(), test.size()); b += frame) {
        double s = 0, e = 0;
        for (std::size_t i = b; i < b + frame; ++i) {
            s += double{ref[i]} * ref[i];
            e += (double{ref[i]} - test[i]) * (double{ref[i]} - test[i]);
        }
        if (s / frame < std::pow(10.0, -45.0 / 10.0)) continue;
        sum += std::clamp(10.0 * std::log10(s / std::max(e, 1e-30)), -10.0, 60.0);
        ++count;
    }
    return count > 0 ? sum / count : 0.0;
}

std::vector<std::string> speech_files() {
    std::vector<std::string> out;
    const std::filesystem::path dir = std::filesystem::path(TUTTI_SPEECH_DIR) / "librivox";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".wav") out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// 16 kHz mono speech -> 8 kHz with tutti::resampler, latency removed, whole frames.
std::vector<float> load_speech_8k(const std::string& path) {
    tutti::wav_file wav;
    std::string error;
    if (tutti::read_wav_file(path, wav, &error) != tutti::status::ok || wav.sample_rate_hz != 16000 ||
        wav.channels != 1) {
        ADD_FAILURE() << "cannot use " << path << ": " << error;
        return {};
    }
    std::unique_ptr<tutti::resampler> rs;
    EXPECT_EQ(tutti::resampler::create(16000, 8000, 1, rs), tutti::status::ok);
    std::vector<float> in = wav.samples;
    in.resize((in.size() / 320 + 1) * 320 + 320, 0.0f);  // flush the filter with zeros
    std::vector<float> out(in.size() / 2);
    for (std::size_t f = 0; f < in.size() / 320; ++f) {
        const auto n = rs->process({in.data() + f * 320, 320, 1}, {out.data() + f * 160, 160, 1});
        EXPECT_EQ(n, 160);
    }
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(rs->output_latency()));
    out.resize(wav.samples.size() / 2 / frame * frame);
    return out;
}

std::vector<float> all_speech_8k() {
    std::vector<float> all;
    for (const auto& f : speech_files()) {
        auto s = load_speech_8k(f);
        all.insert(all.end(), s.begin(), s.end());
    }
    return all;
}

std::vector<std::uint8_t> encode_all(g711_law law, const std::vector<float>& x) {
    auto enc = tutti::make_g711_encoder(law, 20000);
    std::vector<std::uint8_t> bytes(x.size());
    for (std::size_t b = 0; b + frame <= x.size(); b += frame) {
        const auto n = enc->encode({x.data() + b, frame, 1}, {bytes.data() + b, frame});
        EXPECT_EQ(n, static_cast<std::ptrdiff_t>(frame));
    }
    return bytes;
}

// Decodes 20 ms payloads; frames with lost[f] are concealed instead.
std::vector<float> decode_all(g711_law law, const std::vector<std::uint8_t>& bytes,
                              const std::vector<bool>& lost = {}) {
    auto dec = tutti::make_g711_decoder(law, 20000);
    std::vector<float> y(bytes.size());
    for (std::size_t f = 0; f * frame < bytes.size(); ++f) {
        tutti::interleaved_view<float> pcm{y.data() + f * frame, frame, 1};
        const auto n = f < lost.size() && lost[f] ? dec->conceal(pcm)
                                                  : dec->decode({bytes.data() + f * frame, frame}, pcm);
        EXPECT_EQ(n, static_cast<std::ptrdiff_t>(frame));
    }
    return y;
}

// ---------------------------------------------------------------------------
// The tables, against G.711 Tables 1a/2a written out as segment end points.

// µ-law, 14-bit magnitudes: segment s covers [start, start + 16 * step); the first
// segment's first interval is [-1, 1) (i.e. 0 only), decision values are odd there.
constexpr int mu_start[8] = {-1, 31, 95, 223, 479, 991, 2015, 4063};
constexpr int mu_step[8] = {2, 4, 8, 16, 32, 64, 128, 256};
// A-law, 13-bit magnitudes (12 bits + sign): segments 0 and 1 have the same step.
constexpr int a_start[8] = {0, 32, 64, 128, 256, 512, 1024, 2048};
constexpr int a_step[8] = {2, 2, 4, 8, 16, 32, 64, 128};

// The G.711 output value of a transmitted byte, at 16 bits.
int itu_decode(g711_law law, int code) {
    int sign_positive, seg, k;
    if (law == g711_law::mu_law) {
        const int c = ~code & 0xFF;  // all bits inverted on the line
        sign_positive = (c & 0x80) == 0;
        seg = (c >> 4) & 7;
        k = c & 15;
        const int level = mu_start[seg] + k * mu_step[seg] + mu_step[seg] / 2;  // 14-bit
        return (sign_positive ? 1 : -1) * level * 4;
    }
    const int c = code ^ 0x55;  // even bits inverted on the line
    sign_positive = (c & 0x80) != 0;
    seg = (c >> 4) & 7;
    k = c & 15;
    const int level = a_start[seg] + k * a_step[seg] + a_step[seg] / 2;  // 13-bit
    return (sign_positive ? 1 : -1) * level * 8;
}

TEST(G711Tables, DecodeMatchesTheG711SegmentTables) {
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        for (int c = 0; c < 256; ++c) {
            const auto code = static_cast<std::uint8_t>(c);
            const int expected = itu_decode(law, c);
            ASSERT_EQ(tutti::g711_decode_sample(law, code), expected) << "law " << int(law) << " code " << c;
            float f = 0;
            tutti::g711_decode(law, &code, &f, 1);
            ASSERT_EQ(f, static_cast<float>(expected) / 32768.0f);
        }
    }
    // Well-known anchors: µ-law 0xFF/0x7F = ±0, 0x80/0x00 = ±32124; A-law 0xD5/0x55 = ±8, 0xAA/0x2A = ±32256.
    EXPECT_EQ(tutti::g711_decode_sample(g711_law::mu_law, 0xFF), 0);
    EXPECT_EQ(tutti::g711_decode_sample(g711_law::mu_law, 0x7F), 0);
    EXPECT_EQ(tutti::g711_decode_sample(g711_law::mu_law, 0x80), 32124);
    EXPECT_EQ(tutti::g711_decode_sample(g711_law::mu_law, 0x00), -32124);
    EXPECT_EQ(tutti::g711_decode_sample(g711_law::a_law, 0xD5), 8);
    EXPECT_EQ(tutti::g711_decode_sample(g711_law::a_law, 0x55), -8);
    EXPECT_EQ(tutti::g711_decode_sample(g711_law::a_law, 0xAA), 32256);
    EXPECT_EQ(tutti::g711_decode_sample(g711_law::a_law, 0x2A), -32256);
}

TEST(G711Tables, EncodeOfDecodeIsIdentityExceptMuLawNegativeZero) {
    int mu_exceptions = 0;
    for (int c = 0; c < 256; ++c) {
        const auto code = static_cast<std::uint8_t>(c);
        const auto a = tutti::g711_encode_sample(g711_law::a_law, tutti::g711_decode_sample(g711_law::a_law, code));
        EXPECT_EQ(a, code) << "A-law " << c;
        const auto mu = tutti::g711_encode_sample(g711_law::mu_law, tutti::g711_decode_sample(g711_law::mu_law, code));
        if (mu != code) {
            ++mu_exceptions;
            // 0x7F is "-0": it decodes to 0, and 0 is coded as +0.
            EXPECT_EQ(c, 0x7F);
            EXPECT_EQ(mu, 0xFF);
        }
    }
    EXPECT_EQ(mu_exceptions, 1);
}

// Every 16-bit input lands in the G.711 decision interval that contains it.
// The 16-bit -> 14/13-bit reduction is the G.191 reference's: magnitude of a
// negative x is ~x (one's complement), then the low 2 (µ) or 3 (A) bits dropped;
// a decision value belongs to the interval above it.
TEST(G711Tables, EncoderPicksTheG711DecisionInterval) {
    for (int x = -32768; x <= 32767; ++x) {
        const auto s = static_cast<std::int16_t>(x);
        const int mag16 = x >= 0 ? x : -x - 1;
        {
            const int m = mag16 >> 2;
            int code7 = -1;
            for (int seg = 0; seg < 8 && code7 < 0; ++seg) {
                for (int k = 0; k < 16; ++k) {
                    const int lo = mu_start[seg] + k * mu_step[seg];
                    if (m >= lo && m < lo + mu_step[seg]) {
                        code7 = seg << 4 | k;
                        break;
                    }
                }
            }
            if (code7 < 0) code7 = 0x7F;  // at or above the last decision value 8159: the top interval
            const int expected = (x >= 0 ? 0xFF : 0x7F) ^ code7;
            ASSERT_EQ(tutti::g711_encode_sample(g711_law::mu_law, s), expected) << "µ-law x=" << x;
        }
        {
            const int m = mag16 >> 3;
            int code7 = -1;
            for (int seg = 0; seg < 8 && code7 < 0; ++seg) {
                for (int k = 0; k < 16; ++k) {
                    const int lo = a_start[seg] + k * a_step[seg];
                    if (m >= lo && m < lo + a_step[seg]) {
                        code7 = seg << 4 | k;
                        break;
                    }
                }
            }
            ASSERT_GE(code7, 0);
            const int expected = ((x >= 0 ? 0x80 : 0) | code7) ^ 0x55;
            ASSERT_EQ(tutti::g711_encode_sample(g711_law::a_law, s), expected) << "A-law x=" << x;
        }
    }
    // Anchors.
    EXPECT_EQ(tutti::g711_encode_sample(g711_law::mu_law, 0), 0xFF);
    EXPECT_EQ(tutti::g711_encode_sample(g711_law::mu_law, -1), 0x7F);
    EXPECT_EQ(tutti::g711_encode_sample(g711_law::mu_law, 32767), 0x80);
    EXPECT_EQ(tutti::g711_encode_sample(g711_law::mu_law, -32768), 0x00);
    EXPECT_EQ(tutti::g711_encode_sample(g711_law::a_law, 0), 0xD5);
    EXPECT_EQ(tutti::g711_encode_sample(g711_law::a_law, -1), 0x55);
    EXPECT_EQ(tutti::g711_encode_sample(g711_law::a_law, 32767), 0xAA);
    EXPECT_EQ(tutti::g711_encode_sample(g711_law::a_law, -32768), 0x2A);
}

TEST(G711Tables, FloatEncodeRoundsAndSaturatesLikeFloatToS16) {
    const float in[] = {0.0f, 1.0f, -1.0f, 2.0f, -2.0f, 0.25f, -0.25f, 1.0f / 65536.0f, std::nanf("")};
    const std::int16_t as_s16[] = {0, 32767, -32768, 32767, -32768, 8192, -8192, 0, -32768};
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        std::uint8_t out[std::size(in)];
        tutti::g711_encode(law, in, out, std::size(in));
        for (std::size_t i = 0; i < std::size(in); ++i) {
            EXPECT_EQ(out[i], tutti::g711_encode_sample(law, as_s16[i])) << i;
        }
    }
    // Batch int16 paths agree with the per-sample ones.
    std::vector<std::int16_t> all(65536);
    for (int i = 0; i < 65536; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(i - 32768);
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        std::vector<std::uint8_t> codes(all.size());
        tutti::g711_encode(law, all.data(), codes.data(), all.size());
        std::vector<std::int16_t> back(all.size());
        tutti::g711_decode(law, codes.data(), back.data(), codes.size());
        for (std::size_t i = 0; i < all.size(); ++i) {
            ASSERT_EQ(codes[i], tutti::g711_encode_sample(law, all[i]));
            ASSERT_EQ(back[i], tutti::g711_decode_sample(law, codes[i]));
        }
    }
}

// The batch functions go through the dispatched kernels: at every SIMD level
// this machine runs they give what the per-sample tables give, and the level
// read off the codes is the same float, bit for bit.
TEST(G711Tables, EveryDispatchLevelGivesTheTableResults) {
    const tutti::simd_level before = tutti::active_simd_level();
    std::vector<std::int16_t> all(65536);
    for (int i = 0; i < 65536; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(i - 32768);
    std::vector<std::uint8_t> every_code(256);
    for (int c = 0; c < 256; ++c) every_code[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c);
    std::mt19937 rng(12);
    std::vector<std::vector<std::uint8_t>> payloads;
    for (std::size_t n = 1; n <= 400; n += 3) {
        std::vector<std::uint8_t> p(n);
        const int top = 1 + static_cast<int>(rng() % 128);  // quiet to loud
        for (auto& c : p) c = static_cast<std::uint8_t>((static_cast<int>(rng() % static_cast<unsigned>(top))) | (rng() & 0x80));
        payloads.push_back(std::move(p));
    }
    ASSERT_EQ(tutti::set_simd_level(tutti::simd_level::scalar), tutti::simd_level::scalar);
    std::vector<float> scalar_levels;
    for (const auto law : {g711_law::mu_law, g711_law::a_law})
        for (const auto& p : payloads) scalar_levels.push_back(tutti::g711_level_dbov(law, p));
    for (const tutti::simd_level level : {tutti::simd_level::sse2, tutti::simd_level::avx2, tutti::simd_level::avx512,
                                          tutti::simd_level::neon}) {
        if (tutti::kernels_for(level) == nullptr) continue;
        ASSERT_EQ(tutti::set_simd_level(level), level);
        std::size_t k = 0;
        for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
            std::vector<std::uint8_t> codes(all.size());
            tutti::g711_encode(law, all.data(), codes.data(), all.size());
            for (std::size_t i = 0; i < all.size(); ++i)
                ASSERT_EQ(codes[i], tutti::g711_encode_sample(law, all[i])) << to_string(level) << " x=" << all[i];
            std::vector<float> f(all.size());
            tutti::s16_to_float(all.data(), f.data(), all.size());
            tutti::g711_encode(law, f.data(), codes.data(), f.size());
            for (std::size_t i = 0; i < all.size(); ++i)
                ASSERT_EQ(codes[i], tutti::g711_encode_sample(law, all[i])) << to_string(level) << " float x=" << all[i];
            std::vector<std::int16_t> s16(256);
            std::vector<float> pcm(256);
            tutti::g711_decode(law, every_code.data(), s16.data(), 256);
            tutti::g711_decode(law, every_code.data(), pcm.data(), 256);
            for (int c = 0; c < 256; ++c) {
                const std::int16_t want = tutti::g711_decode_sample(law, static_cast<std::uint8_t>(c));
                ASSERT_EQ(s16[static_cast<std::size_t>(c)], want) << to_string(level) << " code " << c;
                ASSERT_EQ(pcm[static_cast<std::size_t>(c)], static_cast<float>(want) / 32768.0f) << to_string(level) << " code " << c;
            }
            for (const auto& p : payloads) {
                const float got = tutti::g711_level_dbov(law, p);
                ASSERT_EQ(std::memcmp(&got, &scalar_levels[k], sizeof got), 0)
                    << to_string(level) << " n " << p.size() << ": " << got << " vs " << scalar_levels[k];
                ++k;
            }
        }
    }
    tutti::set_simd_level(before);
}

// ---------------------------------------------------------------------------
// Codec objects

// The level read off the codes is the level of the decoded samples, for both
// laws, from silence to full scale, on random payloads of any length.
TEST(G711Tables, LevelFromCodesMatchesTheDecodedLevel) {
    std::mt19937 rng(11);
    for (const tutti::g711_law law : {tutti::g711_law::mu_law, tutti::g711_law::a_law}) {
        for (int k = 0; k < 200; ++k) {
            const std::size_t n = 1 + rng() % 480;
            // Codes near one amplitude: 0 dBov down to the quietest code.
            const int spread = 1 + static_cast<int>(rng() % 128);
            const int centre = static_cast<int>(rng() % 128);
            std::vector<std::uint8_t> codes(n);
            for (auto& c : codes)
                c = static_cast<std::uint8_t>(std::clamp(centre + static_cast<int>(rng() % spread), 0, 127) | (rng() & 0x80));
            std::vector<float> pcm(n);
            tutti::g711_decode(law, codes.data(), pcm.data(), n);
            const float want = tutti::measure_level(pcm).rms;
            EXPECT_NEAR(tutti::g711_level_dbov(law, codes), want, 0.01f) << "n " << n << " centre " << centre;
        }
    }
    EXPECT_EQ(tutti::g711_level_dbov(tutti::g711_law::mu_law, {}), -127.0f);
    const std::uint8_t mu_zero[] = {0xFF, 0x7F, 0xFF};  // µ-law +0 and -0 decode to 0
    EXPECT_EQ(tutti::g711_level_dbov(tutti::g711_law::mu_law, mu_zero), -127.0f);
}

TEST(G711Codec, FactoriesCheckArguments) {
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        for (const std::uint32_t us : {125u, 2500u, 10000u, 20000u, 30000u, 40000u, 60000u, 120000u}) {
            auto e = tutti::make_g711_encoder(law, us);
            auto d = tutti::make_g711_decoder(law, us);
            ASSERT_TRUE(e && d) << us;
            EXPECT_EQ(e->format().sample_rate_hz, 8000u);
            EXPECT_EQ(e->format().channels, 1u);
            EXPECT_EQ(e->format().frame_us, us);
            EXPECT_EQ(e->format().frame_samples(), us / 125);
            EXPECT_EQ(d->format(), e->format());
        }
        for (const std::uint32_t us : {0u, 100u, 20001u, 120125u, 1000000u}) {
            EXPECT_FALSE(tutti::make_g711_encoder(law, us)) << us;
            EXPECT_FALSE(tutti::make_g711_decoder(law, us)) << us;
        }
    }
    EXPECT_FALSE(tutti::make_g711_encoder(static_cast<g711_law>(3), 20000));
    EXPECT_FALSE(tutti::make_g711_decoder(static_cast<g711_law>(3), 20000));
}

TEST(G711Codec, EncoderChecksFrameSizeAndPayloadRoom) {
    auto enc = tutti::make_g711_encoder(g711_law::a_law, 10000);
    std::vector<float> pcm(160, 0.1f);
    std::vector<std::uint8_t> payload(160);
    EXPECT_EQ(enc->encode({pcm.data(), 80, 1}, {payload.data(), 80}), 80);
    EXPECT_EQ(enc->encode({pcm.data(), 79, 1}, {payload.data(), 80}),
              tutti::as_count(tutti::status::invalid_argument));
    EXPECT_EQ(enc->encode({pcm.data(), 40, 2}, {payload.data(), 80}),
              tutti::as_count(tutti::status::invalid_argument));
    EXPECT_EQ(enc->encode({pcm.data(), 80, 1}, {payload.data(), 79}),
              tutti::as_count(tutti::status::buffer_too_small));
    EXPECT_EQ(payload[0], tutti::g711_encode_sample(g711_law::a_law, 3277));
}

TEST(G711Codec, DecoderContract) {
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        auto dec = tutti::make_g711_decoder(law, 20000);
        auto fresh = tutti::make_g711_decoder(law, 20000);
        std::vector<std::uint8_t> payload(240);
        for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 37);
        std::vector<float> pcm(160, 7.0f), ref(160);
        EXPECT_EQ(dec->frames_in({payload.data(), 160}), 160);
        EXPECT_EQ(dec->frames_in({payload.data(), 1}), 1);
        EXPECT_EQ(dec->frames_in({}), tutti::as_count(tutti::status::malformed));
        EXPECT_EQ(dec->decode({}, {pcm.data(), 160, 1}), tutti::as_count(tutti::status::malformed));
        // More bytes than pcm frames: refused, nothing written, state untouched.
        EXPECT_EQ(dec->decode({payload.data(), 240}, {pcm.data(), 160, 1}),
                  tutti::as_count(tutti::status::buffer_too_small));
        EXPECT_EQ(pcm[0], 7.0f);
        EXPECT_EQ(dec->decode({payload.data(), 160}, {pcm.data(), 80, 2}),
                  tutti::as_count(tutti::status::invalid_argument));
        EXPECT_EQ(dec->conceal({pcm.data(), 80, 2}), tutti::as_count(tutti::status::invalid_argument));
        // Still usable, and exactly like a decoder that never saw the errors.
        ASSERT_EQ(dec->decode({payload.data(), 160}, {pcm.data(), 160, 1}), 160);
        ASSERT_EQ(fresh->decode({payload.data(), 160}, {ref.data(), 160, 1}), 160);
        EXPECT_EQ(pcm, ref);
        for (std::size_t i = 0; i < 160; ++i) {
            EXPECT_EQ(pcm[i], tutti::g711_decode_sample(law, payload[i]) / 32768.0f);
        }
        // A short payload into a big buffer writes only its own frames.
        std::fill(pcm.begin(), pcm.end(), 7.0f);
        EXPECT_EQ(dec->decode({payload.data(), 10}, {pcm.data(), 160, 1}), 10);
        EXPECT_EQ(pcm[10], 7.0f);
        EXPECT_EQ(dec->decode_fec({payload.data(), 160}, {pcm.data(), 160, 1}),
                  tutti::as_count(tutti::status::unsupported));
        // reset() forgets history: concealment right after it is silence.
        dec->reset();
        EXPECT_EQ(dec->conceal({pcm.data(), 160, 1}), 160);
        for (float v : pcm) EXPECT_EQ(v, 0.0f);
    }
}

TEST(G711Codec, RealTimeCallsDoNotAllocate) {
    {  // the counter sees both kinds of allocation (a guard against a test that cannot fail)
        tutti_test::alloc_counter counter;
        auto probe = std::make_unique<std::vector<float>>(10);
        void* volatile m = std::malloc(16);
        std::free(m);
        EXPECT_EQ(counter.count(), 3u);
    }
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        auto enc = tutti::make_g711_encoder(law, 20000);
        auto dec = tutti::make_g711_decoder(law, 20000);
        std::vector<float> pcm(160), out(160);
        std::vector<std::uint8_t> payload(160);
        bool all_ok = true;
        tutti_test::alloc_counter counter;
        for (int k = 0; k < 200; ++k) {
            for (std::size_t i = 0; i < 160; ++i) pcm[i] = 0.3f * std::sin(0.07f * static_cast<float>(k * 160 + i));
            all_ok &= enc->encode({pcm.data(), 160, 1}, payload) == 160;
            const bool lost = (k % 11) >= 6;  // losses of 5 frames (into silence) between good runs
            all_ok &= (lost ? dec->conceal({out.data(), 160, 1}) : dec->decode(payload, {out.data(), 160, 1})) == 160;
            if (k == 100) dec->reset();
        }
        const auto allocations = counter.count();
        EXPECT_TRUE(all_ok);
        EXPECT_EQ(allocations, 0u);
    }
}

// ---------------------------------------------------------------------------
// Real speech

// Measured on the 24.7 s of librivox speech (16 kHz resampled to 8 kHz by
// tutti::resampler), 20 ms frames, SNR against the encoder's float input:
//   µ-law: SNR 37.20 dB, segmental SNR 36.58 dB
//   A-law: SNR 37.49 dB, segmental SNR 37.09 dB
// (G.711's usual 35-38 dB on speech at a normal level). Thresholds sit 3 dB
// below, so a real regression fails (flipping just the lowest interval bit of
// every byte gives 26 dB) while rounding differences cannot.
constexpr double min_snr_db[2] = {34.2, 34.5};     // µ, A
constexpr double min_segsnr_db[2] = {33.5, 34.0};  // µ, A

TEST(G711Speech, RoundTripSnrOnRealSpeech) {
    const auto x = all_speech_8k();
    ASSERT_GT(x.size(), 8000u * 20);
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        const int i = law == g711_law::mu_law ? 0 : 1;
        const auto y = decode_all(law, encode_all(law, x));
        const double snr = snr_db(x, y);
        const double seg = segmental_snr_db(x, y);
        std::printf("[ measured ] %s: SNR %.2f dB, segmental SNR %.2f dB over %.1f s\n",
                    i == 0 ? "mu-law" : "A-law", snr, seg, static_cast<double>(x.size()) / 8000.0);
        EXPECT_GT(snr, min_snr_db[i]);
        EXPECT_GT(seg, min_segsnr_db[i]);
    }
}

TEST(G711Speech, BrokenPathsFailTheThreshold) {
    const auto x = all_speech_8k();
    ASSERT_GT(x.size(), 8000u * 20);
    const auto mu = encode_all(g711_law::mu_law, x);
    const auto a = encode_all(g711_law::a_law, x);
    // Swapped decoders (PCMU payload type mapped to PCMA and the reverse).
    const double swapped1 = snr_db(x, decode_all(g711_law::a_law, mu));
    const double swapped2 = snr_db(x, decode_all(g711_law::mu_law, a));
    // Sign dropped after decoding.
    auto y = decode_all(g711_law::mu_law, mu);
    for (auto& v : y) v = std::fabs(v);
    const double unsigned_snr = snr_db(x, y);
    // One bit flipped in every byte's interval field (a table off by one interval).
    auto mu_off = mu;
    for (auto& c : mu_off) c ^= 0x01;
    const double off_by_one = snr_db(x, decode_all(g711_law::mu_law, mu_off));
    std::printf("[ measured ] broken: PCMU as PCMA %.2f dB, PCMA as PCMU %.2f dB, no sign %.2f dB, "
                "interval LSB flipped %.2f dB\n",
                swapped1, swapped2, unsigned_snr, off_by_one);
    EXPECT_LT(swapped1, min_snr_db[1]);
    EXPECT_LT(swapped2, min_snr_db[0]);
    EXPECT_LT(unsigned_snr, min_snr_db[0]);
    EXPECT_LT(off_by_one, min_snr_db[0]);
}

// ---------------------------------------------------------------------------
// Packet-loss concealment

// Spectral distance of a 20 ms frame: sum over DFT bins (Hann window) of
// (|X| - |Y|)^2 over sum |X|^2. A silent Y gives exactly 1 (0 dB); the result is
// returned as "spectral SNR" -10 log10(distance), higher is better.
struct spectral_acc {
    double err = 0, ref = 0;
    void add(const float* x, const float* y, std::size_t n) {
        const auto dn = static_cast<double>(n);
        for (std::size_t k = 0; k <= n / 2; ++k) {
            double xr = 0, xi = 0, yr = 0, yi = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const double w = 0.5 - 0.5 * std::cos(2 * M_PI * (static_cast<double>(i) + 0.5) / dn);
                const double ph = 2 * M_PI * static_cast<double>(k * i % n) / dn;
                xr += w * x[i] * std::cos(ph);
                xi -= w * x[i] * std::sin(ph);
                yr += w * y[i] * std::cos(ph);
                yi -= w * y[i] * std::sin(ph);
            }
            const double d = std::hypot(xr, xi) - std::hypot(yr, yi);
            err += d * d;
            ref += xr * xr + xi * xi;
        }
    }
    double db() const { return -10.0 * std::log10(err / ref); }
};

struct loss_result {
    double waveform_snr_plc = 0, waveform_snr_silence = 0;  // over lost frames
    double first5ms_snr_plc = 0;                              // first 5 ms of each loss
    double spectral_plc = 0, spectral_silence = 0;
    // Step across a splice over the largest step of the output within 20 ms on either side of it.
    float worst_start_splice = 0, worst_end_splice = 0;
    int losses = 0;
};

// |y[at] - y[at - 1]| relative to the largest other sample-to-sample step of y within ±20 ms.
float splice_ratio(const std::vector<float>& y, std::size_t at) {
    float local = 1e-6f;
    for (std::size_t i = at - 159; i < std::min(y.size(), at + 160); ++i) {
        if (i != at) local = std::max(local, std::fabs(y[i] - y[i - 1]));
    }
    return std::fabs(y[at] - y[at - 1]) / local;
}

loss_result run_losses(g711_law law, const std::vector<float>& x, const std::vector<bool>& lost) {
    const auto bytes = encode_all(law, x);
    const auto clean = decode_all(law, bytes);
    const auto plc = decode_all(law, bytes, lost);
    auto silence = clean;
    for (std::size_t f = 0; f < lost.size(); ++f) {
        if (lost[f]) std::fill_n(silence.begin() + static_cast<std::ptrdiff_t>(f * frame), frame, 0.0f);
    }
    loss_result r;
    double s = 0, e_plc = 0, e_sil = 0, s5 = 0, e5 = 0;
    spectral_acc sp_plc, sp_sil;
    for (std::size_t f = 0; f < lost.size(); ++f) {
        if (!lost[f]) continue;
        const std::size_t b = f * frame;
        const bool starts = f == 0 || !lost[f - 1];
        if (starts) ++r.losses;
        for (std::size_t i = b; i < b + frame; ++i) {
            s += double{clean[i]} * clean[i];
            e_plc += (double{clean[i]} - plc[i]) * (double{clean[i]} - plc[i]);
            e_sil += (double{clean[i]} - silence[i]) * (double{clean[i]} - silence[i]);
            if (starts && i < b + 40) {
                s5 += double{clean[i]} * clean[i];
                e5 += (double{clean[i]} - plc[i]) * (double{clean[i]} - plc[i]);
            }
        }
        sp_plc.add(clean.data() + b, plc.data() + b, frame);
        sp_sil.add(clean.data() + b, silence.data() + b, frame);
        if (starts && b >= 160) r.worst_start_splice = std::max(r.worst_start_splice, splice_ratio(plc, b));
        if (f + 1 < lost.size() && !lost[f + 1]) {
            r.worst_end_splice = std::max(r.worst_end_splice, splice_ratio(plc, b + frame));
        }
    }
    r.waveform_snr_plc = 10 * std::log10(s / e_plc);
    r.waveform_snr_silence = 10 * std::log10(s / e_sil);
    r.first5ms_snr_plc = 10 * std::log10(s5 / e5);
    r.spectral_plc = sp_plc.db();
    r.spectral_silence = sp_sil.db();
    return r;
}

void print(const char* what, const loss_result& r) {
    std::printf("[ measured ] %s: %d losses; waveform SNR over lost frames PLC %.2f dB vs silence %.2f dB; "
                "first 5 ms %.2f dB; spectral SNR PLC %.2f dB vs silence %.2f dB; worst splice step / local max "
                "step: start %.2f, end %.2f\n",
                what, r.losses, r.waveform_snr_plc, r.waveform_snr_silence, r.first5ms_snr_plc, r.spectral_plc,
                r.spectral_silence, static_cast<double>(r.worst_start_splice), static_cast<double>(r.worst_end_splice));
}

// Measured on the librivox speech, 20 ms frames (µ-law; A-law within 0.05 dB):
//  - 10 % random loss (116 losses): spectral SNR over the lost frames 6.3 dB for
//    the PLC against 0 dB for silence; waveform SNR over the first 5 ms of each
//    loss 2.7 dB (0 dB for silence); waveform SNR over whole lost frames 0.1 dB
//    (pitch repetition drifts out of phase, so that number says little).
//  - every 7th frame lost (176 isolated losses): spectral 5.3 dB, first 5 ms 2.0 dB.
//  - splices: the step into a loss is at most 1.02 x, the step out of it at most
//    0.69 x the largest step of the output within 20 ms around it (without the
//    start-of-loss offset fade it was 6.4 x: a click).
// Thresholds leave about 1/3 of the measured margin.
constexpr double min_spectral_gain_db = 4.0;
constexpr double min_first5ms_snr_db = 1.3;
constexpr float max_start_splice = 1.25f;
constexpr float max_end_splice = 1.0f;

TEST(G711Plc, RandomLossIsCloserToTheSignalThanSilence) {
    const auto x = all_speech_8k();
    ASSERT_GT(x.size(), 8000u * 20);
    std::mt19937 rng(20240601);
    std::bernoulli_distribution drop(0.10);
    std::vector<bool> lost(x.size() / frame);
    for (std::size_t f = 1; f < lost.size(); ++f) lost[f] = drop(rng);
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        const auto r = run_losses(law, x, lost);
        print(law == g711_law::mu_law ? "mu-law 10% random loss" : "A-law 10% random loss", r);
        EXPECT_EQ(r.waveform_snr_silence, 0.0);
        EXPECT_GT(r.spectral_silence, -0.01);
        EXPECT_GT(r.spectral_plc, r.spectral_silence + min_spectral_gain_db);
        EXPECT_GT(r.first5ms_snr_plc, min_first5ms_snr_db);
        EXPECT_LE(r.worst_start_splice, max_start_splice);
        EXPECT_LE(r.worst_end_splice, max_end_splice);
    }
}

TEST(G711Plc, SingleFrameLossesAreConcealedWithoutClicks) {
    const auto x = all_speech_8k();
    ASSERT_GT(x.size(), 8000u * 20);
    std::vector<bool> lost(x.size() / frame);
    for (std::size_t f = 3; f < lost.size(); f += 7) lost[f] = true;  // isolated 20 ms losses
    const auto r = run_losses(g711_law::mu_law, x, lost);
    print("mu-law single-frame losses", r);
    EXPECT_GT(r.spectral_plc, r.spectral_silence + min_spectral_gain_db);
    EXPECT_GT(r.first5ms_snr_plc, min_first5ms_snr_db);
    EXPECT_LE(r.worst_start_splice, max_start_splice);
    EXPECT_LE(r.worst_end_splice, max_end_splice);
}

TEST(G711Plc, FiveLostFramesEndInExactSilence) {
    const auto x = all_speech_8k();
    ASSERT_GT(x.size(), 8000u * 3);
    const auto bytes = encode_all(g711_law::mu_law, x);
    auto dec = tutti::make_g711_decoder(g711_law::mu_law, 20000);
    std::vector<float> pcm(frame);
    // Into the middle of a loud stretch; remember the peak of the last 60 ms (the PLC's whole history).
    std::size_t f = 0;
    double energy = 0;
    float recent_peak[3] = {0, 0, 0};
    for (; f < 100 || energy < 1e-2; ++f) {
        ASSERT_EQ(dec->decode({bytes.data() + f * frame, frame}, {pcm.data(), frame, 1}), 160);
        energy = 0;
        recent_peak[f % 3] = 0;
        for (float v : pcm) {
            energy += double{v} * v / frame;
            recent_peak[f % 3] = std::max(recent_peak[f % 3], std::fabs(v));
        }
    }
    const float hist_peak = *std::max_element(std::begin(recent_peak), std::end(recent_peak));
    std::vector<float> concealed(5 * frame);
    for (int k = 0; k < 5; ++k) ASSERT_EQ(dec->conceal({concealed.data() + k * frame, frame, 1}), 160);
    double first10 = 0;
    for (std::size_t i = 0; i < 80; ++i) first10 += double{concealed[i]} * concealed[i] / 80;
    EXPECT_GT(first10, energy * 0.05) << "the first 10 ms should continue the voice";
    for (std::size_t i = 480; i < 800; ++i) ASSERT_EQ(concealed[i], 0.0f) << i;  // 60 ms on: exactly 0
    EXPECT_LE(std::fabs(concealed[479]), hist_peak * 0.0025f + 1e-7f);  // gain 1/400 on the last sample before
    // Envelope: full level for 10 ms, then -20 % per 10 ms (gain 0.8 at 20 ms, 0.2 at 50 ms).
    auto peak = [&](std::size_t b, std::size_t e) {
        float p = 0;
        for (std::size_t i = b; i < e; ++i) p = std::max(p, std::fabs(concealed[i]));
        return p;
    };
    EXPECT_LE(peak(160, 480), hist_peak * 0.8f + 1e-6f);
    EXPECT_LE(peak(400, 480), hist_peak * 0.2f + 1e-6f);
    // The next good frame fades in from silence: no click.
    const std::size_t g = f + 5;
    ASSERT_EQ(dec->decode({bytes.data() + g * frame, frame}, {pcm.data(), frame, 1}), 160);
    EXPECT_LT(std::fabs(pcm[0]), 0.02f);
    std::vector<float> plain(frame);
    tutti::g711_decode(g711_law::mu_law, bytes.data() + g * frame, plain.data(), frame);
    EXPECT_EQ(pcm[frame - 1], plain[frame - 1]);  // the fade (<= 10 ms) is over by the end of the frame
}

// A strictly periodic signal: the PLC must find its period and continue it.
TEST(G711Plc, FindsThePeriodAndContinuesAPeriodicSignal) {
    for (const std::uint32_t rate : {8000u, 16000u, 44100u, 48000u}) {
        for (const double period_ms : {5.6, 7.1, 9.3, 13.7}) {
            const auto period = static_cast<std::size_t>(std::lround(period_ms * rate / 1000.0));
            tutti::detail::g711_plc plc(rate, 1);
            auto wave = [&](std::size_t n) {
                const double t = static_cast<double>(n % period) / static_cast<double>(period);
                return static_cast<float>(0.3 * std::sin(2 * M_PI * t) + 0.2 * std::sin(4 * M_PI * t + 1) +
                                          0.1 * std::sin(6 * M_PI * t + 2));
            };
            const std::size_t fr = rate / 50;
            std::vector<float> buf(fr);
            std::size_t n = 0;
            for (int k = 0; k < 5; ++k) {
                for (auto& v : buf) v = wave(n++);
                plc.receive({buf.data(), fr, 1});
            }
            plc.conceal({buf.data(), fr, 1});
            EXPECT_EQ(plc.pitch_period() % period, 0u) << rate << " Hz, period " << period;
            // First 10 ms (gain 1): close to the true continuation.
            std::vector<float> truth(fr);
            for (std::size_t i = 0; i < fr; ++i) truth[i] = wave(n + i);
            const double snr = snr_db(truth, buf, 0, rate / 100);
            EXPECT_GT(snr, 30.0) << rate << " Hz, period " << period;
        }
    }
}

TEST(G711Plc, StereoUsesOnePeriodAndConcealsBothChannels) {
    const std::uint32_t rate = 48000;
    const std::size_t period = 400, fr = 960;
    tutti::detail::g711_plc plc(rate, 2);
    std::vector<float> buf(fr * 2);
    std::size_t n = 0;
    auto l = [&](std::size_t i) { return static_cast<float>(0.4 * std::sin(2 * M_PI * double(i % period) / period)); };
    auto r = [&](std::size_t i) { return static_cast<float>(0.3 * std::cos(4 * M_PI * double(i % period) / period)); };
    for (int k = 0; k < 4; ++k, n += fr) {
        for (std::size_t i = 0; i < fr; ++i) {
            buf[2 * i] = l(n + i);
            buf[2 * i + 1] = r(n + i);
        }
        plc.receive({buf.data(), fr, 2});
    }
    plc.conceal({buf.data(), fr, 2});
    EXPECT_EQ(plc.pitch_period(), period);
    double el = 0, er = 0, sl = 0, sr = 0;
    for (std::size_t i = 0; i < 480; ++i) {
        el += std::pow(buf[2 * i] - l(n + i), 2);
        er += std::pow(buf[2 * i + 1] - r(n + i), 2);
        sl += std::pow(l(n + i), 2);
        sr += std::pow(r(n + i), 2);
    }
    EXPECT_GT(10 * std::log10(sl / el), 30.0);
    EXPECT_GT(10 * std::log10(sr / er), 30.0);
}

TEST(G711Plc, OutputStaysInRangeAndConcealsAnyFrameLength) {
    // A pathological history (full-scale square wave with a jump at the end) must not overshoot.
    tutti::detail::g711_plc plc(8000, 1);
    std::vector<float> buf(400);
    for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = (i / 53) % 2 ? 1.0f : -1.0f;
    buf.back() = 1.0f;
    plc.receive({buf.data(), buf.size(), 1});
    std::size_t total = 0;
    for (const std::size_t len : {1u, 7u, 80u, 3u, 200u, 300u}) {
        std::vector<float> out(len);
        plc.conceal({out.data(), len, 1});
        total += len;
        for (float v : out) ASSERT_TRUE(v >= -1.0f && v <= 1.0f);
        EXPECT_EQ(plc.lost_samples(), total);
    }
    for (std::size_t i = 0; i < 100; ++i) {  // recovery over several tiny frames
        float v = 0.5f;
        plc.receive({&v, 1, 1});
        if (i >= 80) {
            EXPECT_EQ(v, 0.5f);
        }
    }
    EXPECT_EQ(plc.lost_samples(), 0u);
}

// ---------------------------------------------------------------------------
// Interoperability with ffmpeg (an independent G.711 implementation)

bool have_ffmpeg() { return std::system("ffmpeg -hide_banner -loglevel error -version > /dev/null 2>&1") == 0; }

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("tutti-g711-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

void write_bytes(const std::filesystem::path& p, const std::vector<std::uint8_t>& b) {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

int ffmpeg(const std::string& args) {
    return std::system(("ffmpeg -nostdin -hide_banner -loglevel error -y " + args).c_str());
}

const char* ffmpeg_format(g711_law law) { return law == g711_law::mu_law ? "mulaw" : "alaw"; }

std::vector<float> ffmpeg_decode(g711_law law, const temp_dir& dir, const std::filesystem::path& raw) {
    const auto wav_path = dir.path / "decoded.wav";
    EXPECT_EQ(ffmpeg(std::string("-f ") + ffmpeg_format(law) + " -ar 8000 -ac 1 -i '" + raw.string() +
                     "' -c:a pcm_s16le '" + wav_path.string() + "'"),
              0);
    tutti::wav_file wav;
    std::string error;
    EXPECT_EQ(tutti::read_wav_file(wav_path, wav, &error), tutti::status::ok) << error;
    EXPECT_EQ(wav.sample_rate_hz, 8000u);
    EXPECT_EQ(wav.channels, 1u);
    return wav.samples;
}

TEST(G711Interop, FfmpegDecodesOurStreamExactlyAsWeDo) {
    ASSERT_TRUE(have_ffmpeg()) << "ffmpeg not installed" << " (the tests need it: run .ci/install-deps)";
    const auto x = all_speech_8k();
    ASSERT_GT(x.size(), 8000u * 20);
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        temp_dir dir;
        auto bytes = encode_all(law, x);
        for (int c = 0; c < 256; ++c) bytes.push_back(static_cast<std::uint8_t>(c));  // every code at least once
        write_bytes(dir.path / "ours.raw", bytes);
        const auto theirs = ffmpeg_decode(law, dir, dir.path / "ours.raw");
        std::vector<float> ours(bytes.size());
        tutti::g711_decode(law, bytes.data(), ours.data(), bytes.size());
        ASSERT_EQ(theirs.size(), ours.size());
        EXPECT_EQ(theirs, ours) << ffmpeg_format(law);
        // And the codec object (no loss: the PLC passes samples through untouched).
        bytes.resize(bytes.size() / frame * frame);
        const auto via_decoder = decode_all(law, bytes);
        EXPECT_TRUE(std::equal(via_decoder.begin(), via_decoder.end(), theirs.begin()));
    }
}

TEST(G711Interop, WeDecodeFfmpegsStreamExactlyAsItDoes) {
    ASSERT_TRUE(have_ffmpeg()) << "ffmpeg not installed" << " (the tests need it: run .ci/install-deps)";
    const auto x = all_speech_8k();
    ASSERT_GT(x.size(), 8000u * 20);
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        temp_dir dir;
        tutti::wav_file wav{8000, 1, tutti::wav_encoding::pcm16, x};
        ASSERT_EQ(tutti::write_wav_file(dir.path / "speech.wav", wav), tutti::status::ok);
        ASSERT_EQ(ffmpeg("-i '" + (dir.path / "speech.wav").string() + "' -f " + ffmpeg_format(law) + " '" +
                         (dir.path / "theirs.raw").string() + "'"),
                  0);
        const auto their_bytes = read_bytes(dir.path / "theirs.raw");
        ASSERT_EQ(their_bytes.size(), x.size());
        const auto their_decode = ffmpeg_decode(law, dir, dir.path / "theirs.raw");
        EXPECT_EQ(decode_all(law, their_bytes), their_decode) << ffmpeg_format(law);
        // The encoders agree on almost every sample; see the exhaustive test below for where not.
        const auto our_bytes = encode_all(law, x);
        std::size_t differ = 0;
        for (std::size_t i = 0; i < x.size(); ++i) differ += our_bytes[i] != their_bytes[i];
        std::printf("[ measured ] %s: ffmpeg's encoding differs from ours in %zu of %zu speech samples (%.3f %%)\n",
                    ffmpeg_format(law), differ, x.size(), 100.0 * static_cast<double>(differ) / static_cast<double>(x.size()));
        // Many of these are quiet negative samples (-1..-4 at 16 bits and similar): G.191 codes them
        // as -0, ffmpeg as the first negative level. Both encodings are equally good G.711:
        const double ours_snr = snr_db(x, decode_all(law, our_bytes));
        const double theirs_snr = snr_db(x, decode_all(law, their_bytes));
        std::printf("[ measured ] %s: SNR with our encoder %.2f dB, with ffmpeg's %.2f dB\n", ffmpeg_format(law),
                    ours_snr, theirs_snr);
        EXPECT_NEAR(ours_snr, theirs_snr, 0.3);
    }
}

// ffmpeg builds its encoder table from midpoints between its decoder's levels,
// rounded to its own 16-bit grid; G.711 (and ours) uses the standard's decision
// values. So the encoders disagree for inputs near a decision value, and only
// there: whenever they differ, x lies between the two levels they chose and
// those levels are neighbours (both are "a nearest level", picked differently).
TEST(G711Interop, EncodersDifferOnlyByOneLevelAtDecisionValues) {
    ASSERT_TRUE(have_ffmpeg()) << "ffmpeg not installed" << " (the tests need it: run .ci/install-deps)";
    temp_dir dir;
    std::vector<std::uint8_t> s16le;
    for (int x = -32768; x <= 32767; ++x) {
        const auto u = static_cast<std::uint16_t>(x);  // two's complement bits, little-endian
        s16le.push_back(static_cast<std::uint8_t>(u & 0xFF));
        s16le.push_back(static_cast<std::uint8_t>(u >> 8));
    }
    write_bytes(dir.path / "all.raw", s16le);
    for (const auto law : {g711_law::mu_law, g711_law::a_law}) {
        const auto out = dir.path / "all.g711";
        ASSERT_EQ(ffmpeg("-f s16le -ar 8000 -ac 1 -i '" + (dir.path / "all.raw").string() + "' -f " +
                         ffmpeg_format(law) + " '" + out.string() + "'"),
                  0);
        const auto theirs = read_bytes(out);
        ASSERT_EQ(theirs.size(), 65536u);
        // Sorted decoder levels, to tell neighbours.
        std::vector<int> levels;
        for (int c = 0; c < 256; ++c) levels.push_back(tutti::g711_decode_sample(law, static_cast<std::uint8_t>(c)));
        std::sort(levels.begin(), levels.end());
        levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
        int differ = 0;
        for (int x = -32768; x <= 32767; ++x) {
            const auto i = static_cast<std::size_t>(x + 32768);
            const auto ours = tutti::g711_encode_sample(law, static_cast<std::int16_t>(x));
            if (ours == theirs[i]) continue;
            ++differ;
            const int a = tutti::g711_decode_sample(law, ours);
            const int b = tutti::g711_decode_sample(law, theirs[i]);
            ASSERT_LE(std::min(a, b), x) << ffmpeg_format(law) << " x=" << x;
            ASSERT_GE(std::max(a, b), x) << ffmpeg_format(law) << " x=" << x;
            const auto ia = std::lower_bound(levels.begin(), levels.end(), a) - levels.begin();
            const auto ib = std::lower_bound(levels.begin(), levels.end(), b) - levels.begin();
            ASSERT_EQ(std::abs(ia - ib), 1) << ffmpeg_format(law) << " x=" << x;
        }
        std::printf("[ measured ] %s: encoders differ on %d of 65536 inputs\n", ffmpeg_format(law), differ);
        EXPECT_LT(differ, 1000);
    }
}

}  // namespace
