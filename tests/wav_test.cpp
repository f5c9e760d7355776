// tests/wav_test.cpp: tests for tutti/wav.hpp.
//
// Round trips through memory and through files, a real speech recording from
// pocketsphinx-testdata, the edge cases the reader documents as accepted, a
// table of damaged files with the exact status each must give, every
// truncation of valid files, and a deterministic byte-mutation sweep that runs
// under ASan/UBSan to catch out-of-bounds reads the table did not think of.
#include "tutti/wav.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using tutti::status;
using tutti::wav_encoding;
using tutti::wav_file;
using bytes = std::vector<std::byte>;

// ---------------------------------------------------------------------------
// Building WAV files byte by byte, independently of the code under test.

void append(bytes& b, std::string_view s) {
    for (const char c : s) b.push_back(static_cast<std::byte>(c));
}
void append16(bytes& b, std::uint16_t v) {
    b.push_back(static_cast<std::byte>(v & 0xFF));
    b.push_back(static_cast<std::byte>(v >> 8));
}
void append32(bytes& b, std::uint32_t v) {
    for (int shift = 0; shift < 32; shift += 8) b.push_back(static_cast<std::byte>((v >> shift) & 0xFF));
}
void append(bytes& b, const bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

/// A chunk: id, size, body, and the pad byte when the body is odd-sized.
bytes chunk(std::string_view id, const bytes& body) {
    bytes b;
    append(b, id);
    append32(b, static_cast<std::uint32_t>(body.size()));
    append(b, body);
    if (body.size() % 2 != 0) b.push_back(std::byte{0});
    return b;
}
/// A chunk header alone, with any declared size.
bytes chunk_header(std::string_view id, std::uint32_t size) {
    bytes b;
    append(b, id);
    append32(b, size);
    return b;
}

/// "RIFF" <size> "WAVE" then the chunks; the RIFF size is correct unless given.
bytes riff(const std::vector<bytes>& chunks, std::uint32_t riff_size = 0, bool explicit_size = false) {
    bytes b;
    append(b, "RIFF");
    append32(b, 0);
    append(b, "WAVE");
    for (const auto& c : chunks) append(b, c);
    const std::uint32_t size = explicit_size ? riff_size : static_cast<std::uint32_t>(b.size() - 8);
    for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<std::byte>((size >> (8 * i)) & 0xFF);
    return b;
}

struct fmt_fields {
    std::uint16_t tag = 1;
    std::uint16_t channels = 1;
    std::uint32_t rate = 8000;
    std::uint16_t bits = 16;
    int block_align = -1;  // -1: channels * bits / 8
};
bytes fmt_body(const fmt_fields& f) {
    const auto align = static_cast<std::uint16_t>(f.block_align >= 0 ? f.block_align : f.channels * f.bits / 8);
    bytes b;
    append16(b, f.tag);
    append16(b, f.channels);
    append32(b, f.rate);
    append32(b, f.rate * align);
    append16(b, align);
    append16(b, f.bits);
    return b;
}
bytes fmt_chunk(const fmt_fields& f) { return chunk("fmt ", fmt_body(f)); }

/// WAVE_FORMAT_EXTENSIBLE fmt body (40 bytes unless cut).
bytes fmt_extensible_body(std::uint16_t sub_tag, std::uint16_t channels, std::uint16_t bits, std::uint16_t valid_bits,
                          std::uint16_t cb_size = 22, bool good_guid = true) {
    bytes b = fmt_body({0xFFFE, channels, 8000, bits});
    append16(b, cb_size);
    append16(b, valid_bits);
    append32(b, channels == 1 ? 4u : 3u);  // channel mask
    append16(b, sub_tag);
    const std::uint8_t tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    for (const auto t : tail) b.push_back(static_cast<std::byte>(t));
    if (!good_guid) b[b.size() - 1] = std::byte{0x72};
    return b;
}

bytes s16_body(const std::vector<std::int16_t>& v) {
    bytes b;
    for (const auto s : v) append16(b, static_cast<std::uint16_t>(s));
    return b;
}
bytes f32_body(const std::vector<float>& v) {
    bytes b;
    for (const auto s : v) append32(b, std::bit_cast<std::uint32_t>(s));
    return b;
}

/// A valid 8 kHz mono 16-bit file with the given samples.
bytes mono16(const std::vector<std::int16_t>& v) { return riff({fmt_chunk({}), chunk("data", s16_body(v))}); }

// ---------------------------------------------------------------------------
// Helpers

std::vector<float> scaled(const std::vector<std::int16_t>& v) {
    std::vector<float> out;
    for (const auto s : v) out.push_back(static_cast<float>(s) / 32768.0f);
    return out;
}

/// Independent reference for the pcm16 writer: round half to even, saturate, NaN -> -32768.
float quantised(float x) {
    if (std::isnan(x)) return -1.0f;
    const double scaled_x = std::clamp(static_cast<double>(x) * 32768.0, -32768.0, 32767.0);
    // nearbyint in the default rounding mode rounds ties to even; going through
    // int turns -0.0 into 0, as int16 has no negative zero.
    return static_cast<float>(static_cast<int>(std::nearbyint(scaled_x))) / 32768.0f;
}

void expect_bit_identical(const std::vector<float>& got, const std::vector<float>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(std::bit_cast<std::uint32_t>(got[i]), std::bit_cast<std::uint32_t>(want[i]))
            << "sample " << i << ": got " << got[i] << ", want " << want[i];
}

/// A wav_file that a failed read must leave exactly as it was.
wav_file sentinel() {
    wav_file w;
    w.sample_rate_hz = 12345;
    w.channels = 3;
    w.encoding = wav_encoding::float32;
    w.samples = {0.25f, -0.5f, 0.75f};
    return w;
}
void expect_sentinel(const wav_file& w) {
    EXPECT_EQ(w.sample_rate_hz, 12345u);
    EXPECT_EQ(w.channels, 3u);
    EXPECT_EQ(w.encoding, wav_encoding::float32);
    EXPECT_EQ(w.samples, (std::vector<float>{0.25f, -0.5f, 0.75f}));
}

bytes read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes b(chars.size());
    if (!chars.empty()) std::memcpy(b.data(), chars.data(), chars.size());
    return b;
}

/// A per-process, per-test scratch directory, removed at the end of the test.
class scratch_dir {
public:
    scratch_dir() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string name = "tutti_wav_test_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" +
                           info->name();
        std::replace(name.begin(), name.end(), '/', '_');  // parameterised tests have "Prefix/Suite" names
        path_ = std::filesystem::temp_directory_path() / name;
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// ---------------------------------------------------------------------------
// Round trips

std::vector<float> awkward_floats(std::size_t count, unsigned seed) {
    std::vector<float> v = {0.0f,       -0.0f,        1.0f,          -1.0f,          32767.0f / 32768.0f,
                            1.5f,       -1.5f,        1e9f,          -1e9f,          0.5f / 32768.0f,
                            1.5f / 32768.0f, 2.5f / 32768.0f, -0.5f / 32768.0f, -1.5f / 32768.0f, 32767.5f / 32768.0f,
                            -32768.5f / 32768.0f, 1e-40f /* denormal */};
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.2f, 1.2f);
    while (v.size() < count) v.push_back(dist(rng));
    v.resize(count);
    return v;
}

class WavRoundTrip : public ::testing::TestWithParam<std::tuple<wav_encoding, std::uint16_t>> {};

TEST_P(WavRoundTrip, ThroughMemoryAndFile) {
    const auto [encoding, channels] = GetParam();
    wav_file in;
    in.sample_rate_hz = 48000;
    in.channels = channels;
    in.encoding = encoding;
    in.samples = awkward_floats(std::size_t{channels} * 1001, 7u + channels);
    // Non-finite values: float32 copies them bit for bit, pcm16 saturates them (NaN -> -1).
    in.samples[20] = std::numeric_limits<float>::infinity();
    in.samples[21] = -std::numeric_limits<float>::infinity();
    in.samples[22] = std::bit_cast<float>(0x7FC01234u);  // quiet NaN with a payload

    std::vector<float> want = in.samples;
    if (encoding == wav_encoding::pcm16) std::transform(want.begin(), want.end(), want.begin(), quantised);

    const bytes mem = tutti::to_wav_bytes(in);
    const std::size_t header = encoding == wav_encoding::pcm16 ? 44 : 58;
    ASSERT_EQ(mem.size(), header + in.samples.size() * (encoding == wav_encoding::pcm16 ? 2 : 4));

    wav_file from_mem = sentinel();
    std::string error;
    ASSERT_EQ(tutti::read_wav(mem, from_mem, &error), status::ok) << error;
    EXPECT_EQ(from_mem.sample_rate_hz, 48000u);
    EXPECT_EQ(from_mem.channels, channels);
    EXPECT_EQ(from_mem.encoding, encoding);
    EXPECT_EQ(from_mem.frames(), in.samples.size() / channels);
    expect_bit_identical(from_mem.samples, want);

    // Writing what was read reproduces the same bytes (pcm16 is idempotent after quantisation).
    EXPECT_EQ(tutti::to_wav_bytes(from_mem), mem);

    scratch_dir dir;
    const auto path = dir.path() / "round_trip.wav";
    ASSERT_EQ(tutti::write_wav_file(path, in, &error), status::ok) << error;
    EXPECT_EQ(read_all(path), mem) << "write_wav_file must write exactly to_wav_bytes";
    wav_file from_file;
    ASSERT_EQ(tutti::read_wav_file(path, from_file, &error), status::ok) << error;
    EXPECT_EQ(from_file.channels, channels);
    expect_bit_identical(from_file.samples, want);
}

INSTANTIATE_TEST_SUITE_P(EncodingsAndChannels, WavRoundTrip,
                         ::testing::Combine(::testing::Values(wav_encoding::pcm16, wav_encoding::float32),
                                            ::testing::Values(std::uint16_t{1}, std::uint16_t{2}, std::uint16_t{8})),
                         [](const auto& param_info) {
                             return std::string(std::get<0>(param_info.param) == wav_encoding::pcm16 ? "pcm16" : "float32") +
                                    "_" + std::to_string(std::get<1>(param_info.param)) + "ch";
                         });

TEST(WavWrite, Pcm16HeaderIsCanonical) {
    wav_file in;
    in.sample_rate_hz = 8000;
    in.channels = 2;
    in.samples = {0.5f, -0.5f, 1.0f, -1.0f};
    bytes want;
    append(want, "RIFF");
    append32(want, 36 + 8);
    append(want, "WAVEfmt ");
    append32(want, 16);
    append16(want, 1);      // PCM
    append16(want, 2);      // channels
    append32(want, 8000);   // rate
    append32(want, 32000);  // byte rate
    append16(want, 4);      // block align
    append16(want, 16);     // bits
    append(want, "data");
    append32(want, 8);
    append(want, s16_body({16384, -16384, 32767, -32768}));
    EXPECT_EQ(tutti::to_wav_bytes(in), want);
}

TEST(WavWrite, Float32HeaderHasCbSizeAndFact) {
    wav_file in;
    in.sample_rate_hz = 16000;
    in.channels = 2;
    in.encoding = wav_encoding::float32;
    in.samples = {0.25f, -2.0f, 0.0f, 1.0f, -0.0f, 0.5f};
    bytes want;
    append(want, "RIFF");
    append32(want, 50 + 24);
    append(want, "WAVEfmt ");
    append32(want, 18);
    append16(want, 3);       // IEEE float
    append16(want, 2);       // channels
    append32(want, 16000);   // rate
    append32(want, 128000);  // byte rate
    append16(want, 8);       // block align
    append16(want, 32);      // bits
    append16(want, 0);       // cbSize
    append(want, "fact");
    append32(want, 4);
    append32(want, 3);  // frames (samples per channel), not samples
    append(want, "data");
    append32(want, 24);
    append(want, f32_body(in.samples));
    EXPECT_EQ(tutti::to_wav_bytes(in), want);
}

TEST(WavWrite, EmptyFileRoundTrips) {
    for (const auto encoding : {wav_encoding::pcm16, wav_encoding::float32}) {
        wav_file in;
        in.sample_rate_hz = 8000;
        in.channels = 1;
        in.encoding = encoding;
        wav_file out = sentinel();
        ASSERT_EQ(tutti::read_wav(tutti::to_wav_bytes(in), out), status::ok);
        EXPECT_EQ(out.frames(), 0u);
        EXPECT_EQ(out.encoding, encoding);
        EXPECT_EQ(out.channels, 1u);
    }
}

TEST(WavWrite, RejectsWhatCannotBeWritten) {
    wav_file good;
    good.sample_rate_hz = 8000;
    good.channels = 2;
    good.samples = {0.0f, 0.0f};
    ASSERT_FALSE(tutti::to_wav_bytes(good).empty());

    std::vector<wav_file> bad(6, good);
    bad[0].channels = 0;
    bad[1].channels = 9;
    bad[2].sample_rate_hz = 0;
    bad[3].sample_rate_hz = 384001;
    bad[4].samples = {0.0f, 0.0f, 0.0f};  // 1.5 frames
    bad[5].encoding = static_cast<wav_encoding>(7);

    scratch_dir dir;
    for (std::size_t i = 0; i < bad.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_TRUE(tutti::to_wav_bytes(bad[i]).empty());
        const auto path = dir.path() / "bad.wav";
        std::string error;
        EXPECT_EQ(tutti::write_wav_file(path, bad[i], &error), status::invalid_argument);
        EXPECT_FALSE(error.empty());
        EXPECT_FALSE(std::filesystem::exists(path));
        EXPECT_EQ(tutti::write_wav_file(path, bad[i]), status::invalid_argument);  // null error is fine
    }
}

TEST(WavWrite, ReportsOsErrors) {
    scratch_dir dir;
    wav_file in;
    in.sample_rate_hz = 8000;
    in.channels = 1;
    in.samples = {0.5f};
    std::string error;
    EXPECT_EQ(tutti::write_wav_file(dir.path() / "no_such_dir" / "x.wav", in, &error), status::io_error);
    EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
    error.clear();
    EXPECT_EQ(tutti::write_wav_file(dir.path(), in, &error), status::io_error);  // a directory
    EXPECT_NE(error.find("Is a directory"), std::string::npos) << error;
    if (std::filesystem::exists("/dev/full")) {
        error.clear();
        EXPECT_EQ(tutti::write_wav_file("/dev/full", in, &error), status::io_error);
        EXPECT_NE(error.find("No space left on device"), std::string::npos) << error;
    }
}

TEST(WavFile, FramesIsZeroWithoutChannels) {
    wav_file w;
    w.samples = {1.0f, 2.0f};
    EXPECT_EQ(w.frames(), 0u);
    w.channels = 2;
    EXPECT_EQ(w.frames(), 1u);
}

// ---------------------------------------------------------------------------
// A real recording

TEST(WavRead, RealSpeechFile) {
    const std::filesystem::path path = TUTTI_SPEECH_DIR "/librivox/sense_and_sensibility_01_austen_64kb-0930.wav";
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " missing: run .ci/install-deps (pocketsphinx-testdata)";

    wav_file w = sentinel();
    std::string error;
    ASSERT_EQ(tutti::read_wav_file(path, w, &error), status::ok) << error;
    EXPECT_EQ(w.sample_rate_hz, 16000u);
    EXPECT_EQ(w.channels, 1u);
    EXPECT_EQ(w.encoding, wav_encoding::pcm16);
    ASSERT_EQ(w.frames(), 52640u);  // soxi
    // The first samples, from a hex dump of the file: 0x008C 0x00FE 0x0168 0x00D3.
    EXPECT_EQ(w.samples[0], 140.0f / 32768.0f);
    EXPECT_EQ(w.samples[1], 254.0f / 32768.0f);
    EXPECT_EQ(w.samples[2], 360.0f / 32768.0f);
    EXPECT_EQ(w.samples[3], 211.0f / 32768.0f);

    // Speech, not silence or noise at full scale: sox stat says RMS 0.0679, peak 0.353.
    double sum = 0.0;
    float peak = 0.0f;
    for (const float s : w.samples) {
        sum += static_cast<double>(s) * s;
        peak = std::max(peak, std::abs(s));
    }
    const double rms = std::sqrt(sum / static_cast<double>(w.samples.size()));
    EXPECT_GT(rms, 0.03);
    EXPECT_LT(rms, 0.15);
    EXPECT_GT(peak, 0.2f);
    EXPECT_LT(peak, 0.5f);

    // It has the canonical header, so writing it back must give the same file.
    EXPECT_EQ(tutti::to_wav_bytes(w), read_all(path));
}

TEST(WavRead, FileErrors) {
    scratch_dir dir;
    wav_file w = sentinel();
    std::string error;
    EXPECT_EQ(tutti::read_wav_file(dir.path() / "missing.wav", w, &error), status::io_error);
    EXPECT_NE(error.find("missing.wav"), std::string::npos) << error;
    EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
    error.clear();
    EXPECT_EQ(tutti::read_wav_file(dir.path(), w, &error), status::io_error);
    EXPECT_NE(error.find("Is a directory"), std::string::npos) << error;

    // A parse error names the file.
    const auto junk = dir.path() / "junk.wav";
    std::ofstream(junk) << "this is not a WAV file";
    error.clear();
    EXPECT_EQ(tutti::read_wav_file(junk, w, &error), status::malformed);
    EXPECT_NE(error.find("junk.wav"), std::string::npos) << error;
    EXPECT_NE(error.find("RIFF"), std::string::npos) << error;
    EXPECT_EQ(tutti::read_wav_file(junk, w), status::malformed);  // null error is fine
    expect_sentinel(w);
}

// ---------------------------------------------------------------------------
// Accepted edge cases: each documented in tutti/wav.hpp.

struct accepted_case {
    const char* name;
    bytes file;
    std::uint16_t channels;
    wav_encoding encoding;
    std::vector<float> samples;
};

std::vector<accepted_case> accepted_cases() {
    const std::vector<std::int16_t> v = {1, -2, 32767, -32768};
    const bytes fmt = fmt_chunk({});
    const bytes data = chunk("data", s16_body(v));
    const bytes odd_list = chunk("LIST", bytes(5, std::byte{'x'}));  // 5 bytes + pad
    const fmt_fields stereo{1, 2};
    const fmt_fields float_mono{3, 1, 8000, 32};
    const std::vector<float> f = {0.5f, -0.25f, 3.0f};

    // fmt for PCM written as 18 bytes with cbSize = 0 (common from Windows writers).
    bytes fmt18_body = fmt_body({});
    append16(fmt18_body, 0);

    // ffmpeg piping float32 to a non-seekable output (see `ffmpeg -c:a pcm_f32le -f wav -`).
    bytes ffmpeg_stream = riff({chunk("fmt ", fmt_extensible_body(3, 1, 32, 32)), chunk("LIST", bytes(26, std::byte{'i'})),
                                chunk_header("data", 0xFFFFFFFFu), f32_body(f)},
                               0xFFFFFFFFu, true);
    // sox writing 16-bit mono to a pipe: sizes 0x7FFFF024 / 0x7FFFF000.
    bytes sox_stream = riff({fmt, chunk_header("data", 0x7FFFF000u), s16_body(v)}, 0x7FFFF024u, true);
    // A recorder that died before patching either size: both 0.
    bytes dead_recorder = riff({fmt, chunk_header("data", 0), s16_body(v)}, 0, true);
    // ... or with the RIFF size still covering only the header.
    bytes dead_recorder36 = riff({fmt, chunk_header("data", 0), s16_body(v)}, 36, true);
    // A placeholder size with half a frame at the end: the half frame is dropped.
    bytes stream_partial = riff({chunk("fmt ", fmt_body(stereo)), chunk_header("data", 0xFFFFFFFFu), s16_body(v)},
                                0xFFFFFFFFu, true);
    stream_partial.push_back(std::byte{0x55});
    // A declared data size that is not a multiple of block align: 1.5 stereo frames.
    bytes partial_frame =
        riff({chunk("fmt ", fmt_body(stereo)), chunk("data", s16_body({100, 200, 300})), chunk("LIST", bytes(4))});

    return {
        {"plain mono", mono16(v), 1, wav_encoding::pcm16, scaled(v)},
        {"data before fmt", riff({data, fmt}), 1, wav_encoding::pcm16, scaled(v)},
        {"odd LIST chunk with pad byte before fmt", riff({odd_list, fmt, data}), 1, wav_encoding::pcm16, scaled(v)},
        {"odd chunk between fmt and data", riff({fmt, odd_list, chunk("junk", bytes(1)), data}), 1,
         wav_encoding::pcm16, scaled(v)},
        {"damaged chunk after data is not examined", riff({fmt, data, chunk_header("LIST", 0xFFFFFFF0u)}), 1,
         wav_encoding::pcm16, scaled(v)},
        {"second fmt ignored", riff({fmt, chunk("fmt ", fmt_body({2})), data}), 1, wav_encoding::pcm16, scaled(v)},
        {"RIFF size too small", riff({fmt, data}, 4, true), 1, wav_encoding::pcm16, scaled(v)},
        {"RIFF size too large but chunks complete", riff({fmt, data}, 1000, true), 1, wav_encoding::pcm16, scaled(v)},
        {"PCM fmt of 18 bytes", riff({chunk("fmt ", fmt18_body), data}), 1, wav_encoding::pcm16, scaled(v)},
        {"empty data chunk then more chunks", riff({fmt, chunk("data", {}), chunk("LIST", bytes(4))}), 1,
         wav_encoding::pcm16, {}},
        {"stereo", riff({chunk("fmt ", fmt_body(stereo)), data}), 2, wav_encoding::pcm16, scaled(v)},
        {"partial trailing frame dropped", partial_frame, 2, wav_encoding::pcm16, scaled({100, 200})},
        {"odd data size mono", riff({fmt, chunk("data", bytes{std::byte{1}, std::byte{0}, std::byte{9}})}), 1,
         wav_encoding::pcm16, scaled({1})},
        {"float32 with fact", riff({chunk("fmt ", fmt_body(float_mono)), chunk("fact", bytes(4)), chunk("data", f32_body(f))}),
         1, wav_encoding::float32, f},
        {"float32 without fact", riff({chunk("fmt ", fmt_body(float_mono)), chunk("data", f32_body(f))}), 1,
         wav_encoding::float32, f},
        {"extensible PCM", riff({chunk("fmt ", fmt_extensible_body(1, 2, 16, 16)), data}), 2, wav_encoding::pcm16,
         scaled(v)},
        {"extensible PCM, 12 valid bits", riff({chunk("fmt ", fmt_extensible_body(1, 1, 16, 12)), data}), 1,
         wav_encoding::pcm16, scaled(v)},
        {"extensible PCM, valid bits 0", riff({chunk("fmt ", fmt_extensible_body(1, 1, 16, 0)), data}), 1,
         wav_encoding::pcm16, scaled(v)},
        {"extensible float", riff({chunk("fmt ", fmt_extensible_body(3, 1, 32, 32)), chunk("data", f32_body(f))}), 1,
         wav_encoding::float32, f},
        {"ffmpeg streaming float32", ffmpeg_stream, 1, wav_encoding::float32, f},
        {"sox streaming pcm16", sox_stream, 1, wav_encoding::pcm16, scaled(v)},
        {"dead recorder, sizes 0", dead_recorder, 1, wav_encoding::pcm16, scaled(v)},
        {"dead recorder, RIFF size 36", dead_recorder36, 1, wav_encoding::pcm16, scaled(v)},
        {"streaming size with half a frame", stream_partial, 2, wav_encoding::pcm16, scaled(v)},
    };
}

TEST(WavRead, AcceptedEdgeCases) {
    for (const auto& c : accepted_cases()) {
        SCOPED_TRACE(c.name);
        wav_file w = sentinel();
        std::string error;
        ASSERT_EQ(tutti::read_wav(c.file, w, &error), status::ok) << error;
        EXPECT_TRUE(error.empty());
        EXPECT_EQ(w.sample_rate_hz, 8000u);
        EXPECT_EQ(w.channels, c.channels);
        EXPECT_EQ(w.encoding, c.encoding);
        expect_bit_identical(w.samples, c.samples);
    }
}

// ---------------------------------------------------------------------------
// Damaged files

struct rejected_case {
    const char* name;
    bytes file;
    status expected;
};

std::vector<rejected_case> rejected_cases() {
    const std::vector<std::int16_t> v = {1, -2, 3, -4};
    const bytes fmt = fmt_chunk({});
    const bytes data = chunk("data", s16_body(v));
    const bytes good = mono16(v);
    auto text = [](std::string_view s) {
        bytes b;
        append(b, s);
        return b;
    };
    auto with_fmt = [&](fmt_fields f) { return riff({fmt_chunk(f), data}); };
    auto with_fmt_body = [&](const bytes& body) { return riff({chunk("fmt ", body), data}); };

    bytes wrong_riff = good;
    wrong_riff[3] = std::byte{'X'};  // "RIFX": big-endian
    bytes junk_magic = good;
    std::memcpy(junk_magic.data(), "JUNK", 4);
    bytes rf64 = good;
    std::memcpy(rf64.data(), "RF64", 4);
    bytes wrong_wave = good;
    std::memcpy(wrong_wave.data() + 8, "AVI ", 4);
    bytes fmt_cut = riff({fmt});
    fmt_cut.resize(12 + 8 + 10);  // ends 10 bytes into the 16-byte fmt body
    bytes header_cut = riff({fmt, data});
    header_cut.resize(12 + 24 + 5);  // ends 5 bytes into the data chunk header
    bytes data_cut = good;
    data_cut.pop_back();
    bytes wave_only_riff_long = riff({}, 100, true);

    bytes ext_short = fmt_extensible_body(1, 1, 16, 16);
    ext_short.resize(18);
    bytes ext_ok_size_bad_cb = fmt_extensible_body(1, 1, 16, 16, /*cb_size=*/0);

    return {
        {"empty", {}, status::truncated},
        {"3 bytes of RIFF", text("RIF"), status::truncated},
        {"3 bytes of junk", text("abc"), status::malformed},
        {"11 bytes", text(std::string_view("RIFF\x04\0\0\0WAV", 11)), status::truncated},
        {"wrong RIFF magic", junk_magic, status::malformed},
        {"big-endian RIFX", wrong_riff, status::unsupported},
        {"RF64", rf64, status::unsupported},
        {"wrong WAVE magic", wrong_wave, status::malformed},
        {"RIFF/WAVE header only", riff({}), status::malformed},
        {"RIFF/WAVE header only, RIFF size says more", wave_only_riff_long, status::truncated},
        {"fmt chunk cut by end of input", fmt_cut, status::truncated},
        {"fmt chunk declares 14 bytes", riff({chunk("fmt ", bytes(14)), data}), status::malformed},
        {"no data chunk", riff({fmt, chunk("LIST", bytes(4))}), status::malformed},
        {"no fmt chunk", riff({chunk("LIST", bytes(4)), data}), status::malformed},
        {"data with size 0xFFFFFFFF before fmt: fmt lies inside it", riff({chunk_header("data", 0xFFFFFFFFu), s16_body(v), fmt}),
         status::malformed},
        {"8-bit PCM", with_fmt({1, 1, 8000, 8}), status::unsupported},
        {"24-bit PCM", with_fmt({1, 1, 8000, 24}), status::unsupported},
        {"32-bit PCM", with_fmt({1, 1, 8000, 32}), status::unsupported},
        {"0-bit PCM", with_fmt({1, 1, 8000, 0}), status::malformed},
        {"64-bit float", with_fmt({3, 1, 8000, 64}), status::unsupported},
        {"16-bit float", with_fmt({3, 1, 8000, 16}), status::unsupported},
        {"format tag 2 (ADPCM)", with_fmt({2, 1, 8000, 4, 256}), status::unsupported},
        {"format tag 7 (mu-law)", with_fmt({7, 1, 8000, 8}), status::unsupported},
        {"format tag 0", with_fmt({0, 1, 8000, 16}), status::unsupported},
        {"channels 0", with_fmt({1, 0, 8000, 16, 2}), status::malformed},
        {"channels 9", with_fmt({1, 9, 8000, 16}), status::unsupported},
        {"channels 65535", with_fmt({1, 65535, 8000, 16, 2}), status::unsupported},
        {"sample rate 0", with_fmt({1, 1, 0, 16}), status::malformed},
        {"sample rate 384001", with_fmt({1, 1, 384001, 16}), status::unsupported},
        {"sample rate 0xFFFFFFFF", with_fmt({1, 1, 0xFFFFFFFFu, 16}), status::unsupported},
        {"block align 4 for mono 16-bit", with_fmt({1, 1, 8000, 16, 4}), status::malformed},
        {"block align 0", with_fmt({1, 1, 8000, 16, 0}), status::malformed},
        {"block align 1 for stereo 16-bit", with_fmt({1, 2, 8000, 16, 1}), status::malformed},
        {"extensible fmt of 18 bytes", with_fmt_body(ext_short), status::malformed},
        {"extensible with cbSize 0", with_fmt_body(ext_ok_size_bad_cb), status::malformed},
        {"extensible with foreign GUID", with_fmt_body(fmt_extensible_body(1, 1, 16, 16, 22, false)), status::unsupported},
        {"extensible ADPCM", with_fmt_body(fmt_extensible_body(2, 1, 16, 16)), status::unsupported},
        {"extensible 24-bit PCM", with_fmt_body(fmt_extensible_body(1, 1, 24, 24)), status::unsupported},
        {"extensible 20 valid bits in 16", with_fmt_body(fmt_extensible_body(1, 1, 16, 20)), status::malformed},
        {"LIST chunk size 0xFFFFFFFF", riff({chunk_header("LIST", 0xFFFFFFFFu), fmt, data}), status::truncated},
        {"fmt chunk size 0xFFFFFFFF", riff({chunk_header("fmt ", 0xFFFFFFFFu), fmt_body({}), data}), status::truncated},
        {"data chunk larger than the input", data_cut, status::truncated},
        {"data size 0x7FFFFFFF (not a placeholder)", riff({fmt, chunk_header("data", 0x7FFFFFFFu), s16_body(v)}),
         status::truncated},
        {"end of input inside a chunk header", header_cut, status::truncated},
        {"3 stray bytes before the data", riff({fmt, text("abc")}, 1000, true), status::truncated},
    };
}

TEST(WavRead, RejectsDamagedFiles) {
    const auto cases = rejected_cases();
    ASSERT_GE(cases.size(), 15u);
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        wav_file w = sentinel();
        std::string error;
        EXPECT_EQ(tutti::read_wav(c.file, w, &error), c.expected) << error;
        EXPECT_FALSE(error.empty());
        expect_sentinel(w);
        EXPECT_EQ(tutti::read_wav(c.file, w), c.expected);  // null error is fine
        // Copy into an exactly-sized heap block so ASan sees any read past the end.
        auto exact = std::make_unique<std::byte[]>(c.file.size() + 0);
        std::copy(c.file.begin(), c.file.end(), exact.get());
        EXPECT_EQ(tutti::read_wav(std::span<const std::byte>(exact.get(), c.file.size()), w), c.expected);
    }
}

TEST(WavRead, MessagesSayWhatIsWrong) {
    wav_file w;
    std::string error;
    ASSERT_EQ(tutti::read_wav(riff({fmt_chunk({1, 1, 8000, 24}), chunk("data", bytes(6))}), w, &error),
              status::unsupported);
    EXPECT_NE(error.find("24-bit"), std::string::npos) << error;
    ASSERT_EQ(tutti::read_wav(riff({fmt_chunk({2, 1, 8000, 4, 256}), chunk("data", bytes(6))}), w, &error),
              status::unsupported);
    EXPECT_NE(error.find("ADPCM"), std::string::npos) << error;
    ASSERT_EQ(tutti::read_wav(riff({chunk_header("LI\x01T", 0xFFFFFFFFu)}), w, &error), status::truncated);
    EXPECT_NE(error.find("'LI\\x01T'"), std::string::npos) << error;
    EXPECT_NE(error.find("4294967295"), std::string::npos) << error;
}

/// Every proper prefix of a valid file is `truncated`; the whole file reads.
void expect_every_prefix_truncated(const bytes& file) {
    wav_file w = sentinel();
    std::string error;
    ASSERT_EQ(tutti::read_wav(file, w, &error), status::ok) << error;
    for (std::size_t length = 0; length < file.size(); ++length) {
        SCOPED_TRACE(length);
        auto exact = std::make_unique<std::byte[]>(length + 0);
        std::copy_n(file.begin(), length, exact.get());
        wav_file cut = sentinel();
        error.clear();
        ASSERT_EQ(tutti::read_wav(std::span<const std::byte>(exact.get(), length), cut, &error), status::truncated);
        EXPECT_FALSE(error.empty());
        expect_sentinel(cut);
    }
}

TEST(WavRead, EveryTruncationIsReported) {
    wav_file stereo;
    stereo.sample_rate_hz = 8000;
    stereo.channels = 2;
    stereo.samples = awkward_floats(40, 3);
    {
        SCOPED_TRACE("pcm16 stereo from to_wav_bytes");
        expect_every_prefix_truncated(tutti::to_wav_bytes(stereo));
    }
    stereo.encoding = wav_encoding::float32;
    {
        SCOPED_TRACE("float32 stereo with fact chunk from to_wav_bytes");
        expect_every_prefix_truncated(tutti::to_wav_bytes(stereo));
    }
    {
        SCOPED_TRACE("odd LIST, extensible fmt, fact, data");
        expect_every_prefix_truncated(riff({chunk("LIST", bytes(7, std::byte{'z'})),
                                            chunk("fmt ", fmt_extensible_body(1, 1, 16, 16)), chunk("fact", bytes(4)),
                                            chunk("data", s16_body({5, 6, 7, -8, 9}))}));
    }
}

// Deterministic mutation sweep: flip, overwrite and cut bytes of valid files.
// The point is ASan/UBSan catching a read outside the input or an absurd
// allocation; the checks are the invariants every successful read must keep.
TEST(WavRead, SurvivesMutations) {
    std::vector<bytes> seeds;
    for (const auto& c : accepted_cases()) seeds.push_back(c.file);
    std::mt19937 rng(20261123);
    const std::uint32_t interesting[] = {0, 1, 2, 3, 4, 8, 16, 18, 22, 40, 0xFFFE, 0x7FFFF000u, 0x7FFFFFFFu,
                                         0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu};
    int ok = 0;
    for (int iteration = 0; iteration < 30000; ++iteration) {
        bytes file = seeds[rng() % seeds.size()];
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !file.empty(); ++e) {
            const std::size_t at = rng() % std::min<std::size_t>(file.size(), 80);  // headers live at the front
            switch (rng() % 4) {
                case 0: file[at] ^= static_cast<std::byte>(1u << (rng() % 8)); break;
                case 1: file[at] = static_cast<std::byte>(rng()); break;
                case 2: {
                    const std::uint32_t value = interesting[rng() % std::size(interesting)];
                    for (std::size_t i = 0; i < 4 && at + i < file.size(); ++i)
                        file[at + i] = static_cast<std::byte>((value >> (8 * i)) & 0xFF);
                    break;
                }
                default: file.resize(rng() % (file.size() + 1)); break;
            }
        }
        auto exact = std::make_unique<std::byte[]>(file.size() + 0);
        std::copy(file.begin(), file.end(), exact.get());
        wav_file w;
        std::string error;
        const status s = tutti::read_wav(std::span<const std::byte>(exact.get(), file.size()), w, &error);
        if (s == status::ok) {
            ++ok;
            ASSERT_GE(w.channels, 1u);
            ASSERT_LE(w.channels, tutti::wav_max_channels);
            ASSERT_GE(w.sample_rate_hz, 1u);
            ASSERT_LE(w.sample_rate_hz, tutti::wav_max_sample_rate_hz);
            ASSERT_EQ(w.samples.size() % w.channels, 0u);
            ASSERT_LE(w.samples.size() * 2, file.size());
            // What was read can be written and reads back identically.
            wav_file again;
            ASSERT_EQ(tutti::read_wav(tutti::to_wav_bytes(w), again), status::ok);
            expect_bit_identical(again.samples, w.samples);
        } else {
            ASSERT_TRUE(s == status::malformed || s == status::truncated || s == status::unsupported)
                << tutti::to_string(s);
            ASSERT_FALSE(error.empty());
        }
    }
    // Both outcomes must be exercised, or the sweep tests nothing.
    EXPECT_GT(ok, 1000);
    EXPECT_LT(ok, 29000);
}

}  // namespace
