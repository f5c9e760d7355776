// tutti/kernels.hpp: the sample-crunching loops of the mixer, with runtime SIMD dispatch.
//
// Each function here is a plain declaration; its bodies live in lib/ once per
// CPU target (scalar reference, SSE2, AVX2, AVX-512, NEON) and the best one the
// CPU supports is chosen once, at first use, from CPUID. A binary built on any
// x86-64 runs everywhere: speed comes from dispatch, not from -march flags.
//
// Floats are audio in [-1, 1) ("full scale" = 1.0, matching int16 32768).
// Every function takes counts in samples, accepts unaligned pointers and n == 0.
// Element-wise kernels give bit-identical results at every level (no FMA
// contraction, same operation order); reductions (`sum_squares`) differ only by
// summation order. All are [any-thread], allocation-free and noexcept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tutti/config.hpp"

TUTTI_BEGIN_NAMESPACE

/// Instruction-set levels a kernel body exists for, lowest first.
enum class simd_level : int { scalar = 0, sse2 = 1, avx2 = 2, avx512 = 3, neon = 4 };

/// "scalar", "sse2", "avx2", "avx512", "neon".
std::string_view to_string(simd_level level) noexcept;

/// One G.711 law's kernel bodies. Hosts call them through the functions of
/// tutti/codecs/g711.hpp, which state the contract; every level gives the
/// scalar (table) results bit for bit, for every input.
struct g711_kernels {
    /// g711_encode(law, float*): float_to_s16's rounding and saturation, then companding.
    void (*encode)(const float* src, std::uint8_t* dst, std::size_t n);
    /// g711_encode(law, int16_t*).
    void (*encode_s16)(const std::int16_t* src, std::uint8_t* dst, std::size_t n);
    /// g711_decode(law, ..., float*).
    void (*decode)(const std::uint8_t* src, float* dst, std::size_t n);
    /// g711_decode(law, ..., int16_t*).
    void (*decode_s16)(const std::uint8_t* src, std::int16_t* dst, std::size_t n);
    /// Sum over the n codes of (decoded int16 value)^2, exact (g711_level_dbov's numerator).
    std::uint64_t (*sum_squares)(const std::uint8_t* src, std::size_t n);
};

/// Pointers to one level's kernel bodies. Tests and benchmarks use it to run a
/// level other than the active one; hosts use the free functions below.
struct kernel_table {
    simd_level level;
    void (*s16_to_float)(const std::int16_t* src, float* dst, std::size_t n);
    void (*float_to_s16)(const float* src, std::int16_t* dst, std::size_t n);
    void (*add_saturate_s16)(std::int16_t* dst, const std::int16_t* src, std::size_t n);
    void (*mix_saturate_s16)(std::int16_t* dst, const std::int16_t* const* srcs, std::size_t count, std::size_t n);
    void (*accumulate)(float* dst, const float* src, std::size_t n);
    void (*accumulate_scaled)(float* dst, const float* src, float gain, std::size_t n);
    void (*mix_sum)(float* dst, const float* const* srcs, std::size_t count, std::size_t n);
    void (*mix_minus)(float* dst, const float* total, const float* own, float own_gain, std::size_t n);
    void (*gain_ramp)(float* dst, const float* src, float from, float to, std::size_t n);
    void (*clamp)(float* dst, const float* src, float ceiling, std::size_t n);
    float (*peak_abs)(const float* src, std::size_t n);
    float (*sum_squares)(const float* src, std::size_t n);
    g711_kernels mu_law;  ///< PCMU
    g711_kernels a_law;   ///< PCMA
};

/// The highest level this CPU (and this build) can run.
simd_level best_simd_level() noexcept;
/// The level the free functions below use now.
simd_level active_simd_level() noexcept;
/// Forces the free functions to `level`, or to the best supported level below it
/// when the CPU lacks it; returns the level now active. Meant for tests,
/// benchmarks and hosts that must be reproducible across machines. The
/// environment variable TUTTI_SIMD (scalar|sse2|avx2|avx512|neon) does the same
/// at start-up. [any-thread], but changing it while ticks run only changes speed.
simd_level set_simd_level(simd_level level) noexcept;
/// The bodies of `level`, or nullptr when this CPU or build cannot run it.
const kernel_table* kernels_for(simd_level level) noexcept;
/// The bodies the free functions use now.
const kernel_table& active_kernels() noexcept;

// ---------------------------------------------------------------------------
// Conversions

/// dst[i] = src[i] / 32768. Exact.
inline void s16_to_float(const std::int16_t* src, float* dst, std::size_t n) noexcept { active_kernels().s16_to_float(src, dst, n); }
/// dst[i] = round_half_even(clamp(src[i] * 32768, -32768, 32767)); NaN gives -32768.
/// Saturates instead of wrapping, and rounds (not truncates) so that
/// s16 -> float -> s16 is the identity.
inline void float_to_s16(const float* src, std::int16_t* dst, std::size_t n) noexcept { active_kernels().float_to_s16(src, dst, n); }

// ---------------------------------------------------------------------------
// int16 mixing (what PBXes run today, kept for PCM participants that stay in int16)

/// dst[i] = saturate(dst[i] + src[i]). dst may equal src.
inline void add_saturate_s16(std::int16_t* dst, const std::int16_t* src, std::size_t n) noexcept { active_kernels().add_saturate_s16(dst, src, n); }
/// dst[i] = saturate(...saturate(saturate(0 + srcs[0][i]) + srcs[1][i]) ... + srcs[count-1][i]):
/// exactly `count` sequential add_saturate_s16 calls into a zeroed dst, in one pass.
inline void mix_saturate_s16(std::int16_t* dst, const std::int16_t* const* srcs, std::size_t count, std::size_t n) noexcept { active_kernels().mix_saturate_s16(dst, srcs, count, n); }

// ---------------------------------------------------------------------------
// float mixing

/// dst[i] += src[i]. dst may equal src.
inline void accumulate(float* dst, const float* src, std::size_t n) noexcept { active_kernels().accumulate(dst, src, n); }
/// dst[i] += gain * src[i] (product rounded, then sum rounded: no FMA).
inline void accumulate_scaled(float* dst, const float* src, float gain, std::size_t n) noexcept { active_kernels().accumulate_scaled(dst, src, gain, n); }
/// dst[i] = ((srcs[0][i] + srcs[1][i]) + ...) + srcs[count-1][i], left to right;
/// 0 when count == 0. One pass over dst however many inputs: the N-party mix.
inline void mix_sum(float* dst, const float* const* srcs, std::size_t count, std::size_t n) noexcept { active_kernels().mix_sum(dst, srcs, count, n); }
/// dst[i] = total[i] - own_gain * own[i]: what one participant hears when the
/// room total includes its own voice at `own_gain`. dst may equal total.
inline void mix_minus(float* dst, const float* total, const float* own, float own_gain, std::size_t n) noexcept { active_kernels().mix_minus(dst, total, own, own_gain, n); }
/// dst[i] = src[i] * (from + (to - from) / n * i): a linear gain ramp that
/// reaches `to` at sample n (the first sample of the next frame), so a gain
/// change spread over a frame has no zipper noise. from == to is a plain gain.
/// dst may equal src.
inline void gain_ramp(float* dst, const float* src, float from, float to, std::size_t n) noexcept { active_kernels().gain_ramp(dst, src, from, to, n); }
/// dst[i] = min(max(src[i], -ceiling), ceiling); NaN gives -ceiling. dst may equal src.
inline void clamp(float* dst, const float* src, float ceiling, std::size_t n) noexcept { active_kernels().clamp(dst, src, ceiling, n); }

// ---------------------------------------------------------------------------
// levels

/// max |src[i]|, 0 for n == 0.
inline float peak_abs(const float* src, std::size_t n) noexcept { return active_kernels().peak_abs(src, n); }
/// sum of src[i]^2 (order of summation is level-specific).
inline float sum_squares(const float* src, std::size_t n) noexcept { return active_kernels().sum_squares(src, n); }

/// Span overloads of the common calls.
inline void accumulate(std::span<float> dst, std::span<const float> src) noexcept { accumulate(dst.data(), src.data(), dst.size() < src.size() ? dst.size() : src.size()); }
inline float peak_abs(std::span<const float> src) noexcept { return peak_abs(src.data(), src.size()); }

/// Level of a frame in dBov: 0 for a full-scale square wave, about -3.01 for a
/// full-scale sine, never above 0 and never below -127 (silence).
struct level_dbov {
    float peak = -127.0f;  ///< 20*log10(max |x|)
    float rms = -127.0f;   ///< 10*log10(mean x^2)
};
/// Peak and RMS level of `src`. [any-thread]
level_dbov measure_level(std::span<const float> src) noexcept;
/// RFC 6464 audio level: -dBov rounded and clamped to 0 (loudest) .. 127 (silence).
std::uint8_t rfc6464_level(float dbov) noexcept;

TUTTI_END_NAMESPACE
