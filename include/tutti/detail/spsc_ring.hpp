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
class spsc_ring {
public:
    /// `capacity_bytes` is rounded up to a power of two (at least 64).
    explicit spsc_ring(std::size_t capacity_bytes) : buffer_(round_up(capacity_bytes)), mask_(buffer_.size() - 1) {}

    /// Largest record push() can ever accept.
    std::size_t max_record() const noexcept { return buffer_.size() / 2 - header; }

    /// Appends a record; false when it does not fit now (or ever). [producer]
    bool push(std::span<const std::uint8_t> data, std::int64_t stamp) noexcept {
        if (data.size() > max_record()) return false;
        const std::size_t need = header + pad8(data.size());
        const std::size_t head = head_.load(std::memory_order_relaxed);
        const std::size_t tail = tail_.load(std::memory_order_acquire);
        const std::size_t offset = head & mask_;
        const std::size_t to_end = buffer_.size() - offset;
        const std::size_t skip = to_end < need ? to_end : 0;
        if (buffer_.size() - (head - tail) < skip + need) return false;
        std::size_t pos = head;
        if (skip) {  // only the size field: the gap may be as small as 8 bytes
            std::memcpy(buffer_.data() + offset, &skip_marker, 4);
            pos += skip;
        }
        write_header(pos & mask_, static_cast<std::uint32_t>(data.size()), stamp);
        if (!data.empty()) std::memcpy(buffer_.data() + (pos & mask_) + header, data.data(), data.size());
        head_.store(pos + need, std::memory_order_release);
        return true;
    }

    /// Copies the oldest record into `out` and removes it. Returns its size, or
    /// -1 when empty; a record larger than `out` is dropped and reported as -2.
    /// [consumer]
    std::ptrdiff_t pop(std::span<std::uint8_t> out, std::int64_t& stamp) noexcept {
        std::size_t tail = tail_.load(std::memory_order_relaxed);
        const std::size_t head = head_.load(std::memory_order_acquire);
        if (tail == head) return -1;
        std::uint32_t size;
        std::memcpy(&size, buffer_.data() + (tail & mask_), 4);
        if (size == skip_marker) {
            tail += buffer_.size() - (tail & mask_);
            std::memcpy(&size, buffer_.data() + (tail & mask_), 4);
        }
        std::memcpy(&stamp, buffer_.data() + (tail & mask_) + 8, 8);
        std::ptrdiff_t result = -2;
        if (size <= out.size()) {
            if (size) std::memcpy(out.data(), buffer_.data() + (tail & mask_) + header, size);
            result = static_cast<std::ptrdiff_t>(size);
        }
        tail_.store(tail + header + pad8(size), std::memory_order_release);
        return result;
    }

    bool empty() const noexcept { return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire); }

private:
    static constexpr std::size_t header = 16;
    static constexpr std::uint32_t skip_marker = 0xFFFFFFFFu;
    static std::size_t pad8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }
    static std::size_t round_up(std::size_t n) {
        std::size_t p = 64;
        while (p < n) p *= 2;
        return p;
    }
    void write_header(std::size_t offset, std::uint32_t size, std::int64_t stamp) noexcept {
        std::memcpy(buffer_.data() + offset, &size, 4);
        std::memcpy(buffer_.data() + offset + 8, &stamp, 8);
    }

    aligned_buffer<std::uint8_t> buffer_;
    std::size_t mask_;
    alignas(64) std::atomic<std::size_t> head_{0};  // written by the producer
    alignas(64) std::atomic<std::size_t> tail_{0};  // written by the consumer
};

}  // namespace detail
TUTTI_END_NAMESPACE
