// Kernel bodies compiled for avx2 only (see lib/CMakeLists.txt for the flags
// and kernels_body.hpp for what may and may not be included here).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels_targets.hpp"

namespace tutti::detail::avx2 {
namespace {
#include "simd/x86_avx2.hpp"
#include "kernels_body.hpp"
constexpr kernel_table kernels = table(simd_level::avx2);
}  // namespace
}  // namespace tutti::detail::avx2

const tutti::kernel_table* tutti::detail::avx2_kernels() noexcept { return &avx2::kernels; }
