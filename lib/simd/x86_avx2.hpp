// AVX2 vector operations for kernels_body.hpp (semantics: see x86_sse2.hpp).

inline constexpr std::size_t lanes = 8;
using vf = __m256;
inline vf load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, vf v) { _mm256_storeu_ps(p, v); }
inline vf set1(float x) { return _mm256_set1_ps(x); }
inline vf iota() { return _mm256_setr_ps(0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f); }
inline vf add(vf a, vf b) { return _mm256_add_ps(a, b); }
inline vf sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
inline vf mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
inline vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }
inline vf vabs(vf a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
inline float hmax(vf a) {
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_max_ps(b, _mm_movehl_ps(b, b));
    b = _mm_max_ps(b, _mm_shuffle_ps(b, b, 1));
    return _mm_cvtss_f32(b);
}
inline float hsum(vf a) {
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_shuffle_ps(b, b, 1));
    return _mm_cvtss_f32(b);
}
inline vf load_s16(const std::int16_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline void store_s16(std::int16_t* p, vf v) {
    __m256i i = _mm256_cvtps_epi32(v);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                     _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1)));
}

inline constexpr std::size_t lanes_s16 = 16;
using vi = __m256i;
inline vi load_i(const std::int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store_i(std::int16_t* p, vi v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
inline vi zero_i() { return _mm256_setzero_si256(); }
inline vi adds_s16(vi a, vi b) { return _mm256_adds_epi16(a, b); }

using vi32 = __m256i;
inline vi32 set1_i32(std::int32_t x) { return _mm256_set1_epi32(x); }
inline vi32 round_i32(vf v) { return _mm256_cvtps_epi32(v); }
inline vf to_float(vi32 v) { return _mm256_cvtepi32_ps(v); }
inline vi32 as_bits(vf v) { return _mm256_castps_si256(v); }
inline vf from_bits(vi32 v) { return _mm256_castsi256_ps(v); }
inline vi32 vand(vi32 a, vi32 b) { return _mm256_and_si256(a, b); }
inline vi32 vxor(vi32 a, vi32 b) { return _mm256_xor_si256(a, b); }
inline vi32 add_i32(vi32 a, vi32 b) { return _mm256_add_epi32(a, b); }
inline vi32 sub_i32(vi32 a, vi32 b) { return _mm256_sub_epi32(a, b); }
inline vi32 min_narrow(vi32 a, vi32 b) { return _mm256_min_epi32(a, b); }
inline vi32 max_narrow(vi32 a, vi32 b) { return _mm256_max_epi32(a, b); }
template <int n> inline vi32 shl_i32(vi32 a) { return _mm256_slli_epi32(a, n); }
template <int n> inline vi32 shr_i32(vi32 a) { return _mm256_srli_epi32(a, n); }
template <int n> inline vi32 sar_i32(vi32 a) { return _mm256_srai_epi32(a, n); }
inline vi32 square_u15(vi32 a) { return _mm256_madd_epi16(a, a); }
inline vi32 load_u8_i32(const std::uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
inline void store_u8(std::uint8_t* p, vi32 a) {
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(w, w));
}
inline void store_u8x4(std::uint8_t* p, vi32 a, vi32 b, vi32 c, vi32 d) {
    // The packs work per 128-bit half: 4-byte groups come out as a0 b0 c0 d0 a1 b1 c1 d1.
    const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

using vu64 = __m256i;
inline vu64 zero_u64() { return _mm256_setzero_si256(); }
inline vu64 add_u64(vu64 acc, vi32 a) {
    acc = _mm256_add_epi64(acc, _mm256_and_si256(a, _mm256_set1_epi64x(0xFFFFFFFF)));
    return _mm256_add_epi64(acc, _mm256_srli_epi64(a, 32));
}
inline std::uint64_t hsum_u64(vu64 a) {
    const __m128i h = _mm_add_epi64(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(h)) + static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(h, h)));
}
