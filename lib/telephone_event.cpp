// RFC 4733 telephone-event payloads and the per-SSRC event decoder. Rules: telephone_event.hpp.
#include "tutti/telephone_event.hpp"

#include <algorithm>

TUTTI_BEGIN_NAMESPACE

status parse_telephone_event(std::span<const std::uint8_t> payload, telephone_event_payload& out) noexcept {
    if (payload.size() < telephone_event_payload_bytes) return status::truncated;
    out.event = payload[0];
    out.end = (payload[1] & 0x80) != 0;
    out.volume = static_cast<std::uint8_t>(payload[1] & 0x3F);
    out.duration = detail::load_be16(&payload[2]);
    return status::ok;
}

std::ptrdiff_t write_telephone_event(const telephone_event_payload& event, std::span<std::uint8_t> out) noexcept {
    if (event.volume > telephone_event_max_volume) return as_count(status::invalid_argument);
    if (out.size() < telephone_event_payload_bytes) return as_count(status::buffer_too_small);
    out[0] = event.event;
    out[1] = static_cast<std::uint8_t>((event.end ? 0x80 : 0x00) | event.volume);
    out[2] = static_cast<std::uint8_t>(event.duration >> 8);
    out[3] = static_cast<std::uint8_t>(event.duration);
    return static_cast<std::ptrdiff_t>(telephone_event_payload_bytes);
}

telephone_event_decoder::telephone_event_decoder(const telephone_event_decoder_config& config) noexcept : config_(config) {
    if (config_.clock_rate_hz == 0) config_.clock_rate_hz = 8000;
    if (config_.timeout_intervals == 0) config_.timeout_intervals = 1;
}

void telephone_event_decoder::reset() noexcept {
    seen_ = false;
    active_ = false;
    base_ = 0;
    segment_duration_ = 0;
    interval_ = 0;
}

std::uint64_t telephone_event_decoder::timeout_us() const noexcept {
    const std::uint64_t interval_us = interval_ != 0 ? std::uint64_t{interval_} * 1000000u / config_.clock_rate_hz
                                                     : std::uint64_t{config_.default_update_interval_ms} * 1000u;
    return config_.timeout_intervals * std::clamp<std::uint64_t>(interval_us, 20000u, 1000000u);
}

std::optional<std::uint64_t> telephone_event_decoder::timeout_at_us() const noexcept {
    if (!active_) return std::nullopt;
    return last_us_ + timeout_us();
}

telephone_event_notification telephone_event_decoder::make(telephone_event_kind kind,
                                                           telephone_event_end_reason reason) const noexcept {
    telephone_event_notification n;
    n.kind = kind;
    n.event = event_;
    n.key = telephone_event_char(event_);
    n.volume = volume_;
    n.rtp_timestamp = first_ts_;
    n.reason = reason;
    if (kind == telephone_event_kind::end) {
        n.duration = base_ + segment_duration_;
        const std::uint64_t ms = (n.duration * 1000u + config_.clock_rate_hz / 2) / config_.clock_rate_hz;
        n.duration_ms = static_cast<std::uint32_t>(std::min<std::uint64_t>(ms, 0xFFFFFFFFu));
    }
    return n;
}

telephone_event_notification telephone_event_decoder::finish(telephone_event_end_reason reason) noexcept {
    active_ = false;
    if (reason == telephone_event_end_reason::timeout) ++counters_.ends_by_timeout;
    if (reason == telephone_event_end_reason::superseded) ++counters_.ends_superseded;
    return make(telephone_event_kind::end, reason);
}

void telephone_event_decoder::start(std::uint32_t rtp_timestamp, const telephone_event_payload& ev,
                                    std::uint64_t now_us) noexcept {
    seen_ = true;
    active_ = true;
    event_ = ev.event;
    volume_ = ev.volume;
    first_ts_ = rtp_timestamp;
    segment_ts_ = rtp_timestamp;
    base_ = 0;
    segment_duration_ = ev.duration;
    interval_ = 0;
    last_us_ = now_us;
    ++counters_.events;
}

std::ptrdiff_t telephone_event_decoder::push(std::uint32_t rtp_timestamp, std::span<const std::uint8_t> payload,
                                             std::uint64_t now_us, std::span<telephone_event_notification> out) noexcept {
    if (out.size() < telephone_event_max_notifications) return as_count(status::buffer_too_small);
    telephone_event_payload ev;
    if (parse_telephone_event(payload, ev) != status::ok) {
        ++counters_.malformed;
        return as_count(status::truncated);
    }
    ++counters_.packets;
    std::size_t n = 0;
    if (active_ && now_us >= last_us_ + timeout_us()) out[n++] = finish(telephone_event_end_reason::timeout);

    if (seen_) {
        // Serial number arithmetic: the sign of the 32-bit difference.
        const auto diff = static_cast<std::int32_t>(rtp_timestamp - segment_ts_);
        if (diff == 0) {
            if (!active_ || ev.event != event_) {
                ++counters_.duplicates;
                return static_cast<std::ptrdiff_t>(n);
            }
            last_us_ = now_us;  // even a repeat shows the sender still reports the event
            if (!ev.end && ev.duration <= segment_duration_) {
                ++counters_.duplicates;
                return static_cast<std::ptrdiff_t>(n);
            }
            if (ev.duration > segment_duration_) {
                // A step cut short by the 0xFFFF cap says nothing about the interval.
                if (ev.duration != telephone_event_max_segment) interval_ = ev.duration - segment_duration_;
                segment_duration_ = ev.duration;
            }
            volume_ = ev.volume;
            last_us_ = now_us;
            if (ev.end) out[n++] = finish(telephone_event_end_reason::end_bit);
            return static_cast<std::ptrdiff_t>(n);
        }
        if (diff < 0) {
            const bool restarted = !active_ && now_us >= last_us_ + std::uint64_t{config_.late_packet_window_ms} * 1000u;
            if (!restarted) {
                ++counters_.duplicates;
                return static_cast<std::ptrdiff_t>(n);
            }
        } else if (active_ && ev.event == event_) {
            // Next segment of a long event?
            const auto step = static_cast<std::uint32_t>(diff);
            const std::uint32_t tolerance =
                interval_ != 0 ? interval_
                               : static_cast<std::uint32_t>(std::uint64_t{config_.default_update_interval_ms} *
                                                            config_.clock_rate_hz / 1000u);
            if (step >= segment_duration_ && step <= telephone_event_max_segment + tolerance &&
                step + tolerance >= telephone_event_max_segment) {
                base_ += step;
                segment_ts_ = rtp_timestamp;
                segment_duration_ = ev.duration;
                volume_ = ev.volume;
                last_us_ = now_us;
                ++counters_.segments;
                if (ev.end) out[n++] = finish(telephone_event_end_reason::end_bit);
                return static_cast<std::ptrdiff_t>(n);
            }
        }
        if (active_) out[n++] = finish(telephone_event_end_reason::superseded);
    }
    start(rtp_timestamp, ev, now_us);
    out[n++] = make(telephone_event_kind::begin, telephone_event_end_reason::none);
    if (ev.end) out[n++] = finish(telephone_event_end_reason::end_bit);
    return static_cast<std::ptrdiff_t>(n);
}

std::ptrdiff_t telephone_event_decoder::poll(std::uint64_t now_us, std::span<telephone_event_notification> out) noexcept {
    if (out.empty()) return as_count(status::buffer_too_small);
    if (!active_ || now_us < last_us_ + timeout_us()) return 0;
    out[0] = finish(telephone_event_end_reason::timeout);
    return 1;
}

TUTTI_END_NAMESPACE
