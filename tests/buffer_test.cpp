#include "tutti/buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <type_traits>

#include "tutti/format.hpp"
#include "tutti/status.hpp"

namespace {

TEST(AudioFormat, FrameSamples) {
    EXPECT_EQ((tutti::audio_format{48000, 1, 20000}.frame_samples()), 960u);
    EXPECT_EQ((tutti::audio_format{16000, 2, 10000}.frame_samples_all_channels()), 320u);
    EXPECT_EQ((tutti::audio_format{48000, 1, 2500}.frame_samples()), 120u);
    EXPECT_TRUE((tutti::audio_format{8000, 1, 20000}.valid()));
    EXPECT_TRUE((tutti::audio_format{8000, 1, 2500}.valid()));  // 20 samples
    EXPECT_FALSE((tutti::audio_format{11025, 1, 2500}.valid()));  // 27.5625 samples per frame
    EXPECT_FALSE((tutti::audio_format{0, 1, 20000}.valid()));
    EXPECT_FALSE((tutti::audio_format{48000, 0, 20000}.valid()));
}

TEST(AlignedBuffer, IsAlignedZeroedAndMovable) {
    tutti::aligned_buffer<float> a(1001);
    ASSERT_EQ(a.size(), 1001u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % tutti::buffer_alignment, 0u);
    for (float x : a) EXPECT_EQ(x, 0.0f);
    a[7] = 3.0f;
    tutti::aligned_buffer<float> b(std::move(a));
    EXPECT_EQ(b[7], 3.0f);
    EXPECT_EQ(a.size(), 0u);
    EXPECT_EQ(a.data(), nullptr);
    tutti::aligned_buffer<float> c;
    c = std::move(b);
    EXPECT_EQ(c.size(), 1001u);
}

TEST(PlanarBuffer, ChannelsStartOnCacheLines) {
    tutti::planar_buffer<std::int16_t> p(161, 3);
    auto v = p.view();
    ASSERT_EQ(v.channels(), 3u);
    ASSERT_EQ(v.frames(), 161u);
    EXPECT_GE(v.stride(), 161u);
    for (std::size_t c = 0; c < 3; ++c) {
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.channel(c).data()) % tutti::buffer_alignment, 0u);
        EXPECT_EQ(v.channel(c).size(), 161u);
    }
    v(2, 160) = 5;
    EXPECT_EQ(p.channel(2)[160], 5);
    EXPECT_EQ(p.channel(1)[160], 0);
}

TEST(InterleavedView, IndexesFramesAndChannels) {
    float samples[6] = {0, 1, 2, 3, 4, 5};  // L R L R L R
    tutti::interleaved_view<float> v(samples, 3, 2);
    EXPECT_EQ(v(0, 1), 2.0f);
    EXPECT_EQ(v(1, 2), 5.0f);
    auto sub = v.subview(1, 2);
    EXPECT_EQ(sub(0, 0), 2.0f);
    EXPECT_EQ(sub.samples().size(), 4u);
    tutti::interleaved_view<const float> c = v;
    EXPECT_EQ(c.frames(), 3u);
}

// Two registers' worth, so a view passed by value is passed in registers (see buffer.hpp).
static_assert(sizeof(tutti::interleaved_view<float>) == sizeof(float*) + 2 * sizeof(std::uint32_t));
static_assert(std::is_trivially_copyable_v<tutti::interleaved_view<float>>);

TEST(Status, CountsAndStrings) {
    EXPECT_EQ(tutti::status_of(12), tutti::status::ok);
    EXPECT_EQ(tutti::status_of(tutti::as_count(tutti::status::truncated)), tutti::status::truncated);
    EXPECT_STREQ(tutti::to_string(tutti::status::malformed), "malformed input");
}

}  // namespace
