// The PCMU/PCMA encoder and decoder objects, and the batch conversions.
//
// Flow position: jitter buffer -> G.711 decoder (+ Appendix I PLC) -> resampler
// -> mixer -> resampler -> G.711 encoder -> packetizer.
//
// The companding tables (g711_tables.hpp) serve the per-sample functions; the
// batch conversions and the level go through the dispatched kernels
// (tutti/kernels.hpp), whose SIMD bodies give the same results bit for bit.
#include "tutti/codecs/g711.hpp"

#include <algorithm>
#include <cmath>

#include "g711_tables.hpp"
#include "tutti/detail/g711_plc.hpp"
#include "tutti/kernels.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

using detail::g711::encode_a;
using detail::g711::encode_mu;

const g711_kernels& kernels_of(g711_law law) noexcept {
    const kernel_table& k = active_kernels();
    return law == g711_law::a_law ? k.a_law : k.mu_law;
}

static_assert(g711_frame_us_valid(125) && g711_frame_us_valid(20000) && g711_frame_us_valid(120000) &&
              !g711_frame_us_valid(0) && !g711_frame_us_valid(100) && !g711_frame_us_valid(120125));

constexpr bool law_valid(g711_law law) noexcept { return law == g711_law::mu_law || law == g711_law::a_law; }

class g711_encoder final : public encoder {
public:
    g711_encoder(g711_law law, std::uint32_t frame_us) noexcept
        : law_(law), format_{g711_sample_rate_hz, 1, frame_us} {}

    audio_format format() const noexcept override { return format_; }

    std::ptrdiff_t encode(interleaved_view<const float> pcm, std::span<std::uint8_t> payload) noexcept override {
        const std::size_t n = format_.frame_samples();
        if (pcm.channels() != 1 || pcm.frames() != n) return as_count(status::invalid_argument);
        if (payload.size() < n) return as_count(status::buffer_too_small);
        g711_encode(law_, pcm.data(), payload.data(), n);
        return static_cast<std::ptrdiff_t>(n);
    }

    void reset() noexcept override {}  // G.711 has no state

    status copy_state_from(const encoder& other) noexcept override {
        const auto* o = dynamic_cast<const g711_encoder*>(&other);
        return o && o->law_ == law_ && o->format_ == format_ ? status::ok : status::unsupported;  // nothing to copy
    }

private:
    g711_law law_;
    audio_format format_;
};

class g711_decoder final : public decoder {
public:
    g711_decoder(g711_law law, std::uint32_t frame_us)
        : law_(law), format_{g711_sample_rate_hz, 1, frame_us}, plc_(g711_sample_rate_hz, 1) {}

    audio_format format() const noexcept override { return format_; }

    std::ptrdiff_t frames_in(std::span<const std::uint8_t> payload) const noexcept override {
        if (payload.empty()) return as_count(status::malformed);
        return static_cast<std::ptrdiff_t>(payload.size());
    }

    std::ptrdiff_t decode(std::span<const std::uint8_t> payload, interleaved_view<float> pcm) noexcept override {
        if (pcm.channels() != 1) return as_count(status::invalid_argument);
        if (payload.empty()) return as_count(status::malformed);
        const std::size_t n = payload.size();
        if (n > pcm.frames()) return as_count(status::buffer_too_small);
        g711_decode(law_, payload.data(), pcm.data(), n);
        plc_.receive(pcm.subview(0, n));
        return static_cast<std::ptrdiff_t>(n);
    }

    std::ptrdiff_t conceal(interleaved_view<float> pcm) noexcept override {
        if (pcm.channels() != 1) return as_count(status::invalid_argument);
        plc_.conceal(pcm);
        return static_cast<std::ptrdiff_t>(pcm.frames());
    }

    void reset() noexcept override { plc_.reset(); }

private:
    g711_law law_;
    audio_format format_;
    detail::g711_plc plc_;
};

}  // namespace

std::uint8_t g711_encode_sample(g711_law law, std::int16_t sample) noexcept {
    return law == g711_law::a_law ? encode_a(sample) : encode_mu(sample);
}

std::int16_t g711_decode_sample(g711_law law, std::uint8_t code) noexcept {
    return law == g711_law::a_law ? detail::g711::a_law_s16[code] : detail::g711::mu_law_s16[code];
}

void g711_encode(g711_law law, const std::int16_t* src, std::uint8_t* dst, std::size_t n) noexcept {
    kernels_of(law).encode_s16(src, dst, n);
}

void g711_encode(g711_law law, const float* src, std::uint8_t* dst, std::size_t n) noexcept {
    kernels_of(law).encode(src, dst, n);
}

void g711_decode(g711_law law, const std::uint8_t* src, std::int16_t* dst, std::size_t n) noexcept {
    kernels_of(law).decode_s16(src, dst, n);
}

void g711_decode(g711_law law, const std::uint8_t* src, float* dst, std::size_t n) noexcept {
    kernels_of(law).decode(src, dst, n);
}

float g711_level_dbov(g711_law law, std::span<const std::uint8_t> payload) noexcept {
    if (payload.empty()) return -127.0f;
    // Squares of the decoded int16 values, summed exactly in integers, so every
    // SIMD level gives the same level (this runs per packet of every silent
    // G.711 participant).
    const std::uint64_t sum = kernels_of(law).sum_squares(payload.data(), payload.size());
    const std::size_t n = payload.size();
    const float mean = static_cast<float>(static_cast<double>(sum) / (1073741824.0 * static_cast<double>(n)));  // (value / 32768)^2
    return mean > 0.0f ? std::clamp(10.0f * std::log10(mean), -127.0f, 0.0f) : -127.0f;  // as measure_level()
}

std::unique_ptr<encoder> make_g711_encoder(g711_law law, std::uint32_t frame_us) {
    if (!law_valid(law) || !g711_frame_us_valid(frame_us)) return nullptr;
    return std::make_unique<g711_encoder>(law, frame_us);
}

std::unique_ptr<decoder> make_g711_decoder(g711_law law, std::uint32_t frame_us) {
    if (!law_valid(law) || !g711_frame_us_valid(frame_us)) return nullptr;
    return std::make_unique<g711_decoder>(law, frame_us);
}

TUTTI_END_NAMESPACE
