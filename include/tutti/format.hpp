// tutti/format.hpp: what a stream of audio frames looks like.
//
// Every stage of the flow (RTP in -> jitter buffer -> decoder -> resampler ->
// mixer -> encoder -> RTP out) agrees on a format before it runs, so the tick
// itself never has to ask.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tutti/config.hpp"

TUTTI_BEGIN_NAMESPACE

/// Sample rate, channel count and frame duration of a stream.
/// Durations are in microseconds because Opus allows 2.5 ms frames.
struct audio_format {
    std::uint32_t sample_rate_hz = 48000;  ///< samples per second per channel
    std::uint16_t channels = 1;            ///< 1 = mono, 2 = stereo (interleaved L,R unless said otherwise)
    std::uint32_t frame_us = 20000;        ///< duration of one frame in microseconds

    /// Samples in one channel of one frame (960 for 48 kHz, 20 ms).
    constexpr std::size_t frame_samples() const noexcept {
        return static_cast<std::size_t>(std::uint64_t{sample_rate_hz} * frame_us / 1000000u);
    }
    /// Samples in one frame over all channels.
    constexpr std::size_t frame_samples_all_channels() const noexcept { return frame_samples() * channels; }

    /// True when the frame holds a whole number of samples and every field is in range
    /// (8 kHz..384 kHz, 1..8 channels, 2.5..120 ms).
    constexpr bool valid() const noexcept {
        return sample_rate_hz >= 8000 && sample_rate_hz <= 384000 && channels >= 1 && channels <= 8 &&
               frame_us >= 2500 && frame_us <= 120000 &&
               (std::uint64_t{sample_rate_hz} * frame_us) % 1000000u == 0;
    }

    friend constexpr bool operator==(const audio_format&, const audio_format&) = default;
};

TUTTI_END_NAMESPACE
