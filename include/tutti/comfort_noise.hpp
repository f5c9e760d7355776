// tutti/comfort_noise.hpp: RFC 3389 comfort noise payloads and a white-noise generator.
//
// Flow position: RTP in -> jitter buffer -> **CN payload** (instead of a
// decoder: the sender stopped sending speech and described the background
// instead) -> mixer. A CN payload is one byte of noise level in -dBov, then
// optional reflection coefficients of a spectral model (RFC 3389 §3). This
// header reads and writes the payload and offers a flat-spectrum generator
// for the level; shaping by the coefficients is not done here.
//
// Levels follow RFC 3389 / RFC 6464: 0 dBov is the level of a full-scale
// square wave, i.e. mean square 1.0 in the float mixing scale (as
// measure_level() in kernels.hpp reports it).
//
// Nothing here allocates, locks, logs or throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tutti/config.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// RTP static payload type of CN at 8 kHz (RFC 3551); other rates are dynamic.
inline constexpr std::uint8_t comfort_noise_static_payload_type = 13;
/// Lowest representable noise level, in -dBov.
inline constexpr std::uint8_t comfort_noise_max_level = 127;

/// A parsed CN payload. `reflection_coefficients` points into the payload.
struct comfort_noise_payload {
    std::uint8_t level = comfort_noise_max_level;             ///< noise level in -dBov, 0..127
    std::span<const std::uint8_t> reflection_coefficients;  ///< quantized coefficients, model order = size()

    /// Number of reflection coefficients (the model order; 0: level only, white noise).
    std::size_t coefficient_count() const noexcept { return reflection_coefficients.size(); }
};

/// Reads a CN payload. Returns ok; truncated (empty payload); malformed (the
/// level byte's top bit, which RFC 3389 §3 says is always 0, is set). `out`
/// is unchanged on error. [any-thread]
[[nodiscard]] status parse_comfort_noise(std::span<const std::uint8_t> payload, comfort_noise_payload& out) noexcept;

/// Writes a level-only CN payload (one byte). Returns 1, or invalid_argument
/// (level > 127), buffer_too_small. [any-thread]
[[nodiscard]] std::ptrdiff_t write_comfort_noise(std::uint8_t level, std::span<std::uint8_t> out) noexcept;

/// White noise at a given level from a 32-bit linear congruential generator:
/// uniform samples scaled so the mean square is 10^(-level/10). The peak is
/// sqrt(3) times the RMS, so above -4.8 dBov (level < 5) samples exceed 1.0;
/// real comfort noise sits far below that. Deterministic for a given seed.
/// [one thread at a time]
class comfort_noise_generator {
public:
    explicit comfort_noise_generator(std::uint32_t seed = 1) noexcept : state_(seed) {}

    /// Overwrites `out` with noise at `level` -dBov (127 or more: about -127 dBov).
    void fill(std::span<float> out, std::uint8_t level) noexcept;

    /// The generator's state, to restart a sequence.
    std::uint32_t state() const noexcept { return state_; }

private:
    std::uint32_t state_;
};

TUTTI_END_NAMESPACE
