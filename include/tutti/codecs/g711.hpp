// tutti/codecs/g711.hpp: ITU-T G.711 µ-law (PCMU) and A-law (PCMA), with packet-loss concealment.
//
// Flow position: jitter buffer -> **G.711 decoder** -> resampler -> mixer ->
// resampler -> **G.711 encoder** -> packetizer. G.711 is 8 kHz mono, one byte
// per sample, no frame structure: a payload of N bytes is N samples, so any
// packet time that is a whole number of samples (multiple of 0.125 ms) works.
//
// The companding follows the G.711 tables exactly. G.711 itself quantizes
// 14-bit (µ-law) and 13-bit (A-law) uniform PCM; a 16-bit sample is reduced to
// those widths the way the ITU-T reference software (G.191 STL) does it: a
// negative sample x is coded as the magnitude ~x = -x - 1, so the 16-bit range
// [-32768, 32767] maps symmetrically onto the G.711 decision intervals. The
// only code that does not survive decode -> encode is µ-law 0x7F ("negative
// zero"), which decodes to 0 and re-encodes as 0xFF. At µ-law segment
// boundaries G.711's decision value is not the midpoint of the two levels
// (16-bit 124 codes as 132, not 120); encoders that round to the nearest level
// instead (ffmpeg) differ there by one level. Decoders agree bit for bit.
//
// The decoder hides lost packets with the pitch-repetition concealment of
// ITU-T G.711 Appendix I (detail/g711_plc.hpp), without its 3.75 ms delay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <memory>

#include "tutti/codec.hpp"
#include "tutti/config.hpp"

TUTTI_BEGIN_NAMESPACE

/// Which G.711 companding law.
enum class g711_law : std::uint8_t {
    mu_law = 0,  ///< PCMU, RTP static payload type 0 (North America, Japan)
    a_law = 8,   ///< PCMA, RTP static payload type 8 (rest of the world)
};

/// G.711 sample rate in Hz (RFC 3551: PCMU and PCMA are always 8 kHz mono).
inline constexpr std::uint32_t g711_sample_rate_hz = 8000;
/// Granularity of a G.711 frame duration in µs: one sample at 8 kHz.
inline constexpr std::uint32_t g711_frame_step_us = 125;
/// Longest frame duration the encoder accepts, in µs (as audio_format::valid()).
inline constexpr std::uint32_t g711_max_frame_us = 120000;

// ---------------------------------------------------------------------------
// Sample conversions. [any-thread], allocation-free. The per-sample functions
// are table lookups; the batch functions run the dispatched SIMD kernels
// (tutti/kernels.hpp), which give the same results for every input at every level.

/// The G.711 code of one 16-bit linear sample.
[[nodiscard]] std::uint8_t g711_encode_sample(g711_law law, std::int16_t sample) noexcept;
/// The 16-bit linear value G.711 assigns to `code` (µ-law: ±0..32124, A-law: ±8..32256).
[[nodiscard]] std::int16_t g711_decode_sample(g711_law law, std::uint8_t code) noexcept;

/// dst[i] = g711_encode_sample(law, src[i]) for n samples.
void g711_encode(g711_law law, const std::int16_t* src, std::uint8_t* dst, std::size_t n) noexcept;
/// Encodes floats in the mixing scale (1.0 = 32768): rounded to nearest and
/// saturated to int16 as float_to_s16() does, then companded. n in samples.
void g711_encode(g711_law law, const float* src, std::uint8_t* dst, std::size_t n) noexcept;
/// dst[i] = g711_decode_sample(law, src[i]) for n samples.
void g711_decode(g711_law law, const std::uint8_t* src, std::int16_t* dst, std::size_t n) noexcept;
/// dst[i] = g711_decode_sample(law, src[i]) / 32768.0f (exact) for n samples.
void g711_decode(g711_law law, const std::uint8_t* src, float* dst, std::size_t n) noexcept;
/// RMS level in dBov of what `payload` decodes to (measure_level().rms of the
/// decoded samples, to float rounding), read from the codes without decoding:
/// a mixer can tell a silent G.711 participant from a talking one for less
/// than the price of decoding. The squares are summed exactly in integers, so
/// the result is the same float at every SIMD level. -127 for an empty payload.
[[nodiscard]] float g711_level_dbov(g711_law law, std::span<const std::uint8_t> payload) noexcept;

// ---------------------------------------------------------------------------
// Codec objects (codec.hpp interface)

/// True when `frame_us` is a frame duration the G.711 encoder accepts: a
/// positive multiple of 125 µs, at most 120 ms. [any-thread]
constexpr bool g711_frame_us_valid(std::uint32_t frame_us) noexcept {
    return frame_us > 0 && frame_us <= g711_max_frame_us && frame_us % g711_frame_step_us == 0;
}

/// A G.711 encoder for 8 kHz mono frames of `frame_us` µs (frame_us / 125
/// samples, one payload byte each). encode() needs exactly that many frames and
/// a payload of at least that many bytes; it never produces DTX (never returns 0).
/// Returns nullptr when `law` or `frame_us` is out of range (see
/// g711_frame_us_valid; below 2.5 ms format().valid() is false, as
/// audio_format does not describe such short frames, but the codec works).
/// Allocates (only here); throws std::bad_alloc. [control-thread]
[[nodiscard]] std::unique_ptr<encoder> make_g711_encoder(g711_law law, std::uint32_t frame_us = 20000);

/// A G.711 decoder producing 8 kHz mono float PCM. `frame_us` (same rule as
/// the encoder, nullptr otherwise) is only the nominal packet time reported by
/// format(); decode() takes payloads of any length from 1 byte up to pcm.frames().
///  - frames_in(payload) = payload.size(); an empty payload is `malformed` (an
///    RTP packet with no G.711 bytes carries no audio, and treating it as a
///    0-frame success would hide a sender bug).
///  - decode() with a payload longer than pcm.frames() is `buffer_too_small`
///    and leaves the decoder state untouched; pcm must be mono (invalid_argument).
///  - conceal() fills any number of frames with G.711 Appendix I style pitch
///    repetition, fading 20 % per 10 ms after the first 10 ms of a loss and
///    reaching exact silence 60 ms into it; the next good payload is
///    cross-faded in (detail/g711_plc.hpp).
/// Allocates ≈ 4 KiB (only here); throws std::bad_alloc. [control-thread]
[[nodiscard]] std::unique_ptr<decoder> make_g711_decoder(g711_law law, std::uint32_t frame_us = 20000);

TUTTI_END_NAMESPACE
