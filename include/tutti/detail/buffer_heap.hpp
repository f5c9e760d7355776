// tutti/detail/buffer_heap.hpp: where tutti's buffers and the state the tick
// touches are allocated.
//
// A room of thousands is bound by memory latency, and with 4 KiB pages each
// participant's few hot lines lie on a dozen different pages: a TLB miss, and
// a page walk, for each before the cache miss itself is served. Buffers
// (aligned_buffer) and the objects the tick reads per participant
// (heap_allocated) come from 2 MiB-aligned chunks the kernel is asked to back
// with huge pages (madvise(MADV_HUGEPAGE): transparent huge pages in the
// "madvise" or "always" mode), so those page walks mostly vanish (see
// bench/README.md, "Capacity").
//
// It is a small size-class allocator: blocks are 64-byte aligned and rounded
// up to one of four sizes per power of two; freed blocks are kept for reuse by
// the next block of their class; chunks are never returned to the system.
// Allocation locks a mutex: it happens at set-up on control threads, never in
// the tick. Under AddressSanitizer, ThreadSanitizer or MemorySanitizer, and when
// the environment has TUTTI_BUFFER_HEAP=0 when the first block is asked for,
// every block is plain operator new (so sanitizers and allocation-failure tests
// see each one).
#pragma once
#include <cstddef>
#include <cstdint>
#include <new>

#include "tutti/config.hpp"

TUTTI_BEGIN_NAMESPACE

namespace detail {

/// `bytes` (> 0) of 64-byte-aligned memory. Throws std::bad_alloc. [any thread, not the tick]
void* heap_allocate(std::size_t bytes);
/// Gives back a block heap_allocate(`bytes`) returned (nullptr: nothing). [any thread, not the tick]
void heap_free(void* block, std::size_t bytes) noexcept;

/// What the heap holds, for operators and tests.
struct heap_stats {
    std::uint64_t bytes_in_use = 0;     ///< in blocks handed out (rounded up to their class)
    std::uint64_t bytes_reserved = 0;   ///< in chunks taken from the system (in use, free or not yet carved)
    std::uint64_t blocks_in_use = 0;
    bool pooled = false;                ///< false: plain operator new (sanitizers, TUTTI_BUFFER_HEAP=0)
    bool huge_pages_advised = false;    ///< the kernel accepted madvise(MADV_HUGEPAGE) on the chunks
};
heap_stats get_heap_stats() noexcept;

/// Base of classes whose objects the tick touches: new and delete use the
/// heap above. `T` is the class itself (CRTP): a constructor that throws under
/// an over-aligned new is undone by the unsized delete, which takes its size
/// from here, so `T` must be what is allocated (final, or never derived from
/// and allocated as the derived class).
template <class T>
struct heap_allocated {
    static void* operator new(std::size_t bytes) { return heap_allocate(bytes); }
    static void* operator new(std::size_t bytes, std::align_val_t align) {
        if (static_cast<std::size_t>(align) > 64) throw std::bad_alloc();  // blocks are 64-byte aligned
        return heap_allocate(bytes);
    }
    static void operator delete(void* block) noexcept { heap_free(block, sizeof(T)); }
    static void operator delete(void* block, std::size_t bytes) noexcept { heap_free(block, bytes); }
    static void operator delete(void* block, std::size_t bytes, std::align_val_t) noexcept { heap_free(block, bytes); }
    static void operator delete(void* block, std::align_val_t) noexcept { heap_free(block, sizeof(T)); }
};

}  // namespace detail

TUTTI_END_NAMESPACE
