// Capacity of one core (issue 6): tick cost of a big Opus room against N, with
// shared encoding and silent participants not decoded, against per-participant
// encoding in the same run; 2,000 rooms of 5 PCMU participants; and a worker
// pool of 2 threads against 1.
//
//   capacity_bench [--quick] [--svg FILE]
//
// Big room: Opus 48 kHz mono, 20 ms ticks, 3 talkers on real speech (taking
// turns with overlaps), N-3 listeners sending
//   (a) dtx:       Opus DTX (a comfort-noise refresh every 400 ms),
//   (b) levels:    non-DTX Opus of near-silence with RFC 6464 levels,
//   (c) no-levels: the same without levels (every packet must be decoded).
// Every listener's packets are real Opus payloads encoded once from
// near-silence (-70 dBov noise) and replayed under each listener's own RTP
// header, so the room does the same work as with N encoders outside.
// Reported per case: tick wall time on the calling thread (median, p99 over
// the measured ticks), participants per core in real time (N × 20 ms / median).
// The packets are made and pulled outside the timed tick().
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tutti/codec_registry.hpp"
#include "tutti/codecs/opus.hpp"
#include "tutti/conference.hpp"
#include "tutti/detail/buffer_heap.hpp"
#include "tutti/kernels.hpp"
#include "tutti/resampler.hpp"
#include "tutti/rtp.hpp"
#include "tutti/rtp_packetizer.hpp"
#include "tutti/wav.hpp"
#include "tutti/worker_pool.hpp"

using namespace tutti;

namespace {

const char* const speech_files[] = {
    "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
    "/librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
};

std::vector<float> speech(int index, std::uint32_t rate) {
    wav_file w;
    if (read_wav_file(std::string(TUTTI_SPEECH_DIR) + speech_files[index], w) != status::ok) {
        std::fprintf(stderr, "cannot read speech (pocketsphinx-testdata)\n");
        std::exit(1);
    }
    const float rms = std::sqrt(sum_squares(w.samples.data(), w.samples.size()) / static_cast<float>(w.samples.size()));
    for (float& x : w.samples) x *= 0.05f / rms;
    std::unique_ptr<resampler> rs;
    (void)resampler::create(16000, rate, 1, rs);
    std::vector<float> out(w.samples.size() * rate / 16000 + 64);
    std::size_t written = 0;
    for (std::size_t i = 0; i + 320 <= w.samples.size(); i += 320) {
        const auto n = rs->process(interleaved_view<const float>(w.samples.data() + i, 320, 1),
                                   interleaved_view<float>(out.data() + written, out.size() - written, 1));
        written += static_cast<std::size_t>(std::max<std::ptrdiff_t>(n, 0));
    }
    out.resize(written);
    return out;
}

sdp_format fmt(std::uint8_t pt, const char* name, std::uint32_t clock, std::uint16_t ch) {
    sdp_format f;
    f.payload_type = pt;
    f.encoding_name = name;
    f.clock_rate_hz = clock;
    f.channels = ch;
    return f;
}

struct encoded_frame {
    std::vector<std::uint8_t> payload;  // empty: DTX, nothing sent
    std::uint8_t level = 127;
};

// A source's frames, encoded once.
std::vector<encoded_frame> encode(const std::vector<float>& pcm, const sdp_format& f, std::size_t frame, bool dtx) {
    std::unique_ptr<encoder> enc;
    (void)codec_registry::with_builtin_codecs().make_encoder(f, {}, enc);
    if (dtx) {  // libopus does DTX in SILK mode: a wideband voice client, as WebRTC's usually is
        (void)dynamic_cast<opus_encoder&>(*enc).set_dtx(true);
        (void)dynamic_cast<opus_encoder&>(*enc).set_max_bandwidth(opus_bandwidth::wideband);
    }
    std::vector<encoded_frame> out;
    std::vector<std::uint8_t> buf(1500);
    for (std::size_t i = 0; i + frame <= pcm.size(); i += frame) {
        const auto n = enc->encode(interleaved_view<const float>(pcm.data() + i, frame, 1), buf);
        encoded_frame e;
        if (n > 0) e.payload.assign(buf.begin(), buf.begin() + n);
        e.level = rfc6464_level(measure_level({pcm.data() + i, frame}).rms);
        out.push_back(std::move(e));
    }
    return out;
}

struct sender {
    participant_id id = 0;
    rtp_packetizer packetizer;
    const std::vector<encoded_frame>* frames = nullptr;
    std::size_t offset = 0;  // staggers the sources
    std::uint32_t ts_step = 960;
};

// Where the time goes (TUTTI_PROFILE_STAGES=1 in the environment): µs per tick per stage.
void print_stages(const room_stats& st, std::size_t ticks) {
    const char* names[] = {"receive", "jitter_decode", "resample_in", "mix", "resample_out", "encode", "packetize"};
    for (std::size_t k = 0; k < static_cast<std::size_t>(tick_stage::count); ++k)
        std::printf("stage %-14s %8.0f µs per tick\n", names[k], static_cast<double>(st.stage_ns[k]) / 1000.0 / static_cast<double>(ticks));
}

struct result {
    double median_us = 0, p99_us = 0;
    double cpu_median_us = 0;  // the calling thread's CPU time: what the tick costs a core, preemption excluded
};

result percentiles(std::vector<double> v, std::vector<double> cpu) {
    std::sort(v.begin(), v.end());
    std::sort(cpu.begin(), cpu.end());
    return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)], cpu[cpu.size() / 2]};
}

// CPU time of the calling thread, µs.
double thread_cpu_us() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

enum class listener_mode { dtx, levels, no_levels };
const char* name(listener_mode m) { return m == listener_mode::dtx ? "a dtx" : m == listener_mode::levels ? "b levels" : "c no-levels"; }

struct sources {
    std::vector<encoded_frame> talker[3];
    std::vector<encoded_frame> silence_dtx, silence;
};

// One room of n Opus participants; returns the tick cost.
result big_room(const sources& src, std::size_t n, listener_mode mode, encoding_mode encoding, worker_pool* pool,
                std::size_t warm, std::size_t measured, room_stats* stats_out = nullptr) {
    room_config rc;
    rc.mixing_rate_hz = 48000;
    rc.max_participants = static_cast<std::uint32_t>(n);
    rc.encoding = encoding;
    rc.workers = pool;
    rc.event_capacity = 4096;
    rc.profile_stages = std::getenv("TUTTI_PROFILE_STAGES") != nullptr;
    std::unique_ptr<room> r;
    if (room::create(rc, r) != status::ok) std::exit(1);
    const sdp_format f = fmt(111, "opus", 48000, 2);
    std::vector<sender> senders(n);
    const bool levels = mode == listener_mode::levels;
    for (std::size_t i = 0; i < n; ++i) {
        sender& s = senders[i];
        const bool talker = i < 3;
        rtp_participant_config pc;
        pc.receive = pc.send = f;
        pc.audio_level_extension_id = talker || levels ? 1 : 0;
        pc.ssrc = static_cast<std::uint32_t>(i + 1);
        if (r->join_rtp(pc, s.id) != status::ok) {
            std::fprintf(stderr, "join %zu failed\n", i);
            std::exit(1);
        }
        rtp_packetizer_config k;
        k.ssrc = static_cast<std::uint32_t>(100000 + i);
        k.payload_type = 111;
        k.clock_rate_hz = 48000;
        k.audio_level_id = pc.audio_level_extension_id;
        k.seed = static_cast<std::uint32_t>(i);
        (void)s.packetizer.init(k);
        s.frames = talker ? &src.talker[i] : mode == listener_mode::dtx ? &src.silence_dtx : &src.silence;
        s.offset = talker ? 0 : i * 7;
    }
    std::vector<std::uint8_t> packet(1500);
    std::vector<double> times, cpu;
    const std::size_t total = warm + measured;
    for (std::size_t t = 0; t < total; ++t) {
        const std::int64_t now = static_cast<std::int64_t>(t) * 20000;
        for (sender& s : senders) {
            const encoded_frame& e = (*s.frames)[(t + s.offset) % s.frames->size()];
            if (e.payload.empty()) {
                s.packetizer.skip(s.ts_step);
                continue;
            }
            const auto len = s.packetizer.packetize(e.payload, s.ts_step, false, packet, rtp_audio_level{e.level < 40, e.level});
            if (len > 0) (void)r->push_rtp(s.id, {packet.data(), static_cast<std::size_t>(len)}, now + 300);
        }
        const double c0 = thread_cpu_us();
        const auto t0 = std::chrono::steady_clock::now();
        (void)r->tick(now + 20000);
        const auto t1 = std::chrono::steady_clock::now();
        const double c1 = thread_cpu_us();
        if (t >= warm) {
            times.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
            cpu.push_back(c1 - c0);
        }
        for (sender& s : senders)
            while (r->pull_rtp(s.id, packet) > 0) {
            }
        room_event ev[256];
        while (r->poll_events(ev) == 256) {
        }
    }
    if (stats_out) *stats_out = r->stats();
    if (rc.profile_stages) print_stages(r->stats(), total);
    return percentiles(times, cpu);
}

// `rooms` rooms of 5 PCMU participants, one talker each; the cost of ticking all of them.
result many_rooms(const std::vector<encoded_frame>& talk, const std::vector<encoded_frame>& quiet, std::size_t rooms,
                  std::size_t warm, std::size_t measured, unsigned threads, bool spread) {
    room_config rc;
    rc.mixing_rate_hz = 8000;
    rc.max_participants = 5;
    // --pool N: every room on one pool of N threads. --spread N: no room has
    // a pool; the host ticks the rooms themselves over a pool of N threads
    // (pool->run over the rooms), which suits many small rooms.
    std::unique_ptr<worker_pool> pool;
    if (threads > 1 && worker_pool::create(threads, pool) == status::ok && !spread) rc.workers = pool.get();
    rc.profile_stages = std::getenv("TUTTI_PROFILE_STAGES") != nullptr;
    std::vector<std::unique_ptr<room>> all(rooms);
    std::vector<sender> senders(rooms * 5);
    const sdp_format f = fmt(0, "PCMU", 8000, 1);
    for (std::size_t k = 0; k < rooms; ++k) {
        if (room::create(rc, all[k]) != status::ok) std::exit(1);
        for (std::size_t j = 0; j < 5; ++j) {
            sender& s = senders[k * 5 + j];
            rtp_participant_config pc;
            pc.receive = pc.send = f;
            pc.ssrc = static_cast<std::uint32_t>(k * 5 + j + 1);
            if (all[k]->join_rtp(pc, s.id) != status::ok) std::exit(1);
            rtp_packetizer_config c;
            c.ssrc = static_cast<std::uint32_t>(k * 5 + j + 7);
            c.payload_type = 0;
            c.clock_rate_hz = 8000;
            c.seed = static_cast<std::uint32_t>(k);
            (void)s.packetizer.init(c);
            s.frames = j == 0 ? &talk : &quiet;
            s.offset = k * 13 + j;
            s.ts_step = 160;
        }
    }
    std::vector<std::uint8_t> packet(1500);
    std::vector<double> times, cpu;
    for (std::size_t t = 0; t < warm + measured; ++t) {
        const std::int64_t now = static_cast<std::int64_t>(t) * 20000;
        for (std::size_t k = 0; k < rooms; ++k)
            for (std::size_t j = 0; j < 5; ++j) {
                sender& s = senders[k * 5 + j];
                const encoded_frame& e = (*s.frames)[(t + s.offset) % s.frames->size()];
                const auto len = s.packetizer.packetize(e.payload, s.ts_step, false, packet);
                if (len > 0) (void)all[k]->push_rtp(s.id, {packet.data(), static_cast<std::size_t>(len)}, now + 300);
            }
        const double c0 = thread_cpu_us();
        const auto t0 = std::chrono::steady_clock::now();
        if (spread && pool) {
            struct tick_job {
                std::vector<std::unique_ptr<room>>* rooms;
                std::int64_t now;
                static void run(void* ctx, std::size_t i, unsigned) noexcept {
                    auto& j = *static_cast<tick_job*>(ctx);
                    (void)(*j.rooms)[i]->tick(j.now);
                }
            } job{&all, now + 20000};
            pool->run(all.size(), &tick_job::run, &job);
        } else {
            for (auto& r : all) (void)r->tick(now + 20000);
        }
        const auto t1 = std::chrono::steady_clock::now();
        const double c1 = thread_cpu_us();
        if (t >= warm) {
            times.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
            cpu.push_back(c1 - c0);
        }
        for (std::size_t k = 0; k < rooms; ++k)
            for (std::size_t j = 0; j < 5; ++j)
                while (all[k]->pull_rtp(senders[k * 5 + j].id, packet) > 0) {
                }
    }
    if (rc.profile_stages) {
        room_stats sum;
        for (auto& r : all)
            for (std::size_t k = 0; k < static_cast<std::size_t>(tick_stage::count); ++k) sum.stage_ns[k] += r->stats().stage_ns[k];
        print_stages(sum, warm + measured);
    }
    return percentiles(times, cpu);
}

// `rooms` rooms of 5 PCMU participants, printed as a table.
// What the buffer heap took and how much of the process the kernel backs with
// huge pages (they are what keeps a big room's page walks away; see
// tutti/detail/buffer_heap.hpp).
void print_memory() {
    const tutti::detail::heap_stats h = tutti::detail::get_heap_stats();
    long huge_kb = -1;
    if (FILE* f = std::fopen("/proc/self/smaps_rollup", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::sscanf(line, "AnonHugePages: %ld kB", &huge_kb) == 1) break;
        std::fclose(f);
    }
    std::printf("buffer heap: %s, %.0f MiB reserved, huge pages %s; process AnonHugePages %ld MiB\n",
                h.pooled ? "pooled" : "plain operator new", static_cast<double>(h.bytes_reserved) / 1048576.0,
                h.huge_pages_advised ? "advised" : "not advised", huge_kb < 0 ? -1 : huge_kb / 1024);
}

void many_rooms_case(std::mt19937& rng, std::normal_distribution<float>& noise, std::size_t rooms, std::size_t warm,
                     std::size_t measured, unsigned threads = 1, bool spread = false) {
    const sdp_format pcmu = fmt(0, "PCMU", 8000, 1);
    std::vector<float> v = speech(0, 8000);
    const auto talk = encode(v, pcmu, 160, false);
    std::vector<float> q8(8000 * 4);
    for (float& x : q8) x = noise(rng);
    const auto quiet8 = encode(q8, pcmu, 160, false);
    const result res = many_rooms(talk, quiet8, rooms, warm, measured, threads, spread);
    std::printf("\n## Many rooms: %zu rooms × 5 PCMU participants (8 kHz, 20 ms, one talker each)%s\n\n", rooms,
                threads <= 1 ? "" : spread ? ", ticked over a worker pool by the host" : ", all on one worker pool");
    std::printf("| rooms | participants | all rooms' ticks, median µs | p99 µs | CPU median µs | participants per core |\n|---|---|---|---|---|---|\n");
    std::printf("| %zu | %zu | %.0f | %.0f | %.0f | %.0f |\n", rooms, rooms * 5, res.median_us, res.p99_us, res.cpu_median_us,
                static_cast<double>(rooms * 5) * 20000.0 / res.median_us);
}

void write_svg(const char* path, const std::vector<std::size_t>& ns, const std::vector<std::vector<double>>& rows,
               const std::vector<std::string>& labels) {
    FILE* f = std::fopen(path, "w");
    if (!f) return;
    const double w = 640, h = 400, l = 70, b = 50, t = 30, rgt = 170;
    const double xmin = std::log10(static_cast<double>(ns.front())), xmax = std::log10(static_cast<double>(ns.back()));
    double ymin = 1e9, ymax = 0;
    for (const auto& row : rows)
        for (double v : row)
            if (v > 0) ymin = std::min(ymin, v), ymax = std::max(ymax, v);
    ymin = std::floor(std::log10(ymin));
    ymax = std::ceil(std::log10(std::max(ymax, 20000.0)));
    auto X = [&](double n) { return l + (std::log10(n) - xmin) / (xmax - xmin) * (w - l - rgt); };
    auto Y = [&](double us) { return h - b - (std::log10(us) - ymin) / (ymax - ymin) * (h - b - t); };
    std::fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%g' height='%g' font-family='sans-serif' font-size='12'>\n", w, h);
    std::fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
    std::fprintf(f, "<text x='%g' y='18' font-size='14'>Tick cost of one Opus room against its size (median, one core)</text>\n", l);
    for (double e = ymin; e <= ymax; e += 1) {
        std::fprintf(f, "<line x1='%g' x2='%g' y1='%g' y2='%g' stroke='#ddd'/>", l, w - rgt, Y(std::pow(10, e)), Y(std::pow(10, e)));
        std::fprintf(f, "<text x='%g' y='%g' text-anchor='end'>%g µs</text>\n", l - 4, Y(std::pow(10, e)) + 4, std::pow(10, e));
    }
    for (std::size_t n : ns)
        std::fprintf(f, "<text x='%g' y='%g' text-anchor='middle'>N=%zu</text>\n", X(static_cast<double>(n)), h - b + 18, n);
    std::fprintf(f, "<line x1='%g' x2='%g' y1='%g' y2='%g' stroke='red' stroke-dasharray='4'/><text x='%g' y='%g' fill='red'>20 ms: real time</text>\n",
                 l, w - rgt, Y(20000), Y(20000), l + 4, Y(20000) - 4);
    const char* colors[] = {"#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd"};
    for (std::size_t k = 0; k < rows.size(); ++k) {
        std::string pts;
        for (std::size_t i = 0; i < ns.size(); ++i)
            if (rows[k][i] > 0) pts += std::to_string(X(static_cast<double>(ns[i]))) + "," + std::to_string(Y(rows[k][i])) + " ";
        std::fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='%s'/>\n", colors[k % 5], pts.c_str());
        std::fprintf(f, "<text x='%g' y='%g' fill='%s'>%s</text>\n", w - rgt + 8, t + 20 + 18.0 * static_cast<double>(k), colors[k % 5], labels[k].c_str());
    }
    std::fprintf(f, "</svg>\n");
    std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false;
    const char* svg = nullptr;
    std::size_t only_n = 0;  // --case N a|b|c THREADS: one big-room case (for profiling)
    listener_mode only_mode = listener_mode::levels;
    unsigned only_threads = 1;
    std::size_t only_rooms = 0;  // --rooms COUNT: the many-rooms case alone (2000 in the issue)
    std::size_t only_ticks = 0;  // --ticks COUNT: measured ticks of --rooms (for profiling; default 200)
    unsigned rooms_threads = 1;  // --pool N: --rooms with every room on one pool of N threads
    bool rooms_spread = false;   // --spread N: --rooms ticked by the host over a pool of N threads
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--quick")) quick = true;
        else if (!std::strcmp(argv[i], "--svg") && i + 1 < argc) svg = argv[++i];
        else if (!std::strcmp(argv[i], "--rooms") && i + 1 < argc) only_rooms = std::strtoul(argv[++i], nullptr, 10);
        else if (!std::strcmp(argv[i], "--ticks") && i + 1 < argc) only_ticks = std::strtoul(argv[++i], nullptr, 10);
        else if (!std::strcmp(argv[i], "--pool") && i + 1 < argc) rooms_threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
        else if (!std::strcmp(argv[i], "--spread") && i + 1 < argc) {
            rooms_threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
            rooms_spread = true;
        }
        else if (!std::strcmp(argv[i], "--case") && i + 3 < argc) {
            only_n = std::strtoul(argv[i + 1], nullptr, 10);
            only_mode = argv[i + 2][0] == 'a' ? listener_mode::dtx : argv[i + 2][0] == 'b' ? listener_mode::levels : listener_mode::no_levels;
            only_threads = static_cast<unsigned>(std::strtoul(argv[i + 3], nullptr, 10));
            i += 3;
        }
    }
    const sdp_format opus = fmt(111, "opus", 48000, 2);
    sources src;
    for (int k = 0; k < 3; ++k) {
        // Talker k: 1.5 k s of silence, then its speech (turns with overlaps), looped.
        std::vector<float> v(static_cast<std::size_t>(48000 * 1.5 * k), 0.0f);
        const auto s = speech(k, 48000);
        v.insert(v.end(), s.begin(), s.end());
        v.resize(48000 * 12, 0.0f);
        src.talker[k] = encode(v, opus, 960, false);
    }
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 0.00003f);  // -90 dBov: a muted or noise-suppressed microphone
    std::vector<float> quiet(48000 * 4);
    for (float& x : quiet) x = noise(rng);
    src.silence = encode(quiet, opus, 960, false);
    // DTX: digital silence (a muted or noise-gated microphone); libopus's VAD
    // keeps low stationary noise "active" for a long time.
    src.silence_dtx = encode(std::vector<float>(quiet.size(), 0.0f), opus, 960, true);
    {
        std::size_t sent = 0, bytes = 0;
        for (const auto& e : src.silence_dtx) sent += e.payload.empty() ? 0 : 1;
        for (const auto& e : src.silence) bytes += e.payload.size();
        std::size_t talk_bytes = 0, talk_frames = 0;
        for (const auto& e : src.talker[0])
            if (e.level < 40) talk_bytes += e.payload.size(), ++talk_frames;
        const auto vad = [](const std::vector<encoded_frame>& frames) {  // frames with the SILK VAD bit clear / SILK frames
            std::size_t silk = 0, unvoiced = 0;
            for (const auto& e : frames)
                if (e.payload.size() > 2 && (e.payload[0] >> 3) < 16 && (e.payload[0] & 3) == 0) {
                    ++silk;
                    unvoiced += (e.payload[1] & 0x80) == 0 ? 1 : 0;
                }
            return std::make_pair(unvoiced, silk);
        };
        const auto [dq, ds] = vad(src.silence_dtx);
        const auto [nq, ns] = vad(src.silence);
        const auto [tq, ts] = vad(src.talker[0]);
        std::printf("SILK VAD clear: DTX stream %zu of %zu SILK frames, non-DTX quiet stream %zu of %zu, talker %zu of %zu.\n", dq, ds, nq, ns,
                    tq, ts);
        std::printf("Listener streams: DTX sends %zu of %zu frames; without DTX %.1f bytes per frame (speech frames: %.1f).\n\n", sent,
                    src.silence_dtx.size(), static_cast<double>(bytes) / static_cast<double>(src.silence.size()),
                    static_cast<double>(talk_bytes) / static_cast<double>(std::max<std::size_t>(talk_frames, 1)));
    }

    if (only_rooms) {
        many_rooms_case(rng, noise, only_rooms, quick ? 10 : 50, only_ticks ? only_ticks : quick ? 20 : 200, rooms_threads, rooms_spread);
        print_memory();
        return 0;
    }
    if (only_n) {
        std::unique_ptr<worker_pool> pool;
        if (only_threads > 1) (void)worker_pool::create(only_threads, pool);
        room_stats st;
        const result res = big_room(src, only_n, only_mode, encoding_mode::shared, pool.get(), 50, 200, &st);
        std::printf("N=%zu %s threads=%u: median %.0f µs, p99 %.0f µs, calling thread's CPU median %.0f µs, not decoded %u\n", only_n,
                    name(only_mode), only_threads, res.median_us, res.p99_us, res.cpu_median_us, st.decoders_skipped);
        print_memory();
        return 0;
    }
    std::vector<std::size_t> ns = quick ? std::vector<std::size_t>{10, 100} : std::vector<std::size_t>{10, 100, 1000, 10000};
    const std::size_t warm = quick ? 10 : 50;
    std::printf("## Big room: Opus 48 kHz, 20 ms, 3 talkers, N-3 listeners (tick wall time, µs)\n\n");
    std::printf("| N | listeners send | shared median | p99 | CPU median | participants per core | encoders run | not decoded (last tick) |\n|---|---|---|---|---|---|---|---|\n");
    std::vector<std::vector<double>> rows(3, std::vector<double>(ns.size(), 0.0));
    for (std::size_t i = 0; i < ns.size(); ++i) {
        const std::size_t n = ns[i];
        const std::size_t measured = quick ? 20 : n >= 10000 ? 100 : 250;
        for (listener_mode m : {listener_mode::dtx, listener_mode::levels, listener_mode::no_levels}) {
            room_stats st;
            const result res = big_room(src, n, m, encoding_mode::shared, nullptr, warm, measured, &st);
            rows[static_cast<std::size_t>(m)][i] = res.median_us;
            std::printf("| %zu | %s | %.0f | %.0f | %.0f | %.0f | %u | %u |\n", n, name(m), res.median_us, res.p99_us, res.cpu_median_us,
                        static_cast<double>(n) * 20000.0 / res.median_us, st.encoders_run, st.decoders_skipped);
            std::fflush(stdout);
        }
    }
    // Shared against per-participant encoding, same room, same run.
    std::printf("\n## Shared against per-participant encoding (case b, same run)\n\n| N | shared median µs | per-participant median µs | ratio |\n|---|---|---|---|\n");
    for (std::size_t n : quick ? std::vector<std::size_t>{10, 100} : std::vector<std::size_t>{100, 1000}) {
        const result sh = big_room(src, n, listener_mode::levels, encoding_mode::shared, nullptr, warm, quick ? 10 : 60);
        const result pp = big_room(src, n, listener_mode::levels, encoding_mode::per_participant, nullptr, quick ? 5 : 10, quick ? 10 : 30);
        std::printf("| %zu | %.0f | %.0f | %.1f× |\n", n, sh.median_us, pp.median_us, pp.median_us / sh.median_us);
        std::fflush(stdout);
    }
    // Worker pool: 2 threads against 1 (the calling thread only), same room.
    std::printf("\n## Worker pool (case b)\n\n| N | 1 thread median µs | 2 threads median µs | speed-up |\n|---|---|---|---|\n");
    {
        std::unique_ptr<worker_pool> pool;
        (void)worker_pool::create(2, pool);
        for (std::size_t n : quick ? std::vector<std::size_t>{100} : std::vector<std::size_t>{1000, 10000}) {
            const std::size_t measured = quick ? 20 : n >= 10000 ? 100 : 250;
            const result one = big_room(src, n, listener_mode::levels, encoding_mode::shared, nullptr, warm, measured);
            const result two = big_room(src, n, listener_mode::levels, encoding_mode::shared, pool.get(), warm, measured);
            std::printf("| %zu | %.0f | %.0f | %.2f× |\n", n, one.median_us, two.median_us, one.median_us / two.median_us);
            std::fflush(stdout);
        }
    }
    many_rooms_case(rng, noise, quick ? 100 : 2000, warm, quick ? 20 : 200);
    if (svg) write_svg(svg, ns, rows, {"(a) listeners DTX", "(b) silence + RFC 6464", "(c) silence, no levels"});
    return 0;
}
