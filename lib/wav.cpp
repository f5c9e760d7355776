// lib/wav.cpp: the WAV reader and writer declared in tutti/wav.hpp.
//
// The reader works on byte offsets into the caller's span. Offsets and sizes are
// 64-bit, and every size read from the file is compared with the bytes that
// remain before anything is read or allocated, so a hostile header can neither
// make us read out of bounds nor allocate more than twice the input. Fields are
// assembled from single bytes (little-endian), never by casting the input to a
// struct: the input has no alignment guarantee and the host may be big-endian.
// The int16 <-> float conversions are the project's SIMD kernels.
#include "tutti/wav.hpp"

#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <new>
#include <string_view>
#include <system_error>
#include <utility>

#include "tutti/kernels.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

constexpr std::uint16_t tag_pcm = 0x0001;
constexpr std::uint16_t tag_ieee_float = 0x0003;
constexpr std::uint16_t tag_extensible = 0xFFFE;

// Data sizes left by writers that could not seek back to patch the header.
constexpr std::uint32_t size_placeholder_ffmpeg = 0xFFFFFFFFu;
constexpr std::uint32_t size_placeholder_sox = 0x7FFFF000u;

// Every KSDATAFORMAT_SUBTYPE_* GUID of a WAVE format tag is
// {0000tttt-0000-0010-8000-00AA00389B71}; on disk the tag is the first two bytes
// (little-endian) and these are the other fourteen.
constexpr std::array<std::uint8_t, 14> ksdataformat_guid_tail = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                                 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};

constexpr std::uint64_t pcm16_header_bytes = 44;
constexpr std::uint64_t float32_header_bytes = 58;
// A RIFF file is at most 8 bytes of RIFF header plus a 32-bit size.
constexpr std::uint64_t max_riff_file_bytes = 0xFFFFFFFFull + 8;

std::uint16_t le16(const std::byte* p) noexcept {
    return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) | std::to_integer<unsigned>(p[1]) << 8);
}

std::uint32_t le32(const std::byte* p) noexcept {
    return std::to_integer<std::uint32_t>(p[0]) | std::to_integer<std::uint32_t>(p[1]) << 8 |
           std::to_integer<std::uint32_t>(p[2]) << 16 | std::to_integer<std::uint32_t>(p[3]) << 24;
}

void put16(std::byte*& p, std::uint16_t v) noexcept {
    *p++ = static_cast<std::byte>(v & 0xFFu);
    *p++ = static_cast<std::byte>(v >> 8);
}

void put32(std::byte*& p, std::uint32_t v) noexcept {
    for (int shift = 0; shift < 32; shift += 8) *p++ = static_cast<std::byte>((v >> shift) & 0xFFu);
}

void put_id(std::byte*& p, const char (&id)[5]) noexcept {
    for (int i = 0; i < 4; ++i) *p++ = static_cast<std::byte>(id[i]);
}

// Compares the first `count` (<= 4) bytes at p with a four-character code.
bool id_prefix_is(const std::byte* p, std::size_t count, const char (&id)[5]) noexcept {
    for (std::size_t i = 0; i < count && i < 4; ++i)
        if (std::to_integer<char>(p[i]) != id[i]) return false;
    return true;
}

bool id_is(const std::byte* p, const char (&id)[5]) noexcept { return id_prefix_is(p, 4, id); }

// A chunk id for messages: printable ASCII as is, anything else as \xNN.
std::string quoted_id(const std::byte* p) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string s = "'";
    for (int i = 0; i < 4; ++i) {
        const auto c = std::to_integer<unsigned>(p[i]);
        if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
            s += static_cast<char>(c);
        } else {
            s += "\\x";
            s += hex[c >> 4];
            s += hex[c & 0xFu];
        }
    }
    return s + "'";
}

std::string hex16(std::uint16_t v) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string s = "0x";
    for (int shift = 12; shift >= 0; shift -= 4) s += hex[(v >> shift) & 0xFu];
    return s;
}

std::string num(std::uint64_t v) { return std::to_string(v); }

status fail(std::string* error, status s, std::string message) {
    if (error != nullptr) *error = std::move(message);
    return s;
}

// Names for the format tags people are most likely to feed us, so that the
// message says what the file is rather than just a number.
std::string_view format_tag_name(std::uint16_t tag) noexcept {
    switch (tag) {
        case 0x0000: return "unknown";
        case 0x0002: return "Microsoft ADPCM";
        case 0x0006: return "G.711 A-law";
        case 0x0007: return "G.711 mu-law";
        case 0x0011: return "IMA ADPCM";
        case 0x0031: return "GSM 6.10";
        case 0x0040: return "G.721 ADPCM";
        case 0x0055: return "MPEG layer 3";
        case 0x0064: return "G.726 ADPCM";
        default: return "";
    }
}

std::string describe_tag(std::uint16_t tag) {
    std::string s = "format tag " + hex16(tag);
    if (const auto name = format_tag_name(tag); !name.empty()) {
        s += " (";
        s += name;
        s += ")";
    }
    return s;
}

struct fmt_info {
    std::uint16_t channels = 0;
    std::uint32_t sample_rate_hz = 0;
    std::uint16_t block_align = 0;
    wav_encoding encoding = wav_encoding::pcm16;
};

// Validates a `fmt ` chunk body of `size` bytes (all present in memory).
status parse_fmt(const std::byte* p, std::uint32_t size, std::uint64_t offset, fmt_info& f, std::string* error) {
    const std::string where = "the fmt chunk at offset " + num(offset);
    if (size < 16)
        return fail(error, status::malformed, where + " is " + num(size) + " bytes long; at least 16 are needed");

    std::uint16_t tag = le16(p);
    const std::uint16_t channels = le16(p + 2);
    const std::uint32_t rate = le32(p + 4);
    const std::uint16_t block_align = le16(p + 12);
    const std::uint16_t bits = le16(p + 14);

    if (tag == tag_extensible) {
        if (size < 18)
            return fail(error, status::malformed,
                        where + " is WAVE_FORMAT_EXTENSIBLE but only " + num(size) + " bytes long; 40 are needed");
        const std::uint16_t extra = le16(p + 16);
        if (extra < 22 || size < 40)
            return fail(error, status::malformed,
                        where + " is WAVE_FORMAT_EXTENSIBLE but its extension is " + num(extra) + " bytes and the chunk " +
                            num(size) + " bytes; at least 22 and 40 are needed");
        const std::uint16_t valid_bits = le16(p + 18);
        const std::uint16_t sub_tag = le16(p + 24);
        for (std::size_t i = 0; i < ksdataformat_guid_tail.size(); ++i)
            if (std::to_integer<std::uint8_t>(p[26 + i]) != ksdataformat_guid_tail[i])
                return fail(error, status::unsupported,
                            where + " is WAVE_FORMAT_EXTENSIBLE with a sub-format GUID that is not a WAVE format tag; "
                                    "only PCM and IEEE float are supported");
        if (sub_tag != tag_pcm && sub_tag != tag_ieee_float)
            return fail(error, status::unsupported,
                        where + " is WAVE_FORMAT_EXTENSIBLE with sub-format " + describe_tag(sub_tag) +
                            "; only PCM (1) and IEEE float (3) are supported");
        // 0 is common from careless writers and means "all of them".
        if (valid_bits > bits)
            return fail(error, status::malformed,
                        where + " says " + num(valid_bits) + " valid bits in a " + num(bits) + "-bit container");
        tag = sub_tag;
    } else if (tag != tag_pcm && tag != tag_ieee_float) {
        return fail(error, status::unsupported,
                    where + " has " + describe_tag(tag) +
                        "; only PCM (1), IEEE float (3) and WAVE_FORMAT_EXTENSIBLE (0xFFFE) are supported");
    }

    if (channels == 0) return fail(error, status::malformed, where + " says the file has 0 channels");
    if (channels > wav_max_channels)
        return fail(error, status::unsupported,
                    where + " says " + num(channels) + " channels; at most " + num(wav_max_channels) +
                        " are supported");
    if (rate == 0) return fail(error, status::malformed, where + " says the sample rate is 0 Hz");
    if (rate > wav_max_sample_rate_hz)
        return fail(error, status::unsupported,
                    where + " says the sample rate is " + num(rate) + " Hz; at most " + num(wav_max_sample_rate_hz) +
                        " Hz is supported");

    const bool is_float = tag == tag_ieee_float;
    const std::uint16_t wanted_bits = is_float ? 32 : 16;
    if (bits == 0) return fail(error, status::malformed, where + " says 0 bits per sample");
    if (bits != wanted_bits)
        return fail(error, status::unsupported,
                    where + " describes " + num(bits) + "-bit " + (is_float ? "float" : "PCM") + " samples; only " +
                        num(wanted_bits) + "-bit " + (is_float ? "float" : "PCM") + " is supported");
    const std::uint32_t frame_bytes = std::uint32_t{channels} * (bits / 8u);
    if (block_align != frame_bytes)
        return fail(error, status::malformed,
                    where + " says block align " + num(block_align) + " but " + num(channels) + " channels of " +
                        num(bits) + " bits need " + num(frame_bytes));

    f.channels = channels;
    f.sample_rate_hz = rate;
    f.block_align = block_align;
    f.encoding = is_float ? wav_encoding::float32 : wav_encoding::pcm16;
    return status::ok;
}

status read_wav_impl(std::span<const std::byte> bytes, wav_file& out, std::string* error) {
    const std::byte* const base = bytes.data();
    const std::uint64_t n = bytes.size();

    if (n == 0) return fail(error, status::truncated, "the input is empty; a WAV file starts with a 12-byte RIFF header");
    const std::size_t magic_bytes = n < 4 ? static_cast<std::size_t>(n) : 4;
    if (!id_prefix_is(base, magic_bytes, "RIFF")) {
        if (magic_bytes == 4 && id_is(base, "RIFX"))
            return fail(error, status::unsupported, "the input is a big-endian RIFX file; only little-endian RIFF is supported");
        if (magic_bytes == 4 && (id_is(base, "RF64") || id_is(base, "BW64")))
            return fail(error, status::unsupported, "the input is an RF64/BW64 file (WAV over 4 GiB); only RIFF is supported");
        return fail(error, status::malformed, "the input is not a WAV file: it does not start with 'RIFF'");
    }
    if (n < 12)
        return fail(error, status::truncated, "the input is " + num(n) + " bytes; a RIFF/WAVE header needs 12");
    if (!id_is(base + 8, "WAVE"))
        return fail(error, status::malformed, "the input is a RIFF file of type " + quoted_id(base + 8) + ", not 'WAVE'");

    const std::uint32_t riff_size = le32(base + 4);
    const std::uint64_t riff_end = std::uint64_t{riff_size} + 8;
    const bool riff_unfinished = riff_size == 0 || riff_size == 0xFFFFFFFFu;

    fmt_info fmt;
    bool have_fmt = false;
    bool have_data = false;
    std::uint64_t data_offset = 0;
    std::uint64_t data_bytes = 0;

    std::uint64_t pos = 12;
    while (!(have_fmt && have_data) && pos < n) {
        if (n - pos < 8)
            return fail(error, status::truncated,
                        "the input ends inside the chunk header at offset " + num(pos) + " (" + num(n - pos) +
                            " of 8 bytes present)");
        const std::byte* const header = base + pos;
        const std::uint32_t size = le32(header + 4);
        const std::uint64_t body = pos + 8;
        const std::uint64_t remaining = n - body;

        if (id_is(header, "data") && !have_data) {
            std::uint64_t length = size;
            if (length > remaining) {
                if (size != size_placeholder_ffmpeg && size != size_placeholder_sox)
                    return fail(error, status::truncated,
                                "the data chunk at offset " + num(pos) + " declares " + num(size) + " bytes but only " +
                                    num(remaining) + " follow");
                length = remaining;  // a streaming writer's "unknown length"
            } else if (size == 0 && remaining > 0 && (riff_unfinished || riff_end <= body)) {
                length = remaining;  // both sizes never patched: a recorder that died
            }
            have_data = true;
            data_offset = body;
            data_bytes = length;
            pos = body + length + (length & 1u);
            continue;
        }

        if (size > remaining)
            return fail(error, status::truncated,
                        "the " + quoted_id(header) + " chunk at offset " + num(pos) + " declares " + num(size) +
                            " bytes but only " + num(remaining) + " follow");
        if (id_is(header, "fmt ") && !have_fmt) {
            if (const status s = parse_fmt(base + body, size, pos, fmt, error); s != status::ok) return s;
            have_fmt = true;
        }
        pos = body + size + (size & 1u);  // RIFF pads odd-sized chunks to an even length
    }

    if (!have_fmt || !have_data) {
        const char* missing = !have_fmt && !have_data ? "no fmt chunk and no data chunk" : !have_fmt ? "no fmt chunk" : "no data chunk";
        if (!riff_unfinished && riff_end > n)
            return fail(error, status::truncated,
                        "the input ends after " + num(n) + " bytes, before the " + num(riff_end) +
                            " its RIFF header declares, with " + missing + " found");
        return fail(error, status::malformed, std::string("the WAV file has ") + missing);
    }

    // block_align >= 2 bytes per sample, so this is at most twice the input in bytes.
    const std::uint64_t frames = data_bytes / fmt.block_align;
    const std::size_t count = static_cast<std::size_t>(frames * fmt.channels);
    std::vector<float> samples(count);
    const std::byte* src = base + data_offset;
    if (fmt.encoding == wav_encoding::pcm16) {
        std::array<std::int16_t, 512> chunk;
        for (std::size_t done = 0; done < count;) {
            const std::size_t todo = count - done < chunk.size() ? count - done : chunk.size();
            for (std::size_t i = 0; i < todo; ++i, src += 2) chunk[i] = std::bit_cast<std::int16_t>(le16(src));
            s16_to_float(chunk.data(), samples.data() + done, todo);
            done += todo;
        }
    } else {
        for (std::size_t i = 0; i < count; ++i, src += 4) samples[i] = std::bit_cast<float>(le32(src));
    }

    out.sample_rate_hz = fmt.sample_rate_hz;
    out.channels = fmt.channels;
    out.encoding = fmt.encoding;
    out.samples = std::move(samples);
    return status::ok;
}

std::uint64_t header_bytes(wav_encoding encoding) noexcept {
    return encoding == wav_encoding::float32 ? float32_header_bytes : pcm16_header_bytes;
}

std::uint32_t bytes_per_sample(wav_encoding encoding) noexcept { return encoding == wav_encoding::float32 ? 4 : 2; }

status check_writable(const wav_file& in, std::string* error) {
    if (in.encoding != wav_encoding::pcm16 && in.encoding != wav_encoding::float32)
        return fail(error, status::invalid_argument, "the encoding is neither pcm16 nor float32");
    if (in.channels == 0 || in.channels > wav_max_channels)
        return fail(error, status::invalid_argument,
                    "cannot write " + num(in.channels) + " channels; 1 to " + num(wav_max_channels) + " are allowed");
    if (in.sample_rate_hz == 0 || in.sample_rate_hz > wav_max_sample_rate_hz)
        return fail(error, status::invalid_argument,
                    "cannot write a sample rate of " + num(in.sample_rate_hz) + " Hz; 1 to " +
                        num(wav_max_sample_rate_hz) + " Hz are allowed");
    if (in.samples.size() % in.channels != 0)
        return fail(error, status::invalid_argument,
                    num(in.samples.size()) + " samples are not a whole number of " + num(in.channels) + "-channel frames");
    const std::uint64_t limit = (0xFFFFFFFFull - (header_bytes(in.encoding) - 8)) / bytes_per_sample(in.encoding);
    if (in.samples.size() > limit)
        return fail(error, status::invalid_argument,
                    num(in.samples.size()) + " samples do not fit in a WAV file (4 GiB at most)");
    return status::ok;
}

// Serialises a wav_file that check_writable accepted.
std::vector<std::byte> build_wav(const wav_file& in) {
    const bool is_float = in.encoding == wav_encoding::float32;
    const std::uint32_t sample_bytes = bytes_per_sample(in.encoding);
    const std::size_t count = in.samples.size();
    const auto data_bytes = static_cast<std::uint32_t>(count * sample_bytes);
    const auto header = static_cast<std::uint32_t>(header_bytes(in.encoding));
    const auto block_align = static_cast<std::uint16_t>(in.channels * sample_bytes);

    std::vector<std::byte> bytes(std::size_t{header} + data_bytes);
    std::byte* p = bytes.data();
    put_id(p, "RIFF");
    put32(p, header - 8 + data_bytes);
    put_id(p, "WAVE");
    put_id(p, "fmt ");
    put32(p, is_float ? 18 : 16);
    put16(p, is_float ? tag_ieee_float : tag_pcm);
    put16(p, in.channels);
    put32(p, in.sample_rate_hz);
    put32(p, in.sample_rate_hz * block_align);
    put16(p, block_align);
    put16(p, static_cast<std::uint16_t>(sample_bytes * 8));
    if (is_float) {
        put16(p, 0);  // cbSize: no extension, but non-PCM formats must carry the field
        put_id(p, "fact");
        put32(p, 4);
        put32(p, static_cast<std::uint32_t>(count / in.channels));  // frames ("samples per channel")
    }
    put_id(p, "data");
    put32(p, data_bytes);

    const float* src = in.samples.data();
    if (is_float) {
        for (std::size_t i = 0; i < count; ++i) put32(p, std::bit_cast<std::uint32_t>(src[i]));
    } else {
        std::array<std::int16_t, 512> chunk;
        for (std::size_t done = 0; done < count;) {
            const std::size_t todo = count - done < chunk.size() ? count - done : chunk.size();
            float_to_s16(src + done, chunk.data(), todo);
            for (std::size_t i = 0; i < todo; ++i) put16(p, std::bit_cast<std::uint16_t>(chunk[i]));
            done += todo;
        }
    }
    return bytes;
}

std::string os_message(int err) { return std::generic_category().message(err); }

struct file_closer {
    void operator()(std::FILE* f) const noexcept { (void)std::fclose(f); }  // read-only: nothing to lose
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

status read_wav_file_impl(const std::filesystem::path& path, wav_file& out, std::string* error) {
    const std::string name = "'" + path.string() + "'";
    errno = 0;
    file_ptr file{std::fopen(path.c_str(), "rb")};
    if (!file) return fail(error, status::io_error, "cannot open " + name + ": " + os_message(errno));

    std::vector<std::byte> bytes;
    std::error_code ec;
    if (const std::uintmax_t size = std::filesystem::file_size(path, ec); !ec) {
        if (size > max_riff_file_bytes)
            return fail(error, status::unsupported,
                        name + " is " + num(size) + " bytes, larger than a RIFF file can be");
        bytes.reserve(static_cast<std::size_t>(size) + std::size_t{64} * 1024);  // + the final short read
    }
    // Read to the end rather than trusting the size: the file may be growing.
    constexpr std::size_t step = std::size_t{64} * 1024;
    for (;;) {
        const std::size_t used = bytes.size();
        if (used > max_riff_file_bytes)
            return fail(error, status::unsupported, name + " is larger than a RIFF file can be");
        bytes.resize(used + step);
        const std::size_t got = std::fread(bytes.data() + used, 1, step, file.get());
        bytes.resize(used + got);
        if (got < step) {
            if (std::ferror(file.get())) {
                const int err = errno;
                return fail(error, status::io_error, "cannot read " + name + ": " + os_message(err));
            }
            break;
        }
    }
    file.reset();

    std::string detail;
    const status s = read_wav_impl(bytes, out, error != nullptr ? &detail : nullptr);
    if (s != status::ok && error != nullptr) *error = name + ": " + detail;
    return s;
}

status write_wav_file_impl(const std::filesystem::path& path, const wav_file& in, std::string* error) {
    if (const status s = check_writable(in, error); s != status::ok) return s;
    const std::vector<std::byte> bytes = build_wav(in);
    const std::string name = "'" + path.string() + "'";

    errno = 0;
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) return fail(error, status::io_error, "cannot create " + name + ": " + os_message(errno));
    const std::size_t written = std::fwrite(bytes.data(), 1, bytes.size(), file);
    int err = written == bytes.size() ? 0 : errno;
    if (std::fclose(file) != 0 && err == 0) err = errno != 0 ? errno : EIO;  // buffered data is flushed here
    if (written != bytes.size() || err != 0) {
        // Do not leave a file whose header promises data it lacks, but only
        // remove what is plainly a file: never a device (/dev/full), FIFO or symlink.
        std::error_code ec;
        if (std::filesystem::symlink_status(path, ec).type() == std::filesystem::file_type::regular)
            std::filesystem::remove(path, ec);
        return fail(error, status::io_error, "cannot write " + name + ": " + os_message(err != 0 ? err : EIO));
    }
    return status::ok;
}

}  // namespace

status read_wav(std::span<const std::byte> bytes, wav_file& out, std::string* error) {
    try {
        return read_wav_impl(bytes, out, error);
    } catch (const std::bad_alloc&) {
        return fail(error, status::out_of_memory, "out of memory while reading a WAV file");
    }
}

status read_wav_file(const std::filesystem::path& path, wav_file& out, std::string* error) {
    try {
        return read_wav_file_impl(path, out, error);
    } catch (const std::bad_alloc&) {
        return fail(error, status::out_of_memory, "out of memory while reading a WAV file");
    }
}

status write_wav_file(const std::filesystem::path& path, const wav_file& in, std::string* error) {
    try {
        return write_wav_file_impl(path, in, error);
    } catch (const std::bad_alloc&) {
        return fail(error, status::out_of_memory, "out of memory while writing a WAV file");
    }
}

std::vector<std::byte> to_wav_bytes(const wav_file& in) {
    if (check_writable(in, nullptr) != status::ok) return {};
    return build_wav(in);
}

TUTTI_END_NAMESPACE
