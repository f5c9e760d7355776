// tutti/buffer.hpp: views over audio frames and the buffers that own them.
//
// Views (`mono_view`, `interleaved_view`, `planar_view`) never own memory: they
// are cheap to copy and are what every kernel, codec and mixer function takes.
// Buffers (`aligned_buffer`, `planar_buffer`, `interleaved_buffer`) own 64-byte
// aligned memory (one cache line, the widest SIMD register), are allocated once
// when a participant or room is set up, and hand out views to the tick.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "tutti/config.hpp"
#include "tutti/detail/buffer_heap.hpp"

TUTTI_BEGIN_NAMESPACE

/// Alignment of every owned buffer, in bytes.
inline constexpr std::size_t buffer_alignment = 64;

/// One channel of samples. Just a span: the type name documents intent.
template <class T>
using mono_view = std::span<T>;

/// Frames of `channels()` samples each, stored L R L R ... (the layout on the wire).
template <class T>
class interleaved_view {
public:
    constexpr interleaved_view() noexcept = default;
    constexpr interleaved_view(T* data, std::size_t frames, std::size_t channels) noexcept
        : data_(data), frames_(static_cast<std::uint32_t>(frames)), channels_(static_cast<std::uint32_t>(channels)) {
        assert(frames <= UINT32_MAX && channels <= UINT32_MAX);
    }

    /// A const view of the same samples.
    constexpr operator interleaved_view<const T>() const noexcept { return {data_, frames_, channels_}; }

    constexpr std::size_t frames() const noexcept { return frames_; }
    constexpr std::size_t channels() const noexcept { return channels_; }
    constexpr T* data() const noexcept { return data_; }
    /// All samples, frames() * channels() of them.
    constexpr std::span<T> samples() const noexcept { return {data_, std::size_t{frames_} * channels_}; }
    /// Sample of `channel` in `frame`.
    constexpr T& operator()(std::size_t channel, std::size_t frame) const noexcept {
        assert(channel < channels_ && frame < frames_);
        return data_[frame * channels_ + channel];
    }
    /// Frames [first, first + count) of the same channels.
    constexpr interleaved_view subview(std::size_t first, std::size_t count) const noexcept {
        assert(first + count <= frames_);
        return {data_ + first * channels_, count, channels_};
    }

private:
    // 16 bytes, so a view passed by value travels in two registers. At 24 bytes
    // it went through the stack, and the callee's 16-byte load of two 8-byte
    // stores could not be forwarded: it waited for the whole store buffer to
    // drain, cache misses and all (most of a many-rooms tick's input stage).
    T* data_ = nullptr;
    std::uint32_t frames_ = 0;
    std::uint32_t channels_ = 0;
};

/// Channels stored one after another, `stride()` samples apart (the layout kernels like best).
template <class T>
class planar_view {
public:
    constexpr planar_view() noexcept = default;
    constexpr planar_view(T* data, std::size_t frames, std::size_t channels, std::size_t stride) noexcept
        : data_(data), frames_(frames), channels_(channels), stride_(stride) {
        assert(channels <= 1 || stride >= frames);
    }
    /// One channel as a planar view.
    constexpr planar_view(mono_view<T> mono) noexcept : planar_view(mono.data(), mono.size(), 1, mono.size()) {}

    constexpr operator planar_view<const T>() const noexcept { return {data_, frames_, channels_, stride_}; }

    constexpr std::size_t frames() const noexcept { return frames_; }
    constexpr std::size_t channels() const noexcept { return channels_; }
    /// Distance in samples between the starts of two neighbouring channels.
    constexpr std::size_t stride() const noexcept { return stride_; }
    constexpr T* data() const noexcept { return data_; }
    /// The samples of one channel.
    constexpr mono_view<T> channel(std::size_t c) const noexcept {
        assert(c < channels_);
        return {data_ + c * stride_, frames_};
    }
    constexpr T& operator()(std::size_t c, std::size_t frame) const noexcept {
        assert(c < channels_ && frame < frames_);
        return data_[c * stride_ + frame];
    }

private:
    T* data_ = nullptr;
    std::size_t frames_ = 0;
    std::size_t channels_ = 0;
    std::size_t stride_ = 0;
};

/// A fixed-size, zero-initialised, 64-byte-aligned array of trivially copyable
/// samples. Move-only; the size is set at construction and never changes, so a
/// view handed out stays valid for the buffer's lifetime.
/// Construction allocates (throws std::bad_alloc): do it at set-up, not in the tick.
template <class T>
class aligned_buffer {
    static_assert(std::is_trivially_copyable_v<T>, "aligned_buffer holds samples, not objects");

public:
    aligned_buffer() noexcept = default;
    explicit aligned_buffer(std::size_t size) : size_(size) {
        if (size_ != 0) {
            data_ = static_cast<T*>(detail::heap_allocate(size_ * sizeof(T)));  // huge-page chunks: see buffer_heap.hpp
            std::fill_n(data_, size_, T{});
        }
    }
    aligned_buffer(aligned_buffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    aligned_buffer& operator=(aligned_buffer&& other) noexcept {
        if (this != &other) {
            release();
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    aligned_buffer(const aligned_buffer&) = delete;
    aligned_buffer& operator=(const aligned_buffer&) = delete;
    ~aligned_buffer() { release(); }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    T& operator[](std::size_t i) noexcept { assert(i < size_); return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { assert(i < size_); return data_[i]; }
    std::span<T> span() noexcept { return {data_, size_}; }
    std::span<const T> span() const noexcept { return {data_, size_}; }
    T* begin() noexcept { return data_; }
    T* end() noexcept { return data_ + size_; }
    const T* begin() const noexcept { return data_; }
    const T* end() const noexcept { return data_ + size_; }

private:
    void release() noexcept {
        detail::heap_free(data_, size_ * sizeof(T));
        data_ = nullptr;
        size_ = 0;
    }
    T* data_ = nullptr;
    std::size_t size_ = 0;
};

/// Owned planar frames: each channel starts on its own 64-byte boundary.
template <class T>
class planar_buffer {
public:
    planar_buffer() noexcept = default;
    planar_buffer(std::size_t frames, std::size_t channels)
        : frames_(frames), channels_(channels), stride_(round_up(frames)), samples_(stride_ * channels) {}

    planar_view<T> view() noexcept { return {samples_.data(), frames_, channels_, stride_}; }
    planar_view<const T> view() const noexcept { return {samples_.data(), frames_, channels_, stride_}; }
    mono_view<T> channel(std::size_t c) noexcept { return view().channel(c); }
    mono_view<const T> channel(std::size_t c) const noexcept { return view().channel(c); }
    std::size_t frames() const noexcept { return frames_; }
    std::size_t channels() const noexcept { return channels_; }

private:
    static constexpr std::size_t round_up(std::size_t frames) noexcept {
        constexpr std::size_t per_line = buffer_alignment / sizeof(T) > 0 ? buffer_alignment / sizeof(T) : 1;
        return (frames + per_line - 1) / per_line * per_line;
    }
    std::size_t frames_ = 0;
    std::size_t channels_ = 0;
    std::size_t stride_ = 0;
    aligned_buffer<T> samples_;
};

/// Owned interleaved frames.
template <class T>
class interleaved_buffer {
public:
    interleaved_buffer() noexcept = default;
    interleaved_buffer(std::size_t frames, std::size_t channels)
        : frames_(frames), channels_(channels), samples_(frames * channels) {}

    interleaved_view<T> view() noexcept { return {samples_.data(), frames_, channels_}; }
    interleaved_view<const T> view() const noexcept { return {samples_.data(), frames_, channels_}; }
    std::size_t frames() const noexcept { return frames_; }
    std::size_t channels() const noexcept { return channels_; }

private:
    std::size_t frames_ = 0;
    std::size_t channels_ = 0;
    aligned_buffer<T> samples_;
};

TUTTI_END_NAMESPACE
