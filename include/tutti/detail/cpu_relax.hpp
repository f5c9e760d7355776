// tutti/detail/cpu_relax.hpp: the pause a spin-wait makes between polls.
//
// It tells the core the loop is waiting (on x86 it saves power and the
// pipeline flush when the awaited store arrives; on an SMT core it leaves
// the sibling thread the issue slots).
#pragma once

#include "tutti/config.hpp"

TUTTI_BEGIN_NAMESPACE
namespace detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

}  // namespace detail
TUTTI_END_NAMESPACE
