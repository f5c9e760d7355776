// tutti/transcoder.hpp: one RTP payload format to another, adapting rate, channels and packet time.
//
// Flow position: a gateway leg that bypasses the mixer: RTP in -> jitter
// buffer -> **transcoder** (decoder -> channel mix -> resampler -> FIFO ->
// encoder) -> packetizer -> RTP out. Both codecs come from a codec_registry,
// so any registered codec converts to any other (PCMU 20 ms -> Opus 60 ms,
// Opus 20 ms -> PCMA 30 ms, G.722 -> L16/48000/2, ...).
//
//   push(payload)        decodes one input payload (float PCM at the decoder's
//                        rate), mixes channels (mono -> stereo duplicates,
//                        stereo -> mono averages; done on the narrower side of
//                        the resampler), resamples to the encoder's rate
//                        (tutti::resampler; none when the rates are equal) and
//                        appends to a fixed-capacity FIFO.
//   push_lost(next, n)   the same for a lost input packet: in-band FEC from the
//                        next payload when the codec has it, else concealment.
//   pull(out)            encodes one output packet time from the FIFO when it
//                        holds enough audio.
// The usual loop is: for each received packet, push() (or push_lost() for a
// gap) then pull() until it reports "nothing ready". Audio that does not fill
// an output packet waits in the FIFO for the next push.
//
// Memory and threads: create() allocates everything (codec states, buffers,
// resampler) on the [control-thread]; push, push_lost, pull and reset never
// allocate, lock or throw and are called by [one thread at a time].
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tutti/buffer.hpp"
#include "tutti/codec.hpp"
#include "tutti/codec_registry.hpp"
#include "tutti/config.hpp"
#include "tutti/format.hpp"
#include "tutti/resampler.hpp"
#include "tutti/sdp.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// Counters of a transcoder since creation (reset() keeps them). Plain value.
struct transcoder_stats {
    std::uint64_t packets_in = 0;        ///< push() calls whose payload decoded
    std::uint64_t packets_out = 0;       ///< pull() calls that returned a payload (bytes > 0)
    std::uint64_t dtx_frames = 0;        ///< pull() calls where the encoder chose DTX (send nothing)
    std::uint64_t packets_lost = 0;      ///< push_lost() calls that produced audio
    std::uint64_t frames_concealed = 0;  ///< input frames (per channel, decoder rate) made by the decoder's PLC
    std::uint64_t frames_recovered = 0;  ///< input frames (per channel, decoder rate) recovered from in-band FEC
    std::uint64_t decode_errors = 0;     ///< push() calls the decoder refused (garbage, too long)
    std::uint64_t encode_errors = 0;     ///< pull() calls the encoder refused
    std::uint64_t fifo_overflow_frames = 0;  ///< output-rate frames dropped, oldest first, because the FIFO was full
};

/// What pull() produced. Three cases when `result` is ok:
///  - bytes > 0: a payload of `bytes` bytes is at the start of `out`; send it.
///  - dtx: one output packet time passed but the encoder chose discontinuous
///    transmission: send nothing, advance the RTP timestamp by one packet
///    time (the receiver plays comfort noise, not loss concealment).
///  - neither: no packet ready (the FIFO holds less than one packet time);
///    push more input first.
struct transcoder_output {
    status result = status::ok;  ///< ok, or the encoder's error (see pull())
    std::size_t bytes = 0;       ///< payload size in bytes written to `out`
    bool dtx = false;            ///< true: a DTX frame, nothing to send

    /// True when an output packet time was consumed (a payload or a DTX frame).
    constexpr bool produced() const noexcept { return result == status::ok && (bytes > 0 || dtx); }
};

/// Converts a stream of RTP payloads of one format into another.
/// Create with transcoder::create. [one thread at a time]
class transcoder {
public:
    /// Longest input payload duration push() accepts, and the most frames one
    /// push_lost() call conceals, in µs (Opus's maximum packet, RFC 6716).
    static constexpr std::uint32_t max_input_us = 120000;

    /// Creates a transcoder from `in` (the format the remote side sends us) to
    /// `out` (the format we send), with codecs made by `registry` under
    /// `options` (neither is kept). Opus sides run at the lowest Opus rate that
    /// carries the other side's audio (e.g. PCMU -> Opus encodes at 8 kHz, Opus
    /// -> PCMA decodes at 8 kHz): the same output for less CPU.
    /// Returns ok and sets `result`, or: not_found (a codec nobody registered),
    /// invalid_argument (the registry refused a format), unsupported (channel
    /// counts neither equal nor one of them mono), out_of_memory,
    /// internal_error; `*error` (when not null) then says why and `result` is
    /// unchanged. Allocates everything the transcoder will use. [control-thread]
    [[nodiscard]] static status create(const sdp_format& in, const sdp_format& out, const codec_registry& registry,
                                       const codec_options& options, std::unique_ptr<transcoder>& result,
                                       std::string* error = nullptr);

    ~transcoder();
    transcoder(const transcoder&) = delete;
    transcoder& operator=(const transcoder&) = delete;

    /// Decodes one input payload (not retained) into the FIFO. Returns ok or
    /// the decoder's status (malformed, truncated; buffer_too_small for a
    /// payload longer than max_input_us); an error counts in
    /// stats().decode_errors, adds no audio, and the next good payload decodes
    /// normally. When the FIFO would overflow, its oldest frames are dropped.
    /// Never allocates. [one thread at a time]
    [[nodiscard]] status push(std::span<const std::uint8_t> payload) noexcept;

    /// Stands in for a lost input packet of `frames` frames (per channel, at
    /// input_format().sample_rate_hz; input_frames_for_rtp_ticks() converts an
    /// RTP timestamp gap). When `next_payload` (not retained) is the payload
    /// received after the gap and carries in-band FEC (Opus LBRR), the lost
    /// audio is recovered from it; otherwise, or when it is empty, the decoder
    /// conceals. Push `next_payload` itself afterwards as usual. Returns ok, or
    /// invalid_argument (frames 0 or over max_input_us, or a duration the codec
    /// cannot conceal, e.g. not a multiple of 2.5 ms for Opus) adding nothing.
    /// Never allocates. [one thread at a time]
    [[nodiscard]] status push_lost(std::span<const std::uint8_t> next_payload, std::size_t frames) noexcept;

    /// Encodes the next output packet time from the FIFO into `out` when the
    /// FIFO holds one (see transcoder_output for the three outcomes). Errors:
    /// buffer_too_small (`out` cannot hold the packet; the audio stays in the
    /// FIFO, retry with recommended_payload_bytes()), or another encoder status
    /// (the audio is dropped so that the stream goes on); both count in
    /// stats().encode_errors. Never allocates. [one thread at a time]
    [[nodiscard]] transcoder_output pull(std::span<std::uint8_t> out) noexcept;

    /// Empties the FIFO and forgets codec and resampler history, as after
    /// create() (for an SSRC change); the counters are kept. Never allocates.
    /// [one thread at a time]
    void reset() noexcept;

    /// The decoder's PCM format: rate and channels of push()ed audio.
    audio_format input_format() const noexcept { return in_format_; }
    /// The encoder's PCM format: frame_us is the output packet time.
    audio_format output_format() const noexcept { return out_format_; }
    /// Input frames (per channel, at input_format() rate) in `ticks` of the
    /// input's RTP clock: G.722 ticks at 8000 Hz for 16 kHz audio, Opus ticks
    /// at 48000 Hz whatever the decoder rate.
    std::size_t input_frames_for_rtp_ticks(std::uint32_t ticks) const noexcept;
    /// RTP timestamp increment of one output packet (or DTX frame), in ticks
    /// of the output's RTP clock: 160 for 20 ms of G.722 (8000 Hz clock),
    /// 2880 for 60 ms of Opus (48000 Hz whatever the encoder rate).
    std::uint32_t output_rtp_ticks_per_packet() const noexcept {
        return static_cast<std::uint32_t>(std::uint64_t{out_clock_rate_hz_} * out_format_.frame_us / 1000000u);
    }
    /// Output frames (per channel) waiting in the FIFO.
    std::size_t fifo_frames() const noexcept { return fifo_count_; }
    /// Most output frames the FIFO holds: two output packets plus one
    /// max_input_us payload after resampling.
    std::size_t fifo_capacity_frames() const noexcept { return fifo_capacity_; }
    /// A payload buffer size in bytes that every built-in encoder fits into:
    /// max(opus_max_payload_bytes, 2 bytes per output sample as L16 needs).
    std::size_t recommended_payload_bytes() const noexcept;
    /// Counters since creation.
    const transcoder_stats& stats() const noexcept { return stats_; }

    /// The codecs, for codec-specific run-time settings (e.g. a dynamic_cast
    /// to opus_encoder and set_expected_loss from RTCP). Owned by the
    /// transcoder; same thread rule as push/pull.
    encoder& output_encoder() noexcept { return *encoder_; }
    decoder& input_decoder() noexcept { return *decoder_; }

private:
    transcoder() noexcept = default;
    // Channel-mixes, resamples and appends `frames` decoded frames to the FIFO.
    void append(std::size_t frames) noexcept;

    std::unique_ptr<decoder> decoder_;
    std::unique_ptr<encoder> encoder_;
    std::unique_ptr<resampler> resampler_;  // null when the rates are equal
    audio_format in_format_;
    audio_format out_format_;
    std::uint32_t in_clock_rate_hz_ = 0;
    std::uint32_t out_clock_rate_hz_ = 0;
    std::uint16_t mix_channels_ = 1;        // channels through the resampler: min(in, out)
    std::size_t max_input_frames_ = 0;      // decoded_ capacity, frames
    std::size_t out_frame_samples_ = 0;     // output packet, frames per channel
    aligned_buffer<float> decoded_;         // max_input_frames_ x input channels
    aligned_buffer<float> resampled_;       // resampler output, x mix_channels_
    aligned_buffer<float> fifo_;            // fifo_capacity_ x output channels, linear
    std::size_t fifo_capacity_ = 0;
    std::size_t fifo_head_ = 0;             // first queued frame
    std::size_t fifo_count_ = 0;            // queued frames
    transcoder_stats stats_;
};

TUTTI_END_NAMESPACE
