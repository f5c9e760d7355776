// Outgoing RTP stream state: sequence numbers, timestamps, markers, RFC 4733 events. Rules: rtp_packetizer.hpp.
#include "tutti/rtp_packetizer.hpp"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>

#include "tutti/telephone_event.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

bool payload_type_usable(std::uint8_t pt) noexcept {
    return pt <= rtp_max_payload_type && !(pt >= 64 && pt <= 95);
}

std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

// Random bits for the starting values: the OS source when it works (it can
// throw where none exists), else something that at least differs per stream.
std::uint64_t entropy(const void* self) noexcept {
    try {
        std::random_device rd;
        return (std::uint64_t{rd()} << 32) ^ rd();
    } catch (...) {
        const auto t = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        return splitmix64(t ^ reinterpret_cast<std::uintptr_t>(self));
    }
}

constexpr std::size_t event_packet_bytes = rtp_fixed_header_bytes + telephone_event_payload_bytes;

}  // namespace

status rtp_packetizer::init(const rtp_packetizer_config& config) noexcept {
    if (!payload_type_usable(config.payload_type) || config.clock_rate_hz == 0) return status::invalid_argument;
    if (config.telephone_event_payload_type && !payload_type_usable(*config.telephone_event_payload_type))
        return status::invalid_argument;
    const std::uint64_t bits = config.seed ? splitmix64(*config.seed) : entropy(this);
    *this = rtp_packetizer{};
    ssrc_ = config.ssrc;
    payload_type_ = config.payload_type;
    clock_rate_hz_ = config.clock_rate_hz;
    audio_level_id_ = config.audio_level_id;
    event_payload_type_ = config.telephone_event_payload_type;
    // Below 32768 like libwebrtc: no wrap within the first 32768 packets, so an
    // SRTP receiver cannot misjudge its rollover counter when early packets are lost.
    sequence_ = config.initial_sequence.value_or(static_cast<std::uint16_t>(bits & 0x7FFF));
    timestamp_ = config.initial_timestamp.value_or(static_cast<std::uint32_t>(bits >> 32));
    marker_pending_ = true;
    ready_ = true;
    return status::ok;
}

std::ptrdiff_t rtp_packetizer::packetize(std::span<const std::uint8_t> payload, std::uint32_t duration,
                                         bool talkspurt_start, std::span<std::uint8_t> out,
                                         std::optional<rtp_audio_level> level,
                                         std::span<const std::uint32_t> csrcs) noexcept {
    if (!ready_ || payload.empty() || duration == 0 || csrcs.size() > rtp_max_csrcs)
        return as_count(status::invalid_argument);
    const bool marker = talkspurt_start || marker_pending_;
    if (csrcs.empty() && audio_level_id_ <= 14 && !(marker && rtp_is_rtcp_byte(static_cast<std::uint8_t>(0x80 | payload_type_)))) {
        // The common packet (no CSRC, at most the one-byte audio level), written
        // here: byte for byte what write_rtp() writes (tested), without its
        // general header and extension bookkeeping, for every packet of every
        // listener of a big room.
        const bool with_level = audio_level_id_ != 0 && level;
        const std::size_t header = rtp_fixed_header_bytes + (with_level ? 8 : 0);
        if (header + payload.size() > out.size()) return as_count(status::buffer_too_small);
        std::uint8_t* p = out.data();
        std::memmove(p + header, payload.data(), payload.size());  // (it may already sit inside `out`)
        p[0] = static_cast<std::uint8_t>(0x80 | (with_level ? 0x10 : 0x00));
        p[1] = static_cast<std::uint8_t>((marker ? 0x80 : 0x00) | payload_type_);
        const std::uint32_t ts = timestamp_, ssrc = ssrc_;
        const std::uint8_t fixed[10] = {static_cast<std::uint8_t>(sequence_ >> 8), static_cast<std::uint8_t>(sequence_),
                                        static_cast<std::uint8_t>(ts >> 24),       static_cast<std::uint8_t>(ts >> 16),
                                        static_cast<std::uint8_t>(ts >> 8),        static_cast<std::uint8_t>(ts),
                                        static_cast<std::uint8_t>(ssrc >> 24),     static_cast<std::uint8_t>(ssrc >> 16),
                                        static_cast<std::uint8_t>(ssrc >> 8),      static_cast<std::uint8_t>(ssrc)};
        std::memcpy(p + 2, fixed, sizeof fixed);
        if (with_level) {  // RFC 8285 one-byte profile 0xBEDE, one word: element (id, length 1), level, two bytes of padding
            const std::uint8_t ext[8] = {0xBE, 0xDE, 0x00, 0x01, static_cast<std::uint8_t>(audio_level_id_ << 4),
                                         encode_audio_level(*level), 0x00, 0x00};
            std::memcpy(p + rtp_fixed_header_bytes, ext, sizeof ext);
        }
        ++sequence_;
        timestamp_ += duration;
        marker_pending_ = false;
        ++packets_;
        octets_ += payload.size();
        return static_cast<std::ptrdiff_t>(header + payload.size());
    }
    rtp_header_fields h;
    h.marker = marker;
    h.payload_type = payload_type_;
    h.sequence = sequence_;
    h.timestamp = timestamp_;
    h.ssrc = ssrc_;
    h.csrc_count = static_cast<std::uint8_t>(csrcs.size());
    for (std::size_t i = 0; i < csrcs.size(); ++i) h.csrcs[i] = csrcs[i];

    std::uint8_t level_byte = 0;
    rtp_extension_element element;
    std::span<const rtp_extension_element> exts;
    if (audio_level_id_ != 0 && level) {
        level_byte = encode_audio_level(*level);
        element = {audio_level_id_, {&level_byte, 1}};
        exts = {&element, 1};
    }
    const std::ptrdiff_t n = write_rtp(h, exts, payload, out);
    if (n < 0) return n;
    ++sequence_;
    timestamp_ += duration;
    marker_pending_ = false;
    ++packets_;
    octets_ += payload.size();
    return n;
}

void rtp_packetizer::skip(std::uint32_t duration) noexcept {
    if (duration == 0) return;
    timestamp_ += duration;
    marker_pending_ = true;
}

status rtp_packetizer::set_payload_type(std::uint8_t payload_type) noexcept {
    if (!ready_ || !payload_type_usable(payload_type)) return status::invalid_argument;
    payload_type_ = payload_type;
    return status::ok;
}

status rtp_packetizer::set_clock_rate(std::uint32_t clock_rate_hz) noexcept {
    if (!ready_ || clock_rate_hz == 0 || event_active_) return status::invalid_argument;
    if (clock_rate_hz != clock_rate_hz_) marker_pending_ = true;
    clock_rate_hz_ = clock_rate_hz;
    return status::ok;
}

std::ptrdiff_t rtp_packetizer::write_event(std::uint32_t segment_duration, bool end, bool marker,
                                           std::span<std::uint8_t> out) noexcept {
    std::uint8_t payload[telephone_event_payload_bytes];
    telephone_event_payload ev;
    ev.event = event_code_;
    ev.end = end;
    ev.volume = event_volume_;
    ev.duration = static_cast<std::uint16_t>(segment_duration);
    if (write_telephone_event(ev, payload) < 0) return as_count(status::invalid_argument);
    rtp_header_fields h;
    h.marker = marker;
    h.payload_type = *event_payload_type_;
    h.sequence = sequence_;
    h.timestamp = segment_ts_;
    h.ssrc = ssrc_;
    const std::ptrdiff_t n = write_rtp(h, {}, payload, out);
    if (n < 0) return n;
    ++sequence_;
    ++packets_;
    octets_ += telephone_event_payload_bytes;
    return n;
}

std::ptrdiff_t rtp_packetizer::begin_event(std::uint8_t event, std::uint8_t volume, std::uint32_t duration,
                                           std::span<std::uint8_t> out) noexcept {
    if (!ready_) return as_count(status::invalid_argument);
    if (!event_payload_type_) return as_count(status::unsupported);
    if (volume > telephone_event_max_volume || event_active_ || duration > telephone_event_max_segment ||
        (event_started_ && timestamp_ == event_start_ts_))
        return as_count(status::invalid_argument);
    if (out.size() < event_packet_bytes) return as_count(status::buffer_too_small);
    event_active_ = true;
    event_started_ = true;
    event_code_ = event;
    event_volume_ = volume;
    event_start_ts_ = timestamp_;
    segment_ts_ = timestamp_;
    segment_base_ = 0;
    event_duration_ = duration;
    segment_end_copies_ = 0;
    end_repeats_ = 0;
    return write_event(duration, false, true, out);
}

std::ptrdiff_t rtp_packetizer::event_packet(std::uint32_t duration, bool end, std::span<std::uint8_t> out) noexcept {
    if (!ready_ || !event_active_ || duration < event_duration_) return as_count(status::invalid_argument);
    if (out.size() < event_packet_bytes) return as_count(status::buffer_too_small);
    event_duration_ = duration;
    constexpr std::uint32_t max = telephone_event_max_segment;

    // The current segment's 0xFFFF packet has been sent 3 times, or the event
    // ends beyond it: continue in the next segment.
    if (segment_end_copies_ > 0 && (end ? duration - segment_base_ > max : segment_end_copies_ >= 3)) {
        segment_base_ += max;
        segment_ts_ += max;
        segment_end_copies_ = 0;
    }
    if (end) {
        // Segments the caller never updated through are skipped silently: the
        // final packets carry the segment the end falls in.
        while (duration - segment_base_ > max) {
            segment_base_ += max;
            segment_ts_ += max;
        }
        event_active_ = false;
        end_duration_ = static_cast<std::uint16_t>(duration - segment_base_);
        end_repeats_ = 2;
        segment_end_copies_ = 0;
        return write_event(end_duration_, true, false, out);
    }
    if (segment_end_copies_ > 0 || duration - segment_base_ >= max) {
        ++segment_end_copies_;  // (first or repeated) final packet of this segment, no E bit
        return write_event(max, false, false, out);
    }
    return write_event(duration - segment_base_, false, false, out);
}

std::ptrdiff_t rtp_packetizer::update_event(std::uint32_t duration, std::span<std::uint8_t> out) noexcept {
    return event_packet(duration, false, out);
}

std::ptrdiff_t rtp_packetizer::end_event(std::uint32_t duration, std::span<std::uint8_t> out) noexcept {
    return event_packet(duration, true, out);
}

std::ptrdiff_t rtp_packetizer::repeat_event_end(std::span<std::uint8_t> out) noexcept {
    if (!ready_) return as_count(status::invalid_argument);
    if (end_repeats_ == 0) return 0;
    if (out.size() < event_packet_bytes) return as_count(status::buffer_too_small);
    const std::ptrdiff_t n = write_event(end_duration_, true, false, out);
    if (n > 0) --end_repeats_;
    return n;
}

TUTTI_END_NAMESPACE
