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
std::atomic<std::uint64_t> fail_at{0};  // the value of `count` whose allocation fails; 0: none
std::atomic<bool> failed{false};
std::atomic<std::int64_t> live{0};      // operator new minus operator delete

// Counts one allocation; false when it is the one fail_allocation() armed.
bool allow() noexcept {
    const std::uint64_t n = count.fetch_add(1, std::memory_order_relaxed) + 1;
    std::uint64_t armed = n;
    if (fail_at.load(std::memory_order_relaxed) == n && fail_at.compare_exchange_strong(armed, 0)) {
        failed.store(true);
        return false;
    }
    return true;
}
[[maybe_unused]] void* counted(std::size_t n) {
    if (!allow()) return nullptr;
    void* p = __real_malloc(n == 0 ? 1 : n);
    if (p) live.fetch_add(1, std::memory_order_relaxed);
    return p;
}
[[maybe_unused]] void* counted_aligned(std::size_t n, std::align_val_t a) {
    if (!allow()) return nullptr;
    const auto al = static_cast<std::size_t>(a);
    void* p = std::aligned_alloc(al, (n + al - 1) / al * al);
    if (p) live.fetch_add(1, std::memory_order_relaxed);
    return p;
}
[[maybe_unused]] void release(void* p) noexcept {
    if (!p) return;
    live.fetch_sub(1, std::memory_order_relaxed);
    std::free(p);
}
}  // namespace

namespace tutti_test {
std::uint64_t allocations() noexcept { return count.load(std::memory_order_relaxed); }
void fail_allocation(std::uint64_t n) noexcept {
    failed.store(false);
    fail_at.store(n == 0 ? 0 : count.load() + n);
}
bool allocation_failed() noexcept { return failed.load(); }
std::int64_t live_allocations() noexcept { return live.load(std::memory_order_relaxed); }
}  // namespace tutti_test

extern "C" {
void* __wrap_malloc(std::size_t n) { return allow() ? __real_malloc(n) : nullptr; }
void* __wrap_calloc(std::size_t a, std::size_t b) { return allow() ? __real_calloc(a, b) : nullptr; }
void* __wrap_realloc(void* p, std::size_t n) { return allow() ? __real_realloc(p, n) : nullptr; }
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
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
#endif  // !TUTTI_TEST_TSAN
