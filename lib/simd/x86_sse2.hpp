// SSE2 vector operations for kernels_body.hpp. Included inside a per-target
// namespace by kernels_sse2.cpp only; see that file for why.
// Semantics every ops header shares:
//   vmax(a, b) = a > b ? a : b   (x86 maxps: NaN in a gives b)
//   vmin(a, b) = a < b ? a : b
//   store_s16 rounds to nearest-even and saturates (input already clamped).

inline constexpr std::size_t lanes = 4;  // floats per vf
using vf = __m128;
inline vf load(const float* p) { return _mm_loadu_ps(p); }
inline void store(float* p, vf v) { _mm_storeu_ps(p, v); }
inline vf set1(float x) { return _mm_set1_ps(x); }
inline vf iota() { return _mm_setr_ps(0.f, 1.f, 2.f, 3.f); }
inline vf add(vf a, vf b) { return _mm_add_ps(a, b); }
inline vf sub(vf a, vf b) { return _mm_sub_ps(a, b); }
inline vf mul(vf a, vf b) { return _mm_mul_ps(a, b); }
inline vf vmax(vf a, vf b) { return _mm_max_ps(a, b); }
inline vf vmin(vf a, vf b) { return _mm_min_ps(a, b); }
inline vf vabs(vf a) { return _mm_and_ps(a, _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff))); }
inline float hmax(vf a) {
    vf b = _mm_max_ps(a, _mm_movehl_ps(a, a));
    b = _mm_max_ps(b, _mm_shuffle_ps(b, b, 1));
    return _mm_cvtss_f32(b);
}
inline float hsum(vf a) {
    vf b = _mm_add_ps(a, _mm_movehl_ps(a, a));
    b = _mm_add_ss(b, _mm_shuffle_ps(b, b, 1));
    return _mm_cvtss_f32(b);
}
// `lanes` int16 -> float (unscaled).
inline vf load_s16(const std::int16_t* p) {
    __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(x, x), 16));
}
inline void store_s16(std::int16_t* p, vf v) {
    __m128i i = _mm_cvtps_epi32(v);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi32(i, i));
}

inline constexpr std::size_t lanes_s16 = 8;  // int16 per vi
using vi = __m128i;
inline vi load_i(const std::int16_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
inline void store_i(std::int16_t* p, vi v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
inline vi zero_i() { return _mm_setzero_si128(); }
inline vi adds_s16(vi a, vi b) { return _mm_adds_epi16(a, b); }
