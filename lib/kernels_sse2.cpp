// Kernel bodies compiled for sse2 only (see lib/CMakeLists.txt for the flags
// and kernels_body.hpp for what may and may not be included here).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels_targets.hpp"

namespace tutti::detail::sse2 {
namespace {
#include "simd/x86_sse2.hpp"
#include "kernels_body.hpp"
constexpr kernel_table kernels = table(simd_level::sse2);
}  // namespace
}  // namespace tutti::detail::sse2

const tutti::kernel_table* tutti::detail::sse2_kernels() noexcept { return &sse2::kernels; }
