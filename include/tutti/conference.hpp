// tutti/conference.hpp: the conference room a host creates per conference.
//
// Flow, per participant, every tick:
//   RTP in -> jitter buffer (+decoder, PLC, FEC) -> resampler -> input gain,
//   level, talk detection -> [loudest-N selection, gain ramps] -> room mix ->
//   mix-minus, "does not hear" -> output gain -> limiter -> resampler ->
//   encoder -> packetizer -> RTP out
// A PCM participant skips the codec and RTP stages: the host hands in decoded
// frames and takes mixed frames (as Asterisk does, whose core decodes).
//
// Threads. The host owns every thread:
//   * tick() is called once per tick interval by the host's own timer [tick-thread];
//   * control calls (join, leave, gains, mute, relations) may come from any
//     thread at any time; they allocate on the calling thread, serialise among
//     themselves, and reach the tick through a lock-free queue [control-thread];
//   * push_rtp/push_pcm (received media) and pull_rtp/pull_pcm (media to send)
//     go through per-participant single-producer/single-consumer rings: for a
//     given participant, one thread pushes and one thread pulls (they may be
//     the tick thread). A host must stop pushing/pulling a participant before
//     it calls leave() for it.
// The tick never allocates, locks, logs or throws once participants are set up.
//
// Mixing is mono at the room's mixing rate (fixed, or automatic: the highest
// rate any participant needs, like Asterisk's softmix); stereo inputs are
// averaged, stereo outputs carry the same mix on both channels.
//
// Prompts (announcements, music on hold) are PCM the host hands in once; the
// tick mixes them in after mix-minus and before the limiter, for the whole room
// or for one participant. The mix tap hands the host the room mix each tick
// (recording). Both are described at play_prompt() and enable_tap().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tutti/buffer.hpp"
#include "tutti/codec_registry.hpp"
#include "tutti/config.hpp"
#include "tutti/jitter_buffer.hpp"
#include "tutti/sdp.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// Identifies a participant in one room; never 0. A room reuses an id only after
/// (2^32 - 1) / max_participants further joins (42949 in the largest room).
using participant_id = std::uint32_t;

/// How a room encodes what its RTP listeners hear.
enum class encoding_mode : std::uint8_t {
    /// With K talkers mixed there are only K+1 distinct mixes: each talker's
    /// mix-minus, and the room mix everyone else hears. Listeners that hear the
    /// room mix and negotiated the same send format and codec_options share one
    /// encoder; each gets its payloads under its own RTP sequence numbers,
    /// timestamps and SSRC. A listener that starts talking (or gets its own
    /// gain, relation or prompt) moves to its own encoder, forked from the
    /// shared one (encoder::copy_state_from), so its receiver hears no seam; it
    /// moves back after hearing the plain mix for 200 ms. Codecs that cannot
    /// fork are never shared.
    shared,
    /// One encoder per listener, as Janus AudioBridge and FreeSWITCH do: for
    /// comparison, or for hosts that process each outgoing stream.
    per_participant,
};

class worker_pool;

/// Settings of a room. Levels in dBov (0 = full scale), times in ms unless _us.
struct room_config {
    std::uint32_t mixing_rate_hz = 0;       ///< 8000..48000, or 0: the highest rate any participant needs
    std::uint32_t tick_us = 20000;          ///< 10000, 20000 or 40000
    std::uint32_t max_participants = 64;    ///< slots allocated at creation
    std::uint32_t loudest_n = 3;            ///< talkers mixed at once (1..16)
    float talk_start_dbov = -40.0f;         ///< smoothed level that starts a talkspurt
    float talk_stop_dbov = -48.0f;          ///< ... and that ends it after the hang-over
    std::uint32_t talk_hangover_ms = 400;   ///< talk state holds this long below talk_stop_dbov
    float switch_margin_db = 3.0f;          ///< a talker replaces a mixed one only when this much louder ...
    std::uint32_t switch_hold_ms = 200;     ///< ... for this long (no flapping)
    std::uint32_t ramp_ms = 20;             ///< gain ramps when a talker enters or leaves the mix
    float limiter_threshold = 0.5f;         ///< see limiter_config
    float limiter_ceiling = 0.95f;
    std::uint32_t event_capacity = 1024;    ///< events held until poll_events()
    std::uint32_t max_relations = 8;        ///< "does not hear" entries per listener
    std::uint32_t max_prompts = 16;         ///< prompts playing or waiting to be freed at once (play_prompt refuses more)
    /// Only with audio_level_extension_id: a client's RFC 6464 level counts for
    /// this long after the packet that carried it arrived (see join_rtp).
    std::uint32_t client_level_hold_ms = 100;
    bool profile_stages = false;            ///< time each stage of the tick (room_stats::stage_ns); costs ~20 ns per stage and participant
    encoding_mode encoding = encoding_mode::shared;
    /// Do not decode an RTP participant that is not talking (nor ramping out
    /// of the mix) while its newest packet says it is quiet: comfort noise, an
    /// Opus DTX frame, or a level at or below talk_start_dbov (which could not
    /// start a talkspurt anyway, see join_rtp) — the client's RFC 6464 level
    /// when it sends one; otherwise, for G.711, the level of the packet read
    /// off its codes, and for Opus the sender's VAD flags (SILK and hybrid
    /// frames carry them; opus_payload_info::voice). Its jitter buffer
    /// still runs (timing, statistics, loss) without producing audio; decoding
    /// resumes with the first packet that is not quiet — while the jitter
    /// buffer still holds the packets before it, so the decoder warms up on them.
    bool skip_silent_decode = true;
    /// Threads for the per-participant work of a tick (decode, resample,
    /// encode, packetize); nullptr: all on the thread that calls tick(). The
    /// host owns the pool; rooms sharing one must be ticked from one thread.
    /// Output is bit-identical whatever the pool's size.
    worker_pool* workers = nullptr;
};

/// Stages of the tick, for room_stats::stage_ns.
enum class tick_stage : std::uint8_t { receive, jitter_decode, resample_in, mix, resample_out, encode, packetize, count };

/// RTP datagrams a participant may send per second, sustained (2.5 × Opus at
/// 2.5 ms frames, the fastest legitimate stream); bursts of up to
/// max_receive_burst_packets more pass (a delay spike draining). Beyond that
/// the tick drops them unread (participant_stats::packets_rate_limited).
inline constexpr std::uint32_t max_receive_packets_per_second = 1000;
inline constexpr std::uint32_t max_receive_burst_packets = 256;

/// An RTP participant: codecs from the SDP the host negotiated.
struct rtp_participant_config {
    sdp_format receive;                    ///< what the participant sends (decoded here)
    sdp_format send;                       ///< what it receives from us (encoded here)
    int telephone_event_payload_type = -1; ///< RFC 4733 payload type both ways, -1 if not negotiated
    std::uint32_t telephone_event_clock_hz = 8000;  ///< its rtpmap clock (WebRTC uses 48000 beside Opus)
    int comfort_noise_payload_type = -1;   ///< RFC 3389 CN payload type it may send, -1 if none
    std::uint8_t audio_level_extension_id = 0;  ///< RFC 6464 extension ID both ways, 0 if none
    std::uint32_t ssrc = 0;                ///< SSRC of the stream we send
    codec_options options;                 ///< encoder choices not in the SDP
    std::uint32_t jitter_min_delay_ms = 0;
    std::uint32_t jitter_max_delay_ms = 500;
};

/// A PCM participant: the host hands in and takes out one tick of int16 frames.
struct pcm_participant_config {
    std::uint32_t sample_rate_hz = 16000;
    std::uint16_t channels = 1;
};

class plugin_instance;  // tutti/plugin_host.hpp

/// Where room::attach_plugin puts a processor or tap.
enum class plugin_point : std::uint8_t {
    input,     ///< a participant's voice at the mixing rate, before input gain (processors) / after it (taps)
    output,    ///< what a participant hears, before its limiter (processors) / after it (taps)
    room_mix,  ///< the room mix as the mix tap sees it (taps only)
};
/// Processors or taps at one point of one participant (or of the room mix).
inline constexpr std::size_t max_plugins_per_point = 8;
/// Identifies an attached plugin instance in one room; never 0.
using attachment_id = std::uint32_t;

/// Identifies a prompt in one room; never 0, never reused by that room.
using prompt_id = std::uint32_t;
/// The play_prompt() target that means "everyone in the room".
inline constexpr participant_id whole_room = 0;

/// What poll_events() reports.
enum class room_event_kind : std::uint8_t { joined, left, talk_start, talk_stop, dtmf_begin, dtmf_end, prompt_done };

struct room_event {
    room_event_kind kind = room_event_kind::joined;
    participant_id participant = 0;  ///< prompt_done: the prompt's target (whole_room = 0)
    prompt_id prompt = 0;            ///< prompt_done: which prompt
    bool stopped = false;            ///< prompt_done: cut short (stop_prompt, or its target left), not played to the end
    char key = '\0';              ///< DTMF key ('0'-'9', '*', '#', 'A'-'D')
    std::uint32_t duration_ms = 0;  ///< DTMF end: how long the key was held
    float level_dbov = -127.0f;   ///< talk start: the level that started it
    std::uint64_t tick = 0;       ///< tick number when it happened
};

/// Counters of one participant. Read them between ticks on the tick thread.
struct participant_stats {
    float input_level_dbov = -127.0f;    ///< last tick, after input gain
    float output_level_dbov = -127.0f;   ///< last tick, what it was sent
    bool talking = false;
    bool mixed = false;                  ///< among the loudest-N this tick
    bool shared_encoder = false;         ///< its packets come from a shared encoder this tick
    std::uint64_t packets_shared = 0;    ///< packets sent with a shared encoder's payload
    std::uint64_t encoder_switches = 0;  ///< moves between its own encoder and the shared one
    std::uint64_t ticks_not_decoded = 0; ///< ticks its jitter buffer ran without decoding (skip_silent_decode)
    std::uint64_t talk_ticks = 0;        ///< ticks spent talking
    std::uint64_t times_selected = 0;    ///< times it entered the mix
    std::uint64_t packets_in = 0;        ///< RTP packets handed in by push_rtp
    std::uint64_t packets_rejected = 0;  ///< malformed RTP, RTCP, unknown payload type, empty or oversize datagrams
    std::uint64_t packets_in_overflow = 0;   ///< push_rtp/push_pcm refused: ring full
    /// RTP datagrams dropped unread because the participant sent more than
    /// max_receive_packets_per_second (a flood): the tick's work for one
    /// participant is bounded whatever it sends.
    std::uint64_t packets_rate_limited = 0;
    std::uint64_t packets_out = 0;       ///< packets/frames produced for pull_*
    std::uint64_t packets_out_overflow = 0;  ///< produced but dropped: the host did not pull
    std::uint64_t frames_encoded = 0;
    std::uint64_t dtmf_events = 0;       ///< DTMF keys begun (RFC 4733)
    std::uint64_t packets_with_level = 0;    ///< RTP audio packets that carried an RFC 6464 audio level
    float client_level_dbov = -127.0f;   ///< the level of the latest such packet (-127 when none yet)
    bool client_voice = false;           ///< ... and its V flag (recorded, not used: see join_rtp)
    float detection_level_dbov = -127.0f;  ///< the smoothed level talk detection and loudest-N ranking use
    jitter_buffer_stats jitter;          ///< RTP participants only (last: the tick writes the fields above, not these)
};

/// Counters of the room. Read them between ticks on the tick thread.
struct room_stats {
    std::uint64_t ticks = 0;
    /// tick() called more than 1.5 tick_us after the previous call (the host
    /// fell behind). Each call still produces exactly one tick of audio: the
    /// room's media clock is the tick count, now_us only times packets. The
    /// jitter buffers see the delay grow and shorten it again (time
    /// stretching, silence cut; a backlog beyond their window restarts playout).
    std::uint64_t late_ticks = 0;
    /// tick() called less than half a tick_us after the previous call, at the
    /// same time or earlier (the host ticked twice, or its clock stepped back).
    /// The tick runs as usual: one more tick of audio, which the jitter buffers
    /// take from their delay (or conceal).
    std::uint64_t early_ticks = 0;
    std::uint32_t participants = 0;
    std::uint32_t mixing_rate_hz = 0;
    std::uint32_t talkers_mixed = 0;     ///< last tick
    std::uint32_t encoders_run = 0;      ///< last tick: encoders that encoded audio (shared ones count once)
    std::uint32_t shared_encoders = 0;   ///< shared encoders in the room
    std::uint32_t listeners_shared = 0;  ///< last tick: RTP listeners sending a shared encoder's payloads
    std::uint32_t decoders_skipped = 0;  ///< last tick: RTP participants not decoded (skip_silent_decode)
    double tick_mean_us = 0;             ///< wall time spent in tick(), mean since creation
    double tick_max_us = 0;
    double tick_last_us = 0;
    std::uint64_t events_dropped = 0;    ///< event queue full
    std::uint64_t commands_dropped = 0;  ///< control queue full (the control call returned an error)
    std::uint32_t prompts_playing = 0;   ///< last tick
    std::uint64_t tap_frames = 0;        ///< frames handed to the tap ring
    std::uint64_t tap_dropped = 0;       ///< tap ticks dropped: the host did not pull
    /// Nanoseconds spent per tick_stage since creation (only with room_config::profile_stages).
    std::uint64_t stage_ns[static_cast<std::size_t>(tick_stage::count)] = {};
};

/// One conference. Create with room::create.
class room {
public:
    [[nodiscard]] static status create(const room_config& config, std::unique_ptr<room>& out,
                                       std::string* error = nullptr) noexcept;
    ~room();
    room(const room&) = delete;
    room& operator=(const room&) = delete;

    /// Codecs the room creates participants' encoders and decoders from.
    /// Register plugin codecs here before joining participants that use them. [control-thread]
    codec_registry& codecs() noexcept;

    /// Adds an RTP participant: builds its decoder, jitter buffer, encoder,
    /// resamplers and packetizer (allocates). It is mixed from the next tick.
    ///
    /// With audio_level_extension_id set, the RFC 6464 level of the most recent
    /// audio packet (for room_config::client_level_hold_ms after it arrived,
    /// plus the input gain) caps the decoded level: talk detection and the
    /// loudest-N ranking use min(decoded, client). A client whose voice
    /// processing (noise suppression, echo control) says "quiet" is thus
    /// believed, and one that sends level 127 (silence) while its audio is loud
    /// is treated as silent and not mixed; but a client cannot rank itself
    /// above what it really sends by claiming a high level. The V flag is not
    /// used (its meaning depends on the extmap "vad" attribute, which the SDP
    /// layer does not pass on); it is reported in participant_stats.
    /// [control-thread]
    [[nodiscard]] status join_rtp(const rtp_participant_config& config, participant_id& out, std::string* error = nullptr);
    /// Adds a PCM participant. [control-thread]
    [[nodiscard]] status join_pcm(const pcm_participant_config& config, participant_id& out, std::string* error = nullptr);
    /// Removes a participant (ramped out of the mix, freed later on a control
    /// thread). not_found for an unknown id. [control-thread]
    status leave(participant_id id);

    /// Linear gain on what the participant says (1 = unchanged). [control-thread]
    status set_input_gain(participant_id id, float gain);
    /// Linear gain on what the participant hears. [control-thread]
    status set_output_gain(participant_id id, float gain);
    /// A muted participant is heard by nobody. [control-thread]
    status set_muted(participant_id id, bool muted);
    /// A deaf participant hears nothing (and is not encoded for). [control-thread]
    status set_deaf(participant_id id, bool deaf);
    /// Whether `listener` hears `talker` (default true). Costs nothing while no
    /// relation is set. not_found if either is not in the room (for hears =
    /// false; hearing again one who left succeeds). A listener keeps at most
    /// room_config::max_relations "does not hear" entries (more are ignored);
    /// a talker's entries go when it leaves. [control-thread]
    status set_hears(participant_id listener, participant_id talker, bool hears);

    /// Plays `samples` (mono PCM at `rate_hz`, 8000..48000; copied) to
    /// `target`: whole_room (everyone hears it, talkers included) or one
    /// participant (only it hears it; a deaf participant still hears its own
    /// prompts, for music on hold). The prompt is added to what listeners hear
    /// after mix-minus and before their output gain and limiter, scaled by
    /// `gain` (linear). Prompts to the same target add up.
    ///
    /// Rates: the samples are kept at `rate_hz` (as float) and converted to the
    /// mixing rate in the tick by resamplers built here, one for each rate the
    /// room may mix at (one for a fixed rate, six for an automatic one). So a
    /// prompt follows a later change of the automatic mixing rate (the change
    /// loses at most one tick of it), and it costs 4 bytes a sample, not a copy
    /// per rate. Allocates on the calling thread; the tick only mixes.
    ///
    /// When it ends (or is stopped, or its target leaves), prompt_done is
    /// reported and its memory is freed by a later control call.
    /// Returns ok (with its id in `out`), not_found (unknown target),
    /// invalid_argument (empty, rate out of range, bad gain), out_of_memory
    /// (room_config::max_prompts are playing or not yet freed, or the control
    /// queue is full). [control-thread]
    [[nodiscard]] status play_prompt(participant_id target, std::span<const float> samples, std::uint32_t rate_hz,
                                     prompt_id& out, float gain = 1.0f);
    /// The same for int16 samples (x / 32768). [control-thread]
    [[nodiscard]] status play_prompt(participant_id target, std::span<const std::int16_t> samples, std::uint32_t rate_hz,
                                     prompt_id& out, float gain = 1.0f);
    /// Stops a prompt (faded out over one tick; prompt_done with stopped = true).
    /// not_found when it has already finished or was never played. [control-thread]
    status stop_prompt(prompt_id id);

    /// Starts or stops the mix tap: from the next tick, each tick's room mix
    /// (mono, float, at the mixing rate of that tick, room prompts included,
    /// after the shared limiter: what a listener who is not talking hears) goes
    /// into a ring of about 1 s at 48 kHz for pull_tap(). The first call
    /// allocates the ring. [control-thread]
    status enable_tap(bool enabled);
    /// Takes the oldest tick of the tap: frames written (tick_frames() at that
    /// tick's mixing rate, also stored in `rate_hz` when not null), 0 when none
    /// is waiting, or a negative status: buffer_too_small (that tick is dropped;
    /// `out` must hold a tick at 48 kHz to be safe with an automatic rate).
    /// Ticks the host does not pull in time are dropped (room_stats::tap_dropped).
    /// [one thread]
    std::ptrdiff_t pull_tap(std::span<float> out, std::uint32_t* rate_hz = nullptr) noexcept;

    /// Attaches a processor or tap instance (tutti/plugin_host.hpp): to
    /// participant `target` at plugin_point::input or output, or to the room
    /// mix (target whole_room, plugin_point::room_mix; taps only). Activates it
    /// (allocating) at the room's mixing rate for one tick of frames unless it
    /// is already active so; from the next tick the tick calls it under its
    /// plugin_guard. Instances at one point run in attachment order. The room
    /// keeps a reference until the instance is detached or its participant
    /// leaves; the tick never allocates or locks for it.
    /// Returns ok (its id in `out`), not_found (unknown target),
    /// invalid_argument (null instance, already attached, a processor at
    /// room_mix, a bad point), unsupported (the room has an automatic mixing
    /// rate: plugins need room_config::mixing_rate_hz), out_of_memory
    /// (max_plugins_per_point reached, control queue full), or the plugin's
    /// activation error, with a sentence in `*error`. [control-thread]
    [[nodiscard]] status attach_plugin(participant_id target, plugin_point where, std::shared_ptr<plugin_instance> instance,
                                       attachment_id& out, std::string* error = nullptr);
    /// Detaches it: the tick stops calling it from the next tick, and the
    /// room drops its reference in a later control call (the instance stays
    /// active; destroying it deactivates it). not_found for an unknown id or
    /// one already detached. [control-thread]
    status detach_plugin(attachment_id id);

    /// Hands in one received RTP (or RTCP, which is ignored) datagram with its
    /// arrival time on the host's monotonic clock (µs, same clock as tick()).
    /// Copies it into the participant's ring; returns not_found,
    /// invalid_argument (a PCM participant), buffer_too_small (ring full:
    /// counted) or ok. Never allocates. [one receive thread per participant]
    status push_rtp(participant_id id, std::span<const std::uint8_t> datagram, std::int64_t arrival_us) noexcept;
    /// Hands in one tick of the PCM participant's audio (its rate and channels). [one thread per participant]
    status push_pcm(participant_id id, interleaved_view<const std::int16_t> frame) noexcept;
    /// Takes the next RTP packet to send: its size in bytes, 0 when none is
    /// waiting, or a negative status. [one send thread per participant]
    std::ptrdiff_t pull_rtp(participant_id id, std::span<std::uint8_t> out) noexcept;
    /// Takes the next tick of mixed PCM: frames written, 0 when none is waiting,
    /// or a negative status. [one thread per participant]
    std::ptrdiff_t pull_pcm(participant_id id, interleaved_view<std::int16_t> frame) noexcept;

    /// Runs one tick: applies control changes, pulls in media, mixes, produces
    /// media out. `now_us` is the host's monotonic clock. [tick-thread]
    status tick(std::int64_t now_us) noexcept;

    /// Moves up to out.size() pending events into `out`; returns how many. [tick-thread]
    std::size_t poll_events(std::span<room_event> out) noexcept;

    /// The counters of a participant. [tick-thread, between ticks]
    status get_participant_stats(participant_id id, participant_stats& out) const noexcept;
    const room_stats& stats() const noexcept;
    const room_config& config() const noexcept;
    /// Frames per tick at the current mixing rate.
    std::size_t tick_frames() const noexcept;

    struct impl;

private:
    explicit room(std::unique_ptr<impl> p) noexcept;
    std::unique_ptr<impl> impl_;
};

TUTTI_END_NAMESPACE
