// tutti/codec_registry.hpp: from a negotiated SDP format to a configured encoder and decoder.
//
// Flow position: signalling -> sdp.hpp -> **codec registry** -> encoder /
// decoder objects (codec.hpp) that the participant or transcoder then owns:
// RTP in -> jitter buffer -> decoder -> resampler -> mixer -> resampler ->
// encoder -> RTP out.
//
// The registry is open: a codec is a name plus a `codec_factory`, a struct of
// plain function pointers and a `void* context`, so that a plugin written
// against a C ABI later can be wrapped into one without tutti knowing it.
// `with_builtin_codecs()` registers PCMU, PCMA, G722, L16 and opus.
//
// How the built-in factories read the SDP (each rule is tested in
// tests/codec_registry_test.cpp):
//  - PCMU / PCMA: clock 8000 and 1 channel, anything else is invalid_argument.
//  - G722: rtpmap G722/8000 (RFC 3551's historical clock), 1 channel; the
//    codec runs at 16 kHz, so format().sample_rate_hz is 16000 on both sides.
//  - L16: clock 8000..192000 Hz, 1 or 2 channels; samples are big-endian
//    (network byte order) at the clock rate.
//  - Packet time of those four: a=ptime chosen among 10/20/30/40/60 ms by
//    choose_frame_us() (default codec_options::default_frame_us).
//  - opus: rtpmap must be opus/48000/2 (RFC 7587) whatever the audio; the fmtp
//    maps onto opus_encoder_config / opus_decoder_config as opus_configs_from_sdp
//    documents. Packet time among 10/20/40/60 ms (2.5 and 5 ms are CELT-only
//    and never chosen from SDP).
//  - Anything else (telephone-event, CN, red, G729, ...) is not_found.
// Factories never keep a reference to the sdp_format or the options.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tutti/codec.hpp"
#include "tutti/codecs/opus.hpp"
#include "tutti/config.hpp"
#include "tutti/sdp.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// The host's own codec choices, which SDP does not carry. Plain value.
struct codec_options {
    /// Opus target bitrate in bit/s for all channels (6000..510000 or
    /// opus_bitrate_auto); fmtp maxaveragebitrate can only lower it.
    int opus_bitrate_bps = 32000;
    /// Opus complexity 0..10. 10 is libopus's default and the best speech
    /// quality; per BASELINES.md it costs 208 µs per 20 ms mono 48 kHz frame
    /// (≈ 1 % of a core per encoder) against 113 µs at 5. A bridge that runs
    /// out of CPU before bandwidth should set 5 (≈ 1.8× the encoders per core).
    int opus_complexity = 10;
    /// libopus application of Opus encoders (voip: speech tuning).
    opus_application opus_app = opus_application::voip;
    /// Expected packet loss in percent, 0..100, given to Opus encoders (how
    /// much in-band FEC spends when the peer asked for useinbandfec=1). Feed it
    /// later from RTCP through opus_encoder::set_expected_loss.
    int expected_loss_percent = 0;
    /// Highest Opus sample rate either side may run at, in Hz (rounded up to an
    /// Opus rate): the host's mixing rate when it is lower than 48 kHz saves
    /// CPU. fmtp maxplaybackrate / sprop-maxcapturerate can lower it further.
    std::uint32_t opus_max_sample_rate_hz = 48000;
    /// Packet time in µs when the SDP has no a=ptime (RFC 3551's 20 ms).
    std::uint32_t default_frame_us = 20000;

    /// Equal options make equal encoders from equal SDP (shared encoding relies on it).
    friend bool operator==(const codec_options&, const codec_options&) = default;
};

/// Makes encoders and decoders of one codec. A C-ABI-friendly struct: plain
/// function pointers and a context pointer the registry never dereferences.
/// The functions are called on the [control-thread] (creation allocates);
/// they must not keep `format` or `options` after returning, must leave
/// `out` unchanged on failure, and write an English sentence to `*error`
/// (when not null) whenever they fail.
struct codec_factory {
    /// Creates an encoder for `format` (what the remote side receives).
    /// Returns ok, invalid_argument (the SDP asks for something this codec
    /// cannot do), out_of_memory or internal_error.
    status (*make_encoder)(void* context, const sdp_format& format, const codec_options& options,
                           std::unique_ptr<encoder>& out, std::string* error) = nullptr;
    /// Creates a decoder for `format` (what the remote side sends). Same returns.
    status (*make_decoder)(void* context, const sdp_format& format, const codec_options& options,
                           std::unique_ptr<decoder>& out, std::string* error) = nullptr;
    /// Passed back to both functions. Borrowed: whoever registers the factory
    /// keeps it alive as long as any registry (or copy) holding it may be used.
    void* context = nullptr;
};

/// Encoding name -> factory table. Copyable value. Mutating calls are
/// [control-thread]; const calls may run concurrently on any thread as long as
/// nobody mutates the same registry.
class codec_registry {
public:
    /// An empty registry.
    codec_registry() = default;

    /// A registry with PCMU, PCMA, G722, L16 and opus. Allocates. [any-thread]
    static codec_registry with_builtin_codecs();

    /// Registers `factory` under `name` (compared ignoring ASCII case).
    /// Returns invalid_argument (writing `*error`) when the name is empty or
    /// longer than sdp_max_encoding_name_bytes, a function pointer is null, or
    /// the name is already registered. Allocates. [control-thread]
    [[nodiscard]] status add(std::string_view name, const codec_factory& factory, std::string* error = nullptr);

    /// Registers `factory` under `name`, replacing any factory of that name
    /// (e.g. a plugin's Opus instead of the built-in one). Same checks as add()
    /// except the duplicate one. Allocates. [control-thread]
    [[nodiscard]] status replace(std::string_view name, const codec_factory& factory, std::string* error = nullptr);

    /// Removes `name`. Returns not_found when absent. [control-thread]
    status remove(std::string_view name) noexcept;

    /// The factory registered under `name` (ASCII case ignored), or nullptr.
    /// The pointer is valid until the registry is next modified. Never allocates.
    const codec_factory* find(std::string_view name) const noexcept;

    /// Registered names as given to add()/replace(), in registration order. Allocates.
    std::vector<std::string> names() const;

    /// Finds format.encoding_name and calls its make_encoder. not_found (with
    /// `*error`) for a name nobody registered; otherwise the factory's result.
    /// Allocates (the codec); call on the [control-thread], never in the tick.
    [[nodiscard]] status make_encoder(const sdp_format& format, const codec_options& options,
                                      std::unique_ptr<encoder>& out, std::string* error = nullptr) const;
    /// Finds format.encoding_name and calls its make_decoder. Same returns.
    [[nodiscard]] status make_decoder(const sdp_format& format, const codec_options& options,
                                      std::unique_ptr<decoder>& out, std::string* error = nullptr) const;

private:
    struct entry {
        std::string name;
        codec_factory factory;
    };
    std::vector<entry> entries_;
};

/// The packet time in µs for a codec supporting the durations `supported_us`
/// (ascending): the a=ptime of `format` (else options.default_frame_us) when
/// supported; otherwise the nearest supported duration not above a=maxptime
/// (ties go to the shorter one, for latency). Returns 0 when every supported
/// duration is above a=maxptime. [any-thread], never allocates.
std::uint32_t choose_frame_us(const sdp_format& format, const codec_options& options,
                              std::span<const std::uint32_t> supported_us) noexcept;

/// The Opus encoder and decoder configs for `format` (RFC 7587 §6.1):
///   encoder (what the remote side asked to receive):
///     sample_rate_hz: the smallest Opus rate >= min(maxplaybackrate,
///                     options.opus_max_sample_rate_hz), 48000 by default
///     max_bandwidth:  opus_bandwidth_for_rate(maxplaybackrate) (fullband by default)
///     channels:       2 when stereo=1, else 1
///     bitrate_bps:    options.opus_bitrate_bps, capped by maxaveragebitrate
///                     clamped to 6000..510000
///     cbr / dtx:      cbr=1 / usedtx=1
///     inband_fec:     useinbandfec=1; expected_loss_percent from options always
///     frame_us:       choose_frame_us over 10/20/40/60 ms (ptime/maxptime; a
///                     ptime or maxptime given in the fmtp instead of as an
///                     attribute, as some stacks do, is used when the
///                     attribute is absent)
///     complexity, application: from options
///   decoder (what the remote side sends):
///     sample_rate_hz: the smallest Opus rate >= min(sprop-maxcapturerate,
///                     options.opus_max_sample_rate_hz), 48000 by default
///     channels:       2 when sprop-stereo=1, else 1
///     frame_us:       as the encoder's (nominal only)
/// Boolean parameters must be 0 or 1 and rates/bitrates decimal numbers
/// (a rate of 0 or one over 10^9 counts as not a number); anything else is
/// invalid_argument naming the parameter, as is an rtpmap other than
/// opus/48000/2. Rates below 8000 Hz count as 8000. Either output pointer may
/// be null. [any-thread]
[[nodiscard]] status opus_configs_from_sdp(const sdp_format& format, const codec_options& options,
                                           opus_encoder_config* encoder_config, opus_decoder_config* decoder_config,
                                           std::string* error = nullptr);

TUTTI_END_NAMESPACE
