// tutti/codecs/l16.hpp: RFC 3551 L16, uncompressed 16-bit linear PCM, with packet-loss concealment.
//
// Flow position: jitter buffer -> **L16 decoder** -> resampler -> mixer ->
// resampler -> **L16 encoder** -> packetizer. L16 is two's complement 16-bit
// samples in network byte order (big-endian), channels interleaved
// (RFC 3551 §4.5.11), at whatever rate and channel count the SDP says.
// Decoding is exact (x / 32768); encoding rounds to nearest and saturates
// (float_to_s16), so decode -> encode gives back the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "tutti/codec.hpp"
#include "tutti/config.hpp"
#include "tutti/format.hpp"

TUTTI_BEGIN_NAMESPACE

/// Writes n samples as big-endian int16 (2n bytes): rounded to nearest and
/// saturated as float_to_s16() does. [any-thread], allocation-free.
void l16_pack(const float* src, std::uint8_t* dst, std::size_t n) noexcept;
/// Reads n big-endian int16 samples (2n bytes) as x / 32768.0f (exact).
/// [any-thread], allocation-free.
void l16_unpack(const std::uint8_t* src, float* dst, std::size_t n) noexcept;

/// An L16 encoder for `format`, or nullptr unless format.valid() (8..384 kHz,
/// 1..8 channels, 2.5..120 ms). encode() takes exactly format.frame_samples()
/// interleaved frames and writes frame_samples_all_channels() * 2 bytes; it
/// never produces DTX. Allocates (only here); throws std::bad_alloc. [control-thread]
[[nodiscard]] std::unique_ptr<encoder> make_l16_encoder(const audio_format& format);

/// An L16 decoder for `format`, or nullptr unless format.valid(); frame_us is
/// only the nominal packet time: payloads of any whole number of frames decode.
///  - frames_in(payload) = payload.size() / (2 * channels). An empty payload,
///    or one whose length is not a multiple of 2 * channels, is `malformed`.
///  - decode(): pcm.channels() must equal format.channels (invalid_argument);
///    fewer pcm frames than the payload holds is buffer_too_small. Errors leave
///    the decoder state untouched, so the next good payload decodes normally.
///  - conceal(): G.711 Appendix I style pitch repetition at the stream's rate,
///    one pitch period shared by all channels, silent from 60 ms into a loss
///    (detail/g711_plc.hpp).
/// Allocates ≈ 3 × 48.75 ms of floats per channel (only here); throws
/// std::bad_alloc. [control-thread]
[[nodiscard]] std::unique_ptr<decoder> make_l16_decoder(const audio_format& format);

TUTTI_END_NAMESPACE
