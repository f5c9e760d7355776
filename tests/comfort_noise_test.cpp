// Tests for tutti/comfort_noise.hpp: RFC 3389 payload parsing and writing, and
// the generator's level (within ±1 dB of the requested dBov), flatness and
// determinism.
#include "tutti/comfort_noise.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "tutti/kernels.hpp"

TEST(ComfortNoisePayload, ParseLevelAndCoefficients) {
    // RFC 3389 §3: level byte (top bit 0), then reflection coefficients.
    const std::uint8_t with_model[] = {0x2A, 0x80, 0x7F, 0x01, 0xFF};
    tutti::comfort_noise_payload cn;
    ASSERT_EQ(tutti::parse_comfort_noise(with_model, cn), tutti::status::ok);
    EXPECT_EQ(cn.level, 42);
    EXPECT_EQ(cn.coefficient_count(), 4u);
    EXPECT_EQ(cn.reflection_coefficients.data(), with_model + 1);

    const std::uint8_t level_only[] = {127};
    ASSERT_EQ(tutti::parse_comfort_noise(level_only, cn), tutti::status::ok);
    EXPECT_EQ(cn.level, 127);
    EXPECT_EQ(cn.coefficient_count(), 0u);

    const std::uint8_t top_bit[] = {0x80 | 40, 1};
    cn.level = 9;
    EXPECT_EQ(tutti::parse_comfort_noise(top_bit, cn), tutti::status::malformed);
    EXPECT_EQ(tutti::parse_comfort_noise({}, cn), tutti::status::truncated);
    EXPECT_EQ(cn.level, 9);  // unchanged on error
}

TEST(ComfortNoisePayload, Write) {
    std::uint8_t out[2] = {0xEE, 0xEE};
    ASSERT_EQ(tutti::write_comfort_noise(64, out), 1);
    EXPECT_EQ(out[0], 64);
    EXPECT_EQ(out[1], 0xEE);
    EXPECT_EQ(tutti::write_comfort_noise(128, out), tutti::as_count(tutti::status::invalid_argument));
    EXPECT_EQ(tutti::write_comfort_noise(1, std::span<std::uint8_t>{}), tutti::as_count(tutti::status::buffer_too_small));
    tutti::comfort_noise_payload cn;
    ASSERT_EQ(tutti::parse_comfort_noise(std::span<const std::uint8_t>(out, 1), cn), tutti::status::ok);
    EXPECT_EQ(cn.level, 64);
}

TEST(ComfortNoiseGenerator, LevelWithinOneDecibel) {
    tutti::comfort_noise_generator gen(12345);
    // 20 ms at 48 kHz: the mean square of 960 uniform samples has a relative
    // spread of sqrt(0.8 / 960) (0.13 dB), so 1 dB per frame is a 8-sigma bound.
    std::vector<float> frame(960);
    for (int level : {10, 30, 45, 60, 70, 90, 110}) {
        SCOPED_TRACE(level);
        double sum = 0;
        std::size_t n = 0;
        for (int f = 0; f < 50; ++f) {  // one second
            gen.fill(frame, static_cast<std::uint8_t>(level));
            for (float x : frame) sum += double{x} * x;
            n += frame.size();
            // Each 20 ms frame alone is already within 1 dB.
            const float frame_db = tutti::measure_level(frame).rms;
            EXPECT_NEAR(frame_db, -level, 1.0);
        }
        EXPECT_NEAR(10.0 * std::log10(sum / static_cast<double>(n)), -level, 0.2);
    }
}

TEST(ComfortNoiseGenerator, FlatSpectrumZeroMeanDeterministic) {
    tutti::comfort_noise_generator a(7), b(7), c(8);
    std::vector<float> x(48000), y(48000), z(48000);
    a.fill(x, 40);
    b.fill(y, 40);
    c.fill(z, 40);
    EXPECT_EQ(x, y);
    EXPECT_NE(x, z);
    EXPECT_EQ(a.state(), b.state());
    double mean = 0, power = 0, lag1 = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        mean += x[i];
        power += double{x[i]} * x[i];
        if (i > 0) lag1 += double{x[i]} * x[i - 1];
    }
    const double rms = std::sqrt(power / static_cast<double>(x.size()));
    EXPECT_LT(std::abs(mean / static_cast<double>(x.size())), 0.02 * rms);
    EXPECT_LT(std::abs(lag1 / power), 0.02);  // white: neighbours uncorrelated
    // Uniform: the peak is sqrt(3) x RMS.
    float peak = 0;
    for (float v : x) peak = std::max(peak, std::abs(v));
    EXPECT_NEAR(peak / rms, std::sqrt(3.0), 0.01);
    // Level 127 and above is -127 dBov, not louder.
    a.fill(x, 255);
    EXPECT_NEAR(tutti::measure_level(x).rms, -127.0f, 1.0f);
}
