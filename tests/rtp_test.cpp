// Tests for tutti/rtp.hpp: the RTP parser's rejection reasons (a table of
// malformed packets, every truncation of a full-featured packet), valid edge
// cases, byte-exact packets from the RFC 3550 / 8285 / 6464 figures, the
// writer's choices and errors, random round trips, and allocation freedom.
#include "tutti/rtp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "alloc_counter.hpp"

namespace {

using tutti::rtp_parse_result;
using bytes = std::vector<std::uint8_t>;

tutti::rtp_packet_view parse_ok(const bytes& b) {
    tutti::rtp_packet_view v;
    const rtp_parse_result r = tutti::parse_rtp(b, v);
    EXPECT_EQ(r, rtp_parse_result::ok) << tutti::to_string(r);
    return v;
}

bytes to_bytes(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

bytes concat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// A packet with every feature: P, X (one-byte form), CC=2, M, PT 111.
//   B2 = V2 P1 X1 CC2; EF = M1 PT111
const bytes full_packet = {
    0xB2, 0xEF, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x11, 0x22, 0x33, 0x44,  // fixed header
    0xAA, 0xAA, 0xAA, 0xAA, 0xBB, 0xBB, 0xBB, 0xBB,                          // CSRCs
    0xBE, 0xDE, 0x00, 0x02,                                                  // one-byte form, 2 words
    0x10, 0x85, 0x21, 0x01, 0x02, 0x00, 0x00, 0x00,  // ID1 L0 [85]; ID2 L1 [01 02]; pad
    0x00, 0x7F, 0xFF, 0x00, 0x09,                    // payload
    0x00, 0x00, 0x03,                                // padding, count 3
};

// A minimal valid header: V2, PT 0, seq 1, ts 160, SSRC 0x01020304.
bytes pcmu_header(std::uint8_t first = 0x80, std::uint8_t second = 0x00) {
    return {first, second, 0x00, 0x01, 0x00, 0x00, 0x00, 0xA0, 0x01, 0x02, 0x03, 0x04};
}

struct malformed_case {
    std::string name;
    bytes data;
    rtp_parse_result expected;
};

std::vector<malformed_case> malformed_table() {
    std::vector<malformed_case> t;
    // Every truncation of the full packet, with the reason its first missing part gives.
    for (std::size_t n = 0; n < full_packet.size(); ++n) {
        rtp_parse_result r;
        if (n == 0)
            r = rtp_parse_result::empty_packet;
        else if (n < 12)
            r = rtp_parse_result::too_short;
        else if (n < 20)
            r = rtp_parse_result::csrc_overrun;  // CC=2 needs 20 bytes
        else if (n < 32)
            r = rtp_parse_result::extension_overrun;  // header at 20..23, block at 24..31
        else
            r = rtp_parse_result::bad_padding;  // last byte is 0 or more than the bytes after the headers
        t.push_back({"full packet truncated to " + std::to_string(n) + " bytes", bytes(full_packet.begin(), full_packet.begin() + static_cast<std::ptrdiff_t>(n)), r});
    }
    bytes cc15 = pcmu_header(0x8F);
    cc15.resize(20, 0x55);
    t.push_back({"CC=15 with 20 bytes", cc15, rtp_parse_result::csrc_overrun});
    bytes cc1 = pcmu_header(0x81);
    cc1.resize(15, 0x55);
    t.push_back({"CC=1, CSRC cut after 3 bytes", cc1, rtp_parse_result::csrc_overrun});
    t.push_back({"extension length 3 words, 2 present",
                 concat({pcmu_header(0x90), {0xBE, 0xDE, 0x00, 0x03, 0x10, 0x01, 0x00, 0x00, 0, 0, 0, 0}}),
                 rtp_parse_result::extension_overrun});
    t.push_back({"extension length 0xFFFF", concat({pcmu_header(0x90), {0x12, 0x34, 0xFF, 0xFF, 1, 2, 3, 4}}),
                 rtp_parse_result::extension_overrun});
    t.push_back({"X bit, 3 bytes of extension header", concat({pcmu_header(0x90), {0xBE, 0xDE, 0x00}}),
                 rtp_parse_result::extension_overrun});
    t.push_back({"X bit and CC=1, extension header missing", concat({pcmu_header(0x91), {1, 2, 3, 4}}),
                 rtp_parse_result::extension_overrun});
    t.push_back({"padding count 0", concat({pcmu_header(0xA0), {0xFF, 0xFF, 0x00}}), rtp_parse_result::bad_padding});
    t.push_back({"padding count larger than the packet", concat({pcmu_header(0xA0), {0xFF, 0xFF, 0x40}}),
                 rtp_parse_result::bad_padding});
    t.push_back({"padding count one more than payload+padding", concat({pcmu_header(0xA0), {0xFF, 0xFF, 0x04}}),
                 rtp_parse_result::bad_padding});
    t.push_back({"P bit on a bare header (SSRC byte read as count)", pcmu_header(0xA0), rtp_parse_result::bad_padding});
    t.push_back({"padding reaching into the extension",
                 concat({pcmu_header(0xB0), {0xBE, 0xDE, 0x00, 0x01, 0x10, 0x01, 0x00, 0x00, 0xEE, 0x03}}),
                 rtp_parse_result::bad_padding});
    t.push_back({"version 1", pcmu_header(0x40), rtp_parse_result::bad_version});
    t.push_back({"version 0 (STUN binding request)",
                 {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
                 rtp_parse_result::bad_version});
    t.push_back({"version 3", pcmu_header(0xC0), rtp_parse_result::bad_version});
    t.push_back({"DTLS record (first byte 22)", {0x16, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                 rtp_parse_result::bad_version});
    t.push_back({"one byte, version 1", {0x40}, rtp_parse_result::bad_version});
    t.push_back({"RTCP SR", {0x80, 200, 0x00, 0x06, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                 rtp_parse_result::rtcp});
    t.push_back({"RTCP RR without report blocks (8 bytes)", {0x80, 201, 0x00, 0x01, 1, 2, 3, 4}, rtp_parse_result::rtcp});
    t.push_back({"RTCP RR with one report block", concat({{0x81, 201, 0x00, 0x07, 1, 2, 3, 4}, bytes(24, 0)}),
                 rtp_parse_result::rtcp});
    t.push_back({"RTCP SDES", {0x81, 202, 0x00, 0x02, 1, 2, 3, 4, 1, 1, 'x', 0}, rtp_parse_result::rtcp});
    t.push_back({"RTCP BYE", {0x81, 203, 0x00, 0x01, 1, 2, 3, 4}, rtp_parse_result::rtcp});
    t.push_back({"RTCP APP", {0x80, 204, 0x00, 0x02, 1, 2, 3, 4, 'n', 'a', 'm', 'e'}, rtp_parse_result::rtcp});
    t.push_back({"reduced-size RTCP: RTPFB generic NACK", {0x81, 205, 0x00, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 0},
                 rtp_parse_result::rtcp});
    t.push_back({"reduced-size RTCP: PSFB PLI", {0x81, 206, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8}, rtp_parse_result::rtcp});
    t.push_back({"RTCP XR", {0x80, 207, 0x00, 0x01, 1, 2, 3, 4}, rtp_parse_result::rtcp});
    t.push_back({"second byte 192 (lowest RFC 5761 RTCP type)", pcmu_header(0x80, 192), rtp_parse_result::rtcp});
    t.push_back({"second byte 223 (highest RFC 5761 RTCP type)", pcmu_header(0x80, 223), rtp_parse_result::rtcp});
    t.push_back({"one-byte element running past the extension block",
                 concat({pcmu_header(0x90), {0xBE, 0xDE, 0x00, 0x01, 0x13, 0xAA, 0xBB, 0xCC}, {0xDD, 0xEE}}),
                 rtp_parse_result::extension_element_overrun});
    t.push_back({"one-byte element after a valid one running past the block",
                 concat({pcmu_header(0x90), {0xBE, 0xDE, 0x00, 0x01, 0x10, 0x7F, 0x21, 0x01}}),
                 rtp_parse_result::extension_element_overrun});
    t.push_back({"one-byte element header as the last byte of the block",
                 concat({pcmu_header(0x90), {0xBE, 0xDE, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10}}),
                 rtp_parse_result::extension_element_overrun});
    t.push_back({"two-byte element running past the block",
                 concat({pcmu_header(0x90), {0x10, 0x00, 0x00, 0x01, 0x05, 0x03, 0xAA, 0xBB}}),
                 rtp_parse_result::extension_element_overrun});
    t.push_back({"two-byte element ID without its length byte",
                 concat({pcmu_header(0x90), {0x10, 0x00, 0x00, 0x01, 0x05, 0x01, 0xAA, 0x07}}),
                 rtp_parse_result::extension_element_overrun});
    return t;
}

// A valid packet with payload_type/marker/sequence... as the header says.
void expect_header(const tutti::rtp_packet_view& v, bool marker, std::uint8_t pt, std::uint16_t seq, std::uint32_t ts,
                   std::uint32_t ssrc) {
    EXPECT_EQ(v.marker(), marker);
    EXPECT_EQ(v.payload_type(), pt);
    EXPECT_EQ(v.sequence(), seq);
    EXPECT_EQ(v.timestamp(), ts);
    EXPECT_EQ(v.ssrc(), ssrc);
}

}  // namespace

TEST(RtpParse, FullFeaturedPacket) {
    const tutti::rtp_packet_view v = parse_ok(full_packet);
    expect_header(v, true, 111, 0x1234, 0xDEADBEEF, 0x11223344);
    ASSERT_EQ(v.csrc_count(), 2u);
    EXPECT_EQ(v.csrc(0), 0xAAAAAAAAu);
    EXPECT_EQ(v.csrc(1), 0xBBBBBBBBu);
    EXPECT_EQ(v.csrc(2), 0u);
    EXPECT_TRUE(v.has_extension());
    EXPECT_EQ(v.extension_profile(), 0xBEDE);
    EXPECT_EQ(v.extension_form(), tutti::rtp_extension_form::one_byte);
    EXPECT_EQ(v.extension_data().size(), 8u);
    EXPECT_TRUE(v.has_padding());
    EXPECT_EQ(v.padding_bytes(), 3u);
    EXPECT_EQ(v.header_bytes(), 32u);
    EXPECT_EQ(to_bytes(v.payload()), (bytes{0x00, 0x7F, 0xFF, 0x00, 0x09}));
    EXPECT_EQ(v.payload().data(), full_packet.data() + 32);
    std::vector<std::pair<int, bytes>> elements;
    for (tutti::rtp_extension_element e : v.extensions()) elements.emplace_back(e.id, to_bytes(e.data));
    EXPECT_EQ(elements, (std::vector<std::pair<int, bytes>>{{1, {0x85}}, {2, {0x01, 0x02}}}));
    const auto level = tutti::find_audio_level(v, 1);
    ASSERT_TRUE(level.has_value());
    EXPECT_TRUE(level->voice);
    EXPECT_EQ(level->level, 5);
    EXPECT_FALSE(tutti::find_audio_level(v, 3).has_value());
}

TEST(RtpParse, MalformedTableGivesExactReasons) {
    const std::vector<malformed_case> table = malformed_table();
    ASSERT_GE(table.size(), 30u);
    std::set<rtp_parse_result> reasons_seen;
    for (const malformed_case& c : table) {
        SCOPED_TRACE(c.name);
        const bytes good = pcmu_header();
        tutti::rtp_packet_view v = parse_ok(good);  // must survive a failed parse untouched
        const bytes before = to_bytes(v.bytes());
        const rtp_parse_result r = tutti::parse_rtp(c.data, v);
        EXPECT_EQ(r, c.expected) << "got " << tutti::to_string(r) << ", want " << tutti::to_string(c.expected);
        EXPECT_EQ(to_bytes(v.bytes()), before);
        reasons_seen.insert(r);
    }
    EXPECT_EQ(reasons_seen.size(), tutti::rtp_parse_result_count - 1);  // every reason but ok
}

TEST(RtpParse, ReasonNamesAndStatuses) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < tutti::rtp_parse_result_count; ++i) {
        const auto r = static_cast<rtp_parse_result>(i);
        names.insert(tutti::to_string(r));
        EXPECT_EQ(tutti::to_status(r) == tutti::status::ok, r == rtp_parse_result::ok);
    }
    EXPECT_EQ(names.size(), tutti::rtp_parse_result_count);
    EXPECT_EQ(names.count("unknown"), 0u);
    EXPECT_STREQ(tutti::to_string(rtp_parse_result::csrc_overrun), "csrc_overrun");
    EXPECT_EQ(tutti::to_status(rtp_parse_result::rtcp), tutti::status::unsupported);
    EXPECT_EQ(tutti::to_status(rtp_parse_result::bad_version), tutti::status::malformed);
    EXPECT_EQ(tutti::to_status(rtp_parse_result::csrc_overrun), tutti::status::truncated);
}

TEST(RtpParse, CountersIndexByReason) {
    tutti::rtp_parse_counters counters;
    tutti::rtp_packet_view v;
    for (const malformed_case& c : malformed_table()) (void)tutti::parse_rtp(c.data, v, counters);
    (void)tutti::parse_rtp(full_packet, v, counters);
    (void)tutti::parse_rtp(pcmu_header(), v, counters);
    EXPECT_EQ(counters.parsed, 2u);
    EXPECT_EQ(counters.count(rtp_parse_result::ok), 2u);
    EXPECT_EQ(counters.rejected[0], 0u);
    EXPECT_EQ(counters.count(rtp_parse_result::empty_packet), 1u);
    EXPECT_EQ(counters.count(rtp_parse_result::too_short), 11u);  // 1..11-byte truncations
    EXPECT_EQ(counters.count(rtp_parse_result::rtcp), 11u);
    EXPECT_EQ(counters.count(rtp_parse_result::bad_version), 5u);
    EXPECT_EQ(counters.count(rtp_parse_result::extension_element_overrun), 5u);
    EXPECT_EQ(counters.rejected_total(), malformed_table().size());
}

TEST(RtpParse, ValidEdgeCases) {
    {  // header only: empty payload, no padding
        const bytes b = pcmu_header();
        const auto v = parse_ok(b);
        EXPECT_TRUE(v.payload().empty());
        EXPECT_EQ(v.header_bytes(), 12u);
        expect_header(v, false, 0, 1, 160, 0x01020304);
    }
    {  // padding only, empty payload (a bandwidth probe)
        const bytes b = concat({pcmu_header(0xA0, 0x6F), {0, 0, 0, 4}});
        const auto v = parse_ok(b);
        EXPECT_TRUE(v.payload().empty());
        EXPECT_EQ(v.padding_bytes(), 4u);
        EXPECT_EQ(v.payload_type(), 111);
    }
    {  // padding count 1: just the count byte
        const bytes b = concat({pcmu_header(0xA0), {0xD5, 0xD5, 0x01}});
        const auto v = parse_ok(b);
        EXPECT_EQ(to_bytes(v.payload()), (bytes{0xD5, 0xD5}));
    }
    {  // marker with the highest payload type; PT 95 without marker is RTP, not RTCP
        expect_header(parse_ok(pcmu_header(0x80, 0xFF)), true, 127, 1, 160, 0x01020304);
        expect_header(parse_ok(pcmu_header(0x80, 0x5F)), false, 95, 1, 160, 0x01020304);
        expect_header(parse_ok(pcmu_header(0x80, 0xE0)), true, 96, 1, 160, 0x01020304);
        expect_header(parse_ok(pcmu_header(0x80, 0xBF)), true, 63, 1, 160, 0x01020304);
    }
    {  // CC=15 with all 60 bytes
        bytes b = pcmu_header(0x8F);
        for (std::uint8_t i = 0; i < 15; ++i) b.insert(b.end(), {0, 0, 0, i});
        const auto v = parse_ok(b);
        EXPECT_EQ(v.csrc_count(), 15u);
        EXPECT_EQ(v.csrc(14), 14u);
        EXPECT_EQ(v.header().csrcs[14], 14u);
        EXPECT_TRUE(v.payload().empty());
    }
    {  // extension with only padding bytes
        const bytes b = concat({pcmu_header(0x90), {0xBE, 0xDE, 0x00, 0x01, 0, 0, 0, 0, 0xD5}});
        const auto v = parse_ok(b);
        EXPECT_EQ(v.extensions().begin(), std::default_sentinel);
        EXPECT_FALSE(v.find_extension(1).has_value());
        EXPECT_EQ(to_bytes(v.payload()), bytes{0xD5});
    }
    {  // extension of length 0
        const bytes b = concat({pcmu_header(0x90), {0xBE, 0xDE, 0x00, 0x00}});
        const auto v = parse_ok(b);
        EXPECT_TRUE(v.extension_data().empty());
        EXPECT_EQ(v.extension_form(), tutti::rtp_extension_form::one_byte);
    }
    {  // ID 15 ends the block: what follows (even nonsense) is not looked at
        const bytes b = concat({pcmu_header(0x90), {0xBE, 0xDE, 0x00, 0x01, 0x10, 0x33, 0xF0, 0x3F}});
        const auto v = parse_ok(b);
        std::vector<int> ids;
        for (auto e : v.extensions()) ids.push_back(e.id);
        EXPECT_EQ(ids, std::vector<int>{1});
        EXPECT_FALSE(v.find_extension(15).has_value());
        EXPECT_FALSE(v.find_extension(3).has_value());
    }
    {  // a one-byte-form byte with ID 0 and a nonzero length nibble is one padding byte
        const bytes b = concat({pcmu_header(0x90), {0xBE, 0xDE, 0x00, 0x01, 0x05, 0x20, 0x44, 0x00}});
        const auto v = parse_ok(b);
        ASSERT_TRUE(v.find_extension(2).has_value());
        EXPECT_EQ(to_bytes(*v.find_extension(2)), bytes{0x44});
    }
    {  // unknown profile: kept opaque
        const bytes b = concat({pcmu_header(0x90), {0x12, 0x34, 0x00, 0x01, 0x13, 0xFF, 0xFF, 0xFF, 0xAB}});
        const auto v = parse_ok(b);
        EXPECT_EQ(v.extension_form(), tutti::rtp_extension_form::other);
        EXPECT_EQ(v.extension_profile(), 0x1234);
        EXPECT_EQ(to_bytes(v.extension_data()), (bytes{0x13, 0xFF, 0xFF, 0xFF}));
        EXPECT_EQ(v.extensions().begin(), std::default_sentinel);
        EXPECT_FALSE(v.find_extension(1).has_value());
        EXPECT_EQ(to_bytes(v.payload()), bytes{0xAB});
    }
    {  // two-byte form with appbits, an empty element and trailing padding
        const bytes b = concat({pcmu_header(0x90), {0x10, 0x07, 0x00, 0x01, 0xC8, 0x00, 0x00, 0x00}});
        const auto v = parse_ok(b);
        EXPECT_EQ(v.extension_form(), tutti::rtp_extension_form::two_byte);
        EXPECT_EQ(v.extension_appbits(), 7);
        ASSERT_TRUE(v.find_extension(200).has_value());
        EXPECT_TRUE(v.find_extension(200)->empty());
        EXPECT_FALSE(tutti::find_audio_level(v, 200).has_value());  // present but no data byte
    }
    {  // default view describes nothing
        const tutti::rtp_packet_view v;
        EXPECT_TRUE(v.bytes().empty());
        EXPECT_TRUE(v.payload().empty());
        EXPECT_EQ(v.sequence(), 0);
        EXPECT_EQ(v.extension_form(), tutti::rtp_extension_form::none);
    }
}

// RFC 3550 §5.1: a PCMU packet assembled by hand from the header figure.
TEST(RtpWrite, PcmuPacketByteExact) {
    const bytes expected = {0x80, 0x00, 0xAB, 0xCD,  // V=2, PT 0, seq 0xABCD
                            0x00, 0x01, 0xE2, 0x40,  // ts 123456
                            0xCA, 0xFE, 0xBA, 0xBE,  // SSRC
                            0xFF, 0x7F, 0x00, 0x80};
    tutti::rtp_header_fields h;
    h.payload_type = 0;
    h.sequence = 0xABCD;
    h.timestamp = 123456;
    h.ssrc = 0xCAFEBABE;
    const bytes payload = {0xFF, 0x7F, 0x00, 0x80};
    bytes out(64, 0xEE);
    ASSERT_EQ(tutti::write_rtp(h, {}, payload, out), 16);
    out.resize(16);
    EXPECT_EQ(out, expected);
    const auto v = parse_ok(out);
    EXPECT_EQ(v.header(), h);
}

// RFC 6464 §3, one-byte form: 0xBEDE, length 1, ID|L=0, V|level, two pad bytes.
TEST(RtpWrite, AudioLevelOneByteFormByteExact) {
    const bytes expected = {0x90, 0xEF, 0x00, 0x07, 0x00, 0x00, 0x03, 0xC0, 0x00, 0x00, 0x00, 0x2A,  // X, M, PT 111
                            0xBE, 0xDE, 0x00, 0x01, 0x10, 0xA1, 0x00, 0x00,                          // V=1 level 33
                            0xFC, 0xFF, 0xFE};                                                       // Opus
    tutti::rtp_header_fields h;
    h.marker = true;
    h.payload_type = 111;
    h.sequence = 7;
    h.timestamp = 960;
    h.ssrc = 42;
    const std::uint8_t level = tutti::encode_audio_level({true, 33});
    EXPECT_EQ(level, 0xA1);
    const tutti::rtp_extension_element ext{1, {&level, 1}};
    const bytes payload = {0xFC, 0xFF, 0xFE};
    bytes out(64);
    const std::ptrdiff_t n = tutti::write_rtp(h, {&ext, 1}, payload, out);
    ASSERT_EQ(n, static_cast<std::ptrdiff_t>(expected.size()));
    out.resize(expected.size());
    EXPECT_EQ(out, expected);
    const auto v = parse_ok(out);
    EXPECT_EQ(tutti::find_audio_level(v, 1), (tutti::rtp_audio_level{true, 33}));
    EXPECT_EQ(to_bytes(v.payload()), payload);
}

// RFC 8285 §4.2 figure: one-byte form, length 3, elements L=0, L=1, two pad
// bytes, then L=3.
TEST(RtpParse, Rfc8285OneByteFigure) {
    const bytes packet = concat({pcmu_header(0x90),
                                 {0xBE, 0xDE, 0x00, 0x03,                       //
                                  0x10, 0xA1, 0x21, 0xB1, 0xB2, 0x00, 0x00, 0x33,  //
                                  0xC1, 0xC2, 0xC3, 0xC4}});
    const auto v = parse_ok(packet);
    std::vector<std::pair<int, bytes>> elements;
    for (auto e : v.extensions()) elements.emplace_back(e.id, to_bytes(e.data));
    EXPECT_EQ(elements, (std::vector<std::pair<int, bytes>>{
                            {1, {0xA1}}, {2, {0xB1, 0xB2}}, {3, {0xC1, 0xC2, 0xC3, 0xC4}}}));
    EXPECT_TRUE(v.payload().empty());
}

// RFC 8285 §4.3 figure: two-byte form, length 3, elements L=0, L=1, one pad
// byte, then L=4.
TEST(RtpParse, Rfc8285TwoByteFigure) {
    const bytes packet = concat({pcmu_header(0x90),
                                 {0x10, 0x00, 0x00, 0x03,                       //
                                  0x01, 0x00, 0x02, 0x01, 0xB1, 0x00, 0x03, 0x04,  //
                                  0xC1, 0xC2, 0xC3, 0xC4}});
    const auto v = parse_ok(packet);
    std::vector<std::pair<int, bytes>> elements;
    for (auto e : v.extensions()) elements.emplace_back(e.id, to_bytes(e.data));
    EXPECT_EQ(elements,
              (std::vector<std::pair<int, bytes>>{{1, {}}, {2, {0xB1}}, {3, {0xC1, 0xC2, 0xC3, 0xC4}}}));
    EXPECT_EQ(v.extension_appbits(), 0);
}

TEST(RtpWrite, ChoosesTwoByteFormOnlyWhenNeeded) {
    tutti::rtp_header_fields h;
    h.payload_type = 96;
    const std::uint8_t data[17] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    bytes out(256);
    struct form_case {
        tutti::rtp_extension_element e;
        tutti::rtp_extension_form form;
        bytes block;  // extension header + elements as expected on the wire
    };
    const form_case cases[] = {
        {{14, {data, 16}}, tutti::rtp_extension_form::one_byte,
         concat({{0xBE, 0xDE, 0x00, 0x05, 0xEF}, bytes(data, data + 16), {0, 0, 0}})},
        {{15, {data, 1}}, tutti::rtp_extension_form::two_byte, {0x10, 0x00, 0x00, 0x01, 0x0F, 0x01, 0x01, 0x00}},
        {{1, {data, 17}}, tutti::rtp_extension_form::two_byte,
         concat({{0x10, 0x00, 0x00, 0x05, 0x01, 0x11}, bytes(data, data + 17), {0}})},
        {{1, {}}, tutti::rtp_extension_form::two_byte, {0x10, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00}},
    };
    for (const form_case& c : cases) {
        SCOPED_TRACE(int{c.e.id});
        const std::ptrdiff_t n = tutti::write_rtp(h, {&c.e, 1}, {}, out);
        ASSERT_EQ(n, static_cast<std::ptrdiff_t>(12 + c.block.size()));
        EXPECT_EQ(bytes(out.begin() + 12, out.begin() + n), c.block);
        const bytes packet(out.begin(), out.begin() + n);
        const auto v = parse_ok(packet);
        EXPECT_EQ(v.extension_form(), c.form);
        ASSERT_TRUE(v.find_extension(c.e.id).has_value());
        EXPECT_EQ(to_bytes(*v.find_extension(c.e.id)), to_bytes(c.e.data));
    }
    // Forced two-byte form with appbits.
    const tutti::rtp_extension_element small{3, {data, 2}};
    tutti::rtp_write_options options;
    options.force_two_byte = true;
    options.two_byte_appbits = 0xA;
    const std::ptrdiff_t n = tutti::write_rtp(h, {&small, 1}, {}, out, options);
    ASSERT_EQ(n, 20);
    EXPECT_EQ(bytes(out.begin() + 12, out.begin() + 20), (bytes{0x10, 0x0A, 0x00, 0x01, 0x03, 0x02, 0x01, 0x02}));
}

TEST(RtpWrite, PaddingToMultipleOfFour) {
    tutti::rtp_header_fields h;
    bytes out(64);
    for (std::size_t len = 1; len <= 9; ++len) {
        SCOPED_TRACE(len);
        const bytes payload(len, 0x55);
        tutti::rtp_write_options options;
        options.pad_to_multiple = 4;
        const std::ptrdiff_t n = tutti::write_rtp(h, {}, payload, out, options);
        ASSERT_GT(n, 0);
        EXPECT_EQ(n % 4, 0);
        EXPECT_EQ(static_cast<std::size_t>(n), 12 + (len + 3) / 4 * 4);
        const bytes packet(out.begin(), out.begin() + n);
        const auto v = parse_ok(packet);
        EXPECT_EQ(v.has_padding(), len % 4 != 0);
        EXPECT_EQ(v.padding_bytes(), (4 - len % 4) % 4);
        EXPECT_EQ(to_bytes(v.payload()), payload);
    }
    // Byte-exact: 12 + 5 = 17 bytes padded to 24: six zeros, then the count 7.
    const bytes payload = {0xAA, 0xBB, 0xCC, 0xDD, 0xEE};
    tutti::rtp_write_options options;
    options.pad_to_multiple = 8;
    ASSERT_EQ(tutti::write_rtp(h, {}, payload, out, options), 24);
    EXPECT_EQ(out[0], 0xA0);
    EXPECT_EQ(bytes(out.begin() + 12, out.begin() + 24), (bytes{0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0, 0, 0, 0, 0, 0, 7}));
}

TEST(RtpWrite, RejectsBadArgumentsAndSmallBuffers) {
    const auto invalid = tutti::as_count(tutti::status::invalid_argument);
    bytes out(128);
    tutti::rtp_header_fields h;
    h.payload_type = 128;
    EXPECT_EQ(tutti::write_rtp(h, {}, {}, out), invalid);
    h.payload_type = 72;
    h.marker = true;  // 0xC8 = RTCP SR on the wire
    EXPECT_EQ(tutti::write_rtp(h, {}, {}, out), invalid);
    h.marker = false;
    EXPECT_EQ(tutti::write_rtp(h, {}, {}, out), 12);  // PT 72 without marker is plain RTP
    h.payload_type = 0;
    h.csrc_count = 16;
    EXPECT_EQ(tutti::write_rtp(h, {}, {}, out), invalid);
    h.csrc_count = 0;
    const std::uint8_t data[256] = {};
    const tutti::rtp_extension_element id0{0, {data, 1}};
    EXPECT_EQ(tutti::write_rtp(h, {&id0, 1}, {}, out), invalid);
    const tutti::rtp_extension_element too_long{5, {data, 256}};
    EXPECT_EQ(tutti::write_rtp(h, {&too_long, 1}, {}, out), invalid);
    tutti::rtp_write_options options;
    options.pad_to_multiple = 257;
    EXPECT_EQ(tutti::write_rtp(h, {}, {}, out, options), invalid);
    options = {};
    options.two_byte_appbits = 16;
    EXPECT_EQ(tutti::write_rtp(h, {}, {}, out, options), invalid);

    // Every buffer one byte short of the packet is refused untouched.
    h.csrc_count = 2;
    const tutti::rtp_extension_element level{1, {data, 1}};
    const bytes payload(21, 0x11);
    options = {};
    options.pad_to_multiple = 16;
    const std::ptrdiff_t full = tutti::write_rtp(h, {&level, 1}, payload, out, options);
    ASSERT_EQ(full, 64);  // 12 + 8 + 8 + 21 = 49 -> 64
    for (std::ptrdiff_t size = 0; size < full; ++size) {
        bytes small(static_cast<std::size_t>(size), 0xEE);
        EXPECT_EQ(tutti::write_rtp(h, {&level, 1}, payload, small, options), tutti::as_count(tutti::status::buffer_too_small));
        EXPECT_TRUE(std::all_of(small.begin(), small.end(), [](std::uint8_t b) { return b == 0xEE; }));
    }
}

TEST(RtpWrite, PayloadMayAlreadySitInTheOutputBuffer) {
    tutti::rtp_header_fields h;
    h.sequence = 9;
    const std::uint8_t level = 0x7F;
    const tutti::rtp_extension_element ext{1, {&level, 1}};
    for (std::size_t offset : {0u, 5u, 20u, 40u}) {
        SCOPED_TRACE(offset);
        bytes buf(128, 0);
        for (std::size_t i = 0; i < 30; ++i) buf[offset + i] = static_cast<std::uint8_t>(i + 1);
        const std::ptrdiff_t n = tutti::write_rtp(h, {&ext, 1}, {buf.data() + offset, 30}, buf);
        ASSERT_EQ(n, 12 + 8 + 30);
        const bytes packet(buf.begin(), buf.begin() + n);
        const auto v = parse_ok(packet);
        bytes want(30);
        for (std::size_t i = 0; i < 30; ++i) want[i] = static_cast<std::uint8_t>(i + 1);
        EXPECT_EQ(to_bytes(v.payload()), want);
        EXPECT_EQ(v.sequence(), 9);
    }
}

TEST(RtpWrite, RandomRoundTrips) {
    std::mt19937 rng(20240601);
    auto pick = [&](std::uint32_t lo, std::uint32_t hi) { return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng); };
    bytes out(4096);
    int one_byte = 0, two_byte = 0, padded = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        SCOPED_TRACE(iter);
        tutti::rtp_header_fields h;
        h.marker = pick(0, 1) != 0;
        do h.payload_type = static_cast<std::uint8_t>(pick(0, 127));
        while (h.marker && h.payload_type >= 64 && h.payload_type <= 95);
        h.sequence = static_cast<std::uint16_t>(pick(0, 0xFFFF));
        h.timestamp = pick(0, 0xFFFFFFFF);
        h.ssrc = pick(0, 0xFFFFFFFF);
        h.csrc_count = static_cast<std::uint8_t>(pick(0, 15));
        for (std::size_t i = 0; i < h.csrc_count; ++i) h.csrcs[i] = pick(0, 0xFFFFFFFF);

        const bool want_two_byte = pick(0, 2) == 0;
        std::vector<bytes> storage(pick(0, 6));
        std::vector<tutti::rtp_extension_element> exts;
        for (bytes& s : storage) {
            const auto id = static_cast<std::uint8_t>(want_two_byte ? pick(1, 255) : pick(1, 14));
            s.resize(want_two_byte ? pick(0, 40) : pick(1, 16));
            for (auto& b : s) b = static_cast<std::uint8_t>(pick(0, 255));
            exts.push_back({id, s});
        }
        bytes payload(pick(0, 300));
        for (auto& b : payload) b = static_cast<std::uint8_t>(pick(0, 255));
        tutti::rtp_write_options options;
        options.pad_to_multiple = pick(0, 1) != 0 ? 4 : 0;

        const std::ptrdiff_t n = tutti::write_rtp(h, exts, payload, out, options);
        ASSERT_GT(n, 0);
        const bytes packet(out.begin(), out.begin() + n);
        const auto v = parse_ok(packet);
        EXPECT_EQ(v.header(), h);
        EXPECT_EQ(to_bytes(v.payload()), payload);
        std::size_t i = 0;
        for (tutti::rtp_extension_element e : v.extensions()) {
            ASSERT_LT(i, exts.size());
            EXPECT_EQ(e.id, exts[i].id);
            EXPECT_EQ(to_bytes(e.data), to_bytes(exts[i].data));
            ++i;
        }
        EXPECT_EQ(i, exts.size());
        EXPECT_EQ(v.has_extension(), !exts.empty());
        if (options.pad_to_multiple == 4) {
            EXPECT_EQ(n % 4, 0);
        }
        one_byte += v.extension_form() == tutti::rtp_extension_form::one_byte;
        two_byte += v.extension_form() == tutti::rtp_extension_form::two_byte;
        padded += v.has_padding();
        // Writing the parsed header back gives the same bytes.
        bytes again(4096);
        const std::ptrdiff_t m = tutti::write_rtp(v.header(), exts, v.payload(), again, options);
        ASSERT_EQ(m, n);
        EXPECT_TRUE(std::equal(packet.begin(), packet.end(), again.begin()));
    }
    EXPECT_GT(one_byte, 500);
    EXPECT_GT(two_byte, 300);
    EXPECT_GT(padded, 500);
}

TEST(RtpAudioLevel, EncodeDecodeAllValues) {
    for (int b = 0; b < 256; ++b) {
        const auto a = tutti::decode_audio_level(static_cast<std::uint8_t>(b));
        EXPECT_EQ(a.voice, b >= 128);
        EXPECT_EQ(a.level, b & 0x7F);
        EXPECT_EQ(tutti::encode_audio_level(a), b);
    }
    EXPECT_EQ(tutti::encode_audio_level({false, 200}), 127);  // clamped
    EXPECT_EQ(tutti::rtp_audio_level_uri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
}

TEST(RtpAudioLevel, FoundUnderTheNegotiatedIdInEitherForm) {
    tutti::rtp_header_fields h;
    h.payload_type = 111;
    const std::uint8_t level = tutti::encode_audio_level({false, 70});
    const std::uint8_t other[3] = {9, 9, 9};
    bytes out(128);
    for (const bool two_byte : {false, true}) {
        for (const std::uint8_t id : {std::uint8_t{1}, std::uint8_t{5}, std::uint8_t{14}}) {
            const tutti::rtp_extension_element exts[] = {{static_cast<std::uint8_t>(id == 5 ? 6 : 5), {other, 3}},
                                                         {id, {&level, 1}}};
            tutti::rtp_write_options options;
            options.force_two_byte = two_byte;
            const std::ptrdiff_t n = tutti::write_rtp(h, exts, {}, out, options);
            ASSERT_GT(n, 0);
            const bytes packet(out.begin(), out.begin() + n);
            const auto v = parse_ok(packet);
            EXPECT_EQ(tutti::find_audio_level(v, id), (tutti::rtp_audio_level{false, 70}));
            EXPECT_FALSE(tutti::find_audio_level(v, 2).has_value());
            EXPECT_FALSE(tutti::find_audio_level(v, 0).has_value());
        }
    }
}

TEST(Rtp, ParseFindAndWriteNeverAllocate) {
    bytes out(256);
    tutti::rtp_header_fields h;
    h.payload_type = 111;
    h.csrc_count = 3;
    const std::uint8_t level = 0x85;
    const tutti::rtp_extension_element ext{1, {&level, 1}};
    const bytes payload(60, 0x42);
    tutti::rtp_parse_counters counters;
    const std::vector<malformed_case> table = malformed_table();
    std::uint64_t sink = 0;
    tutti_test::alloc_counter allocs;
    for (int i = 0; i < 100; ++i) {
        tutti::rtp_packet_view v;
        sink += tutti::parse_rtp(full_packet, v, counters) == rtp_parse_result::ok;
        sink += tutti::find_audio_level(v, 1)->level;
        for (auto e : v.extensions()) sink += e.id;
        for (const malformed_case& c : table) sink += static_cast<std::uint64_t>(tutti::parse_rtp(c.data, v, counters));
        h.sequence = static_cast<std::uint16_t>(i);
        sink += static_cast<std::uint64_t>(tutti::write_rtp(h, {&ext, 1}, payload, out));
    }
    EXPECT_EQ(allocs.count(), 0u);
    EXPECT_GT(sink, 0u);
}

// Views over static arrays; an empty extension range is usable in constant expressions.
static_assert(std::forward_iterator<tutti::rtp_extension_iterator>);
static_assert(std::sentinel_for<std::default_sentinel_t, tutti::rtp_extension_iterator>);
static_assert(std::ranges::range<tutti::rtp_extension_range>);

TEST(Rtp, StaticBytesAndConstexprRange) {
    static constexpr std::uint8_t packet[] = {0x80, 0x08, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2, 0xD5};
    constexpr tutti::rtp_extension_range empty{{}, tutti::rtp_extension_form::one_byte};
    static_assert(empty.begin() == std::default_sentinel);
    tutti::rtp_packet_view v;
    ASSERT_EQ(tutti::parse_rtp(packet, v), rtp_parse_result::ok);
    EXPECT_EQ(v.payload_type(), 8);
    EXPECT_EQ(v.payload().size(), 1u);
}
