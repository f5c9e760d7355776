// Level measurement in dBov (RFC 6464 / ITU-T G.100.1 style: 0 dBov is a
// full-scale square wave, i.e. mean square 1.0 in the float mixing scale).
#include <algorithm>
#include <cmath>

#include "tutti/kernels.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {
constexpr float floor_dbov = -127.0f;
float to_dbov(float power) noexcept {
    if (!(power > 0.0f)) return floor_dbov;  // silence (and NaN)
    return std::clamp(10.0f * std::log10(power), floor_dbov, 0.0f);
}
}  // namespace

level_dbov measure_level(std::span<const float> src) noexcept {
    if (src.empty()) return {};
    const float peak = peak_abs(src.data(), src.size());
    const float mean_square = sum_squares(src.data(), src.size()) / static_cast<float>(src.size());
    return {to_dbov(peak * peak), to_dbov(mean_square)};
}

std::uint8_t rfc6464_level(float dbov) noexcept {
    if (!(dbov < 0.0f)) return 0;  // at or above overload (NaN counts as loud: fail safe for talk detection)
    return static_cast<std::uint8_t>(std::min(127.0f, std::nearbyint(-dbov)));
}

TUTTI_END_NAMESPACE
