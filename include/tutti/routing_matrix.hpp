// tutti/routing_matrix.hpp: out = G · in for a small group with arbitrary gains.
//
// A conference room does not need this: everyone hears "total minus own",
// which the O(N) kernels in kernels.hpp compute (mix_sum + mix_minus); a full
// N×N matrix would cost O(N²). Where every output really is its own blend of
// every input (a breakout of interpreters, a stereo panorama of a few talkers,
// a whisper group) the product is a small dense matrix times a planar block of
// frames, which is exactly what Eigen is good at: it vectorises over the frame
// axis and keeps gains in registers. That is why Eigen is used here and not in
// the kernels (whose inputs are scattered pointers, not a matrix).
#pragma once

#include <cstddef>

#include "tutti/buffer.hpp"
#include "tutti/config.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// A dense gain matrix of outputs × inputs, all gains 0 at construction.
/// Construction allocates; apply() does not. [one thread at a time]
class routing_matrix {
public:
    routing_matrix(std::size_t outputs, std::size_t inputs);

    std::size_t outputs() const noexcept { return outputs_; }
    std::size_t inputs() const noexcept { return inputs_; }
    /// Linear gain from input `in` to output `out`.
    void set_gain(std::size_t out, std::size_t in, float gain) noexcept { gains_[out * inputs_ + in] = gain; }
    float gain(std::size_t out, std::size_t in) const noexcept { return gains_[out * inputs_ + in]; }

    /// out.channel(o)[t] = sum_i gain(o, i) * in.channel(i)[t]. The views must
    /// have inputs() and outputs() channels and the same frame count, and must
    /// not overlap; returns invalid_argument otherwise. [tick-thread safe]
    [[nodiscard]] status apply(planar_view<const float> in, planar_view<float> out) const noexcept;

private:
    std::size_t outputs_;
    std::size_t inputs_;
    aligned_buffer<float> gains_;  // row-major outputs × inputs
};

TUTTI_END_NAMESPACE
