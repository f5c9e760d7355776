// Chooses the kernel bodies once per process: the best level CPUID allows,
// lowered by TUTTI_SIMD or set_simd_level() for tests and benchmarks.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels_targets.hpp"

namespace tutti::detail {
#if !defined(TUTTI_HAVE_X86_KERNELS)
const kernel_table* sse2_kernels() noexcept { return nullptr; }
const kernel_table* avx2_kernels() noexcept { return nullptr; }
const kernel_table* avx512_kernels() noexcept { return nullptr; }
#endif
#if !defined(TUTTI_HAVE_NEON_KERNELS)
const kernel_table* neon_kernels() noexcept { return nullptr; }
#endif

namespace {

bool cpu_supports(simd_level level) noexcept {
    switch (level) {
        case simd_level::scalar: return true;
#if defined(TUTTI_HAVE_X86_KERNELS)
        // __builtin_cpu_supports also checks that the OS saves the wide registers (XGETBV).
        case simd_level::sse2: return __builtin_cpu_supports("sse2");
        case simd_level::avx2: return __builtin_cpu_supports("avx2");
        case simd_level::avx512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#endif
#if defined(TUTTI_HAVE_NEON_KERNELS)
        case simd_level::neon: return true;  // NEON is part of the AArch64 baseline
#endif
        default: return false;
    }
}

const kernel_table* table_of(simd_level level) noexcept {
    switch (level) {
        case simd_level::scalar: return scalar_kernels();
        case simd_level::sse2: return sse2_kernels();
        case simd_level::avx2: return avx2_kernels();
        case simd_level::avx512: return avx512_kernels();
        case simd_level::neon: return neon_kernels();
    }
    return nullptr;
}

// Levels from best to worst, per architecture.
constexpr simd_level preference[] = {simd_level::avx512, simd_level::avx2, simd_level::neon, simd_level::sse2,
                                     simd_level::scalar};

int rank(simd_level level) noexcept {
    for (int i = 0; i < 5; ++i)
        if (preference[i] == level) return i;
    return 4;
}

// The best supported level no better than `limit`.
simd_level best_at_most(simd_level limit) noexcept {
    for (simd_level l : preference)
        if (rank(l) >= rank(limit) && kernels_for(l) != nullptr) return l;
    return simd_level::scalar;
}

simd_level level_from_environment() noexcept {
    const char* env = std::getenv("TUTTI_SIMD");
    if (env != nullptr) {
        for (simd_level l : preference)
            if (std::strcmp(env, to_string(l).data()) == 0) return best_at_most(l);
    }
    return best_simd_level();
}

std::atomic<const kernel_table*>& active() noexcept {
    static std::atomic<const kernel_table*> table{kernels_for(level_from_environment())};
    return table;
}

}  // namespace
}  // namespace tutti::detail

TUTTI_BEGIN_NAMESPACE

std::string_view to_string(simd_level level) noexcept {
    switch (level) {
        case simd_level::scalar: return "scalar";
        case simd_level::sse2: return "sse2";
        case simd_level::avx2: return "avx2";
        case simd_level::avx512: return "avx512";
        case simd_level::neon: return "neon";
    }
    return "unknown";
}

const kernel_table* kernels_for(simd_level level) noexcept {
    return detail::cpu_supports(level) ? detail::table_of(level) : nullptr;
}

simd_level best_simd_level() noexcept { return detail::best_at_most(simd_level::avx512); }

simd_level active_simd_level() noexcept { return active_kernels().level; }

simd_level set_simd_level(simd_level level) noexcept {
    const simd_level chosen = detail::best_at_most(level);
    detail::active().store(kernels_for(chosen), std::memory_order_relaxed);
    return chosen;
}

const kernel_table& active_kernels() noexcept { return *detail::active().load(std::memory_order_relaxed); }

TUTTI_END_NAMESPACE
