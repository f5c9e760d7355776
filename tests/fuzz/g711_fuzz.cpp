// tests/fuzz/g711_fuzz.cpp: libFuzzer target for the G.711 decoder and its PLC.
//
// The input is a script: byte 0 picks the law and the nominal packet time, then
// each op byte decodes a payload cut from the input, conceals a lost packet of
// some length, decodes into a too-small buffer, or resets. Beyond crashes and
// sanitizer findings, the target checks every result against the decoder
// contract: status codes, output that is finite and within [-1, 1], output
// equal to the G.711 formula whenever no loss is being faded out, exact
// silence from 60 ms into a loss, and encode(decode(code)) == code (µ-law 0x7F
// excepted).
//
// Seeds: tests/fuzz/corpus/g711/. Build (until CMake wires it), from the repo root:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ilib \
//       tests/fuzz/g711_fuzz.cpp lib/codecs/g711.cpp lib/codecs/g711_plc.cpp \
//       lib/kernels_dispatch.cpp lib/kernels_scalar.cpp -o g711_fuzz
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "tutti/codecs/g711.hpp"

namespace {

// G.711 output value by the segment formula, independent of the library's tables.
int reference_decode(tutti::g711_law law, std::uint8_t code) {
    if (law == tutti::g711_law::mu_law) {
        const int c = ~code & 0xFF;
        const int seg = (c >> 4) & 7;
        const int mag = ((((c & 15) << 3) + 132) << seg) - 132;
        return (c & 0x80) != 0 ? -mag : mag;
    }
    const int c = code ^ 0x55;
    const int seg = (c >> 4) & 7;
    const int q = c & 15;
    const int mag = seg == 0 ? q * 16 + 8 : (q * 16 + 264) << (seg - 1);
    return (c & 0x80) != 0 ? mag : -mag;
}

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto law = (data[0] & 1) != 0 ? tutti::g711_law::a_law : tutti::g711_law::mu_law;
    constexpr std::uint32_t packet_us[] = {125, 625, 2500, 10000, 20000, 30000, 60000, 120000};
    const std::uint32_t frame_us = packet_us[(data[0] >> 1) & 7];
    auto dec = tutti::make_g711_decoder(law, frame_us);
    check(dec != nullptr);
    auto enc = tutti::make_g711_encoder(law, frame_us);
    check(enc != nullptr);

    constexpr std::size_t max_frames = 960;  // 120 ms
    std::vector<float> pcm(max_frames);
    std::size_t since_loss = 1 << 20;  // samples decoded since the last concealment
    std::size_t lost_run = 0;          // samples concealed in the current loss
    std::size_t pos = 1;
    while (pos < size) {
        const std::uint8_t op = data[pos++];
        const std::size_t arg = pos < size ? data[pos++] : 0;
        switch (op & 3) {
            case 0:
            case 1: {  // decode a payload of 0..255+ bytes cut from the input
                const std::size_t want = (op & 1) != 0 ? arg * 4 : arg;
                const std::size_t len = std::min(want, size - pos);
                const std::span<const std::uint8_t> payload(data + pos, len);
                pos += len;
                const std::ptrdiff_t frames = dec->frames_in(payload);
                const std::ptrdiff_t n = dec->decode(payload, {pcm.data(), max_frames, 1});
                if (len == 0) {
                    check(frames == tutti::as_count(tutti::status::malformed) && n == frames);
                    break;
                }
                check(frames == static_cast<std::ptrdiff_t>(len));
                if (len > max_frames) {
                    check(n == tutti::as_count(tutti::status::buffer_too_small));
                    break;
                }
                check(n == frames);
                for (std::size_t i = 0; i < len; ++i) {
                    const float v = pcm[i];
                    check(std::isfinite(v) && v >= -1.0f && v <= 1.0f);
                    // The fade back from a loss lasts at most 10 ms (80 samples).
                    if (since_loss + i >= 80) check(v == static_cast<float>(reference_decode(law, payload[i])) / 32768.0f);
                }
                since_loss += len;
                lost_run = 0;
                break;
            }
            case 2: {  // a lost packet of 1..256 frames
                const std::size_t len = arg + 1;
                check(dec->conceal({pcm.data(), len, 1}) == static_cast<std::ptrdiff_t>(len));
                for (std::size_t i = 0; i < len; ++i) {
                    const float v = pcm[i];
                    check(std::isfinite(v) && v >= -1.0f && v <= 1.0f);
                    if (lost_run + i >= 480) check(v == 0.0f);  // silence from 60 ms on
                }
                lost_run += len;
                since_loss = 0;
                break;
            }
            default: {
                if ((arg & 1) != 0) {
                    dec->reset();
                    since_loss = 1 << 20;
                    lost_run = 0;
                } else {  // a payload that does not fit is refused without side effects
                    const std::size_t len = std::min<std::size_t>(size - pos, 16);
                    if (len >= 2) {
                        check(dec->decode({data + pos, len}, {pcm.data(), len - 1, 1}) ==
                              tutti::as_count(tutti::status::buffer_too_small));
                    }
                }
                break;
            }
        }
    }

    // Encoder: every code survives decode -> encode (µ-law -0 becomes +0), and
    // encode() keeps its contract on one frame of decoded input bytes.
    for (std::size_t i = 0; i < size; ++i) {
        const std::uint8_t c = data[i];
        const std::int16_t v = tutti::g711_decode_sample(law, c);
        check(v == reference_decode(law, c));
        const std::uint8_t back = tutti::g711_encode_sample(law, v);
        check(back == c || (law == tutti::g711_law::mu_law && c == 0x7F && back == 0xFF));
    }
    const std::size_t n = enc->format().frame_samples();
    if (size >= n) {
        std::vector<float> in(n);
        std::vector<std::uint8_t> out(n);
        tutti::g711_decode(law, data, in.data(), n);
        check(enc->encode({in.data(), n, 1}, out) == static_cast<std::ptrdiff_t>(n));
        for (std::size_t i = 0; i < n; ++i) {
            check(out[i] == data[i] || (law == tutti::g711_law::mu_law && data[i] == 0x7F && out[i] == 0xFF));
        }
    }
    return 0;
}
