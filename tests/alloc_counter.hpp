// Counts heap allocations made by this process, for tests that prove a tick
// path allocates nothing. Link a test with alloc_counter.cpp (tutti_test(...
// alloc_counter.cpp) does it and adds -Wl,--wrap=malloc,...) so that both
// operator new and malloc/calloc/realloc (which Eigen and C libraries call)
// are counted.
#pragma once

#include <cstdint>

namespace tutti_test {

/// Number of allocations since the process started.
std::uint64_t allocations() noexcept;

/// Fault injection: the n-th allocation from now (1 = the next one) fails,
/// once: operator new throws std::bad_alloc, malloc/calloc/realloc return
/// null. 0 disarms. Counts every thread's allocations. Not under TSan (whose
/// runtime owns operator new). [any-thread]
void fail_allocation(std::uint64_t n) noexcept;
/// Whether the failure armed by fail_allocation() has happened (reset by the next call).
bool allocation_failed() noexcept;

/// operator new allocations not yet deleted, over the whole process (a leak
/// check for C++ allocations; LeakSanitizer covers malloc in the ASan build).
std::int64_t live_allocations() noexcept;

/// Allocations made while an instance is alive.
class alloc_counter {
public:
    alloc_counter() noexcept : start_(allocations()) {}
    std::uint64_t count() const noexcept { return allocations() - start_; }

private:
    std::uint64_t start_;
};

}  // namespace tutti_test
