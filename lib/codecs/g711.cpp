// G.711 companding tables and the PCMU/PCMA encoder and decoder objects.
//
// Flow position: jitter buffer -> G.711 decoder (+ Appendix I PLC) -> resampler
// -> mixer -> resampler -> G.711 encoder -> packetizer.
//
// The tables are built at compile time from the segment formulas of G.711
// (Tables 1a/2a: 8 segments of 16 intervals, each segment's step double the
// previous one, the decoder output in the middle of each interval):
//  - µ-law works on 14-bit magnitudes. Adding the bias 33 (0x84 at 16 bits)
//    makes every segment boundary a power of two, so the segment is the
//    position of the highest set bit and the 4 interval bits follow it. The
//    transmitted byte is the complement of sign|segment|interval (sign 0 = +).
//  - A-law works on 13-bit magnitudes (12 bits + sign): segments 0 and 1 share
//    the finest step, then each doubles. The transmitted byte has its even bits
//    inverted (XOR 0x55) and sign bit 1 = +.
#include "tutti/codecs/g711.hpp"

#include <algorithm>
#include <cmath>
#include <array>
#include <type_traits>

#include "tutti/detail/g711_plc.hpp"
#include "tutti/kernels.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

// 7-bit segment|interval code of a 14-bit µ-law magnitude (0..8191).
constexpr std::uint8_t mu_law_code7(int magnitude) {
    constexpr int clip = 8158;  // 8158 + 33 = 8191: the top of segment 7
    int biased = std::min(magnitude, clip) + 33;
    int segment = 0;
    while ((biased >> (segment + 6)) != 0) ++segment;  // biased is in [32 << segment, 64 << segment)
    const int interval = (biased >> (segment + 1)) & 0x0F;
    return static_cast<std::uint8_t>((segment << 4) | interval);
}

// 7-bit segment|interval code of a 13-bit A-law magnitude (0..4095).
constexpr std::uint8_t a_law_code7(int magnitude) {
    if (magnitude < 32) return static_cast<std::uint8_t>(magnitude >> 1);  // segment 0, step 2
    int segment = 1;
    while ((magnitude >> (segment + 5)) != 0) ++segment;  // magnitude is in [16 << segment, 32 << segment)
    const int interval = (magnitude >> segment) & 0x0F;
    return static_cast<std::uint8_t>((segment << 4) | interval);
}

constexpr std::int16_t mu_law_value(std::uint8_t code) {
    const int c = ~code & 0xFF;
    const int segment = (c >> 4) & 0x07;
    const int interval = c & 0x0F;
    const int magnitude = (((interval << 3) + 0x84) << segment) - 0x84;
    return static_cast<std::int16_t>((c & 0x80) != 0 ? -magnitude : magnitude);
}

constexpr std::int16_t a_law_value(std::uint8_t code) {
    const int c = code ^ 0x55;
    const int segment = (c >> 4) & 0x07;
    const int interval = c & 0x0F;
    const int magnitude = segment == 0 ? (interval << 4) + 8 : ((interval << 4) + 0x108) << (segment - 1);
    return static_cast<std::int16_t>((c & 0x80) != 0 ? magnitude : -magnitude);
}

// Index: 14-bit magnitude (µ-law) / 13-bit magnitude (A-law). 12 KiB together.
constexpr auto mu_law_encode_table = [] {
    std::array<std::uint8_t, 8192> t{};
    for (int m = 0; m < 8192; ++m) t[static_cast<std::size_t>(m)] = mu_law_code7(m);
    return t;
}();
constexpr auto a_law_encode_table = [] {
    std::array<std::uint8_t, 4096> t{};
    for (int m = 0; m < 4096; ++m) t[static_cast<std::size_t>(m)] = a_law_code7(m);
    return t;
}();

template <class T, class F>
constexpr std::array<T, 256> decode_table(F value_of) {
    std::array<T, 256> t{};
    for (int c = 0; c < 256; ++c) {
        const std::int16_t v = value_of(static_cast<std::uint8_t>(c));
        if constexpr (std::is_same_v<T, float>) {
            t[static_cast<std::size_t>(c)] = static_cast<float>(v) / 32768.0f;
        } else {
            t[static_cast<std::size_t>(c)] = v;
        }
    }
    return t;
}
constexpr auto mu_law_s16 = decode_table<std::int16_t>(mu_law_value);
constexpr auto a_law_s16 = decode_table<std::int16_t>(a_law_value);
constexpr auto mu_law_float = decode_table<float>(mu_law_value);
constexpr auto a_law_float = decode_table<float>(a_law_value);

static_assert(mu_law_value(0xFF) == 0 && mu_law_value(0x7F) == 0 && mu_law_value(0x80) == 32124 &&
              mu_law_value(0x00) == -32124);
static_assert(a_law_value(0xD5) == 8 && a_law_value(0x55) == -8 && a_law_value(0xAA) == 32256 &&
              a_law_value(0x2A) == -32256);

// One's complement magnitude: -1 -> 0, -32768 -> 32767, as the G.191 reference
// reduces 16-bit two's complement to G.711's sign-magnitude.
constexpr int magnitude_of(std::int16_t x) noexcept { return x >= 0 ? x : ~x; }

inline std::uint8_t encode_mu(std::int16_t x) noexcept {
    const std::uint8_t c7 = mu_law_encode_table[static_cast<std::size_t>(magnitude_of(x) >> 2)];
    return static_cast<std::uint8_t>((x >= 0 ? 0xFF : 0x7F) ^ c7);
}
inline std::uint8_t encode_a(std::int16_t x) noexcept {
    const std::uint8_t c7 = a_law_encode_table[static_cast<std::size_t>(magnitude_of(x) >> 3)];
    return static_cast<std::uint8_t>((x >= 0 ? 0x80 : 0x00) | c7) ^ 0x55;
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
    return law == g711_law::a_law ? a_law_s16[code] : mu_law_s16[code];
}

void g711_encode(g711_law law, const std::int16_t* src, std::uint8_t* dst, std::size_t n) noexcept {
    if (law == g711_law::a_law) {
        for (std::size_t i = 0; i < n; ++i) dst[i] = encode_a(src[i]);
    } else {
        for (std::size_t i = 0; i < n; ++i) dst[i] = encode_mu(src[i]);
    }
}

void g711_encode(g711_law law, const float* src, std::uint8_t* dst, std::size_t n) noexcept {
    // Through int16 in cache-sized chunks so the rounding and saturation are
    // exactly the project's (float_to_s16), whatever SIMD level is active.
    constexpr std::size_t chunk = 256;
    std::int16_t s16[chunk];
    for (std::size_t done = 0; done < n;) {
        const std::size_t m = std::min(chunk, n - done);
        float_to_s16(src + done, s16, m);
        g711_encode(law, s16, dst + done, m);
        done += m;
    }
}

void g711_decode(g711_law law, const std::uint8_t* src, std::int16_t* dst, std::size_t n) noexcept {
    const auto& table = law == g711_law::a_law ? a_law_s16 : mu_law_s16;
    for (std::size_t i = 0; i < n; ++i) dst[i] = table[src[i]];
}

void g711_decode(g711_law law, const std::uint8_t* src, float* dst, std::size_t n) noexcept {
    const auto& table = law == g711_law::a_law ? a_law_float : mu_law_float;
    for (std::size_t i = 0; i < n; ++i) dst[i] = table[src[i]];
}

float g711_level_dbov(g711_law law, std::span<const std::uint8_t> payload) noexcept {
    if (payload.empty()) return -127.0f;
    // Squares of the decoded int16 values, summed exactly in integers (one
    // cycle per code, where a float sum waits four for the last addition:
    // this runs per packet of every silent G.711 participant).
    static constexpr auto squares = [](const auto& values) {  // code -> decoded value squared
        std::array<std::uint32_t, 256> t{};
        for (std::size_t c = 0; c < 256; ++c) {
            const int v = values[c];
            t[c] = static_cast<std::uint32_t>(v * v);
        }
        return t;
    };
    static constexpr auto mu_squares = squares(mu_law_s16), a_squares = squares(a_law_s16);
    const auto& table = law == g711_law::a_law ? a_squares : mu_squares;
    std::uint64_t sum = 0;  // < 2^31 per code: no overflow below 2^33 codes
    for (const std::uint8_t code : payload) sum += table[code];
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
