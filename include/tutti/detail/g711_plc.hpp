// tutti/detail/g711_plc.hpp: packet-loss concealment by pitch repetition, after ITU-T G.711 Appendix I.
//
// Flow position: inside decoders that have no concealment of their own (G.711,
// L16): payload -> decode -> **plc.receive()** -> mixer, and for a lost packet
// **plc.conceal()** -> mixer. Written from the algorithm description in
// G.711 Appendix I; durations are kept and scaled to any sample rate:
//  - history: the last 48.75 ms of output (3 longest pitch periods + 1/4);
//  - at the first lost sample, the pitch period P (5..15 ms) is the lag that
//    maximises the normalised cross-correlation of the last 20 ms with the
//    history, searched on a 4 kHz grid first (2:1 at 8 kHz) and then refined
//    to one sample;
//  - the last P samples are repeated; after 10 ms of loss the last 2 periods,
//    after 20 ms the last 3 (each change cross-faded over P/4 samples), so the
//    repetition does not sound like a buzz; every loop end is cross-faded with
//    the P/4 samples before the loop start, so the wrap is seamless;
//  - from 10 ms on the output fades linearly by 20 % per 10 ms: silence, exactly
//    0.0f, from 60 ms on;
//  - the first good frame after a loss is cross-faded with the continuing
//    concealment over P/4 + 4 ms per extra 10 ms of loss (at most 10 ms).
// One deliberate difference: Appendix I delays all output by 3.75 ms so it can
// cross-fade into the start of a loss. tutti decoders have no algorithmic delay
// (codec.hpp has no way to report one), so the start of a loss is instead
// smoothed by shifting the repeated period by the offset between the last real
// sample and the sample before the loop start, fading that offset out over P/4
// samples: the concealment starts where the signal stopped, with its slope.
//
// Multi-channel audio is concealed with one pitch period for all channels (found
// on the channel sum) so that the stereo image stays put.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tutti/buffer.hpp"
#include "tutti/config.hpp"

TUTTI_BEGIN_NAMESPACE
namespace detail {

/// Pitch-repetition concealment for one stream. Owns all its memory, sized at
/// construction; receive(), conceal() and reset() never allocate.
/// [one thread at a time]
class g711_plc {
public:
    /// An empty object; assign a constructed one before use.
    g711_plc() noexcept = default;
    /// Allocates ≈ 3 × 48.75 ms of float samples per channel.
    /// Requires 8000 <= sample_rate_hz <= 384000 and 1 <= channels <= 8 (checked by the decoder factories).
    /// Throws std::bad_alloc. Not in the tick. [control-thread]
    g711_plc(std::uint32_t sample_rate_hz, std::uint16_t channels);

    g711_plc(g711_plc&&) noexcept = default;
    g711_plc& operator=(g711_plc&&) noexcept = default;

    /// Passes a decoded frame through, in place: when it follows concealment, its
    /// start is cross-faded with the continuing concealment; then it is recorded
    /// as history. pcm.channels() must equal channels(); any frame count.
    void receive(interleaved_view<float> pcm) noexcept;

    /// Writes concealment for all of pcm (pcm.channels() == channels(); any frame
    /// count; consecutive calls continue the same loss). Output stays in [-1, 1].
    void conceal(interleaved_view<float> pcm) noexcept;

    /// Forgets history and any loss in progress.
    void reset() noexcept;

    /// Pitch period of the current or last loss, in samples per channel (0 before the first loss).
    std::size_t pitch_period() const noexcept { return period_; }
    /// Samples per channel concealed in the current loss (0 when not in a loss).
    std::size_t lost_samples() const noexcept { return lost_; }
    std::uint32_t sample_rate_hz() const noexcept { return rate_; }
    std::uint16_t channels() const noexcept { return channels_; }

private:
    void begin_loss() noexcept;
    std::size_t find_pitch() noexcept;
    float loop_sample(std::size_t channel, std::size_t periods, std::size_t phase) const noexcept;
    // Writes one frame of concealment (all channels) at out[0..channels) and advances the state.
    void synthesize(float* out) noexcept;
    void push_history(const float* interleaved, std::size_t frames) noexcept;

    std::uint32_t rate_ = 0;
    std::uint16_t channels_ = 0;
    // Durations in samples per channel at rate_.
    std::size_t history_len_ = 0;  // 3 * max_period_ + max_period_ / 4
    std::size_t min_period_ = 0;   // 5 ms
    std::size_t max_period_ = 0;   // 15 ms
    std::size_t corr_len_ = 0;     // 20 ms
    std::size_t ten_ms_ = 0;
    std::size_t four_ms_ = 0;
    std::size_t coarse_step_ = 1;  // decimation of the first pitch search (4 kHz grid)

    aligned_buffer<float> history_;  // planar rings: channel c at [c * history_len_, (c + 1) * history_len_)
    std::size_t history_pos_ = 0;    // oldest sample of each ring (where the next one goes)
    aligned_buffer<float> frozen_;   // history_ in order, taken when a loss starts; find_pitch and the loops read it
    aligned_buffer<float> tails_;    // per channel, per period count 1..3: the P/4 cross-faded loop ends
    aligned_buffer<float> offsets_;  // per channel: start-of-loss offset being faded out
    aligned_buffer<float> mono_;     // channel sum for the pitch search (channels > 1)

    // Loss state
    std::size_t period_ = 0;      // P
    std::size_t overlap_ = 0;     // P / 4
    std::size_t lost_ = 0;        // samples concealed in this loss
    std::size_t periods_ = 1;     // periods in the loop now (1..3)
    std::size_t phase_ = 0;       // position in the loop, < periods_ * period_
    std::size_t old_periods_ = 0; // loop being faded out after a change of periods_
    std::size_t old_phase_ = 0;
    std::size_t switch_pos_ = 0;  // samples since the last change of periods_ (fade while < overlap_)
    bool in_loss_ = false;
    // Recovery: cross-fade of good frames with the continuing concealment.
    std::size_t recover_len_ = 0;
    std::size_t recover_pos_ = 0;
};

}  // namespace detail
TUTTI_END_NAMESPACE
