// tutti/codec.hpp: the one interface every codec (built-in or plugin) implements.
//
// Flow position: jitter buffer -> **decoder** -> resampler -> mixer -> resampler
// -> **encoder** -> packetizer. PCM on both sides is interleaved float in the
// mixing scale ([-1, 1), 1.0 = int16 full scale), so a decoded frame goes
// straight into the mixer without an int16 round trip.
//
// Real-time rules: objects are created (and allocate) at set-up; encode, decode,
// conceal, decode_fec and reset never allocate, lock, log or throw. Errors are
// returned as "count or negative status" (see status.hpp). One object is used
// by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tutti/buffer.hpp"
#include "tutti/config.hpp"
#include "tutti/format.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// Turns frames of PCM into payloads. [one thread at a time]
class encoder {
public:
    virtual ~encoder() = default;

    /// The PCM this encoder consumes: rate and channels, and the frame duration
    /// every encode() call must supply.
    virtual audio_format format() const noexcept = 0;

    /// Encodes exactly format().frame_samples() frames of `pcm` into `payload`.
    /// Returns the payload size in bytes; 0 means "nothing to send" (DTX:
    /// the receiver will treat the gap as silence, not loss); negative is a
    /// status: invalid_argument (wrong frame count or channels),
    /// buffer_too_small (payload cannot hold the frame).
    [[nodiscard]] virtual std::ptrdiff_t encode(interleaved_view<const float> pcm,
                                                std::span<std::uint8_t> payload) noexcept = 0;

    /// Forgets all history, as if newly created. Settings are kept.
    virtual void reset() noexcept = 0;

    /// Makes this encoder continue exactly where `other` stands: its next
    /// encode() of a frame gives the bytes other's next encode() of that frame
    /// would. Shared encoding uses it: a listener that starts talking leaves
    /// the shared encoder for its own, forked from the shared one, so its
    /// receiver's decoder (which followed the shared stream) sees no seam.
    /// Returns ok, or unsupported when `other` is not the same codec with the
    /// same format (the default: a codec that cannot fork is never shared).
    /// Never allocates.
    [[nodiscard]] virtual status copy_state_from(const encoder& other) noexcept {
        (void)other;
        return status::unsupported;
    }
};

/// Turns payloads into frames of PCM, and hides lost ones. [one thread at a time]
class decoder {
public:
    virtual ~decoder() = default;

    /// The PCM this decoder produces: rate and channels; frame_us is the
    /// nominal packet time (the real one is whatever each payload carries).
    virtual audio_format format() const noexcept = 0;

    /// Frames (samples per channel) `payload` will decode to, or a negative
    /// status if it is not a valid payload. Reads nothing but the payload.
    [[nodiscard]] virtual std::ptrdiff_t frames_in(std::span<const std::uint8_t> payload) const noexcept = 0;

    /// Decodes one payload into `pcm` (which must have room for frames_in()
    /// frames). Returns frames written or a negative status: malformed or
    /// truncated payloads, buffer_too_small. After an error the decoder is still
    /// usable and the next good payload decodes normally.
    [[nodiscard]] virtual std::ptrdiff_t decode(std::span<const std::uint8_t> payload,
                                                interleaved_view<float> pcm) noexcept = 0;

    /// Fills all of `pcm` with concealment for a lost packet (the codec's own
    /// PLC, fading to silence over consecutive calls). Returns pcm.frames().
    [[nodiscard]] virtual std::ptrdiff_t conceal(interleaved_view<float> pcm) noexcept = 0;

    /// Recovers the frame lost just before `next_payload` from the in-band
    /// redundancy `next_payload` carries (Opus LBRR), writing all of `pcm`.
    /// Returns pcm.frames(), or status::unsupported when the codec or this
    /// payload carries no such data (the caller then uses conceal()).
    [[nodiscard]] virtual std::ptrdiff_t decode_fec(std::span<const std::uint8_t> next_payload,
                                                    interleaved_view<float> pcm) noexcept {
        (void)next_payload;
        (void)pcm;
        return as_count(status::unsupported);
    }

    /// Forgets all history, as if newly created.
    virtual void reset() noexcept = 0;
};

TUTTI_END_NAMESPACE
