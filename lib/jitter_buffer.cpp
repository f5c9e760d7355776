// The adaptive jitter buffer. The algorithm is described in
// include/tutti/jitter_buffer.hpp; this file is its bookkeeping.
//
// Units: "ts" values are extended (64-bit) RTP timestamps; "frames" are audio
// samples per channel at the decoder's rate; times are microseconds on the
// host's clock.
#include "tutti/jitter_buffer.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <numeric>

#include "tutti/kernels.hpp"
#include "tutti/time_stretch.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

constexpr std::int64_t us_per_s = 1000000;
constexpr float histogram_bucket_ms = 0.25f;  // of lateness; the bucket maxima (histogram[].current) make the target exact within one
constexpr std::size_t reference_capacity = 2048;  // arrivals kept for the sliding minimum
constexpr std::size_t seen_window = 1024;          // sequence numbers remembered for duplicate detection
// A packet this many sequence numbers behind playout is not reordering (RFC
// 3550 A.1's MAX_MISORDER); see the jump rule in insert().
constexpr std::int64_t max_misorder = 100;
constexpr float silence_drop_dbov = -55.0f;        // a decoded frame this quiet may be dropped whole
// A decoded frame this quiet lets the stretcher cut a residual below the
// hysteresis by any length (its low_energy_dbov default: it then splices
// without periodicity, cross-faded).
constexpr float quiet_cut_dbov = -40.0f;
constexpr float stretch_margin_ms = 2.0f;          // stretch as soon as the delay falls this far below target
constexpr float drain_exit_ms = 0.5f;              // a drain (see `draining`) goes on until this close to target
constexpr std::uint64_t max_generation = 64;       // observations per generation of the bucket maxima
constexpr std::uint64_t min_statistics = 10;       // delay observations before the target follows them
// The reference rising this much at once, while packets have come without a
// pause for half its window, is a lasting step of the path's delay (a route
// change), or the end of a fast outlier's window: the lateness history is
// moved down with it (see follow_step_up). Smaller rises are the wander of
// the window's minimum, or a slow sender's clock. After a pause (an outage,
// DTX) the window holds a few packets, whose minimum is no lasting step.
constexpr std::int64_t reference_step_us = 10000;
constexpr std::int64_t arrival_pause_us = 200000;
constexpr std::int64_t overtake_scan = 64;       // packets after a pause searched for a stream that overtook it
constexpr std::int64_t reference_confirm_us = 2000;  // a larger fall of the reference waits for the next packet (see early_pending)
constexpr float flood_enter = 20.0f;                // disorderly packets (leaky bucket, see `disorder`) that make a flood
constexpr std::int64_t flood_quiet_us = 60000;      // a flood is over after this long without a disorderly packet
constexpr std::int64_t max_phases = 16;  // packet phases against the ticks the target serves (2.5 ms packets on 40 ms ticks)

struct packet_slot {
    bool used = false;
    std::int64_t seq = 0;
    std::int64_t ts = 0;
    std::int64_t arrival_us = 0;
    std::int64_t frames = 0;  // audio frames the payload decodes to (0 for comfort noise)
    std::uint32_t size = 0;
    std::uint16_t block = 0;  // its payload's block in `payloads` (see free_head)
    bool marker = false;
    bool comfort_noise = false;
};

// x * num / den (truncated), with the fraction reduced at set-up: the
// conversions between RTP units, frames and microseconds run several times per
// packet, and at the usual rates the denominator is 1 (RTP clock and audio
// both 8 kHz or both 48 kHz: units to frames; 8 kHz: 125 us a unit), so most
// need no division.
struct ratio {
    std::int64_t num = 1, den = 1;
    ratio() = default;
    ratio(std::int64_t n, std::int64_t d) : num(n / std::gcd(n, d)), den(d / std::gcd(n, d)) {}
    std::int64_t operator()(std::int64_t x) const { return den == 1 ? x * num : x * num / den; }
};

struct reference_entry {
    std::int64_t arrival_us;
    std::int64_t offset_us;  // arrival - media time
};

enum class playout_state : std::uint8_t { waiting, playing };

}  // namespace

struct jitter_buffer::impl final : detail::heap_allocated<jitter_buffer::impl> {
    jitter_buffer_config config;
    decoder& dec;
    audio_format format;  // decoder output
    std::size_t channels = 1;
    std::size_t tick_frames = 0;
    jitter_buffer_stats stats;

    // Packets, indexed by extended sequence modulo capacity.
    aligned_buffer<packet_slot> slots;  // a power of two of them: a sequence number's slot is a mask, not a division
    std::size_t slot_mask = 0;
    // Payloads, one block of block_bytes per slot, handed out last freed
    // first: the buffer usually holds a packet or two, so the same blocks come
    // back while their lines are still in cache. Indexing by sequence number
    // walked through the whole store (192 KB by default): every packet wrote
    // three lines that had to come from memory first.
    // Freed blocks are a stack linked through their own first two bytes, not
    // an array beside them: the next block is known without a load, so
    // prefetch() can ask for it, and there is no other array's line to miss
    // (in a room of thousands that load was a tenth of the tick). Blocks not
    // used since the last reset come after the stack, in order.
    aligned_buffer<std::uint8_t> payloads;
    std::size_t block_bytes = 0;  // max_payload_bytes, at least 2 (the link)
    std::uint16_t free_head = 0;  // top of the stack, when linked > 0
    std::size_t linked = 0;       // blocks on the stack
    std::size_t fresh = 0;        // blocks [fresh, slots.size()) unused since the reset
    std::size_t held = 0;

    // Stream identity and unwrapping.
    bool have_stream = false;
    std::uint32_t ssrc = 0;
    // A packet jumped (see insert: timestamp, or sequence ahead of or behind
    // playout) and was dropped; the one that follows it confirms the jump.
    bool jump_pending = false;
    std::uint16_t jump_next = 0;  // ... its RTP sequence number

    // Floods. A stream arrives in order but for a little loss, reordering
    // and duplication; copies forged under its SSRC (a flood, with numbers
    // and timestamps anywhere near the stream's) arrive out of order nearly
    // all. Those that land in the window are played, move playout onto
    // their numbers, and make the delay statistics theirs (a copy with a
    // timestamp seconds ahead is the fastest packet there is). `disorder`
    // counts packets that do not follow the one inserted before (a
    // duplicate, a late or reordered packet, a gap), leaking twice the
    // stream's packet rate per tick; past flood_enter it is a flood, and
    // when none has come for flood_quiet_us the flood is over (end_flood).
    float disorder = 0.0f;
    bool flooded = false;
    std::int64_t last_disorder_us = 0;
    std::int64_t previous_seq = 0;  // of the packet inserted before (any, unwrapped)
    void count_order(std::int64_t seq, std::int64_t arrival_us) {
        if (seq != previous_seq + 1) {
            disorder += 1.0f;
            last_disorder_us = arrival_us;
            if (disorder >= flood_enter) flooded = true;
        }
        previous_seq = seq;
    }

    // True when `sequence` confirms a pending jump; otherwise this packet
    // becomes the pending jump (the caller drops it).
    bool confirms_jump(std::uint16_t sequence) {
        if (jump_pending && sequence == jump_next) {
            jump_pending = false;
            return true;
        }
        jump_pending = true;
        jump_next = static_cast<std::uint16_t>(sequence + 1);
        return false;
    }
    std::int64_t highest_seq = 0;
    std::int64_t highest_ts = 0;
    aligned_buffer<std::uint64_t> seen;  // bitmap of received sequence numbers (window)

    // Delay statistics.
    aligned_buffer<reference_entry> reference;  // monotonic queue: sliding-window minimum of offsets
    std::size_t ref_head = 0, ref_size = 0;
    // The lateness histogram, and with each bucket's mass the largest
    // lateness observed in it over the last one or two
    // generations of `max_generation` observations: the target rounds this
    // value of the quantile's bucket up to the tick grid, not the bucket's
    // upper edge, so on a steady network whose lateness lies just below a
    // grid point the playout does not step a whole tick above it. The maxima
    // follow the reference (the fastest recent packet) down: when a packet
    // faster than any other arrives, lateness measured against the old
    // reference would read too low and the playout would be cut below the
    // grid point the packets need (an underrun). Old maxima expire, so a
    // stale one cannot stay (and the target stays inside the quantile's
    // bucket).
    // Mass and maximum share a line: an observation and the target read both
    // of one bucket, and as two arrays they were two lines on two pages per
    // packet (a room of thousands pays a miss for each).
    struct bucket_stats {
        float mass = 0.0f;                     // in histogram_unit
        double current = 0.0, previous = 0.0;  // ms of lateness, + reference_shift_ms() at the time
        std::uint64_t generation = 0;
    };
    aligned_buffer<bucket_stats> histogram;
    std::size_t buckets_used = 0;  // buckets [buckets_used, size) hold nothing (the fold below skips them)
    // How far the reference has moved down (earlier) in all, in us, as a
    // negative number: a peak (lateness above the reference of its time) is
    // stored as lateness + moved and read back as stored - moved now, i.e.
    // later by what the reference fell since. Moves up (the fastest packet
    // leaving the window) are followed only when they are a step (see
    // follow_step_up): otherwise the stored peaks err on the side of more
    // delay, which a slow sender needs.
    std::int64_t reference_moved_us = 0;
    std::int64_t last_reference_us = 0;
    bool have_last_reference = false;
    std::int64_t last_arrival_us = 0;    // with have_last_reference
    std::int64_t steady_since_us = 0;    // packets have come without a pause (arrival_pause_us) since this arrival
    double reference_shift_ms() const { return static_cast<double>(reference_moved_us) / 1000.0; }
    // The tick grid: the time of the current get(). Ticks come every tick_us
    // and a packet can only be played from the first tick at or after its
    // arrival, so this grid is what the target is rounded up to.
    std::int64_t tick_now_us = 0;
    float histogram_mass = 0.0f;
    float histogram_unit = 1.0f;
    std::uint64_t histogram_version = 1;  // bumped by every change the target depends on
    std::uint64_t target_version = 0;
    std::size_t cached_bucket = 0;      // stored bucket value × unit = weight (see observe_lateness)
    // Stored mass below cached_bucket, kept as observations come, so the
    // quantile moves a bucket or two from where it was instead of a scan from
    // 0 (80 dependent additions for a 20 ms target: a tenth of a silent
    // participant's tick in a big room). Rebuilt by a scan now and then, so
    // rounding cannot pile up.
    double mass_below = 0.0;
    std::uint32_t scans_due = 0;        // observations until the next full scan (0: scan now)
    std::uint64_t delay_samples = 0;
    std::int64_t last_transit_us = 0;
    bool have_transit = false;
    float jitter_us = 0.0f;

    // Playout.
    playout_state state = playout_state::waiting;
    std::int64_t decode_ts = 0;       // media position of the next frame to decode
    std::int64_t next_seq = 0;        // the packet that should come next
    std::int64_t last_packet_frames = 0;
    bool in_dtx = false;              // last packet was comfort noise / the stream paused
    bool audio = true;                // false: keep time and counts, decode nothing, write no samples (set_decoding)
    std::int64_t conceal_run = 0;     // frames concealed since the last decoded packet
    // Set when the delay is far above target (a delay spike drained, so the
    // packets that bunched up are all here): accelerating then goes on until
    // the delay is back at the target, not only inside the hysteresis band,
    // and never below it. Otherwise the drain would stop up to a hysteresis
    // above target and the buffer would keep that surplus until a pause.
    bool draining = false;
    bool concealing_unknown = false;  // concealing because nothing arrived (not a known loss)

    // Decoded audio not yet played (interleaved): sync[0 .. sync_frames).
    aligned_buffer<float> sync;
    std::size_t sync_frames = 0;
    aligned_buffer<float> scratch;     // decode / stretch output
    std::unique_ptr<time_stretcher> stretcher;
    // The last history_frames played (interleaved, oldest first): read-only
    // context that lets the stretcher work when less than its 30 ms block is
    // still unplayed (a starving buffer holds one packet). Splices never touch it.
    aligned_buffer<float> history;
    std::size_t history_frames = 0;    // capacity (15 ms)
    std::size_t history_valid = 0;     // frames of it that hold played audio
    aligned_buffer<float> work;        // history + unplayed audio, the stretcher's input

    impl(const jitter_buffer_config& c, decoder& d) : config(c), dec(d) {}

    // --- conversions ---------------------------------------------------------
    ratio ts_to_frames, frames_to_ts, ts_to_us, frames_to_us;  // (set by create)
    // ceil(d / tick_us) for d >= 0, trunc otherwise: with the tick a constant
    // for the tick lengths rooms use, the division is a multiplication.
    std::int64_t ticks_ceil(std::int64_t d) const {
        const auto div = [d](std::int64_t tick) { return d >= 0 ? (d + tick - 1) / tick : -((-d) / tick); };
        switch (config.tick_us) {
            case 10000: return div(10000);
            case 20000: return div(20000);
            case 40000: return div(40000);
            default: return div(static_cast<std::int64_t>(config.tick_us));
        }
    }

    packet_slot& slot_of(std::int64_t seq) { return slots[static_cast<std::size_t>(seq) & slot_mask]; }
    // True when a packet numbered after `seq` (within overtake_scan) is
    // held with a timestamp before `ts` and follows on as a stream does:
    // from what was played (as if `seq` had carried the next frames), or
    // from the packet after it. One earlier timestamp is not enough: a forged
    // copy can carry any timestamp, and one would get a real packet dropped;
    // an exact continuation is rare for them.
    bool overtaken(std::int64_t seq, std::int64_t ts) {
        const std::int64_t last = std::min(highest_seq, seq + overtake_scan);
        for (std::int64_t n = seq + 1; n <= last; ++n) {
            const packet_slot& a = slot_of(n);
            if (!a.used || a.seq != n || a.ts >= ts) continue;
            const std::int64_t step = frames_to_ts(a.frames);
            if (a.ts == decode_ts + (n - seq) * step) return true;
            const packet_slot& b = slot_of(n + 1);
            if (n < last && b.used && b.seq == n + 1 && b.ts == a.ts + step) return true;
        }
        return false;
    }
    std::uint8_t* payload_of(std::int64_t seq) {
        const std::size_t block = slot_of(seq).block;
        return payloads.data() + block * block_bytes;
    }
    std::uint16_t next_block() const { return linked ? free_head : static_cast<std::uint16_t>(fresh); }
    std::uint16_t take_block() {  // (a slot about to be used means a free block)
        if (!linked) {
            assert(fresh < slots.size());
            return static_cast<std::uint16_t>(fresh++);
        }
        const std::uint16_t b = free_head;
        if (--linked) std::memcpy(&free_head, payloads.data() + b * block_bytes, sizeof free_head);
        return b;
    }
    void give_block(std::uint16_t b) {
        if (linked++) std::memcpy(payloads.data() + b * block_bytes, &free_head, sizeof free_head);
        free_head = b;
    }
    void free_all_blocks() {
        linked = 0;
        fresh = 0;
    }
    bool find(std::int64_t seq) {
        const packet_slot& s = slot_of(seq);
        return s.used && s.seq == seq;
    }
    void release(std::int64_t seq) {
        packet_slot& s = slot_of(seq);
        if (s.used && s.seq == seq) {
            s.used = false;
            give_block(s.block);
            --held;
        }
    }

    bool seen_test_and_set(std::int64_t seq) {
        const std::size_t bit = static_cast<std::size_t>(seq) % seen_window;
        std::uint64_t& word = seen[bit / 64];
        const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
        const bool was = (word & mask) != 0;
        word |= mask;
        return was;
    }
    void seen_clear(std::int64_t seq) {
        const std::size_t bit = static_cast<std::size_t>(seq) % seen_window;
        seen[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
    }

    // --- delay statistics ----------------------------------------------------
    std::int64_t reference_offset() const { return ref_size ? reference[ref_head].offset_us : 0; }

    // Sliding-window minimum (monotonic queue, oldest at head).
    void push_reference(std::int64_t arrival_us, std::int64_t offset) {
        while (ref_size && reference[(ref_head + ref_size - 1) % reference_capacity].offset_us >= offset) --ref_size;
        if (ref_size == reference_capacity) {  // cannot happen with sane packet rates; keep the newest
            ref_head = (ref_head + 1) % reference_capacity;
            --ref_size;
        }
        reference[(ref_head + ref_size) % reference_capacity] = {arrival_us, offset};
        ++ref_size;
    }

    // A packet that would move the reference down (earlier) by more than
    // reference_confirm_us does so only together with the packet inserted
    // next, when that is its successor and as early (a route that got
    // shorter, a lucky pair). A lone one may be forged: a copy with a
    // timestamp seconds ahead looks seconds early, and as the reference it
    // made every real packet read that late for the whole window (dropped
    // as late until it left). Smaller falls (a fast sender's clock, the
    // minimum's wander) are taken at once.
    bool early_pending = false;
    std::int64_t early_seq = 0, early_arrival_us = 0, early_offset_us = 0;

    void observe_arrival(std::int64_t seq, std::int64_t ts, std::int64_t arrival_us) {
        const std::int64_t offset = arrival_us - ts_to_us(ts);
        const bool falls = ref_size && offset < reference_offset() - reference_confirm_us;
        const bool confirms = falls && early_pending && seq == early_seq + 1;
        if (confirms) push_reference(early_arrival_us, early_offset_us);
        early_pending = falls && !confirms;
        if (early_pending) {
            early_seq = seq;
            early_arrival_us = arrival_us;
            early_offset_us = offset;
        } else {
            push_reference(arrival_us, offset);
        }
        const std::int64_t window = std::int64_t{config.reference_window_ms} * 1000;
        while (ref_size > 1 && reference[ref_head].arrival_us < arrival_us - window) {
            ref_head = (ref_head + 1) % reference_capacity;
            --ref_size;
        }
        const std::int64_t reference_now = reference_offset();
        if (!have_last_reference || arrival_us - last_arrival_us > arrival_pause_us) steady_since_us = arrival_us;
        if (have_last_reference && reference_now < last_reference_us) reference_moved_us += reference_now - last_reference_us;
        if (have_last_reference && reference_now - last_reference_us >= reference_step_us && arrival_us - steady_since_us >= window / 2)
            follow_step_up(reference_now - last_reference_us);
        last_reference_us = reference_now;
        last_arrival_us = arrival_us;
        have_last_reference = true;
        // RFC 3550 interarrival jitter.
        if (have_transit) {
            const float dtransit = std::fabs(static_cast<float>(offset - last_transit_us));
            jitter_us += (dtransit - jitter_us) / 16.0f;
        }
        last_transit_us = offset;
        have_transit = true;
        stats.jitter_ms = jitter_us / 1000.0f;
    }

    // The reference rose by rise_us at once. Every lateness in the history was
    // measured against the old one, so it reads rise_us too high now: after a
    // route change that lengthened the path, the history held the step itself
    // (the packets came late against the old reference), and the target would
    // hold the step a second time, on top of the new reference, until the
    // history forgot it (seconds of needless delay, stretched in and then
    // accelerated out). The masses move down by whole buckets (those that
    // would fall below 0 gather in bucket 0), the maxima by the exact rise.
    void follow_step_up(std::int64_t rise_us) {
        reference_moved_us += rise_us;
        const auto k = static_cast<std::size_t>(std::llround(static_cast<double>(rise_us) / 1000.0 / histogram_bucket_ms));
        const std::size_t used = buckets_used;
        bucket_stats& floor = histogram[0];
        for (std::size_t b = 1; b < used; ++b) {
            bucket_stats& from = histogram[b];
            if (b <= k) {  // gathers into bucket 0: the mass adds up, the newest maxima win
                floor.mass += from.mass;
                if (from.generation > floor.generation) {
                    floor.current = from.current;
                    floor.previous = from.previous;
                    floor.generation = from.generation;
                } else if (from.generation == floor.generation) {
                    floor.current = std::max(floor.current, from.current);
                    floor.previous = std::max(floor.previous, from.previous);
                }
            } else {
                histogram[b - k] = from;
            }
            from = bucket_stats{};
        }
        buckets_used = used > k ? used - k : 1;
        ++histogram_version;
        scans_due = 0;
    }

    // How long after the reference (the fastest recent packet) would have had
    // it arrive packet s arrived, in ms: what observe_lateness() is given.
    float lateness_of(const packet_slot& s) const {
        return static_cast<float>(s.arrival_us - ts_to_us(s.ts) - reference_offset()) / 1000.0f;
    }

    // One observation: a packet arrived `lateness_ms` after the reference
    // (the fastest recent packet) would have had it arrive.
    void observe_lateness(float lateness_ms) {
        const std::size_t buckets = histogram.size();
        const auto bucket = std::min(buckets - 1, static_cast<std::size_t>(std::max(0.0f, lateness_ms) / histogram_bucket_ms));
        const float f = config.forget_factor;
        const double stored = static_cast<double>(lateness_ms) + reference_shift_ms();
        const std::uint64_t generation = delay_samples / max_generation + 1;
        bucket_stats& peak = histogram[bucket];
        if (peak.generation == generation) {
            peak.current = std::max(peak.current, stored);
        } else {
            peak.previous = peak.generation + 1 == generation ? peak.current : stored;
            peak.current = stored;
            peak.generation = generation;
        }
        // Forgetting scales every bucket by f per packet; instead of touching
        // all 2000 buckets per packet, new mass is added in a unit that grows
        // by 1/f (histogram_unit shrinks), folded back now and then.
        histogram_unit *= f;
        buckets_used = std::max(buckets_used, bucket + 1);
        if (histogram_unit < 1e-6f) {
            for (std::size_t b = 0; b < buckets_used; ++b) histogram[b].mass *= histogram_unit;
            histogram_unit = 1.0f;
            scans_due = 0;
        }
        const float added = (1.0f - f) / histogram_unit;
        histogram[bucket].mass += added;
        if (bucket < cached_bucket) mass_below += added;
        histogram_mass = histogram_mass * f + (1.0f - f);
        ++histogram_version;
        ++delay_samples;
    }

    float peak_ms(const bucket_stats& peak) const {
        const std::uint64_t generation = delay_samples / max_generation + 1;
        return static_cast<float>((peak.generation == generation ? std::max(peak.current, peak.previous) : peak.current) -
                                  reference_shift_ms());
    }

    // The smallest playout delay at which a packet whose first sample has
    // media time media_us, arriving lateness_ms after the reference, is in the
    // buffer at the tick that plays that sample. get() takes in what has
    // arrived by each tick, so only delays that put the arrival at or before
    // a tick count: the arrival rounded up to the tick grid. A delay between
    // two such values is no better for lateness than the lower one.
    float on_time_delay_ms(double lateness_ms, std::int64_t media_us) const {
        const std::int64_t at_zero = media_us + reference_offset();  // where delay 0 would play it
        const std::int64_t arrival = at_zero + static_cast<std::int64_t>(std::llround(lateness_ms * 1000.0));
        const auto tick = static_cast<std::int64_t>(config.tick_us);
        const std::int64_t d = arrival - tick_now_us;
        const std::int64_t k = ticks_ceil(d);
        return static_cast<float>(tick_now_us + k * tick - at_zero) / 1000.0f;
    }

    // on_time_delay_ms() for every phase the packets take against the ticks,
    // from the packet at media_us on: their starts fall on the ticks in a
    // pattern that repeats every lcm(packet, tick). One phase when the packet
    // is a multiple of the tick; the packets in a tick when it divides the
    // tick; two for 30 ms packets on 20 ms ticks. A target for one phase
    // alone would swing from packet to packet: the low one cut the delay
    // (accelerating) that the next packet needed (concealing), 14 % of a
    // clean 30 ms stream.
    float on_time_for_tick_ms(double lateness_ms, std::int64_t media_us) const {
        return on_time_for_phases_ms(lateness_ms, media_us, last_packet_frames > 0 ? frames_to_us(last_packet_frames) : config.tick_us);
    }
    float on_time_for_phases_ms(double lateness_ms, std::int64_t media_us, std::int64_t packet_us) const {
        const std::int64_t tick = config.tick_us;
        float d = on_time_delay_ms(lateness_ms, media_us);
        if (packet_us <= 0 || packet_us % tick == 0) return d;
        const std::int64_t period = std::min(std::lcm(packet_us, tick), max_phases * packet_us);
        for (std::int64_t m = packet_us; m < period; m += packet_us) d = std::max(d, on_time_delay_ms(lateness_ms, media_us + m));
        return d;
    }

    // The bucket holding the quantile: the first whose cumulative mass
    // reaches it. Found once per histogram change, not at every call: from
    // where it was (see mass_below), or by a scan from 0 every 256 changes.
    std::size_t quantile_bucket() {
        if (target_version == histogram_version) return cached_bucket;
        target_version = histogram_version;
        const double want = static_cast<double>(config.quantile * histogram_mass / histogram_unit);
        const std::size_t last = histogram.size() - 1;
        if (scans_due == 0) {
            scans_due = 256;
            double below = 0.0;
            std::size_t b = 0;
            for (; b < last && below + histogram[b].mass < want; ++b) below += histogram[b].mass;
            cached_bucket = b;
            mass_below = below;
            return b;
        }
        --scans_due;
        std::size_t b = cached_bucket;
        while (b > 0 && mass_below >= want) mass_below -= histogram[--b].mass;
        while (b < last && mass_below + histogram[b].mass < want) mass_below += histogram[b++].mass;
        cached_bucket = b;
        return b;
    }

    // The target for the packet whose first sample has media time media_us:
    // the quantile of recent lateness (the largest lateness recently seen in
    // its bucket, so that on a steady network it is exact), rounded up to the
    // tick grid for that packet. Rounding at the time of use, not at the time
    // of observation, matters when the sender's clock drifts: the packets'
    // phase against the ticks then turns, and requirements rounded in an
    // older phase would hold the target up to a quantile's memory of
    // drift above what is needed.
    float target_delay_ms(std::int64_t media_us) {
        float target = static_cast<float>(config.initial_delay_ms);
        if (delay_samples >= min_statistics && histogram_mass > 0.0f) {
            const std::size_t b = quantile_bucket();
            const float lateness = std::clamp(peak_ms(histogram[b]), static_cast<float>(b) * histogram_bucket_ms,
                                              static_cast<float>(b + 1) * histogram_bucket_ms);
            target = on_time_for_tick_ms(lateness, media_us);
        }
        return std::clamp(target, static_cast<float>(config.min_delay_ms), static_cast<float>(config.max_delay_ms));
    }

    // Playout delay above the fastest recent packet if the next unplayed frame were played at now_us.
    float current_delay_ms(std::int64_t now_us) const {
        const std::int64_t media_us = ts_to_us(decode_ts) - frames_to_us(static_cast<std::int64_t>(sync_frames));
        return static_cast<float>(now_us - media_us - reference_offset()) / 1000.0f;
    }

    // --- stream resets -------------------------------------------------------
    void drop_packets() {
        for (auto& s : slots) s.used = false;
        free_all_blocks();
        held = 0;
        for (auto& w : seen) w = 0;
    }
    void restart_playout() {
        state = playout_state::waiting;
        sync_frames = 0;
        history_valid = 0;
        in_dtx = false;
        conceal_run = 0;
        concealing_unknown = false;
        draining = false;
    }
    // Playout restarts at packet `seq` of the same stream (see insert): what
    // is held is dropped (counted as overflow). Ahead of playout (an outage
    // longer than the window) the delay statistics stay: the network is the
    // one they learnt. Behind it, they go: either the sender's numbers went
    // back (a new stream, in effect) or what was played was forged, and a
    // flood of forged copies, timestamps up to seconds ahead, leaves a
    // reference seconds too early (the real stream read as seconds late, and
    // was dropped as late until the copies left the window: a second of
    // speech after the flood) and a lateness history at max_delay_ms.
    void restart_at(std::int64_t seq, std::int64_t ts, bool behind) {
        stats.packets_overflow += held;
        drop_packets();
        restart_playout();
        if (behind) forget_delay_statistics();
        ++stats.resyncs;
        next_seq = seq;
        highest_seq = seq - 1;
        highest_ts = ts;
        jump_pending = false;
    }
    void forget_delay_statistics() {
        ref_head = ref_size = 0;
        early_pending = false;
        have_last_reference = false;
        for (bucket_stats& h : histogram) h = {};
        buckets_used = 0;
        histogram_unit = 1.0f;
        ++histogram_version;
        scans_due = 0;
        histogram_mass = 0.0f;
        delay_samples = 0;
        have_transit = false;
        jitter_us = 0.0f;
    }
    void reset_all() {
        jump_pending = false;
        drop_packets();
        restart_playout();
        have_stream = false;
        forget_delay_statistics();
        dec.reset();
    }

    // The flood is over (see `disorder`): what arrived up to its last copy
    // goes, and the delay statistics with it. What came after (the stream
    // talking on) stays, and playout starts again at the first of it.
    void end_flood() {
        flooded = false;
        disorder = 0.0f;
        ++stats.resyncs;
        jump_pending = false;
        restart_playout();
        forget_delay_statistics();
        for (auto& w : seen) w = 0;
        std::int64_t first = INT64_MAX, last = INT64_MIN;
        for (packet_slot& s : slots) {
            if (!s.used) continue;
            if (s.arrival_us <= last_disorder_us) {
                s.used = false;
                give_block(s.block);
                --held;
                ++stats.packets_overflow;
                continue;
            }
            first = std::min(first, s.seq);
            last = std::max(last, s.seq);
        }
        if (held == 0) {
            have_stream = false;
            return;
        }
        next_seq = first;
        highest_seq = last;
        highest_ts = slot_of(last).ts;
        previous_seq = last;
        for (std::int64_t q = first; q <= last; ++q)
            if (const packet_slot& s = slot_of(q); s.used && s.seq == q) {
                seen_test_and_set(q);
                observe_arrival(q, s.ts, s.arrival_us);
            }
    }

    // --- output helpers ------------------------------------------------------
    float* sync_end() { return sync.data() + sync_frames * channels; }
    std::size_t sync_room() const { return sync.size() / channels - sync_frames; }

    void append_silence(std::size_t frames) {
        frames = std::min(frames, sync_room());
        if (audio) std::fill_n(sync_end(), frames * channels, 0.0f);
        sync_frames += frames;
        stats.silence_samples += frames;
    }

    // Conceals at least `frames` (rounded up to whole 2.5 ms, the granularity
    // libopus's PLC accepts); returns the frames appended.
    std::size_t append_conceal(std::size_t frames) {
        const std::size_t granule = std::max<std::size_t>(1, format.sample_rate_hz / 400);
        frames = std::min((frames + granule - 1) / granule * granule, sync_room() / granule * granule);
        if (conceal_run >= static_cast<std::int64_t>(config.max_conceal_ms) * format.sample_rate_hz / 1000) {
            append_silence(frames);
        } else if (!audio) {  // a loss while not decoding: counted, nothing to hide
            sync_frames += frames;
            stats.concealed_samples += frames;
        } else {
            const std::ptrdiff_t n = dec.conceal(interleaved_view<float>(sync_end(), frames, channels));
            if (n < 0) std::fill_n(sync_end(), frames * channels, 0.0f);
            sync_frames += frames;
            stats.concealed_samples += frames;
        }
        conceal_run += static_cast<std::int64_t>(frames);
        return frames;
    }

    // Decodes the packet `seq` (present) and appends it, with time stretching
    // when the delay is off target (`delay_error_ms`: delay minus target).
    // Returns false if the payload failed.
    bool decode_packet(std::int64_t seq, float delay_error_ms) {
        packet_slot& s = slot_of(seq);
        // Decoded in place, at the end of the unplayed audio (not through scratch: one copy less of cold memory).
        float* const dst = sync_end();
        interleaved_view<float> out(dst, sync_room(), channels);
        // Not decoding: the frame count insert() took from the payload (neither payload nor decoder is touched).
        const std::ptrdiff_t n = audio ? dec.decode({payload_of(seq), s.size}, out)
                                       : std::min<std::ptrdiff_t>(s.frames, static_cast<std::ptrdiff_t>(out.frames()));
        release(seq);
        if (n < 0) {
            ++stats.packets_rejected;
            return false;
        }
        if (!audio) {  // played in silence: only the clock and the counters move
            ++stats.packets_not_decoded;
            conceal_run = 0;
            concealing_unknown = false;
            in_dtx = false;
            const auto frames = static_cast<std::size_t>(n);
            if (delay_error_ms > 3.0f * static_cast<float>(config.hysteresis_ms) && ms_to_frames(delay_error_ms) >= frames)
                stats.silence_skipped_samples += frames;  // far too late: a quiet frame can go
            else
                sync_frames += frames;
            return true;
        }
        ++stats.packets_decoded;
        conceal_run = 0;
        concealing_unknown = false;
        in_dtx = false;
        auto frames = static_cast<std::size_t>(n);
        const float hysteresis = static_cast<float>(config.hysteresis_ms);
        const bool off_target = delay_error_ms < -stretch_margin_ms || ms_to_frames(delay_error_ms) > 0;
        // Mean power in dBov (measure_level's rms, without its peak pass).
        const float level_dbov =
            off_target ? 10.0f * std::log10(sum_squares(dst, frames * channels) / static_cast<float>(frames * channels) + 1e-13f) : 0.0f;
        // Near silence: cutting it is inaudible, so any delay above the
        // target goes here, to the sample (not just beyond the hysteresis, as
        // in speech), but never below it. Delay above the target is waste:
        // the target is a point of the tick grid, and a packet is no more
        // likely to be in time at any delay short of the next one.
        std::size_t skip = 0;
        if (ms_to_frames(delay_error_ms) > 0 && level_dbov < silence_drop_dbov) {
            skip = std::min(frames, ms_to_frames(delay_error_ms));
            stats.silence_skipped_samples += skip;
            if (skip == frames) return true;
            frames -= skip;
            delay_error_ms -= static_cast<float>(frames_to_us(static_cast<std::int64_t>(skip))) / 1000.0f;
            std::memmove(dst, dst + skip * channels, frames * channels * sizeof(float));
        }
        sync_frames += frames;
        // Too little delay and a quiet frame: lengthen the quiet part. Speech
        // stretching needs 30 ms decoded, which a starving buffer does not have.
        if (delay_error_ms < -stretch_margin_ms && level_dbov < silence_drop_dbov + 10.0f) {
            const auto extra = std::min<std::size_t>(
                sync_room(), static_cast<std::size_t>(-delay_error_ms * static_cast<float>(format.sample_rate_hz) / 1000.0f));
            std::fill_n(sync_end(), extra * channels, 0.0f);
            sync_frames += extra;
            stats.silence_inserted_samples += extra;
        }
        if (!stretcher) return true;
        // Asymmetric: below target costs late packets, above it only delay.
        if (delay_error_ms < -stretch_margin_ms) {
            stretch_tail(delay_error_ms);
            return true;
        }
        // What is left inside the band (less than a pitch period above the
        // target after a drain or a rewind) waits for a quiet frame, where the
        // stretcher cuts by any length: it is taken exactly there, instead of
        // staying until the next pause. The level test first: a pitch
        // analysis per packet costs more than the rest of get().
        if (!draining && ms_to_frames(delay_error_ms) > 0 && delay_error_ms <= hysteresis && level_dbov <= quiet_cut_dbov) {
            stretch_tail(delay_error_ms);
            return true;
        }
        if (delay_error_ms > 3.0f * hysteresis) draining = true;
        // Far above target (after a delay spike drained, the packets that
        // bunched up are all here): up to three splices per packet, as NetEq's
        // fast accelerate does, so the extra delay goes within a few packets
        // of speech; then one per packet until the target is reached.
        for (int pass = 0; pass < 3; ++pass) {
            const float threshold = pass == 0 ? (draining ? drain_exit_ms : hysteresis) : 3.0f * hysteresis;
            if (delay_error_ms <= threshold) break;
            const std::size_t removed = stretch_tail(delay_error_ms);
            if (removed == 0) {
                // Inside the band a drain ends at the first splice that does
                // not fit (each try is an analysis): the rest waits for a pause.
                if (delay_error_ms <= hysteresis) draining = false;
                break;
            }
            delay_error_ms -= static_cast<float>(frames_to_us(static_cast<std::int64_t>(removed))) / 1000.0f;
        }
        if (delay_error_ms <= drain_exit_ms) draining = false;
        return true;
    }

    std::size_t ms_to_frames(float ms) const {
        return ms > 0.0f ? static_cast<std::size_t>(ms * static_cast<float>(format.sample_rate_hz) / 1000.0f) : 0;
    }

    // Accelerates (error_ms > 0) or stretches the unplayed audio by whole
    // pitch periods (a quiet stretch of audio: by any length). The
    // stretcher's block is the last 30 ms of unplayed audio or, when less is
    // unplayed, the unplayed audio preceded by the end of what was played; a
    // splice that would change played audio is not taken. Returns the frames
    // removed or added.
    std::size_t stretch_tail(float error_ms) {
        const bool accelerate = error_ms > 0.0f;
        const std::size_t block = stretcher->min_input_frames();
        const std::size_t splice = block / 2;
        std::size_t start = 0, prefix = 0;  // block = history tail [prefix] ++ sync[start ..)
        if (sync_frames >= block) {
            start = sync_frames - block;
        } else {
            prefix = block - sync_frames;
            if (prefix > history_valid || prefix > splice) return 0;
        }
        const float* in_data = sync.data() + start * channels;
        if (prefix > 0) {
            std::memcpy(work.data(), history.data() + (history_frames - prefix) * channels, prefix * channels * sizeof(float));
            std::memcpy(work.data() + prefix * channels, sync.data(), sync_frames * channels * sizeof(float));
            in_data = work.data();
        }
        interleaved_view<const float> in(in_data, block, channels);
        if (accelerate) {
            // Removing len frames changes [splice - len, ...): keep played audio intact.
            // Down to the target; beyond the hysteresis, when no period fits,
            // one period may take it up to a hysteresis below (the stretch
            // margin catches that); inside the band (a drain finishing) never
            // below the target.
            const std::size_t room = splice - prefix;
            const std::size_t limit = std::min(ms_to_frames(error_ms), room);
            const std::size_t overshoot =
                error_ms > static_cast<float>(config.hysteresis_ms) ? std::min(ms_to_frames(static_cast<float>(config.hysteresis_ms)), room - limit) : 0;
            interleaved_view<float> out(scratch.data(), block, channels);
            const time_stretch_result r = stretcher->accelerate(in, out, accelerate_mode::fast, limit, overshoot);
            if (r.code != status::ok || !r.applied) return 0;
            std::memcpy(sync.data() + start * channels, scratch.data() + prefix * channels,
                        (r.frames_out - prefix) * channels * sizeof(float));
            sync_frames = start + r.frames_out - prefix;
            stats.accelerate_samples += r.frames_changed;
            return r.frames_changed;
        }
        // Stretching leaves the first `splice` frames of the block as they were.
        const std::size_t room = block + stretcher->max_period_frames();
        if (sync_room() + block < room + prefix) return 0;
        interleaved_view<float> out(scratch.data(), room, channels);
        const time_stretch_result r = stretcher->stretch(in, out);
        if (r.code != status::ok || !r.applied) return 0;
        std::memcpy(sync.data() + start * channels, scratch.data() + prefix * channels,
                    (r.frames_out - prefix) * channels * sizeof(float));
        sync_frames = start + r.frames_out - prefix;
        stats.stretch_samples += r.frames_changed;
        return r.frames_changed;
    }

    // Remembers the end of what was just played (out: `frames` frames).
    void remember_played(const float* out, std::size_t frames) {
        if (history_frames == 0) return;
        if (frames >= history_frames) {
            std::memcpy(history.data(), out + (frames - history_frames) * channels, history_frames * channels * sizeof(float));
        } else {
            std::memmove(history.data(), history.data() + frames * channels, (history_frames - frames) * channels * sizeof(float));
            std::memcpy(history.data() + (history_frames - frames) * channels, out, frames * channels * sizeof(float));
        }
        history_valid = std::min(history_frames, history_valid + frames);
    }

    // The next packet at or after next_seq that is held, or -1.
    std::int64_t next_held() {
        for (std::int64_t s = next_seq; s <= highest_seq && s < next_seq + static_cast<std::int64_t>(slots.size()); ++s)
            if (find(s)) return s;
        return -1;
    }

    // Packet q, too late to play, is one observation of lateness when it came
    // spaced like the stream after the one before it: a lasting step up in the
    // network's delay. Then every packet is this late, and only the target
    // learning it (and packets as late as the target then being played, see
    // fill) brings the stream back; before, it was dropped until the delay
    // reference (reference_window_ms) caught up, seconds of silence. Packets
    // that come bunched are a spike draining: a spike counts once, when the
    // packet that is needed next is played (see fill), not once per packet.
    void observe_if_steady(std::int64_t q) {
        const packet_slot& s = slot_of(q);
        const packet_slot& before = slot_of(q - 1);  // (a released slot keeps its fields)
        if (before.seq != q - 1 || s.arrival_us - before.arrival_us < frames_to_us(before.frames) * 3 / 4) return;
        observe_lateness(lateness_of(s));
    }

    // Fills the sync buffer up to `want` frames.
    void fill(std::size_t want, std::int64_t now_us) {
        const float hysteresis = static_cast<float>(config.hysteresis_ms);
        tick_now_us = now_us;
        for (int guard = 0; sync_frames < want && guard < 64; ++guard) {
            const std::int64_t q = held ? next_held() : -1;
            // The target is for the packet played next: after a pause, the one that ends it.
            const bool waiting = state == playout_state::waiting;
            const std::int64_t next_media = q >= 0 && (waiting || slot_of(q).ts > decode_ts) ? slot_of(q).ts : decode_ts;
            const float target = target_delay_ms(ts_to_us(next_media));
            stats.target_delay_ms = target;
            if (waiting) {
                const std::int64_t first = q;
                if (first < 0) {
                    append_silence(want - sync_frames);
                    return;
                }
                // Start once the first packet has waited as long as the target
                // asks. Before there are statistics, that is initial_delay_ms,
                // and at least until the packets of every phase against the
                // ticks (packets shorter than a tick, or not a multiple of it)
                // will be in by their ticks if they come as this one did:
                // else the second tick of 10 ms packets conceals half of itself.
                const packet_slot& s = slot_of(first);
                const float would_be = static_cast<float>(now_us - ts_to_us(s.ts) - reference_offset()) / 1000.0f;
                const float start = delay_samples >= min_statistics
                                        ? target
                                        : std::max(target, on_time_for_phases_ms(lateness_of(s), ts_to_us(s.ts), frames_to_us(s.frames)));
                const float short_ms = start - (would_be + static_cast<float>(frames_to_us(static_cast<std::int64_t>(sync_frames))) / 1000.0f);
                if (short_ms > 0.0f) {
                    // Packets off the tick grid start inside a tick, after
                    // the silence that puts them at the start delay exactly
                    // (a whole tick later would be above it, to be cut again).
                    const bool phased = frames_to_us(s.frames) % static_cast<std::int64_t>(config.tick_us) != 0;
                    const std::size_t lead = ms_to_frames(short_ms) + 1;
                    if (!phased || sync_frames + lead >= want) {
                        append_silence(want - sync_frames);
                        return;
                    }
                    append_silence(lead);
                }
                state = playout_state::playing;
                decode_ts = s.ts;
                next_seq = first;
                continue;
            }
            // Until the statistics exist the delay is left where playout started.
            const bool adapting = delay_samples >= min_statistics;
            const float error = adapting ? current_delay_ms(now_us) - target : 0.0f;
            // Time stretching needs 30 ms of decoded audio: decode ahead when the delay is off target.
            if (stretcher && (error > (draining ? drain_exit_ms : hysteresis) || error < -stretch_margin_ms))
                want = std::max(want, stretcher->min_input_frames());
            if (q < 0) {
                // Nothing to play: a pause in the stream (DTX) or packets that are late.
                want = std::min(want, tick_frames);
                if (sync_frames >= want) break;
                std::size_t frames = want - sync_frames;
                if (in_dtx) {
                    append_silence(frames);
                } else {
                    concealing_unknown = true;
                    frames = append_conceal(frames);
                }
                decode_ts += frames_to_ts(static_cast<std::int64_t>(frames));
                continue;
            }
            packet_slot& s = slot_of(q);
            if (q > next_seq) {
                // next_seq .. q-1 never came. Known loss when a later packet is here.
                const std::int64_t missing_frames =
                    s.ts > decode_ts ? ts_to_frames(s.ts - decode_ts) : 0;
                if (missing_frames > 0 && !concealing_unknown) {
                    const std::size_t frames = static_cast<std::size_t>(
                        std::min<std::int64_t>(missing_frames, last_packet_frames > 0 ? last_packet_frames : missing_frames));
                    std::size_t room = std::min(frames, sync_room());
                    std::ptrdiff_t n = as_count(status::unsupported);
                    if (audio && q == next_seq + 1 && !s.comfort_noise && static_cast<std::int64_t>(room) == missing_frames)
                        n = dec.decode_fec({payload_of(q), s.size}, interleaved_view<float>(sync_end(), room, channels));
                    if (n > 0) {
                        sync_frames += room;
                        ++stats.fec_recovered;
                        conceal_run = 0;
                    } else {
                        room = append_conceal(room);
                    }
                    decode_ts += frames_to_ts(static_cast<std::int64_t>(room));
                    if (decode_ts >= s.ts) {
                        stats.packets_lost += static_cast<std::uint64_t>(q - next_seq);
                        next_seq = q;
                    }
                    continue;
                }
                stats.packets_lost += static_cast<std::uint64_t>(q - next_seq);
                next_seq = q;
            }
            // Packet q == next_seq is here.
            if (s.comfort_noise) {
                in_dtx = true;
                release(q);
                ++next_seq;
                continue;
            }
            if (s.ts > decode_ts && overtaken(q, s.ts)) {
                // A pause before a packet whose timestamp is past a later
                // one that follows on as a stream does (see overtaken): in
                // one stream timestamps never go back as the numbers go on,
                // so this one is forged or wild. Waiting for its time would
                // silence the stream for up to seconds, and the stream after
                // it would then be late. Dropped, it is as if it never came:
                // its frames are concealed (or rebuilt from FEC), a loss.
                ++stats.packets_late;
                release(q);
                continue;
            }
            if (s.ts > decode_ts) {
                // A pause before this packet (DTX / talkspurt start): the silence is free to shorten or lengthen.
                std::int64_t gap = ts_to_frames(s.ts - decode_ts);
                if (error > hysteresis) {  // too much delay: skip silence
                    const std::int64_t skip =
                        std::min<std::int64_t>(gap, static_cast<std::int64_t>(error * static_cast<float>(format.sample_rate_hz) / 1000.0f));
                    decode_ts += frames_to_ts(skip);
                    stats.silence_skipped_samples += static_cast<std::uint64_t>(skip);
                    gap -= skip;
                    if (gap <= 0) decode_ts = s.ts;
                    continue;
                }
                if (error < 0.0f) {  // too little: hold the silence, the media clock waits
                    const auto frames = static_cast<std::size_t>(
                        std::min<float>(static_cast<float>(want - sync_frames), -error * static_cast<float>(format.sample_rate_hz) / 1000.0f + 1.0f));
                    append_silence(frames);
                    stats.silence_inserted_samples += frames;
                    continue;
                }
                const std::size_t frames = static_cast<std::size_t>(std::min<std::int64_t>(gap, static_cast<std::int64_t>(want - sync_frames)));
                append_silence(frames);
                decode_ts += frames_to_ts(static_cast<std::int64_t>(frames));
                continue;
            }
            // Behind the media clock while the media clock is ahead of the
            // stream itself (a negative delay: playout is past what the
            // fastest recent packet says was sent). Legitimately late packets
            // come with a positive delay; this happens when a packet with a
            // forged or wild timestamp ahead was played, and then every real
            // packet would be late for as long as the stream runs.
            // Playout restarts (waiting for the target delay) from this packet.
            if (s.ts < decode_ts && current_delay_ms(now_us) < -2.0f * static_cast<float>(config.tick_us) / 1000.0f) {
                restart_playout();
                ++stats.resyncs;
                continue;
            }
            if (s.ts + frames_to_ts(s.frames) <= decode_ts && !concealing_unknown) {
                // Entirely in the past: its time was already concealed.
                ++stats.packets_late;
                observe_if_steady(q);
                release(q);
                ++next_seq;
                continue;
            }
            // Play it. After an underrun this rewinds the media clock (the delay
            // grows by what was concealed) unless that would exceed max_delay.
            if (s.ts < decode_ts) {
                const float rewind_ms = static_cast<float>(ts_to_us(decode_ts - s.ts)) / 1000.0f;
                const float delay_after = current_delay_ms(now_us) + rewind_ms;
                if ((rewind_ms > static_cast<float>(config.max_rewind_ms) && delay_after > target) ||
                    delay_after > static_cast<float>(config.max_delay_ms)) {
                    ++stats.packets_late;
                    observe_if_steady(q);
                    release(q);
                    ++next_seq;
                    continue;
                }
            }
            const std::int64_t frames = s.frames;
            const std::int64_t ts = s.ts;
            // The media clock moves to this packet first: after an underrun it
            // was past it (its time was concealed, and the rewind plays it now).
            decode_ts = ts;
            // Needed now (not decoded ahead): how late it came is one
            // observation; lateness is measured from its arrival, so it is the
            // same whether it came in time or was played by a rewind. Packets
            // that bunch up after a delay spike are decoded ahead of need, so a
            // spike that drains counts once, not once per packet.
            if (sync_frames < tick_frames)
                observe_lateness(lateness_of(s));
            const float err = adapting ? current_delay_ms(now_us) - target : 0.0f;
            if (decode_packet(q, err)) last_packet_frames = frames;
            decode_ts = ts + frames_to_ts(frames);
            ++next_seq;
        }
        if (sync_frames < tick_frames) append_silence(tick_frames - sync_frames);
    }
};

jitter_buffer::jitter_buffer(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
jitter_buffer::~jitter_buffer() = default;

status jitter_buffer::create(const jitter_buffer_config& config, decoder& dec, std::unique_ptr<jitter_buffer>& out) noexcept {
    const audio_format format = dec.format();
    if (config.rtp_clock_hz < 1000 || config.rtp_clock_hz > 192000 || config.tick_us < 2500 || config.tick_us > 120000 ||
        config.max_delay_ms < config.min_delay_ms || config.max_delay_ms > 10000 || config.capacity_packets < 4 ||
        config.capacity_packets > 4096 || config.max_payload_bytes < 1 || config.max_payload_bytes > 65536 ||
        !(config.quantile > 0.0f && config.quantile < 1.0f) || !(config.forget_factor > 0.0f && config.forget_factor < 1.0f) ||
        format.sample_rate_hz < 8000 || format.channels < 1 || format.channels > 2)
        return status::invalid_argument;
    try {
        auto p = std::make_unique<impl>(config, dec);
        p->format = format;
        p->channels = format.channels;
        p->ts_to_frames = ratio(format.sample_rate_hz, config.rtp_clock_hz);
        p->frames_to_ts = ratio(config.rtp_clock_hz, format.sample_rate_hz);
        p->ts_to_us = ratio(us_per_s, config.rtp_clock_hz);
        p->frames_to_us = ratio(us_per_s, format.sample_rate_hz);
        p->tick_frames = static_cast<std::size_t>(std::int64_t{format.sample_rate_hz} * config.tick_us / us_per_s);
        const std::size_t capacity = std::bit_ceil(config.capacity_packets);
        p->slots = aligned_buffer<packet_slot>(capacity);
        p->slot_mask = capacity - 1;
        p->block_bytes = std::max<std::size_t>(config.max_payload_bytes, 2);
        p->payloads = aligned_buffer<std::uint8_t>(capacity * p->block_bytes);  // (capacity <= 4096: a block index fits 16 bits)
        p->free_all_blocks();
        p->seen = aligned_buffer<std::uint64_t>(seen_window / 64);
        p->reference = aligned_buffer<reference_entry>(reference_capacity);
        p->histogram = aligned_buffer<impl::bucket_stats>(static_cast<std::size_t>(static_cast<float>(config.max_delay_ms) / histogram_bucket_ms) + 2);
        // Decoded audio ahead of playout: a tick, the longest packet (120 ms), a stretched period.
        const std::size_t max_packet = format.sample_rate_hz * 120 / 1000;
        const std::size_t sync_frames = 2 * p->tick_frames + 2 * max_packet + format.sample_rate_hz * 30 / 1000;
        p->sync = aligned_buffer<float>(sync_frames * p->channels);
        p->scratch = aligned_buffer<float>(sync_frames * p->channels);
        p->history_frames = format.sample_rate_hz * 15 / 1000;
        p->history = aligned_buffer<float>(p->history_frames * p->channels);
        p->work = aligned_buffer<float>(sync_frames * p->channels);
        time_stretch_config tsc;
        tsc.sample_rate_hz = format.sample_rate_hz;
        tsc.channels = format.channels;
        if (format.sample_rate_hz <= time_stretcher::max_rate_hz) {
            const status ts = time_stretcher::create(tsc, p->stretcher);
            if (ts == status::out_of_memory) return ts;  // not a jitter buffer that silently cannot stretch
            if (ts != status::ok) p->stretcher.reset();
        }
        out.reset(new jitter_buffer(std::move(p)));
        return status::ok;
    } catch (const std::bad_alloc&) {
        return status::out_of_memory;
    }
}

status jitter_buffer::insert(const rtp_packet_info& packet, std::span<const std::uint8_t> payload,
                             std::int64_t arrival_us) noexcept {
    impl& m = *impl_;
    const bool cn = m.config.comfort_noise_payload_type >= 0 &&
                    packet.payload_type == static_cast<std::uint8_t>(m.config.comfort_noise_payload_type);
    if (payload.empty() && !cn) {
        ++m.stats.packets_rejected;
        return status::malformed;
    }
    if (payload.size() > m.config.max_payload_bytes) {
        ++m.stats.packets_rejected;
        return status::buffer_too_small;
    }
    std::int64_t frames = 0;
    if (!cn) {
        frames = m.dec.frames_in(payload);
        if (frames <= 0) {
            ++m.stats.packets_rejected;
            return status::malformed;
        }
    }
    // Unwrap to 64 bits relative to the highest packet so far.
    if (m.have_stream && packet.ssrc != m.ssrc) {
        m.reset_all();
        ++m.stats.resyncs;
    }
    std::int64_t seq, ts;
    if (!m.have_stream) {
        seq = packet.sequence + (std::int64_t{1} << 20);  // room below for reordered packets
        ts = packet.timestamp + (std::int64_t{1} << 34);
    } else {
        seq = m.highest_seq + static_cast<std::int16_t>(packet.sequence - static_cast<std::uint16_t>(m.highest_seq));
        ts = m.highest_ts + static_cast<std::int32_t>(packet.timestamp - static_cast<std::uint32_t>(m.highest_ts));
        m.count_order(seq, arrival_us);
        const std::int64_t threshold = std::int64_t{m.config.resync_threshold_ms} * m.config.rtp_clock_hz / 1000;
        if (std::llabs(ts - m.highest_ts) > threshold) {
            // A timestamp jump: a new stream from the same source (e.g. a
            // transfer), once the next packet follows it (a single packet with
            // a wild timestamp may be forged: dropped, counted late).
            if (!m.confirms_jump(packet.sequence)) {
                ++m.stats.packets_late;
                return status::ok;
            }
            m.drop_packets();
            m.restart_playout();
            ++m.stats.resyncs;
            m.have_stream = false;
            seq = packet.sequence + (std::int64_t{1} << 20);
            ts = packet.timestamp + (std::int64_t{1} << 34);
            m.ref_head = m.ref_size = 0;
            m.early_pending = false;
            m.have_last_reference = false;
        }
    }
    if (!m.have_stream) {
        m.have_stream = true;
        m.previous_seq = seq;
        m.ssrc = packet.ssrc;
        m.highest_seq = seq - 1;
        m.highest_ts = ts;
        m.next_seq = seq;
    }
    // Jumps. A packet beyond the window (more than capacity_packets ahead of
    // playout: after an outage longer than the window but shorter than
    // resync_threshold_ms) or, while playing, more than max_misorder behind
    // it (the sender's numbers went back without a new SSRC, or what was
    // played carried forged numbers ahead of the real stream) cannot be
    // played where playout stands. One such packet is dropped (overflow
    // ahead, late behind): it may be forged or a straggler. When the next
    // one follows it, the stream really is there, and playout restarts at
    // it, as RFC 3550 A.1 resyncs its sequence state. Without this, the real
    // stream would be refused until its numbers caught up: forever after an
    // outage, up to 32767 packets after a flood of forged numbers.
    const bool ahead = seq >= m.next_seq + static_cast<std::int64_t>(m.slots.size());
    const bool behind = m.state == playout_state::playing && m.next_seq - seq > max_misorder;
    if (ahead || behind) {
        if (!m.confirms_jump(packet.sequence)) {
            if (ahead) ++m.stats.packets_overflow;
            else ++m.stats.packets_late;
            return status::ok;
        }
        // Ahead: what never came is lost (less what is held, less the packet before this one).
        if (ahead) m.stats.packets_lost += static_cast<std::uint64_t>(std::max<std::int64_t>(0, seq - m.next_seq - static_cast<std::int64_t>(m.held) - 1));
        m.restart_at(seq, ts, behind);
    }
    // Duplicates: remembered sequence numbers, or already played. The window of
    // remembered numbers moves with the highest one: forget what it moves past.
    if (seq > m.highest_seq)
        for (std::int64_t s = std::max(m.highest_seq + 1, seq - static_cast<std::int64_t>(seen_window) + 1); s <= seq; ++s)
            m.seen_clear(s);
    if (seq > m.highest_seq - static_cast<std::int64_t>(seen_window) && m.seen_test_and_set(seq)) {
        ++m.stats.packets_duplicate;
        return status::ok;
    }
    if (m.state == playout_state::playing && seq < m.next_seq) {
        ++m.stats.packets_late;
        const std::int64_t late_us = arrival_us - (m.ts_to_us(ts) + m.reference_offset());
        m.observe_lateness(static_cast<float>(late_us) / 1000.0f);
        return status::ok;
    }
    if (seq < m.highest_seq) ++m.stats.packets_reordered;
    if (seq > m.highest_seq) m.highest_seq = seq;
    if (ts > m.highest_ts) m.highest_ts = ts;
    m.observe_arrival(seq, ts, arrival_us);

    packet_slot& s = m.slot_of(seq);
    if (s.used) {  // an old packet the window wrapped onto (cannot be played any more)
        --m.held;
        m.give_block(s.block);
    }
    s = {true, seq, ts, arrival_us, frames, static_cast<std::uint32_t>(payload.size()), m.take_block(), packet.marker, cn};
    if (!payload.empty()) std::memcpy(m.payload_of(seq), payload.data(), payload.size());
    ++m.held;
    ++m.stats.packets_received;
    return status::ok;
}

status jitter_buffer::get(interleaved_view<float> out, std::int64_t now_us) noexcept {
    impl& m = *impl_;
    if (out.frames() != m.tick_frames || out.channels() != m.channels) return status::invalid_argument;
    ++m.stats.ticks;
    if (m.disorder > 0.0f) {
        const std::int64_t packet_frames = m.last_packet_frames > 0 ? m.last_packet_frames : static_cast<std::int64_t>(m.tick_frames);
        m.disorder = std::max(0.0f, m.disorder - 2.0f * static_cast<float>(m.tick_frames) / static_cast<float>(packet_frames));
    }
    if (m.flooded && now_us - m.last_disorder_us >= flood_quiet_us) m.end_flood();
    m.fill(m.tick_frames, now_us);
    const std::size_t n = m.tick_frames * m.channels;
    if (m.audio) {
        std::memcpy(out.data(), m.sync.data(), n * sizeof(float));
        m.remember_played(out.data(), m.tick_frames);
        std::memmove(m.sync.data(), m.sync.data() + n, (m.sync_frames - m.tick_frames) * m.channels * sizeof(float));
    }
    m.sync_frames -= m.tick_frames;
    m.stats.current_delay_ms = m.state == playout_state::playing ? m.current_delay_ms(now_us + static_cast<std::int64_t>(m.config.tick_us)) : 0.0f;
    return status::ok;
}

void jitter_buffer::set_decoding(bool on) noexcept {
    impl& m = *impl_;
    if (on == m.audio) return;
    m.audio = on;
    if (on) {  // what was queued meanwhile is silence; the stretcher must not splice into old history
        std::fill_n(m.sync.data(), m.sync_frames * m.channels, 0.0f);
        m.history_valid = 0;
    }
}

bool jitter_buffer::decoding() const noexcept { return impl_->audio; }

void jitter_buffer::prefetch(unsigned stage) const noexcept {
    const impl& m = *impl_;
    if (stage == 0) {
        const char* base = reinterpret_cast<const char*>(&m);
        for (std::size_t off = 0; off < sizeof(impl); off += 64) __builtin_prefetch(base + off);
        return;
    }
    // The packet that plays next, and the one that arrives next (usually its successor).
    const std::size_t next = static_cast<std::size_t>(m.next_seq) & m.slot_mask, newest = static_cast<std::size_t>(m.highest_seq + 1) & m.slot_mask;
    __builtin_prefetch(m.slots.data() + next);
    __builtin_prefetch(m.slots.data() + newest);
    __builtin_prefetch(m.payloads.data() + m.next_block() * m.block_bytes);  // the block the next packet gets
    __builtin_prefetch(m.histogram.data() + m.cached_bucket);
    __builtin_prefetch(m.reference.data() + (m.ref_head + m.ref_size) % reference_capacity);
    __builtin_prefetch(&m.dec);  // insert() asks it how long the packet is
    __builtin_prefetch(m.seen.data() + (static_cast<std::size_t>(m.highest_seq + 1) % seen_window) / 64);  // (duplicate check)
}

std::size_t jitter_buffer::tick_frames() const noexcept { return impl_->tick_frames; }
const jitter_buffer_stats& jitter_buffer::stats() const noexcept { return impl_->stats; }
const jitter_buffer_config& jitter_buffer::config() const noexcept { return impl_->config; }
void jitter_buffer::reset() noexcept { impl_->reset_all(); }

TUTTI_END_NAMESPACE
