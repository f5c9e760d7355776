// tutti/limiter.hpp: keeps a mix under a ceiling without clipping or wrap-around.
//
// Flow position: mixer -> **limiter** -> float_to_s16 / encoder. When several
// people talk at once the sum exceeds full scale; PBXes that saturate in int16
// turn that into harsh clipping. This limiter turns it into a smooth gain
// reduction instead:
//   * the frame is cut into 1 ms blocks; each block's peak (SIMD) drives an
//     envelope that rises at once and falls with `release_ms`;
//   * a soft-knee curve maps the envelope to a gain: exactly 1 below
//     `threshold`, approaching `ceiling / envelope` above it (tanh knee);
//   * the gain moves linearly across each block (gain_ramp: no zipper noise);
//   * a final clamp at `ceiling` catches what the gain could not (the start of
//     a block whose peak arrived with no look-ahead), so the output can never
//     exceed the ceiling, whatever the input: NaN, infinities and sums of a
//     thousand full-scale inputs included.
// Below threshold the output equals the input bit for bit.
// No look-ahead, so no added latency. All state is a few floats: process()
// never allocates. [one thread at a time]
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tutti/config.hpp"
#include "tutti/kernels.hpp"

TUTTI_BEGIN_NAMESPACE

/// Settings of a limiter. Levels are linear (1.0 = full scale).
struct limiter_config {
    std::uint32_t sample_rate_hz = 48000;
    std::uint16_t channels = 1;     ///< interleaved channels share one gain (no image shift)
    float threshold = 0.5f;         ///< gain is exactly 1 while the envelope stays at or below (-6 dBFS)
    float ceiling = 0.95f;          ///< |output| never exceeds this (-0.45 dBFS)
    float release_ms = 60.0f;       ///< time constant of the envelope's fall after a peak
};

/// Counters a host can read. [read from the thread that calls process()]
struct limiter_stats {
    std::uint64_t blocks = 0;          ///< 1 ms blocks processed
    std::uint64_t blocks_limited = 0;  ///< blocks whose gain was below 1
    float gain = 1.0f;                 ///< gain at the end of the last block
    float min_gain = 1.0f;             ///< lowest gain since reset()
};

/// Soft-knee peak limiter. Construction is [control-thread]; process() [tick-thread].
class limiter {
public:
    explicit limiter(const limiter_config& config = {}) noexcept : config_(sanitize(config)) {
        block_frames_ = std::max<std::size_t>(1, config_.sample_rate_hz / 1000);
        const float block_ms = static_cast<float>(block_frames_) * 1000.0f / static_cast<float>(config_.sample_rate_hz);
        release_coef_ = std::exp(-block_ms / config_.release_ms);
    }

    const limiter_config& config() const noexcept { return config_; }
    const limiter_stats& stats() const noexcept { return stats_; }

    /// Limits `samples` (interleaved, config().channels per frame) in place.
    void process(std::span<float> samples) noexcept {
        const std::size_t block = block_frames_ * config_.channels;
        const float attack = 1.0f - release_coef_;
        std::uint64_t blocks = 0;
        if (envelope_ <= config_.threshold && gain_ == 1.0f) {
            // At rest, and the whole frame's peak (one SIMD pass) at or below
            // the threshold: every block's too, so the gain stays exactly 1 and
            // the samples pass unchanged. The envelope's exact value does not
            // matter while it stays at or below the threshold: it can only
            // rise above it at a block whose peak does, and then it is that
            // peak. So it is kept as an upper bound, not followed block by
            // block (at 8 kHz that loop was most of a small room's mix).
            const float peak = peak_abs(samples.data(), samples.size());
            if (peak <= config_.threshold) {
                envelope_ = std::max(peak, release_coef_ * envelope_);
                stats_.blocks += (samples.size() + block - 1) / block;
                stats_.gain = gain_;
                clamp(samples.data(), samples.data(), config_.ceiling, samples.size());  // (NaN: peak_abs ignores it)
                return;
            }
        }
        for (std::size_t start = 0; start < samples.size(); start += block, ++blocks) {
            const std::size_t n = std::min(block, samples.size() - start);
            float* x = samples.data() + start;
            float peak = n <= 16 ? small_peak(x, n) : peak_abs(x, n);
            if (!(peak <= max_envelope)) peak = max_envelope;  // inf (NaN is already ignored by peak_abs)
            envelope_ = peak > envelope_ ? peak : release_coef_ * envelope_ + attack * peak;
            // Below the knee with the gain at 1 (nearly always): the block passes
            // unchanged and no counter moves, so the envelope is all there is to do.
            if (envelope_ <= config_.threshold && gain_ == 1.0f) continue;
            const float target = gain_for(envelope_);
            if (target != 1.0f || gain_ != 1.0f) gain_ramp(x, x, gain_, target, n);
            gain_ = target;
            if (target < 1.0f) ++stats_.blocks_limited;
            stats_.min_gain = std::min(stats_.min_gain, target);
        }
        stats_.blocks += blocks;
        stats_.gain = gain_;
        clamp(samples.data(), samples.data(), config_.ceiling, samples.size());
    }

    /// Forgets the envelope and the counters.
    void reset() noexcept {
        envelope_ = 0.0f;
        gain_ = 1.0f;
        stats_ = {};
    }

    /// The static curve: gain applied for a steady envelope `level`.
    float gain_for(float level) const noexcept {
        if (level <= config_.threshold) return 1.0f;
        const float room = config_.ceiling - config_.threshold;
        return (config_.threshold + room * std::tanh((level - config_.threshold) / room)) / level;
    }

private:
    static constexpr float max_envelope = 1.0e6f;

    // peak_abs() of a block too short for the SIMD kernel (8 samples at 8 kHz,
    // 20 of them per tick): inline, the same value (|x|, NaN ignored) without
    // a dispatched call per millisecond.
    // Four running maxima, not one waiting on the last comparison (the
    // largest |x| is the same in any order; NaN loses every comparison).
    static float small_peak(const float* x, std::size_t n) noexcept {
        const auto larger = [](float m, float v) { const float a = std::fabs(v); return a > m ? a : m; };  // (no branch on the sign)
        float m[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        std::size_t i = 0;
        for (; i + 4 <= n; i += 4)
            for (std::size_t k = 0; k < 4; ++k) m[k] = larger(m[k], x[i + k]);
        for (; i < n; ++i) m[0] = larger(m[0], x[i]);
        return larger(larger(m[0], m[1]), larger(m[2], m[3]));
    }

    static limiter_config sanitize(limiter_config c) noexcept {
        if (c.sample_rate_hz == 0) c.sample_rate_hz = 48000;
        if (c.channels == 0) c.channels = 1;
        if (!(c.ceiling > 0.0f)) c.ceiling = 0.95f;
        if (!(c.threshold > 0.0f) || c.threshold >= c.ceiling) c.threshold = c.ceiling * 0.5f;
        if (!(c.release_ms > 0.0f)) c.release_ms = 60.0f;
        return c;
    }

    limiter_config config_;
    std::size_t block_frames_ = 48;
    float release_coef_ = 0.0f;
    float envelope_ = 0.0f;
    float gain_ = 1.0f;
    limiter_stats stats_;
};

TUTTI_END_NAMESPACE
