// tutti/codecs/opus.hpp: Opus (RFC 6716, RTP mapping RFC 7587) over libopus.
//
// Flow position: jitter buffer -> **Opus decoder** -> resampler -> mixer ->
// resampler -> **Opus encoder** -> packetizer.
//
// Both sides run libopus's float API at 8, 12, 16, 24 or 48 kHz, mono or
// stereo. The encoder takes one frame of 2.5..60 ms per call; the decoder takes
// any Opus payload (every TOC configuration, 1..48 frames per packet, mode and
// bandwidth switches between packets), conceals lost packets with libopus's
// PLC, and recovers a lost packet from the in-band FEC (SILK LBRR) that the
// next packet may carry.
//
// Memory: creation allocates the libopus state (opus_*_get_size bytes, owned by
// the object) and a scratch frame; encode, decode, conceal, decode_fec, reset
// and the setters never allocate, lock, log or throw (libopus itself allocates
// only in opus_*_create, which we do not use; tests/opus_test.cpp checks it
// with libopus linked statically so that its calls are counted too).
//
// SDP (RFC 7587 §6.1) to these configs. Opus's RTP clock is always 48000 Hz
// whatever the rates below; the packetizer deals with that, not the codec.
//   fmtp the REMOTE side sent (what it wants to receive) -> our encoder:
//     maxplaybackrate=R        max_bandwidth = opus_bandwidth_for_rate(R); also
//                              lets sample_rate_hz be lowered to R (rounded up
//                              to an Opus rate) to save resampling and CPU
//     maxaveragebitrate=B      bitrate_bps = min(bitrate_bps, B)
//     stereo=1                 channels = 2 (if we have stereo to send), else 1
//     cbr=1                    cbr = true
//     useinbandfec=1           inband_fec = true (+ expected_loss_percent from
//                              RTCP receiver reports, via set_expected_loss)
//     usedtx=1                 dtx = true
//     ptime / maxptime (ms)    frame_us = ptime * 1000 (an Opus duration <= maxptime)
//   fmtp the remote side sent about what it sends -> our decoder:
//     sprop-maxcapturerate=R   sample_rate_hz may be lowered to R (rounded up to
//                              an Opus rate) when the mixer path runs there
//     sprop-stereo=1           channels = 2 if we want its stereo, else 1 (libopus
//                              downmixes a stereo stream to mono, or upmixes)
//   and what we advertise: our maxplaybackrate = decoder sample_rate_hz,
//   stereo = (decoder channels == 2), sprop-stereo = (encoder channels == 2),
//   sprop-maxcapturerate = encoder sample_rate_hz, useinbandfec=1 (we decode it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "tutti/codec.hpp"
#include "tutti/detail/buffer_heap.hpp"
#include "tutti/config.hpp"
#include "tutti/format.hpp"
#include "tutti/status.hpp"

struct OpusEncoder;  // libopus's opaque states (opus.h)
struct OpusDecoder;

TUTTI_BEGIN_NAMESPACE

/// Room for any packet the encoder makes, in bytes: libopus's recommended
/// output size (the largest packet, 60 ms at 510 kb/s, is 3 × 1275 + 6 = 3831 bytes).
inline constexpr std::size_t opus_max_payload_bytes = 4000;
/// Longest duration of one Opus payload, in µs (RFC 6716 §3.2.5: 120 ms).
inline constexpr std::uint32_t opus_max_payload_us = 120000;
/// `opus_encoder_config::bitrate_bps` value that lets libopus choose the bitrate
/// from rate, channels and frame size.
inline constexpr int opus_bitrate_auto = 0;

/// The encoder's libopus application (OPUS_APPLICATION_*).
enum class opus_application : std::uint8_t {
    voip,   ///< speech: SILK/hybrid preferred, high-pass and speech tuning (telephony default)
    audio,  ///< music and mixed content: CELT preferred at higher bitrates
};

/// Audio bandwidth of an Opus stream (RFC 6716 §2), narrowest first.
enum class opus_bandwidth : std::uint8_t {
    narrowband = 0,     ///< 4 kHz audio bandwidth (8 kHz sampling)
    mediumband = 1,     ///< 6 kHz (12 kHz sampling)
    wideband = 2,       ///< 8 kHz (16 kHz sampling)
    superwideband = 3,  ///< 12 kHz (24 kHz sampling)
    fullband = 4,       ///< 20 kHz (48 kHz sampling)
};

/// The widest bandwidth a receiver playing at `playback_rate_hz` can use: what
/// SDP `maxplaybackrate` (and `sprop-maxcapturerate`) mean (RFC 7587 §6.1).
/// <= 8000 narrowband, <= 12000 mediumband, <= 16000 wideband, <= 24000
/// superwideband, above fullband. [any-thread]
constexpr opus_bandwidth opus_bandwidth_for_rate(std::uint32_t playback_rate_hz) noexcept {
    if (playback_rate_hz <= 8000) return opus_bandwidth::narrowband;
    if (playback_rate_hz <= 12000) return opus_bandwidth::mediumband;
    if (playback_rate_hz <= 16000) return opus_bandwidth::wideband;
    if (playback_rate_hz <= 24000) return opus_bandwidth::superwideband;
    return opus_bandwidth::fullband;
}

/// True for the sample rates libopus runs at: 8000, 12000, 16000, 24000, 48000 Hz. [any-thread]
constexpr bool opus_rate_valid(std::uint32_t sample_rate_hz) noexcept {
    return sample_rate_hz == 8000 || sample_rate_hz == 12000 || sample_rate_hz == 16000 ||
           sample_rate_hz == 24000 || sample_rate_hz == 48000;
}

/// True for the frame durations the encoder accepts: 2500, 5000, 10000, 20000,
/// 40000, 60000 µs (2.5 and 5 ms frames are CELT only: no FEC, no SILK). [any-thread]
constexpr bool opus_frame_us_valid(std::uint32_t frame_us) noexcept {
    return frame_us == 2500 || frame_us == 5000 || frame_us == 10000 || frame_us == 20000 ||
           frame_us == 40000 || frame_us == 60000;
}

/// Everything an Opus encoder is created with. Plain value; the defaults are a
/// 48 kHz mono 20 ms VoIP stream at 32 kb/s with RFC 7587's fmtp defaults
/// (VBR, no FEC, no DTX). See the file comment for the SDP mapping.
struct opus_encoder_config {
    std::uint32_t sample_rate_hz = 48000;  ///< input PCM rate in Hz: 8000, 12000, 16000, 24000 or 48000
    std::uint16_t channels = 1;            ///< input channels, 1 or 2 (interleaved L R)
    std::uint32_t frame_us = 20000;        ///< µs of PCM per encode() call (opus_frame_us_valid)
    opus_application application = opus_application::voip;  ///< fixed for the encoder's life
    int bitrate_bps = 32000;     ///< target bitrate in bit/s for all channels, 6000..510000, or opus_bitrate_auto
    int complexity = 10;         ///< CPU/quality trade-off, 0 (cheapest) .. 10 (best; ≈ 2× the cost of 5)
    bool cbr = false;            ///< constant bitrate (every packet the same size) instead of VBR
    bool inband_fec = false;     ///< SILK LBRR: each packet also carries a low-rate copy of the previous one
    int expected_loss_percent = 0;  ///< 0..100, how much redundancy FEC spends (0 turns LBRR off in practice)
    bool dtx = false;            ///< discontinuous transmission: send nothing during silence (encode() returns 0)
    opus_bandwidth max_bandwidth = opus_bandwidth::fullband;  ///< upper limit of the coded audio bandwidth
};

/// Everything an Opus decoder is created with. Plain value.
struct opus_decoder_config {
    std::uint32_t sample_rate_hz = 48000;  ///< output PCM rate in Hz: 8000, 12000, 16000, 24000 or 48000
    std::uint16_t channels = 1;            ///< output channels, 1 or 2 (whatever the stream carries)
    std::uint32_t frame_us = 20000;        ///< nominal packet time in µs, only reported by format(): a multiple of 2500 up to 120000
};

/// Counters of an encoder since creation (reset() keeps them). Plain value.
struct opus_encoder_stats {
    std::uint64_t frames = 0;      ///< encode() calls that succeeded (including DTX frames)
    std::uint64_t dtx_frames = 0;  ///< of those, frames that returned 0 (nothing to send)
    std::uint64_t bytes = 0;       ///< payload bytes returned in total
};

/// Counters of a decoder since creation (reset() keeps them). Plain value.
struct opus_decoder_stats {
    std::uint64_t payloads = 0;       ///< decode() calls that succeeded
    std::uint64_t frames = 0;         ///< samples per channel they produced
    std::uint64_t concealed = 0;      ///< conceal() calls that succeeded
    std::uint64_t fec_recovered = 0;  ///< decode_fec() calls that used in-band FEC
    std::uint64_t errors = 0;         ///< decode() / decode_fec() calls that returned an error (not unsupported)
};

/// Coding mode of an Opus frame (RFC 6716 §3.1).
enum class opus_mode : std::uint8_t {
    silk,    ///< SILK only (linear prediction; speech up to wideband)
    hybrid,  ///< SILK below 8 kHz + CELT above (super-wideband / fullband speech)
    celt,    ///< CELT only (MDCT; music, low delay, high bitrates)
};

/// Voice activity as the sender's encoder flagged it (opus_payload_info::voice).
enum class opus_voice : std::uint8_t { unknown, inactive, active };

/// What the framing of an Opus payload says (RFC 6716 §3), without decoding it.
struct opus_payload_info {
    opus_mode mode = opus_mode::silk;                      ///< from the TOC configuration
    opus_bandwidth bandwidth = opus_bandwidth::narrowband; ///< from the TOC configuration
    bool stereo = false;               ///< TOC `s` bit: frames are coded in stereo
    std::uint8_t code = 0;             ///< TOC `c`: 0 one frame, 1 two equal, 2 two sized, 3 arbitrary count
    std::uint8_t frame_count = 0;      ///< frames in the payload, 1..48
    std::uint32_t frame_us = 0;        ///< duration of each frame in µs, 2500..60000
    std::size_t first_frame_offset = 0;  ///< byte offset of the first frame's data in the payload
    std::size_t first_frame_bytes = 0;   ///< bytes of the first frame (0 or 1: DTX / lost frame)
    /// The first frame carries SILK LBRR for the packet before it, i.e.
    /// decode_fec() of this payload recovers real audio (RFC 6716 §4.2.3-4.2.4:
    /// the LBRR flag after the VAD flags in the first SILK header bits, for the
    /// mid or, in stereo, the side channel). For 40 and 60 ms SILK frames it
    /// means at least one of the 20 ms sub-frames has LBRR; libopus conceals the
    /// others.
    bool lbrr = false;
    /// The encoder's voice activity decision for the first frame (RFC 6716
    /// §4.2.3: the SILK VAD flags, mid and side, that precede the LBRR flag):
    /// `inactive` when every flag is clear, `active` when one is set,
    /// `unknown` for CELT-only frames (they carry none) and frames of 0-1
    /// bytes. libopus clears them on noise and silence between words, and on
    /// the comfort-noise updates of DTX: a mixer can leave such a participant
    /// undecoded without RFC 6464 levels (see room_config::skip_silent_decode).
    opus_voice voice = opus_voice::unknown;

    /// Duration of the whole payload in µs: frame_count * frame_us.
    constexpr std::uint32_t duration_us() const noexcept { return frame_count * frame_us; }
};

/// Parses the TOC and framing of `payload` (RFC 6716 §3.1-3.2, rules R1-R7, the
/// same checks libopus makes) into `out`. Returns ok; malformed (empty, code 1
/// with an odd length, CBR code 3 that does not divide, a frame over 1275
/// bytes, 0 frames, more than 120 ms); or truncated (a frame length or padding
/// that runs past the end). `out` is written only on ok. Reads nothing but the
/// payload. [any-thread], allocation-free.
[[nodiscard]] status parse_opus_payload(std::span<const std::uint8_t> payload, opus_payload_info& out) noexcept;

/// An Opus encoder (tutti::encoder plus run-time settings and counters).
/// Create with make_opus_encoder. [one thread at a time]: the setters are meant
/// for the thread that encodes, between two encode() calls (a host that adapts
/// to RTCP loss reports queues the change to that thread); they never allocate.
class opus_encoder final : public encoder {
public:
    ~opus_encoder() override;
    opus_encoder(const opus_encoder&) = delete;
    opus_encoder& operator=(const opus_encoder&) = delete;

    /// sample_rate_hz, channels and frame_us of the config.
    audio_format format() const noexcept override;

    /// Encodes exactly format().frame_samples() interleaved frames of `pcm`
    /// into `payload` and returns the payload size in bytes. Samples are
    /// clipped to [-1, 1] first (NaN becomes -1), so no input can poison the
    /// codec state. `payload.size()` caps the packet: libopus fits the frame
    /// into it at a lower quality (give opus_max_payload_bytes never to be
    /// limited). With DTX on, a frame that libopus codes as a DTX packet (1 or
    /// 2 bytes: TOC only, the receiver generates comfort noise) returns 0,
    /// "nothing to send"; with DTX off no frame returns 0. Errors: invalid_argument
    /// (frame count or channels differ from format()), buffer_too_small
    /// (payload empty or too small for even the smallest packet), internal_error.
    [[nodiscard]] std::ptrdiff_t encode(interleaved_view<const float> pcm,
                                        std::span<std::uint8_t> payload) noexcept override;

    /// Forgets the signal history (OPUS_RESET_STATE), as if newly created;
    /// the settings and the counters are kept.
    void reset() noexcept override;

    /// Copies another Opus encoder's whole state (libopus's OpusEncoder is
    /// position independent: a memcpy) and settings. unsupported unless
    /// `other` is an opus_encoder with the same rate, channels and frame.
    [[nodiscard]] status copy_state_from(const encoder& other) noexcept override;

    /// Target bitrate in bit/s (6000..510000 or opus_bitrate_auto), from the next frame.
    [[nodiscard]] status set_bitrate(int bitrate_bps) noexcept;
    /// Complexity 0..10, from the next frame.
    [[nodiscard]] status set_complexity(int complexity) noexcept;
    /// Turns in-band FEC (SILK LBRR) on or off, from the next frame.
    [[nodiscard]] status set_inband_fec(bool on) noexcept;
    /// Expected packet loss in percent (0..100): how much of the bitrate FEC may
    /// use, and how robust the prediction is. Feed it the RTCP fraction lost.
    [[nodiscard]] status set_expected_loss(int percent) noexcept;
    /// Turns DTX on or off, from the next frame.
    [[nodiscard]] status set_dtx(bool on) noexcept;
    /// Constant (true) or variable (false) bitrate, from the next frame.
    [[nodiscard]] status set_cbr(bool on) noexcept;
    /// Widest audio bandwidth to code, from the next frame. Narrowing a SILK
    /// stream takes effect gradually (libopus fades the band edge over a few
    /// seconds); reset() after it applies it at once.
    [[nodiscard]] status set_max_bandwidth(opus_bandwidth bandwidth) noexcept;

    /// The settings in force (the creation config with every setter applied).
    const opus_encoder_config& config() const noexcept { return config_; }
    /// Encoder delay in samples per channel at sample_rate_hz (OPUS_GET_LOOKAHEAD):
    /// decoded sample n + lookahead() corresponds to input sample n. It is what
    /// an Ogg Opus pre-skip holds (there at 48 kHz).
    std::size_t lookahead() const noexcept { return lookahead_; }
    /// Counters since creation.
    const opus_encoder_stats& stats() const noexcept { return stats_; }

private:
    friend status make_opus_encoder(const opus_encoder_config&, std::unique_ptr<opus_encoder>&) noexcept;
    opus_encoder() noexcept = default;

    OpusEncoder* state_ = nullptr;  // opus_encoder_get_size() bytes, owned
    float* scratch_ = nullptr;      // one clipped frame, owned
    opus_encoder_config config_;
    std::size_t frame_samples_ = 0;  // per channel
    std::size_t lookahead_ = 0;
    opus_encoder_stats stats_;
};

/// An Opus decoder (tutti::decoder plus FEC detection and counters).
/// Create with make_opus_decoder. [one thread at a time]
class opus_decoder final : public decoder, public detail::heap_allocated<opus_decoder> {
public:
    ~opus_decoder() override;
    opus_decoder(const opus_decoder&) = delete;
    opus_decoder& operator=(const opus_decoder&) = delete;

    /// sample_rate_hz, channels and the nominal frame_us of the config.
    audio_format format() const noexcept override;

    /// Samples per channel `payload` decodes to at sample_rate_hz (every frame
    /// of a multi-frame packet counted), or malformed / truncated as
    /// parse_opus_payload says.
    [[nodiscard]] std::ptrdiff_t frames_in(std::span<const std::uint8_t> payload) const noexcept override;

    /// Decodes one payload (any TOC, up to 120 ms) into the start of `pcm`,
    /// which must have room for frames_in(payload) frames. Returns frames
    /// written, or: invalid_argument (pcm.channels() differs from format()),
    /// malformed / truncated (parse_opus_payload; an empty payload is
    /// malformed: a lost packet is conceal(), not an empty decode),
    /// buffer_too_small. Errors leave the decoder state untouched, so the next
    /// good payload decodes normally. A DTX payload (TOC only) decodes to
    /// comfort noise / concealment of its duration. Output is not clipped:
    /// libopus may overshoot [-1, 1] slightly, the mixer's limiter handles it.
    [[nodiscard]] std::ptrdiff_t decode(std::span<const std::uint8_t> payload,
                                        interleaved_view<float> pcm) noexcept override;

    /// Fills all of `pcm` with libopus's concealment (SILK/CELT PLC, fading
    /// over consecutive calls) and returns pcm.frames(). pcm.frames() must be a
    /// multiple of 2.5 ms (sample_rate_hz / 400) and pcm.channels() must match
    /// format(); otherwise returns invalid_argument and does nothing.
    [[nodiscard]] std::ptrdiff_t conceal(interleaved_view<float> pcm) noexcept override;

    /// Recovers the packet lost just before `next_payload` from the LBRR that
    /// `next_payload` carries (opus_decode_float with decode_fec = 1), writing
    /// all of `pcm`, and returns pcm.frames(). pcm.frames() is the lost
    /// duration: a multiple of 2.5 ms, at least next_payload's first frame; when
    /// it is longer, libopus conceals the head and recovers the last frame.
    /// Returns unsupported, doing nothing, when there is nothing to recover:
    /// the payload carries no LBRR (opus_payload_info::lbrr: CELT-only, FEC off,
    /// a DTX frame, or a frame whose encoder chose no redundancy), pcm is shorter
    /// than its first frame, or the last payload decoded was CELT-only (libopus
    /// then only conceals); the caller uses conceal(). Other errors as decode().
    /// Call decode(next_payload) afterwards as usual.
    [[nodiscard]] std::ptrdiff_t decode_fec(std::span<const std::uint8_t> next_payload,
                                            interleaved_view<float> pcm) noexcept override;

    /// True when decode_fec(next_payload, pcm) with a long enough pcm would
    /// recover audio rather than return unsupported. Does not change the state.
    bool can_recover(std::span<const std::uint8_t> next_payload) const noexcept;

    /// Forgets all history (OPUS_RESET_STATE), as if newly created; counters are kept.
    void reset() noexcept override;

    /// The config the decoder was created with.
    const opus_decoder_config& config() const noexcept { return config_; }
    /// Counters since creation.
    const opus_decoder_stats& stats() const noexcept { return stats_; }

private:
    friend status make_opus_decoder(const opus_decoder_config&, std::unique_ptr<opus_decoder>&) noexcept;
    opus_decoder() noexcept = default;
    std::ptrdiff_t fail(status s) noexcept;

    OpusDecoder* state_ = nullptr;  // opus_decoder_get_size() bytes, owned
    opus_decoder_config config_;
    bool last_was_celt_ = false;    // mode of the last payload libopus decoded (it skips FEC after CELT)
    opus_decoder_stats stats_;
};

/// Creates an encoder for `config`. Returns ok and sets `out`; or
/// invalid_argument (a field outside its documented range), out_of_memory, or
/// internal_error (libopus refused); `out` is unchanged on failure.
/// Allocates ≈ 43-71 KiB (libopus state, 43/48 KiB mono/stereo, + one frame). [any-thread], not in the tick.
[[nodiscard]] status make_opus_encoder(const opus_encoder_config& config, std::unique_ptr<opus_encoder>& out) noexcept;
/// The same, as the generic interface (for codec tables that hold tutti::encoder).
[[nodiscard]] status make_opus_encoder(const opus_encoder_config& config, std::unique_ptr<encoder>& out) noexcept;

/// Creates a decoder for `config`. Returns ok and sets `out`; or
/// invalid_argument, out_of_memory, internal_error; `out` is unchanged on failure.
/// Allocates 18/27 KiB mono/stereo (libopus 1.3.1 state). [any-thread], not in the tick.
[[nodiscard]] status make_opus_decoder(const opus_decoder_config& config, std::unique_ptr<opus_decoder>& out) noexcept;
/// The same, as the generic interface.
[[nodiscard]] status make_opus_decoder(const opus_decoder_config& config, std::unique_ptr<decoder>& out) noexcept;

TUTTI_END_NAMESPACE
