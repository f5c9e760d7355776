// tests/g722_test.cpp: tests for tutti/codecs/g722.hpp.
//
// API contract (formats, errors, no allocation in the real-time calls),
// round-trip quality on real speech from pocketsphinx-testdata (SNR, segmental
// SNR, the codec delay measured by cross-correlation), deliberately broken
// decoders that must fail the same thresholds, interoperability with ffmpeg's
// independent G.722 (byte-identical encoding, sample-identical decoding in all
// three modes, on speech, on overload signals and on random bytes), packet loss
// concealment and recovery, and garbage input.
#include "tutti/codecs/g722.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "tutti/kernels.hpp"
#include "tutti/wav.hpp"

namespace {

using tutti::g722_decoder_core;
using tutti::g722_encoder_core;
using tutti::g722_mode;
using tutti::interleaved_view;
using tutti::status;

constexpr std::size_t frame = 320;  // 20 ms at 16 kHz
constexpr std::size_t payload_bytes = frame / 2;

// ---------------------------------------------------------------------------
// Helpers

std::vector<std::string> speech_files() {
    std::vector<std::string> out;
    for (const char* dir : {"/librivox", "/cards"}) {
        const std::filesystem::path d = std::string(TUTTI_SPEECH_DIR) + dir;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(d, ec)) {
            if (e.path().extension() == ".wav") out.push_back(e.path().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The speech as int16 (16 kHz mono files; the test fails loudly otherwise).
std::vector<std::int16_t> load_s16(const std::string& path) {
    tutti::wav_file w;
    std::string error;
    EXPECT_EQ(tutti::read_wav_file(path, w, &error), status::ok) << path << ": " << error;
    EXPECT_EQ(w.sample_rate_hz, 16000u) << path;
    EXPECT_EQ(w.channels, 1u) << path;
    std::vector<std::int16_t> s(w.samples.size());
    tutti::float_to_s16(w.samples.data(), s.data(), s.size());
    return s;
}

std::vector<std::uint8_t> encode_all(std::span<const std::int16_t> pcm) {
    g722_encoder_core enc;
    std::vector<std::uint8_t> out(pcm.size() / 2);
    EXPECT_EQ(enc.encode(pcm, out), out.size());
    return out;
}

std::vector<std::int16_t> decode_all(std::span<const std::uint8_t> bytes, g722_mode mode = g722_mode::kbps64) {
    g722_decoder_core dec(mode);
    std::vector<std::int16_t> out(bytes.size() * 2);
    EXPECT_EQ(dec.decode(bytes, out), out.size());
    return out;
}

// Lag (0..max_lag) maximising the cross-correlation of decoded against input.
std::size_t best_lag(std::span<const std::int16_t> in, std::span<const std::int16_t> out, std::size_t max_lag) {
    std::size_t best = 0;
    double best_c = -1e300;
    for (std::size_t lag = 0; lag <= max_lag; ++lag) {
        double c = 0;
        for (std::size_t i = 0; i + lag < out.size() && i < in.size(); ++i) c += double(in[i]) * out[i + lag];
        if (c > best_c) {
            best_c = c;
            best = lag;
        }
    }
    return best;
}

struct quality {
    double snr_db = 0;     // over the whole signal
    double segsnr_db = 0;  // mean over 20 ms segments with speech, each clamped to [-10, 40] dB
};

// Quality of `out` (delayed by `lag`) against `in`.
quality measure(std::span<const std::int16_t> in, std::span<const std::int16_t> out, std::size_t lag) {
    const std::size_t n = std::min(in.size(), out.size() - lag);
    double s_all = 0, e_all = 0, seg_sum = 0;
    int segs = 0;
    for (std::size_t start = 0; start + frame <= n; start += frame) {
        double s = 0, e = 0;
        for (std::size_t i = start; i < start + frame; ++i) {
            const double x = in[i];
            const double d = double(out[i + lag]) - x;
            s += x * x;
            e += d * d;
        }
        s_all += s;
        e_all += e;
        // Segments quieter than -50 dBov carry no speech: leave them out, as usual for segmental SNR.
        if (s / frame < 32768.0 * 32768.0 * 1e-5) continue;
        seg_sum += std::clamp(10 * std::log10(s / std::max(e, 1e-9)), -10.0, 40.0);
        ++segs;
    }
    return {10 * std::log10(s_all / std::max(e_all, 1e-9)), segs ? seg_sum / segs : 0.0};
}

// Decodes the codes of `pcm` through `mangle` and reports the quality.
template <class Mangle>
quality round_trip(std::span<const std::int16_t> pcm, Mangle mangle, g722_mode mode = g722_mode::kbps64) {
    std::vector<std::uint8_t> bytes = encode_all(pcm);
    for (auto& b : bytes) b = mangle(b);
    const auto out = decode_all(bytes, mode);
    return measure(pcm, out, tutti::g722_codec_delay_samples);
}

// Thresholds, a few dB below the worst file of each set as measured with this
// implementation (which is bit-exact with ffmpeg's, see below):
//   librivox (clean read speech): SNR 25.07..33.10 dB, segSNR 33.12..35.64 dB;
//   cards (quieter, noisier recordings): SNR 14.33..25.86 dB, segSNR 21.64..26.38 dB.
// (segSNR: 20 ms segments above -50 dBov, each clamped to [-10, 40] dB.)
struct thresholds {
    double snr_db;
    double segsnr_db;
};
thresholds thresholds_for(const std::string& path) {
    if (path.find("librivox") != std::string::npos) return {22.0, 30.0};
    return {12.0, 19.0};
}

// ---------------------------------------------------------------------------
// ffmpeg helpers: a unique temporary directory, removed at the end.

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() /
               ("tutti_g722_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string operator/(const char* name) const { return (path / name).string(); }
};

bool have_ffmpeg() {
    static const bool ok = std::system("ffmpeg -hide_banner -v error -h encoder=g722 >/dev/null 2>&1") == 0;
    return ok;
}

bool run(const std::string& cmd) {
    const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
    EXPECT_EQ(rc, 0) << cmd;
    return rc == 0;
}

void write_bytes(const std::string& path, std::span<const std::uint8_t> b) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_s16_wav(const std::string& path, std::span<const std::int16_t> pcm) {
    tutti::wav_file w;
    w.sample_rate_hz = 16000;
    w.channels = 1;
    w.samples.resize(pcm.size());
    tutti::s16_to_float(pcm.data(), w.samples.data(), pcm.size());
    ASSERT_EQ(tutti::write_wav_file(path, w), status::ok);
}

std::vector<std::int16_t> read_s16_wav(const std::string& path) {
    tutti::wav_file w;
    std::string error;
    EXPECT_EQ(tutti::read_wav_file(path, w, &error), status::ok) << error;
    EXPECT_EQ(w.sample_rate_hz, 16000u);
    EXPECT_EQ(w.channels, 1u);
    std::vector<std::int16_t> s(w.samples.size());
    tutti::float_to_s16(w.samples.data(), s.data(), s.size());
    return s;
}

// ffmpeg decodes `bytes` (raw G.722, which its demuxer takes as 16 kHz mono)
// in `mode` (its bits_per_codeword option: 8, 7, 6 for modes 1, 2, 3).
std::vector<std::int16_t> ffmpeg_decode(const temp_dir& dir, std::span<const std::uint8_t> bytes, g722_mode mode) {
    write_bytes(dir / "in.g722", bytes);
    const int bits = 9 - static_cast<int>(mode);
    if (!run("ffmpeg -nostdin -hide_banner -v error -y -bits_per_codeword " + std::to_string(bits) + " -f g722 -i " +
             (dir / "in.g722") + " " + (dir / "out.wav"))) {
        return {};
    }
    return read_s16_wav(dir / "out.wav");
}

// Sample-by-sample comparison: number of differing samples and the largest difference.
struct diff_stats {
    std::size_t count = 0;
    int max = 0;
};
diff_stats compare(std::span<const std::int16_t> a, std::span<const std::int16_t> b) {
    diff_stats d;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        const int x = std::abs(a[i] - b[i]);
        if (x != 0) ++d.count;
        d.max = std::max(d.max, x);
    }
    return d;
}

// Full-scale signals that drive every limit of the ADPCM (one second each).
std::vector<std::int16_t> overload_signals() {
    std::mt19937 rng(722);
    std::uniform_int_distribution<int> any(-32768, 32767);
    std::vector<std::int16_t> s;
    auto add = [&](auto f) {
        for (int i = 0; i < 16000; ++i) s.push_back(static_cast<std::int16_t>(std::clamp(f(i), -32768, 32767)));
    };
    add([&](int) { return any(rng); });                                       // white noise
    add([](int i) { return (i / 8) % 2 ? 32767 : -32768; });                  // 1 kHz square
    add([](int i) { return (i / 3) % 2 ? 32767 : -32768; });                  // 2.7 kHz square
    add([](int i) { return int(32767 * std::sin(2 * std::numbers::pi * 7900 * i / 16000.0)); });
    add([](int i) { return int(32767 * std::sin(2 * std::numbers::pi * 3999 * i / 16000.0)); });
    add([](int i) {  // 50 Hz .. 8 kHz sweep
        const double t = i / 16000.0;
        return int(32767 * std::sin(2 * std::numbers::pi * (50 + 3975 * t) * t));
    });
    add([&](int) { return any(rng) < 0 ? -32768 : 32767; });                  // random full-scale binary
    add([](int) { return 32767; });                                           // DC
    add([](int) { return 0; });
    add([](int i) { return i % 5 ? -32768 : 32767; });
    return s;
}

// ---------------------------------------------------------------------------
// API contract

TEST(G722Api, FormatsAndFactories) {
    const auto enc = tutti::make_g722_encoder();
    const auto dec = tutti::make_g722_decoder();
    ASSERT_TRUE(enc && dec);
    EXPECT_EQ(enc->format(), (tutti::audio_format{16000, 1, 20000}));
    EXPECT_EQ(dec->format(), (tutti::audio_format{16000, 1, 20000}));
    EXPECT_EQ(tutti::make_g722_encoder(10000)->format().frame_samples(), 160u);
    EXPECT_NE(tutti::make_g722_encoder(2500), nullptr);     // 40 samples
    EXPECT_NE(tutti::make_g722_encoder(120000), nullptr);   // 1920 samples
    EXPECT_NE(tutti::make_g722_decoder(30000, g722_mode::kbps48), nullptr);
    for (const std::uint32_t bad : {0u, 125u, 2000u, 20062u, 20100u, 120125u, 1000000u}) {
        EXPECT_EQ(tutti::make_g722_encoder(bad), nullptr) << bad;
        EXPECT_EQ(tutti::make_g722_decoder(bad), nullptr) << bad;
    }
    EXPECT_EQ(tutti::make_g722_decoder(20000, static_cast<g722_mode>(0)), nullptr);
    EXPECT_EQ(tutti::make_g722_decoder(20000, static_cast<g722_mode>(4)), nullptr);

    // The RTP quirk: 8000 Hz clock, 16 kHz audio, two samples per byte.
    EXPECT_EQ(tutti::g722_rtp_clock_rate_hz * 2, tutti::g722_sample_rate_hz);
    const std::uint8_t one[1] = {0};
    const std::vector<std::uint8_t> packet(160);
    EXPECT_EQ(dec->frames_in(packet), 320);
    EXPECT_EQ(dec->frames_in(one), 2);
    EXPECT_EQ(dec->frames_in({}), tutti::as_count(status::malformed));
}

TEST(G722Api, EncoderErrors) {
    const auto enc = tutti::make_g722_encoder();
    std::vector<float> pcm(2 * frame);
    std::vector<std::uint8_t> payload(payload_bytes);
    EXPECT_EQ(enc->encode({pcm.data(), frame - 2, 1}, payload), tutti::as_count(status::invalid_argument));
    EXPECT_EQ(enc->encode({pcm.data(), frame, 2}, payload), tutti::as_count(status::invalid_argument));
    EXPECT_EQ(enc->encode({pcm.data(), frame, 1}, std::span(payload).first(payload_bytes - 1)),
              tutti::as_count(status::buffer_too_small));
    EXPECT_EQ(enc->encode({pcm.data(), frame, 1}, payload), static_cast<std::ptrdiff_t>(payload_bytes));
}

TEST(G722Api, DecoderErrorsLeaveStateUntouched) {
    const auto speech = load_s16(speech_files().front());
    const auto bytes = encode_all(std::span(speech).first(10 * frame));
    const auto reference = decode_all(bytes);

    const auto dec = tutti::make_g722_decoder();
    std::vector<float> pcm(2 * frame);
    std::vector<float> out;
    for (std::size_t p = 0; p < 10; ++p) {
        const auto payload = std::span(bytes).subspan(p * payload_bytes, payload_bytes);
        // Every failing call in between must change nothing.
        EXPECT_EQ(dec->decode({}, {pcm.data(), frame, 1}), tutti::as_count(status::malformed));
        EXPECT_EQ(dec->decode(payload, {pcm.data(), frame - 1, 1}), tutti::as_count(status::buffer_too_small));
        EXPECT_EQ(dec->decode(payload, {pcm.data(), frame / 2, 2}), tutti::as_count(status::invalid_argument));
        ASSERT_EQ(dec->decode(payload, {pcm.data(), pcm.size(), 1}), static_cast<std::ptrdiff_t>(frame));
        out.insert(out.end(), pcm.begin(), pcm.begin() + frame);
    }
    std::vector<std::int16_t> s16(out.size());
    tutti::float_to_s16(out.data(), s16.data(), out.size());
    EXPECT_EQ(s16, reference);
}

TEST(G722Api, FloatWrappersMatchCoresAndAnyChunking) {
    const auto speech = load_s16(speech_files().front());
    const auto bytes = encode_all(speech);
    const auto decoded = decode_all(bytes);

    // Through the float interface, 10 ms frames (the wrapper converts 320 samples at a time).
    for (const std::uint32_t frame_us : {2500u, 10000u, 30000u, 120000u}) {
        const auto enc = tutti::make_g722_encoder(frame_us);
        const auto dec = tutti::make_g722_decoder(frame_us);
        const std::size_t n = enc->format().frame_samples();
        std::vector<float> in(n), out(n);
        std::vector<std::uint8_t> payload(n / 2);
        for (std::size_t at = 0; at + n <= speech.size(); at += n) {
            tutti::s16_to_float(speech.data() + at, in.data(), n);
            ASSERT_EQ(enc->encode({in.data(), n, 1}, payload), static_cast<std::ptrdiff_t>(n / 2));
            ASSERT_TRUE(std::equal(payload.begin(), payload.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at / 2)))
                << "frame_us " << frame_us << " at " << at;
            ASSERT_EQ(dec->decode(payload, {out.data(), n, 1}), static_cast<std::ptrdiff_t>(n));
            for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], decoded[at + i] / 32768.0f) << at + i;
        }
    }

    // The cores in odd-sized pieces give the same bytes and samples as in one call.
    g722_encoder_core enc;
    g722_decoder_core dec;
    std::vector<std::uint8_t> b2(bytes.size());
    std::vector<std::int16_t> d2(decoded.size());
    std::size_t at = 0;
    for (std::size_t piece = 1; at < bytes.size(); piece = piece % 37 + 1) {
        const std::size_t k = std::min(piece, bytes.size() - at);
        // One sample more than the pairs when there is one: an odd tail is ignored.
        const std::size_t samples = std::min(2 * k + 1, speech.size() - 2 * at);
        ASSERT_EQ(enc.encode(std::span(speech).subspan(2 * at, samples), std::span(b2).subspan(at, k)), k);
        ASSERT_EQ(dec.decode(std::span(bytes).subspan(at, k), std::span(d2).subspan(2 * at, 2 * k)), 2 * k);
        at += k;
    }
    EXPECT_EQ(b2, bytes);
    EXPECT_EQ(d2, decoded);

    // reset() is as good as new.
    enc.reset();
    dec.reset();
    std::vector<std::uint8_t> b3(bytes.size());
    std::vector<std::int16_t> d3(decoded.size());
    enc.encode(speech, b3);
    dec.decode(bytes, d3);
    EXPECT_EQ(b3, bytes);
    EXPECT_EQ(d3, decoded);
}

TEST(G722Api, RealTimeCallsDoNotAllocate) {
    const auto enc = tutti::make_g722_encoder();
    const auto dec = tutti::make_g722_decoder();
    const auto speech = load_s16(speech_files().front());
    std::vector<float> in(frame), out(frame);
    std::vector<std::uint8_t> payload(payload_bytes);

    {
        const tutti_test::alloc_counter probe;  // the counter works: set-up does allocate
        const auto another = tutti::make_g722_decoder();
        EXPECT_GT(probe.count(), 0u);
    }
    const tutti_test::alloc_counter allocations;
    for (std::size_t p = 0; p < 50; ++p) {
        tutti::s16_to_float(speech.data() + p * frame, in.data(), frame);
        ASSERT_EQ(enc->encode({in.data(), frame, 1}, payload), static_cast<std::ptrdiff_t>(payload_bytes));
        if (p % 7 == 3) {
            ASSERT_EQ(dec->conceal({out.data(), frame, 1}), static_cast<std::ptrdiff_t>(frame));
        } else {
            ASSERT_EQ(dec->decode(payload, {out.data(), frame, 1}), static_cast<std::ptrdiff_t>(frame));
        }
    }
    enc->reset();
    dec->reset();
    EXPECT_EQ(allocations.count(), 0u);
}

// ---------------------------------------------------------------------------
// Quality on real speech

TEST(G722Speech, DelayIsTheQmfDelay) {
    for (const auto& path : speech_files()) {
        auto speech = load_s16(path);
        speech.resize(std::min<std::size_t>(speech.size(), 3 * 16000));  // 3 s are plenty
        const auto out = decode_all(encode_all(speech));
        // Two 24-tap linear-phase QMFs, 11.5 samples each, minus the one sample
        // by which the decoder's first output of a pair precedes the encoder's
        // newest input of that pair.
        EXPECT_EQ(best_lag(speech, out, 64), tutti::g722_codec_delay_samples) << path;
    }
}

TEST(G722Speech, RoundTripQuality) {
    const auto files = speech_files();
    ASSERT_GE(files.size(), 10u) << "pocketsphinx-testdata missing?";
    for (const auto& path : files) {
        const auto speech = load_s16(path);
        const quality q = round_trip(speech, [](std::uint8_t b) { return b; });
        std::printf("  %-48s SNR %5.2f dB  segSNR %5.2f dB\n", std::filesystem::path(path).filename().c_str(),
                    q.snr_db, q.segsnr_db);
        EXPECT_GE(q.snr_db, thresholds_for(path).snr_db) << path;
        EXPECT_GE(q.segsnr_db, thresholds_for(path).segsnr_db) << path;
    }
}

TEST(G722Speech, LowerRateModesDegradeGracefully) {
    // Mode-1 bytes decoded in mode 2 / 3 (the bottom bit(s) ignored) lose a
    // little quality each: the sizes of the steps are a check of the 5- and
    // 4-bit inverse quantisers.
    const auto speech = load_s16(speech_files().front());
    const auto id = [](std::uint8_t b) { return b; };
    const quality m1 = round_trip(speech, id, g722_mode::kbps64);
    const quality m2 = round_trip(speech, id, g722_mode::kbps56);
    const quality m3 = round_trip(speech, id, g722_mode::kbps48);
    std::printf("  segSNR mode 1 %.2f, mode 2 %.2f, mode 3 %.2f dB\n", m1.segsnr_db, m2.segsnr_db, m3.segsnr_db);
    EXPECT_GT(m1.segsnr_db, m2.segsnr_db + 1.0);
    EXPECT_GT(m2.segsnr_db, m3.segsnr_db + 1.0);
    EXPECT_GE(m3.segsnr_db, 10.0);
}

TEST(G722Speech, BrokenPathsFailTheThresholds) {
    // The thresholds above must be able to tell a working codec from a broken
    // one: each of these plausible bugs has to fall below them on every file.
    struct broken {
        const char* what;
        std::uint8_t (*mangle)(std::uint8_t);
    };
    const broken cases[] = {
        {"fields swapped (low band in the top bits)",
         [](std::uint8_t b) { return static_cast<std::uint8_t>((b << 2) | (b >> 6)); }},
        {"upper band code forced to 0", [](std::uint8_t b) { return static_cast<std::uint8_t>(b & 0x3f); }},
        {"upper band sign bit flipped", [](std::uint8_t b) { return static_cast<std::uint8_t>(b ^ 0x80); }},
        {"lower band sign bit flipped", [](std::uint8_t b) { return static_cast<std::uint8_t>(b ^ 0x20); }},
        {"bits reversed",
         [](std::uint8_t b) {
             std::uint8_t r = 0;
             for (int i = 0; i < 8; ++i) r = static_cast<std::uint8_t>(r | (((b >> i) & 1) << (7 - i)));
             return r;
         }},
    };
    std::vector<double> margin(std::size(cases) + 1, -100.0);  // largest segSNR minus threshold, per case
    for (const auto& path : speech_files()) {
        const auto speech = load_s16(path);
        const auto bytes = encode_all(speech);
        const thresholds t = thresholds_for(path);
        for (std::size_t c = 0; c < std::size(cases); ++c) {
            std::vector<std::uint8_t> mangled(bytes);
            for (auto& b : mangled) b = cases[c].mangle(b);
            const quality q = measure(speech, decode_all(mangled), tutti::g722_codec_delay_samples);
            margin[c] = std::max(margin[c], q.segsnr_db - t.segsnr_db);
            EXPECT_LT(q.segsnr_db, t.segsnr_db) << cases[c].what << " passes on " << path;
        }
        // The QMF fed with the two samples of each pair the wrong way round.
        auto swapped = speech;
        for (std::size_t i = 0; i + 1 < swapped.size(); i += 2) std::swap(swapped[i], swapped[i + 1]);
        const quality q = measure(speech, decode_all(encode_all(swapped)), tutti::g722_codec_delay_samples);
        margin.back() = std::max(margin.back(), q.segsnr_db - t.segsnr_db);
        EXPECT_LT(q.segsnr_db, t.segsnr_db) << "swapped QMF input pairs pass on " << path;
    }
    for (std::size_t c = 0; c <= std::size(cases); ++c) {
        std::printf("  %-44s at best %5.2f dB below the segSNR threshold\n",
                    c < std::size(cases) ? cases[c].what : "QMF input pairs swapped", -margin[c]);
    }
}

// ---------------------------------------------------------------------------
// Interoperability with ffmpeg (an independent implementation)

TEST(G722Ffmpeg, DecodesOurBytesIdentically) {
    ASSERT_TRUE(have_ffmpeg()) << "ffmpeg with G.722 not installed" << " (the tests need it: run .ci/install-deps)";
    const temp_dir dir;
    for (const auto& path : speech_files()) {
        const auto speech = load_s16(path);
        const auto bytes = encode_all(speech);
        const auto ours = decode_all(bytes);
        const auto theirs = ffmpeg_decode(dir, bytes, g722_mode::kbps64);
        ASSERT_EQ(theirs.size(), ours.size()) << path;
        const diff_stats d = compare(ours, theirs);
        EXPECT_EQ(d.count, 0u) << path << ": max difference " << d.max;
    }
}

TEST(G722Ffmpeg, EncodesSpeechToIdenticalBytes) {
    ASSERT_TRUE(have_ffmpeg()) << "ffmpeg with G.722 not installed" << " (the tests need it: run .ci/install-deps)";
    const temp_dir dir;
    for (const auto& path : speech_files()) {
        auto speech = load_s16(path);
        speech.resize(speech.size() & ~std::size_t{1});  // whole pairs: ffmpeg would pad an odd tail
        write_s16_wav(dir / "in.wav", speech);
        ASSERT_TRUE(run("ffmpeg -nostdin -hide_banner -v error -y -i " + (dir / "in.wav") +
                        " -acodec g722 -f g722 " + (dir / "ff.g722")));
        const auto theirs = read_bytes(dir / "ff.g722");
        const auto ours = encode_all(speech);
        ASSERT_EQ(theirs.size(), ours.size()) << path;
        std::size_t differing = 0;
        for (std::size_t i = 0; i < ours.size(); ++i) differing += ours[i] != theirs[i];
        EXPECT_EQ(differing, 0u) << path;

        // And ffmpeg's bytes decode to the same samples with both decoders.
        const diff_stats d = compare(decode_all(theirs), ffmpeg_decode(dir, theirs, g722_mode::kbps64));
        EXPECT_EQ(d.count, 0u) << path << ": max difference " << d.max;
    }
}

TEST(G722Ffmpeg, OverloadSignalsAndRandomBytesInAllModes) {
    ASSERT_TRUE(have_ffmpeg()) << "ffmpeg with G.722 not installed" << " (the tests need it: run .ci/install-deps)";
    const temp_dir dir;
    // Encoder: every saturation and limit of the ADPCM gets exercised.
    const auto loud = overload_signals();
    write_s16_wav(dir / "loud.wav", loud);
    ASSERT_TRUE(run("ffmpeg -nostdin -hide_banner -v error -y -i " + (dir / "loud.wav") +
                    " -acodec g722 -f g722 " + (dir / "loud.g722")));
    const auto ours = encode_all(loud);
    EXPECT_EQ(read_bytes(dir / "loud.g722"), ours);

    // Decoder: random bytes (codes no encoder emits, scale factors at their
    // limits) and the overload bytes, in modes 1, 2 and 3.
    std::mt19937 rng(9);
    std::vector<std::uint8_t> noise(200000);
    for (auto& b : noise) b = static_cast<std::uint8_t>(rng());
    for (const auto mode : {g722_mode::kbps64, g722_mode::kbps56, g722_mode::kbps48}) {
        const std::array<const std::vector<std::uint8_t>*, 2> inputs = {&noise, &ours};
        for (const auto* bytes : inputs) {
            const auto mine = decode_all(*bytes, mode);
            const auto theirs = ffmpeg_decode(dir, *bytes, mode);
            ASSERT_EQ(theirs.size(), mine.size());
            const diff_stats d = compare(mine, theirs);
            EXPECT_EQ(d.count, 0u) << "mode " << int(mode) << ": max difference " << d.max;
        }
    }
}

// ---------------------------------------------------------------------------
// Packet loss concealment

// Decodes `bytes` packet by packet, concealing the packets `lost` says.
template <class Lost>
std::vector<float> decode_with_loss(std::span<const std::uint8_t> bytes, Lost lost) {
    const auto dec = tutti::make_g722_decoder();
    const std::size_t packets = bytes.size() / payload_bytes;
    std::vector<float> out(packets * frame);
    for (std::size_t p = 0; p < packets; ++p) {
        const interleaved_view<float> pcm{out.data() + p * frame, frame, 1};
        if (lost(p)) {
            EXPECT_EQ(dec->conceal(pcm), static_cast<std::ptrdiff_t>(frame));
        } else {
            EXPECT_EQ(dec->decode(bytes.subspan(p * payload_bytes, payload_bytes), pcm),
                      static_cast<std::ptrdiff_t>(frame));
        }
    }
    return out;
}

double rms(std::span<const float> x) {
    double s = 0;
    for (const float v : x) s += double(v) * v;
    return std::sqrt(s / static_cast<double>(std::max<std::size_t>(x.size(), 1)));
}

double snr_db(std::span<const float> ref, std::span<const float> x) {
    double s = 0, e = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        s += double(ref[i]) * ref[i];
        e += double(x[i] - ref[i]) * (x[i] - ref[i]);
    }
    return 10 * std::log10(s / std::max(e, 1e-20));
}

TEST(G722Plc, ConcealmentContinuesThenFadesToSilence) {
    const auto speech = load_s16(speech_files().front());
    const auto bytes = encode_all(speech);
    // Lose 5 packets (100 ms) from packet 40 on, in the middle of speech.
    const auto out = decode_with_loss(bytes, [](std::size_t p) { return p >= 40 && p < 45; });
    const auto at = [&](std::size_t p) { return std::span(out).subspan(p * frame, frame); };

    const double before = rms(at(39));
    ASSERT_GT(before, 1e-3);
    // The first 10 ms carry on at about the level of the speech before.
    const double first = rms(at(40).first(160));
    EXPECT_GT(first, 0.3 * before);
    EXPECT_LT(first, 3.0 * before);
    // No click where the concealment starts: the step is no bigger than the signal's own steps.
    float max_step = 0;
    for (std::size_t i = 39 * frame + 1; i < 40 * frame; ++i) {
        max_step = std::max(max_step, std::abs(out[i] - out[i - 1]));
    }
    EXPECT_LE(std::abs(out[40 * frame] - out[40 * frame - 1]), 2 * max_step);
    // Fading: the third packet is quieter than the first, and from 60 ms on it is exact silence.
    EXPECT_LT(rms(at(42)), rms(at(40)));
    for (std::size_t i = 40 * frame + 960; i < 45 * frame; ++i) ASSERT_EQ(out[i], 0.0f) << i;
    // The next good packet is faded in: no jump from the silence.
    EXPECT_LT(std::abs(out[45 * frame]), 0.05f);
    EXPECT_GT(rms(at(46)), 0.0);
}

TEST(G722Plc, DecoderRecoversAfterLosses) {
    // One packet in 25 lost (4 %), over all the librivox speech: once the
    // ADPCM state has converged again, the output is the loss-free output.
    double early_s = 0, early_e = 0;
    double worst_late = 1000;
    const double min_late_db = 20.0;
    for (const auto& path : speech_files()) {
        if (path.find("librivox") == std::string::npos) continue;
        const auto speech = load_s16(path);
        const auto bytes = encode_all(speech);
        const auto clean = decode_with_loss(bytes, [](std::size_t) { return false; });
        const auto lossy = decode_with_loss(bytes, [](std::size_t p) { return p % 25 == 10; });
        for (std::size_t p = 11; p + 14 <= clean.size() / frame; p += 25) {
            // 60 ms after the loss
            const auto c = std::span(clean).subspan(p * frame, 3 * frame);
            const auto l = std::span(lossy).subspan(p * frame, 3 * frame);
            for (std::size_t i = 0; i < c.size(); ++i) {
                early_s += double(c[i]) * c[i];
                early_e += double(l[i] - c[i]) * (l[i] - c[i]);
            }
            // 200..280 ms after the loss the decoders agree again.
            const auto c2 = std::span(clean).subspan((p + 10) * frame, 4 * frame);
            const auto l2 = std::span(lossy).subspan((p + 10) * frame, 4 * frame);
            if (rms(c2) > 1e-3) {
                const double late = snr_db(c2, l2);
                worst_late = std::min(worst_late, late);
                EXPECT_GT(late, min_late_db) << path << " packet " << p;
            }
        }
    }
    const double early = 10 * std::log10(early_s / early_e);
    std::printf("  SNR against the loss-free decode: %.2f dB over the 60 ms after a loss, "
                "at least %.2f dB 200-280 ms after it\n", early, worst_late);
    EXPECT_GT(early, 0.0);
}

TEST(G722Plc, ConcealWithoutHistoryIsSilence) {
    const auto dec = tutti::make_g722_decoder();
    std::vector<float> pcm(frame, 1.0f);
    EXPECT_EQ(dec->conceal({pcm.data(), frame, 1}), static_cast<std::ptrdiff_t>(frame));
    for (const float v : pcm) EXPECT_EQ(v, 0.0f);
    EXPECT_EQ(dec->conceal({pcm.data(), 0, 1}), 0);
    EXPECT_EQ(dec->conceal({pcm.data(), frame / 2, 2}), tutti::as_count(status::invalid_argument));
    // Odd sizes are fine.
    EXPECT_EQ(dec->conceal({pcm.data(), 77, 1}), 77);
}

// ---------------------------------------------------------------------------
// Garbage input

TEST(G722Garbage, AnyBytesDecodeToBoundedAudioAndTheDecoderRecovers) {
    const auto speech = load_s16(speech_files().front());
    const auto bytes = encode_all(speech);
    const auto clean = decode_all(bytes);

    std::mt19937 rng(1);
    g722_decoder_core dec;
    std::vector<std::int16_t> out(4000);
    for (int i = 0; i < 200; ++i) {
        std::vector<std::uint8_t> junk(rng() % 2000 + 1);
        for (auto& b : junk) b = static_cast<std::uint8_t>(i % 3 == 0 ? 0xff : i % 3 == 1 ? 0x00 : rng());
        ASSERT_EQ(dec.decode(junk, out), 2 * junk.size());
    }
    // After the junk, the real stream: the state mismatch decays, no reset needed.
    std::vector<std::int16_t> after(clean.size());
    dec.decode(bytes, after);
    const std::size_t skip = 16000 / 2;  // 0.5 s
    const quality q = measure(std::span(clean).subspan(skip), std::span(after).subspan(skip), 0);
    EXPECT_GT(q.snr_db, 30.0);
}

}  // namespace
