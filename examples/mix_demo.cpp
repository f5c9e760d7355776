// tutti-demo (kernel demo): mixes real speech the way a conference does and
// shows the levels. Four recordings from Debian's pocketsphinx-testdata talk
// over each other; every participant gets the room mix minus its own voice,
// limited instead of clipped; the room mix and each participant's mix are
// written as WAV files and a level table is printed.
//
// Usage: tutti-demo [speech-dir] [output-dir]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tutti/kernels.hpp"
#include "tutti/limiter.hpp"
#include "tutti/wav.hpp"

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t rate = 16000;
constexpr std::size_t frame = rate / 50;  // 20 ms tick
constexpr float talker_gain = 2.5f;       // hot microphones: overlaps exceed full scale

struct participant {
    std::string name;
    std::vector<float> voice;  // whole recording, starting at `start`
    std::size_t start = 0;     // in samples
    std::vector<float> hears;  // what tutti sent back
    tutti::limiter limiter{{.sample_rate_hz = rate}};
    double in_energy = 0, out_energy = 0;
    float in_peak = 0, out_peak = 0;
};

float db(double mean_square) { return mean_square > 0 ? static_cast<float>(10.0 * std::log10(mean_square)) : -127.0f; }

}  // namespace

int main(int argc, char** argv) {
    const fs::path speech_dir = argc > 1 ? argv[1] : TUTTI_DEMO_SPEECH_DIR;
    const fs::path out_dir = argc > 2 ? argv[2] : "tutti-demo-out";
    const char* files[] = {"librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
                           "librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
                           "librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
                           "librivox/sense_and_sensibility_01_austen_64kb-0920.wav"};
    std::vector<participant> people(4);
    std::size_t total_len = 0;
    for (std::size_t i = 0; i < people.size(); ++i) {
        tutti::wav_file wav;
        std::string error;
        const fs::path path = speech_dir / files[i];
        if (tutti::read_wav_file(path, wav, &error) != tutti::status::ok) {
            std::fprintf(stderr, "tutti-demo: %s: %s\n", path.c_str(), error.c_str());
            return 1;
        }
        if (wav.sample_rate_hz != rate || wav.channels != 1) {
            std::fprintf(stderr, "tutti-demo: %s: expected 16 kHz mono\n", path.c_str());
            return 1;
        }
        people[i].name = "p" + std::to_string(i + 1);
        people[i].voice = std::move(wav.samples);
        for (float& x : people[i].voice) x *= talker_gain;
        people[i].start = i * rate * 3 / 2;  // a new talker every 1.5 s: lots of crosstalk
        total_len = std::max(total_len, people[i].start + people[i].voice.size());
    }
    total_len = (total_len + frame - 1) / frame * frame;

    std::vector<float> room(total_len), total(frame);
    tutti::limiter room_limiter({.sample_rate_hz = rate});
    std::vector<std::vector<float>> inputs(people.size(), std::vector<float>(frame));
    std::vector<const float*> ptrs;
    for (auto& in : inputs) ptrs.push_back(in.data());
    for (auto& p : people) p.hears.assign(total_len, 0.0f);

    using clock = std::chrono::steady_clock;
    clock::duration mix_time{};
    for (std::size_t t = 0; t < total_len; t += frame) {
        for (std::size_t i = 0; i < people.size(); ++i) {  // the "decoded" input frames
            auto& p = people[i];
            for (std::size_t k = 0; k < frame; ++k) {
                const std::size_t s = t + k;
                inputs[i][k] = (s >= p.start && s - p.start < p.voice.size()) ? p.voice[s - p.start] : 0.0f;
            }
            p.in_peak = std::max(p.in_peak, tutti::peak_abs(inputs[i].data(), frame));
            p.in_energy += tutti::sum_squares(inputs[i].data(), frame);
        }
        const auto t0 = clock::now();
        tutti::mix_sum(total.data(), ptrs.data(), ptrs.size(), frame);
        for (std::size_t i = 0; i < people.size(); ++i) {
            float* out = people[i].hears.data() + t;
            tutti::mix_minus(out, total.data(), inputs[i].data(), 1.0f, frame);
            people[i].limiter.process({out, frame});
        }
        std::copy(total.begin(), total.end(), room.begin() + static_cast<std::ptrdiff_t>(t));
        room_limiter.process({room.data() + t, frame});
        mix_time += clock::now() - t0;
    }

    std::error_code ec;
    fs::create_directories(out_dir, ec);
    auto write = [&](const std::string& name, std::vector<float> samples) {
        tutti::wav_file wav{rate, 1, tutti::wav_encoding::pcm16, std::move(samples)};
        std::string error;
        const fs::path path = out_dir / name;
        if (tutti::write_wav_file(path, wav, &error) != tutti::status::ok) {
            std::fprintf(stderr, "tutti-demo: %s: %s\n", path.c_str(), error.c_str());
            return false;
        }
        return true;
    };
    bool ok = write("room.wav", room);
    std::printf("tutti kernel demo: %zu talkers, %.1f s of speech at %u Hz, 20 ms ticks, kernels: %s\n\n", people.size(),
                static_cast<double>(total_len) / rate, rate, std::string(tutti::to_string(tutti::active_simd_level())).c_str());
    std::printf("%-6s %14s %14s %15s %15s %9s %9s  %s\n", "who", "talks peak dB", "talks rms dB", "hears peak dBov",
                "hears rms dBov", "limited", "min gain", "file");
    for (auto& p : people) {
        p.out_peak = tutti::peak_abs(p.hears.data(), p.hears.size());
        p.out_energy = tutti::sum_squares(p.hears.data(), p.hears.size());
        const auto& st = p.limiter.stats();
        const std::string file = "hears-" + p.name + ".wav";
        ok = write(file, p.hears) && ok;
        std::printf("%-6s %14.1f %14.1f %15.1f %15.1f %8.1f%% %9.2f  %s\n", p.name.c_str(),
                    db(double(p.in_peak) * p.in_peak), db(p.in_energy / static_cast<double>(total_len)),
                    db(double(p.out_peak) * p.out_peak), db(p.out_energy / static_cast<double>(total_len)),
                    100.0 * static_cast<double>(st.blocks_limited) / static_cast<double>(std::max<std::uint64_t>(1, st.blocks)),
                    static_cast<double>(st.min_gain), (out_dir / file).c_str());
    }
    const auto& rs = room_limiter.stats();
    std::printf("%-6s %14s %14s %15.1f %15.1f %8.1f%% %9.2f  %s\n", "room", "", "",
                db(double(tutti::peak_abs(room.data(), room.size())) * tutti::peak_abs(room.data(), room.size())),
                db(tutti::sum_squares(room.data(), room.size()) / static_cast<double>(total_len)),
                100.0 * static_cast<double>(rs.blocks_limited) / static_cast<double>(std::max<std::uint64_t>(1, rs.blocks)),
                static_cast<double>(rs.min_gain), (out_dir / "room.wav").c_str());
    const double ticks = static_cast<double>(total_len / frame);
    std::printf("\nmix + mix-minus + limiters: %.2f us per 20 ms tick for %zu participants (levels in dBov: 0 = full scale)\n",
                std::chrono::duration<double, std::micro>(mix_time).count() / ticks, people.size());
    return ok ? 0 : 1;
}
