// tests/sdp_test.cpp: tests for tutti/sdp.hpp.
//
// Tables of rtpmap and fmtp values (real-world spellings and malformed ones,
// with the exact fields or status expected), whole offers as Chrome, Firefox,
// Asterisk, FreeSWITCH, Linphone and Cisco phones write them (the fuzz seeds
// in tests/fuzz/corpus/sdp/ are parsed too), the documented tolerance rules
// (duplicates, case, spacing, session-level ptime) and every limit.
#include "tutti/sdp.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

using tutti::fmtp_param;
using tutti::sdp_format;
using tutti::status;

// ---------------------------------------------------------------------------
// rtpmap

struct rtpmap_case {
    const char* text;
    int pt;
    const char* name;
    std::uint32_t rate;
    std::uint16_t channels;
};

TEST(SdpRtpmap, RealWorldSpellings) {
    const rtpmap_case cases[] = {
        {"111 opus/48000/2", 111, "opus", 48000, 2},
        {"0 PCMU/8000", 0, "PCMU", 8000, 1},
        {"8 PCMA/8000/1", 8, "PCMA", 8000, 1},
        {"a=rtpmap:9 G722/8000", 9, "G722", 8000, 1},
        {"  101   telephone-event/8000  ", 101, "telephone-event", 8000, 1},
        {"110 telephone-event/48000", 110, "telephone-event", 48000, 1},
        {"13 CN/8000", 13, "CN", 8000, 1},
        {"63 red/48000/2", 63, "red", 48000, 2},
        {"96 L16/16000/2", 96, "L16", 16000, 2},
        {"102 OPUS/48000/2", 102, "OPUS", 48000, 2},
        {"127 AMR-WB/16000", 127, "AMR-WB", 16000, 1},
        {"97 speex/32000", 97, "speex", 32000, 1},
        {"96\topus/48000/2", 96, "opus", 48000, 2},
        {"0 x/1000000", 0, "x", 1000000, 1},
        {"007 PCMU/0008000/08", 7, "PCMU", 8000, 8},
    };
    for (const auto& c : cases) {
        sdp_format f;
        f.ptime_ms = 30;  // untouched by parse_rtpmap
        std::string error;
        ASSERT_EQ(tutti::parse_rtpmap(c.text, f, &error), status::ok) << c.text << ": " << error;
        EXPECT_EQ(f.payload_type, c.pt) << c.text;
        EXPECT_EQ(f.encoding_name, c.name) << c.text;
        EXPECT_EQ(f.clock_rate_hz, c.rate) << c.text;
        EXPECT_EQ(f.channels, c.channels) << c.text;
        EXPECT_EQ(f.ptime_ms, 30u);
    }
}

TEST(SdpRtpmap, MalformedIsRejectedWithAMessage) {
    struct bad {
        std::string text;
        const char* message_part;
    };
    const bad cases[] = {
        {"111 opus", "missing '/<clock rate>'"},
        {"111 opus/0/2", "clock rate 0"},
        {"111 opus/abc", "not a number"},
        {"111 opus/-8000", "not a number"},
        {"111 opus/1000001", "above 1000000"},
        {"111 opus/99999999999999999999999", "above 1000000"},
        {"111 opus/", "empty clock rate"},
        {"111 opus/48000/", "channel count"},
        {"111 opus/48000/0", "channel count"},
        {"111 opus/48000/9", "channel count"},
        {"111 opus/48000/2/1", "more than three"},
        {"128 opus/48000/2", "payload type"},
        {"1000 opus/48000/2", "payload type"},
        {"-1 opus/48000/2", "payload type"},
        {"opus/48000/2", "payload type"},
        {"111", "nothing after the payload type"},
        {"", "missing payload type"},
        {"111 /48000", "empty encoding name"},
        {"111 op us/48000", "unexpected space"},
        {"111 opus/48000 2", "unexpected space"},
        {"111 op:us/48000", "token"},
        {"111 " + std::string(65, 'a') + "/8000", "longer than 64"},
        {std::string("111 opus/48000\0/2", 17), "control character"},
        {"111 " + std::string(5000, 'a') + "/8000", "longer than 4096"},
    };
    for (const auto& c : cases) {
        sdp_format f;
        f.encoding_name = "unchanged";
        std::string error;
        EXPECT_EQ(tutti::parse_rtpmap(c.text, f, &error), status::malformed) << c.text;
        EXPECT_NE(error.find(c.message_part), std::string::npos) << c.text.substr(0, 40) << " -> " << error;
        EXPECT_EQ(f.encoding_name, "unchanged");
        EXPECT_LT(error.size(), 300u);
    }
    sdp_format f;
    EXPECT_EQ(tutti::parse_rtpmap("x", f), status::malformed);  // null error pointer is fine
}

// ---------------------------------------------------------------------------
// fmtp

TEST(SdpFmtp, RealWorldSpellings) {
    using params = std::vector<fmtp_param>;
    struct fmtp_case {
        const char* text;
        int pt;
        params expected;
    };
    const fmtp_case cases[] = {
        {"111 minptime=10;useinbandfec=1", 111, {{"minptime", "10"}, {"useinbandfec", "1"}}},
        {"111 minptime=10; useinbandfec=1", 111, {{"minptime", "10"}, {"useinbandfec", "1"}}},
        {"a=fmtp:111 minptime = 10 ;useinbandfec=1;", 111, {{"minptime", "10"}, {"useinbandfec", "1"}}},
        {"101 0-16", 101, {{"", "0-16"}}},
        {"101 0-15,16", 101, {{"", "0-15,16"}}},
        {"63 111/111", 63, {{"", "111/111"}}},
        {"18 annexb=no", 18, {{"annexb", "no"}}},
        {"102 useinbandfec=1; maxaveragebitrate=30000; maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40",
         102,
         {{"useinbandfec", "1"},
          {"maxaveragebitrate", "30000"},
          {"maxplaybackrate", "48000"},
          {"ptime", "20"},
          {"minptime", "10"},
          {"maxptime", "40"}}},
        {"97 sprop-parameter-sets=Z0IAH5Y=,aM4xUg==", 97, {{"sprop-parameter-sets", "Z0IAH5Y=,aM4xUg=="}}},
        {"96 mode-set=0,2,5,7; mode-change-period=2", 96, {{"mode-set", "0,2,5,7"}, {"mode-change-period", "2"}}},
        {"111 stereo=1;STEREO=0;Stereo=1", 111, {{"stereo", "1"}}},  // first value of a key wins
        {"111 empty=", 111, {{"empty", ""}}},
        {"111", 111, {}},
        {"111 ;;", 111, {}},
    };
    for (const auto& c : cases) {
        std::uint8_t pt = 0;
        params p{{"old", "x"}};
        std::string error;
        ASSERT_EQ(tutti::parse_fmtp(c.text, pt, p, &error), status::ok) << c.text << ": " << error;
        EXPECT_EQ(pt, c.pt) << c.text;
        EXPECT_EQ(p, c.expected) << c.text;
    }
    params p;
    ASSERT_EQ(tutti::parse_fmtp_params("maxplaybackrate=16000;sprop-stereo=0", p), status::ok);
    EXPECT_EQ(p, (params{{"maxplaybackrate", "16000"}, {"sprop-stereo", "0"}}));
    ASSERT_EQ(tutti::parse_fmtp_params("", p), status::ok);
    EXPECT_TRUE(p.empty());
}

TEST(SdpFmtp, MalformedIsRejectedWithAMessage) {
    std::string too_many = "111 ";
    for (int i = 0; i < 33; ++i) too_many += "k" + std::to_string(i) + "=1;";
    const std::pair<std::string, const char*> cases[] = {
        {"111 =5", "empty name"},
        {"111 a=1; =2", "empty name"},
        {"x minptime=10", "payload type"},
        {"300 a=1", "payload type"},
        {"", "missing payload type"},
        {"111 min ptime=10", "not an SDP token"},
        {"111 key=" + std::string(257, 'v'), "longer than 256"},
        {"111 " + std::string(65, 'k') + "=1", "longer than 64"},
        {too_many, "more than 32"},
        {std::string("111 a=\x01", 7), "control character"},
    };
    for (const auto& [text, part] : cases) {
        std::uint8_t pt = 42;
        std::vector<fmtp_param> p{{"old", "x"}};
        std::string error;
        EXPECT_EQ(tutti::parse_fmtp(text, pt, p, &error), status::malformed) << text.substr(0, 40);
        EXPECT_NE(error.find(part), std::string::npos) << text.substr(0, 40) << " -> " << error;
        EXPECT_EQ(pt, 42);
        EXPECT_EQ(p.size(), 1u);
    }
    // Exactly 32 parameters, 64-byte names and 256-byte values are fine.
    std::string at_limit = "111 ";
    for (int i = 0; i < 31; ++i) at_limit += "k" + std::to_string(i) + "=1;";
    at_limit += std::string(64, 'k') + "=" + std::string(256, 'v');
    std::uint8_t pt = 0;
    std::vector<fmtp_param> p;
    EXPECT_EQ(tutti::parse_fmtp(at_limit, pt, p), status::ok);
    EXPECT_EQ(p.size(), 32u);
}

TEST(SdpFormat, LookupsIgnoreCase) {
    sdp_format f;
    ASSERT_EQ(tutti::parse_rtpmap("111 OPUS/48000/2", f), status::ok);
    std::uint8_t pt = 0;
    ASSERT_EQ(tutti::parse_fmtp("111 useInbandFec=1;maxplaybackrate=16000;0-16", pt, f.fmtp), status::ok);
    EXPECT_TRUE(f.is("opus"));
    EXPECT_TRUE(f.is("Opus"));
    EXPECT_FALSE(f.is("opus2"));
    EXPECT_EQ(f.param("USEINBANDFEC"), "1");
    EXPECT_EQ(f.param("maxPlaybackRate"), "16000");
    EXPECT_EQ(f.param(""), "0-16");
    EXPECT_FALSE(f.param("usedtx").has_value());
    EXPECT_TRUE(tutti::iequals("telephone-EVENT", "Telephone-event"));
    EXPECT_FALSE(tutti::iequals("a", "ab"));
}

TEST(SdpFormat, StaticPayloadTypes) {
    const auto pcmu = tutti::static_payload_format(0);
    ASSERT_TRUE(pcmu);
    EXPECT_EQ(pcmu->encoding_name, "PCMU");
    EXPECT_EQ(pcmu->clock_rate_hz, 8000u);
    const auto g722 = tutti::static_payload_format(9);
    ASSERT_TRUE(g722);
    EXPECT_EQ(g722->encoding_name, "G722");
    EXPECT_EQ(g722->clock_rate_hz, 8000u);  // the RFC 3551 quirk: 16 kHz audio, 8 kHz clock
    const auto l16 = tutti::static_payload_format(10);
    ASSERT_TRUE(l16);
    EXPECT_EQ(l16->channels, 2);
    EXPECT_EQ(l16->clock_rate_hz, 44100u);
    EXPECT_EQ(tutti::static_payload_format(18)->encoding_name, "G729");
    EXPECT_EQ(tutti::static_payload_format(3)->encoding_name, "GSM");
    for (const int pt : {1, 2, 19, 34, 95, 96, 127}) EXPECT_FALSE(tutti::static_payload_format(static_cast<std::uint8_t>(pt))) << pt;
}

// ---------------------------------------------------------------------------
// Whole SDP bodies

std::string read_seed(const std::string& name) {
    const std::string path = std::string(TUTTI_TEST_SOURCE_DIR) + "/fuzz/corpus/sdp/" + name;
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct expect_format {
    int pt;
    const char* name;
    std::uint32_t rate;
    std::uint16_t channels;
    std::vector<fmtp_param> fmtp;
};

void expect_formats(const std::vector<sdp_format>& got, const std::vector<expect_format>& want, std::uint32_t ptime,
                    std::uint32_t maxptime, const std::string& where) {
    ASSERT_EQ(got.size(), want.size()) << where;
    for (std::size_t i = 0; i < want.size(); ++i) {
        SCOPED_TRACE(where + " format " + std::to_string(i));
        EXPECT_EQ(got[i].payload_type, want[i].pt);
        EXPECT_EQ(got[i].encoding_name, want[i].name);
        EXPECT_EQ(got[i].clock_rate_hz, want[i].rate);
        EXPECT_EQ(got[i].channels, want[i].channels);
        EXPECT_EQ(got[i].fmtp, want[i].fmtp);
        EXPECT_EQ(got[i].ptime_ms, ptime);
        EXPECT_EQ(got[i].maxptime_ms, maxptime);
    }
}

std::vector<sdp_format> parse_ok(const std::string& sdp, const std::string& where) {
    std::vector<sdp_format> out;
    std::string error;
    EXPECT_EQ(tutti::parse_sdp_audio(sdp, out, &error), status::ok) << where << ": " << error;
    return out;
}

TEST(SdpAudio, ChromeOffer) {
    expect_formats(parse_ok(read_seed("chrome_offer.sdp"), "chrome"),
                   {{111, "opus", 48000, 2, {{"minptime", "10"}, {"useinbandfec", "1"}}},
                    {63, "red", 48000, 2, {{"", "111/111"}}},
                    {9, "G722", 8000, 1, {}},
                    {0, "PCMU", 8000, 1, {}},
                    {8, "PCMA", 8000, 1, {}},
                    {13, "CN", 8000, 1, {}},
                    {110, "telephone-event", 48000, 1, {}},
                    {126, "telephone-event", 8000, 1, {}}},
                   0, 0, "chrome");
}

TEST(SdpAudio, FirefoxOfferWithFmtpBeforeRtpmapAndAVideoSection) {
    expect_formats(parse_ok(read_seed("firefox_offer.sdp"), "firefox"),
                   {{109, "opus", 48000, 2, {{"maxplaybackrate", "48000"}, {"stereo", "1"}, {"useinbandfec", "1"}}},
                    {9, "G722", 8000, 1, {}},
                    {0, "PCMU", 8000, 1, {}},
                    {8, "PCMA", 8000, 1, {}},
                    {101, "telephone-event", 8000, 1, {{"", "0-15"}}}},
                   0, 0, "firefox");
}

TEST(SdpAudio, AsteriskOffer) {
    expect_formats(parse_ok(read_seed("asterisk_pjsip.sdp"), "asterisk"),
                   {{0, "PCMU", 8000, 1, {}},
                    {8, "PCMA", 8000, 1, {}},
                    {9, "G722", 8000, 1, {}},
                    {101, "telephone-event", 8000, 1, {{"", "0-16"}}}},
                   20, 150, "asterisk");
}

TEST(SdpAudio, FreeswitchOfferWithSpacesAfterSemicolons) {
    expect_formats(parse_ok(read_seed("freeswitch_offer.sdp"), "freeswitch"),
                   {{102,
                     "opus",
                     48000,
                     2,
                     {{"useinbandfec", "1"},
                      {"maxaveragebitrate", "30000"},
                      {"maxplaybackrate", "48000"},
                      {"ptime", "20"},
                      {"minptime", "10"},
                      {"maxptime", "40"}}},
                    {9, "G722", 8000, 1, {}},
                    {0, "PCMU", 8000, 1, {}},
                    {8, "PCMA", 8000, 1, {}},
                    {101, "telephone-event", 8000, 1, {{"", "0-16"}}},
                    {13, "CN", 8000, 1, {}}},
                   20, 0, "freeswitch");
}

TEST(SdpAudio, LinphoneOfferWithLfAndStaticTypesWithoutRtpmap) {
    expect_formats(parse_ok(read_seed("linphone_offer.sdp"), "linphone"),
                   {{96, "opus", 48000, 2, {{"useinbandfec", "1"}}},
                    {97, "SILK", 16000, 1, {}},
                    {98, "speex", 16000, 1, {{"vbr", "on"}}},
                    {0, "PCMU", 8000, 1, {}},
                    {8, "PCMA", 8000, 1, {}},
                    {18, "G729", 8000, 1, {{"annexb", "yes"}}},
                    {101, "telephone-event", 48000, 1, {}},
                    {99, "telephone-event", 16000, 1, {}},
                    {100, "telephone-event", 8000, 1, {}}},
                   0, 0, "linphone");
}

TEST(SdpAudio, CiscoPhoneOffer) {
    expect_formats(parse_ok(read_seed("cisco_phone.sdp"), "cisco"),
                   {{0, "PCMU", 8000, 1, {}},
                    {8, "PCMA", 8000, 1, {}},
                    {18, "G729", 8000, 1, {{"annexb", "no"}}},
                    {9, "G722", 8000, 1, {}},
                    {116, "iLBC", 8000, 1, {{"mode", "20"}}},
                    {101, "telephone-event", 8000, 1, {{"", "0-15"}}}},
                   0, 0, "cisco");
}

TEST(SdpAudio, MessButValid) {
    // Session-level ptime, a video section first, duplicated payload type and
    // rtpmap, uppercase attribute and codec names, odd spacing, a dynamic type
    // without rtpmap (skipped), merged fmtp lines (first value wins), an fmtp
    // for an unlisted type, an empty line, a decimal maxptime, and a second
    // audio section (not examined).
    expect_formats(parse_ok(read_seed("messy_but_valid.sdp"), "messy"),
                   {{8, "PCMA", 8000, 1, {}},
                    {96, "OPUS", 48000, 2, {{"stereo", "1"}, {"sprop-stereo", "1"}, {"cbr", "1"}}},
                    {0, "PCMU", 8000, 1, {}}},
                   30, 60, "messy");
}

TEST(SdpAudio, LineEndingsAndNoFinalNewline) {
    const std::string lf = "v=0\nm=audio 1 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=ptime:20.4";
    std::string crlf;
    for (const char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    for (const auto& sdp : {lf, crlf, crlf + "\r\n", lf + "\n\n\n"}) {
        expect_formats(parse_ok(sdp, "endings"),
                       {{0, "PCMU", 8000, 1, {}}, {101, "telephone-event", 8000, 1, {{"", "0-16"}}}}, 20, 0, "endings");
    }
}

TEST(SdpAudio, PtimeRoundingAndPrecedence) {
    const auto ptime_of = [](const std::string& attrs) {
        const auto f = parse_ok("v=0\r\na=ptime:40\r\nm=audio 1 RTP/AVP 0\r\n" + attrs, attrs);
        return f.empty() ? 0u : f[0].ptime_ms;
    };
    EXPECT_EQ(ptime_of(""), 40u);  // session level
    EXPECT_EQ(ptime_of("a=ptime:30\r\n"), 30u);
    EXPECT_EQ(ptime_of("a=ptime:30\r\na=ptime:60\r\n"), 30u);  // first wins
    EXPECT_EQ(ptime_of("a=ptime:19.5\r\n"), 20u);
    EXPECT_EQ(ptime_of("a=ptime:0.5\r\n"), 1u);
    EXPECT_EQ(ptime_of("a=ptime: 10 \r\n"), 10u);
    EXPECT_EQ(ptime_of("a=ptime:1000\r\n"), 1000u);
}

TEST(SdpAudio, MalformedNamesTheLine) {
    struct bad {
        std::string sdp;
        const char* message_part;
    };
    const std::string head = "v=0\r\ns=-\r\nm=audio 4000 RTP/AVP 0 111\r\n";
    const bad cases[] = {
        {head + "a=rtpmap:111 opus\r\n", "line 4 \"a=rtpmap:111 opus\": rtpmap"},
        {head + "a=rtpmap:111 opus/0/2\r\n", "line 4"},
        {head + "a=rtpmap:111 opus/abc/2\r\n", "not a number"},
        {head + "a=rtpmap:111 opus/2000000/2\r\n", "above 1000000"},
        {head + "a=rtpmap:200 opus/48000/2\r\n", "payload type"},
        {head + "a=rtpmap:111 opus/48000/2\r\na=rtpmap:111 opus/16000/1\r\n", "line 5"},
        {head + "a=fmtp:111 =1\r\n", "empty name"},
        {head + "a=ptime:0\r\n", "1..1000 ms"},
        {head + "a=ptime:abc\r\n", "1..1000 ms"},
        {head + "a=ptime:1001\r\n", "1..1000 ms"},
        {head + "a=maxptime:20.\r\n", "1..1000 ms"},
        {head + "a=ptime:-20\r\n", "1..1000 ms"},
        {head + "garbage\r\n", "line 4 \"garbage\": not of the form"},
        {head + "=x\r\n", "not of the form"},
        {head + std::string("a=sendrecv\0\r\n", 13), "control character"},
        {head + std::string("a=x\0y\r\n", 7), "line 4"},
        {head + "a=x\ry\r\n", "control character"},
        {head + "a=" + std::string(4095, 'x') + "\r\n", "longer than 4096"},
        {"v=0\r\nm=audio 4000 RTP/AVP 0 128\r\n", "line 2"},
        {"v=0\r\nm=audio 4000 RTP/AVP 0 abc\r\n", "payload type \"abc\""},
        {"v=0\r\nm=audio 4000 RTP/AVP\r\n", "at least one format"},
        {"v=0\r\nm=audio\r\n", "at least one format"},
        {"v=0\r\nm=audio x RTP/AVP 0\r\n", "port"},
        {"v=0\r\nm=audio 70000 RTP/AVP 0\r\n", "port"},
        {"v=0\r\nm=audio 4000/x RTP/AVP 0\r\n", "port count"},
        {"v=0\r\nm=audio 4000 RTP/<AVP> 0\r\n", "protocol"},
        {"a=ptime:0\r\nm=audio 4000 RTP/AVP 0\r\n", "line 1"},  // session level is checked too
    };
    for (const auto& c : cases) {
        std::vector<sdp_format> out(1);
        std::string error;
        EXPECT_EQ(tutti::parse_sdp_audio(c.sdp, out, &error), status::malformed) << c.sdp.substr(0, 80);
        EXPECT_NE(error.find(c.message_part), std::string::npos) << c.sdp.substr(0, 80) << " -> " << error;
        EXPECT_EQ(out.size(), 1u);  // unchanged
        EXPECT_LT(error.size(), 400u);
    }
    for (const char* seed : {"malformed_clock_zero.sdp", "malformed_payload_type.sdp", "malformed_missing_slash.sdp"}) {
        std::vector<sdp_format> out;
        EXPECT_EQ(tutti::parse_sdp_audio(read_seed(seed), out), status::malformed) << seed;
    }
}

TEST(SdpAudio, NoAudioSectionIsNotFound) {
    std::vector<sdp_format> out;
    std::string error;
    EXPECT_EQ(tutti::parse_sdp_audio("", out, &error), status::not_found);
    EXPECT_EQ(error, "no m=audio section in the SDP");
    EXPECT_EQ(tutti::parse_sdp_audio("v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n", out), status::not_found);
    EXPECT_EQ(tutti::parse_sdp_audio("v=0\r\nm=audiovisual 9 RTP/AVP 0\r\n", out), status::not_found);
}

TEST(SdpAudio, LinesOutsideTheFirstAudioSectionAreNotInterpreted) {
    // Bad attributes in another media section, or after the audio one, do not
    // fail the parse: they are not ours to judge.
    const std::string sdp =
        "v=0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/0\r\na=ptime:0\r\n"
        "m=audio 9 RTP/AVP 0\r\n"
        "m=video 9 RTP/AVP 97\r\nnot an sdp line\r\na=rtpmap:97 x\r\n";
    expect_formats(parse_ok(sdp, "sections"), {{0, "PCMU", 8000, 1, {}}}, 0, 0, "sections");
}

TEST(SdpAudio, Limits) {
    // Whole text.
    std::string big = "v=0\r\nm=audio 1 RTP/AVP 0\r\n";
    while (big.size() <= tutti::sdp_max_bytes) big += "a=x-filler:0123456789012345678901234567890123456789\r\n";
    std::vector<sdp_format> out;
    std::string error;
    EXPECT_EQ(tutti::parse_sdp_audio(big, out, &error), status::malformed);
    EXPECT_NE(error.find("larger than the 65536"), std::string::npos) << error;
    // A 4096-byte line passes, 4097 does not.
    const std::string head = "v=0\r\nm=audio 1 RTP/AVP 0\r\n";
    EXPECT_EQ(tutti::parse_sdp_audio(head + "a=" + std::string(4094, 'x') + "\r\n", out), status::ok);
    EXPECT_EQ(tutti::parse_sdp_audio(head + "a=" + std::string(4095, 'x') + "\r\n", out), status::malformed);
    // 33 fmtp parameters spread over two lines.
    std::string l1 = "a=fmtp:0 ", l2 = "a=fmtp:0 ";
    for (int i = 0; i < 20; ++i) l1 += "a" + std::to_string(i) + "=1;";
    for (int i = 0; i < 13; ++i) l2 += "b" + std::to_string(i) + "=1;";
    EXPECT_EQ(tutti::parse_sdp_audio(head + l1 + "\r\n" + l2 + "\r\n", out, &error), status::malformed);
    EXPECT_NE(error.find("line 4"), std::string::npos) << error;
    EXPECT_NE(error.find("more than 32"), std::string::npos) << error;
    // All 128 payload types listed.
    std::string all = "v=0\r\nm=audio 1 RTP/AVP";
    for (int pt = 0; pt <= 127; ++pt) all += " " + std::to_string(pt);
    for (int pt = 96; pt <= 127; ++pt) all += "\r\na=rtpmap:" + std::to_string(pt) + " x" + std::to_string(pt) + "/8000";
    ASSERT_EQ(tutti::parse_sdp_audio(all, out), status::ok);
    EXPECT_EQ(out.size(), 17u + 32u);  // the static table plus every dynamic one
}

TEST(SdpAudio, EverySeedParsesAsItsNameSays) {
    const std::filesystem::path dir = std::string(TUTTI_TEST_SOURCE_DIR) + "/fuzz/corpus/sdp";
    int seeds = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        std::vector<sdp_format> out;
        std::string error;
        const status s = tutti::parse_sdp_audio(read_seed(name), out, &error);
        const bool bad = name.rfind("malformed", 0) == 0;
        EXPECT_EQ(s, bad ? status::malformed : status::ok) << name << ": " << error;
        if (!bad) {
            EXPECT_FALSE(out.empty()) << name;
        }
        ++seeds;
    }
    EXPECT_GE(seeds, 10);
}

}  // namespace
