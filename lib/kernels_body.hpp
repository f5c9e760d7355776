// The kernel bodies, written once against a tiny vector vocabulary (vf, vi,
// load, add, vmax, ...) and compiled once per CPU target: kernels_sse2.cpp,
// kernels_avx2.cpp, kernels_avx512.cpp and kernels_neon.cpp include an ops
// header and then this file inside their own namespace.
//
// Bit-exactness with kernels_scalar.cpp (the reference): every element-wise
// kernel performs the same IEEE operations in the same order, and the library
// is compiled with -ffp-contract=off so no a*b+c becomes an FMA. Scalar tails
// use plain float arithmetic, which rounds exactly like one vector lane;
// conversions go through a one-vector scratch so they use the vector rounding.
//
// No standard-library headers here: an inline std:: function instantiated in
// an AVX-512 translation unit could be picked by the linker for all callers.

// sum_squares keeps `unroll` independent accumulators; the N-input mixes keep
// `wide` accumulators in registers while they walk the inputs, enough to hide
// the add latency (3-4 cycles) behind two loads per cycle, so they run at the
// speed of the loads. The order of additions per sample does not change.
inline constexpr std::size_t unroll = 4;
inline constexpr std::size_t wide = 8;

inline void s16_to_float(const std::int16_t* src, float* dst, std::size_t n) {
    const vf scale = set1(1.0f / 32768.0f);
    std::size_t i = 0;
    for (; i + 2 * lanes <= n; i += 2 * lanes) {
        const vf a = mul(load_s16(src + i), scale), b = mul(load_s16(src + i + lanes), scale);
        store(dst + i, a);
        store(dst + i + lanes, b);
    }
    for (; i + lanes <= n; i += lanes) store(dst + i, mul(load_s16(src + i), scale));
    for (; i < n; ++i) dst[i] = static_cast<float>(src[i]) * (1.0f / 32768.0f);
}

inline vf to_s16_range(vf x) {
    return vmin(vmax(mul(x, set1(32768.0f)), set1(-32768.0f)), set1(32767.0f));
}

inline void float_to_s16(const float* src, std::int16_t* dst, std::size_t n) {
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) store_s16(dst + i, to_s16_range(load(src + i)));
    if (i < n) {
        float in[lanes] = {};
        std::int16_t out[lanes];
        for (std::size_t k = 0; k < n - i; ++k) in[k] = src[i + k];
        store_s16(out, to_s16_range(load(in)));
        for (std::size_t k = 0; k < n - i; ++k) dst[i + k] = out[k];
    }
}

inline std::int16_t saturate_s16(int x) {
    return static_cast<std::int16_t>(x > 32767 ? 32767 : (x < -32768 ? -32768 : x));
}

inline void add_saturate_s16(std::int16_t* dst, const std::int16_t* src, std::size_t n) {
    std::size_t i = 0;
    for (; i + lanes_s16 <= n; i += lanes_s16) store_i(dst + i, adds_s16(load_i(dst + i), load_i(src + i)));
    for (; i < n; ++i) dst[i] = saturate_s16(dst[i] + src[i]);
}

// The N-input mixes walk the inputs in groups of `group`: each pass adds up to
// eight inputs into dst over the whole frame (dst stays in L1), so the
// hardware prefetcher follows a handful of sequential streams instead of
// hundreds of short ones. Per sample the additions still happen in input
// order, so the result is the same as one left-to-right sum.
inline constexpr std::size_t group = 8;

// Adds inputs [first, last) into W registers for samples [i, i + W * lanes_s16),
// starting from dst (from_dst) or from zero.
template <std::size_t W>
inline void mix_saturate_s16_block(std::int16_t* dst, const std::int16_t* const* srcs, std::size_t first,
                                   std::size_t last, bool from_dst, std::size_t i) {
    vi a[W];
    for (std::size_t u = 0; u < W; ++u) a[u] = from_dst ? load_i(dst + i + u * lanes_s16) : zero_i();
    for (std::size_t k = first; k < last; ++k) {
        const std::int16_t* s = srcs[k] + i;
        for (std::size_t u = 0; u < W; ++u) a[u] = adds_s16(a[u], load_i(s + u * lanes_s16));
    }
    for (std::size_t u = 0; u < W; ++u) store_i(dst + i + u * lanes_s16, a[u]);
}

inline void mix_saturate_s16(std::int16_t* dst, const std::int16_t* const* srcs, std::size_t count, std::size_t n) {
    for (std::size_t first = 0; first == 0 || first < count; first += group) {
        const std::size_t last = count - first < group ? count : first + group;
        const bool from_dst = first != 0;
        std::size_t i = 0;
        for (; i + wide * lanes_s16 <= n; i += wide * lanes_s16) mix_saturate_s16_block<wide>(dst, srcs, first, last, from_dst, i);
        for (; i + 4 * lanes_s16 <= n; i += 4 * lanes_s16) mix_saturate_s16_block<4>(dst, srcs, first, last, from_dst, i);
        for (; i + 2 * lanes_s16 <= n; i += 2 * lanes_s16) mix_saturate_s16_block<2>(dst, srcs, first, last, from_dst, i);
        for (; i + lanes_s16 <= n; i += lanes_s16) mix_saturate_s16_block<1>(dst, srcs, first, last, from_dst, i);
        for (; i < n; ++i) {
            std::int16_t a = from_dst ? dst[i] : std::int16_t{0};
            for (std::size_t k = first; k < last; ++k) a = saturate_s16(a + srcs[k][i]);
            dst[i] = a;
        }
    }
}

inline void accumulate(float* dst, const float* src, std::size_t n) {
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) store(dst + i, add(load(dst + i), load(src + i)));
    for (; i < n; ++i) dst[i] = dst[i] + src[i];
}

inline void accumulate_scaled(float* dst, const float* src, float gain, std::size_t n) {
    const vf g = set1(gain);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) store(dst + i, add(load(dst + i), mul(g, load(src + i))));
    for (; i < n; ++i) dst[i] = dst[i] + gain * src[i];
}

// Adds inputs [first, last) for samples [i, i + W * lanes), starting from dst
// (from_dst) or from the first input.
template <std::size_t W>
inline void mix_sum_block(float* dst, const float* const* srcs, std::size_t first, std::size_t last, bool from_dst,
                          std::size_t i) {
    vf a[W];
    std::size_t k = first;
    const float* s0 = from_dst ? dst + i : srcs[k++] + i;
    for (std::size_t u = 0; u < W; ++u) a[u] = load(s0 + u * lanes);
    for (; k < last; ++k) {
        const float* s = srcs[k] + i;
        for (std::size_t u = 0; u < W; ++u) a[u] = add(a[u], load(s + u * lanes));
    }
    for (std::size_t u = 0; u < W; ++u) store(dst + i + u * lanes, a[u]);
}

inline void mix_sum(float* dst, const float* const* srcs, std::size_t count, std::size_t n) {
    if (count == 0) {
        for (std::size_t i = 0; i < n; ++i) dst[i] = 0.0f;
        return;
    }
    for (std::size_t first = 0; first < count; first += group) {
        const std::size_t last = count - first < group ? count : first + group;
        const bool from_dst = first != 0;
        std::size_t i = 0;
        for (; i + wide * lanes <= n; i += wide * lanes) mix_sum_block<wide>(dst, srcs, first, last, from_dst, i);
        for (; i + 4 * lanes <= n; i += 4 * lanes) mix_sum_block<4>(dst, srcs, first, last, from_dst, i);
        for (; i + 2 * lanes <= n; i += 2 * lanes) mix_sum_block<2>(dst, srcs, first, last, from_dst, i);
        for (; i + lanes <= n; i += lanes) mix_sum_block<1>(dst, srcs, first, last, from_dst, i);
        for (; i < n; ++i) {
            std::size_t k = first;
            float a = from_dst ? dst[i] : srcs[k++][i];
            for (; k < last; ++k) a = a + srcs[k][i];
            dst[i] = a;
        }
    }
}

inline void mix_minus(float* dst, const float* total, const float* own, float own_gain, std::size_t n) {
    const vf g = set1(own_gain);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) store(dst + i, sub(load(total + i), mul(g, load(own + i))));
    for (; i < n; ++i) dst[i] = total[i] - own_gain * own[i];
}

inline void gain_ramp(float* dst, const float* src, float from, float to, std::size_t n) {
    if (n == 0) return;
    const float step = (to - from) / static_cast<float>(n);
    const vf vfrom = set1(from), vstep = set1(step), lane = iota();
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        const vf g = add(vfrom, mul(vstep, add(set1(static_cast<float>(i)), lane)));
        store(dst + i, mul(load(src + i), g));
    }
    for (; i < n; ++i) dst[i] = src[i] * (from + step * static_cast<float>(i));
}

inline void clamp(float* dst, const float* src, float ceiling, std::size_t n) {
    const vf hi = set1(ceiling), lo = set1(-ceiling);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) store(dst + i, vmin(vmax(load(src + i), lo), hi));
    for (; i < n; ++i) {
        const float v = src[i] > -ceiling ? src[i] : -ceiling;
        dst[i] = v < ceiling ? v : ceiling;
    }
}

inline float peak_abs(const float* src, std::size_t n) {
    // vmax(|x|, acc): a NaN sample loses to acc, so NaN is ignored at every level.
    vf acc = set1(0.0f);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) acc = vmax(vabs(load(src + i)), acc);
    float m = hmax(acc);
    for (; i < n; ++i) {
        const float a = src[i] < 0.0f ? -src[i] : src[i];
        m = a > m ? a : m;
    }
    return m;
}

inline float sum_squares(const float* src, std::size_t n) {
    vf a0 = set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
    std::size_t i = 0;
    for (; i + unroll * lanes <= n; i += unroll * lanes) {
        const vf x0 = load(src + i), x1 = load(src + i + lanes);
        const vf x2 = load(src + i + 2 * lanes), x3 = load(src + i + 3 * lanes);
        a0 = add(a0, mul(x0, x0));
        a1 = add(a1, mul(x1, x1));
        a2 = add(a2, mul(x2, x2));
        a3 = add(a3, mul(x3, x3));
    }
    for (; i + lanes <= n; i += lanes) {
        const vf x = load(src + i);
        a0 = add(a0, mul(x, x));
    }
    float s = hsum(add(add(a0, a1), add(a2, a3)));
    for (; i < n; ++i) s = s + src[i] * src[i];
    return s;
}

inline constexpr kernel_table table(simd_level level) {
    return kernel_table{level,          &s16_to_float, &float_to_s16, &add_saturate_s16, &mix_saturate_s16,
                        &accumulate,    &accumulate_scaled, &mix_sum, &mix_minus, &gain_ramp,
                        &clamp,         &peak_abs,     &sum_squares};
}
