// tutti/time_stretch.hpp: pitch-synchronous time-scale modification of speech
// for the adaptive jitter buffer (NetEq's "accelerate" and "preemptive expand").
//
// Flow position: jitter buffer -> decoder -> **time_stretcher** -> resampler ->
// mixer. The jitter buffer changes its playout delay without dropping or
// inserting whole frames in the middle of speech: to shrink the delay it plays
// a block of decoded audio one pitch period shorter (accelerate), to grow it one
// pitch period longer (stretch). Both work on one block of at least 30 ms:
//   * the pitch period P (2.5 .. 15 ms) is estimated around the splice point,
//     15 ms into the block: normalised autocorrelation of the signal low-passed
//     and decimated to 4 kHz, the shortest lag whose peak is within 10 % of the
//     best (so a periodic signal loses one period, not two), then refined at
//     the full rate to the lag whose two neighbouring periods correlate best;
//   * the two periods on either side of the splice point must correlate
//     (normalised cross-correlation >= min_correlation, 0.9 like NetEq), or the
//     segment must be quiet (<= low_energy_dbov: background noise or silence,
//     where removing or repeating a few ms is inaudible whatever its shape);
//   * if so, the two periods are cross-faded into one (accelerate) or a third
//     period that fades from the second back into the first is inserted
//     (stretch). The fade is linear: of all weight curves it adds the smallest
//     slope to the signal, so a splice cannot step further than the input's own
//     largest step plus max|difference of the periods| / (P + 1);
//   * otherwise the input is copied unchanged and `applied` is false, so the
//     caller can try again with the next block.
// The first 15 ms - P and everything after 15 ms + P are copied untouched, so
// consecutive blocks join without any splice at their boundaries, and the
// stretcher keeps no audio between calls (only counters).
//
// Stereo uses one lag, found on the sum of the channels (on their difference
// when that is louder: channels in antiphase), and the same weights for both
// channels: the stereo image cannot shift. The acceptance test sums the
// correlations and energies of both channels, so it judges what each channel
// hears, not their mix.
//
// A block longer than 30 ms is analysed and spliced in its first 30 ms; the
// rest is copied.
//
// Real-time rules: create() allocates all scratch; accelerate(), stretch() and
// the accessors never allocate, lock or throw. [one thread at a time]
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "tutti/buffer.hpp"
#include "tutti/config.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// Settings of a time_stretcher. Plain value.
struct time_stretch_config {
    std::uint32_t sample_rate_hz = 16000;  ///< Hz, 8000..48000 (any rate in between, 44100 included)
    std::uint16_t channels = 1;            ///< 1 or 2, interleaved (L R)
    /// Least normalised cross-correlation (0..1] of the two spliced periods for
    /// active speech. 0.9 is NetEq's kCorrelationThreshold; lower values splice
    /// more often at the price of audible roughness.
    float min_correlation = 0.9f;
    /// Mean power (dBov: 10*log10(mean x^2), full scale 1.0) at or below which a
    /// segment counts as background and is spliced without periodicity. NetEq
    /// uses 9 dB above its background-noise estimate, or -32.5 dBov before it
    /// has one. -40 is the more cautious fixed choice: quiet speech between -40
    /// and -32.5 dBov is still judged by its periodicity. A host that tracks
    /// the noise floor can move it with set_low_energy_dbov().
    float low_energy_dbov = -40.0f;
};

/// How much accelerate() may remove in one call.
enum class accelerate_mode : std::uint8_t {
    one_period,  ///< exactly one pitch period (NetEq's normal mode)
    fast,        ///< the most whole periods that fit in 15 ms and still correlate (NetEq's fast accelerate)
};

/// What one accelerate() or stretch() call did. Plain value.
struct time_stretch_result {
    /// ok, or invalid_argument (channel count differs from the stretcher's,
    /// input shorter than min_input_frames(), views overlap or are null) or
    /// buffer_too_small (see each call). On an error nothing is written.
    status code = status::ok;
    /// Frames (samples per channel) written to the start of `out`.
    std::size_t frames_out = 0;
    /// Frames removed (accelerate) or added (stretch); 0 unless applied.
    /// frames_out == in.frames() -/+ frames_changed exactly.
    std::size_t frames_changed = 0;
    /// Normalised cross-correlation of the two segments that were (or would
    /// have been) cross-faded, -1..1, summed over channels; 0 for silence.
    float correlation = 0.0f;
    /// True when the output is shorter/longer; false when `in` was copied.
    bool applied = false;
    /// True when applied because the segment was quiet, not because it was periodic.
    bool low_energy = false;
};

/// Counters since creation or reset_stats(). Frames are samples per channel.
/// [read from the thread that calls accelerate()/stretch()]
struct time_stretch_stats {
    std::uint64_t accelerate_calls = 0;    ///< accelerate() calls that returned ok
    std::uint64_t accelerate_applied = 0;  ///< of those, calls that removed audio
    std::uint64_t stretch_calls = 0;       ///< stretch() calls that returned ok
    std::uint64_t stretch_applied = 0;     ///< of those, calls that added audio
    std::uint64_t low_energy_applied = 0;  ///< applied calls (either kind) that were judged by energy alone
    std::uint64_t frames_removed = 0;      ///< total frames accelerate() removed
    std::uint64_t frames_added = 0;        ///< total frames stretch() added
};

/// Accelerates or stretches blocks of decoded speech by whole pitch periods.
/// Create with create(); accelerate()/stretch() are [tick-thread]. [one thread at a time]
class time_stretcher {
public:
    /// Least rate and most rate accepted, in Hz.
    static constexpr std::uint32_t min_rate_hz = 8000;
    static constexpr std::uint32_t max_rate_hz = 48000;
    /// Most channels accepted.
    static constexpr std::uint16_t max_channels = 2;

    /// Creates a stretcher for `config` and allocates all its scratch (a few kB).
    /// On success `out` owns it; on failure `out` is unchanged and the result
    /// is invalid_argument (rate or channels out of range, min_correlation not
    /// in (0, 1], low_energy_dbov not finite) or out_of_memory. Allocates.
    /// [any-thread], not in the tick.
    [[nodiscard]] static status create(const time_stretch_config& config, std::unique_ptr<time_stretcher>& out) noexcept;

    ~time_stretcher();
    time_stretcher(const time_stretcher&) = delete;
    time_stretcher& operator=(const time_stretcher&) = delete;

    /// Plays `in` (interleaved, channels() per frame, at least min_input_frames()
    /// frames) one pitch period shorter, or up to 15 ms shorter in whole periods
    /// with accelerate_mode::fast, writing the result to the start of `out`.
    /// `out` needs room for in.frames() frames (buffer_too_small otherwise) and
    /// must not overlap `in`. When the criteria fail, `in` is copied as is.
    /// Non-finite samples are never spliced.
    ///
    /// `max_frames` caps what is removed (a jitter buffer that must not fall
    /// below its target delay): the most whole periods that fit go. When not
    /// even one period fits, a quiet segment (at or below low_energy_dbov),
    /// where the splice need not follow the pitch, loses exactly `max_frames`;
    /// periodic speech loses one period if that is at most `overshoot_frames`
    /// beyond `max_frames`, else nothing. One pitch analysis per call. [tick-thread]
    [[nodiscard]] time_stretch_result accelerate(interleaved_view<const float> in, interleaved_view<float> out,
                                                 accelerate_mode mode = accelerate_mode::one_period,
                                                 std::size_t max_frames = SIZE_MAX,
                                                 std::size_t overshoot_frames = 0) noexcept;

    /// Plays `in` one pitch period longer (NetEq's preemptive expand). `out`
    /// needs room for in.frames() + max_period_frames() frames (buffer_too_small
    /// otherwise, checked before any analysis so the answer does not depend on
    /// the signal) and must not overlap `in`; nothing beyond frames_out is
    /// written. Otherwise as accelerate(). [tick-thread]
    [[nodiscard]] time_stretch_result stretch(interleaved_view<const float> in, interleaved_view<float> out) noexcept;

    /// Frames a block must have: 30 ms at the stretcher's rate (rounded up).
    std::size_t min_input_frames() const noexcept { return 2 * splice_frames_; }
    /// Longest pitch period considered: 15 ms at the stretcher's rate (rounded
    /// down). The most one accelerate()/stretch() call changes the length by.
    std::size_t max_period_frames() const noexcept { return max_lag_; }
    /// Shortest pitch period considered: 2.5 ms at the stretcher's rate (rounded up).
    std::size_t min_period_frames() const noexcept { return min_lag_; }

    /// Changes config().low_energy_dbov (e.g. to 9 dB above a noise estimate,
    /// as NetEq does); non-finite values are ignored. [tick-thread]
    void set_low_energy_dbov(float dbov) noexcept;

    const time_stretch_config& config() const noexcept { return config_; }
    std::uint32_t sample_rate_hz() const noexcept { return config_.sample_rate_hz; }
    std::uint16_t channels() const noexcept { return config_.channels; }
    const time_stretch_stats& stats() const noexcept { return stats_; }
    void reset_stats() noexcept { stats_ = {}; }

private:
    explicit time_stretcher(const time_stretch_config& config) noexcept;

    struct splice;  // lag, correlation and verdict of one analysis (time_stretch.cpp)
    [[nodiscard]] status check(interleaved_view<const float> in, interleaved_view<float> out,
                               std::size_t out_needed) const noexcept;
    splice analyse(interleaved_view<const float> in, std::size_t max_periods, std::size_t max_frames,
                   std::size_t overshoot_frames) noexcept;
    std::size_t coarse_lag() noexcept;
    std::size_t refine_lag(std::size_t coarse) const noexcept;

    time_stretch_config config_;
    std::size_t splice_frames_ = 0;  // the splice point: 15 ms
    std::size_t min_lag_ = 0;        // 2.5 ms
    std::size_t max_lag_ = 0;        // 15 ms (<= splice_frames_)
    double decimation_ = 0.0;        // sample_rate / 4000
    float low_energy_power_ = 0.0f;  // low_energy_dbov as mean x^2
    aligned_buffer<float> mono_;     // the first 30 ms, channels averaged
    aligned_buffer<float> lowpass_;  // FIR taps of the 4 kHz decimator, centred
    aligned_buffer<float> down_;     // the 30 ms at 4 kHz
    aligned_buffer<float> autocorr_; // normalised autocorrelation per 4 kHz lag
    time_stretch_stats stats_;
};

TUTTI_END_NAMESPACE
