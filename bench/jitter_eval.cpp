// bench/jitter_eval.cpp: tutti's jitter buffer against SpeexDSP's and a hindsight oracle.
//
// Every scenario of bench/network_trace.hpp is replayed, tick by tick, through
//   (1) tutti::jitter_buffer (default jitter_buffer_config, owning the decoder),
//   (2) SpeexDSP's jitter buffer (speex/speex_jitter.h) used the way VoIP
//       applications use it: jitter_buffer_init(samples per packet), put() with
//       RTP timestamps and span in RTP units, one get() + tick() per 20 ms,
//       defaults for margin / late cost / max late rate; a missing packet is
//       concealed with the SAME decoder's conceal() (libopus PLC, G.711
//       Appendix I), since SpeexDSP has no PLC of its own; SpeexDSP gets no
//       FEC (its API cannot show the next packet before the gap is played),
//       and
//   (3) a hindsight fixed-delay oracle: the whole trace known in advance, every
//       packet played exactly `D` after it was sent; its loss-vs-delay curve,
//       and the smallest D that loses no more than tutti (or SpeexDSP) did;
//       and the same oracle on the tick grid (each packet from the first tick
//       at or after send + D), whose mean delay at SpeexDSP's loss says what
//       any receiver that plays on ticks with a fixed delay floor needs there.
// Audio is real speech (pocketsphinx test data, concatenated with pauses to
// 60 s, looped to 10 min for the drift scenarios), coded per 20 ms with Opus
// (16 kHz, VoIP, 24 kb/s, in-band FEC at 10 % expected loss; DTX on for the
// DTX scenario) and with PCMU.
//
// Metrics (also in bench/README.md):
//   playout delay  time a sample is played minus the time it was sent, minus the
//                  trace's smallest one-way network delay (so it is the delay the
//                  jitter buffer and the jitter add, the same for all three). It is
//                  MEASURED on the output: for every 100 ms window of output whose
//                  reference is speech, the lag that maximises the normalised
//                  cross-correlation with the unimpaired decode (searched +-30 ms
//                  around the tick at which the packet was decoded, which a
//                  decoder tap records). This sees exactly what a listener hears,
//                  time stretching included, and treats both jitter buffers
//                  identically; windows without a clear peak (< 0.6) are skipped.
//                  Mean and 95th percentile over windows (= over speech time).
//   late loss      packets that arrived but were never decoded (arrived after
//                  their playout time, or dropped by the jitter buffer), share of
//                  all packets sent.
//   loss heard     packets neither decoded nor rebuilt from FEC (network loss +
//                  late - FEC), share of all packets sent.
//   concealment    samples the buffer asked the decoder to conceal (PLC, or a gap
//                  the decoder refused to conceal) / samples played, from the first to
//                  the last packet decoded (both buffers conceal after the stream ends).
//   interruptions  runs of >= 150 ms of concealment or silence that cut speech:
//                  the audio on either side of the run (or lost audio inside it) is
//                  speech, and the run is >= 150 ms longer than the DTX pause the
//                  sender itself made there (so talkspurt pauses do not count).
//   segSNR         segmental SNR (20 ms, clamped to [-10, 35] dB, speech segments
//                  only) of the output against the unimpaired decode, each segment
//                  aligned within +-5 ms of its window's measured lag.
//
// Usage: jitter_eval [--out DIR] [--scenario NAME]... [--codec opus|pcmu]...
//                    [--seed N] [--quick] [--dump] [--speech-dir DIR] [--set FIELD=VALUE]...
// Writes DIR/jitter_eval.{csv,json,svg,md} (md: the tables of bench/README.md); --dump adds per-window delays and
// tutti's per-tick delay/target to DIR/jitter_eval_<codec>_<scenario>.csv;
// --set overrides a jitter_buffer_config field for tutti (e.g. quantile=0.95),
// for tuning. Every run is deterministic (seeded traces, fixed speech).
#include <speex/speex_jitter.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "network_trace.hpp"
#include "tutti/codec.hpp"
#include "tutti/codecs/g711.hpp"
#include "tutti/codecs/opus.hpp"
#include "tutti/jitter_buffer.hpp"
#include "tutti/resampler.hpp"
#include "tutti/wav.hpp"

#ifndef TUTTI_SPEECH_DIR
#define TUTTI_SPEECH_DIR "/usr/share/pocketsphinx/test/data"
#endif

namespace {

using tutti_bench::network_trace;
using tutti_bench::trace_packet;
using tutti_bench::trace_rng;

constexpr std::uint32_t frame_us = 20000;
constexpr std::uint32_t source_rate = 16000;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "jitter_eval: %s\n", what.c_str());
    std::exit(1);
}

double to_db(double ratio) { return 10.0 * std::log10(std::max(ratio, 1e-30)); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return nan;
    std::sort(v.begin(), v.end());
    const double pos = p * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

double mean(const std::vector<double>& v) {
    if (v.empty()) return nan;
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Dot product with eight independent partial sums, so the compiler can keep
// them in vector registers without -ffast-math.
float dot(const float* a, const float* b, std::size_t n) {
    float s[8] = {};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (std::size_t j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
    float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; ++i) r += a[i] * b[i];
    return r;
}

std::uint64_t fnv1a(std::span<const std::uint8_t> bytes) {
    std::uint64_t h = 1469598103934665603ull ^ bytes.size();
    for (const std::uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
    return h;
}

// ---------------------------------------------------------------------------
// Options

struct options {
    std::string out_dir = ".";
    std::string speech_dir = TUTTI_SPEECH_DIR;
    std::vector<std::string> scenarios;
    std::vector<std::string> codecs;
    std::uint64_t seed = 1;
    bool quick = false;  // drift scenarios 2 min instead of 10
    bool dump = false;
    tutti::jitter_buffer_config tutti;  // --set overrides (rtp_clock_hz and tick_us are set per stream)
};

// --set NAME=VALUE for the tuning fields of jitter_buffer_config.
void set_field(tutti::jitter_buffer_config& c, const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos) die("--set wants NAME=VALUE, got " + assignment);
    const std::string name = assignment.substr(0, eq);
    const double v = std::stod(assignment.substr(eq + 1));
    auto u32 = [&] { return static_cast<std::uint32_t>(v); };
    if (name == "min_delay_ms") c.min_delay_ms = u32();
    else if (name == "max_delay_ms") c.max_delay_ms = u32();
    else if (name == "initial_delay_ms") c.initial_delay_ms = u32();
    else if (name == "quantile") c.quantile = static_cast<float>(v);
    else if (name == "forget_factor") c.forget_factor = static_cast<float>(v);
    else if (name == "reference_window_ms") c.reference_window_ms = u32();
    else if (name == "hysteresis_ms") c.hysteresis_ms = u32();
    else if (name == "max_rewind_ms") c.max_rewind_ms = u32();
    else if (name == "max_conceal_ms") c.max_conceal_ms = u32();
    else if (name == "resync_threshold_ms") c.resync_threshold_ms = u32();
    else if (name == "capacity_packets") c.capacity_packets = static_cast<std::size_t>(v);
    else die("--set: unknown field " + name);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value after " + a);
            return argv[++i];
        };
        if (a == "--out") o.out_dir = value();
        else if (a == "--speech-dir") o.speech_dir = value();
        else if (a == "--scenario") o.scenarios.push_back(value());
        else if (a == "--codec") o.codecs.push_back(value());
        else if (a == "--seed") o.seed = std::stoull(value());
        else if (a == "--quick") o.quick = true;
        else if (a == "--dump") o.dump = true;
        else if (a == "--set") set_field(o.tutti, value());
        else if (a == "--help" || a == "-h") {
            std::printf("usage: jitter_eval [--out DIR] [--scenario NAME]... [--codec opus|pcmu]... [--seed N] [--quick] [--dump]\n"
                        "                   [--set FIELD=VALUE]... (tutti::jitter_buffer_config tuning fields)\n"
                        "scenarios:");
            for (const auto& s : tutti_bench::scenarios()) std::printf(" %s", s.name);
            std::printf("\n");
            std::exit(0);
        } else {
            die("unknown argument " + a);
        }
    }
    for (const std::string& s : o.scenarios)
        if (!tutti_bench::scenario_exists(s)) die("unknown scenario " + s);
    for (const std::string& c : o.codecs)
        if (c != "opus" && c != "pcmu") die("unknown codec " + c);
    if (o.scenarios.empty())
        for (const auto& s : tutti_bench::scenarios()) o.scenarios.emplace_back(s.name);
    if (o.codecs.empty()) o.codecs = {"opus", "pcmu"};
    return o;
}

// ---------------------------------------------------------------------------
// Speech source: every 16 kHz test utterance, in name order, each followed by a
// 0.4-1.2 s pause of very quiet noise (-80 dBFS, so DTX and VAD see a pause
// rather than digital zero), looped until `seconds` are filled.

std::vector<float> speech_source(const std::string& dir, double seconds, std::uint64_t seed) {
    std::vector<std::filesystem::path> files;
    for (const char* sub : {"librivox", "cards"}) {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(dir) / sub, ec))
            if (e.path().extension() == ".wav") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<std::vector<float>> clips;
    for (const auto& f : files) {
        tutti::wav_file w;
        std::string error;
        if (tutti::read_wav_file(f, w, &error) != tutti::status::ok) die(f.string() + ": " + error);
        if (w.sample_rate_hz != source_rate || w.channels != 1) continue;
        clips.push_back(std::move(w.samples));
    }
    if (clips.empty()) die("no 16 kHz mono speech found under " + dir + " (install pocketsphinx-testdata)");
    const auto want = static_cast<std::size_t>(seconds * source_rate);
    std::vector<float> out;
    out.reserve(want + 20 * source_rate);
    trace_rng rng(seed ^ 0x5EEC4ull);
    for (std::size_t i = 0; out.size() < want; ++i) {
        const auto& c = clips[i % clips.size()];
        out.insert(out.end(), c.begin(), c.end());
        const auto pause = static_cast<std::size_t>(rng.uniform(0.4, 1.2) * source_rate);
        for (std::size_t k = 0; k < pause; ++k) out.push_back(static_cast<float>(rng.uniform(-1e-4, 1e-4)));
    }
    out.resize(want);
    return out;
}

// `in` at `from` Hz to `to` Hz, the resampler's delay removed, in chunks (one
// process() call takes at most resampler::max_frames_per_call frames).
std::vector<float> resample(const std::vector<float>& in, std::uint32_t from, std::uint32_t to) {
    if (from == to) return in;
    std::unique_ptr<tutti::resampler> r;
    if (tutti::resampler::create(from, to, 1, r) != tutti::status::ok) die("resampler");
    std::vector<float> padded = in;
    padded.resize(in.size() + r->input_latency() + 64, 0.0f);
    constexpr std::size_t chunk = 16000;
    std::vector<float> out, part(r->max_output_frames(chunk));
    out.reserve(r->max_output_frames(padded.size()));
    for (std::size_t i = 0; i < padded.size(); i += chunk) {
        const std::size_t len = std::min(chunk, padded.size() - i);
        const std::ptrdiff_t n = r->process({padded.data() + i, len, 1}, {part.data(), part.size(), 1});
        if (n < 0) die("resampling failed");
        out.insert(out.end(), part.begin(), part.begin() + n);
    }
    const std::size_t want = in.size() * to / from;
    if (out.size() < want + r->output_latency()) die("resampling came up short");
    const auto first = out.begin() + static_cast<std::ptrdiff_t>(r->output_latency());
    return {first, first + static_cast<std::ptrdiff_t>(want)};
}

// ---------------------------------------------------------------------------
// One coded stream: a payload per 20 ms frame (empty = not sent, DTX), the
// unimpaired decode, and which frames of it are speech.

struct encoded_stream {
    std::string codec;  // "opus" or "pcmu"
    bool dtx = false;
    std::uint32_t rtp_clock_hz = 48000;
    std::uint8_t payload_type = 111;
    std::uint32_t rate_hz = 16000;       // decoder output
    std::size_t frame_samples = 320;     // per frame at rate_hz
    std::vector<std::vector<std::uint8_t>> payloads;
    std::vector<bool> lbrr;              // payload f carries in-band FEC for frame f - 1
    std::vector<float> reference;        // unimpaired decode; frame f at [f N, (f + 1) N); DTX frames silent
    std::vector<double> ref_cumsq;       // prefix sums of reference^2 (size + 1)
    std::vector<bool> active;            // reference frame is speech
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> by_hash;

    std::size_t frames() const { return payloads.size(); }
    std::vector<bool> sent_mask(std::size_t n) const {
        std::vector<bool> m(n);
        for (std::size_t f = 0; f < n; ++f) m[f] = !payloads[f].empty();
        return m;
    }
    std::unique_ptr<tutti::decoder> make_decoder() const {
        if (codec == "pcmu") return tutti::make_g711_decoder(tutti::g711_law::mu_law, frame_us);
        std::unique_ptr<tutti::decoder> d;
        tutti::opus_decoder_config c;
        c.sample_rate_hz = rate_hz;
        if (tutti::make_opus_decoder(c, d) != tutti::status::ok) die("opus decoder");
        return d;
    }
    double ref_energy(std::size_t first, std::size_t n) const { return ref_cumsq[first + n] - ref_cumsq[first]; }
};

void finish_stream(encoded_stream& s) {
    const std::size_t n = s.frame_samples;
    auto dec = s.make_decoder();
    s.reference.assign(s.frames() * n, 0.0f);
    for (std::size_t f = 0; f < s.frames(); ++f) {
        if (s.payloads[f].empty()) continue;
        const std::ptrdiff_t got = dec->decode(s.payloads[f], {s.reference.data() + f * n, n, 1});
        if (got != static_cast<std::ptrdiff_t>(n)) die("reference decode failed");
    }
    s.ref_cumsq.assign(s.reference.size() + 1, 0.0);
    for (std::size_t i = 0; i < s.reference.size(); ++i)
        s.ref_cumsq[i + 1] = s.ref_cumsq[i] + static_cast<double>(s.reference[i]) * s.reference[i];
    // Speech: frames above -45 dBFS (speech here sits at -25 .. -17 dBFS).
    s.active.resize(s.frames());
    for (std::size_t f = 0; f < s.frames(); ++f)
        s.active[f] = to_db(s.ref_energy(f * n, n) / static_cast<double>(n)) > -45.0;
    for (std::size_t f = 0; f < s.frames(); ++f)
        if (!s.payloads[f].empty()) s.by_hash[fnv1a(s.payloads[f])].push_back(static_cast<std::uint32_t>(f));
}

encoded_stream encode_opus(const std::vector<float>& src16k, std::size_t frames, bool dtx) {
    encoded_stream s;
    s.codec = "opus";
    s.dtx = dtx;
    s.rtp_clock_hz = 48000;
    s.payload_type = 111;
    s.rate_hz = 16000;
    s.frame_samples = s.rate_hz * frame_us / 1000000;
    tutti::opus_encoder_config c;
    c.sample_rate_hz = s.rate_hz;
    c.bitrate_bps = 24000;
    c.complexity = 5;
    c.inband_fec = true;
    c.expected_loss_percent = 10;
    c.dtx = dtx;
    std::unique_ptr<tutti::opus_encoder> enc;
    if (tutti::make_opus_encoder(c, enc) != tutti::status::ok) die("opus encoder");
    std::vector<std::uint8_t> buf(1500);
    const std::size_t n = s.frame_samples;
    s.payloads.resize(frames);
    s.lbrr.assign(frames, false);
    for (std::size_t f = 0; f < frames; ++f) {
        const std::ptrdiff_t bytes = enc->encode({src16k.data() + f * n, n, 1}, buf);
        if (bytes < 0) die("opus encode failed");
        s.payloads[f].assign(buf.begin(), buf.begin() + bytes);
        tutti::opus_payload_info info;
        if (bytes > 0 && tutti::parse_opus_payload(s.payloads[f], info) == tutti::status::ok) s.lbrr[f] = info.lbrr;
    }
    finish_stream(s);
    return s;
}

// PCMU; `sent` (the Opus DTX decisions) gives silence suppression on the same frames.
encoded_stream encode_pcmu(const std::vector<float>& src8k, std::size_t frames, const std::vector<bool>* sent) {
    encoded_stream s;
    s.codec = "pcmu";
    s.dtx = sent != nullptr;
    s.rtp_clock_hz = 8000;
    s.payload_type = 0;
    s.rate_hz = 8000;
    s.frame_samples = 160;
    auto enc = tutti::make_g711_encoder(tutti::g711_law::mu_law, frame_us);
    std::vector<std::uint8_t> buf(160);
    s.payloads.resize(frames);
    s.lbrr.assign(frames, false);
    for (std::size_t f = 0; f < frames; ++f) {
        if (sent != nullptr && !(*sent)[f]) continue;
        const std::ptrdiff_t bytes = enc->encode({src8k.data() + f * 160, 160, 1}, buf);
        if (bytes != 160) die("pcmu encode failed");
        s.payloads[f] = buf;
    }
    finish_stream(s);
    return s;
}

// ---------------------------------------------------------------------------
// Decoder tap: forwards to the real decoder and logs what was decoded,
// recovered or concealed at which tick (identifying payloads by content).

// conceal_failed: the decoder refused the request (libopus conceals only multiples
// of 2.5 ms); the jitter buffer then has to fill the gap some other way.
enum class event_kind : std::uint8_t { decode, fec, conceal, conceal_failed };
struct tap_event {
    std::int64_t tick;
    std::int64_t frame;  // decode: the frame; fec: the frame recovered; conceal: -1
    event_kind kind;
    std::uint32_t samples;
};

class tap_decoder final : public tutti::decoder {
public:
    tap_decoder(tutti::decoder& inner, const encoded_stream& s, std::vector<tap_event>& log)
        : inner_(inner), stream_(s), log_(log) {}
    std::int64_t tick = 0;

    tutti::audio_format format() const noexcept override { return inner_.format(); }
    std::ptrdiff_t frames_in(std::span<const std::uint8_t> payload) const noexcept override {
        return inner_.frames_in(payload);
    }
    std::ptrdiff_t decode(std::span<const std::uint8_t> payload, tutti::interleaved_view<float> pcm) noexcept override {
        const std::ptrdiff_t n = inner_.decode(payload, pcm);
        if (n > 0) {
            const std::int64_t f = identify(payload);
            log_.push_back({tick, f, event_kind::decode, static_cast<std::uint32_t>(n)});
            if (f >= 0) last_ = f;
        }
        return n;
    }
    std::ptrdiff_t conceal(tutti::interleaved_view<float> pcm) noexcept override {
        const std::ptrdiff_t n = inner_.conceal(pcm);
        if (n > 0) log_.push_back({tick, -1, event_kind::conceal, static_cast<std::uint32_t>(n)});
        if (n < 0) log_.push_back({tick, -1, event_kind::conceal_failed, static_cast<std::uint32_t>(pcm.frames())});
        return n;
    }
    std::ptrdiff_t decode_fec(std::span<const std::uint8_t> next, tutti::interleaved_view<float> pcm) noexcept override {
        const std::ptrdiff_t n = inner_.decode_fec(next, pcm);
        if (n > 0) {
            const std::int64_t f = identify(next);
            log_.push_back({tick, f >= 0 ? f - 1 : -1, event_kind::fec, static_cast<std::uint32_t>(n)});
        }
        return n;
    }
    void reset() noexcept override { inner_.reset(); }

private:
    // The frame whose payload this is; among identical payloads (silence), the
    // one nearest to the frame after the last one decoded.
    std::int64_t identify(std::span<const std::uint8_t> payload) const {
        const auto it = stream_.by_hash.find(fnv1a(payload));
        if (it == stream_.by_hash.end()) return -1;
        std::int64_t best = -1;
        for (const std::uint32_t f : it->second) {
            const auto& p = stream_.payloads[f];
            if (p.size() != payload.size() || !std::equal(p.begin(), p.end(), payload.begin())) continue;
            if (best < 0 || std::llabs(f - (last_ + 1)) < std::llabs(best - (last_ + 1))) best = f;
        }
        return best;
    }
    tutti::decoder& inner_;
    const encoded_stream& stream_;
    std::vector<tap_event>& log_;
    std::int64_t last_ = -1;
};

// ---------------------------------------------------------------------------
// Replay

struct timeline {
    std::int64_t tick0_us = 0;  // time of tick 0 (a random phase against the sender)
    std::size_t ticks = 0;
    std::int64_t tick_us(std::size_t k) const { return tick0_us + static_cast<std::int64_t>(k) * frame_us; }
};

timeline make_timeline(const network_trace& t, std::uint64_t seed) {
    timeline tl;
    trace_rng rng(seed ^ 0x71C4ull);
    tl.tick0_us = static_cast<std::int64_t>(rng.uniform(0.0, frame_us));
    const std::int64_t end = std::max(t.last_arrival_us(), t.frame_send_us(static_cast<double>(t.frame_count))) + 3000000;
    tl.ticks = static_cast<std::size_t>((end - tl.tick0_us) / frame_us + 1);
    return tl;
}

struct run_result {
    std::string method;
    std::vector<float> out;             // tick k at [k N, (k + 1) N)
    std::vector<tap_event> events;
    std::vector<std::uint32_t> gap;     // per tick: samples of concealment or silence
    std::vector<float> current_delay;   // tutti only: stats per tick
    std::vector<float> target_delay;
    std::vector<tutti::jitter_buffer_stats> tick_stats;  // tutti only: counters after each tick (--dump)
    tutti::jitter_buffer_stats stats;   // tutti only
    double seconds = 0;                 // wall time of the replay
};

run_result run_tutti(const network_trace& t, const encoded_stream& s, const timeline& tl, tutti::jitter_buffer_config cfg) {
    run_result r;
    r.method = "tutti";
    const std::size_t n = s.frame_samples;
    auto dec = s.make_decoder();
    r.events.reserve(t.packets.size() * 2);
    tap_decoder tap(*dec, s, r.events);
    cfg.rtp_clock_hz = s.rtp_clock_hz;
    cfg.tick_us = frame_us;
    std::unique_ptr<tutti::jitter_buffer> jb;
    if (tutti::jitter_buffer::create(cfg, tap, jb) != tutti::status::ok) die("jitter_buffer::create failed");
    if (jb->tick_frames() != n) die("unexpected tick_frames");
    r.out.assign(tl.ticks * n, 0.0f);
    r.gap.assign(tl.ticks, 0);
    r.current_delay.assign(tl.ticks, 0.0f);
    r.target_delay.assign(tl.ticks, 0.0f);
    r.tick_stats.reserve(tl.ticks);
    const auto arrivals = t.arrivals();
    std::size_t next = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t k = 0; k < tl.ticks; ++k) {
        const std::int64_t now = tl.tick_us(k);
        for (; next < arrivals.size() && arrivals[next].arrival_us <= now; ++next) {
            const trace_packet& p = t.packets[arrivals[next].packet];
            const tutti::rtp_packet_info info{p.sequence, p.timestamp, p.ssrc, s.payload_type, p.marker};
            tap.tick = static_cast<std::int64_t>(k);
            (void)jb->insert(info, s.payloads[p.frame], arrivals[next].arrival_us);
        }
        tap.tick = static_cast<std::int64_t>(k);
        const tutti::jitter_buffer_stats before = jb->stats();
        if (jb->get({r.out.data() + k * n, n, 1}, now) != tutti::status::ok) die("jitter_buffer::get failed");
        const tutti::jitter_buffer_stats& after = jb->stats();
        r.gap[k] = static_cast<std::uint32_t>((after.concealed_samples - before.concealed_samples) +
                                              (after.silence_samples - before.silence_samples));
        r.current_delay[k] = after.current_delay_ms;
        r.target_delay[k] = after.target_delay_ms;
        r.tick_stats.push_back(after);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.stats = jb->stats();
    return r;
}

run_result run_speex(const network_trace& t, const encoded_stream& s, const timeline& tl) {
    run_result r;
    r.method = "speex";
    const std::size_t n = s.frame_samples;
    auto dec = s.make_decoder();
    r.events.reserve(t.packets.size() * 2);
    tap_decoder tap(*dec, s, r.events);
    const auto span = static_cast<spx_int32_t>(t.frame_ts());
    JitterBuffer* jb = jitter_buffer_init(span);
    if (jb == nullptr) die("jitter_buffer_init failed");
    r.out.assign(tl.ticks * n, 0.0f);
    r.gap.assign(tl.ticks, 0);
    const auto arrivals = t.arrivals();
    std::size_t next = 0;
    std::vector<char> buf(4096);
    bool started = false;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t k = 0; k < tl.ticks; ++k) {
        const std::int64_t now = tl.tick_us(k);
        for (; next < arrivals.size() && arrivals[next].arrival_us <= now; ++next) {
            const trace_packet& p = t.packets[arrivals[next].packet];
            const auto& payload = s.payloads[p.frame];
            JitterBufferPacket jp{};
            jp.data = reinterpret_cast<char*>(const_cast<std::uint8_t*>(payload.data()));
            jp.len = static_cast<spx_uint32_t>(payload.size());
            jp.timestamp = p.timestamp;
            jp.span = static_cast<spx_uint32_t>(span);
            jp.sequence = p.sequence;
            jp.user_data = p.frame;
            jitter_buffer_put(jb, &jp);
        }
        tap.tick = static_cast<std::int64_t>(k);
        JitterBufferPacket jp{};
        jp.data = buf.data();
        jp.len = static_cast<spx_uint32_t>(buf.size());
        spx_int32_t offset = 0;
        const int ret = jitter_buffer_get(jb, &jp, span, &offset);
        const tutti::interleaved_view<float> out(r.out.data() + k * n, n, 1);
        bool concealed = false;
        if (ret == JITTER_BUFFER_OK) {
            const std::span<const std::uint8_t> payload(reinterpret_cast<const std::uint8_t*>(jp.data), jp.len);
            const std::ptrdiff_t got = tap.decode(payload, out);
            if (got < static_cast<std::ptrdiff_t>(n)) {  // cannot happen with 20 ms payloads; conceal the rest
                const std::size_t from = got > 0 ? static_cast<std::size_t>(got) : 0;
                (void)tap.conceal(out.subview(from, n - from));
                r.gap[k] = static_cast<std::uint32_t>(n - from);
            }
            started = true;
        } else if (started) {
            // JITTER_BUFFER_MISSING (lost or late) or _INSERTION (the buffer grows): conceal one tick.
            (void)tap.conceal(out);
            concealed = true;
        }
        if (concealed) r.gap[k] = static_cast<std::uint32_t>(n);
        jitter_buffer_tick(jb);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    jitter_buffer_destroy(jb);
    return r;
}

// ---------------------------------------------------------------------------
// Metrics

struct metrics {
    double mean_delay_ms = nan, p95_delay_ms = nan;
    double tap_delay_ms = nan;  // diagnostic: mean of (decode tick - send) over speech packets
    std::size_t delay_windows = 0;
    double network_loss = 0, late = 0, fec = 0, loss_heard = 0;  // shares of packets sent
    double conceal_ratio = 0;
    std::size_t interruptions = 0;
    double interrupted_s = 0;
    double seg_snr_db = nan;
    std::size_t played_twice = 0;  // sanity: must be 0
    std::size_t conceal_failed = 0;  // conceal() calls the decoder refused (the gap was filled otherwise)
};

struct window_delay {
    bool valid = false;
    std::int64_t lag = 0;  // output sample index - reference sample index
    double delay_ms = 0;
    float corr = 0;
};

struct analysis {
    metrics m;
    std::vector<window_delay> windows;
};

analysis analyse(const run_result& r, const network_trace& t, const encoded_stream& s, const timeline& tl) {
    analysis a;
    metrics& m = a.m;
    const std::size_t n = s.frame_samples;
    const std::size_t frames = t.frame_count;
    const auto rate = static_cast<double>(s.rate_hz);
    const double min_delay = static_cast<double>(t.min_delay_us());

    // Which frames were heard.
    std::vector<std::uint8_t> played(frames, 0), recovered(frames, 0);
    std::int64_t first_tick = -1, last_tick = -1;
    for (const tap_event& e : r.events) {
        if (e.kind == event_kind::conceal_failed) ++m.conceal_failed;
        if (e.kind == event_kind::conceal || e.kind == event_kind::conceal_failed) continue;
        if (e.frame < 0 || static_cast<std::size_t>(e.frame) >= frames) continue;
        if (e.kind == event_kind::decode) {
            if (played[static_cast<std::size_t>(e.frame)]++) ++m.played_twice;
            if (first_tick < 0) first_tick = e.tick;
            last_tick = e.tick;
        } else {
            recovered[static_cast<std::size_t>(e.frame)] = 1;
        }
    }
    std::size_t sent = 0, lost = 0, late = 0, fec = 0, unheard = 0;
    for (const trace_packet& p : t.packets) {
        ++sent;
        const bool dec = played[p.frame] != 0;
        if (p.lost) ++lost;
        else if (!dec) ++late;
        if (!dec && recovered[p.frame]) ++fec;
        if (!dec && !recovered[p.frame]) ++unheard;
    }
    const double total = static_cast<double>(std::max<std::size_t>(sent, 1));
    m.network_loss = static_cast<double>(lost) / total;
    m.late = static_cast<double>(late) / total;
    m.fec = static_cast<double>(fec) / total;
    m.loss_heard = static_cast<double>(unheard) / total;
    if (first_tick < 0) return a;
    const auto first = static_cast<std::size_t>(first_tick);
    // Concealment while the stream plays (from the first to the last decoded frame;
    // after the stream ends both buffers conceal, then fall silent).
    std::uint64_t concealed = 0;
    for (const tap_event& e : r.events)
        if ((e.kind == event_kind::conceal || e.kind == event_kind::conceal_failed) && e.tick >= first_tick && e.tick <= last_tick)
            concealed += e.samples;
    m.conceal_ratio = static_cast<double>(concealed) / static_cast<double>((static_cast<std::size_t>(last_tick) - first + 1) * n);

    // Coarse lag of each tick from the decodes (output index of the tick start
    // minus reference index of the frame decoded there).
    std::vector<std::vector<std::int64_t>> tick_lags(tl.ticks);
    std::vector<double> tap_delays;
    for (const tap_event& e : r.events) {
        if (e.kind != event_kind::decode || e.frame < 0 || static_cast<std::size_t>(e.frame) >= frames) continue;
        const auto k = static_cast<std::size_t>(e.tick);
        tick_lags[k].push_back(static_cast<std::int64_t>(k * n) - e.frame * static_cast<std::int64_t>(n));
        if (s.active[static_cast<std::size_t>(e.frame)])
            tap_delays.push_back((static_cast<double>(tl.tick_us(k)) - static_cast<double>(t.frame_send_us(static_cast<double>(e.frame))) - min_delay) / 1000.0);
    }
    m.tap_delay_ms = mean(tap_delays);

    // Delay per 100 ms window by cross-correlation with the unimpaired decode.
    const std::size_t w_len = s.rate_hz / 10;  // 100 ms: follows each delay change, cost per second independent of it
    const auto radius = static_cast<std::int64_t>(0.030 * rate);
    const auto ref_size = static_cast<std::int64_t>(s.reference.size());
    const std::size_t windows = r.out.size() / w_len;
    a.windows.resize(windows);
    std::vector<double> delays;
    for (std::size_t w = 0; w < windows; ++w) {
        const std::size_t n0 = w * w_len;
        std::vector<std::int64_t> lags;
        for (std::size_t k = n0 / n; k < (n0 + w_len) / n && k < tl.ticks; ++k)
            lags.insert(lags.end(), tick_lags[k].begin(), tick_lags[k].end());
        if (lags.empty()) continue;
        std::nth_element(lags.begin(), lags.begin() + static_cast<std::ptrdiff_t>(lags.size() / 2), lags.end());
        const std::int64_t centre = lags[lags.size() / 2] + static_cast<std::int64_t>(n / 2);
        // Mostly speech in the reference there?
        const std::int64_t ref0 = static_cast<std::int64_t>(n0) - centre;
        if (ref0 < 0 || ref0 + static_cast<std::int64_t>(w_len) > ref_size) continue;
        std::size_t speech = 0, count = 0;
        for (std::int64_t f = ref0 / static_cast<std::int64_t>(n); f < (ref0 + static_cast<std::int64_t>(w_len)) / static_cast<std::int64_t>(n); ++f, ++count)
            speech += s.active[static_cast<std::size_t>(f)] ? 1 : 0;
        if (2 * speech < count) continue;
        const float* o = r.out.data() + n0;
        const double eo = dot(o, o, w_len);
        if (eo <= 1e-9) continue;
        auto corr_at = [&](std::int64_t lag) -> double {
            const std::int64_t m0 = static_cast<std::int64_t>(n0) - lag;
            if (m0 < 0 || m0 + static_cast<std::int64_t>(w_len) > ref_size) return -2.0;
            const double er = s.ref_energy(static_cast<std::size_t>(m0), w_len);
            if (er <= 1e-9) return -2.0;
            return dot(o, s.reference.data() + m0, w_len) / std::sqrt(eo * er);
        };
        double best = -2.0;
        std::int64_t best_lag = centre;
        for (std::int64_t lag = centre - radius; lag <= centre + radius; lag += 2) {
            const double c = corr_at(lag);
            if (c > best) best = c, best_lag = lag;
        }
        for (const std::int64_t lag : {best_lag - 1, best_lag + 1}) {
            const double c = corr_at(lag);
            if (c > best) best = c, best_lag = lag;
        }
        window_delay& wd = a.windows[w];
        wd.corr = static_cast<float>(best);
        wd.lag = best_lag;
        if (best < 0.6) continue;
        const double centre_out = static_cast<double>(n0) + static_cast<double>(w_len) / 2.0;
        const double t_play = static_cast<double>(tl.tick0_us) + centre_out * 1e6 / rate;
        const double ref_frame = (centre_out - static_cast<double>(best_lag)) / static_cast<double>(n);
        wd.delay_ms = (t_play - static_cast<double>(t.frame_send_us(ref_frame)) - min_delay) / 1000.0;
        wd.valid = true;
        delays.push_back(wd.delay_ms);
    }
    m.delay_windows = delays.size();
    m.mean_delay_ms = mean(delays);
    m.p95_delay_ms = percentile(delays, 0.95);

    // Segmental SNR per tick, aligned within +-5 ms of the nearest valid window's lag.
    auto lag_of_tick = [&](std::size_t k, std::int64_t& lag) {
        const std::size_t w = k * n / w_len;
        for (std::size_t d = 0; d <= 4; ++d) {
            if (w >= d && w - d < windows && a.windows[w - d].valid) return lag = a.windows[w - d].lag, true;
            if (w + d < windows && a.windows[w + d].valid) return lag = a.windows[w + d].lag, true;
        }
        return false;
    };
    const auto fine = static_cast<std::int64_t>(0.005 * rate);
    std::vector<double> snrs;
    for (std::size_t k = first; k < tl.ticks; ++k) {
        std::int64_t lag = 0;
        if (!lag_of_tick(k, lag)) continue;
        const float* o = r.out.data() + k * n;
        const double eo = dot(o, o, n);
        double best_err = std::numeric_limits<double>::max(), best_er = 0;
        std::int64_t best_m = -1;
        for (std::int64_t l = lag - fine; l <= lag + fine; ++l) {
            const std::int64_t m0 = static_cast<std::int64_t>(k * n) - l;
            if (m0 < 0 || m0 + static_cast<std::int64_t>(n) > ref_size) continue;
            const double er = s.ref_energy(static_cast<std::size_t>(m0), n);
            const double err = eo - 2.0 * dot(o, s.reference.data() + m0, n) + er;
            if (err < best_err) best_err = err, best_er = er, best_m = m0;
        }
        if (best_m < 0) continue;
        const auto f = static_cast<std::size_t>((best_m + static_cast<std::int64_t>(n / 2)) / static_cast<std::int64_t>(n));
        if (f >= frames || !s.active[f]) continue;
        snrs.push_back(std::clamp(to_db(best_er / std::max(best_err, 1e-12)), -10.0, 35.0));
    }
    m.seg_snr_db = mean(snrs);

    // Interruptions: runs of gap ticks (>= half a tick of concealment/silence).
    std::vector<std::int64_t> first_decoded(tl.ticks, -1), last_decoded(tl.ticks, -1);
    for (const tap_event& e : r.events) {
        if (e.kind != event_kind::decode || e.frame < 0) continue;
        const auto k = static_cast<std::size_t>(e.tick);
        if (first_decoded[k] < 0) first_decoded[k] = e.frame;
        last_decoded[k] = e.frame;
    }
    std::vector<bool> was_sent(frames, false);
    for (const trace_packet& p : t.packets) was_sent[p.frame] = true;
    const auto min_run = static_cast<double>(0.150 * rate);
    std::int64_t last_frame = -1;  // last frame decoded before the current position
    for (std::size_t k = first; k < tl.ticks;) {
        if (2 * r.gap[k] < n) {
            if (last_decoded[k] >= 0) last_frame = last_decoded[k];
            ++k;
            continue;
        }
        const std::int64_t a_frame = last_decoded[k] >= 0 ? last_decoded[k] : last_frame;
        double g = 0;
        std::size_t k2 = k;
        for (; k2 < tl.ticks && 2 * r.gap[k2] >= n; ++k2) g += r.gap[k2];
        if (k2 >= tl.ticks) break;  // the end of the stream
        std::int64_t b_frame = -1;
        for (std::size_t j = k2; j < tl.ticks && b_frame < 0; ++j) b_frame = first_decoded[j];
        if (a_frame >= 0 && b_frame > a_frame) {
            std::size_t pause = 0;
            bool speech_lost = false;
            for (std::int64_t f = a_frame + 1; f < b_frame; ++f) {
                const auto fi = static_cast<std::size_t>(f);
                if (!was_sent[fi]) ++pause;
                else if (s.active[fi]) speech_lost = true;
            }
            const double excess = g - static_cast<double>(pause * n);
            const bool speech_around = s.active[static_cast<std::size_t>(a_frame)] || s.active[static_cast<std::size_t>(b_frame)];
            if (excess >= min_run && (speech_lost || (pause == 0 && speech_around))) {
                ++m.interruptions;
                m.interrupted_s += excess / rate;
            }
        } else if (a_frame >= 0 && b_frame >= 0 && b_frame <= a_frame && g >= min_run) {
            // The media clock went back (a late packet played after concealment): the gap cut speech.
            if (s.active[static_cast<std::size_t>(a_frame)]) ++m.interruptions, m.interrupted_s += g / rate;
        }
        if (last_decoded[k2 - 1] >= 0) last_frame = last_decoded[k2 - 1];
        k = k2;
    }
    return a;
}

// ---------------------------------------------------------------------------
// Hindsight oracle: every packet played exactly D after it was sent.

struct oracle_curve {
    std::vector<double> delay_ms;    // above the trace's minimum one-way delay
    std::vector<double> loss_heard;  // share of packets sent
    std::vector<double> late;

    // Smallest delay whose loss heard is at most `loss`, NaN if none reaches it.
    double delay_for(double loss) const {
        for (std::size_t i = 0; i < delay_ms.size(); ++i)
            if (loss_heard[i] <= loss + 1e-12) return delay_ms[i];
        return nan;
    }
    double loss_at(double d) const {
        if (std::isnan(d) || delay_ms.empty()) return nan;
        const auto i = static_cast<std::size_t>(std::clamp(std::floor(d), 0.0, static_cast<double>(delay_ms.size() - 1)));
        return loss_heard[i];
    }
};

// A packet is heard when it arrives by its playout time, or, with in-band FEC,
// when the next frame's packet carries LBRR and arrives by then.
oracle_curve oracle(const network_trace& t, const encoded_stream& s) {
    oracle_curve c;
    const auto min_delay = t.min_delay_us();
    const double total = static_cast<double>(std::max<std::size_t>(t.packets.size(), 1));
    for (int d = 0; d <= 1500; ++d) {
        const std::int64_t budget = min_delay + std::int64_t{d} * 1000;
        std::size_t unheard = 0, late = 0;
        for (std::size_t i = 0; i < t.packets.size(); ++i) {
            const trace_packet& p = t.packets[i];
            const std::int64_t deadline = p.send_us + budget;
            if (!p.lost && p.arrival_us <= deadline) continue;
            if (!p.lost) ++late;
            bool rescued = false;
            if (i + 1 < t.packets.size()) {
                const trace_packet& q = t.packets[i + 1];
                rescued = q.frame == p.frame + 1 && s.lbrr[q.frame] && !q.lost && q.arrival_us <= deadline;
            }
            if (!rescued) ++unheard;
        }
        c.delay_ms.push_back(d);
        c.loss_heard.push_back(static_cast<double>(unheard) / total);
        c.late.push_back(static_cast<double>(late) / total);
    }
    return c;
}

// The same hindsight oracle for a receiver that plays on the tick grid (as
// both buffers do: get() takes in what has arrived by each tick): every packet
// is played from the first tick at or after its send time + D, and is heard
// when it arrived by that tick (or is rescued by FEC as above). Its delay is
// the mean over all packets (a lost one's slot is concealed at the same delay)
// of that tick - send time - the minimum one-way delay, i.e. D plus the
// rounding to the grid; with sender drift the packets' phase against the
// ticks turns and that rounding sweeps a whole tick. The best a grid receiver
// with a fixed delay floor can do; the measured delays see speech windows
// only, so they are comparable to a few tenths of a ms.
struct grid_point {
    double mean_delay_ms = 0.0, loss_heard = 0.0;
};

grid_point grid_oracle_at(const network_trace& t, const encoded_stream& s, const timeline& tl, std::int64_t d_us) {
    const std::int64_t min_delay = t.min_delay_us();  // a pass over the trace: once
    const std::int64_t budget = min_delay + d_us;
    const double total = static_cast<double>(std::max<std::size_t>(t.packets.size(), 1));
    std::size_t unheard = 0;
    double delay_sum = 0.0;
    for (std::size_t i = 0; i < t.packets.size(); ++i) {
        const trace_packet& p = t.packets[i];
        const std::int64_t from = p.send_us + budget - tl.tick0_us;  // the first tick at or after send + D
        const std::int64_t tick = tl.tick0_us + (from >= 0 ? (from + frame_us - 1) / frame_us : -((-from) / frame_us)) * frame_us;
        delay_sum += static_cast<double>(tick - p.send_us - min_delay) / 1000.0;
        bool ok = !p.lost && p.arrival_us <= tick;
        if (!ok && i + 1 < t.packets.size()) {
            const trace_packet& q = t.packets[i + 1];
            ok = q.frame == p.frame + 1 && s.lbrr[q.frame] && !q.lost && q.arrival_us <= tick;
        }
        if (!ok) ++unheard;
    }
    return {delay_sum / total, static_cast<double>(unheard) / total};
}

// Its mean delay at the smallest D (to the microsecond, up to 1.5 s) that
// loses no more than `loss`; NaN if none does. Loss cannot grow with D.
double grid_oracle_delay_for(const network_trace& t, const encoded_stream& s, const timeline& tl, double loss) {
    std::int64_t lo = 0, hi = 1500000;
    if (grid_oracle_at(t, s, tl, hi).loss_heard > loss + 1e-12) return nan;
    while (lo < hi) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if (grid_oracle_at(t, s, tl, mid).loss_heard <= loss + 1e-12) hi = mid;
        else lo = mid + 1;
    }
    return grid_oracle_at(t, s, tl, lo).mean_delay_ms;
}

// A bound that no receiver on the tick grid beats, clairvoyant or not: a
// packet plays from the first tick at or after its arrival at the earliest.
// The mean of that (minus send time and the minimum one-way delay) over the
// packets heard, when a loss budget of `loss` (a share of packets sent;
// network losses spend it first) goes on the packets that would wait longest;
// NaN if the network lost more. FEC is not counted: this is the bound for the
// drift scenarios, which lose nothing in the network. With drift the
// arrivals' phase against the ticks turns, so the wait for the next tick
// averages half a tick, whatever the receiver does. Reaching it would take
// playing every packet at the first tick after its own arrival, i.e. knowing
// each arrival in advance and moving the delay packet by packet.
double tick_floor(const network_trace& t, const timeline& tl, double loss) {
    const std::int64_t min_delay = t.min_delay_us();
    std::vector<double> waits;
    waits.reserve(t.packets.size());
    for (const trace_packet& p : t.packets) {
        if (p.lost) continue;
        const std::int64_t from = p.arrival_us - tl.tick0_us;
        const std::int64_t tick = tl.tick0_us + (from >= 0 ? (from + frame_us - 1) / frame_us : -((-from) / frame_us)) * frame_us;
        waits.push_back(static_cast<double>(tick - p.send_us - min_delay) / 1000.0);
    }
    const auto budget = static_cast<std::size_t>(loss * static_cast<double>(t.packets.size()) + 1e-9);
    const std::size_t lost = t.packets.size() - waits.size();
    if (lost > budget) return nan;
    const std::size_t heard = waits.size() - std::min(waits.size(), budget - lost);
    if (heard == 0) return nan;
    std::nth_element(waits.begin(), waits.begin() + static_cast<std::ptrdiff_t>(heard - 1), waits.end());
    double sum = 0.0;
    for (std::size_t i = 0; i < heard; ++i) sum += waits[i];
    return sum / static_cast<double>(heard);
}

// ---------------------------------------------------------------------------
// Results

struct scenario_result {
    std::string codec, scenario, summary;
    std::size_t packets = 0, lost = 0, duplicates = 0, reordered = 0;
    double min_delay_ms = 0, seconds = 0;
    metrics tutti, speex;
    tutti::jitter_buffer_stats tutti_stats;
    oracle_curve curve;
    double oracle_at_tutti = nan, oracle_at_speex = nan;
    double grid_at_speex = nan;           // grid_oracle_delay_for() SpeexDSP's loss heard
    double floor_at_speex = nan;          // tick_floor() at SpeexDSP's loss heard
    double wall_tutti = 0, wall_speex = 0;
};

std::string fmt(double v, int prec = 1) {
    if (std::isnan(v)) return "n/a";
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", prec, v);
    return b;
}

void print_table(const std::vector<scenario_result>& rs) {
    std::printf("\n%-6s %-15s %-7s %9s %9s %7s %7s %7s %8s %8s %5s %7s\n", "codec", "scenario", "method", "delay ms",
                "p95 ms", "late %", "FEC %", "lost %", "heard %", "PLC %", "intr", "segSNR");
    for (const scenario_result& r : rs) {
        auto row = [&](const char* name, const metrics& m) {
            std::printf("%-6s %-15s %-7s %9s %9s %7s %7s %7s %8s %8s %5zu %7s\n", r.codec.c_str(), r.scenario.c_str(), name,
                        fmt(m.mean_delay_ms).c_str(), fmt(m.p95_delay_ms).c_str(), fmt(100 * m.late, 2).c_str(),
                        fmt(100 * m.fec, 2).c_str(), fmt(100 * m.network_loss, 2).c_str(), fmt(100 * m.loss_heard, 2).c_str(),
                        fmt(100 * m.conceal_ratio, 2).c_str(), m.interruptions, fmt(m.seg_snr_db).c_str());
        };
        row("tutti", r.tutti);
        row("speex", r.speex);
        // The oracle at tutti's loss (how little delay that loss needs) and at tutti's delay (how little loss that delay allows).
        std::printf("%-6s %-15s %-7s %9s %9s %7s %7s %7s %8s\n", r.codec.c_str(), r.scenario.c_str(), "or@loss",
                    fmt(r.oracle_at_tutti).c_str(), fmt(r.oracle_at_tutti).c_str(), "", "", "",
                    fmt(100 * r.curve.loss_at(r.oracle_at_tutti), 2).c_str());
        std::printf("%-6s %-15s %-7s %9s %9s %7s %7s %7s %8s\n", r.codec.c_str(), r.scenario.c_str(), "or@dly",
                    fmt(r.tutti.mean_delay_ms).c_str(), fmt(r.tutti.mean_delay_ms).c_str(), "", "", "",
                    fmt(100 * r.curve.loss_at(r.tutti.mean_delay_ms), 2).c_str());
        // The oracle on the tick grid at SpeexDSP's loss: what a fixed delay floor costs a receiver that plays on ticks.
        std::printf("%-6s %-15s %-7s %9s %9s %7s %7s %7s %8s\n", r.codec.c_str(), r.scenario.c_str(), "grid@sx",
                    fmt(r.grid_at_speex).c_str(), "", "", "", "", fmt(100 * r.speex.loss_heard, 2).c_str());
        // No receiver on the tick grid gets under this at SpeexDSP's loss (see tick_floor).
        std::printf("%-6s %-15s %-7s %9s %9s %7s %7s %7s %8s\n", r.codec.c_str(), r.scenario.c_str(), "flr@sx",
                    fmt(r.floor_at_speex).c_str(), "", "", "", "", fmt(100 * r.speex.loss_heard, 2).c_str());
    }
}

void write_csv(const std::filesystem::path& path, const std::vector<scenario_result>& rs) {
    std::ofstream f(path);
    f << "codec,scenario,method,mean_delay_ms,p95_delay_ms,late_pct,network_loss_pct,fec_pct,loss_heard_pct,conceal_pct,"
         "interruptions,interrupted_s,segsnr_db,delay_windows,tap_delay_ms\n";
    for (const scenario_result& r : rs) {
        auto row = [&](const char* name, const metrics& m) {
            f << r.codec << ',' << r.scenario << ',' << name << ',' << fmt(m.mean_delay_ms, 2) << ',' << fmt(m.p95_delay_ms, 2)
              << ',' << fmt(100 * m.late, 3) << ',' << fmt(100 * m.network_loss, 3) << ',' << fmt(100 * m.fec, 3) << ','
              << fmt(100 * m.loss_heard, 3) << ',' << fmt(100 * m.conceal_ratio, 3) << ',' << m.interruptions << ','
              << fmt(m.interrupted_s, 2) << ',' << fmt(m.seg_snr_db, 2) << ',' << m.delay_windows << ','
              << fmt(m.tap_delay_ms, 2) << '\n';
        };
        row("tutti", r.tutti);
        row("speex", r.speex);
        for (const auto& [name, d] : {std::pair{"oracle@tutti_loss", r.oracle_at_tutti}, std::pair{"oracle@speex_loss", r.oracle_at_speex},
                                      std::pair{"oracle@tutti_delay", r.tutti.mean_delay_ms}}) {
            const std::size_t i = std::isnan(d) ? 0 : std::min(r.curve.late.size() - 1, static_cast<std::size_t>(std::max(d, 0.0)));
            f << r.codec << ',' << r.scenario << ',' << name << ',' << fmt(d, 2) << ',' << fmt(d, 2) << ','
              << (std::isnan(d) ? "n/a" : fmt(100 * r.curve.late[i], 3)) << ',' << fmt(100.0 * static_cast<double>(r.lost) / static_cast<double>(std::max<std::size_t>(r.packets, 1)), 3)
              << ",," << fmt(100 * r.curve.loss_at(d), 3) << ",,,,,,\n";
        }
        f << r.codec << ',' << r.scenario << ",grid_oracle@speex_loss," << fmt(r.grid_at_speex, 2) << ",,,,,"
          << fmt(100 * r.speex.loss_heard, 3) << ",,,,,,\n";
        f << r.codec << ',' << r.scenario << ",tick_floor@speex_loss," << fmt(r.floor_at_speex, 2) << ",,,,,"
          << fmt(100 * r.speex.loss_heard, 3) << ",,,,,,\n";
    }
}

void json_metrics(std::ostream& o, const metrics& m) {
    o << "{\"mean_delay_ms\":" << fmt(m.mean_delay_ms, 3) << ",\"p95_delay_ms\":" << fmt(m.p95_delay_ms, 3)
      << ",\"tap_delay_ms\":" << fmt(m.tap_delay_ms, 3) << ",\"delay_windows\":" << m.delay_windows
      << ",\"late\":" << fmt(m.late, 6) << ",\"network_loss\":" << fmt(m.network_loss, 6) << ",\"fec\":" << fmt(m.fec, 6)
      << ",\"loss_heard\":" << fmt(m.loss_heard, 6) << ",\"conceal_ratio\":" << fmt(m.conceal_ratio, 6)
      << ",\"interruptions\":" << m.interruptions << ",\"interrupted_s\":" << fmt(m.interrupted_s, 3)
      << ",\"segsnr_db\":" << fmt(m.seg_snr_db, 3) << ",\"played_twice\":" << m.played_twice
      << ",\"conceal_failed\":" << m.conceal_failed << "}";
}

std::string json_num(double v, int prec) { return std::isnan(v) ? "null" : fmt(v, prec); }

struct verdict {
    std::vector<std::string> failures;  // per scenario
    double tutti_delay = 0, speex_delay = 0, tutti_loss = 0, speex_loss = 0;
    bool per_scenario = true, overall_a = false, overall_b = false;
};

// "Must show": on every scenario tutti's loss heard <= SpeexDSP's at a mean
// delay <= SpeexDSP's; over all scenarios (plain means) either the mean delay
// >= 20 % lower at equal or lower loss, or no more delay with >= 30 % less loss.
verdict judge(const std::vector<scenario_result>& rs, const std::string& codec) {
    verdict v;
    std::size_t count = 0;
    for (const scenario_result& r : rs) {
        if (r.codec != codec) continue;
        ++count;
        const bool loss_ok = r.tutti.loss_heard <= r.speex.loss_heard;
        const bool delay_ok = !(r.tutti.mean_delay_ms > r.speex.mean_delay_ms);
        if (!loss_ok || !delay_ok) {
            v.per_scenario = false;
            v.failures.push_back(r.scenario + (loss_ok ? "" : " (loss heard " + fmt(100 * r.tutti.loss_heard, 2) + " % > " +
                                                                  fmt(100 * r.speex.loss_heard, 2) + " %)") +
                                 (delay_ok ? "" : " (delay " + fmt(r.tutti.mean_delay_ms) + " ms > " + fmt(r.speex.mean_delay_ms) + " ms)"));
        }
        v.tutti_delay += r.tutti.mean_delay_ms;
        v.speex_delay += r.speex.mean_delay_ms;
        v.tutti_loss += r.tutti.loss_heard;
        v.speex_loss += r.speex.loss_heard;
    }
    if (count == 0) return v;
    const auto c = static_cast<double>(count);
    v.tutti_delay /= c, v.speex_delay /= c, v.tutti_loss /= c, v.speex_loss /= c;
    v.overall_a = v.tutti_delay <= 0.8 * v.speex_delay && v.tutti_loss <= v.speex_loss;
    v.overall_b = v.tutti_delay <= v.speex_delay && v.tutti_loss <= 0.7 * v.speex_loss;
    return v;
}

void write_json(const std::filesystem::path& path, const std::vector<scenario_result>& rs, const options& o,
                const std::vector<std::string>& codecs) {
    std::ofstream f(path);
    f << "{\"seed\":" << o.seed << ",\"quick\":" << (o.quick ? "true" : "false") << ",\"results\":[\n";
    for (std::size_t i = 0; i < rs.size(); ++i) {
        const scenario_result& r = rs[i];
        const auto& st = r.tutti_stats;
        f << "{\"codec\":\"" << r.codec << "\",\"scenario\":\"" << r.scenario << "\",\"seconds\":" << fmt(r.seconds, 1)
          << ",\"trace\":{\"packets\":" << r.packets << ",\"lost\":" << r.lost << ",\"duplicates\":" << r.duplicates
          << ",\"reordered\":" << r.reordered << ",\"min_delay_ms\":" << fmt(r.min_delay_ms, 3) << "},\n \"tutti\":";
        json_metrics(f, r.tutti);
        f << ",\n \"tutti_stats\":{\"received\":" << st.packets_received << ",\"duplicate\":" << st.packets_duplicate
          << ",\"late\":" << st.packets_late << ",\"reordered\":" << st.packets_reordered << ",\"rejected\":" << st.packets_rejected
          << ",\"overflow\":" << st.packets_overflow << ",\"lost\":" << st.packets_lost << ",\"decoded\":" << st.packets_decoded
          << ",\"fec_recovered\":" << st.fec_recovered << ",\"concealed_samples\":" << st.concealed_samples
          << ",\"silence_samples\":" << st.silence_samples << ",\"accelerate_samples\":" << st.accelerate_samples
          << ",\"stretch_samples\":" << st.stretch_samples << ",\"silence_skipped_samples\":" << st.silence_skipped_samples
          << ",\"silence_inserted_samples\":" << st.silence_inserted_samples << ",\"resyncs\":" << st.resyncs
          << ",\"ticks\":" << st.ticks << "},\n \"speex\":";
        json_metrics(f, r.speex);
        f << ",\n \"oracle\":{\"delay_at_tutti_loss_ms\":" << json_num(r.oracle_at_tutti, 1)
          << ",\"delay_at_speex_loss_ms\":" << json_num(r.oracle_at_speex, 1)
          << ",\"grid_delay_at_speex_loss_ms\":" << json_num(r.grid_at_speex, 2)
          << ",\"tick_floor_at_speex_loss_ms\":" << json_num(r.floor_at_speex, 2) << ",\"curve\":[";
        for (std::size_t k = 0; k < r.curve.delay_ms.size(); k += 5)
            f << (k ? "," : "") << "[" << fmt(r.curve.delay_ms[k], 0) << "," << fmt(r.curve.loss_heard[k], 6) << "]";
        f << "]},\"wall_s\":{\"tutti\":" << fmt(r.wall_tutti, 3) << ",\"speex\":" << fmt(r.wall_speex, 3) << "}}"
          << (i + 1 < rs.size() ? ",\n" : "\n");
    }
    f << "],\"criteria\":{";
    for (std::size_t i = 0; i < codecs.size(); ++i) {
        const verdict v = judge(rs, codecs[i]);
        f << (i ? "," : "") << "\"" << codecs[i] << "\":{\"every_scenario\":" << (v.per_scenario ? "true" : "false")
          << ",\"failures\":[";
        for (std::size_t k = 0; k < v.failures.size(); ++k) f << (k ? "," : "") << "\"" << v.failures[k] << "\"";
        f << "],\"mean_delay_ms\":{\"tutti\":" << json_num(v.tutti_delay, 2) << ",\"speex\":" << json_num(v.speex_delay, 2)
          << "},\"mean_loss_heard\":{\"tutti\":" << json_num(v.tutti_loss, 6) << ",\"speex\":" << json_num(v.speex_loss, 6)
          << "},\"delay_20pct_lower_at_no_more_loss\":" << (v.overall_a ? "true" : "false")
          << ",\"loss_30pct_lower_at_no_more_delay\":" << (v.overall_b ? "true" : "false") << "}";
    }
    f << "}}\n";
}

// ---------------------------------------------------------------------------
// SVG: one panel per scenario, loss heard (y) against mean delay (x): the
// oracle's curve, tutti and SpeexDSP as points (filled: Opus, hollow: PCMU).

double nice_step(double range) {
    const double raw = range / 4.0;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * mag >= raw) return m * mag;
    return 10 * mag;
}

// Decimals that show every tick of this step exactly (2.5 -> 1, 0.25 -> 2).
int decimals(double step) {
    for (int d = 0; d < 3; ++d)
        if (std::fabs(step * std::pow(10.0, d) - std::round(step * std::pow(10.0, d))) < 1e-9) return d;
    return 3;
}

void write_svg(const std::filesystem::path& path, const std::vector<scenario_result>& rs, const std::vector<std::string>& scenario_names) {
    const int pw = 300, ph = 230, cols = 4;
    const int rows = static_cast<int>((scenario_names.size() + cols - 1) / cols);
    const int width = pw * cols + 20, height = ph * rows + 70;
    std::ostringstream s;
    s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"10\" y=\"18\" font-size=\"14\" font-weight=\"bold\">Loss heard vs. mean playout delay per scenario</text>\n"
      << "<g transform=\"translate(10,28)\">"
      << "<line x1=\"0\" y1=\"8\" x2=\"22\" y2=\"8\" stroke=\"#888\" stroke-width=\"2\"/><text x=\"27\" y=\"12\">hindsight fixed-delay oracle (dashed: PCMU)</text>"
      << "<circle cx=\"285\" cy=\"8\" r=\"5\" fill=\"#1f77b4\"/><text x=\"295\" y=\"12\">tutti</text>"
      << "<rect x=\"335\" y=\"3\" width=\"10\" height=\"10\" fill=\"#d62728\"/><text x=\"350\" y=\"12\">SpeexDSP + same PLC</text>"
      << "<text x=\"490\" y=\"12\">filled: Opus 16 kHz + FEC; hollow: PCMU</text></g>\n";
    for (std::size_t i = 0; i < scenario_names.size(); ++i) {
        const int ox = 10 + pw * static_cast<int>(i % cols), oy = 50 + ph * static_cast<int>(i / cols);
        const int l = 45, r = 10, t = 20, b = 35;
        const double w = pw - l - r, h = ph - t - b;
        const scenario_result* opus = nullptr;
        std::vector<const scenario_result*> here;
        for (const scenario_result& x : rs)
            if (x.scenario == scenario_names[i]) {
                here.push_back(&x);
                if (x.codec == "opus") opus = &x;
            }
        double xmax = 20, ymax = 0.5;
        for (const scenario_result* x : here)
            for (const metrics* m : {&x->tutti, &x->speex}) {
                if (!std::isnan(m->mean_delay_ms)) xmax = std::max(xmax, m->mean_delay_ms * 1.3);
                ymax = std::max(ymax, 100 * m->loss_heard * 1.3);
            }
        if (opus != nullptr) ymax = std::max(ymax, 100 * opus->curve.loss_heard[static_cast<std::size_t>(std::min(xmax, 1500.0))] * 1.3);
        const double xs = nice_step(xmax), ys = nice_step(ymax);
        xmax = std::ceil(xmax / xs) * xs;
        ymax = std::ceil(ymax / ys) * ys;
        auto px = [&](double x) { return l + w * std::clamp(x / xmax, 0.0, 1.0); };
        auto py = [&](double y) { return t + h * (1.0 - std::clamp(y / ymax, 0.0, 1.0)); };
        s << "<g transform=\"translate(" << ox << "," << oy << ")\">\n"
          << "<text x=\"" << l << "\" y=\"13\" font-weight=\"bold\">" << scenario_names[i] << "</text>\n"
          << "<rect x=\"" << l << "\" y=\"" << t << "\" width=\"" << w << "\" height=\"" << h << "\" fill=\"none\" stroke=\"#000\"/>\n";
        for (double x = 0; x <= xmax + 1e-9; x += xs)
            s << "<line x1=\"" << px(x) << "\" y1=\"" << t << "\" x2=\"" << px(x) << "\" y2=\"" << t + h
              << "\" stroke=\"#eee\"/><text x=\"" << px(x) << "\" y=\"" << t + h + 13 << "\" text-anchor=\"middle\">" << fmt(x, decimals(xs)) << "</text>\n";
        for (double y = 0; y <= ymax + 1e-9; y += ys)
            s << "<line x1=\"" << l << "\" y1=\"" << py(y) << "\" x2=\"" << l + w << "\" y2=\"" << py(y)
              << "\" stroke=\"#eee\"/><text x=\"" << l - 4 << "\" y=\"" << py(y) + 4 << "\" text-anchor=\"end\">" << fmt(y, decimals(ys)) << "</text>\n";
        s << "<text x=\"" << l + w / 2 << "\" y=\"" << ph - 8 << "\" text-anchor=\"middle\">mean playout delay (ms)</text>\n"
          << "<text transform=\"translate(11," << t + h / 2 << ") rotate(-90)\" text-anchor=\"middle\">loss heard (%)</text>\n";
        for (const scenario_result* x : here) {  // oracle curves: solid for Opus, dashed for PCMU (no FEC)
            s << "<polyline fill=\"none\" stroke=\"#888\" stroke-width=\"1.5\""
              << (x->codec == "opus" ? "" : " stroke-dasharray=\"4,3\"") << " points=\"";
            for (std::size_t k = 0; k < x->curve.delay_ms.size() && x->curve.delay_ms[k] <= xmax; ++k)
                s << fmt(px(x->curve.delay_ms[k]), 1) << ',' << fmt(py(100 * x->curve.loss_heard[k]), 1) << ' ';
            s << "\"/>\n";
        }
        for (const scenario_result* x : here) {
            const bool filled = x->codec == "opus";
            const metrics& tm = x->tutti;
            const metrics& sm = x->speex;
            if (!std::isnan(sm.mean_delay_ms))
                s << "<rect x=\"" << px(sm.mean_delay_ms) - 5 << "\" y=\"" << py(100 * sm.loss_heard) - 5
                  << "\" width=\"10\" height=\"10\" fill=\"" << (filled ? "#d62728" : "none") << "\" stroke=\"#d62728\" stroke-width=\"1.5\"/>\n";
            if (!std::isnan(tm.mean_delay_ms))
                s << "<circle cx=\"" << px(tm.mean_delay_ms) << "\" cy=\"" << py(100 * tm.loss_heard) << "\" r=\"5\" fill=\""
                  << (filled ? "#1f77b4" : "none") << "\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>\n";
        }
        s << "</g>\n";
    }
    s << "</svg>\n";
    std::ofstream(path) << s.str();
}

// The tables of bench/README.md: one per codec, then the "must show" verdicts.
void write_markdown(const std::filesystem::path& path, const std::vector<scenario_result>& rs, const std::vector<std::string>& codecs) {
    std::ofstream f(path);
    for (const std::string& codec : codecs) {
        f << "\n**" << (codec == "opus" ? "Opus 16 kHz, 24 kb/s, in-band FEC" : "PCMU") << "** (tutti / SpeexDSP / oracle)\n\n"
          << "| scenario | mean delay ms | p95 delay ms | loss heard % | late % | FEC % | PLC % | interruptions | segSNR dB |\n"
          << "|---|---|---|---|---|---|---|---|---|\n";
        for (const scenario_result& r : rs) {
            if (r.codec != codec) continue;
            const metrics& t = r.tutti;
            const metrics& x = r.speex;
            f << "| " << r.scenario << " | " << fmt(t.mean_delay_ms) << " / " << fmt(x.mean_delay_ms) << " / " << fmt(r.oracle_at_tutti)
              << " | " << fmt(t.p95_delay_ms) << " / " << fmt(x.p95_delay_ms) << " | " << fmt(100 * t.loss_heard, 2) << " / "
              << fmt(100 * x.loss_heard, 2) << " / " << fmt(100 * r.curve.loss_at(t.mean_delay_ms), 2) << " | " << fmt(100 * t.late, 2)
              << " / " << fmt(100 * x.late, 2) << " | " << fmt(100 * t.fec, 2) << " | " << fmt(100 * t.conceal_ratio, 2) << " / "
              << fmt(100 * x.conceal_ratio, 2) << " | " << t.interruptions << " / " << x.interruptions << " | " << fmt(t.seg_snr_db)
              << " / " << fmt(x.seg_snr_db) << " |\n";
        }
        const verdict v = judge(rs, codec);
        f << "\nEvery scenario, loss heard and mean delay no higher than SpeexDSP's: **" << (v.per_scenario ? "yes" : "no") << "**";
        if (!v.failures.empty()) {
            f << " (fails:";
            for (const std::string& x : v.failures) f << " " << x << ";";
            f << ")";
        }
        f << ".\nOver all scenarios: mean delay " << fmt(v.tutti_delay) << " ms vs " << fmt(v.speex_delay) << " ms ("
          << fmt(100 * (v.tutti_delay / v.speex_delay - 1), 0) << " %), loss heard " << fmt(100 * v.tutti_loss, 2) << " % vs "
          << fmt(100 * v.speex_loss, 2) << " % (" << fmt(v.speex_loss > 0 ? 100 * (v.tutti_loss / v.speex_loss - 1) : 0.0, 0)
          << " %): >= 20 % less delay at no more loss **" << (v.overall_a ? "yes" : "no") << "**, >= 30 % less loss at no more delay **"
          << (v.overall_b ? "yes" : "no") << "**.\n";
    }
}

void dump_run(const std::filesystem::path& path, const analysis& at, const analysis& as, const run_result& rt) {
    std::ofstream f(path);
    f << "window,tutti_delay_ms,tutti_corr,speex_delay_ms,speex_corr\n";
    for (std::size_t w = 0; w < std::max(at.windows.size(), as.windows.size()); ++w) {
        auto cell = [&](const std::vector<window_delay>& v) {
            if (w >= v.size() || !v[w].valid) return std::string(",") + (w < v.size() ? fmt(v[w].corr, 3) : "");
            return fmt(v[w].delay_ms, 2) + "," + fmt(v[w].corr, 3);
        };
        f << w << ',' << cell(at.windows) << ',' << cell(as.windows) << '\n';
    }
    std::ofstream g(path.string() + ".ticks.csv");
    // Per tick, besides the delays: what the buffer did in that tick (samples
    // concealed, accelerated away, stretched in, silence skipped / inserted;
    // packets late).
    g << "tick,current_delay_ms,target_delay_ms,gap_samples,concealed,accelerated,stretched,silence_skipped,silence_inserted,late\n";
    for (std::size_t k = 0; k < rt.current_delay.size(); ++k) {
        const tutti::jitter_buffer_stats& a = rt.tick_stats[k];
        const tutti::jitter_buffer_stats b = k > 0 ? rt.tick_stats[k - 1] : tutti::jitter_buffer_stats{};
        g << k << ',' << rt.current_delay[k] << ',' << rt.target_delay[k] << ',' << rt.gap[k] << ','
          << a.concealed_samples - b.concealed_samples << ',' << a.accelerate_samples - b.accelerate_samples << ','
          << a.stretch_samples - b.stretch_samples << ',' << a.silence_skipped_samples - b.silence_skipped_samples << ','
          << a.silence_inserted_samples - b.silence_inserted_samples << ',' << a.packets_late - b.packets_late << '\n';
    }
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    const auto t_start = std::chrono::steady_clock::now();
    std::filesystem::create_directories(o.out_dir);

    double longest = 0;
    for (const auto& sc : tutti_bench::scenarios())
        for (const std::string& name : o.scenarios)
            if (name == sc.name) longest = std::max(longest, (o.quick && sc.default_seconds > 60) ? 120.0 : sc.default_seconds);
    const auto long_frames = static_cast<std::size_t>(longest * 1e6 / frame_us);
    const std::size_t dtx_frames = 60 * 1000000 / frame_us;

    std::fprintf(stderr, "speech source: %.0f s ... ", longest);
    const std::vector<float> src16 = speech_source(o.speech_dir, longest + 1, o.seed);
    std::fprintf(stderr, "encoding ... ");
    // Opus streams: continuous, and with DTX (whose send decisions PCMU reuses for silence suppression).
    const bool want_opus = std::find(o.codecs.begin(), o.codecs.end(), "opus") != o.codecs.end();
    const bool want_pcmu = std::find(o.codecs.begin(), o.codecs.end(), "pcmu") != o.codecs.end();
    const encoded_stream opus_dtx = encode_opus(src16, dtx_frames, true);
    encoded_stream opus, pcmu, pcmu_dtx;
    if (want_opus) opus = encode_opus(src16, long_frames, false);
    if (want_pcmu) {
        const std::vector<float> src8 = resample(src16, source_rate, 8000);
        pcmu = encode_pcmu(src8, long_frames, nullptr);
        const std::vector<bool> mask = opus_dtx.sent_mask(dtx_frames);
        pcmu_dtx = encode_pcmu(src8, dtx_frames, &mask);
    }
    std::fprintf(stderr, "done (%.1f s)\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count());

    std::vector<scenario_result> results;
    for (const std::string& codec : o.codecs) {
        for (std::size_t si = 0; si < tutti_bench::scenarios().size(); ++si) {
            const auto& sc = tutti_bench::scenarios()[si];
            if (std::find(o.scenarios.begin(), o.scenarios.end(), sc.name) == o.scenarios.end()) continue;
            const bool dtx = std::string_view(sc.name) == "dtx_talkspurts";
            const encoded_stream& s = codec == "opus" ? (dtx ? opus_dtx : opus) : (dtx ? pcmu_dtx : pcmu);
            const double seconds = (o.quick && sc.default_seconds > 60) ? 120.0 : sc.default_seconds;
            const auto frames = static_cast<std::size_t>(seconds * 1e6 / frame_us);
            const std::uint64_t seed = o.seed * 1000 + si;
            const network_trace t = tutti_bench::make_trace(sc.name, seed, frames, s.rtp_clock_hz, frame_us, s.sent_mask(frames));
            const timeline tl = make_timeline(t, seed);

            scenario_result r;
            r.codec = codec;
            r.scenario = sc.name;
            r.summary = sc.summary;
            r.seconds = seconds;
            r.packets = t.packets.size();
            r.lost = t.lost_count();
            r.duplicates = t.duplicate_count();
            r.reordered = t.reordered_count();
            r.min_delay_ms = static_cast<double>(t.min_delay_us()) / 1000.0;

            const run_result rt = run_tutti(t, s, tl, o.tutti);
            const run_result rsx = run_speex(t, s, tl);
            const analysis at = analyse(rt, t, s, tl);
            const analysis as = analyse(rsx, t, s, tl);
            r.tutti = at.m;
            r.speex = as.m;
            r.tutti_stats = rt.stats;
            r.wall_tutti = rt.seconds;
            r.wall_speex = rsx.seconds;
            r.curve = oracle(t, s);
            r.oracle_at_tutti = r.curve.delay_for(r.tutti.loss_heard);
            r.oracle_at_speex = r.curve.delay_for(r.speex.loss_heard);
            r.grid_at_speex = grid_oracle_delay_for(t, s, tl, r.speex.loss_heard);
            r.floor_at_speex = tick_floor(t, tl, r.speex.loss_heard);
            if (o.dump) dump_run(std::filesystem::path(o.out_dir) / ("jitter_eval_" + codec + "_" + sc.name + ".csv"), at, as, rt);
            std::fprintf(stderr, "%-5s %-15s %6zu packets: tutti %.1f ms / %.2f %%, speex %.1f ms / %.2f %%, oracle %s ms (%.1f s)\n",
                         codec.c_str(), sc.name, r.packets, r.tutti.mean_delay_ms, 100 * r.tutti.loss_heard, r.speex.mean_delay_ms,
                         100 * r.speex.loss_heard, fmt(r.oracle_at_tutti).c_str(),
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count());
            if (r.tutti.conceal_failed || r.speex.conceal_failed)
                std::fprintf(stderr, "  note: the decoder refused conceal() %zu times for tutti, %zu for speex (gap filled without PLC)\n",
                             r.tutti.conceal_failed, r.speex.conceal_failed);
            if (r.tutti.played_twice || r.speex.played_twice)
                std::fprintf(stderr, "  warning: frames played twice: tutti %zu, speex %zu\n", r.tutti.played_twice, r.speex.played_twice);
            results.push_back(std::move(r));
        }
    }

    print_table(results);
    std::printf("\nDelays: mean/p95 playout delay above the trace's minimum one-way delay, measured by cross-correlation\n"
                "with the unimpaired decode. Shares are of packets sent. Hindsight fixed-delay oracle: or@loss = the smallest\n"
                "delay that loses no more than tutti; or@dly = its loss heard at tutti's mean delay. grid@sx = the same oracle\n"
                "on the tick grid (each packet from the first tick at or after send + D): its mean delay at SpeexDSP's loss.\n"
                "flr@sx = no receiver on the tick grid, even one that knew every arrival, gets under this at SpeexDSP's\n"
                "loss (each packet from the first tick after its own arrival; the budget spent on the longest waits; no FEC).\n");
    for (const std::string& codec : o.codecs) {
        const verdict v = judge(results, codec);
        std::printf("\n[%s] every scenario (tutti loss <= speex loss and tutti delay <= speex delay): %s\n", codec.c_str(),
                    v.per_scenario ? "PASS" : "FAIL");
        for (const std::string& f : v.failures) std::printf("  fails: %s\n", f.c_str());
        std::printf("[%s] over all scenarios: delay tutti %.1f ms vs speex %.1f ms (%+.0f %%), loss heard %.3f %% vs %.3f %% (%+.0f %%)\n",
                    codec.c_str(), v.tutti_delay, v.speex_delay, 100 * (v.tutti_delay / v.speex_delay - 1), 100 * v.tutti_loss,
                    100 * v.speex_loss, v.speex_loss > 0 ? 100 * (v.tutti_loss / v.speex_loss - 1) : 0.0);
        std::printf("[%s] >= 20 %% less delay at no more loss: %s; >= 30 %% less loss at no more delay: %s\n", codec.c_str(),
                    v.overall_a ? "PASS" : "FAIL", v.overall_b ? "PASS" : "FAIL");
    }
    std::vector<std::string> names;
    for (const auto& sc : tutti_bench::scenarios())
        if (std::find(o.scenarios.begin(), o.scenarios.end(), sc.name) != o.scenarios.end()) names.emplace_back(sc.name);
    const std::filesystem::path out(o.out_dir);
    write_csv(out / "jitter_eval.csv", results);
    write_json(out / "jitter_eval.json", results, o, o.codecs);
    write_svg(out / "jitter_eval.svg", results, names);
    write_markdown(out / "jitter_eval.md", results, o.codecs);
    std::printf("\nwrote %s/jitter_eval.{csv,json,svg,md} (%.1f s)\n", out.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count());
    return 0;
}
