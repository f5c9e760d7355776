// tests/fuzz/g722_fuzz.cpp: libFuzzer target for tutti/codecs/g722.hpp.
//
// Every byte value is a legal G.722 code, so there is no "invalid input" to
// find; what can go wrong is arithmetic (overflow, out-of-table indexes under
// UBSan), out-of-bounds writes with odd sizes, NaN/inf reaching the encoder,
// and the concealment state machine. The input drives a script:
//   byte 0: decoder mode (1..3) and encoder frame length;
//   then records [op, len, len bytes...]: decode a payload of `len` bytes into
//   a buffer of a size chosen by `op` (sometimes too small, sometimes stereo),
//   or conceal `len` frames, or reset; an op byte >= 0xf0 ends the records;
//   the bytes left over are read as float PCM (any bit pattern, NaN and inf
//   included) and encoded, and the payloads decoded again.
// Checks: every result is the documented count or status, output samples are
// finite and within [-1, 1], and the float decoder agrees with the int16 core
// (until concealment makes them differ).
//
// Seeds: tests/fuzz/corpus/g722/. Build (not wired in CMake), listing the
// codec sources so that they are the sanitizer-instrumented copies that get
// linked (the rest comes from any build's library):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//       tests/fuzz/g722_fuzz.cpp lib/codecs/g722.cpp lib/codecs/g711_plc.cpp \
//       <build>/lib/libtutti.a -o g722_fuzz
//   ./g722_fuzz -max_total_time=60 -max_len=4096 <scratch copy of the corpus>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "tutti/codecs/g722.hpp"
#include "tutti/kernels.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void check_pcm(const float* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) check(std::isfinite(x[i]) && x[i] >= -1.0f && x[i] <= 1.0f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto mode = static_cast<tutti::g722_mode>(1 + data[0] % 3);
    const std::uint32_t frame_us = (data[0] & 0x80) ? 2500 : 10000;
    const auto dec = tutti::make_g722_decoder(20000, mode);
    const auto enc = tutti::make_g722_encoder(frame_us);
    check(dec != nullptr && enc != nullptr);
    tutti::g722_decoder_core core(mode);

    static std::array<float, 1024> pcm;
    static std::array<std::int16_t, 1024> s16;
    std::size_t at = 1;
    // After a loss the float decoder cross-fades its output (for a length that
    // depends on the pitch), so it is compared with the core only until the
    // first conceal() after a reset.
    bool concealed = false;
    while (at + 2 <= size && data[at] < 0xf0) {
        const std::uint8_t op = data[at];
        const std::size_t len = std::min<std::size_t>(data[at + 1], size - at - 2);
        const std::span<const std::uint8_t> payload(data + at + 2, len);
        switch (op % 4) {
            case 0:
            case 1: {  // decode into a buffer that fits, or one 0..3 frames too small, mono or stereo
                const std::size_t short_by = (op >> 2) % 4;
                const std::size_t channels = (op & 0x40) ? 2 : 1;
                const std::size_t frames = 2 * len >= short_by ? 2 * len - short_by : 0;
                const std::ptrdiff_t r = dec->decode(payload, {pcm.data(), frames, channels});
                check(dec->frames_in(payload) == (len == 0 ? tutti::as_count(tutti::status::malformed)
                                                             : static_cast<std::ptrdiff_t>(2 * len)));
                if (len == 0) {
                    check(r == tutti::as_count(tutti::status::malformed));
                } else if (channels != 1) {
                    check(r == tutti::as_count(tutti::status::invalid_argument));
                } else if (short_by != 0) {
                    check(r == tutti::as_count(tutti::status::buffer_too_small));
                } else {
                    check(r == static_cast<std::ptrdiff_t>(2 * len));
                    check_pcm(pcm.data(), 2 * len);
                    check(core.decode(payload, s16) == 2 * len);
                    if (!concealed) {
                        for (std::size_t i = 0; i < 2 * len; ++i) check(pcm[i] == s16[i] / 32768.0f);
                    }
                }
                at += 2 + len;
                break;
            }
            case 2: {  // conceal len frames
                check(dec->conceal({pcm.data(), len, 1}) == static_cast<std::ptrdiff_t>(len));
                check_pcm(pcm.data(), len);
                concealed = concealed || len != 0;
                at += 2;
                break;
            }
            default:  // reset both
                dec->reset();
                core.reset();
                concealed = false;
                at += 2;
                break;
        }
    }

    // Leftover bytes as float PCM, any bit pattern: encode, decode, compare.
    const std::size_t n = enc->format().frame_samples();
    std::array<std::uint8_t, 512> bytes{};
    while (at + n * sizeof(float) <= size) {
        std::memcpy(pcm.data(), data + at, n * sizeof(float));
        at += n * sizeof(float);
        const std::ptrdiff_t r = enc->encode({pcm.data(), n, 1}, std::span(bytes).first(n / 2));
        check(r == static_cast<std::ptrdiff_t>(n / 2));
        check(enc->encode({pcm.data(), n, 1}, std::span(bytes).first(n / 2 - 1)) ==
              tutti::as_count(tutti::status::buffer_too_small));
        check(core.decode(std::span(bytes).first(n / 2), s16) == n);
        check(dec->decode(std::span(bytes).first(n / 2), {pcm.data(), n, 1}) == static_cast<std::ptrdiff_t>(n));
        check_pcm(pcm.data(), n);
    }
    return 0;
}
