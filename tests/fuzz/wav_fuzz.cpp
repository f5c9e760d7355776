// tests/fuzz/wav_fuzz.cpp: libFuzzer target for tutti::read_wav.
//
// Feeds arbitrary bytes to the WAV reader. Under ASan/UBSan a crash, an
// out-of-bounds read or an absurd allocation is a finding; beyond that the
// target checks what every result must satisfy: a failure carries one of the
// three input-error statuses and a message, and a success is a file the writer
// accepts and that reads back bit for bit.
//
// Seeds: tests/fuzz/corpus/wav/. Build (until CMake wires it):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//       tests/fuzz/wav_fuzz.cpp lib/wav.cpp <build>/lib/libtutti.a -o wav_fuzz
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "tutti/wav.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    tutti::wav_file wav;
    std::string error;
    const tutti::status s = tutti::read_wav(std::as_bytes(std::span<const std::uint8_t>(data, size)), wav, &error);
    if (s != tutti::status::ok) {
        const bool input_error =
            s == tutti::status::malformed || s == tutti::status::truncated || s == tutti::status::unsupported;
        if (!input_error || error.empty()) std::abort();
        return 0;
    }

    if (wav.channels < 1 || wav.channels > tutti::wav_max_channels) std::abort();
    if (wav.sample_rate_hz < 1 || wav.sample_rate_hz > tutti::wav_max_sample_rate_hz) std::abort();
    if (wav.samples.size() % wav.channels != 0) std::abort();
    const std::size_t sample_bytes = wav.encoding == tutti::wav_encoding::pcm16 ? 2 : 4;
    if (wav.samples.size() * sample_bytes > size) std::abort();

    const std::vector<std::byte> again_bytes = tutti::to_wav_bytes(wav);
    if (again_bytes.empty()) std::abort();
    tutti::wav_file again;
    if (tutti::read_wav(again_bytes, again) != tutti::status::ok) std::abort();
    if (again.channels != wav.channels || again.sample_rate_hz != wav.sample_rate_hz ||
        again.encoding != wav.encoding || again.samples.size() != wav.samples.size())
        std::abort();
    if (!wav.samples.empty() &&
        std::memcmp(again.samples.data(), wav.samples.data(), wav.samples.size() * sizeof(float)) != 0)
        std::abort();
    return 0;
}
