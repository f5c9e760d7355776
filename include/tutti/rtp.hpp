// tutti/rtp.hpp: RTP packets (RFC 3550), their header extensions (RFC 8285)
// and the client-to-mixer audio level (RFC 6464).
//
// Flow position: **RTP in** (parse_rtp) -> jitter buffer -> decoder ->
// resampler -> mixer -> encoder -> packetizer (rtp_packetizer.hpp, built on
// write_rtp) -> **RTP out**.
//
// parse_rtp() checks a datagram and describes it with an `rtp_packet_view`:
// a few offsets into the caller's bytes, nothing copied. Every length field is
// checked against the datagram before it is used, so a view only ever points
// inside the bytes it was made from. Checks run in this order and the first
// failure is the reason reported:
//   1. empty datagram                                  -> empty_packet
//   2. version field (top two bits) is not 2           -> bad_version
//      (STUN, DTLS and ZRTP multiplexed on the port, RFC 7983, land here)
//   3. second byte 192..223: RTCP, RFC 5761 §4         -> rtcp
//   4. fewer than the 12 fixed header bytes            -> too_short
//   5. the CSRC list runs past the end                 -> csrc_overrun
//   6. X bit: the 4-byte extension header or the
//      block its length announces runs past the end    -> extension_overrun
//   7. an RFC 8285 element (one-byte 0xBEDE or
//      two-byte 0x100X profile) runs past its block    -> extension_element_overrun
//   8. P bit: the pad count (last byte) is 0, or more
//      than the bytes after the headers                -> bad_padding
// Choices made where the RFCs leave room:
//  - The RTCP test takes the whole range RFC 5761 reserves (packet types
//    192..223, i.e. RTP payload types 64..95 with the marker bit), not just
//    SR..APP (200..204): reduced-size RTCP (RFC 5506) starts with RTPFB/PSFB
//    (205/206), and hosts muxing RTP/RTCP must route those too. The writer
//    refuses to produce such a packet for the same reason.
//  - A packet with an empty payload is valid (a header alone, or padding
//    alone as bandwidth probes send): what to do with it is the caller's call.
//  - A malformed extension element rejects the packet, as the other length
//    errors do: the bytes cannot be trusted, and it lets find_extension() and
//    the element iterator work on a block already known to be sound.
//  - In the one-byte form an element whose ID nibble is 0 is one byte of
//    padding whatever its low nibble (RFC 8285 says padding bytes are 0; being
//    lenient costs nothing), and ID 15 ends the block (RFC 8285 §4.2): bytes
//    after it are neither checked nor reported.
//  - Extensions with other profiles are kept opaque: extension_profile() and
//    extension_data() give them, extensions() is empty.
//
// Nothing here allocates, throws, logs or keeps state: every function is
// [any-thread], and a view may be read from any thread while its bytes live.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

#include "tutti/config.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// The RTP version this library speaks (RFC 3550 §5.1).
inline constexpr std::uint8_t rtp_version = 2;
/// Size of the fixed RTP header, in bytes.
inline constexpr std::size_t rtp_fixed_header_bytes = 12;
/// Most CSRCs one packet can list (4-bit CC field).
inline constexpr std::size_t rtp_max_csrcs = 15;
/// Highest RTP payload type (7 bits).
inline constexpr std::uint8_t rtp_max_payload_type = 127;
/// Extension profile of the RFC 8285 one-byte header form.
inline constexpr std::uint16_t rtp_one_byte_profile = 0xBEDE;
/// Extension profile of the RFC 8285 two-byte header form; the low 4 bits
/// ("appbits") are free for the application.
inline constexpr std::uint16_t rtp_two_byte_profile = 0x1000;
/// The a=extmap URI of the RFC 6464 client-to-mixer audio level.
inline constexpr std::string_view rtp_audio_level_uri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

/// True when a second header byte of `second_byte` marks RTCP rather than RTP
/// (RFC 5761 §4: RTCP packet types 192..223). [any-thread]
constexpr bool rtp_is_rtcp_byte(std::uint8_t second_byte) noexcept { return second_byte >= 192 && second_byte <= 223; }

/// Why parse_rtp() refused a datagram (see the file comment for the order in
/// which the checks run). The numbers index rtp_parse_counters::rejected.
enum class rtp_parse_result : std::uint8_t {
    ok = 0,                     ///< a valid RTP packet; the view is filled
    empty_packet,               ///< zero bytes
    bad_version,                ///< version field is not 2
    rtcp,                       ///< an RTCP packet (RFC 5761 demultiplexing): route it to RTCP
    too_short,                  ///< fewer than 12 bytes
    csrc_overrun,               ///< the CC field announces more CSRCs than the bytes hold
    extension_overrun,          ///< the extension header or its announced length runs past the end
    extension_element_overrun,  ///< an RFC 8285 element's length runs past the extension block
    bad_padding,                ///< P bit set but the pad count is 0 or larger than the bytes after the headers
};
/// Number of rtp_parse_result values (ok included).
inline constexpr std::size_t rtp_parse_result_count = 9;

/// A short static name of `r` ("csrc_overrun"). Never null. [any-thread]
constexpr const char* to_string(rtp_parse_result r) noexcept {
    switch (r) {
        case rtp_parse_result::ok: return "ok";
        case rtp_parse_result::empty_packet: return "empty_packet";
        case rtp_parse_result::bad_version: return "bad_version";
        case rtp_parse_result::rtcp: return "rtcp";
        case rtp_parse_result::too_short: return "too_short";
        case rtp_parse_result::csrc_overrun: return "csrc_overrun";
        case rtp_parse_result::extension_overrun: return "extension_overrun";
        case rtp_parse_result::extension_element_overrun: return "extension_element_overrun";
        case rtp_parse_result::bad_padding: return "bad_padding";
    }
    return "unknown";
}

/// The library-wide status for `r`: ok; truncated for the length overruns and
/// short packets; unsupported for rtcp (valid, just not RTP); malformed for the
/// rest. [any-thread]
constexpr status to_status(rtp_parse_result r) noexcept {
    switch (r) {
        case rtp_parse_result::ok: return status::ok;
        case rtp_parse_result::rtcp: return status::unsupported;
        case rtp_parse_result::empty_packet:
        case rtp_parse_result::too_short:
        case rtp_parse_result::csrc_overrun:
        case rtp_parse_result::extension_overrun:
        case rtp_parse_result::extension_element_overrun: return status::truncated;
        case rtp_parse_result::bad_version:
        case rtp_parse_result::bad_padding: return status::malformed;
    }
    return status::malformed;
}

/// Per-stream (or per-socket) parse statistics a host can keep beside its
/// sockets. Plain counters, no synchronisation: one thread updates them.
struct rtp_parse_counters {
    std::uint64_t parsed = 0;  ///< datagrams accepted as RTP
    /// Datagrams refused, indexed by rtp_parse_result; rejected[0] (ok) stays 0.
    std::array<std::uint64_t, rtp_parse_result_count> rejected{};

    /// Counts one parse_rtp() outcome.
    constexpr void record(rtp_parse_result r) noexcept {
        if (r == rtp_parse_result::ok)
            ++parsed;
        else if (static_cast<std::size_t>(r) < rejected.size())
            ++rejected[static_cast<std::size_t>(r)];
    }
    /// Datagrams refused for `r`.
    constexpr std::uint64_t count(rtp_parse_result r) const noexcept {
        return r == rtp_parse_result::ok ? parsed : rejected[static_cast<std::size_t>(r)];
    }
    /// Datagrams refused for any reason.
    constexpr std::uint64_t rejected_total() const noexcept {
        std::uint64_t n = 0;
        for (std::uint64_t c : rejected) n += c;
        return n;
    }
};

/// The layout of a packet's header extension block.
enum class rtp_extension_form : std::uint8_t {
    none,      ///< no X bit
    one_byte,  ///< RFC 8285 profile 0xBEDE: IDs 1..14, 1..16 data bytes each
    two_byte,  ///< RFC 8285 profile 0x100X: IDs 1..255, 0..255 data bytes each
    other,     ///< any other profile: opaque bytes (extension_data())
};

/// One RFC 8285 extension element. In a view `data` points into the packet;
/// given to write_rtp() it points at the caller's bytes (only read during the call).
struct rtp_extension_element {
    std::uint8_t id = 0;                  ///< local identifier from a=extmap (1..14 one-byte, 1..255 two-byte)
    std::span<const std::uint8_t> data;  ///< element bytes (1..16 one-byte form, 0..255 two-byte form)
};

namespace detail {

constexpr std::uint16_t load_be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
constexpr std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

/// Outcome of one step through an RFC 8285 block.
enum class extension_step : std::uint8_t { element, end, overrun };

/// Finds the element at or after `pos` in `block` (skipping padding), stores
/// it in `out` and moves `pos` past it. At the end of the block, or at a
/// one-byte ID 15, returns end with pos == block.size(). Never reads past
/// `block`; an element that would is `overrun` (pos unchanged).
constexpr extension_step next_extension(std::span<const std::uint8_t> block, rtp_extension_form form,
                                        std::size_t& pos, rtp_extension_element& out) noexcept {
    const std::size_t size = block.size();
    while (pos < size) {
        const std::uint8_t b = block[pos];
        if (form == rtp_extension_form::one_byte) {
            const auto id = static_cast<std::uint8_t>(b >> 4);
            if (id == 0) {  // padding
                ++pos;
                continue;
            }
            if (id == 15) break;  // reserved: stop processing the block
            const std::size_t len = std::size_t{b & 0x0Fu} + 1;
            if (len > size - pos - 1) return extension_step::overrun;
            out = {id, block.subspan(pos + 1, len)};
            pos += 1 + len;
            return extension_step::element;
        }
        if (b == 0) {  // two-byte form padding
            ++pos;
            continue;
        }
        if (size - pos < 2) return extension_step::overrun;
        const std::size_t len = block[pos + 1];
        if (len > size - pos - 2) return extension_step::overrun;
        out = {b, block.subspan(pos + 2, len)};
        pos += 2 + len;
        return extension_step::element;
    }
    pos = size;
    return extension_step::end;
}

}  // namespace detail

/// Forward iterator over the RFC 8285 elements of a parsed packet, padding
/// skipped, in wire order. Ends at std::default_sentinel. Dereferencing gives
/// an element by value (a C++20 forward iterator; a legacy input iterator).
class rtp_extension_iterator {
public:
    using value_type = rtp_extension_element;
    using difference_type = std::ptrdiff_t;
    using reference = rtp_extension_element;
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;

    constexpr rtp_extension_iterator() noexcept = default;
    constexpr rtp_extension_iterator(std::span<const std::uint8_t> block, rtp_extension_form form) noexcept
        : block_(block), form_(form) {
        advance();
    }
    constexpr rtp_extension_element operator*() const noexcept { return current_; }
    constexpr rtp_extension_iterator& operator++() noexcept {
        advance();
        return *this;
    }
    constexpr rtp_extension_iterator operator++(int) noexcept {
        rtp_extension_iterator old = *this;
        advance();
        return old;
    }
    constexpr bool operator==(std::default_sentinel_t) const noexcept { return done_; }
    friend constexpr bool operator==(const rtp_extension_iterator& a, const rtp_extension_iterator& b) noexcept {
        return a.done_ == b.done_ && (a.done_ || (a.block_.data() == b.block_.data() && a.pos_ == b.pos_));
    }

private:
    constexpr void advance() noexcept {
        if (form_ != rtp_extension_form::one_byte && form_ != rtp_extension_form::two_byte) {
            done_ = true;
            return;
        }
        done_ = detail::next_extension(block_, form_, pos_, current_) != detail::extension_step::element;
    }
    std::span<const std::uint8_t> block_;
    rtp_extension_form form_ = rtp_extension_form::none;
    std::size_t pos_ = 0;
    rtp_extension_element current_;
    bool done_ = true;
};

/// The elements of one packet, for range-for.
class rtp_extension_range {
public:
    constexpr rtp_extension_range(std::span<const std::uint8_t> block, rtp_extension_form form) noexcept
        : block_(block), form_(form) {}
    constexpr rtp_extension_iterator begin() const noexcept { return {block_, form_}; }
    constexpr std::default_sentinel_t end() const noexcept { return {}; }

private:
    std::span<const std::uint8_t> block_;
    rtp_extension_form form_;
};

/// The RTP header fields write_rtp() takes and rtp_packet_view::header() gives
/// back (header extensions travel separately as rtp_extension_element lists).
struct rtp_header_fields {
    bool marker = false;            ///< M bit (audio: first packet of a talkspurt, RFC 3551 §4.1)
    std::uint8_t payload_type = 0;  ///< 0..127
    std::uint16_t sequence = 0;     ///< +1 per packet, wrapping
    std::uint32_t timestamp = 0;    ///< sampling instant of the first payload sample, in RTP clock units
    std::uint32_t ssrc = 0;         ///< synchronisation source
    std::uint8_t csrc_count = 0;    ///< 0..15 entries of `csrcs` in use
    /// Contributing sources (a mixer lists the SSRCs it mixed). Entries past
    /// csrc_count are ignored by write_rtp() and zero in header().
    std::array<std::uint32_t, rtp_max_csrcs> csrcs{};

    friend constexpr bool operator==(const rtp_header_fields&, const rtp_header_fields&) = default;
};

/// A parsed RTP packet: offsets into the caller's bytes. It owns nothing and
/// is valid while those bytes are alive and unchanged. Default-constructed, it
/// describes no packet (every accessor returns zero or empty). Cheap to copy.
/// [any-thread]
class rtp_packet_view {
public:
    constexpr rtp_packet_view() noexcept = default;

    /// The whole datagram this view was parsed from.
    constexpr std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
    /// M bit.
    constexpr bool marker() const noexcept { return !bytes_.empty() && (bytes_[1] & 0x80) != 0; }
    /// Payload type, 0..127.
    constexpr std::uint8_t payload_type() const noexcept {
        return bytes_.empty() ? std::uint8_t{0} : static_cast<std::uint8_t>(bytes_[1] & 0x7F);
    }
    /// Sequence number.
    constexpr std::uint16_t sequence() const noexcept { return bytes_.empty() ? std::uint16_t{0} : detail::load_be16(&bytes_[2]); }
    /// Timestamp, in RTP clock units.
    constexpr std::uint32_t timestamp() const noexcept { return bytes_.empty() ? 0u : detail::load_be32(&bytes_[4]); }
    /// Synchronisation source.
    constexpr std::uint32_t ssrc() const noexcept { return bytes_.empty() ? 0u : detail::load_be32(&bytes_[8]); }
    /// Number of CSRCs, 0..15.
    constexpr std::size_t csrc_count() const noexcept { return bytes_.empty() ? 0 : std::size_t{bytes_[0] & 0x0Fu}; }
    /// CSRC `i` (i < csrc_count(); 0 otherwise).
    constexpr std::uint32_t csrc(std::size_t i) const noexcept {
        return i < csrc_count() ? detail::load_be32(&bytes_[rtp_fixed_header_bytes + 4 * i]) : 0u;
    }
    /// P bit.
    constexpr bool has_padding() const noexcept { return !bytes_.empty() && (bytes_[0] & 0x20) != 0; }
    /// Padding bytes at the end, the count byte included (0 without P bit).
    constexpr std::size_t padding_bytes() const noexcept { return padding_; }
    /// X bit.
    constexpr bool has_extension() const noexcept { return !bytes_.empty() && (bytes_[0] & 0x10) != 0; }
    /// The 16-bit "defined by profile" field of the extension header (0 without X bit).
    constexpr std::uint16_t extension_profile() const noexcept {
        return has_extension() ? detail::load_be16(&bytes_[ext_offset_ - 4]) : std::uint16_t{0};
    }
    /// How the extension block is laid out.
    constexpr rtp_extension_form extension_form() const noexcept {
        if (!has_extension()) return rtp_extension_form::none;
        const std::uint16_t profile = extension_profile();
        if (profile == rtp_one_byte_profile) return rtp_extension_form::one_byte;
        if ((profile & 0xFFF0u) == rtp_two_byte_profile) return rtp_extension_form::two_byte;
        return rtp_extension_form::other;
    }
    /// The 4 "appbits" of a two-byte-form profile (0 for other forms).
    constexpr std::uint8_t extension_appbits() const noexcept {
        return extension_form() == rtp_extension_form::two_byte ? static_cast<std::uint8_t>(extension_profile() & 0x0F)
                                                                  : std::uint8_t{0};
    }
    /// The extension block after its 4-byte header (length * 4 bytes; empty without X bit).
    constexpr std::span<const std::uint8_t> extension_data() const noexcept { return bytes_.subspan(ext_offset_, ext_bytes_); }
    /// RFC 8285 elements in wire order (empty for form none or other).
    constexpr rtp_extension_range extensions() const noexcept { return {extension_data(), extension_form()}; }
    /// Data of the first element with `id`, or nullopt (also for id 0, and for
    /// 15 in the one-byte form). An element may be present with empty data
    /// (two-byte form), which is not nullopt.
    constexpr std::optional<std::span<const std::uint8_t>> find_extension(std::uint8_t id) const noexcept {
        if (id == 0) return std::nullopt;
        for (rtp_extension_element e : extensions())
            if (e.id == id) return e.data;
        return std::nullopt;
    }
    /// The payload: after the headers, before the padding. May be empty.
    constexpr std::span<const std::uint8_t> payload() const noexcept { return bytes_.subspan(payload_offset_, payload_bytes_); }
    /// Size of fixed header + CSRCs + extension (where the payload starts), in bytes.
    constexpr std::size_t header_bytes() const noexcept { return payload_offset_; }
    /// The header fields, for write_rtp() or comparison.
    constexpr rtp_header_fields header() const noexcept {
        rtp_header_fields h;
        h.marker = marker();
        h.payload_type = payload_type();
        h.sequence = sequence();
        h.timestamp = timestamp();
        h.ssrc = ssrc();
        h.csrc_count = static_cast<std::uint8_t>(csrc_count());
        for (std::size_t i = 0; i < csrc_count(); ++i) h.csrcs[i] = csrc(i);
        return h;
    }

private:
    friend rtp_parse_result parse_rtp(std::span<const std::uint8_t> bytes, rtp_packet_view& out) noexcept;

    std::span<const std::uint8_t> bytes_;
    std::size_t ext_offset_ = 0;  // start of the extension data (after its 4-byte header)
    std::size_t ext_bytes_ = 0;
    std::size_t payload_offset_ = 0;
    std::size_t payload_bytes_ = 0;
    std::size_t padding_ = 0;
};

/// Checks `bytes` as one RTP packet and, on ok, describes it in `out` (which
/// then points into `bytes`). On any other result `out` is left unchanged.
/// Reads only inside `bytes`. [any-thread]
[[nodiscard]] rtp_parse_result parse_rtp(std::span<const std::uint8_t> bytes, rtp_packet_view& out) noexcept;

/// parse_rtp(), also counting the outcome in `counters`. [thread of `counters`]
[[nodiscard]] inline rtp_parse_result parse_rtp(std::span<const std::uint8_t> bytes, rtp_packet_view& out,
                                                rtp_parse_counters& counters) noexcept {
    const rtp_parse_result r = parse_rtp(bytes, out);
    counters.record(r);
    return r;
}

/// Options of write_rtp().
struct rtp_write_options {
    /// When 2..256, RTP padding (P bit) makes the packet size a multiple of
    /// this many bytes (no padding when it already is). 0 or 1: no padding.
    std::size_t pad_to_multiple = 0;
    /// Use the two-byte extension form even when every element fits the
    /// one-byte form (a peer that negotiated only extmap-allow-mixed, tests).
    bool force_two_byte = false;
    /// Appbits (0..15) of the two-byte form profile.
    std::uint8_t two_byte_appbits = 0;
};

/// Writes one RTP packet into `out`: header, CSRCs, the RFC 8285 elements
/// `exts` (none: no X bit), `payload`, then padding if asked. The one-byte
/// form is used when every element has ID 1..14 and 1..16 data bytes, else the
/// two-byte form; the block is zero-padded to whole 32-bit words. `payload`
/// may overlap `out` (it is moved before the header is written); element data
/// must not.
/// Returns the packet size in bytes, or a negative status: invalid_argument
/// (payload type > 127, csrc_count > 15, an element with ID 0 or more than 255
/// data bytes, an extension block over 65535 words, pad_to_multiple > 256,
/// appbits > 15, or marker with payload type 64..95, which receivers would take
/// for RTCP); buffer_too_small (nothing is written then). [any-thread]
[[nodiscard]] std::ptrdiff_t write_rtp(const rtp_header_fields& header, std::span<const rtp_extension_element> exts,
                                       std::span<const std::uint8_t> payload, std::span<std::uint8_t> out,
                                       const rtp_write_options& options = {}) noexcept;

// ---------------------------------------------------------------------------
// RFC 6464 client-to-mixer audio level

/// The RFC 6464 audio level of one packet.
struct rtp_audio_level {
    bool voice = false;        ///< V flag: the sender's voice activity detector says speech
    std::uint8_t level = 127;  ///< -dBov, 0 (loudest, overload) .. 127 (silence); see rfc6464_level() in kernels.hpp

    friend constexpr bool operator==(const rtp_audio_level&, const rtp_audio_level&) = default;
};

/// The one data byte of the extension: V in bit 7, level in bits 0..6
/// (levels above 127 are clamped to 127). [any-thread]
constexpr std::uint8_t encode_audio_level(rtp_audio_level a) noexcept {
    const std::uint8_t level = a.level > 127 ? std::uint8_t{127} : a.level;
    return static_cast<std::uint8_t>((a.voice ? 0x80 : 0x00) | level);
}
/// The audio level carried by extension byte `b`. [any-thread]
constexpr rtp_audio_level decode_audio_level(std::uint8_t b) noexcept {
    return {(b & 0x80) != 0, static_cast<std::uint8_t>(b & 0x7F)};
}
/// The audio level of `packet` under the negotiated extension ID `id` (from
/// `a=extmap:<id> urn:ietf:params:rtp-hdrext:ssrc-audio-level`), or nullopt
/// when the packet carries no such element or it has no data byte. Extra data
/// bytes (the two-byte form may pad the element) are ignored. [any-thread]
constexpr std::optional<rtp_audio_level> find_audio_level(const rtp_packet_view& packet, std::uint8_t id) noexcept {
    const auto data = packet.find_extension(id);
    if (!data || data->empty()) return std::nullopt;
    return decode_audio_level((*data)[0]);
}

TUTTI_END_NAMESPACE
