// Normalised cross-correlation for tests that check who hears whom: a signal
// sent into a room against what a listener got back, at the lag (jitter
// buffer, codec and resampler delay) where they line up best.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace tutti_test {

/// Normalised cross-correlation of a and b, b delayed by `lag` samples.
inline double correlation_at(const std::vector<float>& a, const std::vector<float>& b, std::size_t lag) {
    double ab = 0, aa = 0, bb = 0;
    const std::size_t n = std::min(a.size(), b.size() > lag ? b.size() - lag : 0);
    for (std::size_t i = 0; i < n; ++i) {
        ab += double(a[i]) * b[i + lag];
        aa += double(a[i]) * a[i];
        bb += double(b[i + lag]) * b[i + lag];
    }
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

/// The largest correlation_at() over lags 0..max_lag: every 4th lag, then
/// every lag around the best of those (speech is smooth enough for that).
inline double max_correlation(const std::vector<float>& a, const std::vector<float>& b, std::size_t max_lag) {
    double best = 0;
    std::size_t best_lag = 0;
    for (std::size_t lag = 0; lag <= max_lag; lag += 4) {
        const double c = correlation_at(a, b, lag);
        if (c > best) best = c, best_lag = lag;
    }
    for (std::size_t lag = best_lag > 4 ? best_lag - 4 : 0; lag <= std::min(max_lag, best_lag + 4); ++lag)
        best = std::max(best, correlation_at(a, b, lag));
    return best;
}

}  // namespace tutti_test
