// tests/fuzz/l16_fuzz.cpp: libFuzzer target for the L16 decoder and encoder.
//
// The input is a script: byte 0 picks the rate (8, 16, 44.1 or 48 kHz) and 1 or
// 2 channels, then each op byte decodes a payload cut from the input (any
// length, so most are malformed), conceals a lost packet, or resets. Checks:
// frames_in() and decode() agree and follow the length rules; decoded samples
// are exactly the big-endian int16 / 32768 whenever no loss is being faded
// out, and re-encode to the same bytes; concealment stays finite, within
// [-1, 1], and silent from 60 ms into a loss.
//
// Seeds: tests/fuzz/corpus/l16/. Build (until CMake wires it), from the repo root:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ilib \
//       tests/fuzz/l16_fuzz.cpp lib/codecs/l16.cpp lib/codecs/g711_plc.cpp \
//       lib/kernels_dispatch.cpp lib/kernels_scalar.cpp -o l16_fuzz
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "tutti/codecs/l16.hpp"

namespace {
void check(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    constexpr std::uint32_t rates[] = {8000, 16000, 44100, 48000};
    const std::uint32_t rate = rates[data[0] & 3];
    const auto channels = static_cast<std::uint16_t>(1 + ((data[0] >> 2) & 1));
    const tutti::audio_format format{rate, channels, 10000};
    auto dec = tutti::make_l16_decoder(format);
    check(dec != nullptr);

    const std::size_t max_frames = 512;
    const std::size_t frame_bytes = std::size_t{2} * channels;
    const std::size_t fade = rate / 100;     // recovery cross-fade: at most 10 ms
    const std::size_t silent = 6 * fade;     // concealment is silence from 60 ms on
    std::vector<float> pcm(max_frames * channels);
    std::vector<std::uint8_t> again(max_frames * frame_bytes);
    std::size_t since_loss = 1 << 20;
    std::size_t lost_run = 0;
    std::size_t pos = 1;
    while (pos < size) {
        const std::uint8_t op = data[pos++];
        const std::size_t arg = pos < size ? data[pos++] : 0;
        switch (op % 4) {
            case 0:
            case 1: {
                const std::size_t want = (op & 1) != 0 ? arg * 8 : arg;
                const std::size_t len = std::min(want, size - pos);
                const std::span<const std::uint8_t> payload(data + pos, len);
                pos += len;
                const std::ptrdiff_t frames = dec->frames_in(payload);
                const std::ptrdiff_t n = dec->decode(payload, {pcm.data(), max_frames, channels});
                if (len == 0 || len % frame_bytes != 0) {
                    check(frames == tutti::as_count(tutti::status::malformed) && n == frames);
                    break;
                }
                check(frames == static_cast<std::ptrdiff_t>(len / frame_bytes));
                if (len / frame_bytes > max_frames) {
                    check(n == tutti::as_count(tutti::status::buffer_too_small));
                    break;
                }
                check(n == frames);
                const auto count = static_cast<std::size_t>(n);
                bool exact = true;
                for (std::size_t f = 0; f < count; ++f) {
                    for (std::size_t c = 0; c < channels; ++c) {
                        const std::size_t i = f * channels + c;
                        const float v = pcm[i];
                        check(std::isfinite(v) && v >= -1.0f && v <= 1.0f);
                        const auto s = static_cast<std::int16_t>(static_cast<std::uint16_t>(payload[2 * i] << 8 | payload[2 * i + 1]));
                        if (since_loss + f >= fade) {
                            check(v == static_cast<float>(s) / 32768.0f);
                        } else {
                            exact = false;
                        }
                    }
                }
                if (exact) {
                    tutti::l16_pack(pcm.data(), again.data(), count * channels);
                    for (std::size_t i = 0; i < len; ++i) check(again[i] == payload[i]);
                }
                since_loss += count;
                lost_run = 0;
                break;
            }
            case 2: {
                const std::size_t len = std::min<std::size_t>(arg * 2 + 1, max_frames);
                check(dec->conceal({pcm.data(), len, channels}) == static_cast<std::ptrdiff_t>(len));
                for (std::size_t f = 0; f < len; ++f) {
                    for (std::size_t c = 0; c < channels; ++c) {
                        const float v = pcm[f * channels + c];
                        check(std::isfinite(v) && v >= -1.0f && v <= 1.0f);
                        if (lost_run + f >= silent) check(v == 0.0f);
                    }
                }
                lost_run += len;
                since_loss = 0;
                break;
            }
            default:
                dec->reset();
                since_loss = 1 << 20;
                lost_run = 0;
                break;
        }
    }
    return 0;
}
