// tests/fuzz/jitter_buffer_fuzz.cpp: libFuzzer target for tutti::jitter_buffer.
//
// The input is a script of operations on one jitter buffer with a real G.711
// decoder behind it: byte 0 picks the tick (10/20/40 ms); then records
//   op & 3 == 0..2: insert a packet  [op, seq lo, seq hi, ts delta, ssrc bit|pt|marker, len, arrival delta, payload...]
//   op & 3 == 3:    get one tick     [op, time step]; op bit 6 set: without decoding
// with sequence numbers and timestamps moved by small or huge deltas, SSRC
// switches, duplicate and far-future packets, empty and oversize payloads and
// arrival times that go backwards. Checks: every call returns a documented
// status, get() always fills exactly one tick with finite samples within
// [-1, 1], and the counters never run backwards.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "tutti/codecs/g711.hpp"
#include "tutti/jitter_buffer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    static const std::uint32_t ticks[] = {10000, 20000, 40000, 20000};
    auto dec = tutti::make_g711_decoder(tutti::g711_law::mu_law);
    tutti::jitter_buffer_config config;
    config.rtp_clock_hz = 8000;
    config.tick_us = ticks[data[0] & 3];
    config.capacity_packets = 32;
    config.max_payload_bytes = 400;
    config.comfort_noise_payload_type = 13;
    std::unique_ptr<tutti::jitter_buffer> jb;
    if (tutti::jitter_buffer::create(config, *dec, jb) != tutti::status::ok) std::abort();
    std::vector<float> out(jb->tick_frames());
    std::uint16_t seq = 1000;
    std::uint32_t ts = 5000;
    std::int64_t now = 0;
    std::uint64_t last_received = 0, last_ticks = 0;
    std::size_t i = 1;
    while (i < size) {
        const std::uint8_t op = data[i++];
        if ((op & 3) == 3) {
            now += 1000 * (i < size ? data[i++] : 20);
            jb->set_decoding((op & 64) == 0);  // bit 6: play out without decoding (a silent conference participant)
            if (jb->get({out.data(), out.size(), 1}, now) != tutti::status::ok) std::abort();
            for (float x : out)
                if (!std::isfinite(x) || x < -1.0f || x > 1.0f) std::abort();
        } else {
            if (i + 6 > size) break;
            const std::uint16_t seq_delta = static_cast<std::uint16_t>(data[i] | (data[i + 1] << 8));
            seq = static_cast<std::uint16_t>(seq + ((op & 4) ? seq_delta : (seq_delta & 7)) - ((op & 8) ? 3 : 0));
            ts += (op & 16) ? static_cast<std::uint32_t>(data[i + 2]) << 20 : 160u * data[i + 2];
            const std::uint8_t flags = data[i + 3];
            const std::uint32_t ssrc = (flags & 0x80) ? 2u : 1u;
            const std::uint8_t pt = (flags & 0x40) ? 13 : 0;
            const bool marker = (flags & 0x20) != 0;
            std::size_t len = data[i + 4] * ((op & 32) ? 4u : 1u);
            const std::int64_t arrival = now + 1000 * (static_cast<std::int64_t>(data[i + 5]) - 64);
            i += 6;
            std::vector<std::uint8_t> payload(len);
            for (std::size_t k = 0; k < len; ++k) payload[k] = i < size ? data[i++] : static_cast<std::uint8_t>(k);
            const tutti::status s = jb->insert({seq, ts, ssrc, pt, marker}, payload, arrival);
            if (s != tutti::status::ok && s != tutti::status::malformed && s != tutti::status::buffer_too_small) std::abort();
        }
        const auto& st = jb->stats();
        if (st.packets_received < last_received || st.ticks < last_ticks) std::abort();
        last_received = st.packets_received;
        last_ticks = st.ticks;
    }
    return 0;
}
