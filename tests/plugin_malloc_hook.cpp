// Counts malloc/calloc/realloc calls made by dlopened plugins, which the
// link-time --wrap of alloc_counter.cpp cannot see (it only renames the test
// executable's own references). Defining malloc & co. here interposes them
// for every shared object in the process; they forward to glibc's
// __libc_malloc family. Not built under sanitizers, whose runtimes own malloc.
#include <atomic>
#include <cstddef>
#include <cstdint>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
}

namespace {
std::atomic<std::uint64_t> hooked{0};
}

namespace tutti_test {
/// malloc/calloc/realloc calls from anywhere in the process (plugins included).
std::uint64_t process_mallocs() noexcept { return hooked.load(std::memory_order_relaxed); }
}  // namespace tutti_test

extern "C" {
void* malloc(std::size_t n) {
    hooked.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
    hooked.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
    hooked.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
}
