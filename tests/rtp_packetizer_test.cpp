// Tests for tutti/rtp_packetizer.hpp: sequence and timestamp continuity (16-bit
// wrap, DTX gaps, codec and clock changes), marker bits on talkspurt starts,
// the audio-level extension read back by the parser, RFC 4733 event packets
// (read back by telephone_event_decoder), errors, and allocation freedom.
#include "tutti/rtp_packetizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "tutti/rtp.hpp"
#include "tutti/telephone_event.hpp"

namespace {

using bytes = std::vector<std::uint8_t>;

// A packet as written, kept alive with its parsed view.
struct packet {
    bytes data;
    tutti::rtp_packet_view view;
};

packet reparse(std::span<const std::uint8_t> out, std::ptrdiff_t n) {
    packet p;
    EXPECT_GT(n, 0) << tutti::to_string(tutti::status_of(n));
    if (n <= 0) return p;
    p.data.assign(out.begin(), out.begin() + n);
    const auto r = tutti::parse_rtp(p.data, p.view);
    EXPECT_EQ(r, tutti::rtp_parse_result::ok) << tutti::to_string(r);
    return p;
}

tutti::rtp_packetizer make(std::uint8_t pt = 0, std::uint32_t rate = 8000, std::optional<std::uint16_t> seq = 1000,
                           std::optional<std::uint32_t> ts = 50000, std::uint8_t level_id = 0) {
    tutti::rtp_packetizer p;
    tutti::rtp_packetizer_config c;
    c.ssrc = 0x5EED5EED;
    c.payload_type = pt;
    c.clock_rate_hz = rate;
    c.audio_level_id = level_id;
    c.telephone_event_payload_type = 101;
    c.seed = 1;
    c.initial_sequence = seq;
    c.initial_timestamp = ts;
    EXPECT_EQ(p.init(c), tutti::status::ok);
    return p;
}

const bytes frame_payload(160, 0xD5);

tutti::telephone_event_payload event_of(const packet& p) {
    tutti::telephone_event_payload ev;
    EXPECT_EQ(tutti::parse_telephone_event(p.view.payload(), ev), tutti::status::ok);
    return ev;
}

}  // namespace

TEST(RtpPacketizer, SequenceWrapsAt16Bits) {
    auto pz = make(0, 8000, 65533, 7);
    std::array<std::uint8_t, 512> out{};
    std::vector<std::uint16_t> seqs;
    std::vector<std::uint32_t> stamps;
    for (int i = 0; i < 6; ++i) {
        const packet p = reparse(out, pz.packetize(frame_payload, 160, false, out));
        seqs.push_back(p.view.sequence());
        stamps.push_back(p.view.timestamp());
        EXPECT_EQ(p.view.ssrc(), 0x5EED5EEDu);
        EXPECT_EQ(p.view.payload_type(), 0);
        EXPECT_EQ(p.view.payload().size(), 160u);
    }
    EXPECT_EQ(seqs, (std::vector<std::uint16_t>{65533, 65534, 65535, 0, 1, 2}));
    EXPECT_EQ(stamps, (std::vector<std::uint32_t>{7, 167, 327, 487, 647, 807}));
    EXPECT_EQ(pz.next_sequence(), 3);
    EXPECT_EQ(pz.packets_sent(), 6u);
    EXPECT_EQ(pz.payload_octets_sent(), 6u * 160);
}

TEST(RtpPacketizer, TimestampWrapsAt32Bits) {
    auto pz = make(0, 8000, 1, 0xFFFFFFC0u);
    std::array<std::uint8_t, 512> out{};
    EXPECT_EQ(reparse(out, pz.packetize(frame_payload, 160, false, out)).view.timestamp(), 0xFFFFFFC0u);
    EXPECT_EQ(reparse(out, pz.packetize(frame_payload, 160, false, out)).view.timestamp(), 0x00000060u);
}

TEST(RtpPacketizer, TimestampAfterDtxGapOfSevenFrames) {
    auto pz = make(0, 8000, 100, 1000);
    std::array<std::uint8_t, 512> out{};
    for (int i = 0; i < 3; ++i) (void)reparse(out, pz.packetize(frame_payload, 160, false, out));
    for (int i = 0; i < 7; ++i) pz.skip(160);  // 7 frames of DTX: 140 ms
    const packet p = reparse(out, pz.packetize(frame_payload, 160, false, out));
    EXPECT_EQ(p.view.timestamp(), 1000u + 3 * 160 + 7 * 160);
    EXPECT_EQ(p.view.sequence(), 103);  // no sequence numbers used for the gap
    EXPECT_TRUE(p.view.marker());
    const packet q = reparse(out, pz.packetize(frame_payload, 160, false, out));
    EXPECT_EQ(q.view.timestamp(), 1000u + 11 * 160);
    EXPECT_FALSE(q.view.marker());
}

TEST(RtpPacketizer, MarkerExactlyOnTalkspurtStarts) {
    auto pz = make();
    std::array<std::uint8_t, 512> out{};
    // 's' sends a frame, 'S' sends one the caller marks as a talkspurt start, '-' skips one.
    const std::string script = "sss--ssSss-s---sS-Ss";
    std::string markers;
    std::uint32_t expected_ts = 50000;
    std::uint16_t expected_seq = 1000;
    for (char c : script) {
        if (c == '-') {
            pz.skip(160);
        } else {
            const packet p = reparse(out, pz.packetize(frame_payload, 160, c == 'S', out));
            markers += p.view.marker() ? 'M' : '.';
            EXPECT_EQ(p.view.timestamp(), expected_ts);
            EXPECT_EQ(p.view.sequence(), expected_seq++);
        }
        expected_ts += 160;
    }
    // First packet, after each gap, and where the caller said so.
    EXPECT_EQ(markers, "M..M.M..MMMM.");
}

TEST(RtpPacketizer, AudioLevelExtensionReadBackByTheParser) {
    std::array<std::uint8_t, 512> out{};
    for (const std::uint8_t id : {std::uint8_t{1}, std::uint8_t{14}, std::uint8_t{15}, std::uint8_t{200}}) {
        SCOPED_TRACE(int{id});
        auto pz = make(111, 48000, 1, 0, id);
        for (int l = 0; l < 128; l += 9) {
            const auto level = static_cast<std::uint8_t>(l);
            const bool voice = level < 60;
            const packet p = reparse(out, pz.packetize(frame_payload, 960, false, out, tutti::rtp_audio_level{voice, level}));
            EXPECT_EQ(p.view.extension_form(),
                      id <= 14 ? tutti::rtp_extension_form::one_byte : tutti::rtp_extension_form::two_byte);
            EXPECT_EQ(tutti::find_audio_level(p.view, id), (tutti::rtp_audio_level{voice, level}));
            EXPECT_EQ(p.view.payload().size(), frame_payload.size());
        }
        // No level given: no extension.
        const packet none = reparse(out, pz.packetize(frame_payload, 960, false, out));
        EXPECT_FALSE(none.view.has_extension());
    }
    // No ID configured: the level is not written.
    auto plain = make(111, 48000);
    const packet p = reparse(out, plain.packetize(frame_payload, 960, false, out, tutti::rtp_audio_level{true, 3}));
    EXPECT_FALSE(p.view.has_extension());
    EXPECT_EQ(p.data.size(), 12 + frame_payload.size());
}

// packetize() writes the common packet itself (no CSRC, at most the one-byte
// audio level): byte for byte what the general write_rtp() writes, for every
// payload type, marker, level, extension id, payload size and wrap.
TEST(RtpPacketizer, CommonPacketIsWhatWriteRtpWrites) {
    std::mt19937 rng(3);
    std::array<std::uint8_t, 1500> out{}, expected{};
    for (int round = 0; round < 3000; ++round) {
        const auto pt = static_cast<std::uint8_t>(rng() % 128);
        if (pt >= 64 && pt <= 95) continue;  // refused by init (RTCP's range)
        const auto level_id = static_cast<std::uint8_t>(rng() % 16);  // 15: the general path's two-byte form
        const auto seq = static_cast<std::uint16_t>(rng());
        const auto ts = static_cast<std::uint32_t>(rng());
        tutti::rtp_packetizer p = make(pt, 48000, seq, ts, level_id);
        bytes payload(1 + rng() % 300);
        for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
        const bool talkspurt = rng() % 2 != 0;  // (the first packet is marked either way)
        std::optional<tutti::rtp_audio_level> level;
        if (rng() % 3 != 0) level = tutti::rtp_audio_level{rng() % 2 != 0, static_cast<std::uint8_t>(rng() % 128)};
        const std::ptrdiff_t n = p.packetize(payload, 960, talkspurt, out, level);
        tutti::rtp_header_fields h;
        h.marker = true;  // a fresh packetizer marks its first packet (talkspurt or not)
        h.payload_type = pt;
        h.sequence = seq;
        h.timestamp = ts;
        h.ssrc = 0x5EED5EED;
        std::uint8_t level_byte = 0;
        tutti::rtp_extension_element element;
        std::span<const tutti::rtp_extension_element> exts;
        if (level_id != 0 && level) {
            level_byte = tutti::encode_audio_level(*level);
            element = {level_id, {&level_byte, 1}};
            exts = {&element, 1};
        }
        const std::ptrdiff_t m = tutti::write_rtp(h, exts, payload, expected);
        ASSERT_EQ(n, m) << "round " << round;
        if (n > 0) {
            ASSERT_TRUE(std::equal(out.begin(), out.begin() + n, expected.begin())) << "round " << round;
        }
        // The second packet: no marker unless asked, the sequence and timestamp moved on.
        const std::ptrdiff_t n2 = p.packetize(payload, 960, false, out, level);
        h.marker = false;
        h.sequence = static_cast<std::uint16_t>(seq + 1);
        h.timestamp = ts + 960;
        ASSERT_EQ(n2, tutti::write_rtp(h, exts, payload, expected)) << "round " << round;
        if (n2 > 0) {
            ASSERT_TRUE(std::equal(out.begin(), out.begin() + n2, expected.begin())) << "round " << round;
        }
    }
    // Too small a buffer: refused, nothing moves on.
    tutti::rtp_packetizer p = make(111, 48000, 7, 7, 1);
    std::array<std::uint8_t, 30> small{};
    EXPECT_LT(p.packetize(bytes(20, 1), 960, false, small, tutti::rtp_audio_level{true, 30}), 0);
    const std::ptrdiff_t n = p.packetize(bytes(10, 1), 960, false, small, tutti::rtp_audio_level{true, 30});
    ASSERT_EQ(n, 30);
    const packet k = reparse(small, n);
    EXPECT_EQ(k.view.sequence(), 7);
    EXPECT_EQ(k.view.timestamp(), 7u);
}

TEST(RtpPacketizer, CsrcsListed) {
    auto pz = make();
    std::array<std::uint8_t, 512> out{};
    const std::uint32_t csrcs[] = {11, 22, 33};
    const packet p = reparse(out, pz.packetize(frame_payload, 160, false, out, std::nullopt, csrcs));
    ASSERT_EQ(p.view.csrc_count(), 3u);
    EXPECT_EQ(p.view.csrc(0), 11u);
    EXPECT_EQ(p.view.csrc(2), 33u);
    const std::uint32_t too_many[16] = {};
    EXPECT_EQ(pz.packetize(frame_payload, 160, false, out, std::nullopt, too_many),
              tutti::as_count(tutti::status::invalid_argument));
}

TEST(RtpPacketizer, RandomStartingValues) {
    auto with_seed = [](std::optional<std::uint64_t> seed) {
        tutti::rtp_packetizer p;
        tutti::rtp_packetizer_config c;
        c.payload_type = 8;
        c.seed = seed;
        EXPECT_EQ(p.init(c), tutti::status::ok);
        return std::pair{p.next_sequence(), p.next_timestamp()};
    };
    EXPECT_EQ(with_seed(42), with_seed(42));
    EXPECT_NE(with_seed(42), with_seed(43));
    std::set<std::uint32_t> stamps;
    for (std::uint64_t s = 0; s < 200; ++s) {
        const auto [seq, ts] = with_seed(s);
        EXPECT_LT(seq, 32768);  // no wrap within the first 32768 packets
        stamps.insert(ts);
    }
    EXPECT_GT(stamps.size(), 195u);
    // std::random_device: two streams do not start alike.
    EXPECT_NE(with_seed(std::nullopt), with_seed(std::nullopt));
}

TEST(RtpPacketizer, CodecAndFrameSizeChangeKeepMediaTime) {
    auto pz = make(0, 8000, 10, 0);
    std::array<std::uint8_t, 512> out{};
    (void)reparse(out, pz.packetize(frame_payload, 160, false, out));  // PCMU 20 ms
    (void)reparse(out, pz.packetize(frame_payload, 160, false, out));
    ASSERT_EQ(pz.set_payload_type(9), tutti::status::ok);                // G.722 (8000 clock), 30 ms
    const packet a = reparse(out, pz.packetize(frame_payload, 240, false, out));
    const packet b = reparse(out, pz.packetize(frame_payload, 240, false, out));
    ASSERT_EQ(pz.set_payload_type(0), tutti::status::ok);                // back to PCMU, 10 ms
    const packet c = reparse(out, pz.packetize(frame_payload, 80, false, out));
    const packet d = reparse(out, pz.packetize(frame_payload, 80, false, out));
    EXPECT_EQ(a.view.payload_type(), 9);
    EXPECT_EQ(a.view.timestamp(), 320u);
    EXPECT_EQ(b.view.timestamp(), 560u);
    EXPECT_EQ(c.view.payload_type(), 0);
    EXPECT_EQ(c.view.timestamp(), 800u);
    EXPECT_EQ(d.view.timestamp(), 880u);
    EXPECT_EQ(d.view.sequence(), 15);
    EXPECT_FALSE(a.view.marker() || b.view.marker() || c.view.marker() || d.view.marker());
    EXPECT_EQ(pz.set_payload_type(80), tutti::status::invalid_argument);
    EXPECT_EQ(pz.payload_type(), 0);
}

TEST(RtpPacketizer, ClockRateChangeContinuesTheTimestampAndMarks) {
    auto pz = make(0, 8000, 10, 1000);
    std::array<std::uint8_t, 512> out{};
    (void)reparse(out, pz.packetize(frame_payload, 160, false, out));
    ASSERT_EQ(pz.set_payload_type(111), tutti::status::ok);
    ASSERT_EQ(pz.set_clock_rate(48000), tutti::status::ok);
    EXPECT_EQ(pz.clock_rate_hz(), 48000u);
    const packet a = reparse(out, pz.packetize(frame_payload, 960, false, out));
    const packet b = reparse(out, pz.packetize(frame_payload, 960, false, out));
    EXPECT_EQ(a.view.timestamp(), 1160u);
    EXPECT_TRUE(a.view.marker());
    EXPECT_EQ(b.view.timestamp(), 2120u);
    EXPECT_FALSE(b.view.marker());
    // Setting the same rate again is not a discontinuity.
    ASSERT_EQ(pz.set_clock_rate(48000), tutti::status::ok);
    EXPECT_FALSE(reparse(out, pz.packetize(frame_payload, 960, false, out)).view.marker());
    EXPECT_EQ(pz.set_clock_rate(0), tutti::status::invalid_argument);
}

TEST(RtpPacketizer, ErrorsChangeNothing) {
    std::array<std::uint8_t, 512> out{};
    tutti::rtp_packetizer idle;
    EXPECT_EQ(idle.packetize(frame_payload, 160, false, out), tutti::as_count(tutti::status::invalid_argument));
    EXPECT_EQ(idle.begin_event(1, 10, 0, out), tutti::as_count(tutti::status::invalid_argument));
    EXPECT_EQ(idle.set_clock_rate(8000), tutti::status::invalid_argument);

    tutti::rtp_packetizer_config c;
    for (const std::uint8_t pt : {std::uint8_t{64}, std::uint8_t{72}, std::uint8_t{95}, std::uint8_t{128}}) {
        c.payload_type = pt;
        EXPECT_EQ(idle.init(c), tutti::status::invalid_argument) << int{pt};
    }
    c.payload_type = 96;
    c.clock_rate_hz = 0;
    EXPECT_EQ(idle.init(c), tutti::status::invalid_argument);
    c.clock_rate_hz = 8000;
    c.telephone_event_payload_type = 200;
    EXPECT_EQ(idle.init(c), tutti::status::invalid_argument);

    auto pz = make(0, 8000, 500, 9000);
    EXPECT_EQ(pz.packetize({}, 160, false, out), tutti::as_count(tutti::status::invalid_argument));
    EXPECT_EQ(pz.packetize(frame_payload, 0, false, out), tutti::as_count(tutti::status::invalid_argument));
    EXPECT_EQ(pz.packetize(frame_payload, 160, false, std::span<std::uint8_t>(out.data(), 171)),
              tutti::as_count(tutti::status::buffer_too_small));
    EXPECT_EQ(pz.next_sequence(), 500);
    EXPECT_EQ(pz.next_timestamp(), 9000u);
    EXPECT_EQ(pz.packets_sent(), 0u);
    const packet p = reparse(out, pz.packetize(frame_payload, 160, false, std::span<std::uint8_t>(out.data(), 172)));
    EXPECT_TRUE(p.view.marker());  // still the first packet
    EXPECT_EQ(p.view.sequence(), 500);
}

TEST(RtpPacketizer, TelephoneEventPackets) {
    auto pz = make(0, 8000, 65534, 8000);
    std::array<std::uint8_t, 512> out{};
    (void)reparse(out, pz.packetize(frame_payload, 160, false, out));  // audio at 8000
    // Digit 5 at the next frame's time; audio suppressed (skipped) meanwhile.
    std::vector<packet> sent;
    sent.push_back(reparse(out, pz.begin_event(5, 10, 160, out)));
    EXPECT_TRUE(pz.event_active());
    pz.skip(160);
    sent.push_back(reparse(out, pz.update_event(320, out)));
    pz.skip(160);
    sent.push_back(reparse(out, pz.update_event(480, out)));
    pz.skip(160);
    sent.push_back(reparse(out, pz.end_event(640, out)));
    EXPECT_FALSE(pz.event_active());
    EXPECT_EQ(pz.event_end_repeats_pending(), 2);
    sent.push_back(reparse(out, pz.repeat_event_end(out)));
    sent.push_back(reparse(out, pz.repeat_event_end(out)));
    EXPECT_EQ(pz.repeat_event_end(out), 0);
    EXPECT_EQ(pz.event_end_repeats_pending(), 0);

    const std::vector<std::uint16_t> durations = {160, 320, 480, 640, 640, 640};
    ASSERT_EQ(sent.size(), durations.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        SCOPED_TRACE(i);
        const packet& p = sent[i];
        EXPECT_EQ(p.view.payload_type(), 101);
        EXPECT_EQ(p.view.timestamp(), 8160u);  // one timestamp for the whole event
        EXPECT_EQ(p.view.sequence(), static_cast<std::uint16_t>(65535 + i));
        EXPECT_EQ(p.view.marker(), i == 0);
        EXPECT_EQ(p.view.ssrc(), 0x5EED5EEDu);
        const auto ev = event_of(p);
        EXPECT_EQ(ev.event, 5);
        EXPECT_EQ(ev.volume, 10);
        EXPECT_EQ(ev.duration, durations[i]);
        EXPECT_EQ(ev.end, i >= 3);
    }
    // Audio resumes after the event: media time moved on, the marker is set.
    const packet a = reparse(out, pz.packetize(frame_payload, 160, false, out));
    EXPECT_EQ(a.view.timestamp(), 8160u + 3 * 160);
    EXPECT_EQ(a.view.sequence(), 5);
    EXPECT_TRUE(a.view.marker());

    // The decoder sees one digit, begun and ended once.
    tutti::telephone_event_decoder dec;
    std::array<tutti::telephone_event_notification, 3> notes{};
    std::vector<tutti::telephone_event_notification> got;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const std::ptrdiff_t n = dec.push(sent[i].view, i * 20000, notes);
        ASSERT_GE(n, 0);
        got.insert(got.end(), notes.begin(), notes.begin() + n);
    }
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].kind, tutti::telephone_event_kind::begin);
    EXPECT_EQ(got[0].key, '5');
    EXPECT_EQ(got[1].kind, tutti::telephone_event_kind::end);
    EXPECT_EQ(got[1].duration_ms, 80u);
    EXPECT_EQ(got[1].reason, tutti::telephone_event_end_reason::end_bit);
}

TEST(RtpPacketizer, TelephoneEventErrors) {
    std::array<std::uint8_t, 512> out{};
    tutti::rtp_packetizer no_events;
    tutti::rtp_packetizer_config c;
    c.seed = 3;
    ASSERT_EQ(no_events.init(c), tutti::status::ok);
    EXPECT_EQ(no_events.begin_event(1, 10, 0, out), tutti::as_count(tutti::status::unsupported));

    auto pz = make();
    const auto invalid = tutti::as_count(tutti::status::invalid_argument);
    EXPECT_EQ(pz.update_event(100, out), invalid);  // no event
    EXPECT_EQ(pz.end_event(100, out), invalid);
    EXPECT_EQ(pz.begin_event(1, 64, 0, out), invalid);  // volume
    EXPECT_EQ(pz.begin_event(1, 10, 0x10000, out), invalid);
    EXPECT_EQ(pz.begin_event(1, 10, 0, std::span<std::uint8_t>(out.data(), 15)), tutti::as_count(tutti::status::buffer_too_small));
    EXPECT_FALSE(pz.event_active());
    ASSERT_GT(pz.begin_event(1, 10, 0, out), 0);
    EXPECT_EQ(pz.begin_event(2, 10, 0, out), invalid);  // still in progress
    EXPECT_EQ(pz.set_clock_rate(16000), tutti::status::invalid_argument);
    ASSERT_GT(pz.update_event(400, out), 0);
    EXPECT_EQ(pz.update_event(399, out), invalid);  // durations never go back
    ASSERT_GT(pz.end_event(400, out), 0);
    // The timestamp has not moved: a second event would share it.
    EXPECT_EQ(pz.begin_event(2, 10, 0, out), invalid);
    pz.skip(160);
    ASSERT_GT(pz.begin_event(2, 10, 0, out), 0);
    EXPECT_EQ(pz.event_end_repeats_pending(), 0);  // the new event cancelled the old repeats
}

TEST(RtpPacketizer, LongTelephoneEventIsSegmented) {
    // 3 s of '#' at 48 kHz (144000 units), updates every 50 ms (2400 units).
    auto pz = make(111, 48000, 100, 0xFFFFF000u);
    std::array<std::uint8_t, 512> out{};
    std::vector<packet> sent;
    sent.push_back(reparse(out, pz.begin_event(11, 7, 2400, out)));
    for (std::uint32_t d = 4800; d < 144000; d += 2400) {
        pz.skip(2400);
        sent.push_back(reparse(out, pz.update_event(d, out)));
    }
    pz.skip(2400);
    sent.push_back(reparse(out, pz.end_event(144000, out)));
    sent.push_back(reparse(out, pz.repeat_event_end(out)));
    sent.push_back(reparse(out, pz.repeat_event_end(out)));

    // Timestamps and wire durations: segment k starts at ts0 + k * 0xFFFF.
    const std::uint32_t ts0 = 0xFFFFF000u;
    std::vector<std::string> trace;
    std::uint32_t last_ts = ts0;
    int full_packets_in_a_row = 0;
    for (const packet& p : sent) {
        const auto ev = event_of(p);
        if (p.view.timestamp() != last_ts) {
            EXPECT_EQ(p.view.timestamp(), last_ts + 0xFFFF);
            EXPECT_EQ(full_packets_in_a_row, 3);  // the 0xFFFF packet went out three times first
            last_ts = p.view.timestamp();
        }
        full_packets_in_a_row = ev.duration == 0xFFFF ? full_packets_in_a_row + 1 : 0;
        EXPECT_EQ(ev.event, 11);
        EXPECT_FALSE(p.view.marker() && &p != &sent.front());
    }
    EXPECT_EQ(last_ts, ts0 + 2 * 0xFFFF);
    EXPECT_EQ(event_of(sent.back()).duration, 144000 - 2 * 0xFFFF);
    EXPECT_TRUE(event_of(sent.back()).end);
    EXPECT_TRUE(sent.front().view.marker());

    tutti::telephone_event_decoder dec({48000});
    std::array<tutti::telephone_event_notification, 3> notes{};
    std::vector<tutti::telephone_event_notification> got;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const std::ptrdiff_t n = dec.push(sent[i].view, i * 50000, notes);
        ASSERT_GE(n, 0);
        got.insert(got.end(), notes.begin(), notes.begin() + n);
    }
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].duration, 144000u);
    EXPECT_EQ(got[1].duration_ms, 3000u);
    EXPECT_EQ(got[1].rtp_timestamp, ts0);
    EXPECT_EQ(dec.counters().segments, 2u);
}

TEST(RtpPacketizer, EndBeyondAnUnannouncedSegmentBoundary) {
    // The caller jumps from 1000 straight to an end at 70000 (8 kHz): the
    // final packets carry the second segment.
    auto pz = make(0, 8000, 1, 0);
    std::array<std::uint8_t, 512> out{};
    (void)reparse(out, pz.begin_event(3, 10, 1000, out));
    const packet e = reparse(out, pz.end_event(70000, out));
    EXPECT_EQ(e.view.timestamp(), 0xFFFFu);
    EXPECT_EQ(event_of(e).duration, 70000 - 0xFFFF);
    EXPECT_TRUE(event_of(e).end);
}

TEST(RtpPacketizer, PacketizeAndEventsNeverAllocate) {
    auto pz = make(111, 48000, 1, 0, 1);
    std::array<std::uint8_t, 512> out{};
    const std::uint32_t csrcs[] = {1, 2};
    std::ptrdiff_t bytes_written = 0;
    tutti_test::alloc_counter allocs;
    for (int i = 0; i < 1000; ++i) {
        if (i % 10 == 9) {
            pz.skip(960);
            continue;
        }
        bytes_written += pz.packetize(frame_payload, 960, i % 50 == 0, out, tutti::rtp_audio_level{true, 40}, csrcs);
    }
    bytes_written += pz.begin_event(1, 10, 960, out);
    pz.skip(960);
    bytes_written += pz.update_event(1920, out);
    bytes_written += pz.end_event(2400, out);
    bytes_written += pz.repeat_event_end(out);
    EXPECT_EQ(allocs.count(), 0u);
    EXPECT_EQ(bytes_written, 900 * (12 + 8 + 8 + 160) + 4 * 16);
}
