// Tick cost of a whole room: N RTP participants on mixed codecs (Opus 48 kHz,
// G.722, PCMU in turn), three of them talking real speech, the rest sending
// silence, as a PBX conference looks. Reports the tick's median and p99 time,
// the split by stage (room_config::profile_stages), and the ratio to the cost
// of N raw libopus encodes measured in the same run: per-participant encoding
// is what Janus/FreeSWITCH-style mixers pay, and what tutti's cost is to be
// compared with. room/tick_prompt_tap adds what a recorded conference with
// announcements costs: a room prompt (16 kHz, resampled in the tick), a
// private prompt to one participant, and the mix tap pulled every tick.
#include <benchmark/benchmark.h>
#include <opus/opus.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tutti/codec_registry.hpp"
#include "tutti/conference.hpp"
#include "tutti/resampler.hpp"
#include "tutti/rtp_packetizer.hpp"
#include "tutti/wav.hpp"

namespace {

using namespace tutti;

std::vector<float> speech48k() {
    static std::vector<float> cached;
    if (!cached.empty()) return cached;
    wav_file w;
    (void)read_wav_file(std::string(TUTTI_SPEECH_DIR) + "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav", w);
    std::unique_ptr<resampler> rs;
    (void)resampler::create(16000, 48000, 1, rs);
    cached.resize(w.samples.size() * 3 + 64);
    std::size_t n = 0;
    for (std::size_t i = 0; i + 320 <= w.samples.size(); i += 320)
        n += static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, rs->process(interleaved_view<const float>(w.samples.data() + i, 320, 1),
                                                                              interleaved_view<float>(cached.data() + n, cached.size() - n, 1))));
    cached.resize(n);
    return cached;
}

sdp_format format_for(std::size_t i) {
    sdp_format f;
    switch (i % 3) {
        case 0: f.payload_type = 111, f.encoding_name = "opus", f.clock_rate_hz = 48000, f.channels = 2; break;
        case 1: f.payload_type = 9, f.encoding_name = "G722", f.clock_rate_hz = 8000; break;
        default: f.payload_type = 0, f.encoding_name = "PCMU", f.clock_rate_hz = 8000; break;
    }
    return f;
}

// Pre-encoded payloads of one client: 10 s of speech or of silence.
struct client {
    participant_id id = 0;
    sdp_format format;
    rtp_packetizer packetizer;
    std::vector<std::vector<std::uint8_t>> payloads;
};

void bm_room(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const bool extras = state.range(1) != 0;  // prompts + tap
    const codec_registry codecs = codec_registry::with_builtin_codecs();
    std::unique_ptr<room> r;
    room_config rc;
    rc.max_participants = static_cast<std::uint32_t>(n + 1);
    rc.profile_stages = true;
    (void)room::create(rc, r);
    const std::vector<float> voice = speech48k();
    std::vector<client> clients(n);
    std::vector<float> frame(1920);
    for (std::size_t i = 0; i < n; ++i) {
        client& c = clients[i];
        c.format = format_for(i);
        rtp_participant_config pc;
        pc.receive = pc.send = c.format;
        pc.ssrc = static_cast<std::uint32_t>(100 + i);
        (void)r->join_rtp(pc, c.id);
        std::unique_ptr<encoder> enc;
        (void)codecs.make_encoder(c.format, {}, enc);
        const audio_format f = enc->format();
        const std::size_t len = f.frame_samples();
        const std::size_t step = 48000 / f.sample_rate_hz;
        for (std::size_t k = 0; k < 500; ++k) {
            for (std::size_t s = 0; s < len * f.channels; ++s) {
                const std::size_t at = (k * len + s / f.channels) * step;
                frame[s] = i < 3 && at < voice.size() ? 0.5f * voice[at] : 0.0f;
            }
            std::vector<std::uint8_t> payload(1500);
            const auto bytes = enc->encode(interleaved_view<const float>(frame.data(), len, f.channels), payload);
            payload.resize(static_cast<std::size_t>(std::max<std::ptrdiff_t>(bytes, 1)));
            c.payloads.push_back(std::move(payload));
        }
        rtp_packetizer_config out;
        out.ssrc = static_cast<std::uint32_t>(1000 + i);
        out.payload_type = c.format.payload_type;
        out.clock_rate_hz = c.format.clock_rate_hz;
        out.seed = i;
        (void)c.packetizer.init(out);
    }
    std::vector<float> prompt16k(voice.size() / 3), tap(1920);
    for (std::size_t i = 0; i < prompt16k.size(); ++i) prompt16k[i] = 0.3f * voice[i * 3];
    if (extras) (void)r->enable_tap(true);
    std::vector<std::uint8_t> packet(1500);
    std::vector<double> tick_us;
    std::int64_t now = 0;
    std::size_t k = 0;
    for (auto _ : state) {
        for (auto& c : clients) {
            const auto& p = c.payloads[k % c.payloads.size()];
            const auto len = c.packetizer.packetize(p, c.format.clock_rate_hz / 50, false, packet);
            (void)r->push_rtp(c.id, {packet.data(), static_cast<std::size_t>(len)}, now);
        }
        if (extras && r->stats().prompts_playing < 2) {  // keep both prompts going (control side, not timed)
            state.PauseTiming();
            prompt_id id = 0;
            if (r->stats().prompts_playing == 0) (void)r->play_prompt(whole_room, std::span<const float>(prompt16k), 16000, id);
            (void)r->play_prompt(clients[0].id, std::span<const float>(prompt16k), 16000, id);
            state.ResumeTiming();
        }
        now += 20000;
        const auto t0 = std::chrono::steady_clock::now();
        (void)r->tick(now);
        const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
        state.SetIterationTime(us / 1e6);
        tick_us.push_back(us);
        for (auto& c : clients)
            while (r->pull_rtp(c.id, packet) > 0) {
            }
        if (extras) (void)r->pull_tap(tap);
        room_event events[64];
        while (r->poll_events(events) > 0) {
        }
        ++k;
    }
    std::sort(tick_us.begin(), tick_us.end());
    state.counters["tick_p50_us"] = tick_us[tick_us.size() / 2];
    state.counters["tick_p99_us"] = tick_us[std::min(tick_us.size() - 1, tick_us.size() * 99 / 100)];
    state.counters["us_per_participant"] = tick_us[tick_us.size() / 2] / static_cast<double>(n);
    const char* names[] = {"receive", "jitter_decode", "resample_in", "mix", "resample_out", "encode", "packetize"};
    const auto& st = r->stats();
    for (std::size_t s = 0; s < static_cast<std::size_t>(tick_stage::count); ++s)
        state.counters[std::string("stage_") + names[s] + "_us"] =
            static_cast<double>(st.stage_ns[s]) / 1000.0 / static_cast<double>(std::max<std::uint64_t>(1, st.ticks));
    state.SetLabel(std::to_string(n) + " participants, 3 talking, codecs opus/G722/PCMU" + (extras ? ", 2 prompts + tap" : ""));
}

// Baseline: one raw libopus encode of a 20 ms 48 kHz speech frame (what a
// per-participant-encoding mixer pays per Opus listener per tick).
void bm_raw_opus_encode(benchmark::State& state) {
    int err = 0;
    OpusEncoder* enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
    const std::vector<float> voice = speech48k();
    std::vector<unsigned char> out(1500);
    std::size_t k = 0;
    for (auto _ : state) {
        const std::size_t at = (k++ * 960) % (voice.size() - 960);
        benchmark::DoNotOptimize(opus_encode_float(enc, voice.data() + at, 960, out.data(), 1500));
    }
    opus_encoder_destroy(enc);
}

}  // namespace

BENCHMARK(bm_raw_opus_encode)->Name("baseline/raw_opus_encode_48k_20ms");
BENCHMARK(bm_room)->Name("room/tick")->Args({3, 0})->Args({10, 0})->Args({50, 0})->UseManualTime()->Iterations(500);
BENCHMARK(bm_room)->Name("room/tick_prompt_tap")->Args({10, 1})->UseManualTime()->Iterations(500);

BENCHMARK_MAIN();
