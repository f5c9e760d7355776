// examples/common/room_recorder.hpp: records a room's mix to a WAV file.
//
// The demo and the conference server record the room through this one small
// type so that the recording can later come from the WAV-recorder tap plugin
// instead: today it takes each tick of room::pull_tap (the room mix after the
// shared limiter) and writes the whole recording with tutti's wav writer when
// it is finished.
//
// Threads: start() on the control thread; on_tick() on the thread that pulls
// the tap (the tick thread, right after room::tick); finish() once, after the
// last on_tick(). on_tick() keeps samples in 1 s chunks reserved ahead, so it
// allocates once a second, never copies what it already holds, and never
// touches the file system.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tutti/conference.hpp"
#include "tutti/wav.hpp"

namespace tutti_examples {

class room_recorder {
public:
    /// Turns the room's mix tap on. Returns ok or the room's error.
    tutti::status start(tutti::room& r) {
        scratch_.assign(48000 / 25 + 16, 0.0f);  // a 40 ms tick at 48 kHz: the largest the tap hands out
        return r.enable_tap(true);
    }

    /// Takes every tick the tap holds. [the thread that pulls the tap]
    void on_tick(tutti::room& r) {
        std::uint32_t rate = 0;
        for (std::ptrdiff_t n; (n = r.pull_tap(scratch_, &rate)) > 0;) {
            if (rate_hz_ == 0) rate_hz_ = rate;
            if (rate != rate_hz_) {  // an automatic-rate room changed rate: keep the timeline, not the audio
                ++ticks_skipped_;
                append(std::span<const float>(zeros_.data(), std::min(zeros_.size(), static_cast<std::size_t>(rate_hz_ / 50))));
                continue;
            }
            append(std::span<const float>(scratch_.data(), static_cast<std::size_t>(n)));
        }
    }

    /// Samples recorded so far.
    std::size_t samples() const noexcept {
        std::size_t n = 0;
        for (const auto& c : chunks_) n += c.size();
        return n;
    }
    std::uint32_t rate_hz() const noexcept { return rate_hz_; }
    std::uint64_t ticks_skipped() const noexcept { return ticks_skipped_; }

    /// Writes the recording (mono 16-bit) to `path`. Returns ok, or an error with `*error` set.
    tutti::status finish(tutti::room& r, const std::filesystem::path& path, std::string* error = nullptr) {
        on_tick(r);
        (void)r.enable_tap(false);
        tutti::wav_file wav;
        wav.sample_rate_hz = rate_hz_ == 0 ? 48000 : rate_hz_;
        wav.channels = 1;
        wav.samples.reserve(samples());
        for (const auto& c : chunks_) wav.samples.insert(wav.samples.end(), c.begin(), c.end());
        return tutti::write_wav_file(path, wav, error);
    }

private:
    void append(std::span<const float> x) {
        if (chunks_.empty() || chunks_.back().size() + x.size() > chunks_.back().capacity()) {
            chunks_.emplace_back();
            chunks_.back().reserve(std::max<std::size_t>(x.size(), 48000));
        }
        chunks_.back().insert(chunks_.back().end(), x.begin(), x.end());
    }

    std::vector<std::vector<float>> chunks_;
    std::vector<float> scratch_;
    std::vector<float> zeros_ = std::vector<float>(48000 / 25, 0.0f);
    std::uint32_t rate_hz_ = 0;
    std::uint64_t ticks_skipped_ = 0;
};

/// The one place the examples make their room recorder (to be switched to the
/// WAV-recorder tap plugin once it exists).
inline tutti::status start_room_recording(tutti::room& r, room_recorder& rec) { return rec.start(r); }

}  // namespace tutti_examples
