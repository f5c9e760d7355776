// tutti/rtp_packetizer.hpp: sequence numbers, timestamps and marker bits of one outgoing RTP stream.
//
// Flow position: mixer -> resampler -> encoder -> **packetizer** -> RTP out.
//
// One rtp_packetizer per outgoing stream (SSRC). It wraps encoded payloads in
// RTP headers (write_rtp in rtp.hpp) and keeps the stream's clocks:
//  - Sequence numbers start at a random value below 32768 (as libwebrtc does:
//    no wrap within the first 32768 packets, so an SRTP receiver that misses
//    the first packets cannot misjudge its rollover counter) and go up by one
//    per packet sent, wrapping 65535 -> 0 (RFC 3550 §5.1). Frames not sent do
//    not use one.
//  - The timestamp starts at a random value and advances by the media time
//    of every frame, sent or not: packetize() and skip() both move it by the
//    duration they are given. Frames the encoder suppressed (DTX) or the
//    host muted are reported with skip(); the next packet then carries the
//    marker bit (start of a talkspurt, RFC 3551 §4.1), as does the first
//    packet of the stream and any packet the caller marks talkspurt_start.
//  - A codec change (set_payload_type) or a new frame duration changes
//    nothing else: durations are always in RTP clock units, so the timestamp
//    keeps counting elapsed media time.
//  - A clock rate change (set_clock_rate) keeps the timestamp where it is and
//    counts further durations in the new rate; the next packet is marked, so
//    a receiver resynchronises its jitter estimate. Receivers that use RTCP
//    mapping (RFC 7160 §4.1) prefer a new SSRC per clock rate: a host that
//    sends RTCP should create a new packetizer instead.
//  - Optional RFC 6464 audio level on every audio packet, under the extension
//    ID negotiated with a=extmap (one-byte form for IDs 1..14, else two-byte).
//  - RFC 4733 telephone events share the stream's SSRC, sequence numbers
//    and clock (the telephone-event rtpmap must have the audio's clock rate):
//    begin_event() (marker set, timestamp = the media time of the next
//    frame), update_event(), end_event() and two repeat_event_end() copies.
//    Event packets do not move the timestamp: the host keeps calling
//    packetize() (audio sent alongside) or skip() (audio suppressed, usual).
//    Durations over 0xFFFF units are split into segments (RFC 4733 §2.5.1.3):
//    the update that crosses the limit reports 0xFFFF, the next two updates
//    repeat it, later ones continue with timestamp + 0xFFFF.
//
// Random starting values come from std::random_device (getrandom/urandom or
// RDRAND with libstdc++: no blocking once the system is up), read once in
// init() and never in packetize, or from a caller-given seed for tests.
// packetize(), skip() and the event calls never allocate, lock, log or throw.
// [one thread at a time]: init() on the control thread, the rest on the tick.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tutti/config.hpp"
#include "tutti/rtp.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// Settings of one outgoing stream.
struct rtp_packetizer_config {
    std::uint32_t ssrc = 0;              ///< synchronisation source, chosen by the host (unique in the session)
    std::uint8_t payload_type = 0;       ///< 0..63 or 96..127 (64..95 collide with RTCP under RFC 5761 and are refused)
    std::uint32_t clock_rate_hz = 8000;  ///< RTP clock rate of the payload type (rtpmap), > 0
    /// RFC 6464 audio-level extension ID (1..255), or 0 to send no audio level.
    std::uint8_t audio_level_id = 0;
    /// Payload type of telephone-event (same rules as payload_type), or nullopt: no events.
    std::optional<std::uint8_t> telephone_event_payload_type;
    /// Seed for the random initial sequence number and timestamp; nullopt
    /// reads std::random_device once in init().
    std::optional<std::uint64_t> seed;
    /// Overrides of the random starting values (tests, resuming a stream).
    std::optional<std::uint16_t> initial_sequence;
    std::optional<std::uint32_t> initial_timestamp;
};

/// Builds the RTP packets of one outgoing stream (rules in the file comment).
class rtp_packetizer {
public:
    /// An unusable packetizer: every call returns invalid_argument until init().
    rtp_packetizer() noexcept = default;

    /// Sets the stream up; may be called again to start a fresh stream.
    /// Returns ok or invalid_argument (payload type out of range or 64..95,
    /// clock rate 0). [control-thread]
    [[nodiscard]] status init(const rtp_packetizer_config& config) noexcept;

    /// Writes one packet carrying `payload` (1+ bytes), which covers
    /// `duration` (> 0) RTP clock units of media, into `out`, then advances the
    /// sequence number by 1 and the timestamp by `duration`. The marker bit is
    /// set when `talkspurt_start` is true, or on the first packet, or after
    /// skip()/set_clock_rate(). `level` is written when an audio_level_id is
    /// configured (no extension without it). `csrcs` (at most 15) lists the
    /// sources in this frame, as an RFC 3550 mixer does.
    /// Returns the packet size in bytes or a negative status: invalid_argument
    /// (not initialised, empty payload, duration 0, more than 15 CSRCs),
    /// buffer_too_small. On error nothing changes. [tick-thread]
    [[nodiscard]] std::ptrdiff_t packetize(std::span<const std::uint8_t> payload, std::uint32_t duration,
                                           bool talkspurt_start, std::span<std::uint8_t> out,
                                           std::optional<rtp_audio_level> level = std::nullopt,
                                           std::span<const std::uint32_t> csrcs = {}) noexcept;

    /// Reports `duration` RTP clock units of media that are not sent (encoder
    /// DTX, muted participant, audio suppressed during an event): the
    /// timestamp advances, the sequence number does not, and the next audio
    /// packet carries the marker bit. skip(0) does nothing. [tick-thread]
    void skip(std::uint32_t duration) noexcept;

    /// Switches the audio payload type (codec change). Returns ok or
    /// invalid_argument (same rule as the config). [tick-thread]
    [[nodiscard]] status set_payload_type(std::uint8_t payload_type) noexcept;

    /// Switches the RTP clock rate (see the file comment). Returns ok or
    /// invalid_argument (0, not initialised, or an event in progress). [tick-thread]
    [[nodiscard]] status set_clock_rate(std::uint32_t clock_rate_hz) noexcept;

    /// Starts telephone event `event` (0..255; see telephone_event_code()) at
    /// the current timestamp and writes its first packet (marker set) reporting
    /// `duration` units so far (0 is allowed). Returns the packet size, or
    /// unsupported (no telephone-event payload type), invalid_argument (not
    /// initialised, volume > 63, an event still in progress, or the timestamp
    /// has not moved since the previous event began: two events would share
    /// it), buffer_too_small. Cancels repeats of a previous event's end not yet
    /// sent. [tick-thread]
    [[nodiscard]] std::ptrdiff_t begin_event(std::uint8_t event, std::uint8_t volume, std::uint32_t duration,
                                             std::span<std::uint8_t> out) noexcept;

    /// Writes an update reporting `duration` units since the event began (all
    /// segments together; never less than reported before, which is
    /// invalid_argument, as is no event in progress). Returns the packet size
    /// or a negative status. [tick-thread]
    [[nodiscard]] std::ptrdiff_t update_event(std::uint32_t duration, std::span<std::uint8_t> out) noexcept;

    /// Ends the event at `duration` units (same rules as update_event) and
    /// writes the first of its three final packets (E bit). The other two
    /// come from repeat_event_end(), ideally one update interval apart
    /// (RFC 4733 §2.5.1.4). [tick-thread]
    [[nodiscard]] std::ptrdiff_t end_event(std::uint32_t duration, std::span<std::uint8_t> out) noexcept;

    /// Writes the next copy of the last event's final packet (new sequence
    /// number, same timestamp and duration). Returns its size, 0 when all
    /// three have been sent, or a negative status. [tick-thread]
    [[nodiscard]] std::ptrdiff_t repeat_event_end(std::span<std::uint8_t> out) noexcept;

    /// True from begin_event() to end_event().
    bool event_active() const noexcept { return event_active_; }
    /// Final-packet copies still to send with repeat_event_end() (0..2).
    std::uint8_t event_end_repeats_pending() const noexcept { return end_repeats_; }

    /// The stream's SSRC.
    std::uint32_t ssrc() const noexcept { return ssrc_; }
    /// Audio payload type of the next packet.
    std::uint8_t payload_type() const noexcept { return payload_type_; }
    /// RTP clock rate that durations are counted in, Hz.
    std::uint32_t clock_rate_hz() const noexcept { return clock_rate_hz_; }
    /// Sequence number the next packet will carry.
    std::uint16_t next_sequence() const noexcept { return sequence_; }
    /// Timestamp the next audio packet will carry (media time of the next frame).
    std::uint32_t next_timestamp() const noexcept { return timestamp_; }
    /// Packets written (audio and events), for the RTCP sender report.
    std::uint64_t packets_sent() const noexcept { return packets_; }
    /// Payload bytes written (headers and padding excluded, RFC 3550 §6.4.1).
    std::uint64_t payload_octets_sent() const noexcept { return octets_; }

private:
    std::ptrdiff_t write_event(std::uint32_t segment_duration, bool end, bool marker, std::span<std::uint8_t> out) noexcept;
    std::ptrdiff_t event_packet(std::uint32_t duration, bool end, std::span<std::uint8_t> out) noexcept;

    bool ready_ = false;
    std::uint32_t ssrc_ = 0;
    std::uint8_t payload_type_ = 0;
    std::uint32_t clock_rate_hz_ = 0;
    std::uint8_t audio_level_id_ = 0;
    std::optional<std::uint8_t> event_payload_type_;
    std::uint16_t sequence_ = 0;
    std::uint32_t timestamp_ = 0;
    bool marker_pending_ = true;
    std::uint64_t packets_ = 0;
    std::uint64_t octets_ = 0;

    // Telephone event in progress (or just ended).
    bool event_active_ = false;
    bool event_started_ = false;        // an event was ever begun (event_start_ts_ valid)
    std::uint8_t event_code_ = 0;
    std::uint8_t event_volume_ = 0;
    std::uint32_t event_start_ts_ = 0;  // timestamp of the first segment
    std::uint32_t segment_ts_ = 0;      // timestamp of the current segment
    std::uint32_t segment_base_ = 0;    // duration before the current segment
    std::uint32_t event_duration_ = 0;  // total reported so far
    std::uint8_t segment_end_copies_ = 0;  // copies of the current segment's 0xFFFF packet sent
    std::uint8_t end_repeats_ = 0;      // final copies still to send
    std::uint16_t end_duration_ = 0;    // duration field of the final packet
};

TUTTI_END_NAMESPACE
