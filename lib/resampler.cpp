// Sample-rate conversion over SpeexDSP's polyphase resampler.
//
// Flow position: decoder -> resampler -> mixer -> resampler -> encoder.
// SpeexDSP keeps the filter history internally and consumes all input when the
// output has room, so one frame in gives one frame out on every call for
// rational frame ratios. This wrapper checks sizes up front, so a too-small
// output is refused before anything is consumed, and keeps the odd extra frame
// SpeexDSP produces for non-integer ratios for the next call, so input is never
// left unconsumed (which would drop audio).
#include "tutti/resampler.hpp"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <cstdint>
#include <new>

TUTTI_BEGIN_NAMESPACE

status resampler::create(std::uint32_t in_rate_hz, std::uint32_t out_rate_hz, std::uint16_t channels,
                         std::unique_ptr<resampler>& out, int quality) noexcept {
    if (in_rate_hz < min_rate_hz || in_rate_hz > max_rate_hz || out_rate_hz < min_rate_hz ||
        out_rate_hz > max_rate_hz || channels < 1 || channels > max_channels || quality < 0 || quality > 10) {
        return status::invalid_argument;
    }
    std::unique_ptr<resampler> r(new (std::nothrow) resampler());
    if (!r) return status::out_of_memory;
    r->in_rate_ = in_rate_hz;
    r->out_rate_ = out_rate_hz;
    r->channels_ = channels;
    r->quality_ = quality;
    if (in_rate_hz != out_rate_hz) {
        int err = RESAMPLER_ERR_SUCCESS;
        r->state_ = speex_resampler_init(channels, in_rate_hz, out_rate_hz, quality, &err);
        if (r->state_ == nullptr || err != RESAMPLER_ERR_SUCCESS) {
            return err == RESAMPLER_ERR_ALLOC_FAILED ? status::out_of_memory : status::internal_error;
        }
        r->input_latency_ = static_cast<std::size_t>(std::max(0, speex_resampler_get_input_latency(r->state_)));
        r->output_latency_ = static_cast<std::size_t>(std::max(0, speex_resampler_get_output_latency(r->state_)));
        try {
            r->carry_ = aligned_buffer<float>(carry_capacity * channels);
        } catch (const std::bad_alloc&) {
            return status::out_of_memory;
        }
    }
    out = std::move(r);
    return status::ok;
}

resampler::~resampler() {
    if (state_ != nullptr) speex_resampler_destroy(state_);
}

std::size_t resampler::max_output_frames(std::size_t in_frames) const noexcept {
    if (state_ == nullptr) return in_frames;
    const std::uint64_t num = std::uint64_t{in_frames} * out_rate_ + in_rate_ - 1;
    return static_cast<std::size_t>(num / in_rate_);
}

std::ptrdiff_t resampler::process(interleaved_view<const float> in, interleaved_view<float> out) noexcept {
    if (in.channels() != channels_ || out.channels() != channels_ || in.frames() > max_frames_per_call) {
        return as_count(status::invalid_argument);
    }
    if (in.frames() == 0) return 0;
    if (out.frames() < max_output_frames(in.frames())) return as_count(status::buffer_too_small);
    if (state_ == nullptr) {
        std::copy_n(in.data(), in.frames() * channels_, out.data());
        return static_cast<std::ptrdiff_t>(in.frames());
    }
    const std::size_t ch = channels_;
    // Frames held back from the previous call come first.
    std::size_t written = std::min(carry_frames_, out.frames());
    std::copy_n(carry_.data(), written * ch, out.data());
    std::copy(carry_.data() + written * ch, carry_.data() + carry_frames_ * ch, carry_.data());
    carry_frames_ -= written;

    const float* src = in.data();
    auto in_left = static_cast<spx_uint32_t>(in.frames());
    if (carry_frames_ == 0) {
        spx_uint32_t in_len = in_left;
        // <= 2^20 input frames at a ratio <= 48 fits in 32 bits.
        auto out_len = static_cast<spx_uint32_t>(std::min<std::size_t>(out.frames() - written, UINT32_MAX));
        if (speex_resampler_process_interleaved_float(state_, src, &in_len, out.data() + written * ch, &out_len) !=
            RESAMPLER_ERR_SUCCESS) {
            return as_count(status::internal_error);
        }
        written += out_len;
        src += std::size_t{in_len} * ch;
        in_left -= in_len;
    }
    if (in_left > 0) {
        // Non-integer frame ratios: SpeexDSP can want one frame more than
        // ceil(in * out_rate / in_rate) in a call. Keep it for the next call
        // rather than leave input unconsumed (which would drop audio).
        spx_uint32_t in_len = in_left;
        auto out_len = static_cast<spx_uint32_t>(carry_capacity - carry_frames_);
        if (speex_resampler_process_interleaved_float(state_, src, &in_len, carry_.data() + carry_frames_ * ch,
                                                      &out_len) != RESAMPLER_ERR_SUCCESS ||
            in_len != in_left) {
            return as_count(status::internal_error);
        }
        carry_frames_ += out_len;
    }
    return static_cast<std::ptrdiff_t>(written);
}

void resampler::reset() noexcept {
    if (state_ != nullptr) speex_resampler_reset_mem(state_);
    carry_frames_ = 0;
}

TUTTI_END_NAMESPACE
