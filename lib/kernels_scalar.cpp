// The scalar reference of every kernel: one sample at a time, compiled with
// -fno-tree-vectorize. It is the "scalar" dispatch level, the ground truth the
// tests hold every SIMD level to, and the per-sample loop PBXes run today that
// the benchmarks compare against. Keep it obviously correct, not fast.
#include <cmath>
#include <cstdint>

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

constexpr kernel_table kernels{simd_level::scalar, &s16_to_float, &float_to_s16, &add_saturate_s16,
                               &mix_saturate_s16,   &accumulate,   &accumulate_scaled, &mix_sum,
                               &mix_minus,          &gain_ramp,    &clamp,        &peak_abs,
                               &sum_squares};
}  // namespace

const kernel_table* scalar_kernels() noexcept { return &kernels; }
}  // namespace tutti::detail
