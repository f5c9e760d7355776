// Internal: the per-target kernel tables that kernels_dispatch.cpp chooses from.
#pragma once

#include "tutti/kernels.hpp"

namespace tutti::detail {
const kernel_table* scalar_kernels() noexcept;
const kernel_table* sse2_kernels() noexcept;
const kernel_table* avx2_kernels() noexcept;
const kernel_table* avx512_kernels() noexcept;
const kernel_table* neon_kernels() noexcept;
}  // namespace tutti::detail
