// Kernel bodies compiled for neon only (see lib/CMakeLists.txt for the flags
// and kernels_body.hpp for what may and may not be included here).
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "kernels_targets.hpp"

namespace tutti::detail::neon {
namespace {
#include "simd/arm_neon.hpp"
#include "kernels_body.hpp"
constexpr kernel_table kernels = table(simd_level::neon);
}  // namespace
}  // namespace tutti::detail::neon

const tutti::kernel_table* tutti::detail::neon_kernels() noexcept { return &neon::kernels; }
