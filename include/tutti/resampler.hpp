// tutti/resampler.hpp: sample-rate conversion between a participant and the room (SpeexDSP underneath).
//
// Flow position: decoder -> **resampler** -> mixer -> **resampler** -> encoder.
// A participant whose codec runs at 8 or 16 kHz joins a 48 kHz room through one
// resampler each way.
//
// One call converts one frame. For every pair of rates where the input frame is
// a whole number of output frames apart (any two valid audio_formats with the
// same frame_us, e.g. 20 ms at 48k <-> 16k <-> 8k, or 10 ms at 44.1k -> 48k),
// every call writes exactly in.frames() * out_rate / in_rate frames: the filter
// history stays inside the resampler, so the delay is constant and shows up as
// output_latency() leading samples of silence, never as a short frame. Other
// frame sizes give a count that varies by one between calls (a frame SpeexDSP
// makes beyond max_output_frames() is kept and returned first by the next
// call, so no audio is dropped or repeated).
//
// Quality 0..10 is SpeexDSP's. The default, 4 (Speex's own default), measured
// on this project's machines: passband flat within 0.02 dB up to 3.4 kHz at
// 16k -> 8k (quality 3 droops 1 dB there), tones that would alias suppressed by
// ≥ 87 dB (below int16 quantization noise, and far below any codec's noise),
// 2 ms of delay at 48k <-> 16k (4 ms 16k -> 8k), and ≈ 0.8× the cost of
// quality 5. Quality 10 costs ≈ 10× for no audible gain in telephony.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "tutti/buffer.hpp"
#include "tutti/config.hpp"
#include "tutti/status.hpp"

struct SpeexResamplerState_;  // SpeexDSP's opaque state (speex/speex_resampler.h)

TUTTI_BEGIN_NAMESPACE

/// Converts interleaved float frames from one sample rate to another.
/// Created (and allocated) at set-up; process() and reset() never allocate,
/// lock or throw. [one thread at a time]
class resampler {
public:
    /// The SpeexDSP quality used when none is given (see the file comment).
    static constexpr int default_quality = 4;
    /// Lowest and highest sample rate accepted, in Hz (as audio_format::valid()).
    static constexpr std::uint32_t min_rate_hz = 8000;
    static constexpr std::uint32_t max_rate_hz = 384000;
    /// Most channels accepted.
    static constexpr std::uint16_t max_channels = 8;
    /// Most input frames one process() call accepts.
    static constexpr std::size_t max_frames_per_call = std::size_t{1} << 20;

    /// Creates a resampler from `in_rate_hz` to `out_rate_hz` (Hz, each in
    /// [min_rate_hz, max_rate_hz]) for `channels` (1..max_channels) interleaved
    /// channels at SpeexDSP `quality` (0..10). Equal rates give a plain copy
    /// with no latency. On success `out` owns the new resampler; on failure
    /// `out` is unchanged and the result is invalid_argument, out_of_memory, or
    /// internal_error (SpeexDSP refused). Allocates: not in the tick. [control-thread]
    [[nodiscard]] static status create(std::uint32_t in_rate_hz, std::uint32_t out_rate_hz, std::uint16_t channels,
                                       std::unique_ptr<resampler>& out, int quality = default_quality) noexcept;

    ~resampler();
    resampler(const resampler&) = delete;
    resampler& operator=(const resampler&) = delete;

    /// Converts all of `in` and writes the result to the start of `out`.
    /// Returns frames written, or a negative status: invalid_argument (channel
    /// count differs from channels(), or in.frames() > max_frames_per_call),
    /// buffer_too_small (out.frames() < max_output_frames(in.frames()); nothing
    /// is consumed), internal_error (SpeexDSP failed). `in` and `out` must not
    /// overlap. 0 input frames write nothing and return 0.
    [[nodiscard]] std::ptrdiff_t process(interleaved_view<const float> in, interleaved_view<float> out) noexcept;

    /// Forgets the filter history, as if newly created (the leading
    /// output_latency() samples of silence come again).
    void reset() noexcept;

    /// Room process() needs in `out` for `in_frames` input frames:
    /// ceil(in_frames * out_rate / in_rate). [any-thread]
    std::size_t max_output_frames(std::size_t in_frames) const noexcept;

    /// Delay of the filter in input samples per channel (at in_rate_hz).
    std::size_t input_latency() const noexcept { return input_latency_; }
    /// Delay of the filter in output samples per channel (at out_rate_hz):
    /// output sample n corresponds to input time (n - output_latency()) / out_rate.
    std::size_t output_latency() const noexcept { return output_latency_; }

    std::uint32_t in_rate_hz() const noexcept { return in_rate_; }
    std::uint32_t out_rate_hz() const noexcept { return out_rate_; }
    std::uint16_t channels() const noexcept { return channels_; }
    int quality() const noexcept { return quality_; }
    /// True when the rates are equal and process() is a copy.
    bool passthrough() const noexcept { return state_ == nullptr; }

private:
    resampler() noexcept = default;

    // Output SpeexDSP produced beyond `out` (non-integer frame ratios only), delivered first next call.
    static constexpr std::size_t carry_capacity = 16;  // frames
    aligned_buffer<float> carry_;
    std::size_t carry_frames_ = 0;
    SpeexResamplerState_* state_ = nullptr;
    std::uint32_t in_rate_ = 0;
    std::uint32_t out_rate_ = 0;
    std::uint16_t channels_ = 0;
    int quality_ = default_quality;
    std::size_t input_latency_ = 0;
    std::size_t output_latency_ = 0;
};

TUTTI_END_NAMESPACE
