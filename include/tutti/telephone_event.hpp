// tutti/telephone_event.hpp: RFC 4733 telephone events (DTMF digits, flash) in RTP.
//
// Flow position: RTP in (parse_rtp) -> **telephone_event_decoder** -> the host
// (IVR, conference PIN entry, SIP INFO relay); the packets never reach the
// jitter buffer or a decoder. Sending is in rtp_packetizer.hpp.
//
// The wire format (RFC 4733 §2.3): four bytes per event,
//     event (8) | E (1) R (1) volume (6) | duration (16, RTP clock units)
// all packets of one event carry the same RTP timestamp (its start), the first
// has the marker bit, updates grow the duration, and the final one (E bit) is
// sent three times.
//
// telephone_event_decoder turns one SSRC's packets into `begin` and `end`
// notifications, each exactly once per event, whatever the network does:
//  - The first packet seen with a new timestamp begins the event, marker or
//    not (a lost first packet just delays the begin to the next update).
//  - Packets repeating what is known (the redundant ends, retransmissions,
//    updates overtaken by a longer one) change nothing and are counted as
//    duplicates, as are packets older than the current event and any packet
//    of an event that has already ended.
//  - The end comes from the first E packet. When every end is lost, the event
//    ends with the last duration heard (a) `timeout_intervals` update
//    intervals after its last packet, repeats included (checked on push() and
//    poll(); the interval is the last duration step seen, steps to the 0xFFFF
//    cap excepted, clamped to 20..1000 ms, and `default_update_interval_ms`
//    until one is seen: 5 x 50 ms = 250 ms by default), or (b) as soon as a
//    packet of a later event arrives
//    (`superseded`), whichever happens first.
//  - Long events (RFC 4733 §2.5.1.3): when the 16-bit duration would overflow,
//    the sender starts a new segment with timestamp = previous + 0xFFFF. A
//    packet is taken as the next segment of the current event when it has the
//    same event code, the event has not ended, and its timestamp is 0xFFFF
//    (give or take one update interval) after the current segment's and no
//    earlier than the duration already reported. Durations add up over
//    segments; `begin` is not repeated.
//  - Packets whose timestamp is older than the current event's (serial
//    number arithmetic) are stale, except when nothing was accepted for
//    `late_packet_window_ms`: then the timestamp base is taken to have
//    restarted (or wrapped after hours of silence) and the packet begins a
//    new event.
//  - Once ended, an event never restarts; a sender that keeps updating it
//    after our timeout only produces duplicates.
// The decoder keeps no packet history: O(1) state, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "tutti/config.hpp"
#include "tutti/rtp.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// Bytes of one event block.
inline constexpr std::size_t telephone_event_payload_bytes = 4;
/// Event code of a hook flash (RFC 4733 §3.2).
inline constexpr std::uint8_t telephone_event_flash = 16;
/// Highest volume value (-dBm0, 6 bits).
inline constexpr std::uint8_t telephone_event_max_volume = 63;
/// Longest duration one packet (one segment) can carry, in RTP clock units.
inline constexpr std::uint32_t telephone_event_max_segment = 0xFFFF;

/// One event block.
struct telephone_event_payload {
    std::uint8_t event = 0;      ///< event code: 0-9, 10 '*', 11 '#', 12-15 'A'-'D', 16 flash, ...
    bool end = false;            ///< E bit: this packet reports the final duration
    std::uint8_t volume = 0;     ///< 0..63, power level in -dBm0 (DTMF); 0 for events without one
    std::uint16_t duration = 0;  ///< since the segment's timestamp, in RTP clock units

    friend constexpr bool operator==(const telephone_event_payload&, const telephone_event_payload&) = default;
};

/// Reads the first event block of `payload`. Bytes after it (RFC 4733 §2.5.1.5
/// multiple-event packets, RFC 2198 redundancy is not unwrapped here) are
/// ignored; the reserved R bit is ignored. Returns ok or truncated (fewer than
/// 4 bytes; `out` unchanged). [any-thread]
[[nodiscard]] status parse_telephone_event(std::span<const std::uint8_t> payload, telephone_event_payload& out) noexcept;

/// Writes `event` as 4 bytes. Returns 4, or invalid_argument (volume > 63),
/// buffer_too_small. [any-thread]
[[nodiscard]] std::ptrdiff_t write_telephone_event(const telephone_event_payload& event,
                                                   std::span<std::uint8_t> out) noexcept;

/// The key of a DTMF event code: '0'..'9', '*', '#', 'A'..'D' for 0..15; '!'
/// for flash (16, as application/dtmf-relay writes it); '\0' for any other
/// code. [any-thread]
constexpr char telephone_event_char(std::uint8_t event) noexcept {
    constexpr char keys[] = "0123456789*#ABCD!";
    return event <= telephone_event_flash ? keys[event] : '\0';
}
/// The event code of a key (inverse of telephone_event_char; 'a'..'d'
/// accepted too), or -1. [any-thread]
constexpr int telephone_event_code(char key) noexcept {
    if (key >= '0' && key <= '9') return key - '0';
    if (key >= 'A' && key <= 'D') return 12 + (key - 'A');
    if (key >= 'a' && key <= 'd') return 12 + (key - 'a');
    if (key == '*') return 10;
    if (key == '#') return 11;
    if (key == '!') return telephone_event_flash;
    return -1;
}

/// What a notification reports.
enum class telephone_event_kind : std::uint8_t { begin, end };

/// Why an event ended.
enum class telephone_event_end_reason : std::uint8_t {
    none,        ///< (a begin notification)
    end_bit,     ///< a packet with the E bit arrived
    timeout,     ///< no packet of the event for timeout_intervals update intervals
    superseded,  ///< a packet of a later event arrived first
};

/// One begin or end, for the host.
struct telephone_event_notification {
    telephone_event_kind kind = telephone_event_kind::begin;
    std::uint8_t event = 0;          ///< event code
    char key = '\0';                 ///< telephone_event_char(event)
    std::uint8_t volume = 0;         ///< latest volume heard
    std::uint32_t rtp_timestamp = 0; ///< the event's start (its first segment's timestamp)
    /// end: total duration over all segments, in RTP clock units; begin: 0.
    std::uint64_t duration = 0;
    /// end: `duration` in ms, rounded to nearest; begin: 0.
    std::uint32_t duration_ms = 0;
    telephone_event_end_reason reason = telephone_event_end_reason::none;  ///< end only

    friend constexpr bool operator==(const telephone_event_notification&, const telephone_event_notification&) = default;
};

/// Most notifications one push() can produce (end of the previous event,
/// begin and end of the new one).
inline constexpr std::size_t telephone_event_max_notifications = 3;

/// Settings of a telephone_event_decoder.
struct telephone_event_decoder_config {
    std::uint32_t clock_rate_hz = 8000;            ///< rate of the telephone-event rtpmap (0 is taken as 8000)
    std::uint32_t default_update_interval_ms = 50; ///< assumed update interval until one is measured (RFC 4733 suggests 50)
    std::uint32_t timeout_intervals = 5;           ///< update intervals without a packet before an event ends by timeout
    std::uint32_t late_packet_window_ms = 1000;    ///< how long an older timestamp counts as a late packet, not a restart
};

/// Counters of a telephone_event_decoder.
struct telephone_event_counters {
    std::uint64_t packets = 0;          ///< packets pushed that parsed
    std::uint64_t malformed = 0;        ///< packets refused (payload under 4 bytes)
    std::uint64_t events = 0;           ///< begin notifications (= events)
    std::uint64_t duplicates = 0;       ///< packets dropped as repeats, stale or late
    std::uint64_t segments = 0;         ///< long-event segments joined to their event
    std::uint64_t ends_by_timeout = 0;  ///< events ended by timeout
    std::uint64_t ends_superseded = 0;  ///< events ended by a later event's packet
};

/// Turns one SSRC's RFC 4733 packets into begin/end notifications (rules in
/// the file comment). Create one per incoming SSRC that negotiated
/// telephone-event, and reset() it when the SSRC changes. Times are the
/// host's monotonic clock in µs (any origin, never going back).
/// Never allocates, locks, logs or throws. [one thread at a time]
class telephone_event_decoder {
public:
    explicit telephone_event_decoder(const telephone_event_decoder_config& config = {}) noexcept;

    /// Handles one telephone-event packet: its RTP timestamp and payload,
    /// arriving at `now_us`. Writes 0..3 notifications to `out` in the order
    /// they happened and returns their count, or a negative status:
    /// buffer_too_small (out holds fewer than telephone_event_max_notifications)
    /// or truncated (payload under 4 bytes; counted as malformed). Nothing else
    /// happens on an error, not even the timeout check (poll() does that).
    [[nodiscard]] std::ptrdiff_t push(std::uint32_t rtp_timestamp, std::span<const std::uint8_t> payload,
                                      std::uint64_t now_us, std::span<telephone_event_notification> out) noexcept;

    /// push() for a parsed packet (the caller has checked its payload type).
    [[nodiscard]] std::ptrdiff_t push(const rtp_packet_view& packet, std::uint64_t now_us,
                                      std::span<telephone_event_notification> out) noexcept {
        return push(packet.timestamp(), packet.payload(), now_us, out);
    }

    /// Ends the current event if its timeout has passed at `now_us`. Returns
    /// the number of notifications written (0 or 1), or buffer_too_small when
    /// `out` is empty. Call it at least every few tens of ms while active()
    /// (the tick is fine), or when timeout_at_us() is reached.
    [[nodiscard]] std::ptrdiff_t poll(std::uint64_t now_us, std::span<telephone_event_notification> out) noexcept;

    /// True between an event's begin and its end.
    bool active() const noexcept { return active_; }
    /// When the current event will time out (µs, host clock), or nullopt when none is active.
    std::optional<std::uint64_t> timeout_at_us() const noexcept;
    /// Counters since creation (reset() keeps them).
    const telephone_event_counters& counters() const noexcept { return counters_; }
    /// Forgets the current event without reporting its end (new SSRC, call
    /// teardown). Counters are kept.
    void reset() noexcept;

private:
    std::uint64_t timeout_us() const noexcept;
    telephone_event_notification make(telephone_event_kind kind, telephone_event_end_reason reason) const noexcept;
    telephone_event_notification finish(telephone_event_end_reason reason) noexcept;
    void start(std::uint32_t rtp_timestamp, const telephone_event_payload& ev, std::uint64_t now_us) noexcept;

    telephone_event_decoder_config config_;
    telephone_event_counters counters_;
    bool seen_ = false;     // an event was ever started (since reset)
    bool active_ = false;   // begun, not ended
    std::uint8_t event_ = 0;
    std::uint8_t volume_ = 0;
    std::uint32_t first_ts_ = 0;     // start of the event (first segment)
    std::uint32_t segment_ts_ = 0;   // start of the current segment
    std::uint64_t base_ = 0;         // duration of completed segments
    std::uint16_t segment_duration_ = 0;  // largest duration heard in the current segment
    std::uint32_t interval_ = 0;     // last duration step, RTP clock units (0: none yet)
    std::uint64_t last_us_ = 0;      // arrival of the last accepted packet
};

TUTTI_END_NAMESPACE
