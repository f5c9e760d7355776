// tests/fuzz/opus_fuzz.cpp: libFuzzer target for the Opus decoder of tutti/codecs/opus.hpp.
//
// Flow position of the code under test: jitter buffer -> **decoder** -> resampler
// -> mixer. A decoder takes payloads straight from the network, so every byte
// sequence must give a documented status or audio, never a crash, a read
// outside the payload, or a state that breaks the next payload.
//
// The input is a script:
//   byte 0: decoder rate (8/12/16/24/48 kHz) and channels (1/2);
//   then records [op, len, len bytes...]:
//     op % 5 == 0, 1: decode the bytes into a buffer that fits, or is 1..3
//                     frames short (bits 2-3), or has the other channel count (bit 6);
//     op % 5 == 2:    decode_fec(bytes) for (bits 2-5) 2.5 ms steps, sometimes
//                     not a whole step (bit 6);
//     op % 5 == 3:    conceal `len` frames (not always a multiple of 2.5 ms);
//     op % 5 == 4:    reset;
//   bytes left over (at most one 20 ms frame) are read as float PCM, any bit
//   pattern, NaN and inf included, encoded at the decoder's rate, and decoded.
// Checks: our RFC 6716 parser and libopus's opus_packet_parse agree on every
// payload (valid or not, frame count, first frame); frames_in() matches
// opus_packet_get_nb_samples; every call returns exactly the documented count
// or status; an LBRR flag only appears where the format allows it; decoded
// samples are finite.
//
// Seeds: tests/fuzz/corpus/opus/ (real SILK, hybrid, CELT, code-3 and DTX
// packets wrapped in scripts). Build (not wired in CMake), with a clang
// ASan/UBSan build of libtutti.a:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I/usr/include/opus \
//       tests/fuzz/opus_fuzz.cpp <clang-asan-build>/lib/libtutti.a -lopus -lspeexdsp -o opus_fuzz
//   ./opus_fuzz -max_total_time=120 tests/fuzz/corpus/opus
#include <opus.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

#include "tutti/codecs/opus.hpp"

namespace {

using tutti::as_count;
using tutti::status;

void check(bool ok) {
    if (!ok) std::abort();
}

void check_pcm(const float* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) check(std::isfinite(x[i]));
}

constexpr std::uint32_t rates[] = {8000, 12000, 16000, 24000, 48000};

// One decoder per rate and channel count, created once (creation is the slow,
// allocating part) and reset before each input, which makes it as new.
tutti::opus_decoder& decoder_for(std::size_t rate_index, std::uint16_t channels) {
    static std::array<std::unique_ptr<tutti::opus_decoder>, 10> decoders;
    auto& d = decoders[rate_index * 2 + (channels - 1u)];
    if (!d) check(tutti::make_opus_decoder({rates[rate_index], channels, 20000}, d) == status::ok);
    d->reset();
    return *d;
}

// Our parser against libopus's, on any bytes.
void check_parse(std::span<const std::uint8_t> p, std::uint32_t rate, const tutti::opus_decoder& dec) {
    tutti::opus_payload_info info;
    const status s = tutti::parse_opus_payload(p, info);
    const std::ptrdiff_t frames = dec.frames_in(p);
    if (p.empty()) {
        check(s == status::malformed && frames == as_count(status::malformed));
        return;
    }
    const unsigned char* fr[48];
    opus_int16 sizes[48];
    const int n = opus_packet_parse(p.data(), static_cast<opus_int32>(p.size()), nullptr, fr, sizes, nullptr);
    check((s == status::ok) == (n > 0));
    if (s != status::ok) {
        check(s == status::malformed || s == status::truncated);
        check(frames == as_count(s));
        return;
    }
    check(info.frame_count == n);
    check(info.first_frame_offset == static_cast<std::size_t>(fr[0] - p.data()));
    check(info.first_frame_bytes == static_cast<std::size_t>(sizes[0]));
    check(frames == opus_packet_get_nb_samples(p.data(), static_cast<opus_int32>(p.size()), static_cast<opus_int32>(rate)));
    check(info.duration_us() <= tutti::opus_max_payload_us);
    if (info.lbrr) check(info.mode != tutti::opus_mode::celt && info.first_frame_bytes >= 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t rate_index = data[0] % 5;
    const std::uint32_t rate = rates[rate_index];
    const std::uint16_t channels = (data[0] & 0x08) ? 2 : 1;
    const std::uint16_t other = channels == 1 ? 2 : 1;
    tutti::opus_decoder& dec = decoder_for(rate_index, channels);
    const std::size_t step = rate / 400;  // 2.5 ms
    static std::array<float, 5760 * 2 + 64> pcm;

    std::size_t at = 1;
    while (at + 2 <= size && data[at] < 0xf0) {
        const std::uint8_t op = data[at];
        const std::size_t len = std::min<std::size_t>(data[at + 1], size - at - 2);
        const std::span<const std::uint8_t> payload(data + at + 2, len);
        switch (op % 5) {
            case 0:
            case 1: {
                check_parse(payload, rate, dec);
                const std::ptrdiff_t want = dec.frames_in(payload);
                const std::size_t short_by = (op >> 2) % 4;
                const bool wrong_channels = (op & 0x40) != 0;
                const std::size_t room = want > 0 ? static_cast<std::size_t>(want) - std::min<std::size_t>(short_by, static_cast<std::size_t>(want)) : 5760;
                const std::ptrdiff_t r = dec.decode(payload, {pcm.data(), room, wrong_channels ? other : channels});
                if (wrong_channels) {
                    check(r == as_count(status::invalid_argument));
                } else if (want < 0) {
                    check(r == want);
                } else if (short_by != 0 && want > 0) {
                    check(r == as_count(status::buffer_too_small));
                } else {
                    check(r == want);
                    check_pcm(pcm.data(), static_cast<std::size_t>(r) * channels);
                }
                at += 2 + len;
                break;
            }
            case 2: {
                check_parse(payload, rate, dec);
                const bool could = dec.can_recover(payload);
                const std::size_t frames = ((op >> 2) % 16 + 1) * step + ((op & 0x40) ? 1 : 0);
                const std::uint64_t recovered = dec.stats().fec_recovered;
                const std::ptrdiff_t r = dec.decode_fec(payload, {pcm.data(), frames, channels});
                if (frames % step != 0) {
                    check(r == as_count(status::invalid_argument));
                } else if (r == as_count(status::unsupported)) {
                    check(dec.stats().fec_recovered == recovered);
                } else if (r >= 0) {
                    check(could && r == static_cast<std::ptrdiff_t>(frames));
                    check(dec.stats().fec_recovered == recovered + 1);
                    check_pcm(pcm.data(), frames * channels);
                } else {
                    check(r == dec.frames_in(payload));  // malformed / truncated, as the parser says
                }
                at += 2 + len;
                break;
            }
            case 3: {
                const std::size_t frames = std::min<std::size_t>(len * 8, 5760);
                const std::ptrdiff_t r = dec.conceal({pcm.data(), frames, channels});
                if (frames % step != 0) {
                    check(r == as_count(status::invalid_argument));
                } else {
                    check(r == static_cast<std::ptrdiff_t>(frames));
                    check_pcm(pcm.data(), frames * channels);
                }
                at += 2;
                break;
            }
            default:
                dec.reset();
                at += 2;
                break;
        }
    }

    // Leftover bytes as float PCM: encode one 20 ms frame and decode it.
    const std::size_t frame = rate / 50;
    if (at < size && size - at >= frame * channels * sizeof(float) / 8) {
        static std::array<float, 960 * 2> in;
        in.fill(0.0f);
        std::memcpy(in.data(), data + at, std::min(size - at, in.size() * sizeof(float)));
        tutti::opus_encoder_config c;
        c.sample_rate_hz = rate;
        c.channels = channels;
        c.inband_fec = (data[0] & 0x10) != 0;
        c.expected_loss_percent = c.inband_fec ? 20 : 0;
        c.dtx = (data[0] & 0x20) != 0;
        c.complexity = data[0] >> 6;  // cheap settings keep the fuzzer fast
        std::unique_ptr<tutti::opus_encoder> enc;
        check(tutti::make_opus_encoder(c, enc) == status::ok);
        std::array<std::uint8_t, tutti::opus_max_payload_bytes> out{};
        const std::ptrdiff_t n = enc->encode({in.data(), frame, channels}, out);
        check(n >= 0);
        if (n > 0) {
            const std::span<const std::uint8_t> p(out.data(), static_cast<std::size_t>(n));
            check_parse(p, rate, dec);
            check(dec.decode(p, {pcm.data(), 5760, channels}) == static_cast<std::ptrdiff_t>(frame));
            check_pcm(pcm.data(), frame * channels);
        }
    }
    return 0;
}
