// The limiter's two promises: never above the ceiling, whatever goes in; and
// bit-transparent while the signal stays below the threshold.
#include "tutti/limiter.hpp"
#include "tutti/kernels.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace {

constexpr float pi = 3.14159265358979f;

float max_abs(const std::vector<float>& v) {
    float m = 0;
    for (float x : v) m = std::max(m, std::fabs(x));
    return m;
}

// Runs `signal` through a limiter in 20 ms frames, as the mixer does.
std::vector<float> run(tutti::limiter& lim, std::vector<float> signal, std::size_t frame = 960) {
    for (std::size_t i = 0; i < signal.size(); i += frame) {
        const std::size_t n = std::min(frame, signal.size() - i);
        lim.process(std::span<float>(signal.data() + i, n));
    }
    return signal;
}

TEST(Limiter, HundredFullScaleSquareWavesStayUnderCeiling) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> freq(50.0f, 3000.0f), phase(0.0f, 1.0f);
    std::vector<float> sum(48000 * 2, 0.0f);
    for (int w = 0; w < 100; ++w) {
        const float f = freq(rng), ph = phase(rng);
        for (std::size_t i = 0; i < sum.size(); ++i) {
            const float t = std::fmod(static_cast<float>(i) * f / 48000.0f + ph, 1.0f);
            sum[i] += t < 0.5f ? 1.0f : -1.0f;
        }
    }
    ASSERT_GT(max_abs(sum), 30.0f);  // the input really is far over full scale
    tutti::limiter lim;
    const auto out = run(lim, sum);
    EXPECT_LE(max_abs(out), lim.config().ceiling);
    EXPECT_GT(lim.stats().blocks_limited, 0u);
    // Limited, not muted: the output keeps most of the allowed level.
    double energy = 0;
    for (float x : out) energy += double(x) * x;
    EXPECT_GT(std::sqrt(energy / static_cast<double>(out.size())), 0.2);
}

TEST(Limiter, DcStepsImpulsesAndNonFiniteInput) {
    std::vector<float> x(48000, 0.0f);
    for (std::size_t i = 4800; i < 9600; ++i) x[i] = 40.0f;            // DC step far over full scale
    for (std::size_t i = 9600; i < 14400; ++i) x[i] = -40.0f;          // and its negative
    for (std::size_t i = 20000; i < 40000; i += 997) x[i] = 1000.0f;   // isolated impulses
    x[41000] = std::numeric_limits<float>::infinity();
    x[42000] = -std::numeric_limits<float>::infinity();
    x[43000] = std::numeric_limits<float>::quiet_NaN();
    for (std::size_t frame : {960u, 160u, 7u}) {
        tutti::limiter lim;
        const auto out = run(lim, x, frame);
        for (std::size_t i = 0; i < out.size(); ++i) {
            ASSERT_FALSE(std::isnan(out[i])) << i;
            ASSERT_LE(std::fabs(out[i]), lim.config().ceiling) << "frame " << frame << " sample " << i;
        }
    }
}

TEST(Limiter, TransparentBelowThreshold) {
    std::vector<float> speechlike(48000 * 3);
    std::mt19937 rng(2);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    for (std::size_t i = 0; i < speechlike.size(); ++i)
        speechlike[i] = std::clamp(0.3f * std::sin(2 * pi * 220.0f * static_cast<float>(i) / 48000) + noise(rng), -0.49f, 0.49f);
    tutti::limiter lim;  // threshold 0.5
    const auto out = run(lim, speechlike);
    EXPECT_EQ(out, speechlike);  // bit for bit
    EXPECT_EQ(lim.stats().blocks_limited, 0u);
}

TEST(Limiter, RecoversUnityGainAfterLoudBurst) {
    std::vector<float> x(48000 * 2, 0.0f);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.2f * std::sin(2 * pi * 440.0f * static_cast<float>(i) / 48000);
    for (std::size_t i = 0; i < 4800; ++i) x[i] *= 20.0f;  // 100 ms burst at 4x full scale
    tutti::limiter lim;
    const auto out = run(lim, x);
    // One second later the quiet tone comes out unchanged.
    for (std::size_t i = 48000; i < x.size(); ++i) ASSERT_EQ(out[i], x[i]) << i;
    EXPECT_LT(lim.stats().min_gain, 0.3f);
    EXPECT_EQ(lim.stats().gain, 1.0f);
}

TEST(Limiter, GainChangesSmoothly) {
    // A tone jumping from 0.4 to 3.0 amplitude: after the first block of the jump the
    // per-sample gain change stays small (no zipper, no hard step).
    std::vector<float> x(48000);
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = (i < 24000 ? 0.4f : 3.0f) * std::sin(2 * pi * 100.0f * static_cast<float>(i) / 48000);
    tutti::limiter lim;
    const auto out = run(lim, x);
    float max_step = 0;
    for (std::size_t i = 24048 + 1; i < out.size(); ++i) max_step = std::max(max_step, std::fabs(out[i] - out[i - 1]));
    // A 100 Hz sine at amplitude 0.95 moves at most 2*pi*100/48000*0.95 = 0.0124 per sample.
    EXPECT_LT(max_step, 0.02f);
    EXPECT_LE(max_abs(out), lim.config().ceiling);
}

TEST(Limiter, StereoSharesOneGain) {
    std::vector<float> x(2 * 48000);
    for (std::size_t i = 0; i < 48000; ++i) {
        x[2 * i] = 3.0f * std::sin(2 * pi * 300.0f * static_cast<float>(i) / 48000);  // loud left
        x[2 * i + 1] = 0.1f * std::sin(2 * pi * 300.0f * static_cast<float>(i) / 48000);  // quiet right
    }
    tutti::limiter lim({.sample_rate_hz = 48000, .channels = 2});
    const auto out = run(lim, x, 1920);
    // In steady state the right channel is reduced by the same factor as the left.
    for (std::size_t i = 24000; i < 48000; i += 101) {
        if (std::fabs(x[2 * i]) < 0.5f || std::fabs(out[2 * i]) >= lim.config().ceiling) continue;
        EXPECT_NEAR(out[2 * i] / x[2 * i], out[2 * i + 1] / x[2 * i + 1], 2e-3f) << i;
    }
}

}  // namespace

// The short blocks of a narrowband limiter (8 samples at 8 kHz) take their peak
// inline instead of from the SIMD kernel: the output and the counters are bit
// for bit what a limiter built on the scalar kernel's peak_abs gives, with
// loud bursts, -0, NaN and infinities in the input. (Also the reference for the
// shortcuts below the knee, per block and per frame: same output and counters.
// The quiet phases, NaN ticks among them, take the per-frame one once the
// envelope has fallen back under the threshold.)
TEST(Limiter, ShortBlocksMatchTheScalarKernelBitForBit) {
    const tutti::kernel_table* scalar = tutti::kernels_for(tutti::simd_level::scalar);
    ASSERT_NE(scalar, nullptr);
    const tutti::limiter_config config{.sample_rate_hz = 8000, .channels = 1, .threshold = 0.5f, .ceiling = 0.9f};
    tutti::limiter lim(config);
    const tutti::limiter model_curve(config);
    // The reference: the documented algorithm, 1 ms blocks, scalar kernels throughout.
    float envelope = 0.0f, gain = 1.0f, min_gain = 1.0f;
    std::uint64_t blocks = 0, limited = 0;
    const float release = std::exp(-1.0f / config.release_ms);
    std::mt19937 rng(9);
    std::normal_distribution<float> noise(0.0f, 0.3f);
    std::vector<float> x(160), want(160);
    for (int tick = 0; tick < 500; ++tick) {
        const float loudness = (tick / 25) % 2 == 0 ? 0.2f : 4.0f;  // bursts in and out of limiting
        for (float& s : x) s = loudness * noise(rng);
        if (tick % 50 == 7) x[3] = -0.0f, x[40] = std::numeric_limits<float>::quiet_NaN(), x[99] = std::numeric_limits<float>::infinity();
        want = x;
        for (std::size_t start = 0; start < 160; start += 8) {
            float* b = want.data() + start;
            float peak = scalar->peak_abs(b, 8);
            if (!(peak <= 1.0e6f)) peak = 1.0e6f;
            envelope = peak > envelope ? peak : release * envelope + (1.0f - release) * peak;
            const float target = model_curve.gain_for(envelope);
            if (target != 1.0f || gain != 1.0f) scalar->gain_ramp(b, b, gain, target, 8);
            gain = target;
            ++blocks;
            limited += target < 1.0f ? 1 : 0;
            min_gain = std::min(min_gain, target);
        }
        scalar->clamp(want.data(), want.data(), config.ceiling, 160);
        lim.process(x);
        for (std::size_t i = 0; i < 160; ++i)
            ASSERT_EQ(std::memcmp(&x[i], &want[i], sizeof(float)), 0) << "tick " << tick << " sample " << i << ": " << x[i] << " vs " << want[i];
        ASSERT_EQ(lim.stats().gain, gain) << tick;
        ASSERT_EQ(lim.stats().blocks, blocks) << tick;
        ASSERT_EQ(lim.stats().blocks_limited, limited) << tick;
        ASSERT_EQ(lim.stats().min_gain, min_gain) << tick;
    }
}
