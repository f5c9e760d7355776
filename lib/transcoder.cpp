// lib/transcoder.cpp: decoder -> channel mix -> resampler -> FIFO -> encoder (tutti/transcoder.hpp).
//
// Flow position: RTP in -> jitter buffer -> **transcoder** -> packetizer -> RTP out.
// All buffers are sized in create() from the worst case (one max_input_us
// payload); push/pull only move samples between them.
#include "tutti/transcoder.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

#include "tutti/codecs/opus.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

status fail(std::string* error, status s, std::string message) {
    if (error != nullptr) *error = std::move(message);
    return s;
}

// The smallest Opus rate carrying audio sampled at `rate_hz`.
constexpr std::uint32_t opus_rate_covering(std::uint32_t rate_hz) noexcept {
    for (const std::uint32_t r : {8000u, 12000u, 16000u, 24000u}) {
        if (rate_hz <= r) return r;
    }
    return 48000;
}

constexpr std::size_t frames_in_us(std::uint32_t rate_hz, std::uint32_t us) noexcept {
    return static_cast<std::size_t>((std::uint64_t{rate_hz} * us + 999999u) / 1000000u);
}

}  // namespace

transcoder::~transcoder() = default;

status transcoder::create(const sdp_format& in, const sdp_format& out, const codec_registry& registry,
                          const codec_options& options, std::unique_ptr<transcoder>& result, std::string* error) {
    try {
        std::unique_ptr<decoder> dec;
        std::unique_ptr<encoder> enc;
        std::string why;
        if (const status s = registry.make_decoder(in, options, dec, &why); s != status::ok) {
            return fail(error, s, "input format: " + why);
        }
        const std::uint32_t in_rate = dec->format().sample_rate_hz;
        // An Opus encoder never needs more than the input carries ...
        codec_options enc_options = options;
        enc_options.opus_max_sample_rate_hz = std::min(options.opus_max_sample_rate_hz, opus_rate_covering(in_rate));
        if (const status s = registry.make_encoder(out, enc_options, enc, &why); s != status::ok) {
            return fail(error, s, "output format: " + why);
        }
        const audio_format out_fmt = enc->format();
        // ... and an Opus decoder never more than the output carries.
        if (in.is("opus") && out_fmt.sample_rate_hz < in_rate) {
            codec_options dec_options = options;
            dec_options.opus_max_sample_rate_hz =
                std::min(options.opus_max_sample_rate_hz, opus_rate_covering(out_fmt.sample_rate_hz));
            std::unique_ptr<decoder> narrower;
            if (registry.make_decoder(in, dec_options, narrower, nullptr) == status::ok &&
                narrower->format().sample_rate_hz < in_rate) {
                dec = std::move(narrower);
            }
        }
        const audio_format in_fmt = dec->format();
        if (in_fmt.channels == 0 || out_fmt.channels == 0 || out_fmt.frame_samples() == 0) {
            return fail(error, status::internal_error, "a codec reported an empty format");
        }
        if (in_fmt.channels != out_fmt.channels && in_fmt.channels != 1 && out_fmt.channels != 1) {
            return fail(error, status::unsupported,
                        "cannot map " + std::to_string(in_fmt.channels) + " channels to " +
                            std::to_string(out_fmt.channels) + " (only equal counts, or mono on one side)");
        }

        std::unique_ptr<transcoder> t(new transcoder());
        t->in_format_ = in_fmt;
        t->out_format_ = out_fmt;
        t->in_clock_rate_hz_ = in.clock_rate_hz;
        t->out_clock_rate_hz_ = out.clock_rate_hz;
        t->mix_channels_ = std::min(in_fmt.channels, out_fmt.channels);
        t->max_input_frames_ = frames_in_us(in_fmt.sample_rate_hz, max_input_us);
        t->out_frame_samples_ = out_fmt.frame_samples();
        t->decoded_ = aligned_buffer<float>(t->max_input_frames_ * in_fmt.channels);
        std::size_t max_out = t->max_input_frames_;
        if (in_fmt.sample_rate_hz != out_fmt.sample_rate_hz) {
            const status s = resampler::create(in_fmt.sample_rate_hz, out_fmt.sample_rate_hz, t->mix_channels_,
                                               t->resampler_);
            if (s != status::ok) {
                return fail(error, s,
                            "no resampler from " + std::to_string(in_fmt.sample_rate_hz) + " to " +
                                std::to_string(out_fmt.sample_rate_hz) + " Hz: " + to_string(s));
            }
            max_out = t->resampler_->max_output_frames(t->max_input_frames_);
            t->resampled_ = aligned_buffer<float>(max_out * t->mix_channels_);
        }
        t->fifo_capacity_ = max_out + 2 * t->out_frame_samples_;
        t->fifo_ = aligned_buffer<float>(t->fifo_capacity_ * out_fmt.channels);
        t->decoder_ = std::move(dec);
        t->encoder_ = std::move(enc);
        result = std::move(t);
        return status::ok;
    } catch (const std::bad_alloc&) {
        return fail(error, status::out_of_memory, "out of memory creating a transcoder");
    }
}

void transcoder::append(std::size_t frames) noexcept {
    const std::size_t in_ch = in_format_.channels;
    const std::size_t out_ch = out_format_.channels;
    float* src = decoded_.data();
    // Down-mix before resampling (fewer samples to resample), in place: frame i
    // is written after frames 0..i were read.
    if (in_ch > out_ch) {
        const float scale = 1.0f / static_cast<float>(in_ch);
        for (std::size_t i = 0; i < frames; ++i) {
            float sum = 0.0f;
            for (std::size_t c = 0; c < in_ch; ++c) sum += src[i * in_ch + c];
            src[i] = sum * scale;
        }
    }
    const std::size_t ch = mix_channels_;
    std::size_t n = frames;
    if (resampler_) {
        const std::ptrdiff_t r = resampler_->process(interleaved_view<const float>(src, frames, ch),
                                                     interleaved_view<float>(resampled_.data(), resampled_.size() / ch, ch));
        if (r < 0) return;  // cannot happen with the sizes fixed in create()
        n = static_cast<std::size_t>(r);
        src = resampled_.data();
    }
    // Room: drop the oldest frames, then compact so the n new ones fit after the rest.
    if (fifo_count_ + n > fifo_capacity_) {
        const std::size_t drop = std::min(fifo_count_ + n - fifo_capacity_, fifo_count_);
        fifo_head_ += drop;
        fifo_count_ -= drop;
        stats_.fifo_overflow_frames += drop;
        n = std::min(n, fifo_capacity_);  // never true with create()'s sizes; keeps the copy in bounds
    }
    if (fifo_head_ + fifo_count_ + n > fifo_capacity_) {
        std::memmove(fifo_.data(), fifo_.data() + fifo_head_ * out_ch, fifo_count_ * out_ch * sizeof(float));
        fifo_head_ = 0;
    }
    float* dst = fifo_.data() + (fifo_head_ + fifo_count_) * out_ch;
    if (out_ch > ch) {  // up-mix mono: every output channel gets the same sample
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t c = 0; c < out_ch; ++c) dst[i * out_ch + c] = src[i];
        }
    } else {
        std::memcpy(dst, src, n * out_ch * sizeof(float));
    }
    fifo_count_ += n;
}

status transcoder::push(std::span<const std::uint8_t> payload) noexcept {
    const std::ptrdiff_t r =
        decoder_->decode(payload, interleaved_view<float>(decoded_.data(), max_input_frames_, in_format_.channels));
    if (r < 0) {
        ++stats_.decode_errors;
        return status_of(r);
    }
    ++stats_.packets_in;
    append(std::min(static_cast<std::size_t>(r), max_input_frames_));
    return status::ok;
}

status transcoder::push_lost(std::span<const std::uint8_t> next_payload, std::size_t frames) noexcept {
    if (frames == 0 || frames > max_input_frames_) return status::invalid_argument;
    const interleaved_view<float> pcm(decoded_.data(), frames, in_format_.channels);
    if (!next_payload.empty()) {
        const std::ptrdiff_t r = decoder_->decode_fec(next_payload, pcm);
        if (r > 0) {
            ++stats_.packets_lost;
            stats_.frames_recovered += static_cast<std::uint64_t>(r);
            append(std::min(static_cast<std::size_t>(r), frames));
            return status::ok;
        }
        // unsupported (no redundancy) or a bad next payload: conceal instead;
        // the next push() reports a bad payload.
    }
    const std::ptrdiff_t r = decoder_->conceal(pcm);
    if (r < 0) return status_of(r);
    ++stats_.packets_lost;
    stats_.frames_concealed += static_cast<std::uint64_t>(r);
    append(std::min(static_cast<std::size_t>(r), frames));
    return status::ok;
}

transcoder_output transcoder::pull(std::span<std::uint8_t> out) noexcept {
    transcoder_output o;
    if (fifo_count_ < out_frame_samples_) return o;
    const std::size_t ch = out_format_.channels;
    const std::ptrdiff_t r = encoder_->encode(
        interleaved_view<const float>(fifo_.data() + fifo_head_ * ch, out_frame_samples_, ch), out);
    if (r < 0) {
        ++stats_.encode_errors;
        o.result = status_of(r);
        if (o.result == status::buffer_too_small) return o;  // keep the audio for a retry
    }
    fifo_head_ += out_frame_samples_;
    fifo_count_ -= out_frame_samples_;
    if (fifo_count_ == 0) fifo_head_ = 0;
    if (r < 0) return o;
    if (r == 0) {
        ++stats_.dtx_frames;
        o.dtx = true;
        return o;
    }
    ++stats_.packets_out;
    o.bytes = static_cast<std::size_t>(r);
    return o;
}

void transcoder::reset() noexcept {
    decoder_->reset();
    encoder_->reset();
    if (resampler_) resampler_->reset();
    fifo_head_ = 0;
    fifo_count_ = 0;
}

std::size_t transcoder::input_frames_for_rtp_ticks(std::uint32_t ticks) const noexcept {
    if (in_clock_rate_hz_ == 0) return 0;
    return static_cast<std::size_t>(std::uint64_t{ticks} * in_format_.sample_rate_hz / in_clock_rate_hz_);
}

std::size_t transcoder::recommended_payload_bytes() const noexcept {
    return std::max(opus_max_payload_bytes, out_frame_samples_ * out_format_.channels * 2);
}

TUTTI_END_NAMESPACE
