// Tests for tutti/telephone_event.hpp: the RFC 4733 payload, the key map, and
// the per-SSRC decoder on scripted packet sequences (normal, lost begin, lost
// ends, reordering, duplicates, long-event segments, digits back to back)
// with the exact begin/end notifications expected.
#include "tutti/telephone_event.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "tutti/rtp.hpp"

namespace {

using tutti::telephone_event_notification;

// One packet of a script: RTP timestamp, event block, arrival time in ms.
struct pkt {
    std::uint32_t ts;
    std::uint8_t event;
    bool end;
    std::uint16_t duration;
    std::uint64_t at_ms;
};

std::string describe(const telephone_event_notification& n) {
    std::string s = n.kind == tutti::telephone_event_kind::begin ? "begin " : "end ";
    s += n.key != '\0' ? std::string(1, n.key) : "#" + std::to_string(n.event);
    s += " @" + std::to_string(n.rtp_timestamp);
    if (n.kind == tutti::telephone_event_kind::end) {
        s += " " + std::to_string(n.duration) + " " + std::to_string(n.duration_ms) + "ms";
        switch (n.reason) {
            case tutti::telephone_event_end_reason::end_bit: s += " end_bit"; break;
            case tutti::telephone_event_end_reason::timeout: s += " timeout"; break;
            case tutti::telephone_event_end_reason::superseded: s += " superseded"; break;
            case tutti::telephone_event_end_reason::none: s += " none?"; break;
        }
    }
    return s;
}

std::array<std::uint8_t, 4> block(std::uint8_t event, bool end, std::uint16_t duration, std::uint8_t volume = 10) {
    std::array<std::uint8_t, 4> b{};
    EXPECT_EQ(tutti::write_telephone_event({event, end, volume, duration}, b), 4);
    return b;
}

// Feeds `script` to `dec`; returns every notification, then those of a poll
// at `poll_ms` (if not 0).
std::vector<std::string> run(tutti::telephone_event_decoder& dec, const std::vector<pkt>& script, std::uint64_t poll_ms = 0) {
    std::vector<std::string> got;
    std::array<telephone_event_notification, tutti::telephone_event_max_notifications> out{};
    for (const pkt& p : script) {
        const auto payload = block(p.event, p.end, p.duration);
        const std::ptrdiff_t n = dec.push(p.ts, payload, p.at_ms * 1000, out);
        EXPECT_GE(n, 0);
        for (std::ptrdiff_t i = 0; i < n; ++i) got.push_back(describe(out[static_cast<std::size_t>(i)]));
    }
    if (poll_ms != 0) {
        const std::ptrdiff_t n = dec.poll(poll_ms * 1000, out);
        EXPECT_GE(n, 0);
        for (std::ptrdiff_t i = 0; i < n; ++i) got.push_back(describe(out[static_cast<std::size_t>(i)]));
    }
    return got;
}

using strings = std::vector<std::string>;

// Digit `ev` at timestamp `ts`, 8 kHz, an update every 50 ms (400 units),
// `updates` updates then three ends, first packet at `t0` ms.
std::vector<pkt> digit(std::uint32_t ts, std::uint8_t ev, int updates, std::uint64_t t0) {
    std::vector<pkt> s;
    for (int i = 1; i <= updates; ++i)
        s.push_back({ts, ev, false, static_cast<std::uint16_t>(400 * i), t0 + 50 * static_cast<std::uint64_t>(i - 1)});
    const auto final_duration = static_cast<std::uint16_t>(400 * (updates + 1));
    const std::uint64_t t_end = t0 + 50 * static_cast<std::uint64_t>(updates);
    for (int i = 0; i < 3; ++i) s.push_back({ts, ev, true, final_duration, t_end + 20 * static_cast<std::uint64_t>(i)});
    return s;
}

}  // namespace

TEST(TelephoneEventPayload, ParseAndWriteByteExact) {
    // RFC 4733 §2.3: event | E R volume | duration. Digit 9, E, volume 10, 1000 units.
    const std::uint8_t wire[] = {0x09, 0x8A, 0x03, 0xE8};
    tutti::telephone_event_payload ev;
    ASSERT_EQ(tutti::parse_telephone_event(wire, ev), tutti::status::ok);
    EXPECT_EQ(ev, (tutti::telephone_event_payload{9, true, 10, 1000}));
    std::uint8_t out[4] = {};
    ASSERT_EQ(tutti::write_telephone_event(ev, out), 4);
    EXPECT_EQ(std::vector<std::uint8_t>(out, out + 4), std::vector<std::uint8_t>(wire, wire + 4));

    // R bit ignored; 63 is the top volume; extra bytes ignored.
    const std::uint8_t with_r[] = {0x10, 0x7F, 0xFF, 0xFF, 0x0B, 0x00, 0x00, 0x00};
    ASSERT_EQ(tutti::parse_telephone_event(with_r, ev), tutti::status::ok);
    EXPECT_EQ(ev, (tutti::telephone_event_payload{16, false, 63, 0xFFFF}));

    // Errors.
    const std::uint8_t short_payload[] = {0x01, 0x0A, 0x00};
    tutti::telephone_event_payload untouched{7, true, 1, 2};
    EXPECT_EQ(tutti::parse_telephone_event(short_payload, untouched), tutti::status::truncated);
    EXPECT_EQ(untouched, (tutti::telephone_event_payload{7, true, 1, 2}));
    EXPECT_EQ(tutti::parse_telephone_event({}, untouched), tutti::status::truncated);
    EXPECT_EQ(tutti::write_telephone_event({1, false, 64, 0}, out), tutti::as_count(tutti::status::invalid_argument));
    EXPECT_EQ(tutti::write_telephone_event({1, false, 0, 0}, std::span<std::uint8_t>(out, 3)),
              tutti::as_count(tutti::status::buffer_too_small));
}

TEST(TelephoneEventPayload, KeyMap) {
    const std::string keys = "0123456789*#ABCD!";
    for (int code = 0; code < 256; ++code) {
        const char c = tutti::telephone_event_char(static_cast<std::uint8_t>(code));
        if (code < static_cast<int>(keys.size())) {
            EXPECT_EQ(c, keys[static_cast<std::size_t>(code)]) << code;
            EXPECT_EQ(tutti::telephone_event_code(c), code);
        } else {
            EXPECT_EQ(c, '\0') << code;
        }
    }
    EXPECT_EQ(tutti::telephone_event_code('a'), 12);
    EXPECT_EQ(tutti::telephone_event_code('d'), 15);
    EXPECT_EQ(tutti::telephone_event_code('E'), -1);
    EXPECT_EQ(tutti::telephone_event_code('\0'), -1);
    EXPECT_EQ(tutti::telephone_event_code(' '), -1);
}

TEST(TelephoneEventDecoder, NormalDigitWithRedundantEnds) {
    tutti::telephone_event_decoder dec;
    EXPECT_EQ(run(dec, digit(1000, 5, 3, 0)), (strings{"begin 5 @1000", "end 5 @1000 1600 200ms end_bit"}));
    EXPECT_FALSE(dec.active());
    EXPECT_EQ(dec.counters().events, 1u);
    EXPECT_EQ(dec.counters().packets, 6u);
    EXPECT_EQ(dec.counters().duplicates, 2u);  // the two redundant ends
    EXPECT_EQ(dec.counters().ends_by_timeout, 0u);
}

TEST(TelephoneEventDecoder, LostFirstPacketBeginsOnAnUpdate) {
    tutti::telephone_event_decoder dec;
    std::vector<pkt> s = digit(1000, 1, 3, 0);
    s.erase(s.begin());  // the marker packet is lost
    EXPECT_EQ(run(dec, s), (strings{"begin 1 @1000", "end 1 @1000 1600 200ms end_bit"}));
}

TEST(TelephoneEventDecoder, OnlyAnEndPacketArrives) {
    tutti::telephone_event_decoder dec;
    EXPECT_EQ(run(dec, {{4000, 11, true, 800, 0}, {4000, 11, true, 800, 20}}),
              (strings{"begin # @4000", "end # @4000 800 100ms end_bit"}));
    EXPECT_EQ(dec.counters().events, 1u);
    EXPECT_EQ(dec.counters().duplicates, 1u);
}

TEST(TelephoneEventDecoder, LostEndsTimeOutAfterFiveUpdateIntervals) {
    tutti::telephone_event_decoder dec;
    std::vector<pkt> s = digit(1000, 7, 3, 0);  // updates at 0, 50, 100 ms
    s.resize(3);                                // all three ends lost
    EXPECT_EQ(run(dec, s), (strings{"begin 7 @1000"}));
    ASSERT_TRUE(dec.timeout_at_us().has_value());
    EXPECT_EQ(*dec.timeout_at_us(), (100 + 250) * 1000u);  // 5 x 50 ms after the last packet
    std::array<telephone_event_notification, 3> out{};
    EXPECT_EQ(dec.poll(349999, out), 0);
    EXPECT_TRUE(dec.active());
    ASSERT_EQ(dec.poll(350000, out), 1);
    EXPECT_EQ(describe(out[0]), "end 7 @1000 1200 150ms timeout");
    EXPECT_FALSE(dec.active());
    EXPECT_FALSE(dec.timeout_at_us().has_value());
    EXPECT_EQ(dec.poll(400000, out), 0);
    // A late end after the timeout changes nothing.
    EXPECT_EQ(run(dec, {{1000, 7, true, 1600, 400}}), strings{});
    EXPECT_EQ(dec.counters().ends_by_timeout, 1u);
    EXPECT_EQ(dec.counters().duplicates, 1u);
}

TEST(TelephoneEventDecoder, TimeoutFollowsTheMeasuredInterval) {
    // 20 ms updates (160 units): timeout 100 ms after the last packet.
    tutti::telephone_event_decoder dec;
    EXPECT_EQ(run(dec, {{0, 3, false, 160, 0}, {0, 3, false, 320, 20}}, 119), (strings{"begin 3 @0"}));
    EXPECT_EQ(run(dec, {}, 120), (strings{"end 3 @0 320 40ms timeout"}));
    // Before any step is measured the default interval (50 ms) applies.
    tutti::telephone_event_decoder fresh;
    EXPECT_EQ(run(fresh, {{0, 3, false, 0, 0}}, 249), (strings{"begin 3 @0"}));
    EXPECT_EQ(run(fresh, {}, 250), (strings{"end 3 @0 0 0ms timeout"}));
}

TEST(TelephoneEventDecoder, RepeatsKeepTheEventAlive) {
    // 20 ms updates (timeout 100 ms), then the last update retransmitted every
    // 60 ms: each repeat restarts the timeout, so the late end still counts.
    tutti::telephone_event_decoder dec;
    EXPECT_EQ(run(dec, {{0, 2, false, 160, 0}, {0, 2, false, 320, 20}, {0, 2, false, 320, 80},
                        {0, 2, false, 320, 140}, {0, 2, false, 320, 200}, {0, 2, true, 480, 260}}),
              (strings{"begin 2 @0", "end 2 @0 480 60ms end_bit"}));
    EXPECT_EQ(dec.counters().duplicates, 3u);
    EXPECT_EQ(dec.counters().ends_by_timeout, 0u);
}

TEST(TelephoneEventDecoder, TimeoutIsAlsoCheckedOnPush) {
    tutti::telephone_event_decoder dec;
    // Ends of '4' lost; the next digit arrives long after the timeout without a poll in between.
    EXPECT_EQ(run(dec, {{0, 4, false, 400, 0}, {0, 4, false, 800, 50}, {16000, 6, false, 400, 2000}}),
              (strings{"begin 4 @0", "end 4 @0 800 100ms timeout", "begin 6 @16000"}));
}

TEST(TelephoneEventDecoder, LostEndsSupersededByTheNextDigit) {
    tutti::telephone_event_decoder dec;
    std::vector<pkt> s = digit(1000, 2, 2, 0);
    s.resize(2);  // ends of '2' lost
    for (const pkt& p : digit(1000 + 1600, 3, 2, 130)) s.push_back(p);
    EXPECT_EQ(run(dec, s), (strings{"begin 2 @1000", "end 2 @1000 800 100ms superseded", "begin 3 @2600",
                                    "end 3 @2600 1200 150ms end_bit"}));
    EXPECT_EQ(dec.counters().ends_superseded, 1u);
}

TEST(TelephoneEventDecoder, SameDigitTwiceWithLostEndsIsTwoEvents) {
    tutti::telephone_event_decoder dec;
    EXPECT_EQ(run(dec, {{1000, 5, false, 400, 0}, {1000, 5, false, 800, 50}, {2600, 5, false, 400, 200},
                        {2600, 5, true, 800, 250}}),
              (strings{"begin 5 @1000", "end 5 @1000 800 100ms superseded", "begin 5 @2600",
                       "end 5 @2600 800 100ms end_bit"}));
    EXPECT_EQ(dec.counters().segments, 0u);
}

TEST(TelephoneEventDecoder, ReorderedPacketsWithinOneEvent) {
    tutti::telephone_event_decoder dec;
    EXPECT_EQ(run(dec, {{500, 0, false, 800, 0},    // second update overtook the first packet
                        {500, 0, false, 400, 5},    // late first packet
                        {500, 0, true, 1600, 100},  // an end overtook the last update
                        {500, 0, false, 1200, 105},
                        {500, 0, true, 1600, 120}}),
              (strings{"begin 0 @500", "end 0 @500 1600 200ms end_bit"}));
    EXPECT_EQ(dec.counters().duplicates, 3u);
}

TEST(TelephoneEventDecoder, RetransmittedAndStalePacketsAreDuplicates) {
    tutti::telephone_event_decoder dec;
    EXPECT_EQ(run(dec, {{500, 9, false, 400, 0},
                        {500, 9, false, 400, 1},    // retransmission
                        {500, 9, false, 800, 50},
                        {500, 9, false, 800, 51},   // retransmission
                        {499, 9, false, 4000, 60},  // older timestamp: stale
                        {500, 9, true, 1200, 100}}),
              (strings{"begin 9 @500", "end 9 @500 1200 150ms end_bit"}));
    EXPECT_EQ(dec.counters().duplicates, 3u);
}

TEST(TelephoneEventDecoder, TwoDigitsBackToBack) {
    tutti::telephone_event_decoder dec;
    std::vector<pkt> s = digit(8000, 1, 2, 0);                   // ends at 100..140 ms
    for (const pkt& p : digit(8000 + 1600, 2, 2, 150)) s.push_back(p);
    for (const pkt& p : digit(8000 + 3200, 1, 2, 300)) s.push_back(p);  // '1' again
    EXPECT_EQ(run(dec, s), (strings{"begin 1 @8000", "end 1 @8000 1200 150ms end_bit", "begin 2 @9600",
                                    "end 2 @9600 1200 150ms end_bit", "begin 1 @11200",
                                    "end 1 @11200 1200 150ms end_bit"}));
    EXPECT_EQ(dec.counters().events, 3u);
    EXPECT_EQ(dec.counters().duplicates, 6u);
}

TEST(TelephoneEventDecoder, LongEventSegmentsAddUp) {
    // 10 s of '#' at 8 kHz = 80000 units: a 0xFFFF segment, then one of 14465.
    for (const bool lose_segment_end : {false, true}) {
        SCOPED_TRACE(lose_segment_end);
        tutti::telephone_event_decoder dec;
        std::vector<pkt> s;
        const std::uint32_t t0 = 0xFFFF8000u;  // the timestamps wrap inside the event too
        std::uint64_t ms = 0;
        for (std::uint32_t d = 400; d < 0xFFFF; d += 400, ms += 50) s.push_back({t0, 11, false, static_cast<std::uint16_t>(d), ms});
        if (!lose_segment_end)
            for (int i = 0; i < 3; ++i, ms += 50) s.push_back({t0, 11, false, 0xFFFF, ms});
        const std::uint32_t t1 = t0 + 0xFFFF;
        for (std::uint32_t d = 400; d < 14465; d += 400, ms += 50) s.push_back({t1, 11, false, static_cast<std::uint16_t>(d), ms});
        for (int i = 0; i < 3; ++i, ms += 20) s.push_back({t1, 11, true, 14465, ms});
        EXPECT_EQ(run(dec, s), (strings{"begin # @4294934528", "end # @4294934528 80000 10000ms end_bit"}));
        EXPECT_EQ(dec.counters().segments, 1u);
        EXPECT_EQ(dec.counters().events, 1u);
        EXPECT_EQ(dec.counters().ends_by_timeout, 0u);
    }
}

TEST(TelephoneEventDecoder, LongEventAt48kHzOverThreeSegments) {
    tutti::telephone_event_decoder dec({48000});
    std::vector<pkt> s;
    const std::uint32_t step = 2400;  // 50 ms at 48 kHz
    std::uint64_t ms = 0;
    std::uint32_t ts = 1;
    for (int seg = 0; seg < 3; ++seg, ts += 0xFFFF) {
        for (std::uint32_t d = step; d < 0xFFFF; d += step, ms += 50) s.push_back({ts, 1, false, static_cast<std::uint16_t>(d), ms});
        // The capped packet three times, an update interval apart (RFC 4733 §2.5.1.4): the
        // short step to 0xFFFF must not shrink the timeout, and the repeats keep the event alive.
        for (int k = 0; k < 3; ++k, ms += 50) s.push_back({ts, 1, false, 0xFFFF, ms});
    }
    s.push_back({ts, 1, true, 24000, ms + 50});  // 0.5 s into the fourth segment
    const std::uint64_t total = 3u * 0xFFFF + 24000;
    EXPECT_EQ(run(dec, s), (strings{"begin 1 @1", "end 1 @1 " + std::to_string(total) + " " +
                                                      std::to_string((total * 1000 + 24000) / 48000) + "ms end_bit"}));
    EXPECT_EQ(dec.counters().segments, 3u);
    EXPECT_EQ(dec.counters().ends_by_timeout, 0u);
}

TEST(TelephoneEventDecoder, OlderTimestampAfterTheLateWindowIsANewEvent) {
    tutti::telephone_event_decoder dec;
    EXPECT_EQ(run(dec, {{100000, 8, true, 800, 0}, {50, 8, true, 800, 900}}), (strings{"begin 8 @100000", "end 8 @100000 800 100ms end_bit"}));
    // 1 s after the last accepted packet the sender is taken to have restarted its timestamps.
    EXPECT_EQ(run(dec, {{50, 8, true, 800, 1000}}), (strings{"begin 8 @50", "end 8 @50 800 100ms end_bit"}));
}

TEST(TelephoneEventDecoder, FlashAndUnknownEvents) {
    tutti::telephone_event_decoder dec;
    EXPECT_EQ(run(dec, {{0, 16, true, 4000, 0}, {8000, 200, true, 80, 1000}}),
              (strings{"begin ! @0", "end ! @0 4000 500ms end_bit", "begin #200 @8000", "end #200 @8000 80 10ms end_bit"}));
}

TEST(TelephoneEventDecoder, ParsedRtpPacketsAndErrors) {
    tutti::telephone_event_decoder dec;
    // PT 101, marker, seq 7, ts 0x00001000, SSRC 1: digit 4, volume 10, duration 160.
    const std::uint8_t packet[] = {0x80, 0xE5, 0x00, 0x07, 0x00, 0x00, 0x10, 0x00, 0, 0, 0, 1, 0x04, 0x0A, 0x00, 0xA0};
    tutti::rtp_packet_view v;
    ASSERT_EQ(tutti::parse_rtp(packet, v), tutti::rtp_parse_result::ok);
    std::array<telephone_event_notification, 3> out{};
    ASSERT_EQ(dec.push(v, 0, out), 1);
    EXPECT_EQ(describe(out[0]), "begin 4 @4096");
    EXPECT_EQ(out[0].volume, 10);
    EXPECT_EQ(out[0].reason, tutti::telephone_event_end_reason::none);

    const std::uint8_t short_payload[] = {0x04, 0x8A, 0x00};
    EXPECT_EQ(dec.push(0x1000, short_payload, 10, out), tutti::as_count(tutti::status::truncated));
    EXPECT_EQ(dec.counters().malformed, 1u);
    std::array<telephone_event_notification, 2> small{};
    const auto end_block = block(4, true, 320);
    EXPECT_EQ(dec.push(0x1000, end_block, 20, small), tutti::as_count(tutti::status::buffer_too_small));
    EXPECT_EQ(dec.poll(0, std::span<telephone_event_notification>{}), tutti::as_count(tutti::status::buffer_too_small));
    EXPECT_TRUE(dec.active());
    ASSERT_EQ(dec.push(0x1000, end_block, 20, out), 1);
    EXPECT_EQ(describe(out[0]), "end 4 @4096 320 40ms end_bit");

    // reset() forgets the event without reporting it.
    EXPECT_EQ(run(dec, {{9000, 1, false, 400, 100}}), strings{"begin 1 @9000"});
    dec.reset();
    EXPECT_FALSE(dec.active());
    EXPECT_EQ(dec.poll(10'000'000, out), 0);
    EXPECT_EQ(run(dec, {{9000, 1, false, 800, 150}}), strings{"begin 1 @9000"});
}

TEST(TelephoneEventDecoder, NeverAllocates) {
    tutti::telephone_event_decoder dec;
    std::vector<std::array<std::uint8_t, 4>> payloads;
    std::vector<std::uint32_t> stamps;
    for (std::uint32_t e = 0; e < 50; ++e)
        for (std::uint16_t d = 400; d <= 2000; d += 400) {
            payloads.push_back(block(static_cast<std::uint8_t>(e % 16), d == 2000, d));
            stamps.push_back(e * 4000);
        }
    std::array<telephone_event_notification, 3> out{};
    std::ptrdiff_t total = 0;
    tutti_test::alloc_counter allocs;
    for (std::size_t i = 0; i < payloads.size(); ++i) total += dec.push(stamps[i], payloads[i], i * 50000, out);
    total += dec.poll(1u << 30, out);
    EXPECT_EQ(allocs.count(), 0u);
    EXPECT_EQ(total, 100);
}
