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
