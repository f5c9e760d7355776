// Cost of one 20 ms frame through each codec of tutti/codecs/, on real speech,
// and the same Opus operations as bare libopus calls in the same process, so
// the wrapper's overhead is a ratio of two numbers measured side by side.
//
// Flow position: jitter buffer -> **decoder** -> resampler -> mixer ->
// resampler -> **encoder** -> packetizer. Per participant and tick a PBX pays
// one decode (or one conceal / FEC decode) and, per distinct output mix, one
// encode.
//
// Names: <op>/<impl>/rate:<Hz>[/cx:<complexity>][/fec:<0|1>]
//   impl   tutti   tutti::opus_encoder / opus_decoder (or the G.711/G.722 objects)
//          libopus opus_encode_float / opus_decode_float on the same settings
//   opus_encode       speech, VoIP, 32 kb/s, mono; fec:1 = in-band FEC at 20 % loss
//   opus_encode_dtx   digital silence with DTX on (most frames: nothing to send)
//   opus_decode       packets of a 32 kb/s speech stream
//   opus_plc          conceal() / opus_decode_float(NULL) for 20 ms after a good packet
//   opus_fec          decode_fec() / opus_decode_float(.., decode_fec=1) of a packet with LBRR
//   opus_wrapper_*    the wrapper's own work alone: parse_opus_payload per packet, the input clip per frame
// Every iteration takes the next frame of 5 s of speech (librivox, resampled
// with tutti::resampler). PLC and FEC time only that call (manual timing with
// the thread's CPU clock: the good packet before it is decoded outside the
// clock). Time is per frame; on a shared machine read the CPU column (and for
// the manual-time rows, Time, which is CPU time too).
// Run: codec_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//      (--benchmark_enable_random_interleaving=true spreads machine noise evenly
//      over the tutti/libopus pairs).
#include <benchmark/benchmark.h>
#include <opus.h>

#include <algorithm>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tutti/codecs/g711.hpp"
#include "tutti/codecs/g722.hpp"
#include "tutti/codecs/l16.hpp"
#include "tutti/resampler.hpp"
#include "tutti/codecs/opus.hpp"
#include "tutti/kernels.hpp"
#include "tutti/wav.hpp"

#ifndef TUTTI_SPEECH_DIR
#define TUTTI_SPEECH_DIR "/usr/share/pocketsphinx/test/data"
#endif

namespace {

using packet = std::vector<std::uint8_t>;
constexpr int bitrate = 32000;

// 5 s of speech at `rate`, or silence if the file is missing (reported once).
std::vector<float> speech(std::uint32_t rate) {
    tutti::wav_file w;
    const std::string path = std::string(TUTTI_SPEECH_DIR) + "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";
    if (tutti::read_wav_file(path, w) != tutti::status::ok || w.channels != 1) {
        std::fprintf(stderr, "codec_bench: cannot read %s, using silence\n", path.c_str());
        return std::vector<float>(rate * 5, 0.0f);
    }
    std::vector<float> out(w.samples);
    if (w.sample_rate_hz != rate) {
        std::unique_ptr<tutti::resampler> r;
        if (tutti::resampler::create(w.sample_rate_hz, rate, 1, r) != tutti::status::ok) std::abort();
        out.assign(r->max_output_frames(w.samples.size()), 0.0f);
        const auto n = r->process({w.samples.data(), w.samples.size(), 1}, {out.data(), out.size(), 1});
        out.resize(static_cast<std::size_t>(std::max<std::ptrdiff_t>(n, 0)));
    }
    out.resize(rate * 5, 0.0f);
    return out;
}

const std::vector<float>& speech_at(std::uint32_t rate) {
    static const std::vector<float> s8 = speech(8000), s16 = speech(16000), s48 = speech(48000);
    return rate == 8000 ? s8 : rate == 16000 ? s16 : s48;
}

tutti::opus_encoder_config config(std::uint32_t rate, int complexity, bool fec, bool dtx) {
    tutti::opus_encoder_config c;
    c.sample_rate_hz = rate;
    c.bitrate_bps = bitrate;
    c.complexity = complexity;
    c.inband_fec = fec;
    c.expected_loss_percent = fec ? 20 : 0;
    c.dtx = dtx;
    return c;
}

struct raw_encoder {
    explicit raw_encoder(const tutti::opus_encoder_config& c) {
        int err = 0;
        st = opus_encoder_create(static_cast<opus_int32>(c.sample_rate_hz), c.channels, OPUS_APPLICATION_VOIP, &err);
        if (err != OPUS_OK) std::abort();
        opus_encoder_ctl(st, OPUS_SET_BITRATE(c.bitrate_bps));
        opus_encoder_ctl(st, OPUS_SET_COMPLEXITY(c.complexity));
        opus_encoder_ctl(st, OPUS_SET_INBAND_FEC(c.inband_fec ? 1 : 0));
        opus_encoder_ctl(st, OPUS_SET_PACKET_LOSS_PERC(c.expected_loss_percent));
        opus_encoder_ctl(st, OPUS_SET_DTX(c.dtx ? 1 : 0));
    }
    ~raw_encoder() { opus_encoder_destroy(st); }
    OpusEncoder* st = nullptr;
};

struct raw_decoder {
    explicit raw_decoder(std::uint32_t rate) {
        int err = 0;
        st = opus_decoder_create(static_cast<opus_int32>(rate), 1, &err);
        if (err != OPUS_OK) std::abort();
    }
    ~raw_decoder() { opus_decoder_destroy(st); }
    OpusDecoder* st = nullptr;
};

// The packets of the speech at `rate` (32 kb/s, with FEC when asked).
std::vector<packet> stream(std::uint32_t rate, bool fec) {
    std::unique_ptr<tutti::opus_encoder> enc;
    if (tutti::make_opus_encoder(config(rate, 10, fec, false), enc) != tutti::status::ok) std::abort();
    const auto& s = speech_at(rate);
    const std::size_t frame = rate / 50;
    std::vector<packet> out;
    packet buf(tutti::opus_max_payload_bytes);
    for (std::size_t f = 0; (f + 1) * frame <= s.size(); ++f) {
        const auto n = enc->encode({s.data() + f * frame, frame, 1}, buf);
        if (n <= 0) std::abort();
        out.emplace_back(buf.begin(), buf.begin() + n);
    }
    return out;
}

void per_frame(benchmark::State& state) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// --- Opus encode ------------------------------------------------------------

void opus_encode_tutti(benchmark::State& state, std::uint32_t rate, int cx, bool fec, bool silence) {
    std::unique_ptr<tutti::opus_encoder> enc;
    if (tutti::make_opus_encoder(config(rate, cx, fec, silence), enc) != tutti::status::ok) std::abort();
    const std::size_t frame = rate / 50;
    const std::vector<float> zeros(speech_at(rate).size(), 0.0f);
    const auto& in = silence ? zeros : speech_at(rate);
    const std::size_t frames = in.size() / frame;
    packet buf(tutti::opus_max_payload_bytes);
    std::size_t f = 0, sent = 0;
    for (auto _ : state) {
        const auto n = enc->encode({in.data() + f * frame, frame, 1}, buf);
        benchmark::DoNotOptimize(n);
        sent += n > 0;
        if (++f == frames) f = 0;
    }
    per_frame(state);
    state.counters["sent"] = benchmark::Counter(static_cast<double>(sent) / static_cast<double>(state.iterations()));
}

void opus_encode_raw(benchmark::State& state, std::uint32_t rate, int cx, bool fec, bool silence) {
    raw_encoder enc(config(rate, cx, fec, silence));
    const std::size_t frame = rate / 50;
    const std::vector<float> zeros(speech_at(rate).size(), 0.0f);
    const auto& in = silence ? zeros : speech_at(rate);
    const std::size_t frames = in.size() / frame;
    packet buf(tutti::opus_max_payload_bytes);
    std::size_t f = 0, sent = 0;
    for (auto _ : state) {
        const int n = opus_encode_float(enc.st, in.data() + f * frame, static_cast<int>(frame), buf.data(),
                                        static_cast<opus_int32>(buf.size()));
        benchmark::DoNotOptimize(n);
        sent += n > 2;
        if (++f == frames) f = 0;
    }
    per_frame(state);
    state.counters["sent"] = benchmark::Counter(static_cast<double>(sent) / static_cast<double>(state.iterations()));
}

// --- Opus decode, PLC, FEC ----------------------------------------------------

void opus_decode_tutti(benchmark::State& state, std::uint32_t rate) {
    const auto packets = stream(rate, false);
    std::unique_ptr<tutti::opus_decoder> dec;
    if (tutti::make_opus_decoder({rate, 1, 20000}, dec) != tutti::status::ok) std::abort();
    std::vector<float> pcm(5760);
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(dec->decode(packets[i], {pcm.data(), pcm.size(), 1}));
        if (++i == packets.size()) i = 0;
    }
    per_frame(state);
}

void opus_decode_raw(benchmark::State& state, std::uint32_t rate) {
    const auto packets = stream(rate, false);
    raw_decoder dec(rate);
    std::vector<float> pcm(5760);
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(opus_decode_float(dec.st, packets[i].data(), static_cast<opus_int32>(packets[i].size()),
                                                   pcm.data(), 5760, 0));
        if (++i == packets.size()) i = 0;
    }
    per_frame(state);
}

// CPU time of this thread, so that a preemption on a shared machine does not
// land in the one call being timed (the clock read costs ≈ 0.1-0.3 µs, the
// same on both sides of a pair).
double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// One timed call per iteration after an untimed good packet: PLC (fec = false)
// or FEC recovery from the packet after the "lost" one (fec = true; only
// packets that carry LBRR are used, so the wrapper never answers unsupported).
template <bool Raw>
void opus_loss(benchmark::State& state, std::uint32_t rate, bool fec) {
    const auto packets = stream(rate, fec);
    std::vector<std::size_t> lost;  // index of the lost packet; i - 1 decoded before, i + 1 carries its FEC
    for (std::size_t i = 1; i + 1 < packets.size(); ++i) {
        tutti::opus_payload_info info;
        if (!fec || (tutti::parse_opus_payload(packets[i + 1], info) == tutti::status::ok && info.lbrr)) lost.push_back(i);
    }
    std::unique_ptr<tutti::opus_decoder> dec;
    if (tutti::make_opus_decoder({rate, 1, 20000}, dec) != tutti::status::ok) std::abort();
    raw_decoder raw(rate);
    const int frame = static_cast<int>(rate / 50);
    std::vector<float> pcm(5760);
    std::size_t k = 0;
    for (auto _ : state) {
        const packet& before = packets[lost[k] - 1];
        const packet& next = packets[lost[k] + 1];
        if (++k == lost.size()) k = 0;
        if constexpr (Raw) {
            benchmark::DoNotOptimize(opus_decode_float(raw.st, before.data(), static_cast<opus_int32>(before.size()), pcm.data(), 5760, 0));
            const double t0 = thread_seconds();
            const int n = fec ? opus_decode_float(raw.st, next.data(), static_cast<opus_int32>(next.size()), pcm.data(), frame, 1)
                              : opus_decode_float(raw.st, nullptr, 0, pcm.data(), frame, 0);
            const double t1 = thread_seconds();
            benchmark::DoNotOptimize(n);
            state.SetIterationTime(t1 - t0);
        } else {
            (void)dec->decode(before, {pcm.data(), pcm.size(), 1});
            const tutti::interleaved_view<float> out{pcm.data(), static_cast<std::size_t>(frame), 1};
            const double t0 = thread_seconds();
            const auto n = fec ? dec->decode_fec(next, out) : dec->conceal(out);
            const double t1 = thread_seconds();
            if (n != frame) state.SkipWithError("decode_fec/conceal failed");
            state.SetIterationTime(t1 - t0);
        }
    }
    per_frame(state);
}

// --- What the wrapper adds, measured alone ------------------------------------
// The tutti/libopus pairs differ by less than run-to-run noise, so the extra
// work is also timed by itself: the framing parse every decode, decode_fec and
// frames_in does, and the clip every encode does.

void opus_parse(benchmark::State& state, std::uint32_t rate) {
    const auto packets = stream(rate, true);
    std::size_t i = 0;
    for (auto _ : state) {
        tutti::opus_payload_info info;
        benchmark::DoNotOptimize(tutti::parse_opus_payload(packets[i], info));
        benchmark::DoNotOptimize(info);
        if (++i == packets.size()) i = 0;
    }
    per_frame(state);
}

void opus_clip(benchmark::State& state, std::uint32_t rate) {
    const auto& in = speech_at(rate);
    const std::size_t frame = rate / 50;
    std::vector<float> out(frame);
    std::size_t f = 0;
    for (auto _ : state) {
        tutti::clamp(out.data(), in.data() + f * frame, 1.0f, frame);
        benchmark::DoNotOptimize(out.data());
        if (++f == in.size() / frame) f = 0;
    }
    per_frame(state);
}

// --- G.711 and G.722 ----------------------------------------------------------

void g711_encode(benchmark::State& state) {
    const auto enc = tutti::make_g711_encoder(tutti::g711_law::a_law);
    const auto& in = speech_at(8000);
    packet buf(160);
    std::size_t f = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(enc->encode({in.data() + f * 160, 160, 1}, buf));
        if (++f == in.size() / 160) f = 0;
    }
    per_frame(state);
}

void g711_decode(benchmark::State& state) {
    const auto enc = tutti::make_g711_encoder(tutti::g711_law::a_law);
    const auto dec = tutti::make_g711_decoder(tutti::g711_law::a_law);
    const auto& in = speech_at(8000);
    std::vector<packet> packets;
    packet buf(160);
    for (std::size_t f = 0; (f + 1) * 160 <= in.size(); ++f) {
        (void)enc->encode({in.data() + f * 160, 160, 1}, buf);
        packets.push_back(buf);
    }
    std::vector<float> pcm(160);
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(dec->decode(packets[i], {pcm.data(), 160, 1}));
        if (++i == packets.size()) i = 0;
    }
    per_frame(state);
}

void g722_encode(benchmark::State& state) {
    const auto enc = tutti::make_g722_encoder();
    const auto& in = speech_at(16000);
    packet buf(160);
    std::size_t f = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(enc->encode({in.data() + f * 320, 320, 1}, buf));
        if (++f == in.size() / 320) f = 0;
    }
    per_frame(state);
}

void g722_decode(benchmark::State& state) {
    const auto enc = tutti::make_g722_encoder();
    const auto dec = tutti::make_g722_decoder();
    const auto& in = speech_at(16000);
    std::vector<packet> packets;
    packet buf(160);
    for (std::size_t f = 0; (f + 1) * 320 <= in.size(); ++f) {
        (void)enc->encode({in.data() + f * 320, 320, 1}, buf);
        packets.push_back(buf);
    }
    std::vector<float> pcm(320);
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(dec->decode(packets[i], {pcm.data(), 320, 1}));
        if (++i == packets.size()) i = 0;
    }
    per_frame(state);
}

// The per-sample formula PBXes use when they have no table: clamp, bias,
// find the segment by shifting, pack sign/segment/mantissa (G.711 µ-law).
// The baseline the table/kernel path is compared with.
std::uint8_t mulaw_formula(float x) {
    int s = static_cast<int>(x * 32768.0f);
    s = s > 32635 ? 32635 : (s < -32635 ? -32635 : s);
    const int sign = s < 0 ? 0x80 : 0;
    if (s < 0) s = -s;
    s += 0x84;
    int segment = 7;
    for (int mask = 0x4000; (s & mask) == 0 && segment > 0; mask >>= 1) --segment;
    const int mantissa = (s >> (segment + 3)) & 0x0F;
    return static_cast<std::uint8_t>(~(sign | (segment << 4) | mantissa));
}

void g711_encode_formula(benchmark::State& state) {
    const auto& in = speech_at(8000);
    packet buf(160);
    std::size_t f = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < 160; ++i) buf[i] = mulaw_formula(in[f * 160 + i]);
        benchmark::DoNotOptimize(buf.data());
        if (++f == in.size() / 160) f = 0;
    }
    per_frame(state);
}

void l16_roundtrip(benchmark::State& state, bool encode) {
    const tutti::audio_format format{16000, 1, 20000};
    const auto enc = tutti::make_l16_encoder(format);
    const auto dec = tutti::make_l16_decoder(format);
    const auto& in = speech_at(16000);
    packet buf(640);
    std::vector<float> pcm(320);
    (void)enc->encode({in.data(), 320, 1}, buf);
    std::size_t f = 0;
    for (auto _ : state) {
        if (encode) benchmark::DoNotOptimize(enc->encode({in.data() + f * 320, 320, 1}, buf));
        else benchmark::DoNotOptimize(dec->decode(buf, {pcm.data(), 320, 1}));
        if (++f == in.size() / 320) f = 0;
    }
    per_frame(state);
}

// SpeexDSP resampling of one 20 ms mono frame at a given quality.
void resample(benchmark::State& state, std::uint32_t from, std::uint32_t to, int quality) {
    std::unique_ptr<tutti::resampler> rs;
    (void)tutti::resampler::create(from, to, 1, rs, quality);
    const auto& in = speech_at(from);
    const std::size_t n = from / 50;
    std::vector<float> out(to / 50 + 16);
    std::size_t f = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(rs->process({in.data() + f * n, n, 1}, {out.data(), out.size(), 1}));
        if (++f == in.size() / n) f = 0;
    }
    per_frame(state);
}

void register_all() {
    struct enc_case {
        std::uint32_t rate;
        int cx;
        bool fec;
    };
    for (const enc_case c : {enc_case{48000, 10, false}, enc_case{48000, 5, false}, enc_case{48000, 10, true},
                             enc_case{16000, 10, false}, enc_case{16000, 5, false}, enc_case{16000, 10, true},
                             enc_case{8000, 10, false}, enc_case{8000, 5, false}}) {
        const std::string args = "/rate:" + std::to_string(c.rate) + "/cx:" + std::to_string(c.cx) + "/fec:" + (c.fec ? "1" : "0");
        benchmark::RegisterBenchmark(("opus_encode/tutti" + args).c_str(), opus_encode_tutti, c.rate, c.cx, c.fec, false);
        benchmark::RegisterBenchmark(("opus_encode/libopus" + args).c_str(), opus_encode_raw, c.rate, c.cx, c.fec, false);
    }
    benchmark::RegisterBenchmark("opus_encode_dtx/tutti/rate:48000/cx:10", opus_encode_tutti, 48000u, 10, false, true);
    benchmark::RegisterBenchmark("opus_encode_dtx/libopus/rate:48000/cx:10", opus_encode_raw, 48000u, 10, false, true);
    for (const std::uint32_t rate : {48000u, 16000u, 8000u}) {
        const std::string args = "/rate:" + std::to_string(rate);
        benchmark::RegisterBenchmark(("opus_decode/tutti" + args).c_str(), opus_decode_tutti, rate);
        benchmark::RegisterBenchmark(("opus_decode/libopus" + args).c_str(), opus_decode_raw, rate);
        benchmark::RegisterBenchmark(("opus_plc/tutti" + args).c_str(), opus_loss<false>, rate, false)->UseManualTime();
        benchmark::RegisterBenchmark(("opus_plc/libopus" + args).c_str(), opus_loss<true>, rate, false)->UseManualTime();
        benchmark::RegisterBenchmark(("opus_fec/tutti" + args).c_str(), opus_loss<false>, rate, true)->UseManualTime();
        benchmark::RegisterBenchmark(("opus_fec/libopus" + args).c_str(), opus_loss<true>, rate, true)->UseManualTime();
    }
    benchmark::RegisterBenchmark("opus_wrapper_parse/tutti/rate:48000", opus_parse, 48000u);
    benchmark::RegisterBenchmark("opus_wrapper_clip/tutti/rate:48000", opus_clip, 48000u);
    benchmark::RegisterBenchmark("g711_encode/tutti/rate:8000", g711_encode);
    benchmark::RegisterBenchmark("g711_encode/formula/rate:8000", g711_encode_formula);
    benchmark::RegisterBenchmark("l16_encode/tutti/rate:16000", l16_roundtrip, true);
    benchmark::RegisterBenchmark("l16_decode/tutti/rate:16000", l16_roundtrip, false);
    for (int q : {0, 3, 4, 5, 7, 10}) {
        const std::string qs = "/q:" + std::to_string(q);
        benchmark::RegisterBenchmark(("resample/48000to16000" + qs).c_str(), resample, 48000u, 16000u, q);
        benchmark::RegisterBenchmark(("resample/16000to48000" + qs).c_str(), resample, 16000u, 48000u, q);
        benchmark::RegisterBenchmark(("resample/8000to48000" + qs).c_str(), resample, 8000u, 48000u, q);
    }
    benchmark::RegisterBenchmark("g711_decode/tutti/rate:8000", g711_decode);
    benchmark::RegisterBenchmark("g722_encode/tutti/rate:16000", g722_encode);
    benchmark::RegisterBenchmark("g722_decode/tutti/rate:16000", g722_decode);
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
