// Pitch-synchronous accelerate / preemptive expand (see tutti/time_stretch.hpp).
//
// Flow position: jitter buffer -> decoder -> time_stretcher -> resampler -> mixer.
// Written for tutti after studying WebRTC NetEq's TimeStretch / Accelerate /
// PreemptiveExpand (BSD): same splice geometry (15 ms into a 30 ms block, one
// period either side) and thresholds, but float throughout, a shortest-lag
// pitch pick, a full-rate lag refinement, and a fast mode that checks the
// correlation of the segments it really fades instead of assuming multiples of
// the period still match.
#include "tutti/time_stretch.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <new>
#include <numbers>

TUTTI_BEGIN_NAMESPACE

namespace {

constexpr double analysis_rate_hz = 4000.0;  // pitch search rate: 250 µs resolution, cheap
constexpr std::size_t down_len = 120;        // 30 ms at 4 kHz
constexpr std::size_t down_splice = 60;      // 15 ms at 4 kHz
constexpr std::size_t down_min_lag = 10;     // 2.5 ms
constexpr std::size_t down_max_lag = 60;     // 15 ms
// The pitch pick prefers the shortest lag whose peak is this close to the best
// one: a periodic signal correlates at P, 2P and 3P alike, and removing one
// period is the gentlest change.
constexpr float octave_tolerance = 0.9f;

// Sums in double (a 15 ms period at 48 kHz is 720 products: float would lose
// the small differences the 0.9 threshold looks at), over independent partial
// sums so that the additions are not one long dependency chain.
double dot(const float* a, const float* b, std::size_t n) noexcept {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    const std::size_t body = n - n % 4;
    for (std::size_t i = 0; i < body; i += 4) {
        s0 += static_cast<double>(a[i]) * b[i];
        s1 += static_cast<double>(a[i + 1]) * b[i + 1];
        s2 += static_cast<double>(a[i + 2]) * b[i + 2];
        s3 += static_cast<double>(a[i + 3]) * b[i + 3];
    }
    for (std::size_t k = 0; k < n % 4; ++k) s0 += static_cast<double>(a[body + k]) * b[body + k];
    return (s0 + s1) + (s2 + s3);
}

// <a, b>, <a, a> and <b, b> in one pass.
struct products {
    double ab = 0.0, aa = 0.0, bb = 0.0;
};
products correlate(const float* a, const float* b, std::size_t n) noexcept {
    products p, q;
    const std::size_t body = n - n % 2;
    for (std::size_t i = 0; i < body; i += 2) {
        const double a0 = a[i], b0 = b[i], a1 = a[i + 1], b1 = b[i + 1];
        p.ab += a0 * b0, p.aa += a0 * a0, p.bb += b0 * b0;
        q.ab += a1 * b1, q.aa += a1 * a1, q.bb += b1 * b1;
    }
    if (body < n) {
        const double a0 = a[body], b0 = b[body];
        p.ab += a0 * b0, p.aa += a0 * a0, p.bb += b0 * b0;
    }
    return {p.ab + q.ab, p.aa + q.aa, p.bb + q.bb};
}

// Normalised correlation; 0 when either side is silent (and NaN stays NaN).
float normalised(double cross, double e1, double e2) noexcept {
    const double denom = std::sqrt(e1 * e2);
    if (!(denom > 1e-30)) return denom == denom ? 0.0f : static_cast<float>(denom);
    return static_cast<float>(std::clamp(cross / denom, -1.0, 1.0));
}

// Copies `frames` frames of `channels` interleaved samples.
void copy_frames(float* dst, const float* src, std::size_t frames, std::size_t channels) noexcept {
    if (frames != 0) std::memcpy(dst, src, frames * channels * sizeof(float));
}

// dst[i] = a[i] + w_i * (b[i] - a[i]) with w_i = (i + 1) / (n + 1) rising from
// ~0 to ~1 per frame (all channels share the weight): a linear cross-fade from
// `a` into `b` whose first output is next to a's predecessor and whose last is
// next to b's successor.
void cross_fade(float* dst, const float* a, const float* b, std::size_t frames, std::size_t channels) noexcept {
    const float step = 1.0f / static_cast<float>(frames + 1);
    for (std::size_t i = 0; i < frames; ++i) {
        const float w = static_cast<float>(i + 1) * step;
        for (std::size_t c = 0; c < channels; ++c) {
            const std::size_t k = i * channels + c;
            dst[k] = a[k] + w * (b[k] - a[k]);
        }
    }
}

bool overlaps(const float* a, std::size_t a_len, const float* b, std::size_t b_len) noexcept {
    const std::less<const float*> lt;
    return a_len != 0 && b_len != 0 && lt(a, b + b_len) && lt(b, a + a_len);
}

}  // namespace

// The verdict of one analysis: where and how much to splice, and why.
struct time_stretcher::splice {
    std::size_t length = 0;  // frames faded into / out of each other (k periods)
    float correlation = 0.0f;
    bool apply = false;
    bool low_energy = false;
};

time_stretcher::time_stretcher(const time_stretch_config& config) noexcept : config_(config) {}
time_stretcher::~time_stretcher() = default;

status time_stretcher::create(const time_stretch_config& config, std::unique_ptr<time_stretcher>& out) noexcept {
    if (config.sample_rate_hz < min_rate_hz || config.sample_rate_hz > max_rate_hz || config.channels < 1 ||
        config.channels > max_channels || !(config.min_correlation > 0.0f && config.min_correlation <= 1.0f) ||
        !std::isfinite(config.low_energy_dbov)) {
        return status::invalid_argument;
    }
    std::unique_ptr<time_stretcher> t(new (std::nothrow) time_stretcher(config));
    if (!t) return status::out_of_memory;
    const std::uint64_t rate = config.sample_rate_hz;
    t->splice_frames_ = static_cast<std::size_t>((rate * 15 + 999) / 1000);
    t->max_lag_ = static_cast<std::size_t>(rate * 15 / 1000);
    t->min_lag_ = static_cast<std::size_t>((rate * 25 + 9999) / 10000);
    t->decimation_ = static_cast<double>(rate) / analysis_rate_hz;
    t->set_low_energy_dbov(config.low_energy_dbov);
    // Anti-alias filter for the 4 kHz analysis signal: a Hann-windowed sinc cut
    // at 1.7 kHz, 1 ms either side of its centre (the same shape at every
    // rate: ~1 kHz transition, ~-44 dB stop band; plenty for a pitch search,
    // whose information sits below 1 kHz).
    const std::size_t half = static_cast<std::size_t>((rate + 999) / 1000);
    try {
        t->mono_ = aligned_buffer<float>(t->min_input_frames());
        t->lowpass_ = aligned_buffer<float>(2 * half + 1);
        t->down_ = aligned_buffer<float>(down_len);
        t->autocorr_ = aligned_buffer<float>(down_max_lag + 2);
    } catch (const std::bad_alloc&) {
        return status::out_of_memory;
    }
    const double fc = 1700.0 / static_cast<double>(rate);
    double sum = 0.0;
    for (std::size_t j = 0; j <= 2 * half; ++j) {
        const double x = static_cast<double>(j) - static_cast<double>(half);
        const double sinc = x == 0.0 ? 2.0 * fc : std::sin(2.0 * std::numbers::pi * fc * x) / (std::numbers::pi * x);
        const double hann = 0.5 + 0.5 * std::cos(std::numbers::pi * x / static_cast<double>(half + 1));
        t->lowpass_[j] = static_cast<float>(sinc * hann);
        sum += sinc * hann;
    }
    for (float& tap : t->lowpass_) tap = static_cast<float>(tap / sum);
    out = std::move(t);
    return status::ok;
}

void time_stretcher::set_low_energy_dbov(float dbov) noexcept {
    if (!std::isfinite(dbov)) return;
    config_.low_energy_dbov = dbov;
    low_energy_power_ = static_cast<float>(std::pow(10.0, static_cast<double>(dbov) / 10.0));
}

status time_stretcher::check(interleaved_view<const float> in, interleaved_view<float> out,
                             std::size_t out_needed) const noexcept {
    if (in.channels() != config_.channels || out.channels() != config_.channels ||
        in.frames() < min_input_frames() || in.data() == nullptr || out.data() == nullptr ||
        overlaps(in.data(), in.frames() * in.channels(), out.data(), out.frames() * out.channels())) {
        return status::invalid_argument;
    }
    if (out.frames() < out_needed) return status::buffer_too_small;
    return status::ok;
}

// Coarse pitch lag in 4 kHz samples: normalised autocorrelation of the
// decimated 30 ms, the 15 ms after the splice point against the 15 ms window
// `lag` earlier. Returns the lag (possibly fractional after a parabolic fit)
// scaled to the full rate, rounded.
std::size_t time_stretcher::coarse_lag() noexcept {
    const std::size_t half = lowpass_.size() / 2;
    const std::size_t mono_len = mono_.size();
    for (std::size_t k = 0; k < down_len; ++k) {
        const auto centre = static_cast<std::size_t>(std::lround(static_cast<double>(k) * decimation_));
        // Taps that fall outside the block see zeros.
        const std::size_t first = centre >= half ? 0 : half - centre;
        const std::size_t last = std::min(2 * half + 1, mono_len + half - centre);
        down_[k] = static_cast<float>(dot(lowpass_.data() + first, mono_.data() + centre + first - half, last - first));
    }
    const float* ref = down_.data() + down_splice;
    const std::size_t n = down_len - down_splice;
    const double e_ref = dot(ref, ref, n);
    // Energy of the lagged window, slid one sample per lag.
    double e_lag = dot(ref - down_min_lag, ref - down_min_lag, n);
    float best = -2.0f;
    std::size_t best_lag = down_min_lag;
    for (std::size_t lag = down_min_lag; lag <= down_max_lag; ++lag) {
        if (lag > down_min_lag) {
            const float in_sample = *(ref - lag);
            const float out_sample = *(ref - lag + n);
            e_lag = std::max(0.0, e_lag + static_cast<double>(in_sample) * in_sample -
                                      static_cast<double>(out_sample) * out_sample);
        }
        const float r = normalised(dot(ref, ref - lag, n), e_ref, e_lag);
        autocorr_[lag] = r == r ? r : 0.0f;
        if (autocorr_[lag] > best) {
            best = autocorr_[lag];
            best_lag = lag;
        }
    }
    // Shortest interior peak close enough to the best one.
    std::size_t lag = best_lag;
    if (best > 0.0f) {
        for (std::size_t l = down_min_lag + 1; l < down_max_lag; ++l) {
            if (autocorr_[l] > autocorr_[l - 1] && autocorr_[l] >= autocorr_[l + 1] &&
                autocorr_[l] >= octave_tolerance * best) {
                lag = l;
                break;
            }
        }
    }
    double frac = static_cast<double>(lag);
    if (lag > down_min_lag && lag < down_max_lag) {
        const double a = autocorr_[lag - 1], b = autocorr_[lag], c = autocorr_[lag + 1];
        const double curve = a - 2.0 * b + c;
        if (curve < 0.0) frac += std::clamp(0.5 * (a - c) / curve, -0.5, 0.5);
    }
    return static_cast<std::size_t>(std::lround(frac * decimation_));
}

// Full-rate lag near `coarse` whose two periods around the splice point
// correlate best (on the channel average).
std::size_t time_stretcher::refine_lag(std::size_t coarse) const noexcept {
    const auto reach = static_cast<std::size_t>(std::ceil(decimation_ / 2.0)) + 2;
    const std::size_t lo = std::max(min_lag_, coarse > reach ? coarse - reach : 0);
    const std::size_t hi = std::min(max_lag_, coarse + reach);
    const float* s = mono_.data() + splice_frames_;
    std::size_t best_lag = std::clamp(coarse, min_lag_, max_lag_);
    float best = -2.0f;
    // The energies of [s - lag, s) and [s, s + lag) grow by one sample per lag.
    const products first = correlate(s - lo, s, lo);
    double e_before = first.aa, e_after = first.bb;
    for (std::size_t lag = lo; lag <= hi; ++lag) {
        if (lag > lo) {
            const double in_before = *(s - lag), in_after = s[lag - 1];
            e_before += in_before * in_before;
            e_after += in_after * in_after;
        }
        const float r = normalised(dot(s - lag, s, lag), e_before, e_after);
        if (r > best) {
            best = r;
            best_lag = lag;
        }
    }
    return best_lag;
}

time_stretcher::splice time_stretcher::analyse(interleaved_view<const float> in, std::size_t max_periods,
                                               std::size_t max_frames, std::size_t overshoot_frames) noexcept {
    const std::size_t ch = config_.channels;
    const float* x = in.data();
    const std::size_t frames = mono_.size();
    if (ch == 1) {
        copy_frames(mono_.data(), x, frames, 1);
    } else {
        // The lag is searched on the mid signal, or on the side signal when
        // that is louder (channels in antiphase would otherwise leave nothing
        // to search).
        double mid = 0.0, side = 0.0;
        for (std::size_t i = 0; i < frames; ++i) {
            const float m = 0.5f * (x[2 * i] + x[2 * i + 1]), d = 0.5f * (x[2 * i] - x[2 * i + 1]);
            mid += static_cast<double>(m) * m;
            side += static_cast<double>(d) * d;
            mono_[i] = m;
        }
        if (side > mid) {
            for (std::size_t i = 0; i < frames; ++i) mono_[i] = 0.5f * (x[2 * i] - x[2 * i + 1]);
        }
    }
    const std::size_t period = refine_lag(coarse_lag());

    // Longest splice first (fast mode), down to one period; the correlation
    // reported when nothing qualifies is the one-period one.
    splice result{period, 0.0f, false, false};
    auto judge = [&](std::size_t len, bool periodic_ok) -> bool {
        // Both sides of the splice, all channels: before = [s - len, s), after = [s, s + len).
        const float* before = x + (splice_frames_ - len) * ch;
        const float* after = x + splice_frames_ * ch;
        const products p = correlate(before, after, len * ch);
        result.correlation = normalised(p.ab, p.aa, p.bb);
        const double power = (p.aa + p.bb) / static_cast<double>(2 * len * ch);
        if (power <= static_cast<double>(low_energy_power_)) {
            result = {len, result.correlation, true, true};
            return true;
        }
        if (periodic_ok && result.correlation >= config_.min_correlation) {
            result = {len, result.correlation, true, false};
            return true;
        }
        return false;
    };
    const std::size_t fit = max_frames / period;
    if (fit == 0) {
        // Not even one period fits. A quiet segment is cut by max_frames
        // exactly (below the low-energy level the splice need not follow the
        // pitch); otherwise one period, if the caller allows going that far
        // beyond max_frames.
        if (max_frames > 0 && judge(max_frames, false)) return result;
        if (period <= max_frames + overshoot_frames) judge(period, true);
        return result;
    }
    for (std::size_t k = std::max<std::size_t>(1, std::min({max_periods, max_lag_ / period, fit})); k >= 1; --k)
        if (judge(k * period, true)) return result;
    return result;
}

time_stretch_result time_stretcher::accelerate(interleaved_view<const float> in, interleaved_view<float> out,
                                               accelerate_mode mode, std::size_t max_frames,
                                               std::size_t overshoot_frames) noexcept {
    time_stretch_result res;
    res.code = check(in, out, in.frames());
    if (res.code != status::ok) return res;
    ++stats_.accelerate_calls;
    const std::size_t ch = config_.channels;
    const splice sp = analyse(in, mode == accelerate_mode::fast ? max_lag_ : 1, max_frames, overshoot_frames);
    res.correlation = sp.correlation;
    if (!sp.apply) {
        copy_frames(out.data(), in.data(), in.frames(), ch);
        res.frames_out = in.frames();
        return res;
    }
    // out = in[0, s - len) ++ fade(in[s - len, s) -> in[s, s + len)) ++ in[s + len, n)
    const std::size_t s = splice_frames_, len = sp.length;
    const float* x = in.data();
    float* y = out.data();
    copy_frames(y, x, s - len, ch);
    cross_fade(y + (s - len) * ch, x + (s - len) * ch, x + s * ch, len, ch);
    copy_frames(y + s * ch, x + (s + len) * ch, in.frames() - s - len, ch);
    res.frames_out = in.frames() - len;
    res.frames_changed = len;
    res.applied = true;
    res.low_energy = sp.low_energy;
    ++stats_.accelerate_applied;
    stats_.frames_removed += len;
    if (sp.low_energy) ++stats_.low_energy_applied;
    return res;
}

time_stretch_result time_stretcher::stretch(interleaved_view<const float> in, interleaved_view<float> out) noexcept {
    time_stretch_result res;
    res.code = check(in, out, in.frames() + max_lag_);
    if (res.code != status::ok) return res;
    ++stats_.stretch_calls;
    const std::size_t ch = config_.channels;
    const splice sp = analyse(in, 1, SIZE_MAX, 0);
    res.correlation = sp.correlation;
    if (!sp.apply) {
        copy_frames(out.data(), in.data(), in.frames(), ch);
        res.frames_out = in.frames();
        return res;
    }
    // out = in[0, s) ++ fade(in[s, s + len) -> in[s - len, s)) ++ in[s, n): the
    // period after the splice point is played, turns into the one before it,
    // and the signal then carries on from the splice point again.
    const std::size_t s = splice_frames_, len = sp.length;
    const float* x = in.data();
    float* y = out.data();
    copy_frames(y, x, s, ch);
    cross_fade(y + s * ch, x + s * ch, x + (s - len) * ch, len, ch);
    copy_frames(y + (s + len) * ch, x + s * ch, in.frames() - s, ch);
    res.frames_out = in.frames() + len;
    res.frames_changed = len;
    res.applied = true;
    res.low_energy = sp.low_energy;
    ++stats_.stretch_applied;
    stats_.frames_added += len;
    if (sp.low_energy) ++stats_.low_energy_applied;
    return res;
}

TUTTI_END_NAMESPACE
