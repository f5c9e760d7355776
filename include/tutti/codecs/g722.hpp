// tutti/codecs/g722.hpp: ITU-T G.722 wideband (7 kHz) SB-ADPCM, our own implementation.
//
// Flow position: jitter buffer -> **decoder** -> resampler -> mixer -> resampler
// -> **encoder** -> packetizer, for participants that negotiated G722/8000.
//
// Written from the algorithm in Rec. ITU-T G.722 (QMF, 6+2-bit ADPCM, pole/zero
// predictors, scale factor adaptation, all in the Recommendation's 16-bit
// fixed-point arithmetic) and not from any existing implementation, so that the
// library stays MIT (the G.722 code in spandsp and libavcodec is LGPL). The
// ADPCM follows the Recommendation's integer arithmetic to the bit; the 16-bit
// PCM scaling of the QMF is the one of the ITU-T reference software and ffmpeg
// (the sub-bands carry the 16-bit input halved). Our payloads and ffmpeg's are
// byte-identical and decode to identical PCM in all three modes, on speech,
// overload signals and random bytes (tests/g722_test.cpp checks this against
// the installed ffmpeg, which states that it passes the ITU-T test sequences;
// we have not run those sequences ourselves).
//
// Wire format (RFC 3551, and ffmpeg's raw "g722" format): one byte per pair of
// 16 kHz samples, `byte = (upper_band_code << 6) | lower_band_code`, the first
// pair in the first byte. QUIRK: G.722 is 16 kHz audio, but its RTP clock rate
// is 8000 Hz (RFC 3551 keeps a historical error). Here every count is in real
// 16 kHz samples: format() says 16000 Hz, frames_in(payload) is
// 2 * payload.size(); only the RTP timestamp, which the packetizer computes,
// advances by payload.size() per packet (g722_rtp_clock_rate_hz).
//
// Two layers: g722_encoder_core / g722_decoder_core are the bare int16 codec
// (any number of bytes, no framing, no concealment), usable by hosts that stay
// in int16; make_g722_encoder / make_g722_decoder wrap them into the float
// tutti::encoder / tutti::decoder interfaces with packet-loss concealment.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "tutti/codec.hpp"
#include "tutti/config.hpp"

TUTTI_BEGIN_NAMESPACE

/// G.722 audio sample rate: 16000 samples per second.
inline constexpr std::uint32_t g722_sample_rate_hz = 16000;
/// G.722 RTP timestamp rate (RFC 3551): 8000 Hz, half the audio rate, so the
/// RTP timestamp advances by one per payload byte (per 16 kHz sample pair).
inline constexpr std::uint32_t g722_rtp_clock_rate_hz = 8000;
/// Static RTP payload type of G.722 (RFC 3551).
inline constexpr std::uint8_t g722_rtp_payload_type = 9;
/// 16 kHz samples carried by one payload byte.
inline constexpr std::size_t g722_samples_per_byte = 2;
/// Algorithmic delay of an encoder + decoder pair, in 16 kHz samples: the two
/// 24-tap QMFs (the ADPCM itself adds none). Decoded sample n + 22 corresponds
/// to input sample n.
inline constexpr std::size_t g722_codec_delay_samples = 22;

/// G.722 operating modes: how many bits of the lower-band code carry audio
/// (the others carry auxiliary data and are ignored by the decoder).
enum class g722_mode : std::uint8_t {
    kbps64 = 1,  ///< mode 1: 6-bit lower band (the only mode RTP uses)
    kbps56 = 2,  ///< mode 2: 5-bit lower band, bit 0 is data
    kbps48 = 3,  ///< mode 3: 4-bit lower band, bits 0-1 are data
};

namespace detail {
/// ADPCM state of one G.722 sub-band (the Recommendation's names in comments).
/// Plain data: copying it snapshots the band.
struct g722_band {
    std::int16_t s = 0;                ///< SL / SH: predictor output for the next sample
    std::int16_t sz = 0;               ///< SZL / SZH: zero-section output for the next sample
    std::int16_t nb = 0;               ///< NBL / NBH: logarithmic scale factor
    std::int16_t det = 0;              ///< DETL / DETH: quantiser scale factor (set by reset)
    std::array<std::int16_t, 2> a{};   ///< AL1, AL2: pole coefficients (Q14)
    std::array<std::int16_t, 6> b{};   ///< BL1..BL6: zero coefficients (Q14)
    std::array<std::int16_t, 6> d{};   ///< DLT1..DLT6: past quantised differences
    std::array<std::int16_t, 2> p{};   ///< PLT1, PLT2: past partially reconstructed signals
    std::array<std::int16_t, 2> r{};   ///< RLT1, RLT2: past reconstructed signals
};
}  // namespace detail

/// The bare G.722 mode-1 encoder on int16 PCM at 16 kHz: transmit QMF and both
/// ADPCM encoders. About 200 bytes of state, no allocation; copyable (a copy
/// continues the same stream). [one thread at a time]
class g722_encoder_core {
public:
    g722_encoder_core() noexcept { reset(); }

    /// Encodes the sample pairs of `pcm` (16 kHz mono int16; an odd last
    /// sample is ignored) into `out`, one byte per pair, and returns the number
    /// of bytes written: min(pcm.size() / 2, out.size()) pairs are consumed.
    std::size_t encode(std::span<const std::int16_t> pcm, std::span<std::uint8_t> out) noexcept;

    /// Back to the initial state of the Recommendation (as newly constructed).
    void reset() noexcept;

private:
    std::array<std::int32_t, 24> x_{};  // last 24 input samples, newest first
    detail::g722_band low_;
    detail::g722_band high_;
};

/// The bare G.722 decoder to int16 PCM at 16 kHz: both ADPCM decoders (modes
/// 1-3) and the receive QMF. No allocation; copyable. Every byte value is a
/// legal G.722 code, so any input decodes (garbage in, noise out) and the
/// state always stays within the Recommendation's limits. [one thread at a time]
class g722_decoder_core {
public:
    /// A decoder for `mode` (mode 1, 64 kbit/s, is what RTP carries; a value
    /// outside the enumeration decodes as mode 1).
    explicit g722_decoder_core(g722_mode mode = g722_mode::kbps64) noexcept : mode_(mode) { reset(); }

    /// Decodes the bytes of `in` into `pcm`, two samples per byte, and returns
    /// the number of samples written: 2 * min(in.size(), pcm.size() / 2).
    std::size_t decode(std::span<const std::uint8_t> in, std::span<std::int16_t> pcm) noexcept;

    /// Back to the initial state (the mode is kept).
    void reset() noexcept;

    /// The mode given at construction.
    g722_mode mode() const noexcept { return mode_; }

private:
    g722_mode mode_;
    std::array<std::int32_t, 12> xd_{};  // last 12 rL - rH, newest first
    std::array<std::int32_t, 12> xs_{};  // last 12 rL + rH, newest first
    detail::g722_band low_;
    detail::g722_band high_;
};

/// A G.722 (64 kbit/s) tutti::encoder: 16 kHz mono float PCM in (converted
/// with float_to_s16), `frame_us` microseconds per encode() call,
/// frame_samples() / 2 bytes out, never DTX (never returns 0). `frame_us`
/// must be a multiple of 125 (an even number of samples) within
/// audio_format::valid() (2.5..120 ms); otherwise returns nullptr.
/// Allocates (only here); throws std::bad_alloc. [control-thread]
std::unique_ptr<encoder> make_g722_encoder(std::uint32_t frame_us = 20000);

/// A G.722 tutti::decoder producing 16 kHz mono float PCM. `frame_us` is the
/// nominal packet time reported by format() (same constraints as the encoder,
/// nullptr otherwise); each payload decodes to 2 * payload.size() frames
/// whatever its size. decode() returns status::malformed for an empty payload
/// (it cannot be a G.722 packet) and buffer_too_small when `pcm` holds fewer
/// than 2 * payload.size() frames; pcm must be mono (invalid_argument
/// otherwise). conceal() is the G.711 Appendix I pitch repetition of
/// detail/g711_plc.hpp at 16 kHz (no added delay): full level for 10 ms, then
/// fading to exact silence 60 ms into the loss; the first packet after a loss
/// is cross-faded in. The ADPCM state is kept through a loss (measured better
/// than resetting it), so the decoder converges back to the encoder within
/// ~100-200 ms after the loss.
/// Allocates (only here); throws std::bad_alloc. [control-thread]
std::unique_ptr<decoder> make_g722_decoder(std::uint32_t frame_us = 20000, g722_mode mode = g722_mode::kbps64);

TUTTI_END_NAMESPACE
