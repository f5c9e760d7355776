// The buffer heap (tutti/detail/buffer_heap.hpp): alignment, no overlap,
// reuse by size class, exact accounting, big blocks, threads, and the classes
// that live on it being freed when their constructor throws.
#include "tutti/detail/buffer_heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tutti/buffer.hpp"

namespace {

using namespace tutti;
using detail::get_heap_stats;
using detail::heap_allocate;
using detail::heap_free;

struct block {
    std::uint8_t* p;
    std::size_t bytes;
    std::uint8_t tag;
};

bool intact(const block& b) {
    return std::all_of(b.p, b.p + b.bytes, [&](std::uint8_t x) { return x == b.tag; });
}

TEST(BufferHeap, BlocksAreAlignedDisjointAndAccountedExactly) {
    const auto before = get_heap_stats();
    std::mt19937 rng(5);
    std::vector<block> blocks;
    for (int i = 0; i < 3000; ++i) {
        const std::size_t bytes = 1 + rng() % (i % 10 == 0 ? 300000 : 3000);
        auto* p = static_cast<std::uint8_t*>(heap_allocate(bytes));
        ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u) << bytes;
        const auto tag = static_cast<std::uint8_t>(i);
        std::memset(p, tag, bytes);
        blocks.push_back({p, bytes, tag});
        if (rng() % 3 == 0) {  // free one at random: its block is reused by later ones
            const std::size_t k = rng() % blocks.size();
            ASSERT_TRUE(intact(blocks[k])) << "block " << k << " was overwritten";
            heap_free(blocks[k].p, blocks[k].bytes);
            blocks[k] = blocks.back();
            blocks.pop_back();
        }
    }
    for (const block& b : blocks) ASSERT_TRUE(intact(b));
    const auto during = get_heap_stats();
    EXPECT_EQ(during.blocks_in_use - before.blocks_in_use, blocks.size());
    std::uint64_t asked = 0;
    for (const block& b : blocks) asked += b.bytes;
    // Four classes per power of two: at most a quarter more than asked, plus the 64-byte rounding.
    EXPECT_GE(during.bytes_in_use - before.bytes_in_use, asked);
    EXPECT_LE(during.bytes_in_use - before.bytes_in_use, asked + asked / 4 + 64 * blocks.size());
    for (const block& b : blocks) heap_free(b.p, b.bytes);
    const auto after = get_heap_stats();
    EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
    EXPECT_EQ(after.blocks_in_use, before.blocks_in_use);
}

TEST(BufferHeap, FreedBlocksAreReusedAndChunksKept) {
    if (!get_heap_stats().pooled) GTEST_SKIP() << "plain operator new here (sanitizer build or TUTTI_BUFFER_HEAP=0)";
    void* a = heap_allocate(5000);
    heap_free(a, 5000);
    void* b = heap_allocate(4900);  // same class (4.75-5 KiB)
    EXPECT_EQ(a, b);
    heap_free(b, 4900);
    // A room's worth of joins and leaves reserves its chunks once.
    std::vector<aligned_buffer<float>> room;
    for (int i = 0; i < 200; ++i) room.emplace_back(960 + i);
    room.clear();
    const std::uint64_t reserved = get_heap_stats().bytes_reserved;
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 200; ++i) room.emplace_back(960 + i);
        room.clear();
    }
    EXPECT_EQ(get_heap_stats().bytes_reserved, reserved);
}

TEST(BufferHeap, BigBlocksGetTheirOwnMappingAndGoBack) {
    const auto before = get_heap_stats();
    const std::size_t bytes = std::size_t{20} << 20;
    auto* p = static_cast<std::uint8_t*>(heap_allocate(bytes));
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u);
    std::memset(p, 7, bytes);
    EXPECT_EQ(get_heap_stats().bytes_in_use - before.bytes_in_use, bytes);
    heap_free(p, bytes);
    EXPECT_EQ(get_heap_stats().bytes_in_use, before.bytes_in_use);
    EXPECT_EQ(get_heap_stats().bytes_reserved, before.bytes_reserved);
}

TEST(BufferHeap, AsksForHugePagesWhereTheKernelOffersThem) {
    const auto s = get_heap_stats();
    if (!s.pooled) GTEST_SKIP() << "plain operator new here";
    std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string mode;
    std::getline(f, mode);
    if (mode.empty() || mode.find("[never]") != std::string::npos) GTEST_SKIP() << "no transparent huge pages: " << mode;
    aligned_buffer<float> b(1000);  // makes sure a chunk exists
    EXPECT_TRUE(get_heap_stats().huge_pages_advised) << mode;
}

TEST(BufferHeap, ThreadsAllocateAndFreeAtOnce) {
    const auto before = get_heap_stats();
    std::vector<std::thread> threads;
    std::vector<int> broken(2, 0);
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([t, &broken] {
            std::mt19937 rng(static_cast<unsigned>(t));
            std::vector<block> mine;
            for (int i = 0; i < 20000; ++i) {
                if (mine.size() < 50 && rng() % 2 == 0) {
                    const std::size_t bytes = 1 + rng() % 5000;
                    auto* p = static_cast<std::uint8_t*>(heap_allocate(bytes));
                    const auto tag = static_cast<std::uint8_t>(t * 100 + i % 100);
                    std::memset(p, tag, bytes);
                    mine.push_back({p, bytes, tag});
                } else if (!mine.empty()) {
                    if (!intact(mine.back())) ++broken[static_cast<std::size_t>(t)];
                    heap_free(mine.back().p, mine.back().bytes);
                    mine.pop_back();
                }
            }
            for (const block& b : mine) heap_free(b.p, b.bytes);
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(broken[0] + broken[1], 0);
    EXPECT_EQ(get_heap_stats().bytes_in_use, before.bytes_in_use);
}

// An over-aligned class on the heap whose constructor throws: C++ frees it
// with the unsized aligned delete, which must find its size (it leaked
// before heap_allocated knew it).
struct alignas(64) throws_in_constructor final : detail::heap_allocated<throws_in_constructor> {
    aligned_buffer<float> first{100};
    aligned_buffer<float> second;
    explicit throws_in_constructor(bool fail) {
        if (fail) throw std::bad_alloc();
    }
};

TEST(BufferHeap, AnObjectWhoseConstructorThrowsIsGivenBack) {
    const auto before = get_heap_stats();
    EXPECT_THROW(delete new throws_in_constructor(true), std::bad_alloc);
    EXPECT_EQ(get_heap_stats().bytes_in_use, before.bytes_in_use);
    EXPECT_EQ(get_heap_stats().blocks_in_use, before.blocks_in_use);
    delete new throws_in_constructor(false);
    EXPECT_EQ(get_heap_stats().bytes_in_use, before.bytes_in_use);
}

}  // namespace
