// RTP parsing and writing (RFC 3550, RFC 8285). Rules and order of checks: rtp.hpp.
#include "tutti/rtp.hpp"

#include <cstring>

TUTTI_BEGIN_NAMESPACE

namespace {

constexpr std::uint8_t bit_padding = 0x20;
constexpr std::uint8_t bit_extension = 0x10;

void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

rtp_parse_result parse_rtp(std::span<const std::uint8_t> bytes, rtp_packet_view& out) noexcept {
    const std::size_t size = bytes.size();
    if (size == 0) return rtp_parse_result::empty_packet;
    const std::uint8_t* p = bytes.data();
    if ((p[0] >> 6) != rtp_version) return rtp_parse_result::bad_version;
    if (size >= 2 && rtp_is_rtcp_byte(p[1])) return rtp_parse_result::rtcp;
    if (size < rtp_fixed_header_bytes) return rtp_parse_result::too_short;

    std::size_t pos = rtp_fixed_header_bytes + 4 * std::size_t{p[0] & 0x0Fu};
    if (pos > size) return rtp_parse_result::csrc_overrun;

    std::size_t ext_offset = 0;
    std::size_t ext_bytes = 0;
    if ((p[0] & bit_extension) != 0) {
        if (size - pos < 4) return rtp_parse_result::extension_overrun;
        ext_offset = pos + 4;
        ext_bytes = 4 * std::size_t{detail::load_be16(p + pos + 2)};
        if (ext_bytes > size - ext_offset) return rtp_parse_result::extension_overrun;
        pos = ext_offset + ext_bytes;

        const std::uint16_t profile = detail::load_be16(p + ext_offset - 4);
        const rtp_extension_form form = profile == rtp_one_byte_profile ? rtp_extension_form::one_byte
                                        : (profile & 0xFFF0u) == rtp_two_byte_profile ? rtp_extension_form::two_byte
                                                                                       : rtp_extension_form::other;
        if (form != rtp_extension_form::other) {
            const std::span<const std::uint8_t> block = bytes.subspan(ext_offset, ext_bytes);
            std::size_t at = 0;
            rtp_extension_element e;
            for (;;) {
                const detail::extension_step step = detail::next_extension(block, form, at, e);
                if (step == detail::extension_step::end) break;
                if (step == detail::extension_step::overrun) return rtp_parse_result::extension_element_overrun;
            }
        }
    }

    std::size_t padding = 0;
    if ((p[0] & bit_padding) != 0) {
        padding = p[size - 1];
        if (padding == 0 || padding > size - pos) return rtp_parse_result::bad_padding;
    }

    out.bytes_ = bytes;
    out.ext_offset_ = ext_offset;
    out.ext_bytes_ = ext_bytes;
    out.payload_offset_ = pos;
    out.payload_bytes_ = size - pos - padding;
    out.padding_ = padding;
    return rtp_parse_result::ok;
}

std::ptrdiff_t write_rtp(const rtp_header_fields& header, std::span<const rtp_extension_element> exts,
                         std::span<const std::uint8_t> payload, std::span<std::uint8_t> out,
                         const rtp_write_options& options) noexcept {
    if (header.payload_type > rtp_max_payload_type || header.csrc_count > rtp_max_csrcs ||
        options.pad_to_multiple > 256 || options.two_byte_appbits > 15)
        return as_count(status::invalid_argument);
    if (header.marker && rtp_is_rtcp_byte(static_cast<std::uint8_t>(0x80 | header.payload_type)))
        return as_count(status::invalid_argument);

    bool one_byte = !options.force_two_byte;
    for (const rtp_extension_element& e : exts) {
        if (e.id == 0 || e.data.size() > 255) return as_count(status::invalid_argument);
        if (e.id > 14 || e.data.empty() || e.data.size() > 16) one_byte = false;
    }
    std::size_t ext_len = 0;  // element bytes, before word padding
    for (const rtp_extension_element& e : exts) ext_len += (one_byte ? 1 : 2) + e.data.size();
    const std::size_t ext_words = (ext_len + 3) / 4;
    if (ext_words > 0xFFFF) return as_count(status::invalid_argument);

    const std::size_t header_bytes =
        rtp_fixed_header_bytes + 4 * std::size_t{header.csrc_count} + (exts.empty() ? 0 : 4 + 4 * ext_words);
    std::size_t total = header_bytes + payload.size();
    std::size_t padding = 0;
    if (options.pad_to_multiple > 1 && total % options.pad_to_multiple != 0)
        padding = options.pad_to_multiple - total % options.pad_to_multiple;
    total += padding;
    if (total > out.size()) return as_count(status::buffer_too_small);

    std::uint8_t* p = out.data();
    // Payload first: it may already sit somewhere inside `out`.
    if (!payload.empty()) std::memmove(p + header_bytes, payload.data(), payload.size());
    if (padding != 0) {
        std::memset(p + header_bytes + payload.size(), 0, padding - 1);
        p[total - 1] = static_cast<std::uint8_t>(padding);
    }

    p[0] = static_cast<std::uint8_t>((rtp_version << 6) | (padding != 0 ? bit_padding : 0) |
                                     (exts.empty() ? 0 : bit_extension) | header.csrc_count);
    p[1] = static_cast<std::uint8_t>((header.marker ? 0x80 : 0x00) | header.payload_type);
    store_be16(p + 2, header.sequence);
    store_be32(p + 4, header.timestamp);
    store_be32(p + 8, header.ssrc);
    std::size_t pos = rtp_fixed_header_bytes;
    for (std::size_t i = 0; i < header.csrc_count; ++i, pos += 4) store_be32(p + pos, header.csrcs[i]);

    if (!exts.empty()) {
        store_be16(p + pos, one_byte ? rtp_one_byte_profile
                                     : static_cast<std::uint16_t>(rtp_two_byte_profile | options.two_byte_appbits));
        store_be16(p + pos + 2, static_cast<std::uint16_t>(ext_words));
        pos += 4;
        const std::size_t block_end = pos + 4 * ext_words;
        for (const rtp_extension_element& e : exts) {
            if (one_byte) {
                p[pos++] = static_cast<std::uint8_t>((e.id << 4) | (e.data.size() - 1));
            } else {
                p[pos++] = e.id;
                p[pos++] = static_cast<std::uint8_t>(e.data.size());
            }
            if (!e.data.empty()) std::memcpy(p + pos, e.data.data(), e.data.size());
            pos += e.data.size();
        }
        std::memset(p + pos, 0, block_end - pos);
    }
    return static_cast<std::ptrdiff_t>(total);
}

TUTTI_END_NAMESPACE
