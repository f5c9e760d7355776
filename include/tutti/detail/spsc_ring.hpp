// tutti/detail/spsc_ring.hpp: a single-producer single-consumer ring of
// variable-size records (RTP packets, PCM frames) with a 64-bit stamp each.
// The host's network thread pushes received packets, the tick pops them (and
// the other way round for packets to send): no locks, no allocation after
// construction.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "tutti/buffer.hpp"
#include "tutti/config.hpp"

TUTTI_BEGIN_NAMESPACE
namespace detail {

/// Records are laid out as [u32 size][u32 reserved][i64 stamp][bytes...],
/// padded to 8 bytes; a record never wraps (a skip marker fills the end).
///
/// Each side's bookkeeping is one cache line: its own index, its copy of the
/// buffer's address and mask, and the other side's index as last seen (read
/// again only when the ring looks empty or full). A room of thousands touches
/// two rings per participant per tick, so lines touched are what it costs.
class spsc_ring final : public heap_allocated<spsc_ring> {
public:
    /// `capacity_bytes` is rounded up to a power of two (at least 64).
    explicit spsc_ring(std::size_t capacity_bytes) : buffer_(round_up(capacity_bytes)) {
        producer_.data = consumer_.data = buffer_.data();
        producer_.mask = consumer_.mask = buffer_.size() - 1;
    }

    /// Largest record push() can ever accept.
    std::size_t max_record() const noexcept { return buffer_.size() / 2 - header; }

    /// Appends a record; false when it does not fit now (or ever). [producer]
    bool push(std::span<const std::uint8_t> data, std::int64_t stamp) noexcept {
        side& p = producer_;
        const std::size_t capacity = p.mask + 1;
        if (data.size() > capacity / 2 - header) return false;
        const std::size_t need = header + pad8(data.size());
        const std::size_t head = p.index.load(std::memory_order_relaxed);
        const std::size_t offset = head & p.mask;
        const std::size_t to_end = capacity - offset;
        const std::size_t skip = to_end < need ? to_end : 0;
        if (capacity - (head - p.other) < skip + need) {
            p.other = consumer_.index.load(std::memory_order_acquire);
            if (capacity - (head - p.other) < skip + need) return false;
        }
        std::size_t pos = head;
        if (skip) {  // only the size field: the gap may be as small as 8 bytes
            std::memcpy(p.data + offset, &skip_marker, 4);
            pos += skip;
        }
        write_header(p.data + (pos & p.mask), static_cast<std::uint32_t>(data.size()), stamp);
        if (!data.empty()) std::memcpy(p.data + (pos & p.mask) + header, data.data(), data.size());
        p.index.store(pos + need, std::memory_order_release);
        return true;
    }

    /// Copies the oldest record into `out` and removes it. Returns its size, or
    /// -1 when empty; a record larger than `out` is dropped and reported as -2.
    /// [consumer]
    std::ptrdiff_t pop(std::span<std::uint8_t> out, std::int64_t& stamp) noexcept {
        side& c = consumer_;
        std::size_t tail = c.index.load(std::memory_order_relaxed);
        if (tail == c.other) {
            c.other = producer_.index.load(std::memory_order_acquire);
            if (tail == c.other) return -1;
        }
        std::uint32_t size;
        std::memcpy(&size, c.data + (tail & c.mask), 4);
        if (size == skip_marker) {
            tail += c.mask + 1 - (tail & c.mask);
            std::memcpy(&size, c.data + (tail & c.mask), 4);
        }
        std::memcpy(&stamp, c.data + (tail & c.mask) + 8, 8);
        std::ptrdiff_t result = -2;
        if (size <= out.size()) {
            if (size) std::memcpy(out.data(), c.data + (tail & c.mask) + header, size);
            result = static_cast<std::ptrdiff_t>(size);
        }
        c.index.store(tail + header + pad8(size), std::memory_order_release);
        return result;
    }

    bool empty() const noexcept {
        return producer_.index.load(std::memory_order_acquire) == consumer_.index.load(std::memory_order_acquire);
    }

    /// Hints that pop() comes soon: its bookkeeping line. [consumer]
    void prefetch_consumer() const noexcept { __builtin_prefetch(&consumer_); }
    /// ... then, once that line is in, the record pop() would read. [consumer]
    void prefetch_pop() const noexcept {
        __builtin_prefetch(consumer_.data + (consumer_.index.load(std::memory_order_relaxed) & consumer_.mask));
    }
    /// Hints that push() comes soon: its bookkeeping line. [producer]
    void prefetch_producer() const noexcept { __builtin_prefetch(&producer_, 1); }
    /// ... then where the next record goes. [producer]
    void prefetch_push() const noexcept {
        __builtin_prefetch(producer_.data + (producer_.index.load(std::memory_order_relaxed) & producer_.mask), 1);
    }

private:
    static constexpr std::size_t header = 16;
    static constexpr std::uint32_t skip_marker = 0xFFFFFFFFu;
    static std::size_t pad8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }
    static std::size_t round_up(std::size_t n) {
        std::size_t p = 64;
        while (p < n) p *= 2;
        return p;
    }
    static void write_header(std::uint8_t* at, std::uint32_t size, std::int64_t stamp) noexcept {
        std::memcpy(at, &size, 4);
        std::memcpy(at + 8, &stamp, 8);
    }

    // One side's line: written by that side only (`other` is its private copy).
    struct alignas(64) side {
        std::atomic<std::size_t> index{0};  // head for the producer, tail for the consumer
        std::size_t other = 0;              // the other side's index when last read
        std::uint8_t* data = nullptr;
        std::size_t mask = 0;
    };

    side producer_;
    side consumer_;
    aligned_buffer<std::uint8_t> buffer_;
};

}  // namespace detail
TUTTI_END_NAMESPACE
