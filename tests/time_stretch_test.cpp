// Tests for tutti/time_stretch.hpp: exact period removal/insertion on periodic
// signals, continuity at every splice, low-energy splicing, argument checks,
// counters, no allocation in the calls, and real speech (pocketsphinx-testdata)
// sped up and slowed down by ~10-25 % block by block, scored by three proxies
// (spectral distance at voiced splices, loudness through the fades, click
// ratio) that deliberately broken splicers fail. The "[ report   ]" lines
// print the measured values the thresholds were set from.
#include "tutti/time_stretch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "tutti/resampler.hpp"
#include "tutti/wav.hpp"

namespace {

using tutti::accelerate_mode;
using tutti::interleaved_view;
using tutti::status;
using tutti::time_stretch_config;
using tutti::time_stretch_result;
using tutti::time_stretcher;

std::unique_ptr<time_stretcher> make(std::uint32_t rate, std::uint16_t channels, time_stretch_config c = {}) {
    c.sample_rate_hz = rate;
    c.channels = channels;
    std::unique_ptr<time_stretcher> t;
    EXPECT_EQ(time_stretcher::create(c, t), status::ok) << rate << " Hz x" << channels;
    return t;
}

interleaved_view<const float> view(const std::vector<float>& v, std::size_t ch) { return {v.data(), v.size() / ch, ch}; }
interleaved_view<float> view(std::vector<float>& v, std::size_t ch) { return {v.data(), v.size() / ch, ch}; }

// Band-limited sawtooth at f0 (harmonics up to 3.6 kHz or 0.45 fs), peak ~0.5.
// Channel 1 (if any) has other harmonic phases and gain: same period, other waveform.
std::vector<float> harmonic(std::uint32_t rate, double f0, std::size_t frames, std::size_t ch) {
    std::vector<float> x(frames * ch);
    const double top = std::min(3600.0, 0.45 * rate);
    for (std::size_t i = 0; i < frames; ++i) {
        const double t = static_cast<double>(i) / rate;
        for (std::size_t c = 0; c < ch; ++c) {
            double s = 0.0;
            for (int k = 1; k * f0 < top; ++k)
                s += std::sin(2.0 * std::numbers::pi * k * f0 * t + (c == 0 ? 0.0 : 0.7 * k)) / k;
            x[i * ch + c] = static_cast<float>((c == 0 ? 0.28 : 0.17) * s);
        }
    }
    return x;
}

std::vector<float> noise(std::size_t samples, float rms, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, rms);
    std::vector<float> x(samples);
    for (float& v : x) v = d(rng);
    return x;
}

// Largest |x[i] - x[i-1]| of one channel over frames [first, last).
float max_step(const float* x, std::size_t ch, std::size_t c, std::size_t first, std::size_t last) {
    float m = 0.0f;
    for (std::size_t i = std::max<std::size_t>(first, 1); i < last; ++i)
        m = std::max(m, std::fabs(x[i * ch + c] - x[(i - 1) * ch + c]));
    return m;
}

// ---------------------------------------------------------------------------
// Arguments and set-up

TEST(TimeStretch, CreateChecksItsConfig) {
    std::unique_ptr<time_stretcher> t;
    time_stretch_config c;
    c.sample_rate_hz = 7999;
    EXPECT_EQ(time_stretcher::create(c, t), status::invalid_argument);
    c.sample_rate_hz = 48001;
    EXPECT_EQ(time_stretcher::create(c, t), status::invalid_argument);
    c = {};
    c.channels = 0;
    EXPECT_EQ(time_stretcher::create(c, t), status::invalid_argument);
    c.channels = 3;
    EXPECT_EQ(time_stretcher::create(c, t), status::invalid_argument);
    c = {};
    c.min_correlation = 0.0f;
    EXPECT_EQ(time_stretcher::create(c, t), status::invalid_argument);
    c.min_correlation = NAN;
    EXPECT_EQ(time_stretcher::create(c, t), status::invalid_argument);
    c = {};
    c.low_energy_dbov = INFINITY;
    EXPECT_EQ(time_stretcher::create(c, t), status::invalid_argument);
    EXPECT_EQ(t, nullptr);
    for (std::uint32_t rate : {8000u, 11025u, 16000u, 22050u, 32000u, 44100u, 48000u}) {
        ASSERT_EQ(time_stretcher::create({rate, 2}, t), status::ok) << rate;
        EXPECT_EQ(t->min_input_frames(), 2 * ((rate * 15 + 999) / 1000)) << rate;
        EXPECT_EQ(t->max_period_frames(), rate * 15 / 1000) << rate;
        EXPECT_EQ(t->min_period_frames(), (rate * 25 + 9999) / 10000) << rate;
    }
}

TEST(TimeStretch, RejectsBadCallsWithoutWriting) {
    auto t = make(16000, 1);
    std::vector<float> in = harmonic(16000, 200, 480, 1), out(480 + 240, 7.0f);
    std::vector<float> short_in(479);
    time_stretch_result r = t->accelerate(view(short_in, 1), view(out, 1));
    EXPECT_EQ(r.code, status::invalid_argument);
    EXPECT_EQ(r.frames_out, 0u);
    EXPECT_EQ(t->stretch(view(short_in, 1), view(out, 1)).code, status::invalid_argument);
    // Channel mismatch.
    EXPECT_EQ(t->accelerate({in.data(), 240, 2}, {out.data(), 360, 2}).code, status::invalid_argument);
    // Output too small: accelerate needs in.frames(), stretch in.frames() + 15 ms.
    EXPECT_EQ(t->accelerate(view(in, 1), {out.data(), 479, 1}).code, status::buffer_too_small);
    EXPECT_EQ(t->stretch(view(in, 1), {out.data(), 480 + 239, 1}).code, status::buffer_too_small);
    // Overlapping views.
    std::vector<float> both(2000);
    EXPECT_EQ(t->accelerate({both.data(), 480, 1}, {both.data() + 100, 480, 1}).code, status::invalid_argument);
    EXPECT_EQ(t->stretch({both.data(), 480, 1}, {both.data() + 479, 720, 1}).code, status::invalid_argument);
    for (float v : out) ASSERT_EQ(v, 7.0f);
    EXPECT_EQ(t->stats().accelerate_calls, 0u);
    EXPECT_EQ(t->stats().stretch_calls, 0u);
    // Adjacent (not overlapping) is fine.
    std::copy(in.begin(), in.end(), both.begin());
    EXPECT_EQ(t->accelerate({both.data(), 480, 1}, {both.data() + 480, 480, 1}).code, status::ok);
}

// ---------------------------------------------------------------------------
// Periodic signals: exactly one period, and no step larger than the signal's own

struct periodic_case {
    std::uint32_t rate;
    std::uint16_t channels;
    double f0;
};

class Periodic : public ::testing::TestWithParam<periodic_case> {};

TEST_P(Periodic, AccelerateRemovesOnePeriodSeamlessly) {
    const auto [rate, ch, f0] = GetParam();
    auto t = make(rate, ch);
    for (std::size_t frames : {t->min_input_frames(), t->min_input_frames() + rate / 100}) {
        const std::vector<float> in = harmonic(rate, f0, frames, ch);
        std::vector<float> out(in.size(), 9.0f);
        const time_stretch_result r = t->accelerate(view(in, ch), view(out, ch));
        ASSERT_EQ(r.code, status::ok);
        ASSERT_TRUE(r.applied);
        EXPECT_FALSE(r.low_energy);
        const double period = rate / f0;
        // A period that is not a whole number of samples is spliced half a
        // sample off at worst: the faded periods differ by up to half a step,
        // which the linear fade spreads over P + 1 samples.
        const bool whole = period == std::floor(period);
        EXPECT_GT(r.correlation, whole ? 0.999f : 0.97f);
        const float slack = 1.0001f + (whole ? 0.0f : 1.0f / static_cast<float>(period + 1.0));
        EXPECT_NEAR(static_cast<double>(r.frames_changed), period, 1.0) << rate << " Hz, f0 " << f0;
        ASSERT_EQ(r.frames_out, frames - r.frames_changed);
        for (std::size_t i = r.frames_out * ch; i < out.size(); ++i) ASSERT_EQ(out[i], 9.0f) << "wrote past frames_out";
        // The first and last samples are the input's.
        for (std::size_t c = 0; c < ch; ++c) {
            EXPECT_EQ(out[c], in[c]);
            EXPECT_EQ(out[(r.frames_out - 1) * ch + c], in[(frames - 1) * ch + c]);
            const float in_step = max_step(in.data(), ch, c, 0, frames);
            const float out_step = max_step(out.data(), ch, c, 0, r.frames_out);
            EXPECT_LE(out_step, in_step * slack) << "channel " << c;
        }
    }
}

TEST_P(Periodic, StretchAddsOnePeriodSeamlessly) {
    const auto [rate, ch, f0] = GetParam();
    auto t = make(rate, ch);
    const std::size_t frames = t->min_input_frames();
    const std::vector<float> in = harmonic(rate, f0, frames, ch);
    std::vector<float> out((frames + t->max_period_frames()) * ch + ch, 9.0f);  // one frame of guard
    const time_stretch_result r = t->stretch(view(in, ch), {out.data(), frames + t->max_period_frames(), ch});
    ASSERT_EQ(r.code, status::ok);
    ASSERT_TRUE(r.applied);
    const double period = rate / f0;
    EXPECT_NEAR(static_cast<double>(r.frames_changed), period, 1.0);
    const float slack = 1.0001f + (period == std::floor(period) ? 0.0f : 1.0f / static_cast<float>(period + 1.0));
    ASSERT_EQ(r.frames_out, frames + r.frames_changed);
    for (std::size_t i = r.frames_out * ch; i < out.size(); ++i) ASSERT_EQ(out[i], 9.0f) << "wrote past frames_out";
    for (std::size_t c = 0; c < ch; ++c) {
        EXPECT_EQ(out[(r.frames_out - 1) * ch + c], in[(frames - 1) * ch + c]);
        EXPECT_LE(max_step(out.data(), ch, c, 0, r.frames_out), max_step(in.data(), ch, c, 0, frames) * slack);
    }
}

INSTANTIATE_TEST_SUITE_P(TimeStretch, Periodic,
                         ::testing::Values(periodic_case{8000, 1, 200}, periodic_case{16000, 1, 200},
                                           periodic_case{32000, 1, 200}, periodic_case{44100, 1, 200},
                                           periodic_case{48000, 1, 200}, periodic_case{8000, 2, 200},
                                           periodic_case{48000, 2, 200}, periodic_case{16000, 1, 70},
                                           periodic_case{16000, 1, 110}, periodic_case{16000, 1, 330},
                                           periodic_case{11025, 1, 150}, periodic_case{22050, 2, 250}),
                         [](const auto& p) {
                             return std::to_string(p.param.rate) + "Hz_" + std::to_string(p.param.channels) +
                                    "ch_f0_" + std::to_string(static_cast<int>(p.param.f0));
                         });

TEST(TimeStretch, FastModeRemovesWholePeriodsUpTo15ms) {
    auto t = make(16000, 1);
    const std::vector<float> in = harmonic(16000, 200, 640, 1);
    std::vector<float> out(in.size());
    time_stretch_result r = t->accelerate(view(in, 1), view(out, 1), accelerate_mode::fast);
    ASSERT_TRUE(r.applied);
    EXPECT_EQ(r.frames_changed, 240u);  // three 5 ms periods
    EXPECT_LE(max_step(out.data(), 1, 0, 0, r.frames_out), max_step(in.data(), 1, 0, 0, 640) * 1.0001f);
    // 110 Hz: 145.45 frames; two periods (290.9) do not fit in 15 ms (240), so one.
    const std::vector<float> low = harmonic(16000, 110, 640, 1);
    r = t->accelerate(view(low, 1), view(out, 1), accelerate_mode::fast);
    ASSERT_TRUE(r.applied);
    EXPECT_NEAR(static_cast<double>(r.frames_changed), 16000.0 / 110, 1.0);
}

// max_frames caps what goes: periodic speech loses the most whole periods
// that fit (none when one does not, unless overshoot_frames lets one period
// go), a quiet segment exactly max_frames when not even one period fits, and
// what is kept is the input with one splice.
TEST(TimeStretch, MaxFramesCapsTheRemoval) {
    auto t = make(16000, 1);
    const std::vector<float> in = harmonic(16000, 200, 640, 1);  // 80-frame period
    std::vector<float> out(in.size());
    time_stretch_result r = t->accelerate(view(in, 1), view(out, 1), accelerate_mode::fast, 200);
    ASSERT_TRUE(r.applied);
    EXPECT_EQ(r.frames_changed, 160u);  // two periods; three would be 240
    r = t->accelerate(view(in, 1), view(out, 1), accelerate_mode::one_period, 80);
    ASSERT_TRUE(r.applied);
    EXPECT_EQ(r.frames_changed, 80u);
    r = t->accelerate(view(in, 1), view(out, 1), accelerate_mode::fast, 79);
    EXPECT_FALSE(r.applied);
    EXPECT_EQ(r.frames_changed, 0u);
    EXPECT_EQ(r.frames_out, in.size());
    EXPECT_TRUE(std::equal(in.begin(), in.end(), out.begin()));
    // One period may go up to overshoot_frames beyond max_frames, not further.
    r = t->accelerate(view(in, 1), view(out, 1), accelerate_mode::fast, 60, 20);
    ASSERT_TRUE(r.applied);
    EXPECT_EQ(r.frames_changed, 80u);
    EXPECT_FALSE(t->accelerate(view(in, 1), view(out, 1), accelerate_mode::fast, 60, 19).applied);
    // The same waveform 50 dB down is background: cut by exactly 23 frames.
    std::vector<float> quiet(in);
    for (float& v : quiet) v *= 0.003f;
    r = t->accelerate(view(quiet, 1), view(out, 1), accelerate_mode::fast, 23);
    ASSERT_TRUE(r.applied);
    EXPECT_TRUE(r.low_energy);
    EXPECT_EQ(r.frames_changed, 23u);
    EXPECT_EQ(r.frames_out, in.size() - 23);
    // Before the splice region and after it, the samples are the input's.
    EXPECT_TRUE(std::equal(quiet.begin(), quiet.begin() + 240 - 23, out.begin()));
    EXPECT_TRUE(std::equal(quiet.begin() + 240 + 23, quiet.end(), out.begin() + 240));
    EXPECT_LE(max_step(out.data(), 1, 0, 0, r.frames_out), max_step(quiet.data(), 1, 0, 0, 640) * 1.0001f);
    // Nothing to remove: nothing removed.
    r = t->accelerate(view(quiet, 1), view(out, 1), accelerate_mode::fast, 0);
    EXPECT_FALSE(r.applied);
    EXPECT_EQ(r.frames_out, in.size());
}

// A waveform whose period changes across the splice point does not correlate
// and must be left alone, bit for bit.
TEST(TimeStretch, AperiodicLoudSignalIsCopiedUnchanged) {
    for (std::uint16_t ch : {std::uint16_t{1}, std::uint16_t{2}}) {
        auto t = make(16000, ch);
        const std::vector<float> in = noise(640 * ch, 0.1f, 5);  // -20 dBov white noise
        std::vector<float> out(in.size() + 240 * ch);
        time_stretch_result r = t->accelerate(view(in, ch), {out.data(), 640, ch});
        ASSERT_EQ(r.code, status::ok);
        EXPECT_FALSE(r.applied);
        EXPECT_EQ(r.frames_changed, 0u);
        EXPECT_LT(r.correlation, 0.5f);
        ASSERT_EQ(r.frames_out, 640u);
        EXPECT_TRUE(std::equal(in.begin(), in.end(), out.begin()));
        r = t->stretch(view(in, ch), view(out, ch));
        EXPECT_FALSE(r.applied);
        ASSERT_EQ(r.frames_out, 640u);
        EXPECT_TRUE(std::equal(in.begin(), in.end(), out.begin()));
        // Non-finite input is never spliced either.
        std::vector<float> bad = harmonic(16000, 200, 640, ch);
        bad[240 * ch] = NAN;
        r = t->accelerate(view(bad, ch), {out.data(), 640, ch});
        EXPECT_FALSE(r.applied);
        bad[240 * ch] = INFINITY;
        r = t->stretch(view(bad, ch), view(out, ch));
        EXPECT_FALSE(r.applied);
        EXPECT_EQ(t->stats().accelerate_applied + t->stats().stretch_applied, 0u);
    }
}

// ---------------------------------------------------------------------------
// Silence and background noise: spliced without periodicity

TEST(TimeStretch, LowEnergyIsShortenedAndLengthened) {
    for (std::uint32_t rate : {8000u, 16000u, 48000u}) {
        for (std::uint16_t ch : {std::uint16_t{1}, std::uint16_t{2}}) {
            auto t = make(rate, ch);
            const std::size_t n = t->min_input_frames();
            for (float rms : {0.0f, 0.003f}) {  // silence, -50 dBov white noise
                const std::vector<float> in = noise(n * ch, rms, 11);
                std::vector<float> out((n + t->max_period_frames()) * ch);
                time_stretch_result r = t->accelerate(view(in, ch), view(out, ch));
                ASSERT_EQ(r.code, status::ok);
                EXPECT_TRUE(r.applied) << rate << " Hz rms " << rms;
                EXPECT_TRUE(r.low_energy);
                EXPECT_GE(r.frames_changed, t->min_period_frames());
                EXPECT_EQ(r.frames_out, n - r.frames_changed);
                r = t->accelerate(view(in, ch), view(out, ch), accelerate_mode::fast);
                EXPECT_TRUE(r.applied && r.low_energy);
                EXPECT_GT(r.frames_changed, t->max_period_frames() / 2);  // k periods fill more than half of 15 ms
                EXPECT_LE(r.frames_changed, t->max_period_frames());
                r = t->stretch(view(in, ch), view(out, ch));
                EXPECT_TRUE(r.applied && r.low_energy);
                EXPECT_EQ(r.frames_out, n + r.frames_changed);
            }
            // The same noise 25 dB louder (-25 dBov) has no period and is left alone.
            const std::vector<float> loud = noise(n * ch, 0.056f, 11);
            std::vector<float> out((n + t->max_period_frames()) * ch);
            EXPECT_FALSE(t->accelerate(view(loud, ch), view(out, ch)).applied);
            EXPECT_FALSE(t->stretch(view(loud, ch), view(out, ch)).applied);
        }
    }
}

TEST(TimeStretch, LowEnergyThresholdIsConfigurable) {
    time_stretch_config c;
    c.low_energy_dbov = -20.0f;
    auto t = make(16000, 1, c);
    const std::vector<float> in = noise(480, 0.056f, 3);  // -25 dBov
    std::vector<float> out(480);
    EXPECT_TRUE(t->accelerate(view(in, 1), view(out, 1)).low_energy);
    t->set_low_energy_dbov(-30.0f);
    EXPECT_EQ(t->config().low_energy_dbov, -30.0f);
    EXPECT_FALSE(t->accelerate(view(in, 1), view(out, 1)).applied);
    t->set_low_energy_dbov(NAN);
    EXPECT_EQ(t->config().low_energy_dbov, -30.0f);
}

// Channels in antiphase sum to silence: the lag is then found on their
// difference, and the splice is judged on each channel, so they are spliced
// like any periodic pair.
TEST(TimeStretch, StereoInAntiphaseIsSplicedWithOneLag) {
    auto t = make(16000, 2);
    std::vector<float> in = harmonic(16000, 200, 480, 1), stereo(960);
    for (std::size_t i = 0; i < 480; ++i) stereo[2 * i] = in[i], stereo[2 * i + 1] = -in[i];
    std::vector<float> out(960);
    const time_stretch_result r = t->accelerate(view(stereo, 2), view(out, 2));
    ASSERT_TRUE(r.applied);
    EXPECT_FALSE(r.low_energy);
    EXPECT_EQ(r.frames_changed, 80u);
    for (std::size_t i = 0; i < r.frames_out; ++i) ASSERT_EQ(out[2 * i], -out[2 * i + 1]);
}

TEST(TimeStretch, CountersAddUp) {
    auto t = make(8000, 1);
    const std::vector<float> periodic = harmonic(8000, 200, 240, 1), loud = noise(240, 0.1f, 1), quiet(240, 0.0f);
    std::vector<float> out(240 + 120);
    std::size_t removed = 0, added = 0;
    removed += t->accelerate(view(periodic, 1), {out.data(), 240, 1}).frames_changed;
    removed += t->accelerate(view(loud, 1), {out.data(), 240, 1}).frames_changed;
    removed += t->accelerate(view(quiet, 1), {out.data(), 240, 1}).frames_changed;
    added += t->stretch(view(periodic, 1), view(out, 1)).frames_changed;
    added += t->stretch(view(quiet, 1), view(out, 1)).frames_changed;
    const auto& s = t->stats();
    EXPECT_EQ(s.accelerate_calls, 3u);
    EXPECT_EQ(s.accelerate_applied, 2u);
    EXPECT_EQ(s.stretch_calls, 2u);
    EXPECT_EQ(s.stretch_applied, 2u);
    EXPECT_EQ(s.low_energy_applied, 2u);
    EXPECT_EQ(s.frames_removed, removed);
    EXPECT_EQ(s.frames_added, added);
    t->reset_stats();
    EXPECT_EQ(t->stats().accelerate_calls, 0u);
}

// ---------------------------------------------------------------------------
// Real-time rule: no allocation in the calls, once created.

TEST(TimeStretch, CallsDoNotAllocate) {
    auto t = make(48000, 2);
    const std::size_t n = t->min_input_frames() + 480;
    const std::vector<float> voiced = harmonic(48000, 180, n, 2), quiet = noise(n * 2, 0.001f, 2),
                             loud = noise(n * 2, 0.2f, 2);
    std::vector<float> out((n + t->max_period_frames()) * 2);
    std::size_t applied = 0;
    tutti_test::alloc_counter counter;
    for (int i = 0; i < 50; ++i) {
        for (const auto* in : {&voiced, &quiet, &loud}) {
            applied += t->accelerate(view(*in, 2), {out.data(), n, 2}).applied;
            applied += t->accelerate(view(*in, 2), {out.data(), n, 2}, accelerate_mode::fast).applied;
            applied += t->stretch(view(*in, 2), view(out, 2)).applied;
        }
    }
    EXPECT_EQ(counter.count(), 0u);
    EXPECT_EQ(applied, 50u * 6);  // voiced and quiet every time, loud noise never
}

// ---------------------------------------------------------------------------
// Real speech

// 16 kHz mono speech from pocketsphinx-testdata, resampled to `rate`.
std::vector<float> speech(const char* name, std::uint32_t rate) {
    tutti::wav_file w;
    const std::string path = std::string(TUTTI_SPEECH_DIR) + "/" + name;
    if (!std::filesystem::exists(path)) return {};
    if (tutti::read_wav_file(path, w) != status::ok || w.channels != 1 || w.sample_rate_hz != 16000) return {};
    if (rate == w.sample_rate_hz) return w.samples;
    std::unique_ptr<tutti::resampler> rs;
    EXPECT_EQ(tutti::resampler::create(w.sample_rate_hz, rate, 1, rs), status::ok);
    std::vector<float> out(rs->max_output_frames(w.samples.size()) + 1);
    const std::ptrdiff_t n = rs->process({w.samples.data(), w.samples.size(), 1}, {out.data(), out.size(), 1});
    EXPECT_GT(n, 0);
    out.resize(static_cast<std::size_t>(std::max<std::ptrdiff_t>(n, 0)));
    // Drop the resampler's leading delay so the signal starts with the speech.
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(std::min(out.size(), rs->output_latency())));
    return out;
}

enum class splicer {
    accelerate,      // the library
    stretch,         // the library
    cut_10ms,        // broken: drop 10 ms at the splice point, no cross-fade, no pitch
    wrong_lag,       // broken: the library's cross-fade, but over 1.5 periods
    cut_one_period,  // no cross-fade: drop the library's period at the splice point
};

const char* name(splicer how) {
    switch (how) {
        case splicer::accelerate: return "accelerate";
        case splicer::stretch: return "stretch";
        case splicer::cut_10ms: return "cut 10 ms";
        case splicer::wrong_lag: return "wrong lag";
        case splicer::cut_one_period: return "cut 1 period";
    }
    return "?";
}

// One processed block. Output frames [out_start, out_start + edit_begin) are
// input frames [in_start, ...) unchanged, output frames from out_start +
// edit_end on are the input shifted by `change` (taken from later in the input
// for a shorter block, earlier for a longer one); between them is the splice.
struct block {
    std::size_t in_start, out_start, edit_begin, edit_end, change;
    bool shorter;
    bool quiet;  // the library spliced it as low-energy
};

struct run {
    std::vector<float> out;
    std::vector<block> blocks;
    std::size_t calls = 0, applied = 0, low_energy = 0, changed = 0;
    std::vector<float> step_ratio;  // per splice: output step / input step in the neighbourhood
    std::vector<double> fade_db;    // per voiced cross-fade: its power against the power of its sources, dB
};

double mean(const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

double power(const float* x, std::size_t n) {
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    return s / static_cast<double>(n);
}

// Feeds `in` (mono) block by block, 30 ms at a time, as a jitter buffer that
// wants to change the delay on every block would; the broken splicers reuse
// the library's decisions (same blocks, same places) and splice differently.
run process(time_stretcher& t, const std::vector<float>& in, splicer how) {
    run r;
    const std::size_t n = t.min_input_frames(), s = n / 2;
    const std::size_t rate = t.sample_rate_hz();
    std::vector<float> buf(n + t.max_period_frames());
    for (std::size_t start = 0; start + n <= in.size(); start += n) {
        const float* x = in.data() + start;
        const bool shorter = how != splicer::stretch;
        const time_stretch_result res = shorter ? t.accelerate({x, n, 1}, {buf.data(), n, 1})
                                                : t.stretch({x, n, 1}, {buf.data(), buf.size(), 1});
        EXPECT_EQ(res.code, status::ok);
        ++r.calls;
        block b{start, r.out.size(), n, n, 0, shorter, res.low_energy};
        if (res.applied) {
            ++r.applied;
            r.low_energy += res.low_energy;
            const std::size_t p = res.frames_changed;
            b.change = p;
            switch (how) {
                case splicer::accelerate:  // out: in[0, s-p) fade in[s, n)
                    b.edit_begin = s - p, b.edit_end = s;
                    break;
                case splicer::stretch:  // out: in[0, s) fade in[s, n)
                    b.edit_begin = s, b.edit_end = s + p;
                    break;
                case splicer::cut_10ms:
                case splicer::cut_one_period:
                    b.change = how == splicer::cut_10ms ? rate / 100 : p;
                    std::copy(x, x + s, buf.begin());
                    std::copy(x + s + b.change, x + n, buf.begin() + static_cast<std::ptrdiff_t>(s));
                    b.edit_begin = b.edit_end = s;
                    break;
                case splicer::wrong_lag: {
                    // Half a period off: 1.5 periods, or half of one when that is too long.
                    const std::size_t c = p * 3 / 2 <= t.max_period_frames() ? p * 3 / 2 : p / 2;
                    std::copy(x, x + s - c, buf.begin());
                    for (std::size_t i = 0; i < c; ++i) {
                        const float w = static_cast<float>(i + 1) / static_cast<float>(c + 1);
                        buf[s - c + i] = x[s - c + i] + w * (x[s + i] - x[s - c + i]);
                    }
                    std::copy(x + s + c, x + n, buf.begin() + static_cast<std::ptrdiff_t>(s));
                    b.change = c, b.edit_begin = s - c, b.edit_end = s;
                    break;
                }
            }
            r.changed += b.change;
            // Click measure: the largest output step from the sample before the
            // splice to the one after it, against the input's largest step over
            // every sample the splice drew from.
            const std::size_t out_frames = shorter ? n - b.change : n + b.change;
            const float out_step = max_step(buf.data(), 1, 0, b.edit_begin, std::min(b.edit_end + 1, out_frames));
            const std::size_t reach = b.change + 1;
            const float in_step = max_step(x, 1, 0, s - std::min(s, reach), std::min(n, s + reach));
            if (in_step > 0.0f) r.step_ratio.push_back(out_step / in_step);
            if (how == splicer::accelerate || how == splicer::stretch) {
                // The bound the linear fade guarantees (time_stretch.hpp): a
                // step of either source plus the sources' largest difference
                // spread over P + 1 samples.
                float diff = 0.0f;
                for (std::size_t i = 0; i < p; ++i) diff = std::max(diff, std::fabs(x[s - p + i] - x[s + i]));
                EXPECT_LE(out_step, (in_step + diff / static_cast<float>(p + 1)) * 1.00001f) << "block at " << start;
            }
            // Loudness through a voiced cross-fade: the fade draws on input
            // [s - c, s + c) in every variant; two periods in phase keep its
            // power (0 dB), periods out of phase cancel (a hole, "warble").
            const std::size_t c = b.edit_end - b.edit_begin;
            if (c > 0 && !res.low_energy)
                r.fade_db.push_back(10.0 * std::log10(power(buf.data() + b.edit_begin, c) / power(x + s - c, 2 * c)));
        }
        const std::size_t out_frames = shorter ? n - b.change : n + b.change;
        r.blocks.push_back(b);
        r.out.insert(r.out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(out_frames));
    }
    return r;
}

// In-place radix-2 FFT (real arithmetic: std::complex's operator* checks for
// infinities on every product, which makes it several times slower).
void fft(std::vector<std::complex<double>>& a) {
    const std::size_t n = a.size();
    for (std::size_t i = 1, j = 0; i < n; ++i) {
        std::size_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) std::swap(a[i], a[j]);
    }
    for (std::size_t len = 2; len <= n; len <<= 1) {
        const double angle = -2.0 * std::numbers::pi / static_cast<double>(len);
        for (std::size_t k = 0; k < len / 2; ++k) {
            const double wr = std::cos(angle * static_cast<double>(k)), wi = std::sin(angle * static_cast<double>(k));
            for (std::size_t i = k; i < n; i += len) {
                const double ur = a[i].real(), ui = a[i].imag();
                const double xr = a[i + len / 2].real(), xi = a[i + len / 2].imag();
                const double vr = xr * wr - xi * wi, vi = xr * wi + xi * wr;
                a[i] = {ur + vr, ui + vi};
                a[i + len / 2] = {ur - vr, ui - vi};
            }
        }
    }
}

// Short-time power spectra: 20 ms Hann frames, bins 60 Hz .. min(7 kHz, 0.47 fs).
class spectrum {
public:
    explicit spectrum(std::uint32_t rate) : window_(rate / 50), hann_(window_) {
        std::size_t nfft = 1;
        while (nfft < window_) nfft <<= 1;
        buf_.resize(nfft);
        const auto bins_per_hz = static_cast<double>(nfft) / rate;
        first_ = static_cast<std::size_t>(60.0 * bins_per_hz) + 1;
        last_ = static_cast<std::size_t>(std::min(7000.0, 0.47 * rate) * bins_per_hz);
        for (std::size_t i = 0; i < window_; ++i)
            hann_[i] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * (static_cast<double>(i) + 0.5) /
                                             static_cast<double>(window_));
    }
    std::size_t window() const { return window_; }
    std::size_t bins() const { return last_ - first_ + 1; }
    // Power of bins [first, last] of the frame starting at x, appended to `out`; returns the frame energy.
    double power(const float* x, std::vector<double>& out) {
        std::fill(buf_.begin(), buf_.end(), 0.0);
        double e = 0.0;
        for (std::size_t i = 0; i < window_; ++i) {
            buf_[i] = hann_[i] * x[i];
            e += static_cast<double>(x[i]) * x[i];
        }
        fft(buf_);
        for (std::size_t k = first_; k <= last_; ++k) out.push_back(std::norm(buf_[k]));
        return e;
    }

private:
    std::size_t window_, first_ = 0, last_ = 0;
    std::vector<double> hann_;
    std::vector<std::complex<double>> buf_;
};

// The input's log spectra on a 0.5 ms grid, computed when first asked for
// and kept: one per recording and rate, shared by every variant scored.
class reference {
public:
    reference(const std::vector<float>& in, std::uint32_t rate) : in_(in), rate_(rate), hop_(rate / 2000), sp_(rate) {
        // Level references from a 2.5 ms grid over the whole recording.
        std::vector<double> p;
        double peak = 0.0;
        for (std::size_t start = 0; start + sp_.window() <= in.size(); start += 5 * hop_) {
            p.clear();
            max_energy_ = std::max(max_energy_, sp_.power(in.data() + start, p));
            for (double v : p) peak = std::max(peak, v);
        }
        floor_ = peak * 1e-7;  // -70 dB: below it, differences are inaudible and noise-dominated
        frames_ = in.size() >= sp_.window() ? (in.size() - sp_.window()) / hop_ + 1 : 0;
        grid_.resize(frames_);
    }
    std::uint32_t rate() const { return rate_; }
    std::size_t hop() const { return hop_; }
    std::size_t frames() const { return frames_; }
    double max_energy() const { return max_energy_; }
    const std::vector<float>& input() const { return in_; }
    // 10*log10(power + floor) of `power` in place.
    void to_log(std::vector<double>& power) const {
        for (double& v : power) v = 10.0 * std::log10(v + floor_);
    }
    // Log spectrum of the grid frame starting at g * hop().
    const std::vector<double>& at(std::size_t g) {
        if (grid_[g].empty()) {
            sp_.power(in_.data() + g * hop_, grid_[g]);
            to_log(grid_[g]);
        }
        return grid_[g];
    }

private:
    const std::vector<float>& in_;
    std::uint32_t rate_;
    std::size_t hop_, frames_ = 0;
    spectrum sp_;
    double floor_ = 0.0, max_energy_ = 0.0;
    std::vector<std::vector<double>> grid_;
};

// Quality proxy: log-spectral distance (dB RMS over 60 Hz..7 kHz, 20 ms Hann
// frames every 5 ms) between each active output frame (within 40 dB of the
// loudest input frame) that overlaps a splice and the closest input frame
// that it can have come from: the input frames at its position before and
// after the splice, and those between them (±1 ms) on a 0.5 ms grid. Frames that do not overlap a splice are bit-exact copies of an
// input frame (distance 0) and are left out, so the score is the damage per
// spliced frame. Splices of voiced speech (periodic, spliced by correlation)
// and of quiet segments (spliced by energy) are scored apart: the periodogram
// of noise fluctuates by ~5.6 dB from frame to frame whatever is done to it, so
// quiet splices would only blur the voiced score. A pitch-synchronous
// cross-fade keeps the local spectrum (low); a step adds a broadband click, a
// fade between out-of-phase periods notches the harmonics (high).
struct quality {
    double mean_lsd = 0.0, p95_lsd = 0.0;
    std::size_t frames = 0;
};
quality spectral_distance(reference& ref, const run& r, bool quiet = false) {
    spectrum sp(ref.rate());
    const std::size_t w = sp.window(), bins = sp.bins(), hop = ref.rate() / 200;
    const auto tolerance = static_cast<std::ptrdiff_t>(ref.rate() / 1000);
    const auto grid_frames = static_cast<std::ptrdiff_t>(ref.frames());
    const auto hop_in = static_cast<std::ptrdiff_t>(ref.hop());
    const auto& in = ref.input();
    std::vector<double> o, e;
    auto lsd = [&](const double* a) {
        double acc = 0.0;
        for (std::size_t k = 0; k < bins; ++k) acc += (o[k] - a[k]) * (o[k] - a[k]);
        return std::sqrt(acc / static_cast<double>(bins));
    };
    auto lsd_at = [&](std::ptrdiff_t src) {
        if (src < 0 || static_cast<std::size_t>(src) + w > in.size()) return 1e300;
        e.clear();
        sp.power(in.data() + src, e);
        ref.to_log(e);
        return lsd(e.data());
    };
    std::vector<double> d;
    std::size_t b = 0;
    for (std::size_t start = 0; start + w <= r.out.size(); start += hop) {
        while (b + 1 < r.blocks.size() && r.blocks[b + 1].out_start <= start) ++b;
        // The splice [start, start + w) overlaps (with one sample either side), if any.
        const block* touched = nullptr;
        for (std::size_t k = b; k < r.blocks.size() && r.blocks[k].out_start < start + w && !touched; ++k) {
            const block& bl = r.blocks[k];
            if (bl.change == 0 || bl.quiet != quiet) continue;
            if (bl.out_start + bl.edit_begin < start + w + 1 && start < bl.out_start + bl.edit_end + 1) touched = &bl;
        }
        if (touched == nullptr) continue;
        o.clear();
        if (sp.power(r.out.data() + start, o) < ref.max_energy() * 1e-4) continue;
        ref.to_log(o);
        // The frame mixes input from before the splice (`early`) and after it
        // (`late`): compare with the input frames at both, and between them.
        const std::ptrdiff_t early = static_cast<std::ptrdiff_t>(touched->in_start) +
                                     (static_cast<std::ptrdiff_t>(start) - static_cast<std::ptrdiff_t>(touched->out_start));
        const std::ptrdiff_t late = early + static_cast<std::ptrdiff_t>(touched->change) * (touched->shorter ? 1 : -1);
        double best = std::min(lsd_at(early), lsd_at(late));
        const std::ptrdiff_t lo = std::min(early, late) - tolerance, hi = std::max(early, late) + tolerance;
        for (std::ptrdiff_t g = std::max<std::ptrdiff_t>(0, (lo + hop_in - 1) / hop_in); g < grid_frames && g * hop_in <= hi; ++g)
            best = std::min(best, lsd(ref.at(static_cast<std::size_t>(g)).data()));
        d.push_back(best);
    }
    quality q;
    q.frames = d.size();
    if (d.empty()) return q;
    for (double v : d) q.mean_lsd += v;
    q.mean_lsd /= static_cast<double>(d.size());
    std::sort(d.begin(), d.end());
    q.p95_lsd = d[d.size() * 95 / 100];
    return q;
}

const char* const utterance = "librivox/sense_and_sensibility_01_austen_64kb-0880.wav";  // 2.99 s, one sentence

// Thresholds, set from the measurements the tests print ("[ report   ]"
// lines; bench/README-style numbers in the commit message):
//  - spectral distance at voiced splices: the library 1.4..2.2 dB at 8/16/48
//    kHz and <= 1.9 dB on all ten recordings; a 10 ms hard cut 4.9..7.0 dB.
//  - power through a voiced fade: the library -0.07..-0.11 dB on average
//    (theory: >= 10*log10(2/3 + r/3) = -0.15 dB for equal periods with r >=
//    0.9); fading half a period out of phase -1.8..-2.0 dB.
//  - click ratio: the library <= 1.06 on every splice of every recording. Its
//    linear fade cannot step further than a source step plus max|A - B| / (P +
//    1), and P + 1 >= 21 samples, so even periods that differ by the whole
//    peak-to-peak range add less than 10 % of full scale: 1.5 leaves room for
//    that, while a hard cut reaches 4..37.
constexpr double max_splice_lsd = 3.0;  // dB
constexpr double min_fade_db = -0.5;    // dB
constexpr float max_step_ratio = 1.5f;  // output step / input step at a splice

class Speech : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(Speech, AccelerateAndStretchChangeTheLengthBy10To25PercentAndKeepTheSpectrum) {
    const std::uint32_t rate = GetParam();
    const std::vector<float> in = speech(utterance, rate);
    ASSERT_FALSE(in.empty()) << "pocketsphinx-testdata not installed in " << TUTTI_SPEECH_DIR << " (the tests need it: run .ci/install-deps)";
    reference ref(in, rate);
    for (splicer how : {splicer::accelerate, splicer::stretch}) {
        auto t = make(rate, 1);
        const run r = process(*t, in, how);
        const std::size_t consumed = r.calls * t->min_input_frames();
        // The length changes by exactly what the calls reported.
        if (how == splicer::accelerate) {
            ASSERT_EQ(r.out.size() + r.changed, consumed);
            EXPECT_EQ(t->stats().frames_removed, r.changed);
            EXPECT_EQ(t->stats().accelerate_applied, r.applied);
        } else {
            ASSERT_EQ(r.out.size(), consumed + r.changed);
            EXPECT_EQ(t->stats().frames_added, r.changed);
            EXPECT_EQ(t->stats().stretch_applied, r.applied);
        }
        const double change = static_cast<double>(r.changed) / static_cast<double>(consumed);
        EXPECT_GE(change, 0.10);
        EXPECT_LE(change, 0.25);
        const quality q = spectral_distance(ref, r), quiet = spectral_distance(ref, r, true);
        const float worst_step = *std::max_element(r.step_ratio.begin(), r.step_ratio.end());
        std::printf("[ report   ] %-10s %5u Hz: applied %zu/%zu blocks (%zu low-energy), length %+.1f %%, "
                    "LSD at voiced splices mean %.2f dB p95 %.2f dB (%zu frames), at quiet splices %.2f dB, "
                    "worst splice step ratio %.2f, voiced fade power %+.2f dB (worst %+.2f)\n",
                    name(how), rate, r.applied, r.calls, r.low_energy,
                    (how == splicer::accelerate ? -100.0 : 100.0) * change, q.mean_lsd, q.p95_lsd, q.frames,
                    quiet.mean_lsd, worst_step, mean(r.fade_db), *std::min_element(r.fade_db.begin(), r.fade_db.end()));
        EXPECT_LT(q.mean_lsd, max_splice_lsd) << name(how);
        EXPECT_GT(mean(r.fade_db), min_fade_db) << name(how);
        EXPECT_LE(worst_step, max_step_ratio) << name(how);
    }
}

// The proxies can tell: splicing the same blocks without the pitch-synchronous
// cross-fade fails them. Dropping 10 ms with a hard cut fails the spectral
// distance and the click bound; fading over the wrong lag (periods half a
// period out of phase) keeps the spectrum's shape but leaves a hole in the
// loudness; dropping the right period without a fade clicks.
TEST_P(Speech, BrokenSplicesFailTheQualityProxies) {
    const std::uint32_t rate = GetParam();
    const std::vector<float> in = speech(utterance, rate);
    ASSERT_FALSE(in.empty()) << "pocketsphinx-testdata not installed in " << TUTTI_SPEECH_DIR << " (the tests need it: run .ci/install-deps)";
    reference ref(in, rate);
    for (splicer how : {splicer::cut_10ms, splicer::wrong_lag, splicer::cut_one_period}) {
        auto t = make(rate, 1);
        const run r = process(*t, in, how);
        const quality q = spectral_distance(ref, r), quiet = spectral_distance(ref, r, true);
        const float worst_step = *std::max_element(r.step_ratio.begin(), r.step_ratio.end());
        std::printf("[ report   ] broken %-12s %5u Hz: LSD at voiced splices mean %.2f dB p95 %.2f dB (%zu frames), "
                    "at quiet splices %.2f dB, worst splice step ratio %.2f, voiced fade power %+.2f dB\n",
                    name(how), rate, q.mean_lsd, q.p95_lsd, q.frames, quiet.mean_lsd, worst_step, mean(r.fade_db));
        switch (how) {
            case splicer::cut_10ms:
                EXPECT_GT(q.mean_lsd, max_splice_lsd);
                EXPECT_GT(worst_step, max_step_ratio);
                break;
            case splicer::wrong_lag:
                EXPECT_LT(mean(r.fade_db), min_fade_db);
                break;
            default:
                EXPECT_GT(worst_step, max_step_ratio);
                break;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(TimeStretch, Speech, ::testing::Values(8000u, 16000u, 48000u),
                         [](const auto& p) { return std::to_string(p.param) + "Hz"; });

// Every recording of the test data, at 16 kHz: how often the criteria hold,
// and the click bound on every splice.
TEST(TimeStretch, ApplicationRateOnAllSpeech) {
    const char* const files[] = {
        "librivox/sense_and_sensibility_01_austen_64kb-0870.wav", "librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
        "librivox/sense_and_sensibility_01_austen_64kb-0890.wav", "librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
        "librivox/sense_and_sensibility_01_austen_64kb-0930.wav", "cards/001.wav", "cards/002.wav", "cards/003.wav",
        "cards/004.wav", "cards/005.wav"};
    std::size_t files_read = 0;
    for (const char* f : files) {
        const std::vector<float> in = speech(f, 16000);
        if (in.empty()) continue;
        ++files_read;
        reference ref(in, 16000);
        auto a = make(16000, 1), s = make(16000, 1);
        const run ra = process(*a, in, splicer::accelerate), rs = process(*s, in, splicer::stretch);
        const double total = static_cast<double>(ra.calls * a->min_input_frames());
        const float worst = std::max(*std::max_element(ra.step_ratio.begin(), ra.step_ratio.end()),
                                     *std::max_element(rs.step_ratio.begin(), rs.step_ratio.end()));
        const quality qa = spectral_distance(ref, ra), qs = spectral_distance(ref, rs);
        std::printf("[ report   ] %-56s accelerate %3zu/%3zu (%2zu quiet) -%4.1f %%, stretch %3zu/%3zu +%4.1f %%, "
                    "LSD %.2f/%.2f dB, step ratio %.2f\n",
                    f, ra.applied, ra.calls, ra.low_energy, 100.0 * static_cast<double>(ra.changed) / total, rs.applied,
                    rs.calls, 100.0 * static_cast<double>(rs.changed) / total, qa.mean_lsd, qs.mean_lsd, worst);
        EXPECT_LE(worst, max_step_ratio) << f;
        EXPECT_LT(qa.mean_lsd, max_splice_lsd) << f;
        EXPECT_LT(qs.mean_lsd, max_splice_lsd) << f;
    }
    ASSERT_FALSE(files_read == 0) << "pocketsphinx-testdata not installed in " << TUTTI_SPEECH_DIR << " (the tests need it: run .ci/install-deps)";
}

}  // namespace
