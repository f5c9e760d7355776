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

/// Allocations made while an instance is alive.
class alloc_counter {
public:
    alloc_counter() noexcept : start_(allocations()) {}
    std::uint64_t count() const noexcept { return allocations() - start_; }

private:
    std::uint64_t start_;
};

}  // namespace tutti_test
