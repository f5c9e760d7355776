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
