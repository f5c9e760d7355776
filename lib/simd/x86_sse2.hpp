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

// 32-bit integer lanes, as many as vf has floats (the G.711 kernels). Lane
// values are int32; add_i32/sub_i32 wrap, so a lane may also be read as uint32.
using vi32 = __m128i;
inline vi32 set1_i32(std::int32_t x) { return _mm_set1_epi32(x); }
inline vi32 round_i32(vf v) { return _mm_cvtps_epi32(v); }  // nearest-even, as store_s16
inline vf to_float(vi32 v) { return _mm_cvtepi32_ps(v); }
inline vi32 as_bits(vf v) { return _mm_castps_si128(v); }
inline vf from_bits(vi32 v) { return _mm_castsi128_ps(v); }
inline vi32 vand(vi32 a, vi32 b) { return _mm_and_si128(a, b); }
inline vi32 vxor(vi32 a, vi32 b) { return _mm_xor_si128(a, b); }
inline vi32 add_i32(vi32 a, vi32 b) { return _mm_add_epi32(a, b); }
inline vi32 sub_i32(vi32 a, vi32 b) { return _mm_sub_epi32(a, b); }
// min/max of lanes whose values fit in int16 (all the G.711 code needs). SSE2
// has no pminsd, but on sign-extended int16 values pminsw/pmaxsw give the same
// lanes: the high halves are 0 or -1 and order like the values.
inline vi32 min_narrow(vi32 a, vi32 b) { return _mm_min_epi16(a, b); }
inline vi32 max_narrow(vi32 a, vi32 b) { return _mm_max_epi16(a, b); }
template <int n> inline vi32 shl_i32(vi32 a) { return _mm_slli_epi32(a, n); }
template <int n> inline vi32 shr_i32(vi32 a) { return _mm_srli_epi32(a, n); }  // logical
template <int n> inline vi32 sar_i32(vi32 a) { return _mm_srai_epi32(a, n); }  // arithmetic
// a*a for lanes in [0, 32767]: pmaddwd adds lo*lo and hi*hi, and hi is 0.
inline vi32 square_u15(vi32 a) { return _mm_madd_epi16(a, a); }
// `lanes` bytes, zero-extended.
inline vi32 load_u8_i32(const std::uint8_t* p) {
    const __m128i b = _mm_loadu_si32(p), z = _mm_setzero_si128();
    return _mm_unpacklo_epi16(_mm_unpacklo_epi8(b, z), z);
}
// The low byte of each lane (lanes hold 0..255): `lanes` bytes, then 4 * lanes bytes from four vectors.
inline void store_u8(std::uint8_t* p, vi32 a) {
    const __m128i w = _mm_packs_epi32(a, a);
    _mm_storeu_si32(p, _mm_packus_epi16(w, w));
}
inline void store_u8x4(std::uint8_t* p, vi32 a, vi32 b, vi32 c, vi32 d) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, d)));
}

// Exact integer sums: 64-bit lanes that uint32 lanes are added into.
using vu64 = __m128i;
inline vu64 zero_u64() { return _mm_setzero_si128(); }
inline vu64 add_u64(vu64 acc, vi32 a) {  // every uint32 lane of a into acc
    acc = _mm_add_epi64(acc, _mm_and_si128(a, _mm_set1_epi64x(0xFFFFFFFF)));
    return _mm_add_epi64(acc, _mm_srli_epi64(a, 32));
}
inline std::uint64_t hsum_u64(vu64 a) {
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(a)) + static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(a, a)));
}
