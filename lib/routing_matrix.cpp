// Eigen stays inside this file: hosts using routing_matrix do not need Eigen.
#include "tutti/routing_matrix.hpp"

#include <Eigen/Core>

TUTTI_BEGIN_NAMESPACE

routing_matrix::routing_matrix(std::size_t outputs, std::size_t inputs)
    : outputs_(outputs), inputs_(inputs), gains_(outputs * inputs) {}

status routing_matrix::apply(planar_view<const float> in, planar_view<float> out) const noexcept {
    if (in.channels() != inputs_ || out.channels() != outputs_ || in.frames() != out.frames())
        return status::invalid_argument;
    if (in.frames() == 0 || outputs_ == 0) return status::ok;
    using matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using strided = Eigen::OuterStride<>;
    const auto frames = static_cast<Eigen::Index>(in.frames());
    const Eigen::Map<const matrix> g(gains_.data(), static_cast<Eigen::Index>(outputs_),
                                     static_cast<Eigen::Index>(inputs_));
    const Eigen::Map<const matrix, 0, strided> x(in.data(), static_cast<Eigen::Index>(inputs_), frames,
                                                 strided(static_cast<Eigen::Index>(in.stride())));
    Eigen::Map<matrix, 0, strided> y(out.data(), static_cast<Eigen::Index>(outputs_), frames,
                                     strided(static_cast<Eigen::Index>(out.stride())));
    // lazyProduct: coefficient-wise evaluation, vectorised along the frames, and
    // unlike the GEMM path it never allocates a blocking workspace.
    y.noalias() = g.lazyProduct(x);
    return status::ok;
}

TUTTI_END_NAMESPACE
