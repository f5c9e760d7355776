// Internal: the G.711 companding tables, built at compile time from the
// segment formulas of G.711 (Tables 1a/2a: 8 segments of 16 intervals, each
// segment's step double the previous one, the decoder output in the middle of
// each interval):
//  - µ-law works on 14-bit magnitudes. Adding the bias 33 (0x84 at 16 bits)
//    makes every segment boundary a power of two, so the segment is the
//    position of the highest set bit and the 4 interval bits follow it. The
//    transmitted byte is the complement of sign|segment|interval (sign 0 = +).
//  - A-law works on 13-bit magnitudes (12 bits + sign): segments 0 and 1 share
//    the finest step, then each doubles. The transmitted byte has its even bits
//    inverted (XOR 0x55) and sign bit 1 = +.
//
// Used by lib/codecs/g711.cpp (the per-sample functions) and by the scalar
// reference kernels in lib/kernels_scalar.cpp. The SIMD bodies
// (lib/kernels_body.hpp) compute the same codes with bit arithmetic instead;
// tests/kernels_test.cpp holds them to these tables for every input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tutti::detail::g711 {

// 7-bit segment|interval code of a 14-bit µ-law magnitude (0..8191).
constexpr std::uint8_t mu_law_code7(int magnitude) {
    constexpr int clip = 8158;  // 8158 + 33 = 8191: the top of segment 7
    const int biased = (magnitude < clip ? magnitude : clip) + 33;
    int segment = 0;
    while ((biased >> (segment + 6)) != 0) ++segment;  // biased is in [32 << segment, 64 << segment)
    const int interval = (biased >> (segment + 1)) & 0x0F;
    return static_cast<std::uint8_t>((segment << 4) | interval);
}

// 7-bit segment|interval code of a 13-bit A-law magnitude (0..4095).
constexpr std::uint8_t a_law_code7(int magnitude) {
    if (magnitude < 32) return static_cast<std::uint8_t>(magnitude >> 1);  // segment 0, step 2
    int segment = 1;
    while ((magnitude >> (segment + 5)) != 0) ++segment;  // magnitude is in [16 << segment, 32 << segment)
    const int interval = (magnitude >> segment) & 0x0F;
    return static_cast<std::uint8_t>((segment << 4) | interval);
}

constexpr std::int16_t mu_law_value(std::uint8_t code) {
    const int c = ~code & 0xFF;
    const int segment = (c >> 4) & 0x07;
    const int interval = c & 0x0F;
    const int magnitude = (((interval << 3) + 0x84) << segment) - 0x84;
    return static_cast<std::int16_t>((c & 0x80) != 0 ? -magnitude : magnitude);
}

constexpr std::int16_t a_law_value(std::uint8_t code) {
    const int c = code ^ 0x55;
    const int segment = (c >> 4) & 0x07;
    const int interval = c & 0x0F;
    const int magnitude = segment == 0 ? (interval << 4) + 8 : ((interval << 4) + 0x108) << (segment - 1);
    return static_cast<std::int16_t>((c & 0x80) != 0 ? magnitude : -magnitude);
}

// Index: 14-bit magnitude (µ-law) / 13-bit magnitude (A-law). 12 KiB together.
inline constexpr auto mu_law_encode_table = [] {
    std::array<std::uint8_t, 8192> t{};
    for (int m = 0; m < 8192; ++m) t[static_cast<std::size_t>(m)] = mu_law_code7(m);
    return t;
}();
inline constexpr auto a_law_encode_table = [] {
    std::array<std::uint8_t, 4096> t{};
    for (int m = 0; m < 4096; ++m) t[static_cast<std::size_t>(m)] = a_law_code7(m);
    return t;
}();

template <class T, class F>
constexpr std::array<T, 256> decode_table(F value_of) {
    std::array<T, 256> t{};
    for (int c = 0; c < 256; ++c) {
        const std::int16_t v = value_of(static_cast<std::uint8_t>(c));
        if constexpr (std::is_same_v<T, float>) {
            t[static_cast<std::size_t>(c)] = static_cast<float>(v) / 32768.0f;
        } else if constexpr (std::is_same_v<T, std::uint32_t>) {
            t[static_cast<std::size_t>(c)] = static_cast<std::uint32_t>(v * v);  // code -> decoded value squared
        } else {
            t[static_cast<std::size_t>(c)] = v;
        }
    }
    return t;
}
inline constexpr auto mu_law_s16 = decode_table<std::int16_t>(mu_law_value);
inline constexpr auto a_law_s16 = decode_table<std::int16_t>(a_law_value);
inline constexpr auto mu_law_float = decode_table<float>(mu_law_value);
inline constexpr auto a_law_float = decode_table<float>(a_law_value);
inline constexpr auto mu_law_squares = decode_table<std::uint32_t>(mu_law_value);
inline constexpr auto a_law_squares = decode_table<std::uint32_t>(a_law_value);

static_assert(mu_law_value(0xFF) == 0 && mu_law_value(0x7F) == 0 && mu_law_value(0x80) == 32124 &&
              mu_law_value(0x00) == -32124);
static_assert(a_law_value(0xD5) == 8 && a_law_value(0x55) == -8 && a_law_value(0xAA) == 32256 &&
              a_law_value(0x2A) == -32256);

// One's complement magnitude: -1 -> 0, -32768 -> 32767, as the G.191 reference
// reduces 16-bit two's complement to G.711's sign-magnitude.
constexpr int magnitude_of(std::int16_t x) noexcept { return x >= 0 ? x : ~x; }

inline std::uint8_t encode_mu(std::int16_t x) noexcept {
    const std::uint8_t c7 = mu_law_encode_table[static_cast<std::size_t>(magnitude_of(x) >> 2)];
    return static_cast<std::uint8_t>((x >= 0 ? 0xFF : 0x7F) ^ c7);
}
inline std::uint8_t encode_a(std::int16_t x) noexcept {
    const std::uint8_t c7 = a_law_encode_table[static_cast<std::size_t>(magnitude_of(x) >> 3)];
    return static_cast<std::uint8_t>((x >= 0 ? 0x80 : 0x00) | c7) ^ 0x55;
}

}  // namespace tutti::detail::g711
