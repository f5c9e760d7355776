// Real speech for tests and the soak run: pocketsphinx-testdata's LibriVox
// readings (16 kHz mono WAV under TUTTI_SPEECH_DIR), at -26 dBov RMS,
// resampled whole with tutti's resampler. Failures give an empty vector: the
// caller decides whether that is a failed test or an exit.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tutti/kernels.hpp"
#include "tutti/resampler.hpp"
#include "tutti/wav.hpp"

namespace tutti_test {

/// The recording `file` (a path under TUTTI_SPEECH_DIR) at -26 dBov RMS; empty
/// if it cannot be read or is not 16 kHz mono.
inline std::vector<float> read_speech(const char* file) {
    tutti::wav_file w;
    if (tutti::read_wav_file(std::string(TUTTI_SPEECH_DIR) + file, w) != tutti::status::ok || w.sample_rate_hz != 16000 ||
        w.channels != 1 || w.samples.empty())
        return {};
    const float rms = std::sqrt(tutti::sum_squares(w.samples.data(), w.samples.size()) / static_cast<float>(w.samples.size()));
    for (float& x : w.samples) x *= 0.05f / rms;
    return std::move(w.samples);
}

/// `in` (16 kHz mono) at `rate`, in 20 ms blocks; empty if no resampler fits.
inline std::vector<float> resample_from_16k(const std::vector<float>& in, std::uint32_t rate) {
    if (rate == 16000) return in;
    std::unique_ptr<tutti::resampler> rs;
    if (tutti::resampler::create(16000, rate, 1, rs) != tutti::status::ok) return {};
    std::vector<float> out(in.size() * rate / 16000 + 64);
    std::size_t written = 0;
    for (std::size_t i = 0; i + 320 <= in.size(); i += 320) {
        const auto n = rs->process(tutti::interleaved_view<const float>(in.data() + i, 320, 1),
                                   tutti::interleaved_view<float>(out.data() + written, out.size() - written, 1));
        written += static_cast<std::size_t>(std::max<std::ptrdiff_t>(n, 0));
    }
    out.resize(written);
    return out;
}

/// read_speech(file) at `rate`.
inline std::vector<float> speech(const char* file, std::uint32_t rate) { return resample_from_16k(read_speech(file), rate); }

}  // namespace tutti_test
