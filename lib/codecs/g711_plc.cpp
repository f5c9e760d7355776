// Pitch-repetition packet-loss concealment (G.711 Appendix I algorithm; see
// tutti/detail/g711_plc.hpp for the design and where it departs from it).
//
// Flow position: decoder -> PLC -> mixer. Written from the description of the
// algorithm in the recommendation, not from any implementation of it.
#include "tutti/detail/g711_plc.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

TUTTI_BEGIN_NAMESPACE
namespace detail {

namespace {
constexpr std::size_t samples_in(std::uint32_t rate, std::uint32_t us) noexcept {
    return static_cast<std::size_t>((std::uint64_t{rate} * us + 500000u) / 1000000u);
}
}  // namespace

g711_plc::g711_plc(std::uint32_t sample_rate_hz, std::uint16_t channels)
    : rate_(sample_rate_hz),
      channels_(channels),
      min_period_(samples_in(sample_rate_hz, 5000)),
      max_period_(samples_in(sample_rate_hz, 15000)),
      corr_len_(samples_in(sample_rate_hz, 20000)),
      ten_ms_(sample_rate_hz / 100),
      four_ms_(samples_in(sample_rate_hz, 4000)),
      coarse_step_(std::max<std::size_t>(1, (sample_rate_hz + 2000) / 4000)) {
    assert(sample_rate_hz >= 8000 && sample_rate_hz <= 384000 && channels >= 1 && channels <= 8);
    // 3 periods to repeat plus the quarter period cross-faded before them: 48.75 ms.
    history_len_ = 3 * max_period_ + max_period_ / 4;
    assert(history_len_ >= corr_len_ + max_period_);  // room for the longest-lag correlation
    history_ = aligned_buffer<float>(history_len_ * channels_);
    frozen_ = aligned_buffer<float>(history_len_ * channels_);
    tails_ = aligned_buffer<float>(std::size_t{3} * (max_period_ / 4) * channels_);
    offsets_ = aligned_buffer<float>(channels_);
    if (channels_ > 1) mono_ = aligned_buffer<float>(history_len_);
}

void g711_plc::reset() noexcept {
    std::fill(history_.begin(), history_.end(), 0.0f);
    history_pos_ = 0;
    period_ = overlap_ = lost_ = 0;
    periods_ = 1;
    phase_ = old_periods_ = old_phase_ = switch_pos_ = 0;
    in_loss_ = false;
    recover_len_ = recover_pos_ = 0;
}

// A ring (history_pos_ is the oldest sample): every decoded frame passes
// through here, so it is written once, not shifted; begin_loss() lines it up.
void g711_plc::push_history(const float* interleaved, std::size_t frames) noexcept {
    const std::size_t h = history_len_;
    const std::size_t ch = channels_;
    if (frames > h) {
        interleaved += (frames - h) * ch;
        frames = h;
    }
    const std::size_t pos = history_pos_;
    const std::size_t first = std::min(frames, h - pos);
    if (ch == 1) {  // (the usual case: two copies, not a strided loop the compiler keeps scalar)
        std::memcpy(history_.data() + pos, interleaved, first * sizeof(float));
        std::memcpy(history_.data(), interleaved + first, (frames - first) * sizeof(float));
        history_pos_ = (pos + frames) % h;
        return;
    }
    for (std::size_t c = 0; c < ch; ++c) {
        float* dst = history_.data() + c * h;
        for (std::size_t i = 0; i < first; ++i) dst[pos + i] = interleaved[i * ch + c];
        for (std::size_t i = first; i < frames; ++i) dst[i - first] = interleaved[i * ch + c];
    }
    history_pos_ = (pos + frames) % h;
}

std::size_t g711_plc::find_pitch() noexcept {  // on frozen_, the history in order
    const std::size_t h = history_len_;
    const float* s = frozen_.data();
    if (channels_ > 1) {
        float* m = mono_.data();
        std::copy_n(frozen_.data(), h, m);
        for (std::size_t c = 1; c < channels_; ++c) {
            const float* x = frozen_.data() + c * h;
            for (std::size_t i = 0; i < h; ++i) m[i] += x[i];
        }
        s = m;
    }
    // Target: the last corr_len_ samples. Candidate: the corr_len_ samples `lag`
    // earlier. Score: correlation over the candidate's RMS (normalised
    // cross-correlation; the target's energy is the same for every lag).
    const float* target = s + (h - corr_len_);
    auto score = [&](std::size_t lag, std::size_t stride) noexcept {
        const float* cand = target - lag;
        double corr = 0.0;
        double energy = 0.0;
        for (std::size_t i = 0; i < corr_len_; i += stride) {
            corr += double{target[i]} * cand[i];
            energy += double{cand[i]} * cand[i];
        }
        return energy > 0.0 ? corr / std::sqrt(energy) : 0.0;
    };
    // Coarse search on a 4 kHz grid (the 2:1 decimation of Appendix I at 8 kHz),
    // then refine around the best lag with finer and finer grids down to one
    // sample, so the cost stays small at 48 kHz and above.
    std::size_t step = coarse_step_;
    std::size_t best = min_period_;
    double best_score = -1e300;
    for (std::size_t lag = min_period_; lag <= max_period_; lag += step) {
        const double sc = score(lag, step);
        if (sc > best_score) {
            best_score = sc;
            best = lag;
        }
    }
    while (step > 1) {
        const std::size_t fine = std::max<std::size_t>(1, step / 4);
        const std::size_t lo = best > min_period_ + (step - 1) ? best - (step - 1) : min_period_;
        const std::size_t hi = std::min(max_period_, best + (step - 1));
        best_score = -1e300;
        for (std::size_t lag = lo; lag <= hi; lag += fine) {
            const double sc = score(lag, fine);
            if (sc > best_score) {
                best_score = sc;
                best = lag;
            }
        }
        step = fine;
    }
    return best;
}

void g711_plc::begin_loss() noexcept {
    const std::size_t h = history_len_;
    for (std::size_t c = 0; c < channels_; ++c) {  // the ring, oldest first
        const float* ring = history_.data() + c * h;
        float* line = frozen_.data() + c * h;
        std::copy(ring + history_pos_, ring + h, line);
        std::copy(ring, ring + history_pos_, line + (h - history_pos_));
    }
    period_ = find_pitch();
    overlap_ = std::max<std::size_t>(1, period_ / 4);
    const std::size_t p = period_;
    const std::size_t l = overlap_;
    const std::size_t tail_stride = max_period_ / 4;
    for (std::size_t c = 0; c < channels_; ++c) {
        const float* x = frozen_.data() + c * h;
        // Loop of n periods = x[h - n*p, h). Its last l samples fade into the l
        // samples before its start, so jumping from its end back to its start
        // continues the waveform instead of splicing two unrelated points.
        for (std::size_t n = 1; n <= 3; ++n) {
            float* tail = tails_.data() + (c * 3 + (n - 1)) * tail_stride;
            for (std::size_t k = 0; k < l; ++k) {
                const float w = static_cast<float>(k + 1) / static_cast<float>(l + 1);
                tail[k] = (1.0f - w) * x[h - l + k] + w * x[h - n * p - l + k];
            }
        }
        // The loop starts at x[h - p], whose real predecessor is x[h - p - 1];
        // the output's predecessor is x[h - 1]. Shift by the difference at first.
        offsets_[c] = x[h - 1] - x[h - p - 1];
    }
    periods_ = 1;
    phase_ = 0;
    old_periods_ = 0;
    old_phase_ = 0;
    switch_pos_ = l;  // no period change in progress
    lost_ = 0;
    in_loss_ = true;
    recover_len_ = recover_pos_ = 0;
}

float g711_plc::loop_sample(std::size_t channel, std::size_t periods, std::size_t phase) const noexcept {
    const std::size_t len = periods * period_;
    assert(phase < len);
    if (phase >= len - overlap_) {
        return tails_[(channel * 3 + (periods - 1)) * (max_period_ / 4) + (phase - (len - overlap_))];
    }
    return frozen_[channel * history_len_ + (history_len_ - len) + phase];
}

void g711_plc::synthesize(float* out) noexcept {
    if (lost_ >= 6 * ten_ms_) {  // 60 ms and more: silence
        for (std::size_t c = 0; c < channels_; ++c) out[c] = 0.0f;
        ++lost_;
        return;
    }
    // After 10 and 20 ms, loop one more period: the read point moves one period
    // back (same phase in a loop that starts one period earlier), cross-faded.
    if ((lost_ == ten_ms_ || lost_ == 2 * ten_ms_) && periods_ < 3) {
        old_periods_ = periods_;
        old_phase_ = phase_;
        ++periods_;
        switch_pos_ = 0;
    }
    const double gain =
        lost_ < ten_ms_ ? 1.0 : 1.0 - 0.2 * static_cast<double>(lost_ - ten_ms_) / static_cast<double>(ten_ms_);
    const float g = static_cast<float>(gain);
    const float l1 = static_cast<float>(overlap_ + 1);
    const bool switching = switch_pos_ < overlap_;
    const bool starting = lost_ < overlap_;
    const float w_switch = switching ? static_cast<float>(switch_pos_ + 1) / l1 : 1.0f;
    const float w_start = starting ? static_cast<float>(lost_ + 1) / l1 : 1.0f;
    for (std::size_t c = 0; c < channels_; ++c) {
        float s = loop_sample(c, periods_, phase_);
        if (switching) s = w_switch * s + (1.0f - w_switch) * loop_sample(c, old_periods_, old_phase_);
        if (starting) s += (1.0f - w_start) * offsets_[c];
        out[c] = std::clamp(s * g, -1.0f, 1.0f);
    }
    phase_ = (phase_ + 1) % (periods_ * period_);
    if (switching) {
        old_phase_ = (old_phase_ + 1) % (old_periods_ * period_);
        ++switch_pos_;
    }
    ++lost_;
}

void g711_plc::conceal(interleaved_view<float> pcm) noexcept {
    assert(pcm.channels() == channels_);
    if (pcm.frames() == 0) return;
    if (channels_ == 0) return;  // default-constructed: nothing to conceal with
    if (!in_loss_) begin_loss();
    float* out = pcm.data();
    for (std::size_t f = 0; f < pcm.frames(); ++f) synthesize(out + f * channels_);
    push_history(pcm.data(), pcm.frames());
}

void g711_plc::receive(interleaved_view<float> pcm) noexcept {
    assert(pcm.channels() == channels_);
    if (channels_ == 0 || pcm.frames() == 0) return;
    if (in_loss_) {
        // Appendix I: the longer the loss, the longer the fade back to the real
        // signal (P/4, plus 4 ms per 10 ms lost beyond the first), at most 10 ms.
        const std::size_t blocks = (lost_ + ten_ms_ - 1) / ten_ms_;
        recover_len_ = std::min(overlap_ + (blocks > 0 ? blocks - 1 : 0) * four_ms_, ten_ms_);
        recover_pos_ = 0;
        in_loss_ = false;
    }
    if (recover_pos_ < recover_len_) {
        float synth[8];
        float* x = pcm.data();
        const float len1 = static_cast<float>(recover_len_ + 1);
        for (std::size_t f = 0; f < pcm.frames() && recover_pos_ < recover_len_; ++f, ++recover_pos_) {
            synthesize(synth);
            const float w = static_cast<float>(recover_pos_ + 1) / len1;
            for (std::size_t c = 0; c < channels_; ++c) {
                float& v = x[f * channels_ + c];
                v = w * v + (1.0f - w) * synth[c];
            }
        }
        if (recover_pos_ >= recover_len_) lost_ = 0;
    }
    push_history(pcm.data(), pcm.frames());
}

}  // namespace detail
TUTTI_END_NAMESPACE
