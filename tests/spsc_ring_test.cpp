// detail::spsc_ring: records in order with their stamps, the limits, and a
// drained ring starting again at its first byte (what keeps records in cache).
#include "tutti/detail/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace {

using tutti::detail::spsc_ring;

std::vector<std::uint8_t> record(std::size_t size, std::uint8_t seed) {
    std::vector<std::uint8_t> r(size);
    for (std::size_t i = 0; i < size; ++i) r[i] = static_cast<std::uint8_t>(seed + i * 7);
    return r;
}

TEST(SpscRing, RecordsComeOutInOrderWithTheirStampsAcrossWraps) {
    spsc_ring ring(256);
    std::vector<std::uint8_t> out(256);
    std::int64_t stamp = 0;
    std::uint8_t pushed = 0, popped = 0;  // (wrap around together)
    for (int round = 0; round < 200; ++round) {
        // Two or three records in flight, of sizes that do not divide the ring: some wrap with a skip marker.
        const std::size_t size = 20 + static_cast<std::size_t>(round % 37);
        while (ring.push(record(size + pushed % 3, pushed), 1000 + pushed)) ++pushed;
        ASSERT_GE(static_cast<std::uint8_t>(pushed - popped), 2) << "round " << round;  // (uint8_t counters: in flight is small)
        while (static_cast<std::uint8_t>(pushed - popped) > 1) {  // leave one in: the next pushes go on after it
            const std::ptrdiff_t n = ring.pop(out, stamp);
            ASSERT_GT(n, 0);
            EXPECT_EQ(stamp, 1000 + popped);
            EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + n), record(static_cast<std::size_t>(n), popped));
            ++popped;
        }
    }
    while (ring.pop(out, stamp) > 0) ++popped;
    EXPECT_EQ(pushed, popped);
    EXPECT_EQ(ring.pop(out, stamp), -1);
}

TEST(SpscRing, LimitsAreReportedNotOverrun) {
    spsc_ring ring(256);
    EXPECT_EQ(ring.max_record(), 128u - 16u);
    EXPECT_FALSE(ring.push(record(ring.max_record() + 1, 0), 0));  // never fits
    EXPECT_TRUE(ring.push(record(ring.max_record(), 0), 0));
    EXPECT_TRUE(ring.push(record(100, 1), 0));
    EXPECT_FALSE(ring.push(record(8, 2), 0));  // full now
    std::vector<std::uint8_t> small(50);
    std::int64_t stamp = 0;
    EXPECT_EQ(ring.pop(small, stamp), -2);  // too big for `out`: dropped, not truncated
    EXPECT_EQ(ring.pop(small, stamp), -2);
    EXPECT_EQ(ring.pop(small, stamp), -1);
}

TEST(SpscRing, ADrainedRingStartsAgainAtItsFirstByte) {
    spsc_ring ring(4096);
    std::vector<std::uint8_t> out(4096);
    std::int64_t stamp = 0;
    for (int tick = 0; tick < 100; ++tick) {
        ASSERT_TRUE(ring.push(record(172, static_cast<std::uint8_t>(tick)), tick));
        ASSERT_TRUE(ring.push(record(60, static_cast<std::uint8_t>(tick + 1)), tick));
        // Whatever came before, the first record after a drain went to offset 0.
        EXPECT_EQ(ring.write_offset(), 16u + 176u + 16u + 64u) << "tick " << tick;
        ASSERT_EQ(ring.pop(out, stamp), 172);
        EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 172), record(172, static_cast<std::uint8_t>(tick)));
        ASSERT_EQ(ring.pop(out, stamp), 60);
        ASSERT_EQ(ring.pop(out, stamp), -1);
    }
    // Not drained: it goes on where it was (the unread record stays where the consumer will look).
    ASSERT_TRUE(ring.push(record(10, 0), 0));
    ASSERT_TRUE(ring.push(record(10, 1), 0));
    ASSERT_EQ(ring.pop(out, stamp), 10);
    ASSERT_TRUE(ring.push(record(10, 2), 0));
    EXPECT_EQ(ring.write_offset(), 3u * 32u);
}

// The bytes a jump to the start skips are free at once: a burst right after a
// drain far into the ring gets the whole ring, in order.
TEST(SpscRing, ABurstAfterADrainHasTheWholeRing) {
    spsc_ring ring(4096);
    std::vector<std::uint8_t> out(4096);
    std::int64_t stamp = 0;
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(ring.push(record(300, 0), 0));  // to 7 * 320 = 2240 bytes in
    while (ring.pop(out, stamp) > 0) {
    }
    int accepted = 0;
    while (ring.push(record(100, static_cast<std::uint8_t>(accepted)), accepted)) ++accepted;
    EXPECT_EQ(accepted, 4096 / (16 + 104));
    for (int i = 0; i < accepted; ++i) {
        ASSERT_EQ(ring.pop(out, stamp), 100);
        EXPECT_EQ(stamp, i);
        EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 100), record(100, static_cast<std::uint8_t>(i)));
    }
    EXPECT_EQ(ring.pop(out, stamp), -1);
}

// One thread pushes, another pops (TSan checks the ordering): every record
// arrives once, in order, intact, whether the ring ran full or drained.
TEST(SpscRing, TwoThreadsPassEveryRecordInOrder) {
    spsc_ring ring(1024);
    constexpr int count = 200000;
    std::thread producer([&] {
        for (int i = 0; i < count;) {
            const auto r = record(1 + static_cast<std::size_t>(i % 61), static_cast<std::uint8_t>(i));
            if (ring.push(r, i)) ++i;
            else std::this_thread::yield();
        }
    });
    std::vector<std::uint8_t> out(1024);
    std::int64_t stamp = 0;
    int bad = 0;
    for (int i = 0; i < count;) {
        const std::ptrdiff_t n = ring.pop(out, stamp);
        if (n == -1) {
            std::this_thread::yield();
            continue;
        }
        if (stamp != i || n != 1 + i % 61 ||
            std::vector<std::uint8_t>(out.begin(), out.begin() + n) != record(static_cast<std::size_t>(n), static_cast<std::uint8_t>(i)))
            ++bad;
        ++i;
    }
    producer.join();
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(ring.pop(out, stamp), -1);
}

}  // namespace
