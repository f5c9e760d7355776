// Every kernel at every dispatch level this CPU runs equals the scalar
// reference: bit-exact for all element-wise kernels (integers and floats),
// within a relative tolerance for the sum_squares reduction. Lengths 0..4099
// cover every tail case, offsets 0..3 elements cover unaligned pointers.
#include "tutti/kernels.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using tutti::kernel_table;
using tutti::simd_level;

constexpr std::size_t max_length = 4099;
constexpr std::size_t max_offset = 3;

const kernel_table& reference() { return *tutti::kernels_for(simd_level::scalar); }

std::vector<simd_level> supported_levels() {
    std::vector<simd_level> out;
    for (simd_level l : {simd_level::scalar, simd_level::sse2, simd_level::avx2, simd_level::avx512, simd_level::neon})
        if (tutti::kernels_for(l) != nullptr) out.push_back(l);
    return out;
}

// Random floats mostly in [-1, 1] with some beyond full scale and exact specials.
std::vector<float> random_floats(std::size_t n, unsigned seed, float range = 1.5f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-range, range);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    // Values on rounding ties and at the int16 edges.
    const float specials[] = {0.5f / 32768, 1.5f / 32768, -2.5f / 32768, 32767.5f / 32768, -1.0f, 1.0f, 0.0f, -0.0f};
    for (std::size_t i = 0; i < n; i += 37) v[i] = specials[(i / 37) % 8];
    return v;
}

std::vector<std::int16_t> random_s16(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> d(-32768, 32767);
    std::vector<std::int16_t> v(n);
    for (auto& x : v) x = static_cast<std::int16_t>(d(rng));
    return v;
}

template <class T>
bool bit_equal(const T* a, const T* b, std::size_t n) {
    return n == 0 || std::memcmp(a, b, n * sizeof(T)) == 0;
}

class Kernels : public testing::TestWithParam<simd_level> {
protected:
    const kernel_table& k() const { return *tutti::kernels_for(GetParam()); }
};

TEST_P(Kernels, S16ToFloat) {
    auto src = random_s16(max_length + max_offset, 1);
    std::vector<float> want(max_length + max_offset), got(max_length + max_offset);
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::size_t off = n % (max_offset + 1);
        reference().s16_to_float(src.data() + off, want.data() + off, n);
        k().s16_to_float(src.data() + off, got.data() + off, n);
        ASSERT_TRUE(bit_equal(want.data() + off, got.data() + off, n)) << "n=" << n;
    }
}

TEST_P(Kernels, FloatToS16RoundsAndSaturates) {
    auto src = random_floats(max_length + max_offset, 2);
    std::vector<std::int16_t> want(max_length + max_offset), got(max_length + max_offset);
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::size_t off = (n + 1) % (max_offset + 1);
        reference().float_to_s16(src.data() + off, want.data() + off, n);
        k().float_to_s16(src.data() + off, got.data() + off, n);
        ASSERT_TRUE(bit_equal(want.data() + off, got.data() + off, n)) << "n=" << n;
    }
    // Exact values the contract promises.
    const float in[] = {1.0f, -1.0f, 2.0f, -7.0f, 0.5f / 32768, 1.5f / 32768, -0.5f / 32768, 32766.5f / 32768,
                        std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                        -std::numeric_limits<float>::infinity(), 100.0f / 32768, 0, 0, 0, 0, 0};
    const std::int16_t expect[] = {32767, -32768, 32767, -32768, 0, 2, 0, 32766, -32768, 32767, -32768, 100, 0, 0, 0, 0, 0};
    std::int16_t out[17];
    k().float_to_s16(in, out, 17);
    for (int i = 0; i < 17; ++i) EXPECT_EQ(out[i], expect[i]) << "i=" << i;
}

TEST_P(Kernels, S16RoundTripIsIdentity) {
    std::vector<std::int16_t> all(65536), back(65536);
    for (int i = 0; i < 65536; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(i - 32768);
    std::vector<float> f(65536);
    k().s16_to_float(all.data(), f.data(), all.size());
    k().float_to_s16(f.data(), back.data(), f.size());
    EXPECT_EQ(all, back);
}

TEST_P(Kernels, AddSaturateS16) {
    auto a = random_s16(max_length + max_offset, 3), b = random_s16(max_length + max_offset, 4);
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::size_t off = n % (max_offset + 1);
        auto want = a, got = a;
        reference().add_saturate_s16(want.data() + off, b.data() + off, n);
        k().add_saturate_s16(got.data() + off, b.data() + off, n);
        ASSERT_TRUE(bit_equal(want.data(), got.data(), want.size())) << "n=" << n;
    }
    // Aliasing: dst == src doubles with saturation.
    auto want = a, got = a;
    reference().add_saturate_s16(want.data(), want.data(), max_length);
    k().add_saturate_s16(got.data(), got.data(), max_length);
    EXPECT_EQ(want, got);
    std::int16_t x[2] = {30000, -30000}, y[2] = {30000, -30000};
    k().add_saturate_s16(x, y, 2);
    EXPECT_EQ(x[0], 32767);
    EXPECT_EQ(x[1], -32768);
}

TEST_P(Kernels, MixSaturateS16IsSequentialSaturatingAdds) {
    const std::size_t counts[] = {0, 1, 2, 3, 10, 33};
    for (std::size_t count : counts) {
        std::vector<std::vector<std::int16_t>> inputs;
        std::vector<const std::int16_t*> ptrs;
        for (std::size_t c = 0; c < count; ++c) inputs.push_back(random_s16(max_length + max_offset, 100 + static_cast<unsigned>(c)));
        for (std::size_t n = 0; n <= max_length; n += (n < 300 ? 1 : 61)) {
            const std::size_t off = n % (max_offset + 1);
            ptrs.clear();
            for (auto& in : inputs) ptrs.push_back(in.data() + off);
            std::vector<std::int16_t> want(n + 1, 7), got(n + 1, 7);
            reference().mix_saturate_s16(want.data(), ptrs.data(), count, n);
            k().mix_saturate_s16(got.data(), ptrs.data(), count, n);
            ASSERT_EQ(want, got) << "count=" << count << " n=" << n;
            ASSERT_EQ(got[n], 7);  // wrote nothing past n
        }
    }
}

TEST_P(Kernels, Accumulate) {
    auto src = random_floats(max_length + max_offset, 5), base = random_floats(max_length + max_offset, 6);
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::size_t off = (n + 2) % (max_offset + 1);
        auto want = base, got = base;
        reference().accumulate(want.data() + off, src.data() + off, n);
        k().accumulate(got.data() + off, src.data() + off, n);
        ASSERT_TRUE(bit_equal(want.data(), got.data(), want.size())) << "n=" << n;
    }
    auto want = base, got = base;  // dst == src
    reference().accumulate(want.data(), want.data(), max_length);
    k().accumulate(got.data(), got.data(), max_length);
    EXPECT_TRUE(bit_equal(want.data(), got.data(), want.size()));
}

TEST_P(Kernels, AccumulateScaled) {
    auto src = random_floats(max_length + max_offset, 7), base = random_floats(max_length + max_offset, 8);
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::size_t off = n % (max_offset + 1);
        const float gain = 0.1f + static_cast<float>(n % 17) * 0.37f;
        auto want = base, got = base;
        reference().accumulate_scaled(want.data() + off, src.data() + off, gain, n);
        k().accumulate_scaled(got.data() + off, src.data() + off, gain, n);
        ASSERT_TRUE(bit_equal(want.data(), got.data(), want.size())) << "n=" << n;
    }
}

TEST_P(Kernels, MixSumIsLeftToRightSum) {
    const std::size_t counts[] = {0, 1, 2, 3, 10, 100};
    for (std::size_t count : counts) {
        std::vector<std::vector<float>> inputs;
        std::vector<const float*> ptrs;
        for (std::size_t c = 0; c < count; ++c) inputs.push_back(random_floats(max_length + max_offset, 200 + static_cast<unsigned>(c)));
        for (std::size_t n = 0; n <= max_length; n += (n < 300 ? 1 : 61)) {
            const std::size_t off = (n + 3) % (max_offset + 1);
            ptrs.clear();
            for (auto& in : inputs) ptrs.push_back(in.data() + off);
            std::vector<float> want(n + 1, 7.0f), got(n + 1, 7.0f);
            reference().mix_sum(want.data(), ptrs.data(), count, n);
            k().mix_sum(got.data(), ptrs.data(), count, n);
            ASSERT_TRUE(bit_equal(want.data(), got.data(), n + 1)) << "count=" << count << " n=" << n;
        }
    }
}

TEST_P(Kernels, MixMinusRemovesOwnVoice) {
    auto total = random_floats(max_length + max_offset, 9), own = random_floats(max_length + max_offset, 10);
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::size_t off = n % (max_offset + 1);
        std::vector<float> want(total.size()), got(total.size());
        reference().mix_minus(want.data() + off, total.data() + off, own.data() + off, 0.8f, n);
        k().mix_minus(got.data() + off, total.data() + off, own.data() + off, 0.8f, n);
        ASSERT_TRUE(bit_equal(want.data(), got.data(), want.size())) << "n=" << n;
    }
    auto want = total, got = total;  // dst == total
    reference().mix_minus(want.data(), want.data(), own.data(), 1.0f, max_length);
    k().mix_minus(got.data(), got.data(), own.data(), 1.0f, max_length);
    EXPECT_TRUE(bit_equal(want.data(), got.data(), want.size()));
}

TEST_P(Kernels, GainRampIsLinearAndBitExact) {
    auto src = random_floats(max_length + max_offset, 11);
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::size_t off = n % (max_offset + 1);
        std::vector<float> want(src.size()), got(src.size());
        reference().gain_ramp(want.data() + off, src.data() + off, 0.25f, 1.75f, n);
        k().gain_ramp(got.data() + off, src.data() + off, 0.25f, 1.75f, n);
        ASSERT_TRUE(bit_equal(want.data(), got.data(), want.size())) << "n=" << n;
        auto in_place = src;  // dst == src
        k().gain_ramp(in_place.data() + off, in_place.data() + off, 0.25f, 1.75f, n);
        ASSERT_TRUE(bit_equal(want.data() + off, in_place.data() + off, n)) << "n=" << n;
    }
    // On a constant input the ramp is the gain itself: starts at `from`, steps evenly, stops short of `to`.
    std::vector<float> ones(160, 1.0f), out(160);
    k().gain_ramp(out.data(), ones.data(), 0.0f, 1.0f, 160);
    EXPECT_EQ(out[0], 0.0f);
    for (std::size_t i = 1; i < 160; ++i) EXPECT_NEAR(out[i] - out[i - 1], 1.0f / 160, 1e-6f);
    EXPECT_NEAR(out[159], 159.0f / 160, 1e-6f);
    k().gain_ramp(out.data(), src.data(), 0.5f, 0.5f, 160);  // flat ramp is a plain gain, exactly
    for (std::size_t i = 0; i < 160; ++i) EXPECT_EQ(out[i], src[i] * 0.5f);
}

TEST_P(Kernels, ClampBoundsEverything) {
    auto src = random_floats(max_length + max_offset, 12, 4.0f);
    src[5] = std::numeric_limits<float>::quiet_NaN();
    src[6] = std::numeric_limits<float>::infinity();
    src[7] = -std::numeric_limits<float>::infinity();
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::size_t off = n % (max_offset + 1);
        std::vector<float> want(src.size()), got(src.size());
        reference().clamp(want.data() + off, src.data() + off, 0.9f, n);
        k().clamp(got.data() + off, src.data() + off, 0.9f, n);
        ASSERT_TRUE(bit_equal(want.data(), got.data(), want.size())) << "n=" << n;
    }
    std::vector<float> out(src.size());
    k().clamp(out.data(), src.data(), 0.9f, src.size());
    for (float x : out) ASSERT_LE(std::fabs(x), 0.9f);
    EXPECT_EQ(out[5], -0.9f);  // NaN
    EXPECT_EQ(out[6], 0.9f);
    EXPECT_EQ(out[7], -0.9f);
}

TEST_P(Kernels, PeakAbsIgnoresNaN) {
    auto src = random_floats(max_length + max_offset, 13);
    for (std::size_t i = 11; i < src.size(); i += 97) src[i] = std::numeric_limits<float>::quiet_NaN();
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::size_t off = n % (max_offset + 1);
        const float want = reference().peak_abs(src.data() + off, n);
        const float got = k().peak_abs(src.data() + off, n);
        ASSERT_EQ(want, got) << "n=" << n;
        ASSERT_FALSE(std::isnan(got));
    }
}

TEST_P(Kernels, SumSquaresWithinRoundingOfReference) {
    auto src = random_floats(max_length + max_offset, 14);
    for (std::size_t n = 0; n <= max_length; ++n) {
        const std::size_t off = n % (max_offset + 1);
        double exact = 0;
        for (std::size_t i = 0; i < n; ++i) exact += double(src[off + i]) * src[off + i];
        const float got = k().sum_squares(src.data() + off, n);
        // float summation of n positive terms: relative error below n * 2^-24 (far less in practice).
        ASSERT_NEAR(got, exact, 1e-7 + exact * (static_cast<double>(n) * 6e-8)) << "n=" << n;
    }
}

// ---------------------------------------------------------------------------
// G.711: every level against the scalar tables, for every input.

const tutti::g711_kernels& law_of(const kernel_table& t, bool a_law) { return a_law ? t.a_law : t.mu_law; }

// Every code at every position modulo 64 (the widest block: 4 AVX-512 vectors):
// code (p + q) & 255 at index 256 q + p.
std::vector<std::uint8_t> every_code_everywhere() {
    std::vector<std::uint8_t> v(256 * 64);
    for (std::size_t j = 0; j < v.size(); ++j) v[j] = static_cast<std::uint8_t>((j & 255) + (j >> 8));
    return v;
}

std::vector<std::uint8_t> random_codes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> v(n);
    for (auto& c : v) c = static_cast<std::uint8_t>(rng());
    return v;
}

TEST_P(Kernels, G711EncodeS16EveryInput) {
    std::vector<std::int16_t> all(65536 + max_offset);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int16_t>(static_cast<int>(i % 65536) - 32768);
    for (const bool a_law : {false, true}) {
        for (std::size_t off = 0; off <= max_offset; ++off) {  // every value in every lane of every width
            std::vector<std::uint8_t> want(65536), got(65536);
            law_of(reference(), a_law).encode_s16(all.data() + off, want.data(), 65536);
            law_of(k(), a_law).encode_s16(all.data() + off, got.data(), 65536);
            ASSERT_EQ(want, got) << "a_law=" << a_law << " off=" << off;
        }
        for (std::size_t n = 0; n <= 300; ++n) {  // tails write n bytes, no more
            std::vector<std::uint8_t> want(n + 1, 0x5A), got(n + 1, 0x5A);
            law_of(reference(), a_law).encode_s16(all.data() + 32700, want.data(), n);
            law_of(k(), a_law).encode_s16(all.data() + 32700, got.data(), n);
            ASSERT_EQ(want, got) << "a_law=" << a_law << " n=" << n;
            ASSERT_EQ(got[n], 0x5A);
        }
    }
}

TEST_P(Kernels, G711EncodeFloatRoundsLikeFloatToS16) {
    constexpr float inf = std::numeric_limits<float>::infinity();
    // Every int16 value and every half-way point between two (rounding ties),
    // in the mixing scale, then beyond full scale and the specials.
    std::vector<float> src;
    for (int x = -2 * 32768 - 8; x <= 2 * 32767 + 8; ++x) src.push_back(static_cast<float>(x) / 65536.0f);
    for (float x : {1.5f, -1.5f, 1e30f, -1e30f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), -0.0f, 0.0f,
                    1e-40f, -1e-40f, std::numeric_limits<float>::max(), -std::numeric_limits<float>::max()})
        for (int r = 0; r < 67; ++r) src.push_back(x);  // in every lane position
    const auto mixed = random_floats(max_length + max_offset, 21, 1.2f);
    src.insert(src.end(), mixed.begin(), mixed.end());
    for (const bool a_law : {false, true}) {
        for (std::size_t off = 0; off <= max_offset; ++off) {
            const std::size_t n = src.size() - off;
            std::vector<std::uint8_t> want(n), got(n);
            law_of(reference(), a_law).encode(src.data() + off, want.data(), n);
            law_of(k(), a_law).encode(src.data() + off, got.data(), n);
            ASSERT_EQ(want, got) << "a_law=" << a_law << " off=" << off;
        }
        for (std::size_t n = 0; n <= 300; ++n) {
            const std::size_t off = n % (max_offset + 1);
            std::vector<std::uint8_t> want(n + 1, 0x5A), got(n + 1, 0x5A);
            law_of(reference(), a_law).encode(mixed.data() + off, want.data(), n);
            law_of(k(), a_law).encode(mixed.data() + off, got.data(), n);
            ASSERT_EQ(want, got) << "a_law=" << a_law << " n=" << n;
            ASSERT_EQ(got[n], 0x5A);
        }
    }
    // The contract's anchors: saturation, NaN as -32768, -0.0 as +0.
    const float in[] = {1.0f, -1.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), -0.0f};
    std::uint8_t mu[6], a[6];
    k().mu_law.encode(in, mu, 6);
    k().a_law.encode(in, a, 6);
    const std::uint8_t mu_want[] = {0x80, 0x00, 0x80, 0x00, 0x00, 0xFF}, a_want[] = {0xAA, 0x2A, 0xAA, 0x2A, 0x2A, 0xD5};
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(mu[i], mu_want[i]) << i;
        EXPECT_EQ(a[i], a_want[i]) << i;
    }
}

TEST_P(Kernels, G711DecodeEveryCodeEverywhere) {
    const auto all = every_code_everywhere();
    const auto noise = random_codes(400 + max_offset, 22);
    for (const bool a_law : {false, true}) {
        const auto& ref = law_of(reference(), a_law);
        const auto& got_k = law_of(k(), a_law);
        for (std::size_t off = 0; off <= max_offset; ++off) {
            const std::size_t n = all.size() - off;
            std::vector<float> want(n), got(n);
            ref.decode(all.data() + off, want.data(), n);
            got_k.decode(all.data() + off, got.data(), n);
            ASSERT_TRUE(bit_equal(want.data(), got.data(), n)) << "a_law=" << a_law << " off=" << off;
            std::vector<std::int16_t> want16(n), got16(n);
            ref.decode_s16(all.data() + off, want16.data(), n);
            got_k.decode_s16(all.data() + off, got16.data(), n);
            ASSERT_EQ(want16, got16) << "a_law=" << a_law << " off=" << off;
        }
        for (std::size_t n = 0; n <= 400; ++n) {
            const std::size_t off = n % (max_offset + 1);
            std::vector<float> want(n + 1, 7.0f), got(n + 1, 7.0f);
            ref.decode(noise.data() + off, want.data(), n);
            got_k.decode(noise.data() + off, got.data(), n);
            ASSERT_TRUE(bit_equal(want.data(), got.data(), n + 1)) << "a_law=" << a_law << " n=" << n;
            std::vector<std::int16_t> want16(n + 1, 7), got16(n + 1, 7);
            ref.decode_s16(noise.data() + off, want16.data(), n);
            got_k.decode_s16(noise.data() + off, got16.data(), n);
            ASSERT_EQ(want16, got16) << "a_law=" << a_law << " n=" << n;
        }
    }
    // µ-law "negative zero" decodes to +0.0, not -0.0.
    const std::uint8_t neg_zero = 0x7F;
    float f = -1.0f;
    k().mu_law.decode(&neg_zero, &f, 1);
    EXPECT_FALSE(std::signbit(f));
}

TEST_P(Kernels, G711SumSquaresIsExact) {
    const auto all = every_code_everywhere();
    const auto noise = random_codes(400 + max_offset, 23);
    for (const bool a_law : {false, true}) {
        const auto& ref = law_of(reference(), a_law);
        const auto& got_k = law_of(k(), a_law);
        for (std::size_t off = 0; off <= max_offset; ++off)
            ASSERT_EQ(ref.sum_squares(all.data() + off, all.size() - off), got_k.sum_squares(all.data() + off, all.size() - off))
                << "a_law=" << a_law << " off=" << off;
        for (std::size_t n = 0; n <= 400; ++n) {
            const std::size_t off = n % (max_offset + 1);
            ASSERT_EQ(ref.sum_squares(noise.data() + off, n), got_k.sum_squares(noise.data() + off, n))
                << "a_law=" << a_law << " n=" << n;
        }
        // The loudest codes, far past 2^32 in total: no 32-bit lane may overflow.
        const std::vector<std::uint8_t> loud(100003, a_law ? 0xAA : 0x80);
        const std::uint64_t peak = a_law ? 32256 : 32124;
        EXPECT_EQ(got_k.sum_squares(loud.data(), loud.size()), peak * peak * loud.size()) << "a_law=" << a_law;
    }
}

INSTANTIATE_TEST_SUITE_P(AllLevels, Kernels, testing::ValuesIn(supported_levels()),
                         [](const testing::TestParamInfo<simd_level>& param) {
                             return std::string(tutti::to_string(param.param));
                         });

TEST(Dispatch, ForcingALevelIsHonouredAndRestorable) {
    const simd_level best = tutti::best_simd_level();
    EXPECT_NE(tutti::kernels_for(best), nullptr);
    EXPECT_EQ(tutti::set_simd_level(simd_level::scalar), simd_level::scalar);
    EXPECT_EQ(tutti::active_simd_level(), simd_level::scalar);
    EXPECT_EQ(tutti::set_simd_level(simd_level::avx512), best);
    EXPECT_EQ(tutti::active_simd_level(), best);
    EXPECT_EQ(tutti::kernels_for(best)->level, best);
#if defined(__x86_64__)
    EXPECT_EQ(tutti::kernels_for(simd_level::neon), nullptr);
    EXPECT_NE(tutti::kernels_for(simd_level::sse2), nullptr);
#endif
}

TEST(Levels, DbovScale) {
    std::vector<float> square(960);
    for (std::size_t i = 0; i < square.size(); ++i) square[i] = (i / 24) % 2 ? 1.0f : -1.0f;
    auto l = tutti::measure_level(square);
    EXPECT_NEAR(l.rms, 0.0f, 1e-4f);
    EXPECT_NEAR(l.peak, 0.0f, 1e-6f);
    std::vector<float> sine(960);
    for (std::size_t i = 0; i < sine.size(); ++i) sine[i] = 0.5f * std::sin(2 * 3.14159265f * 1000.0f * static_cast<float>(i) / 48000);
    l = tutti::measure_level(sine);
    EXPECT_NEAR(l.rms, -3.01f - 6.02f, 0.02f);
    EXPECT_NEAR(l.peak, -6.02f, 0.02f);
    std::vector<float> silence(960, 0.0f);
    l = tutti::measure_level(silence);
    EXPECT_EQ(l.rms, -127.0f);
    EXPECT_EQ(tutti::rfc6464_level(l.rms), 127);
    EXPECT_EQ(tutti::rfc6464_level(-9.03f), 9);
    EXPECT_EQ(tutti::rfc6464_level(0.0f), 0);
    EXPECT_EQ(tutti::rfc6464_level(-300.0f), 127);
}

}  // namespace
