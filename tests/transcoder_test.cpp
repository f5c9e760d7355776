// tests/transcoder_test.cpp: tests for tutti/transcoder.hpp.
//
// Real speech (pocketsphinx-testdata, 16 kHz) is encoded with the input codec
// through the registry, transcoded, decoded with the output codec and compared
// with the source after aligning the delay by cross-correlation: PCMU -> Opus
// 60 ms, Opus 20 ms -> PCMA 30 ms, G.722 -> L16/48000/2, PCMU -> PCMU 40 ms,
// and a mismatched G.711 law that must fail the same threshold. Exact packet
// counts and payload sizes for every packet-time pair, FIFO remainders,
// channel up/down-mix, DTX, loss (PLC and Opus in-band FEC), garbage input,
// FIFO overflow, and no allocation in push/pull/push_lost/reset (counted with
// tests/alloc_counter.cpp; libopus and SpeexDSP are linked statically when
// their archives are installed, so their calls are counted too).
#include "tutti/transcoder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "tutti/codecs/g711.hpp"
#include "tutti/codecs/l16.hpp"
#include "tutti/codecs/opus.hpp"
#include "tutti/resampler.hpp"
#include "tutti/wav.hpp"

namespace {

using tutti::codec_options;
using tutti::codec_registry;
using tutti::sdp_format;
using tutti::status;
using tutti::transcoder;
using bytes = std::vector<std::uint8_t>;

const codec_registry& registry() {
    static const codec_registry r = codec_registry::with_builtin_codecs();
    return r;
}

sdp_format fmt(const char* rtpmap, std::uint32_t ptime = 0, const char* fmtp = "") {
    sdp_format f;
    EXPECT_EQ(tutti::parse_rtpmap(rtpmap, f), status::ok) << rtpmap;
    EXPECT_EQ(tutti::parse_fmtp_params(fmtp, f.fmtp), status::ok) << fmtp;
    f.ptime_ms = ptime;
    return f;
}

// ---------------------------------------------------------------------------
// Signals

// 7.1 s of read speech, 16 kHz mono.
const std::vector<float>& speech() {
    static const std::vector<float> s = [] {
        tutti::wav_file w;
        std::string error;
        const std::string path =
            std::string(TUTTI_SPEECH_DIR) + "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav";
        EXPECT_EQ(tutti::read_wav_file(path, w, &error), status::ok) << path << ": " << error;
        EXPECT_EQ(w.sample_rate_hz, 16000u);
        EXPECT_EQ(w.channels, 1);
        return w.samples;
    }();
    return s;
}

// Mono `x` at `from` Hz resampled to `to` Hz, the filter delay removed.
std::vector<float> resample(const std::vector<float>& x, std::uint32_t from, std::uint32_t to) {
    if (from == to) return x;
    std::unique_ptr<tutti::resampler> r;
    EXPECT_EQ(tutti::resampler::create(from, to, 1, r), status::ok);
    // Pad with silence so the delayed tail comes out too.
    std::vector<float> in(x);
    in.resize(x.size() + from / 20, 0.0f);
    std::vector<float> out(r->max_output_frames(in.size()));
    const auto n = r->process(tutti::interleaved_view<const float>(in.data(), in.size(), 1),
                              tutti::interleaved_view<float>(out.data(), out.size(), 1));
    EXPECT_GT(n, 0);
    out.resize(static_cast<std::size_t>(std::max<std::ptrdiff_t>(n, 0)));
    const std::size_t lat = std::min(r->output_latency(), out.size());
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(lat));
    out.resize(std::min(out.size(), x.size() * to / from));
    return out;
}

// Mono `mono` at `rate` Hz encoded by the registry's encoder for `f` (resampled
// to its rate, duplicated to its channels): one payload per whole frame.
std::vector<bytes> encode_pcm(const sdp_format& f, const std::vector<float>& mono_in, std::uint32_t rate,
                              const codec_options& o = {}) {
    std::unique_ptr<tutti::encoder> e;
    std::string error;
    EXPECT_EQ(registry().make_encoder(f, o, e, &error), status::ok) << error;
    if (!e) return {};
    const auto af = e->format();
    const std::vector<float> mono = resample(mono_in, rate, af.sample_rate_hz);
    std::vector<float> pcm(mono.size() * af.channels);
    for (std::size_t i = 0; i < mono.size(); ++i) {
        for (std::size_t c = 0; c < af.channels; ++c) pcm[i * af.channels + c] = mono[i];
    }
    const std::size_t n = af.frame_samples();
    std::vector<bytes> out;
    bytes buf(tutti::opus_max_payload_bytes * 4);
    for (std::size_t i = 0; (i + 1) * n <= mono.size(); ++i) {
        const auto r = e->encode(tutti::interleaved_view<const float>(pcm.data() + i * n * af.channels, n, af.channels),
                                 buf);
        EXPECT_GT(r, 0);
        out.emplace_back(buf.begin(), buf.begin() + std::max<std::ptrdiff_t>(r, 0));
    }
    return out;
}

// The speech encoded for `f`; only its first `ms` milliseconds when given (to keep the test fast).
std::vector<bytes> encode(const sdp_format& f, const codec_options& o = {}, std::size_t ms = 0) {
    if (ms == 0 || ms * 16 >= speech().size()) return encode_pcm(f, speech(), 16000, o);
    const std::vector<float> head(speech().begin(), speech().begin() + static_cast<std::ptrdiff_t>(ms * 16));
    return encode_pcm(f, head, 16000, o);
}

struct decoded {
    std::vector<float> pcm;  // interleaved
    tutti::audio_format format;
};

decoded decode(const sdp_format& f, const std::vector<bytes>& payloads, const codec_options& o = {}) {
    std::unique_ptr<tutti::decoder> d;
    std::string error;
    EXPECT_EQ(registry().make_decoder(f, o, d, &error), status::ok) << error;
    decoded out;
    if (!d) return out;
    out.format = d->format();
    std::vector<float> buf(out.format.sample_rate_hz * out.format.channels);  // 1 s
    for (const auto& p : payloads) {
        const auto n = d->decode(p, tutti::interleaved_view<float>(buf.data(), out.format.sample_rate_hz,
                                                                    out.format.channels));
        EXPECT_GT(n, 0);
        out.pcm.insert(out.pcm.end(), buf.begin(), buf.begin() + std::max<std::ptrdiff_t>(n, 0) * out.format.channels);
    }
    return out;
}

std::vector<float> channel(const decoded& d, std::size_t c) {
    std::vector<float> out(d.pcm.size() / d.format.channels);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = d.pcm[i * d.format.channels + c];
    return out;
}

// All channels averaged.
std::vector<float> mono(const decoded& d) {
    std::vector<float> out(d.pcm.size() / d.format.channels);
    for (std::size_t i = 0; i < out.size(); ++i) {
        float sum = 0;
        for (std::size_t c = 0; c < d.format.channels; ++c) sum += d.pcm[i * d.format.channels + c];
        out[i] = sum / static_cast<float>(d.format.channels);
    }
    return out;
}

struct correlation {
    double rho = 0;
    std::size_t lag = 0;
};

// Highest normalized cross-correlation of `test` delayed by 0..max_lag samples
// against `ref`, each lag normalized over its own overlap.
correlation xcorr(const std::vector<float>& ref, const std::vector<float>& test, std::size_t max_lag) {
    correlation best;
    for (std::size_t lag = 0; lag <= max_lag && lag < test.size(); ++lag) {
        const std::size_t n = std::min(ref.size(), test.size() - lag);
        double rt = 0, rr = 0, tt = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double r = ref[i], t = test[i + lag];
            rt += r * t;
            rr += r * r;
            tt += t * t;
        }
        const double rho = rr > 0 && tt > 0 ? rt / std::sqrt(rr * tt) : 0.0;
        if (rho > best.rho) best = {rho, lag};
    }
    return best;
}

// xcorr() at `rate` Hz, then refined to 1/48000 s around the best lag (both
// signals resampled to 48 kHz), so that a fractional-sample delay does not
// read as a loss of quality. The lag is returned in 48 kHz samples.
correlation xcorr_fine(const std::vector<float>& ref, const std::vector<float>& test, std::uint32_t rate,
                       std::size_t max_lag) {
    const correlation coarse = xcorr(ref, test, max_lag);
    const std::size_t up = 48000 / rate;
    const auto ref_up = resample(ref, rate, 48000);
    const auto test_up = resample(test, rate, 48000);
    correlation best{0, 0};
    const std::size_t first = coarse.lag * up >= up ? coarse.lag * up - up : 0;
    for (std::size_t lag = first; lag <= coarse.lag * up + up && lag < test_up.size(); ++lag) {
        const std::size_t n = std::min(ref_up.size(), test_up.size() - lag);
        double rt = 0, rr = 0, tt = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double r = ref_up[i], t = test_up[i + lag];
            rt += r * t;
            rr += r * r;
            tt += t * t;
        }
        const double rho = rr > 0 && tt > 0 ? rt / std::sqrt(rr * tt) : 0.0;
        if (rho > best.rho) best = {rho, lag};
    }
    return best;
}

// Pushes every payload, pulling after each until nothing is ready.
std::vector<bytes> run(transcoder& t, const std::vector<bytes>& in, std::size_t count = SIZE_MAX) {
    std::vector<bytes> out;
    bytes buf(t.recommended_payload_bytes());
    for (std::size_t i = 0; i < in.size() && i < count; ++i) {
        EXPECT_EQ(t.push(in[i]), status::ok) << i;
        for (;;) {
            const auto o = t.pull(buf);
            EXPECT_EQ(o.result, status::ok);
            if (!o.produced()) break;
            out.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(o.bytes));
        }
    }
    return out;
}

std::unique_ptr<transcoder> make(const sdp_format& in, const sdp_format& out, const codec_options& o = {}) {
    std::unique_ptr<transcoder> t;
    std::string error;
    EXPECT_EQ(transcoder::create(in, out, registry(), o, t, &error), status::ok) << error;
    return t;
}

// Output frames in `ms` at the transcoder's output rate.
std::size_t out_frames(const transcoder& t, std::size_t ms) { return t.output_format().sample_rate_hz * ms / 1000; }

// ---------------------------------------------------------------------------
// Speech through the four conversions

// The transcoder's output decoded with the output codec, against the source
// at `rate` Hz (the narrowest rate of the path), delay found by
// cross-correlation over 0..60 ms. Also the same conversion done "by hand"
// at the rates the transcoder chose (decode with the input codec, resample,
// encode and decode with the output codec: what a PBX without a transcoder
// would run), so that the test can say the transcoder costs nothing beyond
// the two codecs.
struct speech_score {
    correlation transcoded;
    correlation by_hand;
};

correlation by_hand(const sdp_format& in_fmt, const sdp_format& out_fmt, const std::vector<bytes>& in,
                    std::uint32_t in_rate, std::uint32_t out_rate, std::uint32_t rate) {
    codec_options in_opts, out_opts;
    in_opts.opus_max_sample_rate_hz = in_rate;  // only Opus reads these
    out_opts.opus_max_sample_rate_hz = out_rate;
    const auto first = decode(in_fmt, in, in_opts);
    const auto second = decode(out_fmt, encode_pcm(out_fmt, mono(first), first.format.sample_rate_hz, out_opts));
    return xcorr_fine(resample(speech(), 16000, rate), resample(mono(second), second.format.sample_rate_hz, rate), rate,
                      rate * 60 / 1000);
}

speech_score score(const transcoder& t, const sdp_format& in_fmt, const sdp_format& out_fmt,
                   const std::vector<bytes>& in, const std::vector<bytes>& out, std::uint32_t rate) {
    const auto d = decode(out_fmt, out);
    speech_score s;
    s.transcoded = xcorr_fine(resample(speech(), 16000, rate), resample(mono(d), d.format.sample_rate_hz, rate), rate,
                              rate * 60 / 1000);
    s.by_hand = by_hand(in_fmt, out_fmt, in, t.input_format().sample_rate_hz, t.output_format().sample_rate_hz, rate);
    return s;
}

void report(const char* what, const speech_score& s) {
    std::printf("%-28s rho %.4f at %.3f ms; by hand %.4f at %.3f ms\n", what, s.transcoded.rho,
                static_cast<double>(s.transcoded.lag) / 48.0, s.by_hand.rho, static_cast<double>(s.by_hand.lag) / 48.0);
}

// Thresholds: the correlations measured on this speech (printed by each
// test; Debian libopus 1.3.1) minus a margin. Opus is a perceptual codec: its
// waveform follows the source far less closely than G.711's or G.722's
// (0.83-0.85 at 32 kb/s against 0.9995+), so its thresholds are lower, and
// what holds the Opus paths to account is the same conversion run by hand at
// the same rates (within by_hand_margin; measured equal to 4 decimals). A
// wrong G.711 law keeps the sign and the segment order of every sample and
// still correlates at 0.85 on its own (0.70 in front of Opus): it fails the
// threshold of the path it is on.
//   measured: PCMU->Opus60 0.8340, Opus20->PCMA30 0.8474, G722->L16 0.9995,
//             PCMU->PCMU40 0.9999; wrong law 0.8478 (->PCMU40), 0.6983 (->Opus60)
constexpr double pcmu_to_opus60_min = 0.81;
constexpr double opus20_to_pcma30_min = 0.82;
constexpr double g722_to_l16_min = 0.995;
constexpr double pcmu_to_pcmu40_min = 0.999;
constexpr double by_hand_margin = 0.01;

TEST(TranscoderSpeech, PcmuTo60msOpus) {
    const auto in_fmt = fmt("0 PCMU/8000", 20);
    const auto out_fmt = fmt("111 opus/48000/2", 60);
    const auto in = encode(in_fmt);
    ASSERT_GE(in.size(), 300u);
    auto t = make(in_fmt, out_fmt);
    ASSERT_TRUE(t);
    // The Opus encoder runs at 8 kHz: nothing above 4 kHz comes out of PCMU.
    EXPECT_EQ(t->output_format(), (tutti::audio_format{8000, 1, 60000}));
    EXPECT_EQ(t->input_format(), (tutti::audio_format{8000, 1, 20000}));
    EXPECT_EQ(t->output_rtp_ticks_per_packet(), 2880u);  // Opus's 48 kHz RTP clock

    // 50 packets of 20 ms = 1000 ms = 16 packets of 60 ms (960 ms) + 40 ms in
    // the FIFO, not 17: a packet leaves only when 60 ms of audio are there.
    auto out = run(*t, in, 50);
    EXPECT_EQ(out.size(), 16u);
    EXPECT_EQ(t->fifo_frames(), out_frames(*t, 40));
    EXPECT_EQ(t->stats().packets_in, 50u);
    EXPECT_EQ(t->stats().packets_out, 16u);
    for (const auto& p : out) {
        tutti::opus_payload_info info;
        ASSERT_EQ(tutti::parse_opus_payload(p, info), status::ok);
        EXPECT_EQ(info.duration_us(), 60000u);
        EXPECT_LE(p.size(), 480u);  // VBR around 32 kb/s: 240 bytes on average
    }
    // The rest of the speech.
    std::vector<bytes> rest(in.begin() + 50, in.end());
    const auto more = run(*t, rest);
    out.insert(out.end(), more.begin(), more.end());
    EXPECT_EQ(out.size(), in.size() * 20 / 60);

    const auto s = score(*t, in_fmt, out_fmt, in, out, 8000);
    report("PCMU 20 -> Opus 60:", s);
    EXPECT_GT(s.transcoded.rho, pcmu_to_opus60_min);
    EXPECT_GT(s.transcoded.rho, s.by_hand.rho - by_hand_margin);
    // What running the Opus encoder at 48 kHz instead would give (at ≈ 2.3×
    // the encoder's CPU, BASELINES.md): a little more waveform fidelity.
    const auto at48 = by_hand(in_fmt, out_fmt, in, 8000, 48000, 8000);
    std::printf("%-28s rho %.4f (Opus encoder at 48 kHz)\n", "  by hand at 48 kHz:", at48.rho);
    EXPECT_GT(s.transcoded.rho, at48.rho - 0.03);
}

TEST(TranscoderSpeech, Opus20msToPcma30ms) {
    const auto in_fmt = fmt("111 opus/48000/2", 20);
    const auto out_fmt = fmt("8 PCMA/8000", 30);
    const auto in = encode(in_fmt);
    auto t = make(in_fmt, out_fmt);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->input_format().sample_rate_hz, 8000u);  // the Opus decoder runs at the output's rate
    EXPECT_EQ(t->output_format(), (tutti::audio_format{8000, 1, 30000}));

    // 50 x 20 ms = 33 x 30 ms + 10 ms held.
    auto out = run(*t, in, 50);
    EXPECT_EQ(out.size(), 33u);
    EXPECT_EQ(t->fifo_frames(), 80u);
    for (const auto& p : out) EXPECT_EQ(p.size(), 240u);
    std::vector<bytes> rest(in.begin() + 50, in.end());
    const auto more = run(*t, rest);
    out.insert(out.end(), more.begin(), more.end());
    EXPECT_EQ(out.size(), in.size() * 20 / 30);

    const auto s = score(*t, in_fmt, out_fmt, in, out, 8000);
    report("Opus 20 -> PCMA 30:", s);
    EXPECT_GT(s.transcoded.rho, opus20_to_pcma30_min);
    EXPECT_GT(s.transcoded.rho, s.by_hand.rho - by_hand_margin);
}

TEST(TranscoderSpeech, G722ToL16StereoAt48kHz) {
    const auto in_fmt = fmt("9 G722/8000", 20);
    const auto out_fmt = fmt("96 L16/48000/2", 20);
    const auto in = encode(in_fmt);
    auto t = make(in_fmt, out_fmt);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->input_format(), (tutti::audio_format{16000, 1, 20000}));
    EXPECT_EQ(t->output_format(), (tutti::audio_format{48000, 2, 20000}));
    EXPECT_EQ(t->input_frames_for_rtp_ticks(160), 320u);  // G.722's 8000 Hz clock
    EXPECT_EQ(t->output_rtp_ticks_per_packet(), 960u);

    auto out = run(*t, in);
    ASSERT_EQ(out.size(), in.size());  // 20 ms in, 20 ms out, nothing held
    EXPECT_EQ(t->fifo_frames(), 0u);
    for (const auto& p : out) EXPECT_EQ(p.size(), 960u * 2 * 2);

    const auto d = decode(out_fmt, out);
    EXPECT_EQ(channel(d, 0), channel(d, 1));  // mono duplicated
    const auto s = score(*t, in_fmt, out_fmt, in, out, 16000);
    report("G.722 -> L16/48000/2:", s);
    EXPECT_GT(s.transcoded.rho, g722_to_l16_min);
    EXPECT_GT(s.transcoded.rho, s.by_hand.rho - by_hand_margin);
}

TEST(TranscoderSpeech, PcmuTo40msPcmuIsByteExact) {
    const auto in_fmt = fmt("0 PCMU/8000", 20);
    const auto out_fmt = fmt("0 PCMU/8000", 40);
    const auto in = encode(in_fmt);
    auto t = make(in_fmt, out_fmt);
    ASSERT_TRUE(t);
    auto out = run(*t, in, 50);
    EXPECT_EQ(out.size(), 25u);
    EXPECT_EQ(t->fifo_frames(), 0u);
    for (const auto& p : out) EXPECT_EQ(p.size(), 320u);
    std::vector<bytes> rest(in.begin() + 50, in.end());
    const auto more = run(*t, rest);
    out.insert(out.end(), more.begin(), more.end());

    // Decode -> encode of G.711 gives the same codes back (but µ-law 0x7F,
    // "negative zero", which comes back as 0xFF).
    bytes in_all, out_all;
    for (const auto& p : in) in_all.insert(in_all.end(), p.begin(), p.end());
    for (const auto& p : out) out_all.insert(out_all.end(), p.begin(), p.end());
    ASSERT_EQ(out_all.size(), in_all.size() / 320 * 320);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < out_all.size(); ++i) {
        if (out_all[i] != in_all[i]) {
            ++differ;
            EXPECT_EQ(in_all[i], 0x7F);
            EXPECT_EQ(out_all[i], 0xFF);
        }
    }
    std::printf("PCMU 20 -> PCMU 40: %zu of %zu bytes differ (all 0x7F -> 0xFF)\n", differ, out_all.size());

    const auto s = score(*t, in_fmt, out_fmt, in, out, 8000);
    report("PCMU 20 -> PCMU 40:", s);
    EXPECT_EQ(s.transcoded.lag, 0u);  // no resampler, no codec delay
    EXPECT_GT(s.transcoded.rho, pcmu_to_pcmu40_min);
}

TEST(TranscoderSpeech, MismatchedLawFailsTheThreshold) {
    // The peer sends PCMU but the transcoder was told PCMA.
    const auto in = encode(fmt("0 PCMU/8000", 20));
    const auto out_fmt = fmt("0 PCMU/8000", 40);
    auto t = make(fmt("8 PCMA/8000", 20), out_fmt);
    ASSERT_TRUE(t);
    const auto d = decode(out_fmt, run(*t, in));
    const auto c = xcorr_fine(resample(speech(), 16000, 8000), mono(d), 8000, 480);
    std::printf("%-28s rho %.4f\n", "PCMU read as PCMA -> PCMU 40:", c.rho);
    EXPECT_LT(c.rho, pcmu_to_pcmu40_min);
    EXPECT_LT(c.rho, 0.9);

    // The same mistake in front of Opus.
    const auto opus_fmt = fmt("111 opus/48000/2", 60);
    auto u = make(fmt("8 PCMA/8000", 20), opus_fmt);
    ASSERT_TRUE(u);
    const auto e = decode(opus_fmt, run(*u, in));
    const auto c2 = xcorr_fine(resample(speech(), 16000, 8000), resample(mono(e), 48000, 8000), 8000, 480);
    std::printf("%-28s rho %.4f\n", "PCMU read as PCMA -> Opus 60:", c2.rho);
    EXPECT_LT(c2.rho, pcmu_to_opus60_min);
}

// ---------------------------------------------------------------------------
// Packet times

TEST(TranscoderPacketTime, Pcmu20ToEveryPcmaPtimeAndBack) {
    const auto in = encode(fmt("0 PCMU/8000", 20), {}, 1000);
    for (const std::uint32_t ms : {10u, 20u, 30u, 40u, 60u}) {
        auto t = make(fmt("0 PCMU/8000", 20), fmt("8 PCMA/8000", ms));
        ASSERT_TRUE(t);
        const auto out = run(*t, in, 50);
        EXPECT_EQ(out.size(), 1000 / ms) << ms;
        EXPECT_EQ(t->fifo_frames(), (1000 % ms) * 8) << ms;
        for (const auto& p : out) EXPECT_EQ(p.size(), ms * 8) << ms;

        // And back: 1200 ms of `ms` packets -> 60 packets of 20 ms.
        const auto back_in = encode(fmt("8 PCMA/8000", ms), {}, 1200);
        auto back = make(fmt("8 PCMA/8000", ms), fmt("0 PCMU/8000", 20));
        ASSERT_TRUE(back);
        const auto back_out = run(*back, back_in, 1200 / ms);
        EXPECT_EQ(back_out.size(), 60u) << ms;
        EXPECT_EQ(back->fifo_frames(), 0u) << ms;
    }
}

TEST(TranscoderPacketTime, Pcmu20ToEveryOpusPtimeAndBack) {
    const auto in = encode(fmt("0 PCMU/8000", 20), {}, 1000);
    for (const std::uint32_t ms : {10u, 20u, 40u, 60u}) {
        auto t = make(fmt("0 PCMU/8000", 20), fmt("111 opus/48000/2", ms));
        ASSERT_TRUE(t);
        const auto out = run(*t, in, 50);
        EXPECT_EQ(out.size(), 1000 / ms) << ms;
        EXPECT_EQ(t->fifo_frames(), out_frames(*t, 1000 % ms)) << ms;
        for (const auto& p : out) {
            tutti::opus_payload_info info;
            ASSERT_EQ(tutti::parse_opus_payload(p, info), status::ok);
            EXPECT_EQ(info.duration_us(), ms * 1000);
        }
        const auto back_in = encode(fmt("111 opus/48000/2", ms), {}, 1200);
        auto back = make(fmt("111 opus/48000/2", ms), fmt("0 PCMU/8000", 20));
        ASSERT_TRUE(back);
        EXPECT_EQ(run(*back, back_in, 1200 / ms).size(), 60u) << ms;
        EXPECT_EQ(back->fifo_frames(), 0u) << ms;
    }
}

// ---------------------------------------------------------------------------
// Rates, channels, DTX

TEST(Transcoder, OpusRatesFollowTheOtherSide) {
    struct rate_case {
        const char* in;
        const char* out;
        std::uint32_t in_rate, out_rate;
    };
    const rate_case cases[] = {
        {"0 PCMU/8000", "111 opus/48000/2", 8000, 8000},
        {"9 G722/8000", "111 opus/48000/2", 16000, 16000},
        {"96 L16/44100", "111 opus/48000/2", 44100, 48000},
        {"96 L16/22050", "111 opus/48000/2", 22050, 24000},
        {"111 opus/48000/2", "8 PCMA/8000", 8000, 8000},
        {"111 opus/48000/2", "9 G722/8000", 16000, 16000},
        {"111 opus/48000/2", "96 L16/48000/2", 48000, 48000},
        {"111 opus/48000/2", "111 opus/48000/2", 48000, 48000},
    };
    for (const auto& c : cases) {
        auto t = make(fmt(c.in), fmt(c.out));
        ASSERT_TRUE(t) << c.in << " -> " << c.out;
        EXPECT_EQ(t->input_format().sample_rate_hz, c.in_rate) << c.in << " -> " << c.out;
        EXPECT_EQ(t->output_format().sample_rate_hz, c.out_rate) << c.in << " -> " << c.out;
    }
    // Opus input: RTP ticks are at 48 kHz whatever the decoder runs at.
    auto t = make(fmt("111 opus/48000/2"), fmt("8 PCMA/8000"));
    EXPECT_EQ(t->input_frames_for_rtp_ticks(960), 160u);
}

TEST(Transcoder, StereoToMonoAveragesAndMonoToStereoDuplicates) {
    // L16 is exact, so the mix can be checked sample by sample.
    auto down = make(fmt("96 L16/8000/2", 20), fmt("97 L16/8000/1", 20));
    auto up = make(fmt("97 L16/8000/1", 20), fmt("96 L16/8000/2", 20));
    ASSERT_TRUE(down && up);
    bytes stereo(160 * 4), mono(160 * 2);
    for (int i = 0; i < 160; ++i) {
        const auto l = static_cast<std::int16_t>(i * 100 - 8000), r = static_cast<std::int16_t>(-i * 50 + 2000);
        stereo[i * 4 + 0] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(l) >> 8);
        stereo[i * 4 + 1] = static_cast<std::uint8_t>(l & 0xFF);
        stereo[i * 4 + 2] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(r) >> 8);
        stereo[i * 4 + 3] = static_cast<std::uint8_t>(r & 0xFF);
    }
    ASSERT_EQ(down->push(stereo), status::ok);
    bytes buf(down->recommended_payload_bytes());
    auto o = down->pull(buf);
    ASSERT_EQ(o.bytes, 320u);
    for (int i = 0; i < 160; ++i) {
        const int expected = ((i * 100 - 8000) + (-i * 50 + 2000)) / 2;
        const int got = static_cast<std::int16_t>((buf[i * 2] << 8) | buf[i * 2 + 1]);
        EXPECT_EQ(got, expected) << i;
        mono[i * 2] = buf[i * 2];
        mono[i * 2 + 1] = buf[i * 2 + 1];
    }
    ASSERT_EQ(up->push(mono), status::ok);
    o = up->pull(buf);
    ASSERT_EQ(o.bytes, 640u);
    for (int i = 0; i < 160; ++i) {
        EXPECT_EQ(buf[i * 4], mono[i * 2]);
        EXPECT_EQ(buf[i * 4 + 1], mono[i * 2 + 1]);
        EXPECT_EQ(buf[i * 4 + 2], mono[i * 2]);
        EXPECT_EQ(buf[i * 4 + 3], mono[i * 2 + 1]);
    }
}

TEST(Transcoder, StereoOpusInToMonoPcmu) {
    const auto in_fmt = fmt("111 opus/48000/2", 20, "sprop-stereo=1");
    auto t = make(in_fmt, fmt("0 PCMU/8000", 20));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->input_format().channels, 2);
    EXPECT_EQ(t->output_format().channels, 1);
    codec_options o;
    const auto in = encode(fmt("111 opus/48000/2", 20, "stereo=1"), o);  // a stereo sender
    const auto out = run(*t, in);
    EXPECT_EQ(out.size(), in.size());
    const auto s = score(*t, in_fmt, fmt("0 PCMU/8000", 20), in, out, 8000);
    report("stereo Opus -> PCMU:", s);
    EXPECT_GT(s.transcoded.rho, opus20_to_pcma30_min);
    EXPECT_GT(s.transcoded.rho, s.by_hand.rho - by_hand_margin);
}

TEST(Transcoder, DtxIsNotNoPacket) {
    auto t = make(fmt("0 PCMU/8000", 20), fmt("111 opus/48000/2", 20, "usedtx=1"));
    ASSERT_TRUE(t);
    const bytes silence(160, 0xFF);  // µ-law zero
    bytes buf(t->recommended_payload_bytes());
    int dtx = 0, packets = 0;
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(t->push(silence), status::ok);
        const auto o = t->pull(buf);
        ASSERT_EQ(o.result, status::ok);
        ASSERT_TRUE(o.produced()) << i;  // every 20 ms in is 20 ms out: a packet or DTX
        EXPECT_NE(o.dtx, o.bytes > 0);
        dtx += o.dtx ? 1 : 0;
        packets += o.bytes > 0 ? 1 : 0;
        const auto none = t->pull(buf);  // nothing left
        EXPECT_EQ(none.result, status::ok);
        EXPECT_FALSE(none.dtx);
        EXPECT_EQ(none.bytes, 0u);
        EXPECT_FALSE(none.produced());
    }
    std::printf("digital silence with usedtx=1: %d DTX frames, %d packets of 100\n", dtx, packets);
    EXPECT_GT(dtx, 50);
    EXPECT_EQ(t->stats().dtx_frames, static_cast<std::uint64_t>(dtx));
    EXPECT_EQ(t->stats().packets_out, static_cast<std::uint64_t>(packets));
}

// ---------------------------------------------------------------------------
// Loss, bad input, overflow, errors

TEST(Transcoder, ConcealedLossKeepsTheTimeline) {
    const auto in = encode(fmt("0 PCMU/8000", 20), {}, 3000);
    auto t = make(fmt("0 PCMU/8000", 20), fmt("8 PCMA/8000", 60));
    ASSERT_TRUE(t);
    bytes buf(t->recommended_payload_bytes());
    std::size_t out = 0;
    for (std::size_t i = 0; i < 150; ++i) {
        if (i % 10 == 5) {
            ASSERT_EQ(t->push_lost({}, t->input_frames_for_rtp_ticks(160)), status::ok);
        } else {
            ASSERT_EQ(t->push(in[i]), status::ok);
        }
        while (t->pull(buf).produced()) ++out;
    }
    EXPECT_EQ(out, 50u);  // 3000 ms
    EXPECT_EQ(t->stats().packets_lost, 15u);
    EXPECT_EQ(t->stats().frames_concealed, 15u * 160);
    EXPECT_EQ(t->stats().packets_in, 135u);
    EXPECT_EQ(t->push_lost({}, 0), status::invalid_argument);
    EXPECT_EQ(t->push_lost({}, 961), status::invalid_argument);  // over 120 ms
    EXPECT_EQ(t->push_lost({}, 960), status::ok);
}

TEST(Transcoder, OpusInbandFecRecoversLostPackets) {
    // The sender was asked for FEC; every 7th packet is lost.
    codec_options sender;
    sender.expected_loss_percent = 20;
    const auto in_fmt = fmt("111 opus/48000/2", 20, "useinbandfec=1");
    const auto in = encode(in_fmt, sender);
    const auto ref = resample(speech(), 16000, 8000);
    double rho[2] = {};
    for (const bool use_fec : {false, true}) {
        auto t = make(in_fmt, fmt("0 PCMU/8000", 20));
        ASSERT_TRUE(t);
        bytes buf(t->recommended_payload_bytes());
        std::vector<bytes> out;
        std::uint64_t lost = 0;
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (i % 7 == 3 && i + 1 < in.size()) {
                ++lost;
                const std::span<const std::uint8_t> next = use_fec ? std::span<const std::uint8_t>(in[i + 1])
                                                                   : std::span<const std::uint8_t>();
                ASSERT_EQ(t->push_lost(next, t->input_frames_for_rtp_ticks(960)), status::ok);
            } else {
                ASSERT_EQ(t->push(in[i]), status::ok);
            }
            for (auto o = t->pull(buf); o.produced(); o = t->pull(buf)) {
                out.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(o.bytes));
            }
        }
        EXPECT_EQ(out.size(), in.size());
        const auto& s = t->stats();
        EXPECT_EQ(s.packets_lost, lost);
        if (use_fec) {
            EXPECT_GT(s.frames_recovered, 0u);
            std::printf("FEC: %llu frames recovered, %llu concealed\n",
                        static_cast<unsigned long long>(s.frames_recovered),
                        static_cast<unsigned long long>(s.frames_concealed));
        } else {
            EXPECT_EQ(s.frames_recovered, 0u);
        }
        const auto d = decode(fmt("0 PCMU/8000", 20), out);
        rho[use_fec ? 1 : 0] = xcorr(ref, channel(d, 0), 480).rho;
    }
    std::printf("1/7 loss: rho %.4f with PLC only, %.4f with in-band FEC\n", rho[0], rho[1]);
    EXPECT_GT(rho[1], rho[0]);
}

TEST(Transcoder, GarbageCountsAnErrorAndTheStreamGoesOn) {
    const auto in = encode(fmt("111 opus/48000/2", 20), {}, 100);
    auto t = make(fmt("111 opus/48000/2", 20), fmt("0 PCMU/8000", 20));
    ASSERT_TRUE(t);
    bytes buf(t->recommended_payload_bytes());
    ASSERT_EQ(t->push(in[0]), status::ok);
    ASSERT_EQ(t->pull(buf).bytes, 160u);
    EXPECT_EQ(t->push(bytes{}), status::malformed);
    EXPECT_EQ(t->push(bytes{0x03, 0x00}), status::malformed);  // code 3 with 0 frames
    EXPECT_EQ(t->push(bytes{0x03, 0x41, 0xFF}), status::truncated);  // padding past the end
    EXPECT_EQ(t->stats().decode_errors, 3u);
    EXPECT_FALSE(t->pull(buf).produced());  // the errors added no audio
    ASSERT_EQ(t->push(in[1]), status::ok);
    EXPECT_EQ(t->pull(buf).bytes, 160u);
    EXPECT_EQ(t->stats().packets_in, 2u);
    EXPECT_EQ(t->stats().packets_out, 2u);

    auto g = make(fmt("0 PCMU/8000", 20), fmt("8 PCMA/8000", 20));
    EXPECT_EQ(g->push(bytes(961, 0x55)), status::buffer_too_small);  // longer than 120 ms
    EXPECT_EQ(g->push(bytes{}), status::malformed);
    EXPECT_EQ(g->stats().decode_errors, 2u);
    EXPECT_EQ(g->push(bytes(960, 0x55)), status::ok);
    EXPECT_EQ(g->fifo_frames(), 960u);
}

TEST(Transcoder, FifoOverflowDropsTheOldest) {
    auto t = make(fmt("0 PCMU/8000", 20), fmt("0 PCMU/8000", 60));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->fifo_capacity_frames(), 960u + 2 * 480);  // 120 ms of input + two output packets
    for (int i = 0; i < 30; ++i) {
        bytes p(160, static_cast<std::uint8_t>(i));
        ASSERT_EQ(t->push(p), status::ok);
    }
    EXPECT_EQ(t->fifo_frames(), t->fifo_capacity_frames());
    EXPECT_EQ(t->stats().fifo_overflow_frames, 30u * 160 - 1920);
    bytes buf(t->recommended_payload_bytes());
    int n = 0;
    bytes first;
    for (auto o = t->pull(buf); o.produced(); o = t->pull(buf)) {
        if (n++ == 0) first.assign(buf.begin(), buf.begin() + 480);
    }
    ASSERT_EQ(n, 4);  // (fatal: with no packet out, first.front() below would be undefined)
    // The newest 240 ms survive: packets 18..29. µ-law decode -> encode is
    // exact, so the first byte out is packet 18's.
    EXPECT_EQ(first.front(), 18);
}

TEST(Transcoder, PullIntoATooSmallBufferKeepsTheAudio) {
    auto t = make(fmt("0 PCMU/8000", 20), fmt("8 PCMA/8000", 20));
    ASSERT_TRUE(t);
    ASSERT_EQ(t->push(bytes(160, 0x12)), status::ok);
    bytes small(100);
    const auto o = t->pull(small);
    EXPECT_EQ(o.result, status::buffer_too_small);
    EXPECT_FALSE(o.produced());
    EXPECT_EQ(t->stats().encode_errors, 1u);
    EXPECT_EQ(t->fifo_frames(), 160u);
    bytes buf(160);
    EXPECT_EQ(t->pull(buf).bytes, 160u);
    EXPECT_EQ(t->fifo_frames(), 0u);
}

TEST(Transcoder, ResetEmptiesTheFifoAndKeepsCounters) {
    auto t = make(fmt("9 G722/8000", 20), fmt("8 PCMA/8000", 60));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->output_rtp_ticks_per_packet(), 480u);
    ASSERT_EQ(t->push(bytes(160, 0x33)), status::ok);
    EXPECT_EQ(t->fifo_frames(), 160u);
    t->reset();
    EXPECT_EQ(t->fifo_frames(), 0u);
    EXPECT_EQ(t->stats().packets_in, 1u);
}

tutti::status three_channel_encoder(void*, const sdp_format&, const codec_options&,
                                    std::unique_ptr<tutti::encoder>& out, std::string*) {
    out = tutti::make_l16_encoder(tutti::audio_format{8000, 3, 20000});
    return status::ok;
}
tutti::status three_channel_decoder(void*, const sdp_format&, const codec_options&,
                                    std::unique_ptr<tutti::decoder>& out, std::string*) {
    out = tutti::make_l16_decoder(tutti::audio_format{8000, 3, 20000});
    return status::ok;
}

TEST(Transcoder, CreateErrors) {
    std::unique_ptr<transcoder> t;
    std::string error;
    EXPECT_EQ(transcoder::create(fmt("101 telephone-event/8000"), fmt("0 PCMU/8000"), registry(), {}, t, &error),
              status::not_found);
    EXPECT_EQ(error.rfind("input format: ", 0), 0u) << error;
    EXPECT_EQ(transcoder::create(fmt("0 PCMU/8000"), fmt("0 PCMU/16000"), registry(), {}, t, &error),
              status::invalid_argument);
    EXPECT_EQ(error.rfind("output format: ", 0), 0u) << error;
    EXPECT_EQ(transcoder::create(fmt("0 PCMU/8000"), fmt("13 CN/8000"), registry(), {}, t, &error), status::not_found);
    EXPECT_EQ(t, nullptr);
    // 2 -> 3 channels has no obvious mapping.
    codec_registry r = codec_registry::with_builtin_codecs();
    ASSERT_EQ(r.add("X-L16-3", {&three_channel_encoder, &three_channel_decoder, nullptr}), status::ok);
    EXPECT_EQ(transcoder::create(fmt("96 L16/8000/2"), fmt("97 X-L16-3/8000"), r, {}, t, &error), status::unsupported);
    EXPECT_NE(error.find("2 channels to 3"), std::string::npos) << error;
    // Mono on one side is fine.
    EXPECT_EQ(transcoder::create(fmt("96 L16/8000"), fmt("97 X-L16-3/8000"), r, {}, t), status::ok);
}

// ---------------------------------------------------------------------------
// Real-time rule

TEST(Transcoder, PushPullAndLossNeverAllocate) {
    struct alloc_case {
        sdp_format in, out;
        std::vector<bytes> payloads;
    };
    codec_options fec;
    fec.expected_loss_percent = 20;
    std::vector<alloc_case> cases;
    constexpr std::size_t ms = 4100;  // 205 packets of 20 ms
    cases.push_back({fmt("9 G722/8000", 20), fmt("96 L16/48000/2", 20), encode(fmt("9 G722/8000", 20), {}, ms)});
    cases.push_back({fmt("9 G722/8000", 20), fmt("8 PCMA/8000", 30), encode(fmt("9 G722/8000", 20), {}, ms)});
    cases.push_back({fmt("111 opus/48000/2", 20, "useinbandfec=1"), fmt("8 PCMA/8000", 30),
                     encode(fmt("111 opus/48000/2", 20, "useinbandfec=1"), fec, ms)});
    cases.push_back({fmt("111 opus/48000/2", 20, "sprop-stereo=1"), fmt("96 L16/44100", 10),
                     encode(fmt("111 opus/48000/2", 20, "stereo=1"), {}, ms)});
    cases.push_back({fmt("0 PCMU/8000", 20), fmt("111 opus/48000/2", 60, "usedtx=1;useinbandfec=1"),
                     encode(fmt("0 PCMU/8000", 20), {}, ms)});
    for (auto& c : cases) {
        tutti_test::alloc_counter creating;
        auto t = make(c.in, c.out, fec);
        ASSERT_TRUE(t);
        EXPECT_GT(creating.count(), 0u);  // the counter sees create()'s allocations
        bytes buf(t->recommended_payload_bytes());
        const bytes garbage{0x03, 0x00};
        const std::size_t lost_frames = t->input_frames_for_rtp_ticks(c.in.is("opus") ? 960 : 160);
        std::size_t produced = 0;
        tutti_test::alloc_counter counter;
        for (std::size_t i = 0; i + 1 < c.payloads.size() && i < 200; ++i) {
            if (i % 9 == 4) {
                (void)t->push_lost(c.payloads[i + 1], lost_frames);
            } else if (i % 9 == 7) {
                (void)t->push_lost({}, lost_frames);
            } else {
                (void)t->push(c.payloads[i]);
            }
            if (i % 50 == 10) (void)t->push(garbage);
            if (i == 100) t->reset();
            for (auto o = t->pull(buf); o.produced(); o = t->pull(buf)) ++produced;
        }
        EXPECT_EQ(counter.count(), 0u) << c.in.encoding_name << " -> " << c.out.encoding_name;
        EXPECT_GT(produced, 50u);
    }
}

}  // namespace
