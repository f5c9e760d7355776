// Soak run (issue 9): a long conference of ~50 RTP participants in fast
// forward, with the network and the participants misbehaving, checked for
// memory growth, tick cost and audio that stops for longer than the network
// explains.
//
//   tutti-soak [--minutes M | --seconds S] [--seed N] [--chaos X] [--csv FILE] [--quick] [--mute-test] [--trim]
//              [--trace SEAT FROM TO]
//
// --quick: 30 simulated seconds with every chaos rate ×20 (the ctest smoke run).
// --trim: malloc_trim(0) before each RSS sample (glibc), which returns free
// heap pages to the system: RSS then shows what is in use plus what
// fragmentation pins, not what glibc keeps for later.
// --trace SEAT FROM TO: that seat's counters every tick from FROM to TO (stderr).
// --mute-test: mutes every talker for 1 s of its turn, a fault the engine did
// not cause but check 1 cannot tell apart: the run must fail (a ctest proves
// that the check can fail).
// Exit status 0 when every check passes, 1 when one fails, 2 on a usage error.
//
// The room: automatic mixing rate, 20 ms ticks, loudest-3, shared encoding, 64
// slots. Nothing sleeps: tick k is called with now = k × 20 ms, and every
// packet is pushed with its simulated arrival time, before the tick at or after
// it. All randomness comes from one seed (SplitMix64, bench/network_trace.hpp).
//
// Seats. 56 seats; a seat is a remote client that joins, leaves, and rejoins
// with another codec. Seats 0-2 are probes (Opus, G.722, PCMU) that stay the
// whole run and whose outgoing RTP is decoded here; the others come and go
// (about 50 are in the room at a time). An observer PCM participant (16 kHz)
// hears the room mix. Each client's audio is pre-encoded real speech
// (pocketsphinx-testdata, -26 dBov) or near-silence (-70 dBov noise; Opus
// clients send DTX in silence half of the time), replayed under the seat's own
// RTP header (sequence, timestamp, SSRC), at its own clock (±1000 ppm drift).
//
// Talkers. Three talker turns run at once, each 10-40 s of one seat's speech,
// 1.5 s apart (so loudest-3 never has a fourth talker queueing: selection
// policy is tested in tests/conference_test.cpp, not here).
//
// Chaos, per seat (rates per seat per simulated second, × --chaos):
//   leave for 5-60 s then rejoin with a random codec   1/900
//   codec change: leave and rejoin at once              1/900
//   SSRC change (new SSRC, sequence and timestamp)      1/300
//   network outage of 1-10 s (a quarter exactly 10 s)   1/300   packets sent meanwhile are lost
//   loss burst: 0.5-3 s losing 30 % of packets          1/120   plus Gilbert-Elliott p=0.002 r=0.4 always
//   delay spike of 100-400 ms that drains               1/300
//   garbage datagram (5 kinds, below)                   1/10
//   oversized (1501-9000 bytes) or empty datagram       1/60
//   flood: 2 s at 100× the packet rate                  1/3600  (never a talker)
//   per packet: 0.5 % duplicated, 0.5 % held 20-60 ms (reordered); jitter gamma(2) with a mean of 1-20 ms
// Garbage kinds: random bytes with an RTP version other than 2; 1-11 bytes of
// a header; RTCP; a valid RTP header with a payload type not negotiated; a
// header whose CSRC count runs past the end.
//
// Checks (any failure: exit 1):
//  1. Talker audio. Per talker turn and participant, per tick t:
//       A[t] = a packet carrying a voiced frame (source level >= -35 dBov) of it
//              was pushed since the previous tick, and a delay spike held it
//              back by no more than its jitter buffer's target + 60 ms
//              (max_rewind_ms): later than that, a packet that bunched up
//              behind a spike is stale and dropped, as SpeexDSP and NetEq
//              drop it, so its arrival is not speech that could be heard;
//       H[t] = after tick t the room has it in the mix and its decoded input
//              level is >= -50 dBov (what every other participant hears of it).
//     For every maximal run R of ticks with H = 0 inside the turn, G(R) is the
//     longest run of A = 0 within [start(R) - 500 ms, end(R)): the longest
//     stretch in which nothing voiced arrived (speech pauses, outages, loss
//     bursts, delay spikes, the start of the turn). Engine silence E(R) =
//     |R| - G(R). The check: E(R) <= 200 ms + its jitter buffer's target delay
//     at the end of R (playout waits that long after a gap; 200 ms covers talk
//     detection, the gain ramp and concealment handing over).
//  2. Mix path: whenever some participant is mixed with an input level >= -40
//     dBov, the observer hears >= -60 dBov that tick.
//  3. Encode path: when the observer heard >= -30 dBov for two ticks, each probe
//     decodes >= -60 dBov from the packets of the second tick. (Not -40: at
//     the fading end of a phrase, -37..-42 dBov into the room's Opus encoder
//     at 32 kbit/s, was seen to decode at -63..-65 dBov for three frames; the
//     check is for an encode path that stops, not for codec quality.)
//  4. Every RTP participant receives a packet every tick once joined.
//  5. Counters add up: the room's packets_in equals the datagrams pushed, its
//     packets_rejected equals the garbage, oversized and empty datagrams pushed
//     (none are sent during a flood), and only flood packets are rate limited.
//  6. Memory flat (runs of 20 min or more). The heap in use (glibc mallinfo2:
//     what the process holds) never exceeds its warm-up maximum (first 10
//     minutes) by more than 1 MiB: a leak of 3 KiB per join fails it (and
//     LeakSanitizer fails any leak in the ASan smoke run). RSS grows by at
//     most 1 MiB over the last third of the run: glibc keeps freed memory for
//     reuse, so RSS climbs for about half an hour of joins and leaves before
//     it levels off (with --trim, malloc_trim before each sample, it is flat
//     from the first minutes); the least-squares slopes after warm-up are
//     reported.
//  7. Every tick and every join returns ok.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "network_trace.hpp"
#include "tutti/codec_registry.hpp"
#include "tutti/codecs/opus.hpp"
#include "tutti/conference.hpp"
#include "tutti/kernels.hpp"
#include "tutti/resampler.hpp"
#include "tutti/rtp.hpp"
#include "tutti/wav.hpp"

#include "speech.hpp"  // tests/: shared with the test suite

using namespace tutti;
using tutti_bench::trace_rng;

namespace {

constexpr std::int64_t tick_us = 20000;
constexpr std::size_t seat_count = 56;
constexpr std::size_t probe_count = 3;
constexpr std::size_t talker_slots = 3;
constexpr float voiced_dbov = -35.0f;
constexpr float heard_dbov = -50.0f;

// ---------------------------------------------------------------------------
// Sources: speech and near-silence, encoded once per codec.

const char* const speech_files[] = {
    "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav", "/librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0890.wav", "/librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0930.wav",
};

std::vector<float> load_speech() {
    std::vector<float> all;
    for (const char* f : speech_files) {
        const std::vector<float> v = tutti_test::read_speech(f);  // -26 dBov
        if (v.empty()) {
            std::fprintf(stderr, "cannot read %s%s (pocketsphinx-testdata)\n", TUTTI_SPEECH_DIR, f);
            std::exit(1);
        }
        all.insert(all.end(), v.begin(), v.end());
    }
    return all;
}

std::vector<float> resample(const std::vector<float>& in, std::uint32_t rate) {
    std::vector<float> out = tutti_test::resample_from_16k(in, rate);
    if (out.empty() && !in.empty()) std::exit(1);
    return out;
}

sdp_format fmt(std::uint8_t pt, const char* name, std::uint32_t clock, std::uint16_t ch = 1) {
    sdp_format f;
    f.payload_type = pt;
    f.encoding_name = name;
    f.clock_rate_hz = clock;
    f.channels = ch;
    return f;
}

struct frame_data {
    std::uint32_t offset = 0, size = 0;  // into the loop's bytes; size 0: DTX, nothing sent
    bool voiced = false;
};

struct encoded_loop {
    std::vector<std::uint8_t> bytes;
    std::vector<frame_data> frames;
    std::span<const std::uint8_t> payload(std::size_t i) const { return {bytes.data() + frames[i].offset, frames[i].size}; }
};

struct codec_source {
    const char* name;
    sdp_format format;
    std::uint32_t ts_step = 0;  // RTP units per 20 ms
    encoded_loop speech, silence, silence_dtx;
};

encoded_loop encode(const std::vector<float>& pcm, const sdp_format& f, bool dtx) {
    std::unique_ptr<encoder> enc;
    if (codec_registry::with_builtin_codecs().make_encoder(f, {}, enc) != status::ok) std::exit(1);
    if (dtx) {  // libopus does DTX in SILK mode: a wideband voice client
        (void)dynamic_cast<opus_encoder&>(*enc).set_dtx(true);
        (void)dynamic_cast<opus_encoder&>(*enc).set_max_bandwidth(opus_bandwidth::wideband);
    }
    const std::size_t frame = enc->format().frame_samples();
    encoded_loop out;
    std::vector<std::uint8_t> buf(1500);
    for (std::size_t i = 0; i + frame <= pcm.size(); i += frame) {
        const auto n = enc->encode(interleaved_view<const float>(pcm.data() + i, frame, 1), buf);
        frame_data d;
        d.offset = static_cast<std::uint32_t>(out.bytes.size());
        d.size = n > 0 ? static_cast<std::uint32_t>(n) : 0;
        d.voiced = measure_level({pcm.data() + i, frame}).rms >= voiced_dbov;
        out.bytes.insert(out.bytes.end(), buf.begin(), buf.begin() + std::max<std::ptrdiff_t>(n, 0));
        out.frames.push_back(d);
    }
    return out;
}

std::vector<codec_source> make_sources() {
    const std::vector<float> speech16 = load_speech();
    trace_rng rng(99);
    std::vector<float> quiet16(16000 * 3);
    for (float& x : quiet16) x = 0.0003f * static_cast<float>(rng.normal());  // -70 dBov
    std::vector<codec_source> out = {
        {"opus", fmt(111, "opus", 48000, 2), 960, {}, {}, {}},
        {"G722", fmt(9, "G722", 8000), 160, {}, {}, {}},
        {"PCMU", fmt(0, "PCMU", 8000), 160, {}, {}, {}},
        {"PCMA", fmt(8, "PCMA", 8000), 160, {}, {}, {}},
        {"L16", fmt(96, "L16", 16000), 320, {}, {}, {}},
    };
    for (codec_source& c : out) {
        std::unique_ptr<encoder> enc;
        if (codec_registry::with_builtin_codecs().make_encoder(c.format, {}, enc) != status::ok) std::exit(1);
        const std::uint32_t rate = enc->format().sample_rate_hz;
        c.speech = encode(resample(speech16, rate), c.format, false);
        const std::vector<float> quiet = resample(quiet16, rate);
        c.silence = encode(quiet, c.format, false);
        if (c.format.is("opus")) c.silence_dtx = encode(std::vector<float>(quiet.size(), 0.0f), c.format, true);
    }
    return out;
}

// ---------------------------------------------------------------------------
// RTP by hand: the soak needs headers the packetizer would never write.

std::size_t write_header(std::uint8_t* p, std::uint8_t pt, bool marker, std::uint16_t seq, std::uint32_t ts, std::uint32_t ssrc) {
    p[0] = 0x80;
    p[1] = static_cast<std::uint8_t>((marker ? 0x80 : 0) | (pt & 0x7F));
    p[2] = static_cast<std::uint8_t>(seq >> 8);
    p[3] = static_cast<std::uint8_t>(seq);
    for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<std::uint8_t>(ts >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
    return 12;
}

// ---------------------------------------------------------------------------
// Clients.

struct flight {
    std::int64_t arrival_us = 0;
    std::uint32_t frame = 0;  // index into the loop it was sent from
    bool speech = false;      // loop: speech or (DTX) silence
    bool dtx = false;
    bool marker = false;
    std::uint16_t seq = 0;
    std::uint32_t ts = 0, ssrc = 0;
    std::uint32_t id = 0;     // participant it was sent to
    std::int64_t spike_added_us = 0;  // what a delay spike added to its delay
};

struct seat {
    std::size_t index = 0;
    bool probe = false;
    bool present = false;
    participant_id id = 0;
    std::size_t codec = 0;
    std::int64_t rejoin_tick = -1;  // absent: when to come back
    // Sender.
    std::uint32_t ssrc = 0, ts = 0;
    std::uint16_t seq = 0;
    double next_send_us = 0;
    double ppm = 0;
    bool marker = true;
    bool talking = false;
    std::size_t speech_pos = 0, silence_pos = 0;
    bool dtx = false;  // Opus: DTX in silence
    // Network.
    std::int64_t base_us = 0;
    double jitter_mean_us = 0;
    bool ge_bad = false;
    std::int64_t outage_from = -1, outage_to = -1;
    std::int64_t burst_to = -1;
    std::int64_t spike_at = -1, spike_us = 0;
    float target_ms = 0;  // its jitter buffer's target at the last tick it was a talker
    std::int64_t fifo_last = 0;
    std::int64_t flood_to = -1;
    std::vector<flight> inflight;
    // Receive side (probes).
    std::unique_ptr<decoder> dec;
    std::int64_t last_out_tick = -1;
    std::int64_t joined_tick = 0;
};

struct totals {
    // What the harness did.
    std::uint64_t pushed = 0, pushed_ok = 0, pushed_overflow = 0;
    std::uint64_t sent = 0, lost_network = 0, duplicated = 0, reordered = 0;
    std::uint64_t garbage[5] = {};
    std::uint64_t oversize = 0, empty = 0;
    std::uint64_t invalid_pushed = 0;  // datagrams the room must reject (accepted into the ring or refused at push)
    std::uint64_t flood_packets = 0;
    std::uint64_t joins = 0, leaves = 0, codec_changes = 0, ssrc_changes = 0, outages = 0, outage_ms = 0, bursts = 0, spikes = 0,
                  floods = 0;
    std::uint64_t talker_turns = 0;
    // What the room counted (summed over participants, read before each leave and at the end).
    std::uint64_t packets_in = 0, rejected = 0, in_overflow = 0, rate_limited = 0, out = 0, out_overflow = 0;
    std::uint64_t jb_received = 0, jb_duplicate = 0, jb_late = 0, jb_reordered = 0, jb_rejected = 0, jb_overflow = 0, jb_lost = 0,
                  jb_resyncs = 0, jb_fec = 0, concealed_samples = 0;
    void add(const participant_stats& s) {
        packets_in += s.packets_in;
        rejected += s.packets_rejected;
        in_overflow += s.packets_in_overflow;
        rate_limited += s.packets_rate_limited;
        out += s.packets_out;
        out_overflow += s.packets_out_overflow;
        jb_received += s.jitter.packets_received;
        jb_duplicate += s.jitter.packets_duplicate;
        jb_late += s.jitter.packets_late;
        jb_reordered += s.jitter.packets_reordered;
        jb_rejected += s.jitter.packets_rejected;
        jb_overflow += s.jitter.packets_overflow;
        jb_lost += s.jitter.packets_lost;
        jb_resyncs += s.jitter.resyncs;
        jb_fec += s.jitter.fec_recovered;
        concealed_samples += s.jitter.concealed_samples;
    }
};

// One talker turn's record for one participant (check 1).
struct turn_record {
    participant_id id = 0;
    std::size_t seat = 0;
    std::int64_t first_tick = 0;
    std::vector<std::uint8_t> arrived, heard;  // per tick since first_tick
    std::vector<float> target_ms;              // jitter buffer target delay per tick
    void clear() {
        arrived.clear();
        heard.clear();
        target_ms.clear();
    }
};

struct talker_slot {
    std::size_t seat = SIZE_MAX;  // SIZE_MAX: between turns
    std::int64_t end_tick = 0;    // turn end, or next turn start when idle
    turn_record rec;
};

struct gap_result {
    double worst_excess_ms = -1e9;  // E(R) - allowance, largest seen
    double worst_e_ms = 0, worst_allow_ms = 0, worst_run_ms = 0, worst_arrival_gap_ms = 0;
    std::size_t worst_seat = 0;
    std::int64_t worst_tick = 0;
    std::uint64_t runs = 0, failures = 0;
    double max_e_ms = 0;       // largest engine silence E(R) seen
    double max_run_ms = 0;     // longest heard gap
    double max_gap_ms = 0;     // longest arrival gap that explained one
};

void analyse(const turn_record& r, gap_result& g) {
    const std::size_t n = r.heard.size();
    const std::size_t lag = 500000 / tick_us;
    for (std::size_t a = 0; a < n;) {
        if (r.heard[a]) {
            ++a;
            continue;
        }
        std::size_t b = a;
        while (b < n && !r.heard[b]) ++b;
        // Longest run of "nothing voiced arrived" in [a - lag, b).
        std::size_t longest = 0, cur = 0;
        for (std::size_t t = a > lag ? a - lag : 0; t < b; ++t) {
            cur = r.arrived[t] ? 0 : cur + 1;
            longest = std::max(longest, cur);
        }
        const double run_ms = static_cast<double>(b - a) * tick_us / 1000.0;
        const double gap_ms = static_cast<double>(longest) * tick_us / 1000.0;
        const double e_ms = run_ms - gap_ms;
        const double allow_ms = 200.0 + r.target_ms[b - 1];
        ++g.runs;
        g.max_e_ms = std::max(g.max_e_ms, e_ms);
        g.max_run_ms = std::max(g.max_run_ms, run_ms);
        if (run_ms > 100) g.max_gap_ms = std::max(g.max_gap_ms, gap_ms);
        if (e_ms > allow_ms) ++g.failures;
        if (e_ms - allow_ms > g.worst_excess_ms) {
            g.worst_excess_ms = e_ms - allow_ms;
            g.worst_e_ms = e_ms;
            g.worst_allow_ms = allow_ms;
            g.worst_run_ms = run_ms;
            g.worst_arrival_gap_ms = gap_ms;
            g.worst_seat = r.seat;
            g.worst_tick = r.first_tick + static_cast<std::int64_t>(a);
        }
        a = b;
    }
}

long rss_kib() {
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// Bytes the heap has handed out and not got back (glibc): tells a leak (this
// grows) from fragmentation (RSS grows, this does not). -1 elsewhere.
long heap_in_use_kib() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    const struct mallinfo2 m = mallinfo2();
    return static_cast<long>((m.uordblks + m.hblkhd) / 1024);
#else
    return -1;
#endif
}

long peak_rss_kib() {
    long kib = 0;
    if (FILE* f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
        std::fclose(f);
    }
    return kib;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool under_asan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool under_asan = true;
#else
constexpr bool under_asan = false;
#endif
#else
constexpr bool under_asan = false;
#endif

// ---------------------------------------------------------------------------

class soak {
public:
    soak(std::uint64_t seed, double chaos, std::int64_t ticks, bool mute_test)
        : rng_(seed), chaos_(chaos), ticks_(ticks), mute_test_(mute_test) {}

    int run(const char* csv_path);

private:
    double per_tick(double per_second) const { return per_second * chaos_ * static_cast<double>(tick_us) / 1e6; }
    std::int64_t now_us(std::int64_t tick) const { return tick * tick_us; }

    void join(seat& s, std::int64_t tick);
    void leave(seat& s, bool fold_stats = true);
    void new_stream(seat& s);
    void chaos(seat& s, std::int64_t tick);
    void send(seat& s, std::int64_t tick);
    void deliver(seat& s, std::int64_t tick);
    void push(seat& s, std::span<const std::uint8_t> d, std::int64_t arrival, bool invalid);
    void garbage(seat& s, std::int64_t tick);
    void flood(seat& s, std::int64_t tick);
    void turns(std::int64_t tick);
    void end_turn(talker_slot& slot);
    void begin_record(talker_slot& slot, std::int64_t tick);

    trace_rng rng_;
    double chaos_;
    std::int64_t ticks_;
    bool mute_test_;

public:
    std::size_t trace_seat_ = SIZE_MAX;
    bool trim_ = false;
    std::int64_t trace_from_ = 0, trace_to_ = 0;

private:
    std::vector<codec_source> sources_;
    std::unique_ptr<room> room_;
    std::vector<seat> seats_;
    talker_slot slots_[talker_slots];
    participant_id observer_ = 0;
    totals tot_;
    gap_result gaps_;
    std::vector<std::uint8_t> packet_;
    std::vector<std::uint8_t> big_;
    std::vector<float> decoded_;
    std::vector<std::uint8_t> voiced_arrival_;  // per seat, this tick
    std::uint64_t observer_misses_ = 0, probe_misses_ = 0, out_stalls_ = 0, tick_errors_ = 0, join_errors_ = 0;
    std::int64_t max_out_gap_ticks_ = 0;
};

void soak::new_stream(seat& s) {
    s.ssrc = static_cast<std::uint32_t>(rng_.next());
    s.seq = static_cast<std::uint16_t>(rng_.next());
    s.ts = static_cast<std::uint32_t>(rng_.next());
    s.marker = true;
}

void soak::join(seat& s, std::int64_t tick) {
    s.codec = s.probe ? s.index : static_cast<std::size_t>(rng_.next() % sources_.size());
    const codec_source& c = sources_[s.codec];
    rtp_participant_config pc;
    pc.receive = pc.send = c.format;
    pc.ssrc = static_cast<std::uint32_t>(rng_.next());
    std::string error;
    if (room_->join_rtp(pc, s.id, &error) != status::ok) {
        std::fprintf(stderr, "join failed: %s\n", error.c_str());
        ++join_errors_;
        return;
    }
    ++tot_.joins;
    s.present = true;
    s.joined_tick = tick;
    s.last_out_tick = -1;
    new_stream(s);
    s.next_send_us = static_cast<double>(now_us(tick)) + rng_.uniform(0, tick_us);
    s.ppm = rng_.uniform(-1000, 1000);
    s.base_us = static_cast<std::int64_t>(rng_.uniform(10000, 120000));
    s.jitter_mean_us = rng_.uniform(1000, 20000);
    s.fifo_last = 0;
    s.dtx = c.format.is("opus") && rng_.chance(0.5);
    s.speech_pos = static_cast<std::size_t>(rng_.next() % c.speech.frames.size());
    s.silence_pos = 0;
    s.inflight.clear();
    s.outage_from = s.outage_to = s.burst_to = s.spike_at = s.flood_to = -1;
    if (s.probe) {
        (void)codec_registry::with_builtin_codecs().make_decoder(c.format, {}, s.dec);
    }
}

void soak::leave(seat& s, bool fold_stats) {
    participant_stats st;
    if (fold_stats && room_->get_participant_stats(s.id, st) == status::ok) tot_.add(st);
    (void)room_->leave(s.id);
    ++tot_.leaves;
    s.present = false;
    s.inflight.clear();  // in flight to a participant that is gone
}

// Random events for one seat this tick.
void soak::chaos(seat& s, std::int64_t tick) {
    const std::int64_t now = now_us(tick);
    if (!s.present) {
        if (s.rejoin_tick >= 0 && tick >= s.rejoin_tick) {
            s.rejoin_tick = -1;
            join(s, tick);
        }
        return;
    }
    if (!s.probe) {
        if (rng_.chance(per_tick(1.0 / 900))) {  // leave for a while
            leave(s);
            s.rejoin_tick = tick + static_cast<std::int64_t>(rng_.uniform(5e6, 60e6)) / tick_us;
            return;
        }
        if (rng_.chance(per_tick(1.0 / 900))) {  // renegotiated: another codec
            leave(s);
            join(s, tick);
            ++tot_.codec_changes;
            return;
        }
        if (!s.talking && s.flood_to < now && rng_.chance(per_tick(1.0 / 3600))) {
            s.flood_to = now + 2000000;
            ++tot_.floods;
        }
    }
    if (rng_.chance(per_tick(1.0 / 300))) {
        new_stream(s);
        ++tot_.ssrc_changes;
    }
    if (s.outage_to < now && rng_.chance(per_tick(1.0 / 300))) {
        const std::int64_t len = rng_.chance(0.25) ? 10000000 : static_cast<std::int64_t>(rng_.uniform(1e6, 10e6));
        s.outage_from = now;
        s.outage_to = now + len;
        ++tot_.outages;
        tot_.outage_ms += static_cast<std::uint64_t>(len / 1000);
    }
    if (s.burst_to < now && rng_.chance(per_tick(1.0 / 120))) {
        s.burst_to = now + static_cast<std::int64_t>(rng_.uniform(0.5e6, 3e6));
        ++tot_.bursts;
    }
    if (rng_.chance(per_tick(1.0 / 300))) {
        s.spike_at = now;
        s.spike_us = static_cast<std::int64_t>(rng_.uniform(100e3, 400e3));
        ++tot_.spikes;
    }
    if (s.flood_to >= now) return;  // a flood's datagrams are rate limited unread: garbage now would not be counted as rejected
    if (rng_.chance(per_tick(1.0 / 10))) garbage(s, tick);
    if (rng_.chance(per_tick(1.0 / 60))) {
        if (rng_.chance(0.2)) {
            push(s, {}, now, true);
            ++tot_.empty;
        } else {
            const std::size_t n = 1501 + static_cast<std::size_t>(rng_.next() % 7500);
            for (std::size_t i = 0; i < n; ++i) big_[i] = static_cast<std::uint8_t>(rng_.next());
            write_header(big_.data(), sources_[s.codec].format.payload_type, false, s.seq, s.ts, s.ssrc);
            push(s, {big_.data(), n}, now, true);
            ++tot_.oversize;
        }
    }
}

void soak::push(seat& s, std::span<const std::uint8_t> d, std::int64_t arrival, bool invalid) {
    const status st = room_->push_rtp(s.id, d, arrival);
    ++tot_.pushed;
    if (invalid) ++tot_.invalid_pushed;
    if (st == status::ok) ++tot_.pushed_ok;
    else if (st == status::buffer_too_small) {
        ++tot_.pushed_overflow;
        if (invalid) --tot_.invalid_pushed;  // refused before it could be judged: counted as overflow
    } else if (st != status::invalid_argument) {
        std::fprintf(stderr, "push_rtp: unexpected %s\n", to_string(st));
        ++tick_errors_;
    }
}

void soak::garbage(seat& s, std::int64_t tick) {
    const std::int64_t now = now_us(tick);
    const int kind = static_cast<int>(rng_.next() % 5);
    std::size_t n = 0;
    std::uint8_t* p = packet_.data();
    switch (kind) {
        case 0:  // random bytes, RTP version not 2
            n = 1 + rng_.next() % 300;
            for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(rng_.next());
            p[0] = static_cast<std::uint8_t>((p[0] & 0x3F) | (0x40u * (rng_.next() % 2)) | (rng_.chance(0.3) ? 0xC0u : 0u));  // 0, 1 or 3
            break;
        case 1:  // the start of a header
            n = 1 + rng_.next() % 11;
            write_header(p, sources_[s.codec].format.payload_type, false, s.seq, s.ts, s.ssrc);
            break;
        case 2:  // RTCP (a receiver report's header)
            n = 8 + 4 * (rng_.next() % 8);
            for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(rng_.next());
            p[0] = 0x80;
            p[1] = static_cast<std::uint8_t>(200 + rng_.next() % 5);
            break;
        case 3: {  // a payload type that was not negotiated
            std::uint8_t pt = static_cast<std::uint8_t>(rng_.next() % 64);
            if (pt == sources_[s.codec].format.payload_type) pt = static_cast<std::uint8_t>(pt + 1);
            n = write_header(p, pt, false, s.seq, s.ts, s.ssrc) + 1 + rng_.next() % 200;
            for (std::size_t i = 12; i < n; ++i) p[i] = static_cast<std::uint8_t>(rng_.next());
            break;
        }
        default:  // CSRC count past the end
            n = write_header(p, sources_[s.codec].format.payload_type, false, s.seq, s.ts, s.ssrc) + rng_.next() % 20;
            p[0] = static_cast<std::uint8_t>(0x80 | 0x0F);
            for (std::size_t i = 12; i < n; ++i) p[i] = static_cast<std::uint8_t>(rng_.next());
            break;
    }
    ++tot_.garbage[kind];
    push(s, {p, n}, now - static_cast<std::int64_t>(rng_.next() % tick_us), true);
}

// 99 more packets per 20 ms: copies of its stream with random sequence numbers near its own.
void soak::flood(seat& s, std::int64_t tick) {
    const codec_source& c = sources_[s.codec];
    const std::int64_t now = now_us(tick);
    for (int i = 0; i < 99; ++i) {
        const std::size_t f = s.silence_pos % c.silence.frames.size();
        const auto payload = c.silence.payload(f);
        const auto seq = static_cast<std::uint16_t>(s.seq + rng_.next() % 2000);
        const std::size_t h = write_header(packet_.data(), c.format.payload_type, false, seq, s.ts + static_cast<std::uint32_t>(rng_.next() % 96000), s.ssrc);
        std::memcpy(packet_.data() + h, payload.data(), payload.size());
        push(s, {packet_.data(), h + payload.size()}, now - static_cast<std::int64_t>(rng_.next() % tick_us), false);
        ++tot_.flood_packets;
    }
}

// Frames whose send time has come go into the network.
void soak::send(seat& s, std::int64_t tick) {
    const codec_source& c = sources_[s.codec];
    const std::int64_t now = now_us(tick);
    while (s.next_send_us <= static_cast<double>(now)) {
        const auto send_us = static_cast<std::int64_t>(s.next_send_us);
        s.next_send_us += static_cast<double>(tick_us) / (1.0 + s.ppm * 1e-6);
        flight f;
        f.speech = s.talking;
        f.dtx = !s.talking && s.dtx;
        const encoded_loop& loop = f.speech ? c.speech : f.dtx ? c.silence_dtx : c.silence;
        std::size_t& pos = f.speech ? s.speech_pos : s.silence_pos;
        f.frame = static_cast<std::uint32_t>(pos % loop.frames.size());
        ++pos;
        if (loop.frames[f.frame].size == 0) {  // DTX: nothing sent, the timestamp moves on
            s.ts += c.ts_step;
            s.marker = true;
            continue;
        }
        f.marker = s.marker;
        s.marker = false;
        f.seq = s.seq++;
        f.ts = s.ts;
        s.ts += c.ts_step;
        f.ssrc = s.ssrc;
        f.id = s.id;
        ++tot_.sent;
        // The network: outage, burst loss, Gilbert-Elliott, then delay.
        const bool in_outage = send_us >= s.outage_from && send_us < s.outage_to;
        const bool in_burst = send_us < s.burst_to && rng_.chance(0.3);
        s.ge_bad = s.ge_bad ? !rng_.chance(0.4) : rng_.chance(0.002);
        if (in_outage || in_burst || s.ge_bad) {
            ++tot_.lost_network;
            continue;
        }
        double delay = static_cast<double>(s.base_us) + rng_.gamma(2, s.jitter_mean_us);
        if (s.spike_at >= 0 && send_us >= s.spike_at) {
            f.spike_added_us = std::max<std::int64_t>(0, s.spike_us - (send_us - s.spike_at));
            delay += static_cast<double>(f.spike_added_us);
        }
        std::int64_t arrival = std::max(send_us + static_cast<std::int64_t>(delay), s.fifo_last + 50);
        s.fifo_last = arrival;
        if (rng_.chance(0.005)) {
            arrival += static_cast<std::int64_t>(rng_.uniform(20e3, 60e3));
            ++tot_.reordered;
        }
        f.arrival_us = arrival;
        s.inflight.push_back(f);
        if (rng_.chance(0.005)) {
            f.arrival_us = arrival + static_cast<std::int64_t>(rng_.uniform(100, 5000));
            s.inflight.push_back(f);
            ++tot_.duplicated;
        }
    }
}

// Packets that have arrived by now, in arrival order.
void soak::deliver(seat& s, std::int64_t tick) {
    const codec_source& c = sources_[s.codec];
    const std::int64_t now = now_us(tick);
    std::sort(s.inflight.begin(), s.inflight.end(), [](const flight& a, const flight& b) { return a.arrival_us < b.arrival_us; });
    std::size_t done = 0;
    for (; done < s.inflight.size() && s.inflight[done].arrival_us <= now; ++done) {
        const flight& f = s.inflight[done];
        const encoded_loop& loop = f.speech ? c.speech : f.dtx ? c.silence_dtx : c.silence;
        const auto payload = loop.payload(f.frame);
        const std::size_t h = write_header(packet_.data(), c.format.payload_type, f.marker, f.seq, f.ts, f.ssrc);
        std::memcpy(packet_.data() + h, payload.data(), payload.size());
        const std::uint64_t ok_before = tot_.pushed_ok;
        push(s, {packet_.data(), h + payload.size()}, f.arrival_us, false);
        const bool stale = f.spike_added_us > static_cast<std::int64_t>((s.target_ms + 60.0f) * 1000.0f);
        if (tot_.pushed_ok != ok_before && f.speech && loop.frames[f.frame].voiced && !stale) voiced_arrival_[s.index] = 1;
    }
    s.inflight.erase(s.inflight.begin(), s.inflight.begin() + static_cast<std::ptrdiff_t>(done));
}

void soak::begin_record(talker_slot& slot, std::int64_t tick) {
    slot.rec.clear();
    slot.rec.id = seats_[slot.seat].id;
    slot.rec.seat = slot.seat;
    slot.rec.first_tick = tick;
}

void soak::end_turn(talker_slot& slot) {
    if (slot.seat == SIZE_MAX) return;
    analyse(slot.rec, gaps_);
    slot.rec.clear();
    seats_[slot.seat].talking = false;
    slot.seat = SIZE_MAX;
}

// Talker turns: start, end, follow the participant across codec changes.
void soak::turns(std::int64_t tick) {
    for (talker_slot& slot : slots_) {
        if (slot.seat != SIZE_MAX) {
            seat& s = seats_[slot.seat];
            if (!s.present || tick >= slot.end_tick) {  // left, or the turn is over
                end_turn(slot);
                slot.end_tick = tick + 1500000 / tick_us;
            } else if (s.id != slot.rec.id) {  // rejoined with another codec: a new participant
                analyse(slot.rec, gaps_);
                begin_record(slot, tick);
            }
            continue;
        }
        if (tick < slot.end_tick) continue;
        // A new turn: a present seat that is not a probe, not talking, not flooding.
        for (int attempt = 0; attempt < 50; ++attempt) {
            seat& s = seats_[probe_count + rng_.next() % (seat_count - probe_count)];
            if (!s.present || s.talking || s.flood_to >= now_us(tick)) continue;
            s.talking = true;
            slot.seat = s.index;
            slot.end_tick = tick + static_cast<std::int64_t>(rng_.uniform(10e6, 40e6)) / tick_us;
            begin_record(slot, tick);
            ++tot_.talker_turns;
            break;
        }
    }
}

int soak::run(const char* csv_path) {
    const auto t_start = std::chrono::steady_clock::now();
    sources_ = make_sources();
    room_config rc;
    rc.max_participants = 64;
    rc.event_capacity = 4096;
    if (room::create(rc, room_) != status::ok) return 1;
    packet_.assign(2048, 0);
    big_.assign(9100, 0);
    decoded_.assign(5760 * 2, 0.0f);
    voiced_arrival_.assign(seat_count, 0);
    seats_.resize(seat_count);
    for (std::size_t i = 0; i < seat_count; ++i) {
        seats_[i].index = i;
        seats_[i].probe = i < probe_count;
        seats_[i].inflight.reserve(512);
    }
    for (talker_slot& slot : slots_) {
        slot.rec.arrived.reserve(2100);
        slot.rec.heard.reserve(2100);
        slot.rec.target_ms.reserve(2100);
    }
    // 50 in the room at the start, the rest join over the first minute.
    for (std::size_t i = 0; i < seat_count; ++i) {
        if (i < 50) join(seats_[i], 0);
        else seats_[i].rejoin_tick = static_cast<std::int64_t>(rng_.next() % 3000);
    }
    if (room_->join_pcm({.sample_rate_hz = 16000, .channels = 1}, observer_) != status::ok) return 1;
    for (std::size_t k = 0; k < talker_slots; ++k) slots_[k].end_tick = static_cast<std::int64_t>(50 + 40 * k);

    const std::int64_t ticks_per_minute = 60000000 / tick_us;
    const std::size_t minutes = static_cast<std::size_t>(ticks_ / ticks_per_minute) + 2;
    std::vector<long> rss(minutes, 0), heap(minutes, 0);
    std::vector<std::uint32_t> hist(100000, 0);  // tick time in µs, 0..99999
    double tick_max_us = 0;
    std::int64_t tick_max_at = 0;
    std::vector<std::int16_t> pcm(320, 0), heard(320, 0);
    std::vector<float> heard_f(320);
    std::vector<float> probe_level(probe_count, -127.0f);
    float observer_prev = -127.0f;
    room_event events[256];
    std::size_t rss_samples = 0;
    std::FILE* csv = csv_path ? std::fopen(csv_path, "w") : nullptr;
    if (csv) std::fprintf(csv, "minute,participants,rss_kib,heap_in_use_kib,tick_max_us\n");
    double minute_max_us = 0;

    for (std::int64_t tick = 0; tick < ticks_; ++tick) {
        const std::int64_t now = now_us(tick);
        turns(tick);
        for (seat& s : seats_) {
            voiced_arrival_[s.index] = 0;
            chaos(s, tick);
            if (!s.present) continue;
            send(s, tick);
            deliver(s, tick);
            if (s.flood_to >= now) flood(s, tick);
        }
        (void)room_->push_pcm(observer_, interleaved_view<const std::int16_t>(pcm.data(), 320, 1));
        const auto t0 = std::chrono::steady_clock::now();
        const status ts = room_->tick(now);
        const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
        if (ts != status::ok) ++tick_errors_;
        ++hist[std::min<std::size_t>(static_cast<std::size_t>(us), hist.size() - 1)];
        if (us > tick_max_us) tick_max_us = us, tick_max_at = tick;
        minute_max_us = std::max(minute_max_us, us);

        // What listeners get.
        for (seat& s : seats_) {
            if (!s.present) continue;
            bool got = false;
            float level = -127.0f;
            for (;;) {
                const auto n = room_->pull_rtp(s.id, packet_);
                if (n <= 0) break;
                got = true;
                if (s.dec) {
                    rtp_packet_view v;
                    if (parse_rtp({packet_.data(), static_cast<std::size_t>(n)}, v) != rtp_parse_result::ok) continue;
                    const auto f = s.dec->format();
                    const auto m = s.dec->decode(v.payload(), interleaved_view<float>(decoded_.data(), 5760, f.channels));
                    if (m > 0) {
                        for (std::ptrdiff_t i = 0; i < m; ++i) decoded_[static_cast<std::size_t>(i)] = decoded_[static_cast<std::size_t>(i) * f.channels];
                        level = std::max(level, measure_level({decoded_.data(), static_cast<std::size_t>(m)}).rms);
                    }
                }
            }
            if (s.index < probe_count) probe_level[s.index] = level;
            if (got) {
                if (s.last_out_tick >= 0) max_out_gap_ticks_ = std::max(max_out_gap_ticks_, tick - s.last_out_tick);
                s.last_out_tick = tick;
            } else if (tick > s.joined_tick + 1 && (s.last_out_tick < 0 || tick - s.last_out_tick > 1)) {
                ++out_stalls_;
            }
        }
        float observer_level = -127.0f;
        if (room_->pull_pcm(observer_, interleaved_view<std::int16_t>(heard.data(), 320, 1)) == 320) {
            s16_to_float(heard.data(), heard_f.data(), 320);
            observer_level = measure_level(heard_f).rms;
        }
        // Talkers: what arrived, what the room has of them.
        bool loud_in_mix = false;
        for (talker_slot& slot : slots_) {
            if (slot.seat == SIZE_MAX) continue;
            if (mute_test_) {  // the harness's own test: the room drops 1 s of each talker's audio (check 1 must fail)
                const std::int64_t age = tick - slot.rec.first_tick;
                if (age == 200 || age == 250) (void)room_->set_muted(slot.rec.id, age == 200);
            }
            participant_stats st;
            if (room_->get_participant_stats(slot.rec.id, st) != status::ok) continue;  // joined this tick: applied next
            slot.rec.arrived.push_back(voiced_arrival_[slot.seat]);
            slot.rec.heard.push_back(st.mixed && st.input_level_dbov >= heard_dbov ? 1 : 0);
            slot.rec.target_ms.push_back(st.jitter.target_delay_ms);
            seats_[slot.seat].target_ms = st.jitter.target_delay_ms;
            if (st.mixed && st.input_level_dbov >= -40.0f) loud_in_mix = true;
            if (slot.rec.heard.size() >= 2100) {  // cannot happen: turns are at most 40 s
                analyse(slot.rec, gaps_);
                begin_record(slot, tick + 1);
            }
        }
        if (loud_in_mix && observer_level < -60.0f) ++observer_misses_;
        if (observer_level >= -30.0f && observer_prev >= -30.0f)
            for (std::size_t i = 0; i < probe_count; ++i)
                if (probe_level[i] < -60.0f) {
                    if (probe_misses_ < 10)
                        std::fprintf(stderr, "probe %zu (%s) decoded %.1f dBov at tick %lld while the observer heard %.1f dBov\n", i,
                                     sources_[seats_[i].codec].name, probe_level[i], static_cast<long long>(tick), observer_level);
                    ++probe_misses_;
                }
        observer_prev = observer_level;
        if (trace_seat_ < seat_count && tick >= trace_from_ && tick <= trace_to_) {  // --trace
            const seat& s = seats_[trace_seat_];
            participant_stats st;
            if (s.present && room_->get_participant_stats(s.id, st) == status::ok)
                std::fprintf(stderr,
                             "trace tick %lld seat %zu id %u %s talking(designated) %d voiced-arrival %d | talking %d mixed %d in %.1f det %.1f | jb recv %llu dec %llu notdec %llu late %llu lost %llu ovf %llu resync %llu dup %llu delay %.0f target %.0f | in %llu rej %llu rl %llu | outage %d inflight %zu\n",
                             static_cast<long long>(tick), trace_seat_, s.id, sources_[s.codec].name, s.talking, voiced_arrival_[trace_seat_], st.talking, st.mixed,
                             st.input_level_dbov, st.detection_level_dbov, (unsigned long long)st.jitter.packets_received,
                             (unsigned long long)st.jitter.packets_decoded, (unsigned long long)st.jitter.packets_not_decoded,
                             (unsigned long long)st.jitter.packets_late, (unsigned long long)st.jitter.packets_lost,
                             (unsigned long long)st.jitter.packets_overflow, (unsigned long long)st.jitter.resyncs,
                             (unsigned long long)st.jitter.packets_duplicate, st.jitter.current_delay_ms, st.jitter.target_delay_ms,
                             (unsigned long long)st.packets_in, (unsigned long long)st.packets_rejected, (unsigned long long)st.packets_rate_limited,
                             now >= s.outage_from && now < s.outage_to, s.inflight.size());
            else
                std::fprintf(stderr, "trace tick %lld seat %zu absent\n", static_cast<long long>(tick), trace_seat_);
        }
        while (room_->poll_events(events) == 256) {
        }
        if ((tick + 1) % ticks_per_minute == 0) {
            const std::size_t minute = static_cast<std::size_t>((tick + 1) / ticks_per_minute);
#if defined(__GLIBC__)
            if (trim_) malloc_trim(0);  // --trim: give free heap pages back first
#endif
            rss[minute] = rss_kib();
            heap[minute] = heap_in_use_kib();
            rss_samples = minute + 1;
            if (csv) std::fprintf(csv, "%zu,%u,%ld,%ld,%.0f\n", minute, room_->stats().participants, rss[minute], heap[minute], minute_max_us);
            std::fprintf(stderr, "minute %zu: %u participants, RSS %ld KiB, heap in use %ld KiB, tick max this minute %.0f us\n", minute,
                         room_->stats().participants, rss[minute], heap[minute], minute_max_us);
            minute_max_us = 0;
        }
    }
    // Close everything that is still open.
    for (talker_slot& slot : slots_) end_turn(slot);
    for (seat& s : seats_) {
        participant_stats st;
        if (s.present && room_->get_participant_stats(s.id, st) == status::ok) tot_.add(st);
    }
    const room_stats rs = room_->stats();
    const long final_rss = rss_kib();
    const long peak_rss = peak_rss_kib();
    if (csv) std::fclose(csv);

    // Tick time percentiles from the histogram.
    auto percentile = [&](double q) {
        const auto want = static_cast<std::uint64_t>(q * static_cast<double>(ticks_ - 1));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < hist.size(); ++i) {
            seen += hist[i];
            if (seen > want) return static_cast<double>(i);
        }
        return static_cast<double>(hist.size());
    };
    // RSS after warm-up (first 10 minutes, or a quarter of shorter runs).
    const std::size_t warm = std::min<std::size_t>(10, std::max<std::size_t>(1, (rss_samples - 1) / 4));
    // Least-squares slope (KiB per minute) of v after warm-up.
    auto slope_of = [&](const std::vector<long>& v) {
        double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
        for (std::size_t m = warm; m < rss_samples; ++m) {
            const double x = static_cast<double>(m), y = static_cast<double>(v[m]);
            sx += x, sy += y, sxx += x * x, sxy += x * y, n += 1;
        }
        return n > 2 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0.0;
    };
    const double slope = slope_of(rss), heap_slope = slope_of(heap);
    long warm_max = 0, late_max = 0, heap_warm_max = 0, heap_late_max = 0;
    if (rss_samples > warm + 2) {
        for (std::size_t m = 1; m <= warm; ++m) warm_max = std::max(warm_max, rss[m]), heap_warm_max = std::max(heap_warm_max, heap[m]);
        for (std::size_t m = rss_samples / 2; m < rss_samples; ++m)
            late_max = std::max(late_max, rss[m]), heap_late_max = std::max(heap_late_max, heap[m]);
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    const double sim_s = static_cast<double>(ticks_) * tick_us / 1e6;

    std::printf("tutti-soak: %.1f simulated minutes in %.0f s wall (%.0f× real time), chaos ×%.0f\n", sim_s / 60, wall_s,
                sim_s / wall_s, chaos_);
    std::printf("\nticks run                 %lld (room counted %llu)\n", static_cast<long long>(ticks_),
                static_cast<unsigned long long>(rs.ticks));
    std::printf("tick time (us)            median %.0f, p99 %.0f, p99.9 %.0f, max %.0f (tick %lld)\n", percentile(0.5),
                percentile(0.99), percentile(0.999), tick_max_us, static_cast<long long>(tick_max_at));
    std::printf("RSS (KiB)                 peak %ld, final %ld, warm-up (%zu min) max %ld, last-half max %ld, slope after warm-up %.1f KiB/min\n",
                peak_rss, final_rss, warm, warm_max, late_max, slope);
    std::printf("heap in use (KiB)         final %ld, warm-up max %ld, last-half max %ld, slope after warm-up %.1f KiB/min\n",
                heap_in_use_kib(), heap_warm_max, heap_late_max, heap_slope);
    std::printf("\nharness: joins %llu, leaves %llu (codec changes %llu), SSRC changes %llu, talker turns %llu\n",
                (unsigned long long)tot_.joins, (unsigned long long)tot_.leaves, (unsigned long long)tot_.codec_changes,
                (unsigned long long)tot_.ssrc_changes, (unsigned long long)tot_.talker_turns);
    std::printf("         outages %llu (%.0f s in all), loss bursts %llu, delay spikes %llu, floods %llu (%llu extra packets)\n",
                (unsigned long long)tot_.outages, static_cast<double>(tot_.outage_ms) / 1000.0, (unsigned long long)tot_.bursts,
                (unsigned long long)tot_.spikes, (unsigned long long)tot_.floods, (unsigned long long)tot_.flood_packets);
    std::printf("         packets sent %llu, lost in the network %llu, duplicated %llu, reordered %llu\n",
                (unsigned long long)tot_.sent, (unsigned long long)tot_.lost_network, (unsigned long long)tot_.duplicated,
                (unsigned long long)tot_.reordered);
    std::printf("         garbage: bad version %llu, truncated %llu, RTCP %llu, unknown PT %llu, CSRC overrun %llu; oversized %llu, empty %llu\n",
                (unsigned long long)tot_.garbage[0], (unsigned long long)tot_.garbage[1], (unsigned long long)tot_.garbage[2],
                (unsigned long long)tot_.garbage[3], (unsigned long long)tot_.garbage[4], (unsigned long long)tot_.oversize,
                (unsigned long long)tot_.empty);
    std::printf("         datagrams pushed %llu: ok %llu, ring full %llu, refused at push %llu\n", (unsigned long long)tot_.pushed,
                (unsigned long long)tot_.pushed_ok, (unsigned long long)tot_.pushed_overflow,
                (unsigned long long)(tot_.pushed - tot_.pushed_ok - tot_.pushed_overflow));
    std::printf("\nroom counters (all participants): packets_in %llu\n", (unsigned long long)tot_.packets_in);
    std::printf("  dropped: rejected (malformed, RTCP, unknown PT, empty, oversized) %llu, ring full %llu, rate limited %llu\n",
                (unsigned long long)tot_.rejected, (unsigned long long)tot_.in_overflow, (unsigned long long)tot_.rate_limited);
    std::printf("  jitter buffer: received %llu, duplicate %llu, late %llu, overflow %llu, bad payload %llu; reordered %llu,\n"
                "                 lost %llu (FEC %llu), resyncs %llu, concealed samples %llu\n",
                (unsigned long long)tot_.jb_received, (unsigned long long)tot_.jb_duplicate, (unsigned long long)tot_.jb_late,
                (unsigned long long)tot_.jb_overflow, (unsigned long long)tot_.jb_rejected, (unsigned long long)tot_.jb_reordered,
                (unsigned long long)tot_.jb_lost, (unsigned long long)tot_.jb_fec, (unsigned long long)tot_.jb_resyncs,
                (unsigned long long)tot_.concealed_samples);
    std::printf("  out: packets %llu, not pulled %llu; events dropped %llu, commands dropped %llu\n", (unsigned long long)tot_.out,
                (unsigned long long)tot_.out_overflow, (unsigned long long)rs.events_dropped, (unsigned long long)rs.commands_dropped);
    std::printf("\ntalker audio: %llu silent runs checked; longest heard gap %.0f ms; longest arrival gap explaining a run %.0f ms;\n"
                "              largest engine silence E %.0f ms; worst E - allowance %.0f ms (seat %zu, tick %lld: run %.0f ms, arrival gap %.0f ms, allowance %.0f ms)\n",
                (unsigned long long)gaps_.runs, gaps_.max_run_ms, gaps_.max_gap_ms, gaps_.max_e_ms, gaps_.worst_excess_ms,
                gaps_.worst_seat, static_cast<long long>(gaps_.worst_tick), gaps_.worst_run_ms, gaps_.worst_arrival_gap_ms,
                gaps_.worst_allow_ms);

    int failed = 0;
    auto check = [&](bool ok, const char* what) {
        std::printf("%s  %s\n", ok ? "PASS" : "FAIL", what);
        if (!ok) failed = 1;
    };
    std::printf("\n");
    char line[256];
    std::snprintf(line, sizeof line, "1 talker audio: no engine silence beyond 200 ms + playout delay (%llu of %llu runs over)",
                  (unsigned long long)gaps_.failures, (unsigned long long)gaps_.runs);
    check(gaps_.failures == 0 && gaps_.runs > 0, line);
    std::snprintf(line, sizeof line, "2 mix path: the observer heard every loud mixed talker (%llu misses)", (unsigned long long)observer_misses_);
    check(observer_misses_ == 0, line);
    std::snprintf(line, sizeof line, "3 encode path: every probe decoded the room's audio (%llu misses)", (unsigned long long)probe_misses_);
    check(probe_misses_ == 0, line);
    std::snprintf(line, sizeof line, "4 outgoing RTP every tick (%llu stalls, longest gap %lld ticks)", (unsigned long long)out_stalls_,
                  static_cast<long long>(max_out_gap_ticks_));
    check(out_stalls_ == 0, line);
    std::snprintf(line, sizeof line, "5 counters: packets_in %llu = pushed %llu; rejected %llu = invalid pushed %llu",
                  (unsigned long long)tot_.packets_in, (unsigned long long)tot_.pushed, (unsigned long long)tot_.rejected,
                  (unsigned long long)tot_.invalid_pushed);
    check(tot_.packets_in == tot_.pushed && tot_.rejected == tot_.invalid_pushed && tot_.rate_limited <= tot_.flood_packets, line);
    if (rss_samples >= 21 && !under_asan) {
        const std::size_t third = (rss_samples - 1) * 2 / 3;
        long tail_max = 0;
        for (std::size_t m = third; m < rss_samples; ++m) tail_max = std::max(tail_max, rss[m]);
        std::snprintf(line, sizeof line,
                      "6 memory flat: heap in use last-half max %ld <= warm-up max %ld + 1024 KiB; RSS last third max %ld <= RSS at minute %zu %ld + 1024 KiB",
                      heap_late_max, heap_warm_max, tail_max, third, rss[third]);
        check(heap_late_max <= heap_warm_max + 1024 && tail_max <= rss[third] + 1024, line);
    } else {
        std::printf("skip  6 RSS flat (needs >= 20 minutes without ASan)\n");
    }
    std::snprintf(line, sizeof line, "7 every tick and join ok (%llu tick/push errors, %llu join errors)", (unsigned long long)tick_errors_,
                  (unsigned long long)join_errors_);
    check(tick_errors_ == 0 && join_errors_ == 0 && rs.ticks == static_cast<std::uint64_t>(ticks_), line);
    return failed;
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 3600;
    std::uint64_t seed = 1;
    double chaos = 1;
    const char* csv = nullptr;
    bool mute_test = false;
    bool trim = false;
    long long trace[3] = {-1, 0, 0};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--minutes") seconds = 60 * std::atof(value());
        else if (a == "--seconds") seconds = std::atof(value());
        else if (a == "--seed") seed = std::strtoull(value(), nullptr, 10);
        else if (a == "--chaos") chaos = std::atof(value());
        else if (a == "--csv") csv = value();
        else if (a == "--quick") seconds = 30, chaos = 20;
        else if (a == "--mute-test") mute_test = true;
        else if (a == "--trim") trim = true;
        else if (a == "--trace") {  // --trace SEAT FROM TO: per-tick counters of one seat on stderr
            trace[0] = std::atoll(value());
            trace[1] = std::atoll(value());
            trace[2] = std::atoll(value());
        }
        else {
            std::fprintf(stderr, "usage: tutti-soak [--minutes M | --seconds S] [--seed N] [--chaos X] [--csv FILE] [--quick] [--mute-test] [--trim] [--trace SEAT FROM TO]\n");
            return 2;
        }
    }
    if (!(seconds > 0) || !(chaos >= 0)) {
        std::fprintf(stderr, "tutti-soak: bad --seconds/--minutes or --chaos\n");
        return 2;
    }
    soak s(seed, chaos, static_cast<std::int64_t>(seconds * 1e6) / tick_us, mute_test);
    s.trim_ = trim;
    if (trace[0] >= 0) {
        s.trace_seat_ = static_cast<std::size_t>(trace[0]);
        s.trace_from_ = trace[1];
        s.trace_to_ = trace[2];
    }
    return s.run(csv);
}
