// Global operator new replacements and malloc wrappers (-Wl,--wrap=...) that
// count every allocation. See alloc_counter.hpp.
#include "alloc_counter.hpp"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

extern "C" {
void* __real_malloc(std::size_t);
void* __real_calloc(std::size_t, std::size_t);
void* __real_realloc(void*, std::size_t);
}

namespace {
std::atomic<std::uint64_t> count{0};
[[maybe_unused]] void* counted(std::size_t n) {
    count.fetch_add(1, std::memory_order_relaxed);
    return __real_malloc(n == 0 ? 1 : n);
}
[[maybe_unused]] void* counted_aligned(std::size_t n, std::align_val_t a) {
    count.fetch_add(1, std::memory_order_relaxed);
    const auto al = static_cast<std::size_t>(a);
    return std::aligned_alloc(al, (n + al - 1) / al * al);
}
}  // namespace

namespace tutti_test {
std::uint64_t allocations() noexcept { return count.load(std::memory_order_relaxed); }
}  // namespace tutti_test

extern "C" {
void* __wrap_malloc(std::size_t n) {
    count.fetch_add(1, std::memory_order_relaxed);
    return __real_malloc(n);
}
void* __wrap_calloc(std::size_t a, std::size_t b) {
    count.fetch_add(1, std::memory_order_relaxed);
    return __real_calloc(a, b);
}
void* __wrap_realloc(void* p, std::size_t n) {
    count.fetch_add(1, std::memory_order_relaxed);
    return __real_realloc(p, n);
}
}

// TSan's runtime defines operator new itself (and allocates without malloc):
// under TSan only malloc & co. are counted, and the allocation tests are not
// run there (CI's TSan step runs the threaded tests only).
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TUTTI_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TUTTI_TEST_TSAN 1
#endif

#if !defined(TUTTI_TEST_TSAN)
void* operator new(std::size_t n) {
    if (void* p = counted(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    if (void* p = counted_aligned(n, a)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif  // !TUTTI_TEST_TSAN
