// Mixes three constant "talkers", removes one, limits, converts: exits 0 only
// if the library linked and computed the right numbers.
#include <tutti/kernels.hpp>
#include <tutti/limiter.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

int main() {
    std::vector<float> a(960, 0.25f), b(960, 0.125f), c(960, 0.0625f), total(960), to_a(960);
    const float* talkers[] = {a.data(), b.data(), c.data()};
    tutti::mix_sum(total.data(), talkers, 3, total.size());
    tutti::mix_minus(to_a.data(), total.data(), a.data(), 1.0f, to_a.size());
    tutti::limiter limiter({.sample_rate_hz = 48000});
    limiter.process(to_a);
    std::vector<std::int16_t> pcm(960);
    tutti::float_to_s16(to_a.data(), pcm.data(), pcm.size());
    const bool ok = total[500] == 0.4375f && pcm[959] == 6144;  // (0.125 + 0.0625) * 32768
    std::printf("consumer: kernels %s, total %g, pcm %d: %s\n", std::string(tutti::to_string(tutti::active_simd_level())).c_str(),
                static_cast<double>(total[500]), pcm[959], ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
