// The conference room: control plumbing, per-participant media paths and the
// tick. See include/tutti/conference.hpp for the flow and the thread rules.
#include "tutti/conference.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <type_traits>
#include <vector>

#include "tutti/codec.hpp"
#include "tutti/codecs/g711.hpp"
#include "tutti/codecs/opus.hpp"
#include "tutti/detail/cpu_relax.hpp"
#include "tutti/detail/mpmc_queue.hpp"
#include "tutti/detail/spsc_ring.hpp"
#include "tutti/kernels.hpp"
#include "tutti/limiter.hpp"
#include "tutti/plugin_host.hpp"
#include "tutti/resampler.hpp"
#include "tutti/rtp.hpp"
#include "tutti/rtp_packetizer.hpp"
#include "tutti/telephone_event.hpp"
#include "tutti/worker_pool.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

constexpr std::uint32_t mixing_rates[] = {8000, 12000, 16000, 24000, 32000, 48000};
constexpr std::size_t mixing_rate_count = sizeof(mixing_rates) / sizeof(mixing_rates[0]);
constexpr std::uint32_t max_mixing_rate = 48000;
constexpr std::size_t max_datagram = 1500;
constexpr std::size_t ring_bytes = std::size_t{32} * 1024;  // ~20 packets of 1500 bytes or ~300 ms of small ones
constexpr std::size_t tap_ring_bytes = std::size_t{256} * 1024;  // ~1.3 s of float mix at 48 kHz
constexpr std::size_t max_dtmf_per_tick = 8;        // DTMF notifications a participant can queue in one tick
// A listener that stopped talking goes back to its shared encoder after
// hearing the plain room mix this long: its own encoder, fed the same audio
// meanwhile, has converged on the shared one's state, so the seam is small.
constexpr std::uint32_t shared_rejoin_ms = 200;

std::uint32_t rate_index(std::uint32_t rate) {
    for (std::size_t i = 0; i < mixing_rate_count; ++i)
        if (mixing_rates[i] >= rate) return static_cast<std::uint32_t>(i);
    return mixing_rate_count - 1;
}

// Levels are smoothed in dB: fast attack so a talker is detected within a tick,
// slow release so the loudest-N ranking does not flap between syllables.
constexpr float level_release = 0.15f;

// Exactly out_frames of `in` converted by `rs` (a plain copy when the rates are
// equal); a resampler that returns a frame short leaves zeros, never garbage.
void resample_exact(resampler* rs, const float* in, std::size_t in_frames, float* out, std::size_t out_frames) noexcept {
    std::ptrdiff_t got = static_cast<std::ptrdiff_t>(out_frames);
    if (rs && !rs->passthrough())
        got = rs->process(interleaved_view<const float>(in, in_frames, 1), interleaved_view<float>(out, out_frames, 1));
    else
        std::memcpy(out, in, out_frames * sizeof(float));
    if (got < static_cast<std::ptrdiff_t>(out_frames))
        std::fill(out + std::max<std::ptrdiff_t>(got, 0), out + out_frames, 0.0f);
}

// An Opus payload that carries no voice: DTX (TOC only), or a single frame
// whose SILK VAD flags are all clear (a DTX comfort-noise update, noise or
// silence between words). CELT-only and multi-frame payloads say nothing.
bool opus_unvoiced(std::span<const std::uint8_t> payload) noexcept {
    if (payload.size() <= 2) return true;
    opus_payload_info info;
    return parse_opus_payload(payload, info) == status::ok && info.frame_count == 1 && info.voice == opus_voice::inactive;
}

// The same mono sample on every channel of an interleaved frame.
void upmix(const float* mono, std::size_t frames, std::size_t channels, float* out) noexcept {
    for (std::size_t i = 0; i < frames; ++i)
        for (std::size_t c = 0; c < channels; ++c) out[i * channels + c] = mono[i];
}

}  // namespace

struct participant;
struct prompt;
struct encoder_group;

namespace {
enum class command_kind : std::uint8_t {
    add, remove, input_gain, output_gain, mute, deaf, hears, not_hears, set_rate, play, stop_prompt, tap, add_group, drop_group,
    plugin_attach, plugin_detach
};
struct command {
    command_kind kind = command_kind::add;
    participant* target = nullptr;
    participant_id other = 0;   // hears/not_hears: the talker; stop_prompt: the prompt id
    float value = 0.0f;
    prompt* new_prompt = nullptr;  // play: handed to the tick, which retires it when done
    encoder_group* group = nullptr;  // add_group/drop_group
    plugin_instance* plugin = nullptr;  // plugin_attach/detach (`other`: the chain, see chain_index)
};
}  // namespace

// Processors or taps at one point, called in order by the tick. The room's
// control side keeps them alive (impl::attachments) while they are here.
struct plugin_chain {
    plugin_instance* items[max_plugins_per_point] = {};
    std::size_t count = 0;
    bool empty() const noexcept { return count == 0; }
    void add(plugin_instance* p) noexcept {
        if (count < max_plugins_per_point) items[count++] = p;  // the control side keeps count <= max
    }
    bool remove(plugin_instance* p) noexcept {
        for (std::size_t i = 0; i < count; ++i)
            if (items[i] == p) {
                std::copy(items + i + 1, items + count, items + i);  // keep the order
                items[--count] = nullptr;
                return true;
            }
        return false;
    }
    void process(float* audio, std::size_t frames) noexcept {
        for (std::size_t i = 0; i < count; ++i) items[i]->process(audio, frames);
    }
    void tap(const float* audio, std::size_t frames) noexcept {
        for (std::size_t i = 0; i < count; ++i) items[i]->process(audio, frames);
    }
};
// Chains of a participant, indexed by chain_index().
enum plugin_chain_index : std::uint32_t { input_processors, input_taps, output_processors, output_taps, chain_count };

// An injected PCM prompt. Built on a control thread, played by the tick,
// handed back through `retired_prompts` for freeing.
struct prompt {
    prompt_id id = 0;
    participant_id target_id = whole_room;
    participant* target = nullptr;  // nullptr: the whole room
    float gain = 1.0f;
    aligned_buffer<float> source;   // mono at the prompt's rate, then zeros that flush the resampler
    std::size_t pos = 0;            // next source frame
    std::size_t chunk = 0;          // source frames per resampler call (one tick at the prompt's rate)
    std::unique_ptr<resampler> to[mixing_rate_count];  // per mixing rate the room may use (index as mixing_rates)
    resampler* current = nullptr;
    std::uint32_t current_rate = 0;
    aligned_buffer<float> fifo;     // converted frames waiting, at the mixing rate
    std::size_t fifo_frames = 0;
    bool stop = false;              // stop_prompt reached the tick: fade out this tick
};

// An encoder fed one tick at a time: the tick's audio at the encoder's rate
// (resampled from the mixing rate), a FIFO that adapts ticks to the encoder's
// frame, and the packets this tick produced. Every RTP participant has one (its
// own stream); a shared encoder group has one whose payloads its listeners send
// under their own RTP headers.
//
// FIFO phase: a stream made before tick k starts k * tick % frame frames into
// its FIFO (zeros), as if it had run since the room began. So every stream
// with the same frame size cuts packets at the same ticks, and a listener can
// move between its own stream and a shared one without a partial frame.
struct encode_stream {
    struct packet {
        std::ptrdiff_t bytes = 0;  // <= 0: nothing to send (DTX, deaf, encoder error)
        rtp_audio_level level;
    };

    std::unique_ptr<encoder> enc;
    std::uint32_t rate = 0;
    std::uint16_t channels = 1;
    std::size_t frame = 0;          // encoder frames per packet
    std::size_t tick = 0;           // frames per tick at `rate`
    aligned_buffer<float> mono;     // this tick at `rate`
    aligned_buffer<float> fifo;     // interleaved, waiting for the encoder
    std::size_t fifo_frames = 0;
    aligned_buffer<std::uint8_t> payloads;  // max_datagram bytes per packet slot
    aligned_buffer<packet> packets;         // what this tick produced
    std::size_t packet_count = 0;
    float level = -127.0f;          // of this tick's audio, dBov
    std::uint64_t frames_encoded = 0;
    bool costly = true;             // worth a pool worker (see run_tick's output stage)

    void init(std::unique_ptr<encoder> e, std::uint32_t tick_us) {
        enc = std::move(e);
        const audio_format f = enc->format();
        rate = f.sample_rate_hz;
        channels = f.channels;
        frame = f.frame_samples();
        tick = static_cast<std::size_t>(std::uint64_t{rate} * tick_us / 1000000);
        const std::size_t slots = tick / frame + 2;
        mono = aligned_buffer<float>(tick + 16);
        fifo = aligned_buffer<float>((tick + frame + 16) * channels);
        payloads = aligned_buffer<std::uint8_t>(max_datagram * slots);
        packets = aligned_buffer<packet>(slots);
    }

    void align(std::uint64_t ticks) {
        fifo_frames = static_cast<std::size_t>(ticks * tick % frame);
        std::fill_n(fifo.data(), fifo_frames * channels, 0.0f);
    }

    // Queues `heard` (mix_frames at the mixing rate, converted by `rs`) and
    // encodes every whole frame.
    void run(resampler* rs, const float* heard, std::size_t mix_frames, float voice_dbov) noexcept {
        if (channels == 1 && fifo_frames == 0 && frame == tick && mix_frames == tick && (!rs || rs->passthrough())) {
            // One packet per tick at the mixing rate, mono (G.711 in a narrowband room, say): encoded
            // straight from the mix, measured once, no copies into `mono` and the FIFO.
            const level_dbov l = measure_level({heard, tick});
            level = l.rms;
            packet& k = packets[0];
            k.bytes = enc->encode(interleaved_view<const float>(heard, frame, 1), {payloads.data(), max_datagram});
            if (k.bytes > 0) {
                ++frames_encoded;
                k.level = {l.rms > voice_dbov, rfc6464_level(l.rms)};
            }
            packet_count = 1;
            return;
        }
        resample_exact(rs, heard, mix_frames, mono.data(), tick);
        level = measure_level({mono.data(), tick}).rms;
        upmix(mono.data(), tick, channels, fifo.data() + fifo_frames * channels);
        fifo_frames += tick;
        packet_count = 0;
        while (fifo_frames >= frame) {
            packet& k = packets[packet_count];
            k.bytes = enc->encode(interleaved_view<const float>(fifo.data(), frame, channels),
                                  {payloads.data() + packet_count * max_datagram, max_datagram});
            if (k.bytes > 0) {
                ++frames_encoded;
                const level_dbov l = measure_level({fifo.data(), frame * channels});
                k.level = {l.rms > voice_dbov, rfc6464_level(l.rms)};
            }
            ++packet_count;
            pop_frame();
        }
    }

    // Deaf: silence queued, nothing encoded, but the packet clock runs on.
    void run_silent() noexcept {
        std::fill_n(fifo.data() + fifo_frames * channels, tick * channels, 0.0f);
        fifo_frames += tick;
        level = -127.0f;
        packet_count = 0;
        while (fifo_frames >= frame) {
            packets[packet_count++].bytes = 0;
            pop_frame();
        }
    }

    void pop_frame() noexcept {
        fifo_frames -= frame;
        std::memmove(fifo.data(), fifo.data() + frame * channels, fifo_frames * channels * sizeof(float));
    }

    std::span<const std::uint8_t> payload(std::size_t i) const noexcept {
        return {payloads.data() + i * max_datagram, static_cast<std::size_t>(packets[i].bytes)};
    }
};

// One shared encoder: listeners whose send format and codec options are equal
// and who hear the plain room mix send its payloads. Built on the control side
// when the first such listener joins; retired after the last one leaves.
struct encoder_group {
    sdp_format format;      // payload type ignored: it is the packetizer's business
    codec_options options;
    encode_stream stream;
    std::unique_ptr<resampler> to[mixing_rate_count];  // mixing rate -> stream rate, per rate the room may use
    resampler* current = nullptr;  // to[] at the mixing rate, or nullptr when that passes through (then it is not touched)
    std::uint32_t control_members = 0;  // [control side]
    bool dropped = false;               // [control side] last member gone, drop command sent
    std::uint32_t users = 0;            // [tick] listeners sending its payloads this tick
    std::atomic<bool> encoded{false};   // [tick] this tick's payloads are ready (listeners on other workers wait for it)
};

// A resampler pair for one mixing rate.
struct rate_path {
    std::uint32_t mixing_rate = 0;
    std::unique_ptr<resampler> in;   // participant rate -> mixing rate
    std::unique_ptr<resampler> out;  // mixing rate -> participant rate
};

// A talk start or stop the input pass found, reported (emitted) after it.
enum class talk_change : std::uint8_t { none, start, stop };

// Fields are ordered by how often the tick touches them: in a room of
// thousands the tick is bound by memory latency (each participant is a cache
// miss per pass), so what every tick reads or writes sits in the first lines,
// which the passes prefetch (see prefetch_hot), and the cold rest after them.
struct participant final : detail::heap_allocated<participant> {  // (its hot lines on huge pages: see buffer_heap.hpp)
    // --- hot: touched by every tick ------------------------------------------
    participant_id id = 0;
    bool rtp = false;
    bool skipped = false;                     // this tick: not decoded, p.input not written
    bool talking = false;
    bool selected = false;
    bool contributing = false;                // contribution buffer valid this tick
    bool on_shared = false;                   // sending the group's payloads this tick
    bool has_private = false;
    bool muted = false, deaf = false, leaving = false;
    bool encoding_paused = false;
    bool newest_quiet = true;                 // the newest audio/CN packet says the participant is quiet
    bool receive_opus = false;
    bool receive_g711 = false;                // PCMU/PCMA in: its level is read off the codes
    g711_law receive_law = g711_law::mu_law;
    bool have_ssrc = false;
    std::uint8_t receive_pt = 0;
    std::uint8_t audio_level_id = 0;
    std::uint16_t in_channels = 1, out_channels = 1;
    std::uint32_t in_rate = 0, out_rate = 0;  // decoder/PCM-in and encoder/PCM-out rates
    std::uint32_t rx_tokens = max_receive_burst_packets;  // flood cap: datagrams it may still send (token bucket)
    int telephone_event_pt = -1;
    int comfort_noise_pt = -1;
    std::uint32_t remote_ssrc = 0;
    std::uint32_t enc_packet_ts = 0;          // RTP units per packet
    std::uint32_t plain_ms = 0;               // how long it has heard the plain room mix
    float level = -127.0f;                    // smoothed input level, dBov
    float ramp = 0.0f;                        // contribution gain now (0..1)
    float client_level = -127.0f;             // RFC 6464 level of the latest audio packet, dBov
    float input_gain = 1.0f, input_gain_now = 1.0f;
    float input_gain_db = 0.0f;               // 20 log10(input_gain), -127 for 0
    float output_gain = 1.0f, output_gain_now = 1.0f;
    std::int64_t quiet_ms = 0;                // time below talk_stop while talking
    std::int64_t challenge_ms = 0;            // time spent beating the weakest mixed talker
    std::int64_t client_level_until_us = -1;  // client_level counts until then (-1: never received)
    std::int64_t newest_arrival_us = -1;      // the newest audio/CN packet arrived then (-1: none yet)
    float payload_level = -127.0f;            // G.711: level of the latest audio packet, from its codes
    std::int64_t payload_level_until_us = -1; // ... counted until then
    std::size_t dtmf_count = 0;
    talk_change talk_event = talk_change::none;  // found by the input pass, reported after it
    std::uint64_t dtmf_dropped = 0;           // notifications beyond max_dtmf_per_tick in one tick (a flood)
    std::size_t not_heard_count = 0;
    std::uint32_t prompts_pending = 0;        // prompts playing to it alone (they make has_private)
    jitter_buffer* jb_ = nullptr;             // jb.get(): one pointer less to chase
    float* decode_to = nullptr;               // where take_input decodes: p.input when input_direct, else p.decoded
    bool input_direct = false;                // mono at the mixing rate: decoded straight into p.input (set by attach_path)
    detail::spsc_ring* in = nullptr;          // in_ring.get()
    detail::spsc_ring* out = nullptr;         // out_ring.get()
    encoder_group* group = nullptr;           // the shared encoder it may use (shared encoding only)
    std::uint8_t plugins = 0;                 // bit c: chains[c] is not empty (so the tick need not look)
    rtp_packetizer packetizer;
    bool dtmf_active = false;                 // dtmf.active(): a key is down, its end may time out
    participant_stats stats;                  // (its jitter_buffer_stats, last, is filled only when read)

    // Counted by the push/pull threads, added to the stats when they are read (own line: written by another thread).
    alignas(64) std::atomic<std::uint64_t> io_packets_in{0};
    std::atomic<std::uint64_t> io_rejected{0}, io_overflow{0};

    // --- warm: talkers, PCM participants, mixing -----------------------------
    alignas(64) rate_path* path = nullptr;
    resampler* out_rs = nullptr;         // path->out, or nullptr when it passes through (then it is not touched)
    aligned_buffer<float> decoded;       // one tick at in_rate, in_channels
    aligned_buffer<float> mono_in;       // one tick at in_rate, mono
    aligned_buffer<float> input;         // one tick at the mixing rate, gain applied
    aligned_buffer<float> contribution;  // input × selection ramp: what the room hears of it
    const float* contributed = nullptr;  // contribution, or input while the ramp stays at 1 (no copy); valid with `contributing`
    aligned_buffer<float> mix;           // what it hears, at the mixing rate
    aligned_buffer<float> out_mono;      // PCM: what it hears, at out_rate
    aligned_buffer<float> out_frame;     // PCM: ... on every channel
    aligned_buffer<std::int16_t> pcm;    // one tick of int16 for PCM in/out
    aligned_buffer<participant_id> not_heard;
    aligned_buffer<float> private_prompts;  // this tick's prompts to this participant alone, at the mixing rate
    encode_stream own;                   // its own encoder (talking, or no shared one fits)
    limiter lim;
    telephone_event_decoder dtmf;        // RFC 4733 in (polled only while dtmf_active)
    plugin_chain chains[chain_count];    // attached plugins (room::attach_plugin); `plugins` says which are in use

    // --- cold: set up at join, read rarely -----------------------------------
    std::size_t slot = 0;
    std::uint32_t needed_rate = 8000;            // the mixing rate it asks for
    std::uint32_t send_clock_hz = 8000;
    bool leave_requested = false;  // control side's own flag (the tick uses `leaving`)
    std::unique_ptr<decoder> dec;
    std::unique_ptr<jitter_buffer> jb;
    std::unique_ptr<detail::spsc_ring> in_ring;
    std::unique_ptr<detail::spsc_ring> out_ring;
    rate_path paths[mixing_rate_count];
    telephone_event_notification dtmf_notes[max_dtmf_per_tick];  // found by the input stage, reported after it
};

// Starts loading [from, to) of a participant (see the field order above).
inline void prefetch_span(const void* from, const void* to) noexcept {
    for (const char* a = static_cast<const char*>(from); a < static_cast<const char*>(to); a += 64) __builtin_prefetch(a);
}
// Everything hot: the scalars, packetizer and counters the tick writes (the
// jitter-buffer statistics that end participant_stats are filled when read).
inline void prefetch_hot(const participant* p) noexcept { prefetch_span(p, &p->stats.jitter); }

// What the input pass finds for the rest of the tick, in participant order.
struct input_findings {
    std::vector<participant*> candidates;  // talking, selected or ramping out
    std::vector<participant*> deferred;    // their encoder is chosen after the mix
    std::vector<participant*> encoding;    // RTP participants that run their own encoder
    std::vector<participant*> sharing;     // RTP participants that send a group's payloads
    std::vector<encoder_group*> group_uses;  // a group per sharing listener that hears something (counted into users)
    std::vector<participant*> eventful;    // have DTMF or talk events waiting
    std::uint32_t decoders_skipped = 0;

    void reserve(std::size_t n) {
        for (auto* v : {&candidates, &deferred, &encoding, &sharing, &eventful}) v->reserve(n);
        group_uses.reserve(n);
    }
    void clear() noexcept {
        for (auto* v : {&candidates, &deferred, &encoding, &sharing, &eventful}) v->clear();
        group_uses.clear();
        decoders_skipped = 0;
    }
    // Appends `b`'s lists (capacity reserved: no allocation).
    void append(const input_findings& b) {
        candidates.insert(candidates.end(), b.candidates.begin(), b.candidates.end());
        deferred.insert(deferred.end(), b.deferred.begin(), b.deferred.end());
        encoding.insert(encoding.end(), b.encoding.begin(), b.encoding.end());
        sharing.insert(sharing.end(), b.sharing.begin(), b.sharing.end());
        group_uses.insert(group_uses.end(), b.group_uses.begin(), b.group_uses.end());
        eventful.insert(eventful.end(), b.eventful.begin(), b.eventful.end());
        decoders_skipped += b.decoders_skipped;
    }
};

struct room::impl {
    room_config config;
    codec_registry registry = codec_registry::with_builtin_codecs();
    std::uint32_t mixing_rate = 8000;
    std::size_t frames = 0;  // tick frames at mixing_rate
    std::size_t max_frames = 0;

    // Control side (any thread, serialised by control_mutex; never touched by the tick).
    std::mutex control_mutex;
    std::vector<participant*> control_slots;      // owned participants by slot
    std::vector<std::size_t> free_slots;
    std::uint32_t next_serial = 1;
    std::uint32_t control_rate = 0;               // mixing rate the control side last asked for
    std::vector<prompt*> control_prompts;         // owned prompts not yet freed (reserved to max_prompts)
    prompt_id next_prompt = 1;
    std::unique_ptr<detail::spsc_ring> tap_owner; // allocated by the first enable_tap
    std::vector<encoder_group*> control_groups;   // owned shared encoders not yet freed (reserved to max_participants)

    // Shared between threads.
    std::unique_ptr<std::atomic<participant*>[]> slots;  // id lookup for push/pull
    detail::mpmc_queue<command> commands;
    detail::mpmc_queue<participant*> retired;
    detail::mpmc_queue<prompt*> retired_prompts;
    detail::mpmc_queue<encoder_group*> retired_groups;
    std::atomic<detail::spsc_ring*> tap_ring{nullptr};  // published before the first tap command
    detail::mpmc_queue<plugin_instance*> retired_plugins{64};  // detached by the tick, released by the control side

    // Attached plugins (control side): the references that keep them alive.
    struct attachment {
        attachment_id id = 0;
        participant* target = nullptr;  // nullptr: the room mix
        std::uint32_t chain = 0;
        std::shared_ptr<plugin_instance> instance;
        bool detaching = false;  // detach sent: released when the tick hands it back
    };
    std::vector<attachment> attachments;
    attachment_id next_attachment = 1;
    plugin_chain room_taps;  // tick side

    // Tick side.
    std::vector<participant*> active;     // reserved to max_participants at creation
    std::vector<participant*> by_slot;    // the tick's own id lookup: set when a join is applied, cleared at retirement
    std::vector<participant*> contributors;
    std::size_t leaving_count = 0;         // participants with `leaving` still in `active`
    std::size_t input_taps_attached = 0;   // input taps on participants (0: run_taps skips the pass; a leaver's stay counted)
    std::vector<const float*> sources;
    aligned_buffer<float> total;
    aligned_buffer<float> common;         // total through the shared limiter
    std::vector<prompt*> prompts;         // playing; reserved to max_prompts
    std::vector<encoder_group*> groups;   // shared encoders; reserved to max_participants
    input_findings lists;                 // this tick's (every list reserved to max_participants)
    // With a pool, the input pass runs per block of participants, each block
    // filling its own findings; they are merged in block order, so the lists
    // and events come out in participant order whatever the thread count.
    // Each block restarts input_range's prefetch pipeline (its first items
    // have no lead): 128 made a 10,000-participant tick on two threads 2-3.5 %
    // faster than 64 (256: no better), and still leaves ~40 blocks per thread.
    static constexpr std::size_t block_size = 128;
    std::vector<input_findings> blocks;   // ceil(max_participants / block_size), each reserved to block_size
    aligned_buffer<float> prev_common;    // last tick's `common` (warms a forked listener's resampler)
    std::uint32_t prev_common_rate = 0;
    std::uint32_t common_rate = 0;
    worker_pool* pool = nullptr;          // config.workers
    std::vector<aligned_buffer<std::uint8_t>> datagrams;  // per worker: one datagram in or out (hot in L1, not one per participant)
    aligned_buffer<float> prompt_scratch; // one tick of one prompt
    bool tap_on = false;
    limiter common_limiter;
    aligned_buffer<room_event> events;
    std::size_t event_head = 0, event_count = 0;
    room_stats stats;
    std::int64_t tick_ms = 20;
    std::uint32_t rx_tokens_per_tick = 20;  // max_receive_packets_per_second per tick
    std::int64_t last_now_us = 0;           // the previous tick()'s now_us (late/early tick counters)

    // Stage profiling: a steady_clock read (vDSO, no system call) at each
    // boundary, kept per worker thread and summed after the tick.
    struct stage_clock {
        std::chrono::steady_clock::time_point start;
        std::uint64_t ns[static_cast<std::size_t>(tick_stage::count)] = {};
    };
    stage_clock clocks[worker_pool::max_threads];
    void stage_begin(unsigned w) {
        if (config.profile_stages) clocks[w].start = std::chrono::steady_clock::now();
    }
    void stage_end(unsigned w, tick_stage stage) {
        if (!config.profile_stages) return;
        const auto now = std::chrono::steady_clock::now();
        clocks[w].ns[static_cast<std::size_t>(stage)] +=
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - clocks[w].start).count());
        clocks[w].start = now;
    }

    // A big room is bound by memory latency, so the passes over participants
    // ask for the lines of the items 8, 5, 3 and 1 places further on, in
    // stages (0..3): each stage asks for lines whose addresses the one before
    // loaded (see ahead_input, ahead_output).
    static constexpr std::size_t ahead_distance[] = {8, 5, 3, 1};

    // What take_input() reads: the participant, its ring's next record, its
    // jitter buffer's bookkeeping and slots. Also what the output pass will
    // write, its outgoing ring: a small room's output pass is too short to
    // ask for it far enough ahead (a room of five has four listeners), and
    // the input pass comes early enough in the same tick.
    static void ahead_input(const participant* p, unsigned stage) noexcept {
        switch (stage) {
            case 0: prefetch_hot(p); break;
            case 1:
                __builtin_prefetch(p->jb_);
                p->in->prefetch_consumer();
                p->out->prefetch_producer();
                break;
            case 2:
                if (p->jb_) p->jb_->prefetch(0);
                p->in->prefetch_pop();
                p->out->prefetch_push();
                break;
            default:
                if (p->jb_) p->jb_->prefetch(1);
                break;
        }
    }
    // What send_shared() writes: the participant and its outgoing ring.
    static void ahead_output(const participant* p, unsigned stage) noexcept {
        switch (stage) {
            case 0: prefetch_hot(p); break;
            case 1: p->out->prefetch_producer(); break;
            default: p->out->prefetch_push(); break;
        }
    }
    impl(const room_config& c)
        : config(c),
          commands(4 * c.max_participants + 64),
          retired(c.max_participants + 16),
          retired_prompts(c.max_prompts + 16),
          retired_groups(c.max_participants + 16),
          events(c.event_capacity) {}

    // --- helpers shared by both sides -----------------------------------------
    participant* lookup(participant_id id) const noexcept {
        if (id == 0) return nullptr;
        participant* p = slots[(id - 1) % config.max_participants].load(std::memory_order_acquire);
        return p != nullptr && p->id == id ? p : nullptr;
    }

    void collect_retired() {  // [control side]
        participant* p;
        while (retired.pop(p)) {
            // Its plugins go with it (a detach already sent comes back through retired_plugins).
            std::erase_if(attachments, [&](attachment& a) {
                if (a.target != p || a.detaching) return false;
                a.instance->release();
                return true;
            });
            free_slots.push_back(p->slot);
            control_slots[p->slot] = nullptr;
            delete p;
        }
        plugin_instance* gone;
        while (retired_plugins.pop(gone))
            std::erase_if(attachments, [&](attachment& a) {
                if (a.instance.get() != gone || !a.detaching) return false;
                a.instance->release();
                return true;
            });
        prompt* q;
        while (retired_prompts.pop(q)) {
            control_prompts.erase(std::find(control_prompts.begin(), control_prompts.end(), q));
            delete q;
        }
        encoder_group* g;
        while (retired_groups.pop(g)) {
            control_groups.erase(std::find(control_groups.begin(), control_groups.end(), g));
            delete g;
        }
    }

    std::uint32_t wanted_rate() const {  // [control side]
        if (config.mixing_rate_hz) return config.mixing_rate_hz;
        std::uint32_t r = 8000;
        for (participant* p : control_slots)
            if (p && !p->leave_requested) r = std::max(r, p->needed_rate);
        return r;
    }

    std::atomic<std::uint64_t> commands_dropped{0};
    status send(const command& c) {
        if (commands.push(c)) return status::ok;
        commands_dropped.fetch_add(1, std::memory_order_relaxed);
        return status::out_of_memory;
    }

    // --- tick side ---------------------------------------------------------------
    void emit(room_event e) {
        e.tick = stats.ticks;
        if (event_count == events.size()) {
            ++stats.events_dropped;
            return;
        }
        events[(event_head + event_count) % events.size()] = e;
        ++event_count;
    }

    void select_rate(std::uint32_t rate) {
        mixing_rate = rate;
        frames = static_cast<std::size_t>(std::int64_t{rate} * config.tick_us / 1000000);
        stats.mixing_rate_hz = rate;
        common_limiter = limiter({.sample_rate_hz = rate, .channels = 1, .threshold = config.limiter_threshold,
                                  .ceiling = config.limiter_ceiling});
        for (participant* p : active) attach_path(*p);
        for (encoder_group* g : groups) attach_group(*g);
    }

    void attach_group(encoder_group& g) {
        g.current = g.to[rate_index(mixing_rate)].get();
        if (g.current) g.current->reset();
        if (g.current && g.current->passthrough()) g.current = nullptr;  // (not touched by the tick)
    }

    void attach_path(participant& p) {
        for (auto& path : p.paths)
            if (path.mixing_rate == mixing_rate) {
                p.path = &path;
                const std::size_t in_frames = static_cast<std::size_t>(std::int64_t{p.in_rate} * config.tick_us / 1000000);
                p.input_direct = p.in_channels == 1 && (!path.in || path.in->passthrough()) && in_frames == frames;
                p.decode_to = p.input_direct ? p.input.data() : p.decoded.data();
                if (path.in) path.in->reset();
                if (path.out) path.out->reset();
                p.out_rs = path.out && !path.out->passthrough() ? path.out.get() : nullptr;
                p.lim = limiter({.sample_rate_hz = mixing_rate, .channels = 1, .threshold = config.limiter_threshold,
                                 .ceiling = config.limiter_ceiling});
                return;
            }
        p.path = nullptr;  // cannot happen: paths exist for every rate the room may choose
    }

    void apply(const command& c) {
        switch (c.kind) {  // the kinds without a participant
            case command_kind::set_rate: select_rate(static_cast<std::uint32_t>(c.value)); return;
            case command_kind::play:
                prompts.push_back(c.new_prompt);  // the control side keeps the count <= max_prompts
                if (c.new_prompt->target) ++c.new_prompt->target->prompts_pending;
                return;
            case command_kind::stop_prompt:
                for (prompt* q : prompts)
                    if (q->id == c.other) q->stop = true;
                return;
            case command_kind::tap: tap_on = c.value != 0.0f; return;
            case command_kind::add_group:
                groups.push_back(c.group);  // reserved to max_participants: one group per participant at most
                attach_group(*c.group);
                c.group->stream.align(stats.ticks);
                return;
            case command_kind::drop_group:  // its last member's remove command came first: nobody uses it
                groups.erase(std::find(groups.begin(), groups.end(), c.group));
                (void)retired_groups.push(c.group);  // capacity covers one group per slot
                return;
            case command_kind::plugin_attach:
                (c.target ? c.target->chains[c.other] : room_taps).add(c.plugin);
                if (c.target && c.other == input_taps) ++input_taps_attached;
                if (c.target) c.target->plugins |= static_cast<std::uint8_t>(1u << c.other);
                return;
            case command_kind::plugin_detach:
                if ((c.target ? c.target->chains[c.other] : room_taps).remove(c.plugin) && c.target && c.other == input_taps)
                    --input_taps_attached;
                if (c.target && c.target->chains[c.other].empty()) c.target->plugins &= static_cast<std::uint8_t>(~(1u << c.other));
                (void)retired_plugins.push(c.plugin);  // the control side keeps detaches in flight below its capacity
                return;
            default: break;
        }
        participant& p = *c.target;
        switch (c.kind) {
            case command_kind::add:
                active.push_back(&p);
                by_slot[p.slot] = &p;
                attach_path(p);
                if (p.rtp) p.own.align(stats.ticks);
                p.on_shared = p.group != nullptr;  // a new listener hears the plain mix: it starts on the shared encoder
                p.plain_ms = shared_rejoin_ms;
                emit({room_event_kind::joined, p.id});
                break;
            case command_kind::remove:
                if (!p.leaving) ++leaving_count;
                p.leaving = true;
                break;
            case command_kind::input_gain:
                p.input_gain = c.value;
                p.input_gain_db = c.value > 0.0f ? 20.0f * std::log10(c.value) : -127.0f;
                break;
            case command_kind::output_gain: p.output_gain = c.value; break;
            case command_kind::mute: p.muted = c.value != 0.0f; break;
            case command_kind::deaf: p.deaf = c.value != 0.0f; break;
            case command_kind::hears: {
                auto* end = p.not_heard.data() + p.not_heard_count;
                auto* it = std::find(p.not_heard.data(), end, c.other);
                if (it != end) {
                    *it = end[-1];
                    --p.not_heard_count;
                }
                break;
            }
            case command_kind::not_hears: {
                auto* end = p.not_heard.data() + p.not_heard_count;
                if (std::find(p.not_heard.data(), end, c.other) == end && p.not_heard_count < p.not_heard.size())
                    p.not_heard[p.not_heard_count++] = c.other;
                break;
            }
            default: break;
        }
    }

    // A talker who left frees its place in every "does not hear" list, so
    // that lists do not fill up with the departed over a long conference.
    void forget_relations_to(participant_id gone) {
        for (participant* q : active) {
            auto* end = q->not_heard.data() + q->not_heard_count;
            auto* it = std::find(q->not_heard.data(), end, gone);
            if (it != end) {
                *it = end[-1];
                --q->not_heard_count;
            }
        }
    }

    // Received datagrams -> jitter buffer / DTMF.
    void receive_rtp(participant& p, std::int64_t now_us, std::span<std::uint8_t> packet) {
        std::int64_t arrival = 0;
        p.rx_tokens = std::min<std::uint32_t>(max_receive_burst_packets, p.rx_tokens + rx_tokens_per_tick);
        for (;;) {
            const std::ptrdiff_t n = p.in->pop(packet, arrival);
            if (n == -1) break;
            if (p.rx_tokens == 0) {  // a flood: dropped unread, so one participant's work per tick is bounded
                ++p.stats.packets_rate_limited;
                continue;
            }
            --p.rx_tokens;
            if (n < 0) {
                ++p.stats.packets_rejected;
                continue;
            }
            rtp_packet_view view;
            if (parse_rtp({packet.data(), static_cast<std::size_t>(n)}, view) != rtp_parse_result::ok) {
                ++p.stats.packets_rejected;  // RTCP and malformed packets alike
                continue;
            }
            const std::uint8_t pt = view.payload_type();
            if (p.telephone_event_pt >= 0 && pt == p.telephone_event_pt) {
                telephone_event_notification notes[telephone_event_max_notifications];
                const std::ptrdiff_t k = p.dtmf.push(view, static_cast<std::uint64_t>(arrival), notes);
                for (std::ptrdiff_t i = 0; i < k; ++i) queue_dtmf(p, notes[i]);
                p.dtmf_active = p.dtmf.active();
                continue;
            }
            if (pt != p.receive_pt && (p.comfort_noise_pt < 0 || pt != p.comfort_noise_pt)) {
                ++p.stats.packets_rejected;
                continue;
            }
            if (p.audio_level_id != 0) {
                if (const auto level = find_audio_level(view, p.audio_level_id)) {
                    ++p.stats.packets_with_level;
                    p.client_level = -static_cast<float>(level->level);
                    p.stats.client_level_dbov = p.client_level;
                    p.stats.client_voice = level->voice;
                    p.client_level_until_us = arrival + std::int64_t{config.client_level_hold_ms} * 1000;
                }
            }
            // Quiet: comfort noise, an Opus DTX frame (TOC only), a level that cannot start a
            // talkspurt or, without levels, an Opus frame its encoder's VAD flagged as no voice
            // (SILK and hybrid frames carry the flag). A level decides over the VAD flag: the
            // flag lags a talkspurt's first syllable, a client's level does not.
            bool quiet = pt != p.receive_pt || (p.receive_opus && view.payload().size() <= 2);
            if (!quiet) {
                if (p.client_level_until_us > arrival) {
                    quiet = p.client_level + p.input_gain_db <= config.talk_start_dbov;
                } else if (p.receive_opus) {
                    quiet = opus_unvoiced(view.payload());
                } else if (p.receive_g711) {  // the exact level, from the codes: as good as a client's, and free
                    p.payload_level = g711_level_dbov(p.receive_law, view.payload());
                    p.payload_level_until_us = arrival + std::int64_t{config.client_level_hold_ms} * 1000;
                    quiet = p.payload_level + p.input_gain_db <= config.talk_start_dbov;
                }
            }
            p.newest_quiet = quiet;
            p.newest_arrival_us = arrival;
            if (p.have_ssrc && view.ssrc() != p.remote_ssrc) {
                p.dtmf.reset();
                p.dtmf_active = false;
            }
            p.have_ssrc = true;
            p.remote_ssrc = view.ssrc();
            const rtp_packet_info info{view.sequence(), view.timestamp(), view.ssrc(), pt, view.marker()};
            if (p.jb_->insert(info, view.payload(), arrival) != status::ok) ++p.stats.packets_rejected;
        }
        if (!p.dtmf_active) return;  // nothing can time out: the decoder's lines stay cold
        telephone_event_notification notes[telephone_event_max_notifications];
        const std::ptrdiff_t k = p.dtmf.poll(static_cast<std::uint64_t>(now_us), notes);
        for (std::ptrdiff_t i = 0; i < k; ++i) queue_dtmf(p, notes[i]);
        p.dtmf_active = p.dtmf.active();
    }

    // The input stage runs on workers: events wait in the participant until detect_talk().
    static void queue_dtmf(participant& p, const telephone_event_notification& n) {
        if (p.dtmf_count < max_dtmf_per_tick) p.dtmf_notes[p.dtmf_count++] = n;
        else ++p.dtmf_dropped;
    }

    void report_dtmf(participant& p, const telephone_event_notification& n) {
        room_event e{n.kind == telephone_event_kind::begin ? room_event_kind::dtmf_begin : room_event_kind::dtmf_end, p.id};
        e.key = n.key;
        e.duration_ms = n.duration_ms;
        if (n.kind == telephone_event_kind::begin) ++p.stats.dtmf_events;
        emit(e);
    }

    // One tick of the participant's voice at the mixing rate into p.input,
    // and its level. Touches only p: runs on any worker.
    void take_input(participant& p, unsigned w) {
        const std::int64_t now_us = tick_now_us;
        const std::size_t in_frames = static_cast<std::size_t>(std::int64_t{p.in_rate} * config.tick_us / 1000000);
        const bool direct = p.input_direct;  // (hot copies: a skipped participant touches no cold line)
        float* decoded = p.decode_to;
        stage_begin(w);
        if (p.rtp) {
            receive_rtp(p, now_us, datagrams[w].span());
            stage_end(w, tick_stage::receive);
            // Silent and not in the mix: its jitter buffer plays out without decoding (see skip_silent_decode).
            // No packet for a tick and a half is a DTX pause (or a loss nobody would hear: it is not in
            // the mix); decoding it would only run the codec's concealment. A packet ends the pause.
            const bool paused = p.newest_arrival_us < 0 || now_us - p.newest_arrival_us > 3 * std::int64_t{config.tick_us} / 2;
            const bool skip = config.skip_silent_decode && !p.talking && !p.selected && p.ramp == 0.0f && (p.newest_quiet || paused);
            p.jb_->set_decoding(!skip);
            (void)p.jb_->get(interleaved_view<float>(decoded, in_frames, p.in_channels), now_us);
            stage_end(w, tick_stage::jitter_decode);
            if (skip) {  // nothing to resample or measure: it is not heard, and its level is the client's or nothing
                ++p.stats.ticks_not_decoded;
                p.skipped = true;
                p.input_gain_now = p.input_gain;
                const float known = p.client_level_until_us >= now_us    ? p.client_level
                                    : p.payload_level_until_us >= now_us ? p.payload_level
                                                                         : -127.0f;
                p.stats.input_level_dbov = known > -127.0f ? std::max(known + p.input_gain_db, -127.0f) : -127.0f;
                return;
            }
        } else {
            // One frame per tick; extra frames wait for the next tick, a missing one is silence.
            std::int64_t stamp = 0;
            const std::size_t bytes = in_frames * p.in_channels * sizeof(std::int16_t);
            const std::ptrdiff_t n =
                p.in->pop({reinterpret_cast<std::uint8_t*>(p.pcm.data()), p.pcm.size() * sizeof(std::int16_t)}, stamp);
            if (n == static_cast<std::ptrdiff_t>(bytes)) s16_to_float(p.pcm.data(), decoded, in_frames * p.in_channels);
            else std::fill_n(decoded, in_frames * p.in_channels, 0.0f);
            stage_end(w, tick_stage::receive);
        }
        if (!direct) {
            // Mono at the participant's rate, then the mixing rate.
            const float* mono = decoded;
            if (p.in_channels == 2) {
                for (std::size_t i = 0; i < in_frames; ++i)
                    p.mono_in[i] = 0.5f * (decoded[2 * i] + decoded[2 * i + 1]);
                mono = p.mono_in.data();
            }
            resample_exact(p.path->in.get(), mono, in_frames, p.input.data(), frames);
            stage_end(w, tick_stage::resample_in);
        }
        if (p.plugins & (1u << input_processors)) p.chains[input_processors].process(p.input.data(), frames);
        gain_ramp(p.input.data(), p.input.data(), p.input_gain_now, p.input_gain, frames);
        p.input_gain_now = p.input_gain;
        p.stats.input_level_dbov = measure_level({p.input.data(), frames}).rms;
        p.skipped = false;
    }

    // Talk detection. Touches only p (its event waits in p.talk_event): runs on any worker.
    void detect_talk(participant& p) const {
        float detect = p.stats.input_level_dbov;
        if (p.client_level_until_us >= tick_now_us) {  // the client's own measure caps ours (see join_rtp)
            detect = std::min(detect, std::max(p.client_level + p.input_gain_db, -127.0f));
        }
        p.level = detect > p.level ? detect : p.level + level_release * (detect - p.level);
        p.stats.detection_level_dbov = p.level;
        if (!p.talking && p.level > config.talk_start_dbov && !p.muted) {
            p.talking = true;
            p.quiet_ms = 0;
            p.talk_event = talk_change::start;
        } else if (p.talking) {
            p.quiet_ms = p.level < config.talk_stop_dbov ? p.quiet_ms + tick_ms : 0;
            if (p.quiet_ms >= config.talk_hangover_ms || p.muted) {
                p.talking = false;
                p.talk_event = talk_change::stop;
            }
        }
        if (p.talking) ++p.stats.talk_ticks;
    }

    static bool has_events(const participant& p) {
        return p.dtmf_count > 0 || p.dtmf_dropped > 0 || p.talk_event != talk_change::none;
    }

    // The events the input pass found for p, in the order found. Serial: it emits.
    void report_events(participant& p) {
        for (std::size_t i = 0; i < p.dtmf_count; ++i) report_dtmf(p, p.dtmf_notes[i]);
        p.dtmf_count = 0;
        stats.events_dropped += std::exchange(p.dtmf_dropped, 0);
        if (p.talk_event == talk_change::start) {
            room_event e{room_event_kind::talk_start, p.id};
            e.level_dbov = p.level;  // as detected: nothing changes it before the report
            emit(e);
        } else if (p.talk_event == talk_change::stop) {
            emit({room_event_kind::talk_stop, p.id});
        }
        p.talk_event = talk_change::none;
    }

    bool eligible(const participant& p) const { return p.talking && !p.muted && !p.leaving; }

    // Loudest-N with hysteresis, among the candidates (talking, selected or
    // ramping out: see run_tick; the rest of a big room is never looked at):
    // free seats go to the loudest eligible talkers;
    // a talker takes a seat from the weakest mixed one only when it has beaten
    // it by switch_margin_db for switch_hold_ms.
    void select_talkers() {
        const std::vector<participant*>& candidates = lists.candidates;
        std::size_t count = 0;
        for (participant* p : candidates) {
            if (p->selected && !eligible(*p)) p->selected = false;
            if (p->selected) ++count;
        }
        while (count < config.loudest_n) {  // O(N) per free seat, at most loudest_n seats
            participant* best = nullptr;
            for (participant* p : candidates)
                if (!p->selected && eligible(*p) && (!best || p->level > best->level)) best = p;
            if (!best) break;
            best->selected = true;
            best->challenge_ms = 0;
            ++best->stats.times_selected;
            ++count;
        }
        for (participant* p : candidates) {
            if (p->selected || !eligible(*p)) {
                p->challenge_ms = 0;
                continue;
            }
            participant* weakest = nullptr;
            for (participant* q : candidates)
                if (q->selected && (!weakest || q->level < weakest->level)) weakest = q;
            if (weakest && p->level > weakest->level + config.switch_margin_db) {
                p->challenge_ms += tick_ms;
                if (p->challenge_ms >= config.switch_hold_ms) {
                    weakest->selected = false;
                    p->selected = true;
                    p->challenge_ms = 0;
                    ++p->stats.times_selected;
                }
            } else {
                p->challenge_ms = 0;
            }
        }
    }

    // Contributions (ramped) and the room total.
    void mix_room() {
        contributors.clear();
        sources.clear();
        const float step = config.ramp_ms == 0 ? 1.0f
                                               : static_cast<float>(config.tick_us) / (1000.0f * static_cast<float>(config.ramp_ms));
        for (participant* p : lists.candidates) {
            const float target = p->selected ? 1.0f : 0.0f;
            const float next = target > p->ramp ? std::min(target, p->ramp + step) : std::max(target, p->ramp - step);
            p->contributing = p->ramp > 0.0f || next > 0.0f;
            if (p->contributing) {
                if (p->skipped) std::fill_n(p->input.data(), frames, 0.0f);  // not decoded (cannot be loud: see take_input)
                if (p->ramp == 1.0f && next == 1.0f) {  // x × 1 is x: the input itself, bit for bit
                    p->contributed = p->input.data();
                } else {
                    gain_ramp(p->contribution.data(), p->input.data(), p->ramp, next, frames);
                    p->contributed = p->contribution.data();
                }
                contributors.push_back(p);
                sources.push_back(p->contributed);
            }
            p->ramp = next;
            p->stats.mixed = p->selected;
        }
        mix_sum(total.data(), sources.data(), sources.size(), frames);
        stats.talkers_mixed = static_cast<std::uint32_t>(contributors.size());
    }

    // One tick of prompt q at the mixing rate into prompt_scratch. Returns false
    // when it has nothing left.
    bool render(prompt& q) {
        if (q.current_rate != mixing_rate) {  // first tick, or the automatic rate moved: at most a tick is lost
            q.current = q.to[rate_index(mixing_rate)].get();
            q.current_rate = mixing_rate;
            q.fifo_frames = 0;
            if (q.current) q.current->reset();
        }
        if (!q.current) return false;  // cannot happen: a resampler exists for every rate the room may use
        while (q.fifo_frames < frames && q.pos < q.source.size()) {
            const std::size_t n = std::min(q.chunk, q.source.size() - q.pos);
            const std::ptrdiff_t got = q.current->process(interleaved_view<const float>(q.source.data() + q.pos, n, 1),
                                                          interleaved_view<float>(q.fifo.data() + q.fifo_frames, q.fifo.size() - q.fifo_frames, 1));
            q.pos += n;
            if (got > 0) q.fifo_frames += static_cast<std::size_t>(got);
        }
        const std::size_t m = std::min(frames, q.fifo_frames);
        std::memcpy(prompt_scratch.data(), q.fifo.data(), m * sizeof(float));
        std::fill(prompt_scratch.data() + m, prompt_scratch.data() + frames, 0.0f);
        q.fifo_frames -= m;
        std::memmove(q.fifo.data(), q.fifo.data() + m, q.fifo_frames * sizeof(float));
        return m > 0 || q.pos < q.source.size();
    }

    void finish_prompt(std::size_t i, bool stopped) {
        prompt* q = prompts[i];
        if (q->target) --q->target->prompts_pending;
        room_event e{room_event_kind::prompt_done, q->target_id};
        e.prompt = q->id;
        e.stopped = stopped;
        emit(e);
        prompts[i] = prompts.back();
        prompts.pop_back();
        (void)retired_prompts.push(q);  // capacity covers max_prompts
    }

    // Room prompts into the total (after mix-minus in effect: they are not
    // anyone's contribution, so nobody's mix-minus removes them), private ones
    // into their target's buffer; then the shared limiter.
    void mix_prompts() {
        for (std::size_t i = 0; i < prompts.size();) {
            prompt& q = *prompts[i];
            if (q.target && q.target->leaving) {
                finish_prompt(i, true);
                continue;
            }
            const bool more = render(q);
            const float to = q.stop ? 0.0f : q.gain;
            gain_ramp(prompt_scratch.data(), prompt_scratch.data(), q.gain, to, frames);
            if (!q.target) {
                accumulate(total.data(), prompt_scratch.data(), frames);
            } else if (q.target->has_private) {
                accumulate(q.target->private_prompts.data(), prompt_scratch.data(), frames);
            } else {
                std::memcpy(q.target->private_prompts.data(), prompt_scratch.data(), frames * sizeof(float));
                q.target->has_private = true;
            }
            if (q.stop || !more) finish_prompt(i, q.stop);
            else ++i;
        }
        stats.prompts_playing = static_cast<std::uint32_t>(prompts.size());
        std::swap(common, prev_common);
        prev_common_rate = std::exchange(common_rate, mixing_rate);
        std::memcpy(common.data(), total.data(), frames * sizeof(float));
        common_limiter.process({common.data(), frames});
        if (tap_on) {
            detail::spsc_ring* tap = tap_ring.load(std::memory_order_relaxed);  // set before the command that turned it on
            if (tap && tap->push({reinterpret_cast<const std::uint8_t*>(common.data()), frames * sizeof(float)}, mixing_rate))
                stats.tap_frames += frames;
            else
                ++stats.tap_dropped;
        }
    }

    const participant* contributor(participant_id id) const {
        for (const participant* c : contributors)
            if (c->id == id) return c;
        return nullptr;
    }

    // What p hears, limited, at the mixing rate. Returns the buffer to use.
    const float* hear(participant& p) {
        if (p.deaf) {  // only its own prompts reach it (music on hold)
            float* m = p.mix.data();
            std::memcpy(m, p.private_prompts.data(), frames * sizeof(float));
            gain_ramp(m, m, p.output_gain_now, p.output_gain, frames);
            p.output_gain_now = p.output_gain;
            p.chains[output_processors].process(m, frames);
            p.lim.process({m, frames});
            return m;
        }
        bool own = p.contributing;
        bool relations = false;
        for (std::size_t i = 0; i < p.not_heard_count && !relations; ++i) relations = contributor(p.not_heard[i]) != nullptr;
        const bool plain_gain = p.output_gain == 1.0f && p.output_gain_now == 1.0f;
        if (!own && !relations && plain_gain && !p.has_private && !(p.plugins & (1u << output_processors))) return common.data();  // the shared mix most listeners hear
        float* m = p.mix.data();
        if (own) mix_minus(m, total.data(), p.contributed, 1.0f, frames);
        else std::memcpy(m, total.data(), frames * sizeof(float));
        for (std::size_t i = 0; i < p.not_heard_count; ++i)
            if (const participant* c = contributor(p.not_heard[i])) mix_minus(m, m, c->contributed, 1.0f, frames);
        if (p.has_private) accumulate(m, p.private_prompts.data(), frames);
        gain_ramp(m, m, p.output_gain_now, p.output_gain, frames);
        p.output_gain_now = p.output_gain;
        p.chains[output_processors].process(m, frames);
        p.lim.process({m, frames});
        return m;
    }

    // Whether p hears exactly the shared, limited room mix this tick (the
    // test hear() makes first); such listeners can share an encoder.
    bool hears_plain(const participant& p) const {
        if (p.deaf || p.contributing || p.has_private || p.output_gain != 1.0f || p.output_gain_now != 1.0f ||
            (p.plugins & (1u << output_processors)))
            return false;
        for (std::size_t i = 0; i < p.not_heard_count; ++i)
            if (contributor(p.not_heard[i])) return false;
        return true;
    }

    // Which encoder sends p's audio this tick, into `f`. Touches only p (a
    // fork reads the group's state, which nothing writes before the output stage).
    void choose_encoder(participant& p, input_findings& f) {
        const bool silent = p.deaf && !p.has_private;  // hears nothing: nothing is encoded for it
        const bool plain = !silent && hears_plain(p);
        encoder_group* g = p.group;
        if (g) {
            p.plain_ms = plain ? std::min<std::uint32_t>(p.plain_ms + static_cast<std::uint32_t>(tick_ms), shared_rejoin_ms) : 0;
            if (p.on_shared && !plain && !silent) {
                fork_from_group(p, *g);
            } else if (!p.on_shared && plain && p.plain_ms >= shared_rejoin_ms) {
                p.on_shared = true;
                ++p.stats.encoder_switches;
            }
        }
        if (p.on_shared) {
            if (!silent) f.group_uses.push_back(g);
            f.sharing.push_back(&p);
        } else {
            f.encoding.push_back(&p);
        }
    }

    // p leaves the shared encoder for its own, which continues from the shared
    // one's state: its receiver's decoder sees one continuous stream.
    void fork_from_group(participant& p, const encoder_group& g) {
        p.on_shared = false;
        ++p.stats.encoder_switches;
        if (p.own.enc->copy_state_from(*g.stream.enc) != status::ok) p.own.enc->reset();  // cannot happen: checked at join
        p.own.fifo_frames = g.stream.fifo_frames;
        std::memcpy(p.own.fifo.data(), g.stream.fifo.data(), g.stream.fifo_frames * g.stream.channels * sizeof(float));
        // The resampler gets the history the group's had: the previous tick's
        // room mix (longer than its filter), so its output continues the group's.
        if (resampler* rs = p.out_rs) {
            rs->reset();
            if (prev_common_rate == mixing_rate) resample_exact(rs, prev_common.data(), frames, p.own.mono.data(), p.own.tick);
        }
    }

    // Sends the packets of stream `s` this tick under p's RTP header (none
    // but the clock when `audible` is false).
    void send_packets(participant& p, const encode_stream& s, bool audible, std::span<std::uint8_t> packet) {
        for (std::size_t i = 0; i < s.packet_count; ++i) {
            if (audible && s.packets[i].bytes > 0) {
                const std::ptrdiff_t n = p.packetizer.packetize(s.payload(i), p.enc_packet_ts, p.encoding_paused,
                                                                packet, s.packets[i].level);
                p.encoding_paused = false;
                if (n > 0 && p.out->push({packet.data(), static_cast<std::size_t>(n)}, 0)) ++p.stats.packets_out;
                else ++p.stats.packets_out_overflow;
            } else {
                p.packetizer.skip(p.enc_packet_ts);  // DTX, deaf or an encoder error: the timestamp moves on
                p.encoding_paused = true;
            }
        }
    }

    // A group's encoder, on the room mix (or only its packet clock when none
    // of its listeners hears anything this tick).
    void encode_group(encoder_group& g, unsigned w) {
        stage_begin(w);
        if (g.users > 0) g.stream.run(g.current, common.data(), frames, config.talk_stop_dbov);
        else g.stream.run_silent();
        stage_end(w, tick_stage::encode);
    }

    // A participant with its own output: hears, resamples, encodes, packetizes (RTP) or converts (PCM).
    void produce_output(participant& p, unsigned w) {
        stage_begin(w);
        const bool silent = p.deaf && !p.has_private;
        const float* heard = silent ? nullptr : hear(p);
        if (heard && (p.plugins & (1u << output_taps))) p.chains[output_taps].tap(heard, frames);
        stage_end(w, tick_stage::mix);
        if (!p.rtp) {
            const std::size_t out_frames = static_cast<std::size_t>(std::int64_t{p.out_rate} * config.tick_us / 1000000);
            if (heard) {
                resample_exact(p.out_rs, heard, frames, p.out_mono.data(), out_frames);
                p.stats.output_level_dbov = measure_level({p.out_mono.data(), out_frames}).rms;
                upmix(p.out_mono.data(), out_frames, p.out_channels, p.out_frame.data());
                float_to_s16(p.out_frame.data(), p.pcm.data(), out_frames * p.out_channels);
            } else {  // a PCM host still expects a frame per tick
                p.stats.output_level_dbov = -127.0f;
                std::fill_n(p.pcm.data(), out_frames * p.out_channels, std::int16_t{0});
            }
            stage_end(w, tick_stage::resample_out);
            if (p.out->push({reinterpret_cast<const std::uint8_t*>(p.pcm.data()), out_frames * p.out_channels * sizeof(std::int16_t)}, 0))
                ++p.stats.packets_out;
            else
                ++p.stats.packets_out_overflow;
            return;
        }
        if (heard) p.own.run(p.out_rs, heard, frames, config.talk_stop_dbov);
        else p.own.run_silent();  // silence into the FIFO: audio queued before it went deaf is not sent late
        p.stats.frames_encoded = p.own.frames_encoded;
        p.stats.output_level_dbov = p.own.level;
        stage_end(w, tick_stage::encode);
        send_packets(p, p.own, true, datagrams[w].span());
        stage_end(w, tick_stage::packetize);
    }

    // A listener on a shared encoder: the group's payloads under its own header.
    void send_shared(participant& p, unsigned w) {
        stage_begin(w);
        const bool audible = !(p.deaf && !p.has_private);
        p.stats.output_level_dbov = audible ? p.group->stream.level : -127.0f;
        if (audible && (p.plugins & (1u << output_taps))) p.chains[output_taps].tap(common.data(), frames);
        send_packets(p, p.group->stream, audible, datagrams[w].span());
        for (std::size_t i = 0; audible && i < p.group->stream.packet_count; ++i)
            if (p.group->stream.packets[i].bytes > 0) ++p.stats.packets_shared;
        stage_end(w, tick_stage::packetize);
    }

    std::int64_t tick_now_us = 0;

    // Plugin taps on the room mix (what the mix tap gets) and on each voice.
    void run_taps() {
        room_taps.tap(common.data(), frames);
        for (std::size_t i = 0; input_taps_attached > 0 && i < active.size(); ++i) {
            participant* p = active[i];
            if (!(p->plugins & (1u << input_taps))) continue;
            if (p->skipped) std::fill_n(p->input.data(), frames, 0.0f);  // not decoded this tick: silence
            p->chains[input_taps].tap(p->input.data(), frames);
        }
    }

    // The rest of the input pass for one participant: talk detection, the
    // mixing candidates, and the encoder of everyone whose choice cannot
    // depend on the mix, into `f`. Touches only p.
    void after_input(participant& p, input_findings& f) {
        detect_talk(p);
        if (has_events(p)) f.eventful.push_back(&p);
        p.has_private = false;
        f.decoders_skipped += p.skipped ? 1 : 0;
        if (p.talking || p.selected || p.ramp > 0.0f) {
            f.candidates.push_back(&p);
            if (!p.leaving) f.deferred.push_back(&p);  // what it hears depends on the mix
            return;
        }
        p.contributing = false;
        p.challenge_ms = 0;
        p.stats.mixed = false;
        if (p.leaving) return;
        // Not in the mix: it hears the plain room mix unless a prompt, a
        // "does not hear" relation or its own output settings say otherwise.
        // A move off the shared encoder forks it from the group with the last
        // tick's mix, which mix_prompts() sets aside: that one waits too.
        const bool silent = p.deaf;  // no prompt for it: nothing is encoded
        if (p.prompts_pending == 0 && p.not_heard_count == 0 && !(p.on_shared && !silent && !hears_plain(p)))
            choose_encoder(p, f);
        else
            f.deferred.push_back(&p);
    }

    // Runs body(*items[i]) for i in [begin, end) and asks for each item's
    // lines ahead of its turn: ahead(items[j], stage) at ahead_distance[stage]
    // places before it, for stages [0, stages). A big room is bound by memory
    // latency; all stays within the range, which is this worker's alone.
    template <class Ahead, class Body>
    static void pipelined(participant* const* items, std::size_t begin, std::size_t end, unsigned stages, Ahead ahead, Body body) {
        constexpr std::size_t lead = ahead_distance[0];
        for (std::size_t k = 0; k < end - begin + lead; ++k) {  // begin + k - lead's turn: lead steps early, to fill the pipeline
            for (unsigned stage = 0; stage < stages; ++stage) {
                const std::size_t j = begin + k + ahead_distance[stage];  // (+ lead: the item is j - lead)
                if (j >= begin + lead && j < end + lead) ahead(items[j - lead], stage);
            }
            if (k >= lead) body(*items[begin + k - lead]);
        }
    }

    // The input pass over active[begin, end) on worker w (stage 3 of
    // ahead_input reads state the tick writes: the range is this worker's).
    void input_range(std::size_t begin, std::size_t end, unsigned w, input_findings& f) {
        pipelined(active.data(), begin, end, 4, [](const participant* p, unsigned stage) { ahead_input(p, stage); },
                  [&](participant& p) {
                      take_input(p, w);
                      after_input(p, f);
                  });
    }

    // The output stage as one pool job of items: the groups' encoders, then
    // the participants with their own output, then the shared listeners in
    // blocks. A listener first waits for its group's encoder. The pool claims
    // items in increasing order, so by then that encoder is claimed by a
    // running thread that waits for nothing: the wait is at most one encode,
    // and a talker's own encode runs beside the shared one instead of after
    // it (with three encodes on two threads, one thread used to wait).
    std::size_t output_items() const {
        return groups.size() + lists.encoding.size() + (lists.sharing.size() + block_size - 1) / block_size;
    }
    void output_item(std::size_t i, unsigned w) {
        if (i < groups.size()) {
            encode_group(*groups[i], w);
            groups[i]->encoded.store(true, std::memory_order_release);
            return;
        }
        i -= groups.size();
        if (i < lists.encoding.size()) {
            produce_output(*lists.encoding[i], w);
            return;
        }
        i -= lists.encoding.size();
        send_shared_range(i * block_size, std::min(lists.sharing.size(), (i + 1) * block_size), w);
    }
    // This tick's encodes worth a pool worker (counted only when there is a pool).
    std::size_t costly_encodes() const {
        std::size_t n = 0;
        for (const encoder_group* g : groups) n += g->stream.costly ? 1 : 0;
        for (const participant* p : lists.encoding) n += p->rtp && p->own.costly ? 1 : 0;
        return n;
    }
    void send_shared_range(std::size_t begin, std::size_t end, unsigned w) {
        pipelined(lists.sharing.data(), begin, end, 3, [](const participant* p, unsigned stage) { ahead_output(p, stage); },
                  [&](participant& p) {
                      while (!p.group->encoded.load(std::memory_order_acquire)) detail::cpu_relax();
                      send_shared(p, w);
                  });
    }

    void run_tick(std::int64_t now_us) {
        tick_now_us = now_us;
        command c;
        while (commands.pop(c)) apply(c);
        stats.commands_dropped = commands_dropped.load(std::memory_order_relaxed);
        // Input (receive, jitter buffer, decode), talk detection, this tick's
        // flags, the mixing candidates, and the encoder of everyone whose
        // choice cannot depend on the mix: one pass per participant (a big
        // room is bound by memory latency: each pass costs misses on each),
        // per block on the workers; then, serially, the blocks' findings in
        // order, and the events.
        for (encoder_group* g : groups) g->users = 0;
        lists.clear();
        if (pool && active.size() > block_size) {  // (one block: straight into `lists`, no merge)
            struct input_job {
                impl* self;
                static void run(void* ctx, std::size_t b, unsigned w) noexcept {
                    impl& r = *static_cast<input_job*>(ctx)->self;
                    input_findings& f = r.blocks[b];
                    f.clear();
                    r.input_range(b * block_size, std::min(r.active.size(), (b + 1) * block_size), w, f);
                }
            } job{this};
            const std::size_t count = (active.size() + block_size - 1) / block_size;
            pool->run(count, &input_job::run, &job);
            for (std::size_t b = 0; b < count; ++b) lists.append(blocks[b]);
        } else {
            input_range(0, active.size(), 0, lists);
        }
        for (participant* p : lists.eventful) report_events(*p);
        stats.decoders_skipped = lists.decoders_skipped;
        stage_begin(0);
        select_talkers();
        mix_room();
        mix_prompts();
        run_taps();
        stage_end(0, tick_stage::mix);
        // Output: the encoders of those whose choice waited for the mix, then every encoder, then the shared payloads.
        for (participant* p : lists.deferred) choose_encoder(*p, lists);
        for (encoder_group* g : lists.group_uses) ++g->users;
        for (encoder_group* g : groups) g->encoded.store(false, std::memory_order_relaxed);  // (published by the pool's start)
        // The pool pays off for listener blocks of a big room, or for two
        // encodes that cost something. A small G.711 room's whole output
        // stage is a few µs, less than handing part of it to another core:
        // 2,000 such rooms ticked on one two-thread pool took 9-10 ms against
        // 5.2 ms inline.
        if (pool && (lists.sharing.size() > block_size || costly_encodes() >= 2)) {
            struct output_job {
                impl* self;
                static void run(void* ctx, std::size_t i, unsigned w) noexcept { static_cast<output_job*>(ctx)->self->output_item(i, w); }
            } job{this};
            pool->run(output_items(), &output_job::run, &job);
        } else {  // the same order, the listeners as one range
            for (std::size_t i = 0; i < groups.size() + lists.encoding.size(); ++i) output_item(i, 0);
            send_shared_range(0, lists.sharing.size(), 0);
        }
        stats.encoders_run = 0;
        for (encoder_group* g : groups) stats.encoders_run += g->users > 0 ? 1 : 0;
        for (participant* p : lists.encoding) stats.encoders_run += p->rtp && !(p->deaf && !p->has_private) ? 1 : 0;
        stats.shared_encoders = static_cast<std::uint32_t>(groups.size());
        stats.listeners_shared = static_cast<std::uint32_t>(lists.sharing.size());
        // Leaving participants go once they are ramped out of the mix.
        for (std::size_t i = 0; leaving_count > 0 && i < active.size();) {
            participant* p = active[i];
            if (p->leaving && p->ramp == 0.0f) {
                emit({room_event_kind::left, p->id});
                --leaving_count;
                forget_relations_to(p->id);
                active[i] = active.back();
                active.pop_back();
                by_slot[p->slot] = nullptr;
                (void)retired.push(p);  // capacity covers every slot
            } else {
                ++i;
            }
        }
        stats.participants = static_cast<std::uint32_t>(active.size());
        if (config.profile_stages) {
            const unsigned threads = pool ? pool->threads() : 1;
            for (std::size_t k = 0; k < static_cast<std::size_t>(tick_stage::count); ++k) {
                std::uint64_t sum = 0;
                for (unsigned w = 0; w < threads; ++w) sum += clocks[w].ns[k];
                stats.stage_ns[k] = sum;
            }
        }
    }
};

// ---------------------------------------------------------------------------

room::room(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}

room::~room() {
    if (!impl_) return;
    impl_->collect_retired();
    for (participant* p : impl_->control_slots) delete p;  // every participant not yet retired has its slot
    for (prompt* q : impl_->control_prompts) delete q;      // and every prompt not yet freed is listed
    for (encoder_group* g : impl_->control_groups) delete g;  // and every shared encoder
    for (auto& a : impl_->attachments) a.instance->release();  // the host may attach them elsewhere
}

status room::create(const room_config& config, std::unique_ptr<room>& out, std::string* error) noexcept {
    auto fail = [&](const char* why) {
        if (error) *error = why;
        return status::invalid_argument;
    };
    if (config.tick_us != 10000 && config.tick_us != 20000 && config.tick_us != 40000) return fail("tick_us must be 10000, 20000 or 40000");
    if (config.mixing_rate_hz != 0 && rate_index(config.mixing_rate_hz) >= mixing_rate_count) return fail("mixing rate out of range");
    if (config.mixing_rate_hz != 0 && mixing_rates[rate_index(config.mixing_rate_hz)] != config.mixing_rate_hz)
        return fail("mixing_rate_hz must be 8000, 12000, 16000, 24000, 32000, 48000 or 0 (automatic)");
    if (config.max_participants < 1 || config.max_participants > 100000) return fail("max_participants must be 1..100000");
    if (config.loudest_n < 1 || config.loudest_n > 16) return fail("loudest_n must be 1..16");
    if (config.event_capacity < 16) return fail("event_capacity must be at least 16");
    if (config.max_prompts < 1 || config.max_prompts > 1024) return fail("max_prompts must be 1..1024");
    try {
        auto p = std::make_unique<impl>(config);
        p->slots = std::make_unique<std::atomic<participant*>[]>(config.max_participants);
        for (std::uint32_t i = 0; i < config.max_participants; ++i) p->slots[i].store(nullptr);
        p->control_slots.assign(config.max_participants, nullptr);
        for (std::uint32_t i = config.max_participants; i > 0; --i) p->free_slots.push_back(i - 1);
        p->active.reserve(config.max_participants);
        p->by_slot.assign(config.max_participants, nullptr);
        p->contributors.reserve(config.max_participants);
        p->sources.reserve(config.max_participants);
        p->prompts.reserve(config.max_prompts);
        p->groups.reserve(config.max_participants);
        p->control_groups.reserve(config.max_participants);
        p->lists.reserve(config.max_participants);
        p->pool = config.workers;
        if (p->pool && config.max_participants > impl::block_size) {  // (a room of one block never runs its input on the pool)
            p->blocks.resize((config.max_participants + impl::block_size - 1) / impl::block_size);
            for (input_findings& b : p->blocks) b.reserve(impl::block_size);
        }
        for (unsigned w = 0; w < (config.workers ? config.workers->threads() : 1u); ++w)
            p->datagrams.emplace_back(max_datagram);
        p->control_prompts.reserve(config.max_prompts);
        p->max_frames = static_cast<std::size_t>(std::int64_t{max_mixing_rate} * config.tick_us / 1000000);
        p->total = aligned_buffer<float>(p->max_frames);
        p->common = aligned_buffer<float>(p->max_frames);
        p->prev_common = aligned_buffer<float>(p->max_frames);
        p->prompt_scratch = aligned_buffer<float>(p->max_frames);
        p->tick_ms = config.tick_us / 1000;
        p->rx_tokens_per_tick = static_cast<std::uint32_t>(std::uint64_t{max_receive_packets_per_second} * config.tick_us / 1000000);
        const std::uint32_t rate = config.mixing_rate_hz ? config.mixing_rate_hz : 8000;
        p->control_rate = rate;
        p->select_rate(rate);
        out.reset(new room(std::move(p)));
        return status::ok;
    } catch (const std::bad_alloc&) {
        if (error) *error = "out of memory";
        return status::out_of_memory;
    }
}

codec_registry& room::codecs() noexcept { return impl_->registry; }

namespace {

// Builds what every participant has: rings, paths, mixing buffers.
status build_common(room::impl& r, participant& p, std::string* error) {
    p.in_ring = std::make_unique<detail::spsc_ring>(ring_bytes);
    p.out_ring = std::make_unique<detail::spsc_ring>(ring_bytes);
    p.in = p.in_ring.get();
    p.out = p.out_ring.get();
    p.needed_rate = mixing_rates[rate_index(std::max(p.in_rate, p.out_rate))];
    std::size_t n = 0;
    for (std::uint32_t rate : mixing_rates) {
        if (r.config.mixing_rate_hz != 0 && rate != r.config.mixing_rate_hz) continue;
        rate_path& path = p.paths[n++];
        path.mixing_rate = rate;
        status s = resampler::create(p.in_rate, rate, 1, path.in);
        if (s == status::ok) s = resampler::create(rate, p.out_rate, 1, path.out);
        if (s != status::ok) {
            if (error) *error = s == status::out_of_memory ? "out of memory" : "cannot create a resampler for this participant's rates";
            return s;
        }
    }
    const auto tick = [&](std::uint32_t rate) { return static_cast<std::size_t>(std::int64_t{rate} * r.config.tick_us / 1000000); };
    p.decoded = aligned_buffer<float>(tick(p.in_rate) * p.in_channels);
    p.mono_in = aligned_buffer<float>(tick(p.in_rate));
    p.input = aligned_buffer<float>(r.max_frames);
    p.contribution = aligned_buffer<float>(r.max_frames);
    p.mix = aligned_buffer<float>(r.max_frames);
    if (!p.rtp) {
        p.out_mono = aligned_buffer<float>(tick(p.out_rate) + 16);
        p.out_frame = aligned_buffer<float>((tick(p.out_rate) + 16) * p.out_channels);
    }
    p.pcm = aligned_buffer<std::int16_t>(std::max(tick(p.in_rate) * p.in_channels, tick(p.out_rate) * p.out_channels) + 16);
    p.not_heard = aligned_buffer<participant_id>(r.config.max_relations);
    p.private_prompts = aligned_buffer<float>(r.max_frames);
    return status::ok;
}

}  // namespace

// Whether an encode of this format costs enough to hand to another core: a
// G.711 or L16 tick is a table or a copy, which waking a worker outweighs.
static bool costly_to_encode(const sdp_format& f) { return !(f.is("PCMU") || f.is("PCMA") || f.is("L16")); }

// The shared encoder for a listener with this send format and these options:
// an existing group, or a new one (in `made`, not yet handed to the tick), or
// nullptr when the codec cannot fork an encoder (then it always has its own).
// Returns out_of_memory when a new group cannot be built for lack of memory
// (the join fails rather than quietly costing an encoder per listener).
static status find_group(room::impl& r, participant& p, const rtp_participant_config& config,
                         std::unique_ptr<encoder_group>& made, encoder_group*& out) {
    out = nullptr;
    sdp_format key = config.send;
    key.payload_type = 0;
    for (encoder_group* g : r.control_groups)
        if (!g->dropped && g->format == key && g->options == config.options) {
            out = g;
            return status::ok;
        }
    auto g = std::make_unique<encoder_group>();
    g->format = std::move(key);
    g->options = config.options;
    std::unique_ptr<encoder> enc;
    if (const status s = r.registry.make_encoder(config.send, config.options, enc, nullptr); s != status::ok)
        return s == status::out_of_memory ? s : status::ok;
    // Not yet seen by the tick, so both encoders are free to touch here.
    if (p.own.enc->copy_state_from(*enc) != status::ok) return status::ok;
    g->stream.init(std::move(enc), r.config.tick_us);
    g->stream.costly = costly_to_encode(config.send);
    for (std::size_t i = 0; i < mixing_rate_count; ++i) {
        if (r.config.mixing_rate_hz != 0 && mixing_rates[i] != r.config.mixing_rate_hz) continue;
        if (const status s = resampler::create(mixing_rates[i], g->stream.rate, 1, g->to[i]); s != status::ok)
            return s == status::out_of_memory ? s : status::ok;
    }
    made = std::move(g);
    out = made.get();
    return status::ok;
}

// Registers a built participant with the control side and hands it to the
// tick (after its new shared encoder, if it brings one).
static status admit(room::impl& r, std::unique_ptr<participant> p, participant_id& out, std::string* error,
                    std::unique_ptr<encoder_group> new_group = nullptr) {
    r.collect_retired();
    if (r.free_slots.empty()) {
        if (error) *error = "the room is full (max_participants)";
        return status::out_of_memory;
    }
    if (new_group) {
        if (!r.commands.push({command_kind::add_group, nullptr, 0, 0.0f, nullptr, new_group.get()})) {
            if (error) *error = "control queue full";
            return status::out_of_memory;
        }
        r.control_groups.push_back(new_group.release());  // reserved to max_participants
    }
    const std::size_t slot = r.free_slots.back();
    p->slot = slot;
    // id - 1 = serial * max_participants + slot must fit in 32 bits, or lookup()
    // stops finding the slot (and an id may become 0): the serial counts modulo
    // the largest multiplier that fits, so an id repeats only after that many joins.
    const std::uint32_t serials = std::numeric_limits<participant_id>::max() / r.config.max_participants;
    p->id = static_cast<participant_id>(std::uint64_t{r.next_serial++ % serials} * r.config.max_participants + slot + 1);
    participant* raw = p.get();
    const std::uint32_t rate = r.config.mixing_rate_hz ? r.config.mixing_rate_hz : std::max(r.control_rate, raw->needed_rate);
    if (!r.commands.push({command_kind::add, raw})) {
        if (error) *error = "control queue full";
        return status::out_of_memory;
    }
    r.free_slots.pop_back();
    if (raw->group) ++raw->group->control_members;  // a group whose first member's add failed waits, empty, for the next
    r.control_slots[slot] = p.release();
    r.slots[slot].store(raw, std::memory_order_release);
    if (rate != r.control_rate) {
        r.control_rate = rate;
        (void)r.commands.push({command_kind::set_rate, nullptr, 0, static_cast<float>(rate)});
    }
    out = raw->id;
    return status::ok;
}

status room::join_rtp(const rtp_participant_config& config, participant_id& out, std::string* error) {
    const auto refuse = [&](const char* why) {
        if (error) *error = why;
        return status::invalid_argument;
    };
    const auto payload_type_ok = [](int pt) { return pt >= -1 && pt <= 127; };
    if (!payload_type_ok(config.telephone_event_payload_type))
        return refuse("telephone_event_payload_type must be 0..127, or -1 when not negotiated");
    if (!payload_type_ok(config.comfort_noise_payload_type))
        return refuse("comfort_noise_payload_type must be 0..127, or -1 when not negotiated");
    if (config.telephone_event_payload_type >= 0 && config.telephone_event_payload_type == config.receive.payload_type)
        return refuse("telephone_event_payload_type is the audio payload type");
    if (config.comfort_noise_payload_type >= 0 && config.comfort_noise_payload_type == config.receive.payload_type)
        return refuse("comfort_noise_payload_type is the audio payload type");
    if (config.audio_level_extension_id > 14)  // RFC 8285: one-byte ids are 1..14 (15 is reserved)
        return refuse("audio_level_extension_id must be 1..14, or 0 when not negotiated");
    impl& r = *impl_;
    std::lock_guard lock(r.control_mutex);
    try {
        auto p = std::make_unique<participant>();
        p->rtp = true;
        status s = r.registry.make_decoder(config.receive, config.options, p->dec, error);
        if (s != status::ok) return s;
        std::unique_ptr<encoder> enc;
        s = r.registry.make_encoder(config.send, config.options, enc, error);
        if (s != status::ok) return s;
        const audio_format in = p->dec->format(), outf = enc->format();
        p->in_rate = in.sample_rate_hz;
        p->in_channels = in.channels;
        p->out_rate = outf.sample_rate_hz;
        p->out_channels = outf.channels;
        if (p->in_channels > 2 || p->out_channels > 2) {
            if (error) *error = "more than two channels";
            return status::unsupported;
        }
        p->own.init(std::move(enc), r.config.tick_us);
        p->own.costly = costly_to_encode(config.send);
        p->send_clock_hz = config.send.clock_rate_hz;
        p->enc_packet_ts = static_cast<std::uint32_t>(std::uint64_t{outf.frame_us} * p->send_clock_hz / 1000000);
        p->receive_pt = config.receive.payload_type;
        p->receive_opus = config.receive.is("opus");
        p->receive_g711 = config.receive.is("PCMU") || config.receive.is("PCMA");
        p->receive_law = config.receive.is("PCMA") ? g711_law::a_law : g711_law::mu_law;
        p->telephone_event_pt = config.telephone_event_payload_type;
        p->comfort_noise_pt = config.comfort_noise_payload_type;
        p->audio_level_id = config.audio_level_extension_id;
        jitter_buffer_config jc;
        jc.rtp_clock_hz = config.receive.clock_rate_hz;
        jc.tick_us = r.config.tick_us;
        jc.min_delay_ms = config.jitter_min_delay_ms;
        jc.max_delay_ms = config.jitter_max_delay_ms;
        jc.comfort_noise_payload_type = config.comfort_noise_payload_type;
        s = jitter_buffer::create(jc, *p->dec, p->jb);
        p->jb_ = p->jb.get();
        if (s != status::ok) {
            if (error) *error = s == status::out_of_memory ? "out of memory" : "invalid jitter buffer settings";
            return s;
        }
        rtp_packetizer_config pc;
        pc.ssrc = config.ssrc;
        pc.payload_type = config.send.payload_type;
        pc.clock_rate_hz = config.send.clock_rate_hz;
        pc.audio_level_id = config.audio_level_extension_id;
        if (config.telephone_event_payload_type >= 0)
            pc.telephone_event_payload_type = static_cast<std::uint8_t>(config.telephone_event_payload_type);
        s = p->packetizer.init(pc);
        if (s != status::ok) {
            if (error) *error = "invalid RTP settings for the outgoing stream";
            return s;
        }
        p->dtmf = telephone_event_decoder({.clock_rate_hz = config.telephone_event_clock_hz});
        s = build_common(r, *p, error);
        if (s != status::ok) return s;
        std::unique_ptr<encoder_group> new_group;
        if (r.config.encoding == encoding_mode::shared && find_group(r, *p, config, new_group, p->group) != status::ok) {
            if (error) *error = "out of memory";
            return status::out_of_memory;
        }
        return admit(r, std::move(p), out, error, std::move(new_group));
    } catch (const std::bad_alloc&) {
        if (error) *error = "out of memory";
        return status::out_of_memory;
    }
}

status room::join_pcm(const pcm_participant_config& config, participant_id& out, std::string* error) {
    impl& r = *impl_;
    std::lock_guard lock(r.control_mutex);
    if (rate_index(config.sample_rate_hz) >= mixing_rate_count || config.sample_rate_hz < 8000 || config.sample_rate_hz > 48000 ||
        config.channels < 1 || config.channels > 2) {
        if (error) *error = "PCM participants need 8000..48000 Hz and 1 or 2 channels";
        return status::invalid_argument;
    }
    try {
        auto p = std::make_unique<participant>();
        p->in_rate = p->out_rate = config.sample_rate_hz;
        p->in_channels = p->out_channels = config.channels;
        const status s = build_common(r, *p, error);
        if (s != status::ok) return s;
        return admit(r, std::move(p), out, error);
    } catch (const std::bad_alloc&) {
        if (error) *error = "out of memory";
        return status::out_of_memory;
    }
}

status room::leave(participant_id id) {
    impl& r = *impl_;
    std::lock_guard lock(r.control_mutex);
    r.collect_retired();
    participant* p = r.lookup(id);
    if (!p || p->leave_requested) return status::not_found;
    if (!r.commands.push({command_kind::remove, p})) return status::out_of_memory;
    r.slots[p->slot].store(nullptr, std::memory_order_release);
    const std::uint32_t before = r.control_rate;
    p->leave_requested = true;
    if (encoder_group* g = p->group; g && --g->control_members == 0 &&
        r.commands.push({command_kind::drop_group, nullptr, 0, 0.0f, nullptr, g}))
        g->dropped = true;  // (if the queue is full it stays, empty, for the next listener like it)
    if (!r.config.mixing_rate_hz) {
        const std::uint32_t rate = r.wanted_rate();
        if (rate != before) {
            r.control_rate = rate;
            (void)r.commands.push({command_kind::set_rate, nullptr, 0, static_cast<float>(rate)});
        }
    }
    return status::ok;
}

namespace {
// `also` (if not 0): a second participant that must be in the room too.
status control(room::impl& r, participant_id id, command c, participant_id also = 0) {
    std::lock_guard lock(r.control_mutex);
    r.collect_retired();
    participant* p = r.lookup(id);
    if (!p || (also != 0 && !r.lookup(also))) return status::not_found;
    c.target = p;
    return r.send(c);
}
}  // namespace

status room::set_input_gain(participant_id id, float gain) {
    if (!(gain >= 0.0f && gain <= 100.0f)) return status::invalid_argument;
    return control(*impl_, id, {command_kind::input_gain, nullptr, 0, gain});
}
status room::set_output_gain(participant_id id, float gain) {
    if (!(gain >= 0.0f && gain <= 100.0f)) return status::invalid_argument;
    return control(*impl_, id, {command_kind::output_gain, nullptr, 0, gain});
}
status room::set_muted(participant_id id, bool muted) { return control(*impl_, id, {command_kind::mute, nullptr, 0, muted ? 1.0f : 0.0f}); }
status room::set_deaf(participant_id id, bool deaf) { return control(*impl_, id, {command_kind::deaf, nullptr, 0, deaf ? 1.0f : 0.0f}); }
status room::set_hears(participant_id listener, participant_id talker, bool hears) {
    if (listener == talker || talker == 0) return status::invalid_argument;
    // "Does not hear" needs the talker in the room; "hears" of one who left is
    // a no-op that succeeds (its entry went when it left).
    return control(*impl_, listener, {hears ? command_kind::hears : command_kind::not_hears, nullptr, talker, 0.0f},
                   hears ? 0 : talker);
}

namespace {

// Builds a prompt from float or int16 samples and hands it to the tick.
template <class Sample>
status play(room::impl& r, participant_id target, std::span<const Sample> samples, std::uint32_t rate, prompt_id& out, float gain) {
    if (samples.empty() || rate < 8000 || rate > 48000 || !(gain >= 0.0f && gain <= 100.0f)) return status::invalid_argument;
    std::lock_guard lock(r.control_mutex);
    r.collect_retired();
    if (r.control_prompts.size() >= r.config.max_prompts) return status::out_of_memory;
    participant* t = nullptr;
    if (target != whole_room) {
        t = r.lookup(target);
        if (!t || t->leave_requested) return status::not_found;
    }
    try {
        auto q = std::make_unique<prompt>();
        q->target_id = target;
        q->target = t;
        q->gain = gain;
        q->chunk = static_cast<std::size_t>((std::uint64_t{rate} * r.config.tick_us + 999999) / 1000000);
        std::size_t latency = 0;
        for (std::size_t i = 0; i < mixing_rate_count; ++i) {
            if (r.config.mixing_rate_hz != 0 && mixing_rates[i] != r.config.mixing_rate_hz) continue;
            if (resampler::create(rate, mixing_rates[i], 1, q->to[i]) != status::ok) return status::invalid_argument;
            latency = std::max(latency, q->to[i]->input_latency());
        }
        // The zeros after the samples push the resampler's last outputs out.
        q->source = aligned_buffer<float>(samples.size() + latency + q->chunk);
        if constexpr (std::is_same_v<Sample, float>) std::copy(samples.begin(), samples.end(), q->source.data());
        else s16_to_float(samples.data(), q->source.data(), samples.size());
        q->fifo = aligned_buffer<float>(2 * r.max_frames + 64);
        q->id = r.next_prompt++;
        // control_prompts has max_prompts reserved: this push_back cannot throw after the command is queued.
        if (!r.commands.push({command_kind::play, nullptr, 0, 0.0f, q.get()})) {
            r.commands_dropped.fetch_add(1, std::memory_order_relaxed);
            return status::out_of_memory;
        }
        out = q->id;
        r.control_prompts.push_back(q.release());
        return status::ok;
    } catch (const std::bad_alloc&) {
        return status::out_of_memory;
    }
}

}  // namespace

status room::play_prompt(participant_id target, std::span<const float> samples, std::uint32_t rate_hz, prompt_id& out, float gain) {
    return play(*impl_, target, samples, rate_hz, out, gain);
}
status room::play_prompt(participant_id target, std::span<const std::int16_t> samples, std::uint32_t rate_hz, prompt_id& out,
                         float gain) {
    return play(*impl_, target, samples, rate_hz, out, gain);
}

status room::stop_prompt(prompt_id id) {
    impl& r = *impl_;
    std::lock_guard lock(r.control_mutex);
    r.collect_retired();
    // By id, not pointer: the tick may retire the prompt (and a control call free it) before the command lands.
    if (id == 0 || std::none_of(r.control_prompts.begin(), r.control_prompts.end(), [&](const prompt* q) { return q->id == id; }))
        return status::not_found;
    return r.send({command_kind::stop_prompt, nullptr, id, 0.0f});
}

status room::enable_tap(bool enabled) {
    impl& r = *impl_;
    std::lock_guard lock(r.control_mutex);
    r.collect_retired();
    if (enabled && !r.tap_owner) {
        try {
            r.tap_owner = std::make_unique<detail::spsc_ring>(tap_ring_bytes);
        } catch (const std::bad_alloc&) {
            return status::out_of_memory;
        }
        r.tap_ring.store(r.tap_owner.get(), std::memory_order_release);
    }
    return r.send({command_kind::tap, nullptr, 0, enabled ? 1.0f : 0.0f});
}

status room::attach_plugin(participant_id target, plugin_point where, std::shared_ptr<plugin_instance> instance, attachment_id& out,
                           std::string* error) {
    impl& r = *impl_;
    auto fail = [&](status s, const char* why) {
        if (error) *error = why;
        return s;
    };
    if (!instance) return fail(status::invalid_argument, "no plugin instance");
    const bool processor = instance->kind() == plugin_kind::processor;
    std::uint32_t chain = 0;
    switch (where) {
        case plugin_point::input: chain = processor ? input_processors : input_taps; break;
        case plugin_point::output: chain = processor ? output_processors : output_taps; break;
        case plugin_point::room_mix:
            if (processor) return fail(status::invalid_argument, "only taps can be attached to the room mix (mix-minus needs the unprocessed mix)");
            break;
        default: return fail(status::invalid_argument, "unknown plugin point");
    }
    if ((where == plugin_point::room_mix) != (target == whole_room))
        return fail(status::invalid_argument, "the room mix takes target whole_room, the other points a participant");
    if (r.config.mixing_rate_hz == 0)
        return fail(status::unsupported, "plugins need a room with a fixed mixing rate (room_config::mixing_rate_hz)");
    std::lock_guard lock(r.control_mutex);
    r.collect_retired();
    participant* p = nullptr;
    if (target != whole_room) {
        p = r.lookup(target);
        if (!p || p->leave_requested) return fail(status::not_found, "no such participant");
    }
    const auto used = std::count_if(r.attachments.begin(), r.attachments.end(),
                                    [&](const impl::attachment& a) { return a.target == p && a.chain == chain; });
    if (static_cast<std::size_t>(used) >= max_plugins_per_point)
        return fail(status::out_of_memory, "max_plugins_per_point plugins are attached there already");
    if (!instance->claim()) return fail(status::invalid_argument, "the plugin instance is attached already");
    try {
        const std::uint32_t frames = static_cast<std::uint32_t>(std::uint64_t{r.config.mixing_rate_hz} * r.config.tick_us / 1000000);
        if (status s = instance->activate(r.config.mixing_rate_hz, frames, error); s != status::ok) {
            instance->release();
            return s;
        }
        r.attachments.reserve(r.attachments.size() + 1);  // so that nothing below can throw once the command is queued
        command c{command_kind::plugin_attach, p, chain, 0.0f};
        c.plugin = instance.get();
        if (r.send(c) != status::ok) {
            instance->release();
            return fail(status::out_of_memory, "control queue full");
        }
        out = r.next_attachment++;
        r.attachments.push_back({out, p, chain, std::move(instance), false});
        return status::ok;
    } catch (const std::bad_alloc&) {
        instance->release();
        return fail(status::out_of_memory, "out of memory");
    }
}

status room::detach_plugin(attachment_id id) {
    impl& r = *impl_;
    std::lock_guard lock(r.control_mutex);
    r.collect_retired();
    const auto it = std::find_if(r.attachments.begin(), r.attachments.end(), [&](const impl::attachment& a) { return a.id == id; });
    if (id == 0 || it == r.attachments.end() || it->detaching) return status::not_found;
    if (it->target && it->target->leave_requested) return status::ok;  // it goes with its participant
    // Detaches in flight stay below retired_plugins' capacity, so the tick's push never fails.
    if (std::count_if(r.attachments.begin(), r.attachments.end(), [](const impl::attachment& a) { return a.detaching; }) >= 60)
        return status::out_of_memory;
    command c{command_kind::plugin_detach, it->target, it->chain, 0.0f};
    c.plugin = it->instance.get();
    if (status s = r.send(c); s != status::ok) return s;
    it->detaching = true;
    return status::ok;
}

std::ptrdiff_t room::pull_tap(std::span<float> out, std::uint32_t* rate_hz) noexcept {
    detail::spsc_ring* tap = impl_->tap_ring.load(std::memory_order_acquire);
    if (!tap) return 0;
    std::int64_t rate = 0;
    const std::ptrdiff_t n = tap->pop({reinterpret_cast<std::uint8_t*>(out.data()), out.size() * sizeof(float)}, rate);
    if (n == -1) return 0;
    if (n < 0) return as_count(status::buffer_too_small);
    if (rate_hz) *rate_hz = static_cast<std::uint32_t>(rate);
    return n / static_cast<std::ptrdiff_t>(sizeof(float));
}

status room::push_rtp(participant_id id, std::span<const std::uint8_t> datagram, std::int64_t arrival_us) noexcept {
    participant* p = impl_->lookup(id);
    if (!p) return status::not_found;
    if (!p->rtp) return status::invalid_argument;
    p->io_packets_in.fetch_add(1, std::memory_order_relaxed);
    if (datagram.empty() || datagram.size() > max_datagram) {
        p->io_rejected.fetch_add(1, std::memory_order_relaxed);
        return status::invalid_argument;
    }
    if (!p->in->push(datagram, arrival_us)) {
        p->io_overflow.fetch_add(1, std::memory_order_relaxed);
        return status::buffer_too_small;
    }
    return status::ok;
}

status room::push_pcm(participant_id id, interleaved_view<const std::int16_t> frame) noexcept {
    participant* p = impl_->lookup(id);
    if (!p) return status::not_found;
    if (p->rtp || frame.channels() != p->in_channels ||
        frame.frames() != static_cast<std::size_t>(std::int64_t{p->in_rate} * impl_->config.tick_us / 1000000))
        return status::invalid_argument;
    p->io_packets_in.fetch_add(1, std::memory_order_relaxed);
    if (!p->in->push({reinterpret_cast<const std::uint8_t*>(frame.data()), frame.samples().size() * sizeof(std::int16_t)}, 0)) {
        p->io_overflow.fetch_add(1, std::memory_order_relaxed);
        return status::buffer_too_small;
    }
    return status::ok;
}

std::ptrdiff_t room::pull_rtp(participant_id id, std::span<std::uint8_t> out) noexcept {
    participant* p = impl_->lookup(id);
    if (!p) return as_count(status::not_found);
    if (!p->rtp) return as_count(status::invalid_argument);
    std::int64_t stamp;
    const std::ptrdiff_t n = p->out->pop(out, stamp);
    if (n == -1) return 0;
    return n < 0 ? as_count(status::buffer_too_small) : n;
}

std::ptrdiff_t room::pull_pcm(participant_id id, interleaved_view<std::int16_t> frame) noexcept {
    participant* p = impl_->lookup(id);
    if (!p) return as_count(status::not_found);
    if (p->rtp || frame.channels() != p->out_channels) return as_count(status::invalid_argument);
    std::int64_t stamp;
    const std::ptrdiff_t n = p->out->pop({reinterpret_cast<std::uint8_t*>(frame.data()), frame.samples().size() * sizeof(std::int16_t)}, stamp);
    if (n == -1) return 0;
    if (n < 0) return as_count(status::buffer_too_small);
    return n / static_cast<std::ptrdiff_t>(sizeof(std::int16_t) * p->out_channels);
}

status room::tick(std::int64_t now_us) noexcept {
    impl& r = *impl_;
    const auto t0 = std::chrono::steady_clock::now();
    if (r.stats.ticks > 0) {  // the host's clock against the tick interval (see room_stats::late_ticks)
        const std::int64_t gap = now_us - r.last_now_us, interval = r.config.tick_us;
        if (gap > interval + interval / 2) ++r.stats.late_ticks;
        else if (gap < interval / 2) ++r.stats.early_ticks;
    }
    r.last_now_us = now_us;
    r.run_tick(now_us);
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    ++r.stats.ticks;
    r.stats.tick_last_us = us;
    r.stats.tick_max_us = std::max(r.stats.tick_max_us, us);
    r.stats.tick_mean_us += (us - r.stats.tick_mean_us) / static_cast<double>(r.stats.ticks);
    return status::ok;
}

std::size_t room::poll_events(std::span<room_event> out) noexcept {
    impl& r = *impl_;
    std::size_t n = 0;
    while (n < out.size() && r.event_count) {
        out[n++] = r.events[r.event_head];
        r.event_head = (r.event_head + 1) % r.events.size();
        --r.event_count;
    }
    return n;
}

status room::get_participant_stats(participant_id id, participant_stats& out) const noexcept {
    // By slot, as the tick sees the room (a host reading everyone's stats in
    // a room of thousands used to scan it for each).
    const participant* p = id == 0 ? nullptr : impl_->by_slot[(id - 1) % impl_->config.max_participants];
    if (!p || p->id != id) return status::not_found;
    out = p->stats;
    if (p->jb) out.jitter = p->jb->stats();  // read here, not copied every tick
    out.talking = p->talking;
    out.shared_encoder = p->on_shared;
    out.packets_rejected += p->io_rejected.load(std::memory_order_relaxed);
    out.packets_in = p->io_packets_in.load(std::memory_order_relaxed);  // the I/O side's counters: read here, not every tick
    out.packets_in_overflow = p->io_overflow.load(std::memory_order_relaxed);
    return status::ok;
}

const room_stats& room::stats() const noexcept { return impl_->stats; }
const room_config& room::config() const noexcept { return impl_->config; }
std::size_t room::tick_frames() const noexcept { return impl_->frames; }

TUTTI_END_NAMESPACE
