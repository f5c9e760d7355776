// tutti/detail/mpmc_queue.hpp: a bounded lock-free queue of trivially copyable
// values (Dmitry Vyukov's array queue). Control calls from any thread push
// commands; the tick pops them without locks or allocation.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "tutti/buffer.hpp"
#include "tutti/config.hpp"

TUTTI_BEGIN_NAMESPACE
namespace detail {

/// Bounded multi-producer multi-consumer FIFO. Capacity is rounded up to a
/// power of two and allocated at construction; push/pop never allocate.
template <class T>
class mpmc_queue {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    explicit mpmc_queue(std::size_t capacity) : cells_(round_up(capacity)), mask_(cells_.size() - 1) {
        for (std::size_t i = 0; i < cells_.size(); ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
    }

    /// False when full. [any-thread]
    bool push(const T& value) noexcept {
        std::size_t pos = enqueue_.load(std::memory_order_relaxed);
        cell* c;
        for (;;) {
            c = &cells_[pos & mask_];
            const std::size_t seq = c->sequence.load(std::memory_order_acquire);
            const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
            if (diff == 0) {
                if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
            } else if (diff < 0) {
                return false;
            } else {
                pos = enqueue_.load(std::memory_order_relaxed);
            }
        }
        c->value = value;
        c->sequence.store(pos + 1, std::memory_order_release);
        return true;
    }

    /// False when empty. [any-thread]
    bool pop(T& value) noexcept {
        std::size_t pos = dequeue_.load(std::memory_order_relaxed);
        cell* c;
        for (;;) {
            c = &cells_[pos & mask_];
            const std::size_t seq = c->sequence.load(std::memory_order_acquire);
            const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
            if (diff == 0) {
                if (dequeue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
            } else if (diff < 0) {
                return false;
            } else {
                pos = dequeue_.load(std::memory_order_relaxed);
            }
        }
        value = c->value;
        c->sequence.store(pos + mask_ + 1, std::memory_order_release);
        return true;
    }

private:
    struct cell {
        std::atomic<std::size_t> sequence;
        T value;
    };
    static std::size_t round_up(std::size_t n) {
        std::size_t p = 2;
        while (p < n) p *= 2;
        return p;
    }
    // aligned_buffer needs trivially copyable elements; cells hold atomics, so own them directly.
    struct cell_array {
        explicit cell_array(std::size_t n) : n_(n), p_(new cell[n]) {}
        ~cell_array() { delete[] p_; }
        cell_array(const cell_array&) = delete;
        cell_array& operator=(const cell_array&) = delete;
        std::size_t size() const noexcept { return n_; }
        cell& operator[](std::size_t i) noexcept { return p_[i]; }
        std::size_t n_;
        cell* p_;
    };
    cell_array cells_;
    std::size_t mask_;
    alignas(64) std::atomic<std::size_t> enqueue_{0};
    alignas(64) std::atomic<std::size_t> dequeue_{0};
};

}  // namespace detail
TUTTI_END_NAMESPACE
