#include "tutti/routing_matrix.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "alloc_counter.hpp"
#include "tutti/kernels.hpp"
#include "tutti/limiter.hpp"

namespace {

TEST(RoutingMatrix, MatchesScaledAccumulation) {
    constexpr std::size_t ins = 5, outs = 4, frames = 963;
    tutti::routing_matrix g(outs, ins);
    tutti::planar_buffer<float> in(frames, ins), out(frames, outs), want(frames, outs);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    for (std::size_t c = 0; c < ins; ++c)
        for (float& x : in.channel(c)) x = d(rng);
    for (std::size_t o = 0; o < outs; ++o)
        for (std::size_t i = 0; i < ins; ++i) g.set_gain(o, i, o == i ? 0.0f : d(rng));
    ASSERT_EQ(g.apply(in.view(), out.view()), tutti::status::ok);
    for (std::size_t o = 0; o < outs; ++o) {
        for (std::size_t i = 0; i < ins; ++i)
            tutti::accumulate_scaled(want.channel(o).data(), in.channel(i).data(), g.gain(o, i), frames);
        for (std::size_t t = 0; t < frames; ++t) ASSERT_NEAR(out.channel(o)[t], want.channel(o)[t], 1e-5f);
    }
}

TEST(RoutingMatrix, RejectsMismatchedShapes) {
    tutti::routing_matrix g(2, 3);
    tutti::planar_buffer<float> in(160, 3), out(160, 2), wrong(161, 2), three(160, 3);
    EXPECT_EQ(g.apply(in.view(), wrong.view()), tutti::status::invalid_argument);
    EXPECT_EQ(g.apply(in.view(), three.view()), tutti::status::invalid_argument);
    EXPECT_EQ(g.apply(out.view(), out.view()), tutti::status::invalid_argument);
}

// The real-time rule for everything a tick calls in this layer: once set up,
// no heap allocation (operator new or malloc, Eigen included).
TEST(RealTime, MixingPathDoesNotAllocate) {
    constexpr std::size_t frames = 960, n = 8;
    tutti::routing_matrix g(n, n);
    tutti::planar_buffer<float> in(frames, n), out(frames, n);
    tutti::aligned_buffer<float> total(frames), mine(frames);
    tutti::aligned_buffer<std::int16_t> pcm(frames);
    tutti::limiter lim;
    const float* ptrs[n];
    for (std::size_t c = 0; c < n; ++c) {
        ptrs[c] = in.channel(c).data();
        for (std::size_t o = 0; o < n; ++o) g.set_gain(o, c, 0.5f);
        for (float& x : in.channel(c)) x = 0.3f;
    }
    tutti_test::alloc_counter counter;
    for (int tick = 0; tick < 100; ++tick) {
        tutti::mix_sum(total.data(), ptrs, n, frames);
        tutti::mix_minus(mine.data(), total.data(), ptrs[0], 1.0f, frames);
        lim.process(mine.span());
        tutti::float_to_s16(mine.data(), pcm.data(), frames);
        ASSERT_EQ(g.apply(in.view(), out.view()), tutti::status::ok);
        (void)tutti::measure_level(mine.span());
    }
    EXPECT_EQ(counter.count(), 0u);
    // The counter does count both kinds (volatile keeps the pairs from being elided).
    int* volatile p = new int(3);
    delete p;
    void* volatile m = std::malloc(16);
    std::free(m);
    EXPECT_EQ(counter.count(), 2u);
}

}  // namespace
