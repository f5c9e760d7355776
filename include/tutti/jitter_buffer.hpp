// tutti/jitter_buffer.hpp: RTP packets in, one frame of audio per tick out.
//
// Flow position: RTP in -> **jitter buffer (with decoder, PLC, FEC, time
// stretching)** -> resampler -> mixer. Packets arrive late, early, twice, out
// of order or never, and the sender's clock runs at its own speed; the jitter
// buffer turns that into exactly one frame per tick with as little delay and
// as few audible gaps as it can. Like WebRTC's NetEq it owns the decoding step
// (it holds a reference to the participant's decoder), because concealment,
// FEC recovery and delay changes all happen on decoded audio.
//
// The algorithm (constants live in jitter_buffer_config):
//   * Delay is measured, not guessed: every packet's arrival offset
//     a = arrival_time - timestamp/clock is compared with the smallest offset
//     seen in the last `reference_window_ms` (the "fastest" recent packet).
//     A packet that would lower that reference by more than 2 ms at once
//     does so only together with the next packet, when that is its
//     successor and as early (a shorter route, a lucky pair): a lone copy
//     with a forged timestamp seconds ahead would otherwise make every real
//     packet read seconds late for the whole window.
//     When a packet is decoded at the tick that needs it, or arrives after
//     its time was concealed, its lateness (its offset above that reference)
//     goes into a histogram (0.25 ms buckets) with exponential forgetting
//     (NetEq's DelayManager idea). When the reference rises by 10 ms or more
//     at once while packets have kept coming for a second or more (the
//     fastest packet of a shorter path left the window: a route change made
//     the path longer 2 s ago), the history moves down with it. Its lateness
//     was measured against the old reference and holds the step itself; kept
//     as it was, the target would hold the step a second time, on top of the
//     new reference, for the seconds the history takes to forget it
//     (stretching it in, then accelerating it out). Smaller rises (the
//     minimum's wander, a slow sender's clock) and those after a pause (an
//     outage, DTX: the window holds a few packets) leave it as it is.
//   * The target is on the tick grid. get() takes in what has arrived by
//     each tick, so a packet is in time at playout delay D exactly when it
//     arrived by the tick that plays its first sample: the delays that count
//     lie on a grid one tick apart, whose phase is where the packet's media
//     time falls against the ticks. The target is the `quantile` of recent
//     lateness (the largest lateness recently seen in that bucket: exact, not
//     the bucket's edge) rounded up to that grid for the packet played next,
//     and for the packets after it until their phase against the ticks
//     repeats (lcm(packet, tick): 10 ms packets on 20 ms ticks have two
//     phases, 30 ms packets too), so that one steady delay serves them all;
//     clamped to [min_delay_ms, max_delay_ms]. Any delay above that grid
//     point is waste: no packet is more likely to be in time short of the
//     next one. Rounding when the target is used, not when a packet is
//     observed, matters when the sender's clock drifts: the packets' phase
//     against the ticks then turns (a whole tick per 20 s at 1000 ppm), and
//     needs rounded in older phases would hold the target up to the
//     quantile's memory of drift (several ms) above the grid point. Under
//     drift the delay therefore sweeps one tick per turn, as it must for any
//     receiver that plays on a tick grid; because the reference is the
//     minimum over a sliding window, a sender clock that runs fast or slow
//     only moves the reference: drift never grows or starves the buffer.
//     Playout starts once the first packet has waited `initial_delay_ms`
//     (default 0, as SpeexDSP and NetEq start), and, for packets off the tick
//     grid, the delay at which the next packets of every phase would be in
//     by their ticks if they came as the first did (playout then starts
//     inside a tick, after that much silence); the delay is not changed until
//     ten packets have been observed.
//   * The current playout delay D is known exactly at every tick (the media
//     time being played vs. the reference). When D is above the target by more
//     than the hysteresis the buffer accelerates (removes one pitch period of
//     decoded speech, WSOLA style), when below it stretches; during silence
//     (DTX gaps, between talkspurts) it simply shortens or lengthens the
//     silence, which costs nothing audible; a decoded frame of near silence
//     (below -55 dBov) is cut to the sample, without the hysteresis, down to
//     the target, and a residual inside the hysteresis (less than a pitch
//     period, which speech splices cannot take) is cut exactly at the next
//     quiet frame (below -40 dBov, where the stretcher splices without
//     periodicity), not left until the next pause. Far above target (a delay
//     spike drained) up to three splices are made per packet, like NetEq's
//     fast accelerate, and the drain goes on until the delay is back at the
//     target (within 0.5 ms, and never below it: a pitch period that does not
//     fit is not taken, a quiet segment is cut by exactly what is left), not
//     only into the hysteresis band; inside the band it stops at the first
//     splice that does not fit (the rest goes in the next quiet frame or
//     pause). It never drops or inserts whole frames in the middle of speech.
//   * A missing packet at its playout time is recovered from the next packet's
//     in-band FEC when that packet is already here (Opus LBRR), otherwise the
//     decoder's PLC conceals it; after `max_conceal_ms` of consecutive loss the
//     output fades to silence, and the first packet after the outage restarts
//     playout cleanly. A packet that arrives after its time began to be
//     concealed is played if it is at most `max_rewind_ms` late (the delay
//     grows by what was concealed, as after NetEq's expand and merge, and the
//     drain takes it back), or later if the target expects that lateness; a
//     later one is counted late and dropped. Dropped packets that came spaced
//     like the stream (not bunched, as after a spike) still count as lateness
//     observations: after a lasting step up in the network's delay (a route
//     change) the target learns the new delay from them within a few packets,
//     and the stream is followed instead of dropped until the reference moves.
//   * Sequence numbers and timestamps are unwrapped to 64 bits; an SSRC change
//     restarts the stream. A packet that jumps — a timestamp jump larger than
//     `resync_threshold_ms`, more than `capacity_packets` ahead of playout (a
//     long outage), or more than 100 behind it while playing (the sender's
//     numbers went back) — is dropped, and when the next packet follows it the
//     stream restarts there (RFC 3550 A.1's rule): one forged or stray packet
//     never moves playout. A media clock found ahead of the stream (a negative
//     delay, after a packet with a wild timestamp was played) restarts playout
//     at the next packet instead of dropping every later one as late. A
//     restart behind playout also forgets the delay statistics (what was
//     played may have been forged); one ahead of it (an outage) keeps them.
//   * Floods: copies forged under the stream's SSRC, numbers and timestamps
//     anywhere near its own, arrive nearly all out of order, where a real
//     stream is out of order for a little loss, reordering and duplication.
//     Packets that do not follow the one inserted before fill a leaky bucket
//     that drains at twice the stream's packet rate; at 20 it is a flood, and
//     60 ms after the last such packet the flood is over: every packet that
//     came up to then is dropped (counted overflow) with the delay statistics
//     (a copy with a timestamp seconds ahead is the fastest packet there is,
//     and against it the real stream reads seconds late), and playout starts
//     again at what came after (counted as a resync).
//     A packet whose playout would start with a pause (its timestamp ahead of
//     the media clock) while a later-numbered packet is held that continues
//     the stream exactly with an earlier timestamp is forged or wild: it is
//     dropped (late) and its frames concealed as a loss, not waited for.
//     A timestamp gap with consecutive sequence numbers is DTX, not loss.
//
// Real-time rules: create() allocates every buffer; insert() and get() never
// allocate, lock, log or throw. One jitter buffer is used by one thread at a
// time (the tick thread, or the host's receive thread with its own locking).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "tutti/buffer.hpp"
#include "tutti/codec.hpp"
#include "tutti/config.hpp"
#include "tutti/detail/buffer_heap.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// Settings of one jitter buffer. Times in milliseconds unless named _us.
struct jitter_buffer_config {
    std::uint32_t rtp_clock_hz = 48000;   ///< RTP timestamp rate (8000 for G.722, 48000 for Opus)
    std::uint32_t tick_us = 20000;        ///< audio produced by each get() call
    std::uint32_t min_delay_ms = 0;       ///< target playout delay is never below this
    std::uint32_t max_delay_ms = 1000;    ///< ... nor above this
    std::uint32_t initial_delay_ms = 0;   ///< delay the first packet waits before playout starts (no statistics yet)
    float quantile = 0.95f;               ///< share of recent packets that must arrive in time (the target is this quantile of lateness, rounded up to the tick grid)
    float forget_factor = 0.985f;         ///< per packet weight of the delay history (~1/(1-f) packets)
    std::uint32_t reference_window_ms = 2000;  ///< how long the fastest packet stays the reference
    std::uint32_t hysteresis_ms = 5;      ///< delay above target tolerated before accelerating
    std::uint32_t max_rewind_ms = 60;     ///< a packet this late after an underrun is played (the delay grows); later ones only up to the target
    std::uint32_t max_conceal_ms = 100;   ///< then fade to silence
    std::uint32_t resync_threshold_ms = 10000;  ///< a timestamp jump larger than this restarts the stream
    /// Packets held at most, rounded up to a power of two. A packet more than
    /// this many sequence numbers ahead of playout is dropped
    /// (packets_overflow); when the next one follows it (after an outage this
    /// long) playout restarts there: what is held is dropped
    /// (packets_overflow), the gap counted lost (resyncs + 1).
    std::size_t capacity_packets = 128;
    std::size_t max_payload_bytes = 1500; ///< larger payloads are rejected
    int comfort_noise_payload_type = -1;  ///< RFC 3389 CN payload type (13 static), -1 if none
};

/// What insert() needs from an RTP header (see rtp.hpp for the parser).
struct rtp_packet_info {
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
    std::uint8_t payload_type = 0;
    bool marker = false;  ///< first packet of a talkspurt
};

/// Counters a host can read at any tick. [read on the thread that calls get()]
struct jitter_buffer_stats {
    std::uint64_t packets_received = 0;     ///< accepted by insert()
    std::uint64_t packets_duplicate = 0;    ///< same sequence number already held or played
    std::uint64_t packets_late = 0;         ///< arrived after their time was concealed, jumped back / in time unconfirmed, or forged (timestamp past the stream after it): dropped
    std::uint64_t packets_reordered = 0;    ///< arrived with a sequence below the highest seen
    std::uint64_t packets_rejected = 0;     ///< bad payload (empty, oversize, undecodable)
    std::uint64_t packets_overflow = 0;     ///< beyond capacity_packets ahead, or held when playout restarted or a flood ended: dropped
    std::uint64_t packets_lost = 0;         ///< never arrived in time (played as FEC or PLC)
    std::uint64_t packets_decoded = 0;
    std::uint64_t packets_not_decoded = 0;  ///< played out while decoding was off (set_decoding)
    std::uint64_t fec_recovered = 0;        ///< lost packets rebuilt from the next packet's FEC
    std::uint64_t concealed_samples = 0;    ///< PLC output, per channel
    std::uint64_t silence_samples = 0;      ///< silence/comfort noise output (DTX, start, long loss)
    std::uint64_t accelerate_samples = 0;   ///< removed by time-stretching speech
    std::uint64_t stretch_samples = 0;      ///< added by time-stretching speech
    std::uint64_t silence_skipped_samples = 0;   ///< silence shortened to reduce delay
    std::uint64_t silence_inserted_samples = 0;  ///< silence lengthened to build delay
    std::uint64_t resyncs = 0;              ///< restarts: SSRC change, confirmed jump, media clock ahead of the stream, end of a flood
    std::uint64_t ticks = 0;
    float current_delay_ms = 0;             ///< playout delay above the fastest recent packet, now
    float target_delay_ms = 0;              ///< where the controller steers it
    float jitter_ms = 0;                    ///< RFC 3550 interarrival jitter estimate
};

/// One stream's jitter buffer. Create with jitter_buffer::create.
class jitter_buffer final : public detail::heap_allocated<jitter_buffer> {
public:
    /// Allocates everything; `dec` must outlive the jitter buffer and is used
    /// only from insert()/get(). [control-thread]
    [[nodiscard]] static status create(const jitter_buffer_config& config, decoder& dec,
                                       std::unique_ptr<jitter_buffer>& out) noexcept;
    ~jitter_buffer();
    jitter_buffer(const jitter_buffer&) = delete;
    jitter_buffer& operator=(const jitter_buffer&) = delete;

    /// Hands in one received RTP packet's header fields and payload (copied),
    /// with its arrival time on the host's monotonic clock in microseconds (the
    /// same clock as get()'s now_us). Returns ok, or the reason it was not kept:
    /// malformed (empty or undecodable payload), buffer_too_small (payload over
    /// max_payload_bytes). Duplicates and late packets return ok and are
    /// counted. Never allocates.
    status insert(const rtp_packet_info& packet, std::span<const std::uint8_t> payload, std::int64_t arrival_us) noexcept;

    /// Produces exactly one tick of audio at the decoder's rate and channels
    /// into `out` (out.frames() must equal tick_frames()). `now_us` is the
    /// host's clock at this tick. Never allocates.
    status get(interleaved_view<float> out, std::int64_t now_us) noexcept;

    /// Off: get() keeps playing out on time — packets are consumed, losses,
    /// late packets, delay and all counters move as usual — but nothing is
    /// decoded and `out` is not written (packets_not_decoded counts them). For
    /// a conference participant known to be silent: a decode costs far more
    /// than the rest of get(). On again: the next packets are decoded (the
    /// decoder resumes from the state it had when decoding stopped). [get-thread]
    void set_decoding(bool on) noexcept;
    bool decoding() const noexcept;

    /// Hints that insert()/get() come soon. A host (or room) that runs
    /// thousands of buffers per tick is bound by memory latency; calling this a
    /// few buffers ahead overlaps their cache misses. Stage 0 loads the
    /// buffer's bookkeeping and reads nothing the buffer changes [any-thread];
    /// stage 1, called once that has had time to arrive (a few buffers later),
    /// the slots the next packets use, and reads the playout state
    /// [get-thread]. Optional, no effect on behaviour.
    void prefetch(unsigned stage) const noexcept;

    /// Frames (per channel) get() produces each call.
    std::size_t tick_frames() const noexcept;
    const jitter_buffer_stats& stats() const noexcept;
    const jitter_buffer_config& config() const noexcept;
    /// Drops every packet and the delay history, as for a new stream.
    void reset() noexcept;

    struct impl;

private:
    explicit jitter_buffer(std::unique_ptr<impl> p) noexcept;
    std::unique_ptr<impl> impl_;
};

TUTTI_END_NAMESPACE
