// The buffer heap (see tutti/detail/buffer_heap.hpp): size classes over
// 2 MiB-aligned chunks advised for transparent huge pages.
#include "tutti/detail/buffer_heap.hpp"

#include <bit>
#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TUTTI_HEAP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define TUTTI_HEAP_SANITIZED 1
#endif
#endif

TUTTI_BEGIN_NAMESPACE

namespace detail {
namespace {

constexpr std::size_t unit = 64;                      // block alignment and the smallest class
constexpr std::size_t huge_page = std::size_t{2} << 20;
constexpr std::size_t chunk_bytes = std::size_t{32} << 20;
constexpr std::size_t largest_pooled = std::size_t{1} << 20;  // bigger blocks (prompts, say) get their own mapping
constexpr std::size_t class_count = 56;

// Class of a block of `units` 64-byte units: exact up to 16 units (1 KiB),
// then four classes per power of two (at most 25 % rounding, 12 % on average).
struct size_class {
    std::size_t index;
    std::size_t units;
};
constexpr size_class class_of(std::size_t units) noexcept {
    if (units <= 16) return {units - 1, units};
    const int e = static_cast<int>(std::bit_width(units - 1)) - 1;  // 2^e < units <= 2^(e+1), e >= 4
    const std::size_t step = std::size_t{1} << (e - 2);
    const std::size_t q = (units + step - 1) / step;  // 5..8
    return {16 + static_cast<std::size_t>(e - 4) * 4 + (q - 5), q * step};
}

static_assert(class_of(largest_pooled / unit).index == class_count - 1);

struct free_block {
    free_block* next;
};

// Memory straight from the system, `alignment`-aligned, advised for huge pages.
void* map(std::size_t bytes, std::size_t alignment, bool& advised) noexcept {
#if defined(__linux__)
    const std::size_t span = bytes + alignment;
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::size_t lead = ((start + alignment - 1) & ~(std::uintptr_t{alignment} - 1)) - start;
    char* const aligned = static_cast<char*>(raw) + lead;
    if (lead > 0) ::munmap(raw, lead);
    if (span > lead + bytes) ::munmap(aligned + bytes, span - lead - bytes);
    advised = ::madvise(aligned, bytes, MADV_HUGEPAGE) == 0;
    return aligned;
#else
    advised = false;
    return ::operator new(bytes, std::align_val_t{alignment}, std::nothrow);
#endif
}

void unmap(void* block, std::size_t bytes, std::size_t alignment) noexcept {
#if defined(__linux__)
    (void)alignment;
    ::munmap(block, bytes);
#else
    ::operator delete(block, std::align_val_t{alignment});
#endif
}

class heap {
public:
    heap() noexcept {
#if defined(TUTTI_HEAP_SANITIZED)
        pooled_ = false;
#else
        const char* setting = std::getenv("TUTTI_BUFFER_HEAP");  // read once, before any block exists
        pooled_ = !(setting && std::strcmp(setting, "0") == 0);
#endif
    }

    void* allocate(std::size_t bytes) {
        if (bytes == 0) bytes = 1;
        const std::size_t units = (bytes + unit - 1) / unit;
        if (!pooled_) {
            void* p = ::operator new(units * unit, std::align_val_t{unit});
            count(units * unit, +1);
            return p;
        }
        if (units * unit > largest_pooled) {
            bool advised = false;
            void* p = map(units * unit, huge_page, advised);
            if (!p) throw std::bad_alloc();
            const std::lock_guard<std::mutex> lock(mutex_);
            stats_.bytes_reserved += units * unit;
            stats_.bytes_in_use += units * unit;
            ++stats_.blocks_in_use;
            return p;
        }
        const size_class c = class_of(units);
        const std::size_t size = c.units * unit;
        const std::lock_guard<std::mutex> lock(mutex_);
        stats_.bytes_in_use += size;
        ++stats_.blocks_in_use;
        if (free_block* f = free_[c.index]) {
            free_[c.index] = f->next;
            return f;
        }
        if (static_cast<std::size_t>(end_ - next_) < size) {
            bool advised = false;
            auto* chunk = static_cast<char*>(map(chunk_bytes, huge_page, advised));
            if (!chunk) {
                stats_.bytes_in_use -= size;
                --stats_.blocks_in_use;
                throw std::bad_alloc();
            }
            // What is left of the old chunk is dropped: less than a pooled block, at most 3 % of a chunk.
            next_ = chunk;
            end_ = chunk + chunk_bytes;
            stats_.bytes_reserved += chunk_bytes;
            stats_.huge_pages_advised = stats_.huge_pages_advised || advised;
        }
        void* p = next_;
        next_ += size;
        return p;
    }

    void free(void* block, std::size_t bytes) noexcept {
        if (!block) return;
        if (bytes == 0) bytes = 1;
        const std::size_t units = (bytes + unit - 1) / unit;
        if (!pooled_) {
            ::operator delete(block, std::align_val_t{unit});
            count(units * unit, -1);
            return;
        }
        if (units * unit > largest_pooled) {
            unmap(block, units * unit, huge_page);
            const std::lock_guard<std::mutex> lock(mutex_);
            stats_.bytes_reserved -= units * unit;
            stats_.bytes_in_use -= units * unit;
            --stats_.blocks_in_use;
            return;
        }
        const size_class c = class_of(units);
        const std::lock_guard<std::mutex> lock(mutex_);
        auto* f = static_cast<free_block*>(block);
        f->next = free_[c.index];
        free_[c.index] = f;
        stats_.bytes_in_use -= c.units * unit;
        --stats_.blocks_in_use;
    }

    heap_stats stats() noexcept {
        const std::lock_guard<std::mutex> lock(mutex_);
        heap_stats s = stats_;
        s.pooled = pooled_;
        return s;
    }

private:
    void count(std::size_t bytes, int sign) noexcept {
        const std::lock_guard<std::mutex> lock(mutex_);
        stats_.bytes_in_use = sign > 0 ? stats_.bytes_in_use + bytes : stats_.bytes_in_use - bytes;
        stats_.blocks_in_use = sign > 0 ? stats_.blocks_in_use + 1 : stats_.blocks_in_use - 1;
    }

    bool pooled_ = true;
    std::mutex mutex_;
    free_block* free_[class_count] = {};
    char* next_ = nullptr;  // the current chunk's uncarved part
    char* end_ = nullptr;
    heap_stats stats_;
};

// Never destroyed: buffers in other static objects may be freed after this
// translation unit's statics are gone, and the chunks live as long as the process.
// (Built in place: no allocation of its own, which allocation-failure tests would count.)
heap& the_heap() {
    alignas(heap) static unsigned char storage[sizeof(heap)];
    static heap* const h = new (storage) heap();
    return *h;
}

}  // namespace

void* heap_allocate(std::size_t bytes) { return the_heap().allocate(bytes); }
void heap_free(void* block, std::size_t bytes) noexcept {
    if (block) the_heap().free(block, bytes);
}
heap_stats get_heap_stats() noexcept { return the_heap().stats(); }

}  // namespace detail

TUTTI_END_NAMESPACE
