// The conference server's config file parser: every number is checked whole
// and against its range (a typo must not become port 4464 or payload type 0).
#include <gtest/gtest.h>

#include <string>

#include "server.hpp"

namespace {

using namespace tutti_examples;

tutti::status parse(const std::string& text, server_config& c, std::string& error) {
    return parse_server_config(text, c, &error);
}

const char* const participant = "participant alice port=40000 codec=opus/48000/2 pt=111\n";

TEST(ServerConfig, ReadsNumbersAndAddresses) {
    server_config c;
    std::string error;
    ASSERT_EQ(parse(std::string(participant) +
                        "participant bob port=0 codec=PCMU/8000 pt=0 send=127.0.0.1:5004 max_pps=200\n"
                        "stats 127.0.0.1:9100\ntick_ms 20\nmixing_rate 16000\nloudest 2\n",
                    c, error),
              tutti::status::ok)
        << error;
    ASSERT_EQ(c.participants.size(), 2u);
    EXPECT_EQ(c.participants[0].port, 40000);
    EXPECT_EQ(c.participants[0].format.payload_type, 111);
    EXPECT_EQ(c.participants[1].max_packets_per_s, 200u);
    EXPECT_EQ(c.stats_port, 9100);
    EXPECT_EQ(c.tick_ms, 20u);
    EXPECT_EQ(c.mixing_rate_hz, 16000u);
    EXPECT_EQ(c.loudest_n, 2u);
}

TEST(ServerConfig, RefusesNumbersThatAreNotWholeOrOutOfRange) {
    const char* const bad[] = {
        "participant alice port=70000 codec=opus/48000/2 pt=111\n",  // atoi made it 4464
        "participant alice port=40000x codec=opus/48000/2 pt=111\n",
        "participant alice port=40000 codec=opus/48000/2 pt=x\n",   // atoi made it PCMU's 0
        "participant alice port=40000 codec=opus/48000/2 pt=128\n",
        "participant alice port=40000 codec=opus/48000/2 pt=111 max_pps=0\n",
        "participant alice port=40000 codec=opus/48000/2 pt=111 send=127.0.0.1:99999\n",
    };
    for (const char* text : bad) {
        server_config c;
        std::string error;
        EXPECT_EQ(parse(text, c, error), tutti::status::malformed) << text;
        EXPECT_NE(error.find("line 1"), std::string::npos) << text << error;
    }
    const char* const bad_keys[] = {"stats 91OO\n", "stats 127.0.0.1:-1\n", "tick_ms twenty\n", "mixing_rate 48k\n", "loudest 0\n"};
    for (const char* key : bad_keys) {
        server_config c;
        std::string error;
        EXPECT_EQ(parse(std::string(participant) + key, c, error), tutti::status::malformed) << key;
        EXPECT_NE(error.find("line 2"), std::string::npos) << key << error;
    }
}

}  // namespace
