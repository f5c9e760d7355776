// RFC 3389 comfort noise payloads and the white-noise generator. See comfort_noise.hpp.
#include "tutti/comfort_noise.hpp"

#include <cmath>

TUTTI_BEGIN_NAMESPACE

status parse_comfort_noise(std::span<const std::uint8_t> payload, comfort_noise_payload& out) noexcept {
    if (payload.empty()) return status::truncated;
    if ((payload[0] & 0x80) != 0) return status::malformed;
    out.level = payload[0];
    out.reflection_coefficients = payload.subspan(1);
    return status::ok;
}

std::ptrdiff_t write_comfort_noise(std::uint8_t level, std::span<std::uint8_t> out) noexcept {
    if (level > comfort_noise_max_level) return as_count(status::invalid_argument);
    if (out.empty()) return as_count(status::buffer_too_small);
    out[0] = level;
    return 1;
}

void comfort_noise_generator::fill(std::span<float> out, std::uint8_t level) noexcept {
    const float db = -static_cast<float>(level > comfort_noise_max_level ? comfort_noise_max_level : level);
    // A uniform variable on [-1, 1) has mean square 1/3.
    const float scale = std::sqrt(3.0f) * std::pow(10.0f, db / 20.0f) / 2147483648.0f;
    std::uint32_t s = state_;
    for (float& x : out) {
        s = s * 1664525u + 1013904223u;  // Numerical Recipes LCG: full period 2^32
        x = static_cast<float>(static_cast<std::int32_t>(s)) * scale;
    }
    state_ = s;
}

TUTTI_END_NAMESPACE
