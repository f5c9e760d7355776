// AVX-512 (F + BW) vector operations for kernels_body.hpp (semantics: see x86_sse2.hpp).

inline constexpr std::size_t lanes = 16;
using vf = __m512;
inline vf load(const float* p) { return _mm512_loadu_ps(p); }
inline void store(float* p, vf v) { _mm512_storeu_ps(p, v); }
inline vf set1(float x) { return _mm512_set1_ps(x); }
inline vf iota() {
    return _mm512_setr_ps(0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f, 9.f, 10.f, 11.f, 12.f, 13.f, 14.f, 15.f);
}
inline vf add(vf a, vf b) { return _mm512_add_ps(a, b); }
inline vf sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
inline vf mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
inline vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }
inline vf vabs(vf a) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff))); }
inline float hmax(vf a) {
    __m256 h = _mm256_max_ps(_mm512_castps512_ps256(a),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    b = _mm_max_ps(b, _mm_movehl_ps(b, b));
    b = _mm_max_ps(b, _mm_shuffle_ps(b, b, 1));
    return _mm_cvtss_f32(b);
}
inline float hsum(vf a) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    b = _mm_add_ps(b, _mm_movehl_ps(b, b));
    b = _mm_add_ss(b, _mm_shuffle_ps(b, b, 1));
    return _mm_cvtss_f32(b);
}
inline vf load_s16(const std::int16_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
}
inline void store_s16(std::int16_t* p, vf v) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtsepi32_epi16(_mm512_cvtps_epi32(v)));
}

inline constexpr std::size_t lanes_s16 = 32;
using vi = __m512i;
inline vi load_i(const std::int16_t* p) { return _mm512_loadu_si512(p); }
inline void store_i(std::int16_t* p, vi v) { _mm512_storeu_si512(p, v); }
inline vi zero_i() { return _mm512_setzero_si512(); }
inline vi adds_s16(vi a, vi b) { return _mm512_adds_epi16(a, b); }

using vi32 = __m512i;
inline vi32 set1_i32(std::int32_t x) { return _mm512_set1_epi32(x); }
inline vi32 round_i32(vf v) { return _mm512_cvtps_epi32(v); }
inline vf to_float(vi32 v) { return _mm512_cvtepi32_ps(v); }
inline vi32 as_bits(vf v) { return _mm512_castps_si512(v); }
inline vf from_bits(vi32 v) { return _mm512_castsi512_ps(v); }
inline vi32 vand(vi32 a, vi32 b) { return _mm512_and_si512(a, b); }
inline vi32 vxor(vi32 a, vi32 b) { return _mm512_xor_si512(a, b); }
inline vi32 add_i32(vi32 a, vi32 b) { return _mm512_add_epi32(a, b); }
inline vi32 sub_i32(vi32 a, vi32 b) { return _mm512_sub_epi32(a, b); }
inline vi32 min_narrow(vi32 a, vi32 b) { return _mm512_min_epi32(a, b); }
inline vi32 max_narrow(vi32 a, vi32 b) { return _mm512_max_epi32(a, b); }
template <int n> inline vi32 shl_i32(vi32 a) { return _mm512_slli_epi32(a, n); }
template <int n> inline vi32 shr_i32(vi32 a) { return _mm512_srli_epi32(a, n); }
template <int n> inline vi32 sar_i32(vi32 a) { return _mm512_srai_epi32(a, n); }
inline vi32 square_u15(vi32 a) { return _mm512_madd_epi16(a, a); }
inline vi32 load_u8_i32(const std::uint8_t* p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline void store_u8(std::uint8_t* p, vi32 a) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(a)); }
inline void store_u8x4(std::uint8_t* p, vi32 a, vi32 b, vi32 c, vi32 d) {
    // The packs work per 128-bit quarter: 4-byte groups come out as a0 b0 c0 d0 a1 b1 c1 d1 ...
    const __m512i bytes = _mm512_packus_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    _mm512_storeu_si512(p, _mm512_permutexvar_epi32(order, bytes));
}

using vu64 = __m512i;
inline vu64 zero_u64() { return _mm512_setzero_si512(); }
inline vu64 add_u64(vu64 acc, vi32 a) {
    acc = _mm512_add_epi64(acc, _mm512_and_si512(a, _mm512_set1_epi64(0xFFFFFFFF)));
    return _mm512_add_epi64(acc, _mm512_srli_epi64(a, 32));
}
inline std::uint64_t hsum_u64(vu64 a) { return static_cast<std::uint64_t>(_mm512_reduce_add_epi64(a)); }
