// RTP layer cost per packet: parsing a datagram and reading its RFC 6464 audio
// level (what a mixer does for every incoming packet before deciding whether
// to decode it), and packetizing an outgoing frame (with and without the
// audio-level extension). A 1000-participant room at 50 packets/s per
// direction runs each of these 50000 times a second.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "tutti/rtp.hpp"
#include "tutti/rtp_packetizer.hpp"
#include "tutti/telephone_event.hpp"

namespace {

// Opus 20 ms packet with a one-byte-form audio level (ID 1) and an unrelated
// element before it (ID 3, transport-wide sequence number style).
std::vector<std::uint8_t> opus_packet(bool two_byte) {
    tutti::rtp_header_fields h;
    h.payload_type = 111;
    h.sequence = 4711;
    h.timestamp = 960 * 100;
    h.ssrc = 0x12345678;
    const std::uint8_t seq[2] = {0x01, 0x02};
    const std::uint8_t level = tutti::encode_audio_level({true, 42});
    const tutti::rtp_extension_element exts[] = {{3, {seq, 2}}, {1, {&level, 1}}};
    const std::vector<std::uint8_t> payload(80, 0x5A);
    std::vector<std::uint8_t> out(256);
    tutti::rtp_write_options options;
    options.force_two_byte = two_byte;
    const std::ptrdiff_t n = tutti::write_rtp(h, exts, payload, out, options);
    out.resize(static_cast<std::size_t>(n));
    return out;
}

void parse_and_find_level(benchmark::State& state) {
    const std::vector<std::uint8_t> packet = opus_packet(state.range(0) != 0);
    for (auto _ : state) {
        benchmark::DoNotOptimize(packet.data());
        tutti::rtp_packet_view v;
        const auto r = tutti::parse_rtp(packet, v);
        const auto level = tutti::find_audio_level(v, 1);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(level);
        benchmark::DoNotOptimize(v);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(parse_and_find_level)->ArgName("two_byte")->Arg(0)->Arg(1);

void parse_pcmu(benchmark::State& state) {
    std::vector<std::uint8_t> packet(12 + 160, 0xD5);
    packet[0] = 0x80;
    packet[1] = 0x00;
    for (auto _ : state) {
        benchmark::DoNotOptimize(packet.data());
        tutti::rtp_packet_view v;
        const auto r = tutti::parse_rtp(packet, v);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(v);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(parse_pcmu);

void packetize(benchmark::State& state) {
    tutti::rtp_packetizer pz;
    tutti::rtp_packetizer_config c;
    c.payload_type = 111;
    c.clock_rate_hz = 48000;
    c.audio_level_id = state.range(0) != 0 ? 1 : 0;
    c.seed = 1;
    if (pz.init(c) != tutti::status::ok) state.SkipWithError("init failed");
    const std::vector<std::uint8_t> payload(static_cast<std::size_t>(state.range(1)), 0x5A);
    std::array<std::uint8_t, 1500> out{};
    std::uint8_t level = 0;
    for (auto _ : state) {
        const std::ptrdiff_t n = pz.packetize(payload, 960, false, out, tutti::rtp_audio_level{true, level});
        level = static_cast<std::uint8_t>((level + 1) & 0x7F);
        benchmark::DoNotOptimize(n);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(packetize)->ArgNames({"level", "payload"})->Args({0, 80})->Args({1, 80})->Args({1, 160});

void telephone_event_push(benchmark::State& state) {
    tutti::telephone_event_decoder dec;
    std::array<tutti::telephone_event_notification, tutti::telephone_event_max_notifications> out{};
    std::uint32_t ts = 0;
    std::uint16_t duration = 0;
    std::uint64_t now = 0;
    std::array<std::uint8_t, 4> payload{};
    for (auto _ : state) {
        duration = static_cast<std::uint16_t>(duration + 400);
        const bool end = duration >= 4000;
        (void)tutti::write_telephone_event({5, end, 10, duration}, payload);
        benchmark::DoNotOptimize(dec.push(ts, payload, now, out));
        now += 50000;
        if (end) {
            duration = 0;
            ts += 8000;
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(telephone_event_push);

}  // namespace

BENCHMARK_MAIN();
