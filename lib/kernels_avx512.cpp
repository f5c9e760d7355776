// Kernel bodies compiled for avx512 only (see lib/CMakeLists.txt for the flags
// and kernels_body.hpp for what may and may not be included here).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels_targets.hpp"

namespace tutti::detail::avx512 {
namespace {
#include "simd/x86_avx512.hpp"
#include "kernels_body.hpp"
constexpr kernel_table kernels = table(simd_level::avx512);
}  // namespace
}  // namespace tutti::detail::avx512

const tutti::kernel_table* tutti::detail::avx512_kernels() noexcept { return &avx512::kernels; }
