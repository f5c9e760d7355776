// tutti/wav.hpp: reading and writing WAV files (16-bit PCM and 32-bit float).
//
// WAV is how audio gets into and out of tutti outside a live call: test
// vectors, the demo's input talkers and recorded room mixes, golden files for
// quality tests. It sits beside the real-time flow (RTP in -> jitter buffer ->
// decoder -> resampler -> mixer -> encoder -> RTP out), never inside it: every
// function here allocates and may touch the file system, so none may be called
// from the tick. All are [any-thread] and share no state.
//
// What the reader accepts, and why:
//  - RIFF/WAVE, little-endian only. RIFX (big-endian) and RF64 (> 4 GiB) are
//    reported as `unsupported`.
//  - `fmt ` with format tag 1 (PCM, 16-bit only), 3 (IEEE float, 32-bit only)
//    or 0xFFFE (WAVE_FORMAT_EXTENSIBLE whose sub-format GUID is PCM or IEEE
//    float, same bit depths; the channel mask is ignored, valid bits per sample
//    may be 0 or anything up to the container size). Other tags (ADPCM, G.711,
//    ...) and bit depths (8, 24, 64, ...) are `unsupported`. Channels must be
//    1..wav_max_channels and the sample rate 1..wav_max_sample_rate_hz
//    (0 is `malformed`, above the limit `unsupported`). Block align must equal
//    channels * bits / 8 (`malformed` otherwise); the average byte rate field
//    is ignored because writers often get it wrong and nothing depends on it.
//  - Chunks may come in any order, including `data` before `fmt ` (non-standard,
//    but RIFF does not forbid it and accepting it costs nothing since the whole
//    input is in memory). Unknown chunks (LIST, fact, cue, bext, ...) are
//    skipped, honouring the pad byte after odd-sized chunks. The first `fmt `
//    and the first `data` are used; the walk stops once both are found, so
//    chunks after them are not examined (a damaged trailing LIST chunk does not
//    make a good recording unreadable).
//  - The RIFF size field is not trusted for walking (writers get it wrong, and
//    streaming writers leave a placeholder); it is only used to tell a
//    truncated file (`truncated`) from one that lacks a chunk (`malformed`).
//  - A `data` chunk that declares more bytes than the input holds is
//    `truncated`, EXCEPT for the placeholders that streaming recorders leave
//    when they cannot seek back: 0xFFFFFFFF (ffmpeg), 0x7FFFF000 (sox), and 0
//    when the RIFF size is also unfinished (0, 0xFFFFFFFF, or ending at the data
//    chunk header; a crashed recorder). Those mean "up to the end of the input".
//    A real truncation is reported, not silently played short.
//  - A trailing partial frame (data size not a multiple of block align) is
//    ignored, not rejected: it is what a recorder killed mid-write leaves, and
//    the whole frames before it are good audio.
//  - Any other damage gives `malformed`, `truncated` or `unsupported` with an
//    English sentence in `*error`; the reader never reads outside the input and
//    allocates no more than twice the input size (sizes are checked against the
//    input length before allocating).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tutti/config.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// Most channels read_wav accepts and write_wav_file writes (as audio_format::valid()).
inline constexpr std::uint16_t wav_max_channels = 8;
/// Highest sample rate read_wav accepts and write_wav_file writes, in Hz (as audio_format::valid()).
inline constexpr std::uint32_t wav_max_sample_rate_hz = 384000;

/// How samples are stored in the file.
enum class wav_encoding {
    pcm16,    ///< format tag 1, 16-bit signed little-endian integers
    float32,  ///< format tag 3, 32-bit IEEE float little-endian
};

/// A whole WAV file in memory. Owns its samples; plain value type.
struct wav_file {
    std::uint32_t sample_rate_hz = 0;             ///< samples per second per channel
    std::uint16_t channels = 0;                   ///< 1..wav_max_channels
    wav_encoding encoding = wav_encoding::pcm16;  ///< what was read / what to write
    /// Interleaved samples (L R L R ...), scaled so that int16 32768 == 1.0f.
    /// pcm16 reads give exactly x / 32768; float32 reads are bit-exact copies.
    std::vector<float> samples;

    /// Number of frames (samples per channel): samples.size() / channels, 0 when channels == 0.
    std::size_t frames() const noexcept { return channels == 0 ? 0 : samples.size() / channels; }
};

/// Parses a WAV file held in `bytes` (not retained) into `out`.
/// Returns ok, or malformed / truncated / unsupported / out_of_memory (see the
/// file comment for what each covers). On failure `out` is left unchanged and,
/// when `error` is not null, `*error` receives a one-sentence English
/// explanation; on success `*error` is not touched. [any-thread], allocates.
[[nodiscard]] status read_wav(std::span<const std::byte> bytes, wav_file& out, std::string* error = nullptr);

/// Reads the whole file at `path` and parses it with read_wav. Files larger than
/// a RIFF file can be (4 GiB + 8 bytes) are `unsupported`; OS failures (missing
/// file, permission, directory, read error) are io_error with the OS message.
/// [any-thread], allocates, blocks on the file system.
[[nodiscard]] status read_wav_file(const std::filesystem::path& path, wav_file& out, std::string* error = nullptr);

/// Writes `in` to `path` (created or replaced) as produced by to_wav_bytes.
/// Returns invalid_argument when `in` cannot be written (channels outside
/// 1..wav_max_channels, rate outside 1..wav_max_sample_rate_hz, samples.size()
/// not a multiple of channels, data over 4 GiB, unknown encoding), io_error with
/// the OS message when the file cannot be created or written (a partly written
/// regular file is removed; devices and symlinks are left alone), out_of_memory if the buffer cannot be allocated.
/// [any-thread], allocates, blocks on the file system.
[[nodiscard]] status write_wav_file(const std::filesystem::path& path, const wav_file& in, std::string* error = nullptr);

/// The bytes of `in` as a WAV file: for pcm16 the canonical 44-byte header
/// (format tag 1) then samples rounded to nearest (ties to even) and saturated
/// to int16; for float32 a 58-byte header (format tag 3 with cbSize = 0, and the
/// `fact` chunk the spec requires for non-PCM data) then the floats bit for bit.
/// Returns an empty vector when write_wav_file would return invalid_argument.
/// Throws std::bad_alloc if memory runs out. [any-thread], allocates.
[[nodiscard]] std::vector<std::byte> to_wav_bytes(const wav_file& in);

TUTTI_END_NAMESPACE
