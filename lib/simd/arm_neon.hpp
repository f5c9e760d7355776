// NEON vector operations for kernels_body.hpp (semantics: see x86_sse2.hpp).
// NEON's own vmaxq/vminq propagate NaN; compare-and-select keeps x86 semantics
// so every level gives the same results.

inline constexpr std::size_t lanes = 4;
using vf = float32x4_t;
inline vf load(const float* p) { return vld1q_f32(p); }
inline void store(float* p, vf v) { vst1q_f32(p, v); }
inline vf set1(float x) { return vdupq_n_f32(x); }
inline vf iota() {
    alignas(16) static const float k[4] = {0.f, 1.f, 2.f, 3.f};
    return vld1q_f32(k);
}
inline vf add(vf a, vf b) { return vaddq_f32(a, b); }
inline vf sub(vf a, vf b) { return vsubq_f32(a, b); }
inline vf mul(vf a, vf b) { return vmulq_f32(a, b); }
inline vf vmax(vf a, vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
inline vf vmin(vf a, vf b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
inline vf vabs(vf a) { return vabsq_f32(a); }
inline float hmax(vf a) { return vmaxvq_f32(a); }
inline float hsum(vf a) {
    float32x2_t s = vadd_f32(vget_low_f32(a), vget_high_f32(a));
    return vget_lane_f32(s, 0) + vget_lane_f32(s, 1);
}
inline vf load_s16(const std::int16_t* p) { return vcvtq_f32_s32(vmovl_s16(vld1_s16(p))); }
inline void store_s16(std::int16_t* p, vf v) { vst1_s16(p, vqmovn_s32(vcvtnq_s32_f32(v))); }

inline constexpr std::size_t lanes_s16 = 8;
using vi = int16x8_t;
inline vi load_i(const std::int16_t* p) { return vld1q_s16(p); }
inline void store_i(std::int16_t* p, vi v) { vst1q_s16(p, v); }
inline vi zero_i() { return vdupq_n_s16(0); }
inline vi adds_s16(vi a, vi b) { return vqaddq_s16(a, b); }

using vi32 = int32x4_t;
inline vi32 set1_i32(std::int32_t x) { return vdupq_n_s32(x); }
inline vi32 round_i32(vf v) { return vcvtnq_s32_f32(v); }
inline vf to_float(vi32 v) { return vcvtq_f32_s32(v); }
inline vi32 as_bits(vf v) { return vreinterpretq_s32_f32(v); }
inline vf from_bits(vi32 v) { return vreinterpretq_f32_s32(v); }
inline vi32 vand(vi32 a, vi32 b) { return vandq_s32(a, b); }
inline vi32 vxor(vi32 a, vi32 b) { return veorq_s32(a, b); }
inline vi32 add_i32(vi32 a, vi32 b) { return vaddq_s32(a, b); }
inline vi32 sub_i32(vi32 a, vi32 b) { return vsubq_s32(a, b); }
inline vi32 min_narrow(vi32 a, vi32 b) { return vminq_s32(a, b); }
inline vi32 max_narrow(vi32 a, vi32 b) { return vmaxq_s32(a, b); }
template <int n> inline vi32 shl_i32(vi32 a) { return vshlq_n_s32(a, n); }
template <int n> inline vi32 shr_i32(vi32 a) { return vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_s32(a), n)); }
template <int n> inline vi32 sar_i32(vi32 a) { return vshrq_n_s32(a, n); }
inline vi32 square_u15(vi32 a) { return vmulq_s32(a, a); }
inline vi32 load_u8_i32(const std::uint8_t* p) {
    std::uint32_t w;
    __builtin_memcpy(&w, p, 4);  // 4 unaligned bytes
    const uint16x8_t h = vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(w)));
    return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(h)));
}
inline void store_u8(std::uint8_t* p, vi32 a) {
    const uint16x4_t h = vmovn_u32(vreinterpretq_u32_s32(a));
    const std::uint32_t w = vget_lane_u32(vreinterpret_u32_u8(vmovn_u16(vcombine_u16(h, h))), 0);
    __builtin_memcpy(p, &w, 4);
}
inline void store_u8x4(std::uint8_t* p, vi32 a, vi32 b, vi32 c, vi32 d) {
    const uint16x8_t ab = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(a)), vmovn_u32(vreinterpretq_u32_s32(b)));
    const uint16x8_t cd = vcombine_u16(vmovn_u32(vreinterpretq_u32_s32(c)), vmovn_u32(vreinterpretq_u32_s32(d)));
    vst1q_u8(p, vcombine_u8(vmovn_u16(ab), vmovn_u16(cd)));
}

using vu64 = uint64x2_t;
inline vu64 zero_u64() { return vdupq_n_u64(0); }
inline vu64 add_u64(vu64 acc, vi32 a) { return vpadalq_u32(acc, vreinterpretq_u32_s32(a)); }
inline std::uint64_t hsum_u64(vu64 a) { return vaddvq_u64(a); }
