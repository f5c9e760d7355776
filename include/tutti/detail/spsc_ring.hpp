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
/// buffer's address and mask, and the other side's index as last seen (the
/// consumer reads the producer's again only when the ring looks empty). A
/// room of thousands touches two rings per participant per tick, so lines
/// touched are what it costs.
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
    ///
    /// A drained ring starts again at its first byte. A participant's ring is
    /// usually empty between ticks, so its records then stay on the few lines
    /// the last ones used, still in cache, instead of walking through the whole
    /// buffer: a room of thousands wrote a cold line per record (a read from
    /// memory before the write). The jump is published in the producer's line
    /// (`jump`), not as a marker in the buffer, so the bytes it skips are free
    /// at once: a burst after a drain has the whole ring. The price is reading
    /// the consumer's index on every push: one line, where a record is two or three.
    bool push(std::span<const std::uint8_t> data, std::int64_t stamp) noexcept {
        side& p = producer_;
        const std::size_t capacity = p.mask + 1;
        if (data.size() > capacity / 2 - header) return false;
        const std::size_t need = header + pad8(data.size());
        const std::size_t head = p.index.load(std::memory_order_relaxed);
        const std::size_t offset = head & p.mask;
        const std::size_t to_end = capacity - offset;
        p.other = consumer_.index.load(std::memory_order_acquire);  // (acquire: the consumer is done with what it popped)
        const std::size_t jump = p.jump.load(std::memory_order_relaxed);
        // Where the consumer will read next: past the last jump if it has not followed it yet.
        const std::size_t tail = p.other == jump ? jump + capacity - (jump & p.mask) : p.other;
        std::size_t pos = head;
        if (head == tail && offset != 0) {  // drained: start again at the buffer's start
            p.jump.store(head, std::memory_order_relaxed);  // (published by the index's release below)
            pos += to_end;
        } else {
            const std::size_t skip = to_end < need ? to_end : 0;  // a record never wraps
            if (capacity - (head - tail) < skip + need) return false;
            if (skip) {  // only the size field: the gap may be as small as 8 bytes
                std::memcpy(p.data + offset, &skip_marker, 4);
                pos += skip;
            }
        }
        write_header(p.data + (pos & p.mask), static_cast<std::uint32_t>(data.size()), stamp);
        if (!data.empty()) std::memcpy(p.data + (pos & p.mask) + header, data.data(), data.size());
        p.index.store(pos + need, std::memory_order_release);
        return true;
    }

    /// Where the next push() would start writing if the ring were not drained,
    /// in bytes from the buffer's start (for tests). [producer]
    std::size_t write_offset() const noexcept { return producer_.index.load(std::memory_order_relaxed) & producer_.mask; }

    /// Copies the oldest record into `out` and removes it. Returns its size, or
    /// -1 when empty; a record larger than `out` is dropped and reported as -2.
    /// [consumer]
    std::ptrdiff_t pop(std::span<std::uint8_t> out, std::int64_t& stamp) noexcept {
        side& c = consumer_;
        std::size_t tail = c.index.load(std::memory_order_relaxed);
        if (tail == c.other) {
            c.other = producer_.index.load(std::memory_order_acquire);
            if (tail == c.other) return -1;
            // Drained at `tail`: the producer may have started again at the buffer's start (see push).
            if (producer_.jump.load(std::memory_order_relaxed) == tail) tail += c.mask + 1 - (tail & c.mask);
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
    /// ... then, once that line is in, the record pop() would read (or the skip
    /// marker there), and the buffer's start. [consumer]
    void prefetch_pop() const noexcept {
        __builtin_prefetch(consumer_.data + (consumer_.index.load(std::memory_order_relaxed) & consumer_.mask));
        __builtin_prefetch(consumer_.data);
    }
    /// Hints that push() comes soon: its bookkeeping line, and the consumer's
    /// index it reads. [producer]
    void prefetch_producer() const noexcept {
        __builtin_prefetch(&producer_, 1);
        __builtin_prefetch(&consumer_);
    }
    /// ... then where the next record goes: the buffer's start when drained. [producer]
    void prefetch_push() const noexcept {
        __builtin_prefetch(producer_.data + (producer_.index.load(std::memory_order_relaxed) & producer_.mask), 1);
        __builtin_prefetch(producer_.data, 1);
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
        std::atomic<std::size_t> jump{~std::size_t{0}};  // producer: the head it last jumped from to the buffer's start
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
