// RFC 3551 L16 encoder and decoder: big-endian int16 <-> float, plus the shared
// pitch-repetition PLC for lost packets.
//
// Flow position: jitter buffer -> L16 decoder -> resampler -> mixer ->
// resampler -> L16 encoder -> packetizer.
#include "tutti/codecs/l16.hpp"

#include <algorithm>

#include "tutti/detail/g711_plc.hpp"
#include "tutti/kernels.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

class l16_encoder final : public encoder {
public:
    explicit l16_encoder(const audio_format& format) noexcept : format_(format) {}

    audio_format format() const noexcept override { return format_; }

    std::ptrdiff_t encode(interleaved_view<const float> pcm, std::span<std::uint8_t> payload) noexcept override {
        if (pcm.channels() != format_.channels || pcm.frames() != format_.frame_samples()) {
            return as_count(status::invalid_argument);
        }
        const std::size_t samples = format_.frame_samples_all_channels();
        if (payload.size() < samples * 2) return as_count(status::buffer_too_small);
        l16_pack(pcm.data(), payload.data(), samples);
        return static_cast<std::ptrdiff_t>(samples * 2);
    }

    void reset() noexcept override {}  // L16 has no state

    status copy_state_from(const encoder& other) noexcept override {
        const auto* o = dynamic_cast<const l16_encoder*>(&other);
        return o && o->format_ == format_ ? status::ok : status::unsupported;  // nothing to copy
    }

private:
    audio_format format_;
};

class l16_decoder final : public decoder {
public:
    explicit l16_decoder(const audio_format& format) : format_(format), plc_(format.sample_rate_hz, format.channels) {}

    audio_format format() const noexcept override { return format_; }

    std::ptrdiff_t frames_in(std::span<const std::uint8_t> payload) const noexcept override {
        const std::size_t frame_bytes = std::size_t{2} * format_.channels;
        if (payload.empty() || payload.size() % frame_bytes != 0) return as_count(status::malformed);
        return static_cast<std::ptrdiff_t>(payload.size() / frame_bytes);
    }

    std::ptrdiff_t decode(std::span<const std::uint8_t> payload, interleaved_view<float> pcm) noexcept override {
        if (pcm.channels() != format_.channels) return as_count(status::invalid_argument);
        const std::ptrdiff_t frames = frames_in(payload);
        if (frames < 0) return frames;
        const auto n = static_cast<std::size_t>(frames);
        if (n > pcm.frames()) return as_count(status::buffer_too_small);
        l16_unpack(payload.data(), pcm.data(), n * format_.channels);
        plc_.receive(pcm.subview(0, n));
        return frames;
    }

    std::ptrdiff_t conceal(interleaved_view<float> pcm) noexcept override {
        if (pcm.channels() != format_.channels) return as_count(status::invalid_argument);
        plc_.conceal(pcm);
        return static_cast<std::ptrdiff_t>(pcm.frames());
    }

    void reset() noexcept override { plc_.reset(); }

private:
    audio_format format_;
    detail::g711_plc plc_;
};

}  // namespace

void l16_pack(const float* src, std::uint8_t* dst, std::size_t n) noexcept {
    constexpr std::size_t chunk = 256;
    std::int16_t s16[chunk];
    for (std::size_t done = 0; done < n;) {
        const std::size_t m = std::min(chunk, n - done);
        float_to_s16(src + done, s16, m);
        for (std::size_t i = 0; i < m; ++i) {
            const auto u = static_cast<std::uint16_t>(s16[i]);
            dst[2 * (done + i)] = static_cast<std::uint8_t>(u >> 8);
            dst[2 * (done + i) + 1] = static_cast<std::uint8_t>(u & 0xFF);
        }
        done += m;
    }
}

void l16_unpack(const std::uint8_t* src, float* dst, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        const auto u = static_cast<std::uint16_t>((src[2 * i] << 8) | src[2 * i + 1]);
        dst[i] = static_cast<float>(static_cast<std::int16_t>(u)) * (1.0f / 32768.0f);
    }
}

std::unique_ptr<encoder> make_l16_encoder(const audio_format& format) {
    if (!format.valid()) return nullptr;
    return std::make_unique<l16_encoder>(format);
}

std::unique_ptr<decoder> make_l16_decoder(const audio_format& format) {
    if (!format.valid()) return nullptr;
    return std::make_unique<l16_decoder>(format);
}

TUTTI_END_NAMESPACE
