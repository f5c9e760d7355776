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

// ---------------------------------------------------------------------------
// G.711 (tutti/codecs/g711.hpp), bit-exact with the tables of the scalar
// reference (lib/codecs/g711_tables.hpp) for every input.
//
// Why in this vocabulary rather than as AVX2/AVX-512 intrinsics beside a scalar
// fallback: both directions need only a per-lane "position of the highest set
// bit" and a per-lane shift by it, and the float format gives both on every
// target (an int32 -> float conversion computes the exponent; assembling a
// float from exponent and mantissa bits shifts by it). So one body in 32-bit
// lanes, over about twenty one-line integer ops per target, serves SSE2 and
// NEON as well. 16-bit lanes would hold twice the codes per vector, but need a
// per-lane 16-bit shift or byte shuffle that SSE2 lacks and AVX2 only has as
// pshufb + pmullw: per-target bodies, for perhaps 1.5x on kernels that already
// take about 20-40 ns per 20 ms packet (bench/kernels_bench, g711_*).
//
// Segment s and interval i, packed as the 7-bit code s << 4 | i, are the biased
// exponent and the top 4 mantissa bits of a float: a float whose bits are
// ((s << 4 | i) + g711_exponent_bias) << 19 has the value (16 + i) << (s + 3),
// the bottom of interval i of segment s at the 16-bit scale where segment 0
// starts at 128 (µ-law after its bias of 132; A-law above 256).
inline constexpr std::int32_t g711_exponent_bias = (127 + 7) << 4;  // 2^7 = segment 0, interval 0
inline constexpr std::int32_t g711_half_interval = 1 << 18;         // 1/32 of the leading one: mid-interval

// s << 4 | i of magnitudes m in [128, 32767]: s = floor(log2 m) - 7 and i the 4
// bits below the leading one, read off float(m) (exact below 2^24).
inline vi32 g711_code7(vi32 m) { return sub_i32(shr_i32<19>(as_bits(to_float(m))), set1_i32(g711_exponent_bias)); }

// The codes (0..255, one per int32 lane) of 16-bit samples x (int32 lanes in [-32768, 32767]).
template <bool a_law>
inline vi32 g711_encode_lanes(vi32 x) {
    const vi32 negative = sar_i32<31>(x);
    const vi32 m = vxor(x, negative);  // one's complement magnitude 0..32767, as the G.191 reference
    const vi32 sign_bit = vand(negative, set1_i32(0x80));
    if constexpr (a_law) {
        // Segments 0 and 1 share the step 16, so below 512 the code is m >> 4;
        // from 256 up it is g711_code7(m), which never exceeds m >> 4 there.
        const vi32 c7 = min_narrow(shr_i32<4>(m), g711_code7(max_narrow(m, set1_i32(256))));
        return vxor(c7, vxor(set1_i32(0xD5), sign_bit));  // sign 1 = +, even bits inverted
    } else {
        // Bias 132 (33 at 14 bits): segment boundaries become powers of two. The
        // clip keeps the top of segment 7 at 32767.
        const vi32 c7 = g711_code7(add_i32(min_narrow(m, set1_i32(32635)), set1_i32(132)));
        return vxor(c7, vxor(set1_i32(0xFF), sign_bit));  // sent inverted, sign 0 = +
    }
}

// |decoded value| of codes c (int32 lanes, 0..255): the middle of the interval,
// built as a float from exponent and mantissa bits (see above).
template <bool a_law>
inline vi32 g711_magnitude_lanes(vi32 c) {
    const vi32 c7 = vand(c, set1_i32(0x7F));
    if constexpr (a_law) {
        // Segment s >= 1: ((i << 4) + 264) << (s - 1), the float value itself.
        // Segment 0 (c7 < 16) continues segment 1's step below it: 264 + 16 * (c7 - 16).
        const vi32 t = sub_i32(vxor(c7, set1_i32(0x55)), set1_i32(16));  // c7 - 16, even bits uninverted
        const vi32 bits = add_i32(shl_i32<19>(max_narrow(t, set1_i32(0))),
                                  set1_i32(((g711_exponent_bias + 16) << 19) + g711_half_interval));
        return add_i32(round_i32(from_bits(bits)), shl_i32<4>(min_narrow(t, set1_i32(0))));
    } else {
        // The code is sent inverted: s << 4 | i = 0x7F - c7. Value minus the bias 132.
        const vi32 bits = sub_i32(set1_i32(((g711_exponent_bias + 0x7F) << 19) + g711_half_interval), shl_i32<19>(c7));
        return sub_i32(round_i32(from_bits(bits)), set1_i32(132));
    }
}

// Decoded 16-bit values of codes c. Both laws send sign bit 0 for negative.
template <bool a_law>
inline vi32 g711_decode_lanes(vi32 c) {
    const vi32 negative = sub_i32(shr_i32<7>(c), set1_i32(1));  // sign bit 1 -> 0, 0 -> -1
    return sub_i32(vxor(g711_magnitude_lanes<a_law>(c), negative), negative);  // µ-law -0 gives 0
}

template <bool a_law>
inline vi32 g711_encode_float_lanes(const float* src) {
    return g711_encode_lanes<a_law>(round_i32(to_s16_range(load(src))));  // float_to_s16's conversion
}

template <bool a_law>
inline void g711_encode(const float* src, std::uint8_t* dst, std::size_t n) {
    std::size_t i = 0;
    for (; i + 4 * lanes <= n; i += 4 * lanes) {
        store_u8x4(dst + i, g711_encode_float_lanes<a_law>(src + i), g711_encode_float_lanes<a_law>(src + i + lanes),
                   g711_encode_float_lanes<a_law>(src + i + 2 * lanes), g711_encode_float_lanes<a_law>(src + i + 3 * lanes));
    }
    for (; i + lanes <= n; i += lanes) store_u8(dst + i, g711_encode_float_lanes<a_law>(src + i));
    if (i < n) {
        float in[lanes] = {};
        std::uint8_t out[lanes];
        for (std::size_t k = 0; k < n - i; ++k) in[k] = src[i + k];
        store_u8(out, g711_encode_float_lanes<a_law>(in));
        for (std::size_t k = 0; k < n - i; ++k) dst[i + k] = out[k];
    }
}

template <bool a_law>
inline void g711_encode_s16(const std::int16_t* src, std::uint8_t* dst, std::size_t n) {
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) store_u8(dst + i, g711_encode_lanes<a_law>(round_i32(load_s16(src + i))));
    if (i < n) {
        std::int16_t in[lanes] = {};
        std::uint8_t out[lanes];
        for (std::size_t k = 0; k < n - i; ++k) in[k] = src[i + k];
        store_u8(out, g711_encode_lanes<a_law>(round_i32(load_s16(in))));
        for (std::size_t k = 0; k < n - i; ++k) dst[i + k] = out[k];
    }
}

template <bool a_law>
inline void g711_decode(const std::uint8_t* src, float* dst, std::size_t n) {
    const vf scale = set1(1.0f / 32768.0f);  // exact: the table's value / 32768
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) store(dst + i, mul(to_float(g711_decode_lanes<a_law>(load_u8_i32(src + i))), scale));
    if (i < n) {
        std::uint8_t in[lanes] = {};
        float out[lanes];
        for (std::size_t k = 0; k < n - i; ++k) in[k] = src[i + k];
        store(out, mul(to_float(g711_decode_lanes<a_law>(load_u8_i32(in))), scale));
        for (std::size_t k = 0; k < n - i; ++k) dst[i + k] = out[k];
    }
}

template <bool a_law>
inline void g711_decode_s16(const std::uint8_t* src, std::int16_t* dst, std::size_t n) {
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) store_s16(dst + i, to_float(g711_decode_lanes<a_law>(load_u8_i32(src + i))));
    if (i < n) {
        std::uint8_t in[lanes] = {};
        std::int16_t out[lanes];
        for (std::size_t k = 0; k < n - i; ++k) in[k] = src[i + k];
        store_s16(out, to_float(g711_decode_lanes<a_law>(load_u8_i32(in))));
        for (std::size_t k = 0; k < n - i; ++k) dst[i + k] = out[k];
    }
}

template <bool a_law>
inline vi32 g711_squares(const std::uint8_t* src) {
    const vi32 m = g711_magnitude_lanes<a_law>(load_u8_i32(src));
    return square_u15(m);
}

template <bool a_law>
inline std::uint64_t g711_sum_squares(const std::uint8_t* src, std::size_t n) {
    // A square is at most 32256^2 < 2^30, so four add up in a 32-bit lane
    // without overflow before they go to the 64-bit sum.
    vu64 acc = zero_u64();
    std::size_t i = 0;
    for (; i + 4 * lanes <= n; i += 4 * lanes) {
        const vi32 s = add_i32(add_i32(g711_squares<a_law>(src + i), g711_squares<a_law>(src + i + lanes)),
                               add_i32(g711_squares<a_law>(src + i + 2 * lanes), g711_squares<a_law>(src + i + 3 * lanes)));
        acc = add_u64(acc, s);
    }
    for (; i + lanes <= n; i += lanes) acc = add_u64(acc, g711_squares<a_law>(src + i));
    if (i < n) {
        // Pad with the quietest code (µ-law 0xFF: 0; A-law 0xD5: 8) and take its squares back out.
        const std::uint8_t quiet = a_law ? 0xD5 : 0xFF;
        const std::uint64_t quiet_square = a_law ? 64 : 0;
        std::uint8_t in[lanes];
        for (std::size_t k = 0; k < lanes; ++k) in[k] = k < n - i ? src[i + k] : quiet;
        acc = add_u64(acc, g711_squares<a_law>(in));
        return hsum_u64(acc) - quiet_square * (lanes - (n - i));
    }
    return hsum_u64(acc);
}

template <bool a_law>
inline constexpr g711_kernels g711_table{&g711_encode<a_law>, &g711_encode_s16<a_law>, &g711_decode<a_law>,
                                         &g711_decode_s16<a_law>, &g711_sum_squares<a_law>};

inline constexpr kernel_table table(simd_level level) {
    return kernel_table{level,          &s16_to_float, &float_to_s16, &add_saturate_s16, &mix_saturate_s16,
                        &accumulate,    &accumulate_scaled, &mix_sum, &mix_minus, &gain_ramp,
                        &clamp,         &peak_abs,     &sum_squares, g711_table<false>, g711_table<true>};
}
