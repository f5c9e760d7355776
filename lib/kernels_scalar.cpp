// The scalar reference of every kernel: one sample at a time, compiled with
// -fno-tree-vectorize. It is the "scalar" dispatch level, the ground truth the
// tests hold every SIMD level to, and the per-sample loop PBXes run today that
// the benchmarks compare against. Keep it obviously correct, not fast.
#include <cmath>
#include <cstdint>

#include "codecs/g711_tables.hpp"
#include "kernels_targets.hpp"

namespace tutti::detail {
namespace {

std::int16_t saturate_s16(int x) { return static_cast<std::int16_t>(x > 32767 ? 32767 : (x < -32768 ? -32768 : x)); }

void s16_to_float(const std::int16_t* src, float* dst, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]) * (1.0f / 32768.0f);
}

void float_to_s16(const float* src, std::int16_t* dst, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        float v = src[i] * 32768.0f;
        v = v > -32768.0f ? v : -32768.0f;  // NaN fails the test and becomes -32768, as maxps does
        v = v < 32767.0f ? v : 32767.0f;
        dst[i] = static_cast<std::int16_t>(std::lrint(v));  // current rounding mode: nearest-even
    }
}

void add_saturate_s16(std::int16_t* dst, const std::int16_t* src, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = saturate_s16(dst[i] + src[i]);
}

void mix_saturate_s16(std::int16_t* dst, const std::int16_t* const* srcs, std::size_t count, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = 0;
    for (std::size_t k = 0; k < count; ++k) add_saturate_s16(dst, srcs[k], n);
}

void accumulate(float* dst, const float* src, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = dst[i] + src[i];
}

void accumulate_scaled(float* dst, const float* src, float gain, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = dst[i] + gain * src[i];
}

void mix_sum(float* dst, const float* const* srcs, std::size_t count, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = count == 0 ? 0.0f : srcs[0][i];
    for (std::size_t k = 1; k < count; ++k) accumulate(dst, srcs[k], n);
}

void mix_minus(float* dst, const float* total, const float* own, float own_gain, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = total[i] - own_gain * own[i];
}

void gain_ramp(float* dst, const float* src, float from, float to, std::size_t n) {
    if (n == 0) return;
    const float step = (to - from) / static_cast<float>(n);
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i] * (from + step * static_cast<float>(i));
}

void clamp(float* dst, const float* src, float ceiling, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const float v = src[i] > -ceiling ? src[i] : -ceiling;
        dst[i] = v < ceiling ? v : ceiling;
    }
}

float peak_abs(const float* src, std::size_t n) {
    float m = 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
        const float a = std::fabs(src[i]);
        m = a > m ? a : m;  // NaN compares false: ignored
    }
    return m;
}

float sum_squares(const float* src, std::size_t n) {
    float s = 0.0f;
    for (std::size_t i = 0; i < n; ++i) s = s + src[i] * src[i];
    return s;
}

// G.711: one table lookup per sample (codecs/g711_tables.hpp).
template <bool a_law>
void g711_encode_s16(const std::int16_t* src, std::uint8_t* dst, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = a_law ? g711::encode_a(src[i]) : g711::encode_mu(src[i]);
}

template <bool a_law>
void g711_encode(const float* src, std::uint8_t* dst, std::size_t n) {
    // Through int16 in cache-sized chunks: float_to_s16's rounding and saturation.
    constexpr std::size_t chunk = 256;
    std::int16_t s16[chunk];
    for (std::size_t done = 0; done < n;) {
        const std::size_t m = n - done < chunk ? n - done : chunk;
        float_to_s16(src + done, s16, m);
        g711_encode_s16<a_law>(s16, dst + done, m);
        done += m;
    }
}

template <bool a_law>
void g711_decode(const std::uint8_t* src, float* dst, std::size_t n) {
    const auto& table = a_law ? g711::a_law_float : g711::mu_law_float;
    for (std::size_t i = 0; i < n; ++i) dst[i] = table[src[i]];
}

template <bool a_law>
void g711_decode_s16(const std::uint8_t* src, std::int16_t* dst, std::size_t n) {
    const auto& table = a_law ? g711::a_law_s16 : g711::mu_law_s16;
    for (std::size_t i = 0; i < n; ++i) dst[i] = table[src[i]];
}

template <bool a_law>
std::uint64_t g711_sum_squares(const std::uint8_t* src, std::size_t n) {
    const auto& table = a_law ? g711::a_law_squares : g711::mu_law_squares;
    std::uint64_t sum = 0;  // < 2^30 per code: no overflow below 2^34 codes
    for (std::size_t i = 0; i < n; ++i) sum += table[src[i]];
    return sum;
}

template <bool a_law>
constexpr g711_kernels g711_table{&g711_encode<a_law>, &g711_encode_s16<a_law>, &g711_decode<a_law>,
                                  &g711_decode_s16<a_law>, &g711_sum_squares<a_law>};

constexpr kernel_table kernels{simd_level::scalar, &s16_to_float, &float_to_s16, &add_saturate_s16,
                               &mix_saturate_s16,   &accumulate,   &accumulate_scaled, &mix_sum,
                               &mix_minus,          &gain_ramp,    &clamp,        &peak_abs,
                               &sum_squares,        g711_table<false>, g711_table<true>};
}  // namespace

const kernel_table* scalar_kernels() noexcept { return &kernels; }
}  // namespace tutti::detail
