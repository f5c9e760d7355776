// Opus encoder and decoder over libopus (see tutti/codecs/opus.hpp).
//
// Flow position: jitter buffer -> decoder -> resampler -> mixer -> resampler
// -> encoder -> packetizer.
//
// The libopus states live in memory we allocate at creation
// (opus_*_get_size + opus_*_init), so the objects own everything they use and
// a failed allocation is a status, not an abort. Every payload is parsed by
// parse_opus_payload (RFC 6716 §3) before libopus sees it: that gives
// frames_in() without decoding, the truncated/malformed distinction libopus
// does not make, buffer checks before the state is touched, and the LBRR flag
// that libopus 1.3.1 has no API for (opus_packet_has_lbrr arrived in 1.5).
#include "tutti/codecs/opus.hpp"

#include <opus.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

#include "tutti/kernels.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

constexpr std::size_t max_frame_bytes = 1275;  // RFC 6716 §3.2.1, R2

constexpr bool bitrate_valid(int bps) noexcept { return bps == opus_bitrate_auto || (bps >= 6000 && bps <= 510000); }
constexpr bool bandwidth_valid(opus_bandwidth b) noexcept { return static_cast<unsigned>(b) <= 4; }

constexpr int to_opus(opus_bandwidth b) noexcept {
    switch (b) {
        case opus_bandwidth::narrowband: return OPUS_BANDWIDTH_NARROWBAND;
        case opus_bandwidth::mediumband: return OPUS_BANDWIDTH_MEDIUMBAND;
        case opus_bandwidth::wideband: return OPUS_BANDWIDTH_WIDEBAND;
        case opus_bandwidth::superwideband: return OPUS_BANDWIDTH_SUPERWIDEBAND;
        case opus_bandwidth::fullband: break;
    }
    return OPUS_BANDWIDTH_FULLBAND;
}

constexpr status from_opus(int err) noexcept {
    switch (err) {
        case OPUS_BAD_ARG: return status::invalid_argument;
        case OPUS_BUFFER_TOO_SMALL: return status::buffer_too_small;
        case OPUS_INVALID_PACKET: return status::malformed;
        case OPUS_ALLOC_FAIL: return status::out_of_memory;
        default: return status::internal_error;
    }
}

// Samples per channel in `us` microseconds at `rate_hz` (exact for Opus rates
// and multiples of 2.5 ms).
constexpr std::size_t samples_in(std::uint32_t rate_hz, std::uint64_t us) noexcept {
    return static_cast<std::size_t>(rate_hz * us / 1000000u);
}

// Frame length coding of RFC 6716 §3.2.1: one byte 0..251, or two bytes
// (first 252..255) giving first + 4 * second. Reads within [at, end).
status read_frame_length(std::span<const std::uint8_t> p, std::size_t& at, std::size_t end,
                         std::size_t& length) noexcept {
    if (at >= end) return status::truncated;
    if (p[at] < 252) {
        length = p[at];
        at += 1;
        return status::ok;
    }
    if (at + 1 >= end) return status::truncated;
    length = std::size_t{p[at]} + 4u * std::size_t{p[at + 1]};
    at += 2;
    return status::ok;
}

struct deleter {
    void operator()(void* p) const noexcept { ::operator delete(p); }
};

}  // namespace

// ---------------------------------------------------------------------------
// Payload parsing

status parse_opus_payload(std::span<const std::uint8_t> p, opus_payload_info& out) noexcept {
    if (p.empty() || p.size() > static_cast<std::size_t>(INT32_MAX)) return status::malformed;  // R1; libopus takes an int32 length
    opus_payload_info info;
    const std::uint8_t toc = p[0];
    const unsigned config = toc >> 3;
    info.stereo = (toc & 0x04) != 0;
    info.code = static_cast<std::uint8_t>(toc & 0x03);
    // RFC 6716 Table 2.
    if (config < 12) {
        info.mode = opus_mode::silk;
        info.bandwidth = static_cast<opus_bandwidth>(config / 4);  // NB, MB, WB
        constexpr std::uint32_t durations[] = {10000, 20000, 40000, 60000};
        info.frame_us = durations[config % 4];
    } else if (config < 16) {
        info.mode = opus_mode::hybrid;
        info.bandwidth = config < 14 ? opus_bandwidth::superwideband : opus_bandwidth::fullband;
        info.frame_us = config % 2 == 0 ? 10000 : 20000;
    } else {
        info.mode = opus_mode::celt;
        constexpr opus_bandwidth bandwidths[] = {opus_bandwidth::narrowband, opus_bandwidth::wideband,
                                                 opus_bandwidth::superwideband, opus_bandwidth::fullband};
        info.bandwidth = bandwidths[(config - 16) / 4];
        constexpr std::uint32_t durations[] = {2500, 5000, 10000, 20000};
        info.frame_us = durations[config % 4];
    }

    // Framing (§3.2.2-3.2.5, rules R2-R7).
    const std::size_t n = p.size();
    std::size_t first_offset = 1, first_bytes = 0, last_bytes = 0, count = 1;
    switch (info.code) {
        case 0:  // one frame
            first_bytes = last_bytes = n - 1;
            break;
        case 1:  // two frames of equal size (R3)
            if ((n - 1) % 2 != 0) return status::malformed;
            count = 2;
            first_bytes = last_bytes = (n - 1) / 2;
            break;
        case 2: {  // two frames, the first one's length coded (R4)
            count = 2;
            std::size_t at = 1;
            if (status s = read_frame_length(p, at, n, first_bytes); s != status::ok) return s;
            if (first_bytes > n - at) return status::truncated;
            first_offset = at;
            last_bytes = n - at - first_bytes;
            break;
        }
        default: {  // code 3: a frame count byte, optional padding, CBR or VBR (R5-R7)
            if (n < 2) return status::truncated;
            const std::uint8_t fc = p[1];
            count = fc & 0x3f;
            if (count == 0 || count * info.frame_us > opus_max_payload_us) return status::malformed;  // R5
            std::size_t at = 2, padding = 0;
            if ((fc & 0x40) != 0) {
                std::uint8_t b = 0;
                do {
                    if (at >= n) return status::truncated;
                    b = p[at++];
                    padding += b == 255 ? 254u : b;
                } while (b == 255);
            }
            if (padding > n - at) return status::truncated;
            const std::size_t end = n - padding;  // frame data (and VBR lengths) end here
            if ((fc & 0x80) != 0) {  // VBR: count - 1 coded lengths, the last frame takes the rest (R7)
                std::size_t total = 0;
                for (std::size_t i = 0; i + 1 < count; ++i) {
                    std::size_t len = 0;
                    if (status s = read_frame_length(p, at, end, len); s != status::ok) return s;
                    if (i == 0) first_bytes = len;
                    total += len;
                }
                if (total > end - at) return status::truncated;
                first_offset = at;
                last_bytes = end - at - total;
                if (count == 1) first_bytes = last_bytes;
            } else {  // CBR: the bytes left divide evenly (R6)
                const std::size_t bytes = end - at;
                if (bytes % count != 0) return status::malformed;
                first_offset = at;
                first_bytes = last_bytes = bytes / count;
            }
            break;
        }
    }
    if (last_bytes > max_frame_bytes) return status::malformed;  // R2 (coded lengths cannot exceed it)
    info.frame_count = static_cast<std::uint8_t>(count);
    info.first_frame_offset = first_offset;
    info.first_frame_bytes = first_bytes;

    // LBRR (in-band FEC) flag, RFC 6716 §4.2.3: a SILK frame begins with one VAD
    // flag per 20 ms SILK frame (1 for 10 and 20 ms Opus frames, 2 for 40, 3 for
    // 60), then the LBRR flag; in stereo the side channel's VAD and LBRR flags
    // follow the mid channel's. They are range coded with probability 1/2 each,
    // and at the start of the range coder (rng = 2^31 after ec_dec_init, each
    // such bit halving it) such bits are exactly the leading bits of the first
    // byte, MSB first: at most 2 * (3 + 1) = 8 of them, all within byte 0.
    // libopus skips FEC for frames of 0 or 1 byte (it treats them as lost), so
    // they carry none.
    if (info.mode != opus_mode::celt && first_bytes >= 2) {
        const unsigned silk_frames = info.frame_us > 20000 ? info.frame_us / 20000 : 1;
        const unsigned b = p[first_offset];
        bool lbrr = ((b >> (7 - silk_frames)) & 1u) != 0;
        if (info.stereo) lbrr = lbrr || ((b >> (6 - 2 * silk_frames)) & 1u) != 0;
        info.lbrr = lbrr;
        // The VAD flags: the top silk_frames bits (mid), and in stereo the
        // silk_frames bits after the mid LBRR flag (side).
        const unsigned vad_mask = (1u << silk_frames) - 1u;
        bool voice = ((b >> (8 - silk_frames)) & vad_mask) != 0;
        if (info.stereo) voice = voice || ((b >> (7 - 2 * silk_frames)) & vad_mask) != 0;
        info.voice = voice ? opus_voice::active : opus_voice::inactive;
    }
    out = info;
    return status::ok;
}

// ---------------------------------------------------------------------------
// Encoder

status make_opus_encoder(const opus_encoder_config& c, std::unique_ptr<opus_encoder>& out) noexcept {
    if (!opus_rate_valid(c.sample_rate_hz) || (c.channels != 1 && c.channels != 2) || !opus_frame_us_valid(c.frame_us) ||
        (c.application != opus_application::voip && c.application != opus_application::audio) ||
        !bitrate_valid(c.bitrate_bps) || c.complexity < 0 || c.complexity > 10 || c.expected_loss_percent < 0 ||
        c.expected_loss_percent > 100 || !bandwidth_valid(c.max_bandwidth)) {
        return status::invalid_argument;
    }
    std::unique_ptr<opus_encoder> e(new (std::nothrow) opus_encoder());
    if (!e) return status::out_of_memory;
    const int size = opus_encoder_get_size(c.channels);
    if (size <= 0) return status::internal_error;
    e->state_ = static_cast<OpusEncoder*>(::operator new(static_cast<std::size_t>(size), std::nothrow));
    if (e->state_ == nullptr) return status::out_of_memory;
    e->frame_samples_ = samples_in(c.sample_rate_hz, c.frame_us);
    e->scratch_ = new (std::nothrow) float[e->frame_samples_ * c.channels];
    if (e->scratch_ == nullptr) return status::out_of_memory;

    const int app = c.application == opus_application::voip ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO;
    if (opus_encoder_init(e->state_, static_cast<opus_int32>(c.sample_rate_hz), c.channels, app) != OPUS_OK) {
        return status::internal_error;
    }
    e->config_ = c;
    if (e->set_bitrate(c.bitrate_bps) != status::ok || e->set_complexity(c.complexity) != status::ok ||
        e->set_cbr(c.cbr) != status::ok || e->set_inband_fec(c.inband_fec) != status::ok ||
        e->set_expected_loss(c.expected_loss_percent) != status::ok || e->set_dtx(c.dtx) != status::ok ||
        e->set_max_bandwidth(c.max_bandwidth) != status::ok) {
        return status::internal_error;
    }
    opus_int32 lookahead = 0;
    if (opus_encoder_ctl(e->state_, OPUS_GET_LOOKAHEAD(&lookahead)) != OPUS_OK || lookahead < 0) {
        return status::internal_error;
    }
    e->lookahead_ = static_cast<std::size_t>(lookahead);
    out = std::move(e);
    return status::ok;
}

status make_opus_encoder(const opus_encoder_config& config, std::unique_ptr<encoder>& out) noexcept {
    std::unique_ptr<opus_encoder> e;
    const status s = make_opus_encoder(config, e);
    if (s == status::ok) out = std::move(e);
    return s;
}

opus_encoder::~opus_encoder() {
    deleter{}(state_);
    delete[] scratch_;
}

audio_format opus_encoder::format() const noexcept {
    return {config_.sample_rate_hz, config_.channels, config_.frame_us};
}

std::ptrdiff_t opus_encoder::encode(interleaved_view<const float> pcm, std::span<std::uint8_t> payload) noexcept {
    if (pcm.channels() != config_.channels || pcm.frames() != frame_samples_) return as_count(status::invalid_argument);
    if (payload.empty()) return as_count(status::buffer_too_small);
    tutti::clamp(scratch_, pcm.data(), 1.0f, frame_samples_ * config_.channels);
    const auto max_bytes = static_cast<opus_int32>(std::min<std::size_t>(payload.size(), 1u << 20));
    const opus_int32 r =
        opus_encode_float(state_, scratch_, static_cast<int>(frame_samples_), payload.data(), max_bytes);
    if (r < 0) return as_count(r == OPUS_BUFFER_TOO_SMALL ? status::buffer_too_small : status::internal_error);
    ++stats_.frames;
    // A DTX frame is a TOC byte with empty frames: 1 byte, or 2 for a 60 ms
    // code-3 packet of three empty frames. Only with DTX on: without it a
    // 1-2 byte packet is a real (starved) frame and must be sent.
    if (config_.dtx && r <= 2) {
        ++stats_.dtx_frames;
        return 0;
    }
    stats_.bytes += static_cast<std::uint64_t>(r);
    return r;
}

void opus_encoder::reset() noexcept { (void)opus_encoder_ctl(state_, OPUS_RESET_STATE); }

status opus_encoder::copy_state_from(const encoder& other) noexcept {
    const auto* o = dynamic_cast<const opus_encoder*>(&other);
    if (!o || o->config_.sample_rate_hz != config_.sample_rate_hz || o->config_.channels != config_.channels ||
        o->config_.frame_us != config_.frame_us)
        return status::unsupported;
    if (o == this) return status::ok;
    // The ctl settings (bitrate, complexity, FEC, DTX...) live in the state too.
    std::memcpy(static_cast<void*>(state_), o->state_, static_cast<std::size_t>(opus_encoder_get_size(config_.channels)));
    config_ = o->config_;
    return status::ok;
}

status opus_encoder::set_bitrate(int bitrate_bps) noexcept {
    if (!bitrate_valid(bitrate_bps)) return status::invalid_argument;
    const opus_int32 v = bitrate_bps == opus_bitrate_auto ? OPUS_AUTO : bitrate_bps;
    if (opus_encoder_ctl(state_, OPUS_SET_BITRATE(v)) != OPUS_OK) return status::internal_error;
    config_.bitrate_bps = bitrate_bps;
    return status::ok;
}

status opus_encoder::set_complexity(int complexity) noexcept {
    if (complexity < 0 || complexity > 10) return status::invalid_argument;
    if (opus_encoder_ctl(state_, OPUS_SET_COMPLEXITY(complexity)) != OPUS_OK) return status::internal_error;
    config_.complexity = complexity;
    return status::ok;
}

status opus_encoder::set_inband_fec(bool on) noexcept {
    if (opus_encoder_ctl(state_, OPUS_SET_INBAND_FEC(on ? 1 : 0)) != OPUS_OK) return status::internal_error;
    config_.inband_fec = on;
    return status::ok;
}

status opus_encoder::set_expected_loss(int percent) noexcept {
    if (percent < 0 || percent > 100) return status::invalid_argument;
    if (opus_encoder_ctl(state_, OPUS_SET_PACKET_LOSS_PERC(percent)) != OPUS_OK) return status::internal_error;
    config_.expected_loss_percent = percent;
    return status::ok;
}

status opus_encoder::set_dtx(bool on) noexcept {
    if (opus_encoder_ctl(state_, OPUS_SET_DTX(on ? 1 : 0)) != OPUS_OK) return status::internal_error;
    config_.dtx = on;
    return status::ok;
}

status opus_encoder::set_cbr(bool on) noexcept {
    if (opus_encoder_ctl(state_, OPUS_SET_VBR(on ? 0 : 1)) != OPUS_OK) return status::internal_error;
    config_.cbr = on;
    return status::ok;
}

status opus_encoder::set_max_bandwidth(opus_bandwidth bandwidth) noexcept {
    if (!bandwidth_valid(bandwidth)) return status::invalid_argument;
    if (opus_encoder_ctl(state_, OPUS_SET_MAX_BANDWIDTH(to_opus(bandwidth))) != OPUS_OK) return status::internal_error;
    config_.max_bandwidth = bandwidth;
    return status::ok;
}

// ---------------------------------------------------------------------------
// Decoder

status make_opus_decoder(const opus_decoder_config& c, std::unique_ptr<opus_decoder>& out) noexcept {
    if (!opus_rate_valid(c.sample_rate_hz) || (c.channels != 1 && c.channels != 2) || c.frame_us < 2500 ||
        c.frame_us > opus_max_payload_us || c.frame_us % 2500 != 0) {
        return status::invalid_argument;
    }
    std::unique_ptr<opus_decoder> d;
    try {
        d.reset(new opus_decoder());  // (from the buffer heap: it is read for every packet, see heap_allocated)
    } catch (const std::bad_alloc&) {
        return status::out_of_memory;
    }
    const int size = opus_decoder_get_size(c.channels);
    if (size <= 0) return status::internal_error;
    d->state_ = static_cast<OpusDecoder*>(::operator new(static_cast<std::size_t>(size), std::nothrow));
    if (d->state_ == nullptr) return status::out_of_memory;
    if (opus_decoder_init(d->state_, static_cast<opus_int32>(c.sample_rate_hz), c.channels) != OPUS_OK) {
        return status::internal_error;
    }
    d->config_ = c;
    out = std::move(d);
    return status::ok;
}

status make_opus_decoder(const opus_decoder_config& config, std::unique_ptr<decoder>& out) noexcept {
    std::unique_ptr<opus_decoder> d;
    const status s = make_opus_decoder(config, d);
    if (s == status::ok) out = std::move(d);
    return s;
}

opus_decoder::~opus_decoder() { deleter{}(state_); }

audio_format opus_decoder::format() const noexcept {
    return {config_.sample_rate_hz, config_.channels, config_.frame_us};
}

std::ptrdiff_t opus_decoder::fail(status s) noexcept {
    ++stats_.errors;
    return as_count(s);
}

std::ptrdiff_t opus_decoder::frames_in(std::span<const std::uint8_t> payload) const noexcept {
    opus_payload_info info;
    if (const status s = parse_opus_payload(payload, info); s != status::ok) return as_count(s);
    return static_cast<std::ptrdiff_t>(samples_in(config_.sample_rate_hz, info.duration_us()));
}

std::ptrdiff_t opus_decoder::decode(std::span<const std::uint8_t> payload, interleaved_view<float> pcm) noexcept {
    if (pcm.channels() != config_.channels) return fail(status::invalid_argument);
    opus_payload_info info;
    if (const status s = parse_opus_payload(payload, info); s != status::ok) return fail(s);
    const std::size_t frames = samples_in(config_.sample_rate_hz, info.duration_us());
    if (pcm.frames() < frames) return fail(status::buffer_too_small);
    const int r = opus_decode_float(state_, payload.data(), static_cast<opus_int32>(payload.size()), pcm.data(),
                                    static_cast<int>(frames), 0);
    if (r < 0) return fail(from_opus(r));
    last_was_celt_ = info.mode == opus_mode::celt;
    ++stats_.payloads;
    stats_.frames += static_cast<std::uint64_t>(r);
    return r;
}

std::ptrdiff_t opus_decoder::conceal(interleaved_view<float> pcm) noexcept {
    if (pcm.channels() != config_.channels || pcm.frames() % (config_.sample_rate_hz / 400) != 0 ||
        pcm.frames() > static_cast<std::size_t>(INT_MAX)) {
        return as_count(status::invalid_argument);
    }
    if (pcm.frames() == 0) return 0;
    const int r = opus_decode_float(state_, nullptr, 0, pcm.data(), static_cast<int>(pcm.frames()), 0);
    if (r < 0) return as_count(from_opus(r));  // cannot happen with the checks above
    ++stats_.concealed;
    return r;
}

bool opus_decoder::can_recover(std::span<const std::uint8_t> next_payload) const noexcept {
    opus_payload_info info;
    return parse_opus_payload(next_payload, info) == status::ok && info.lbrr && !last_was_celt_;
}

std::ptrdiff_t opus_decoder::decode_fec(std::span<const std::uint8_t> next_payload,
                                        interleaved_view<float> pcm) noexcept {
    if (pcm.channels() != config_.channels || pcm.frames() % (config_.sample_rate_hz / 400) != 0 ||
        pcm.frames() > static_cast<std::size_t>(INT_MAX)) {
        return fail(status::invalid_argument);
    }
    opus_payload_info info;
    if (const status s = parse_opus_payload(next_payload, info); s != status::ok) return fail(s);
    // The cases where libopus would run plain PLC instead (opus_decode_native):
    // no LBRR, a lost span shorter than the next packet's frame, or CELT before.
    if (!info.lbrr || last_was_celt_ || pcm.frames() < samples_in(config_.sample_rate_hz, info.frame_us)) {
        return as_count(status::unsupported);
    }
    const int r = opus_decode_float(state_, next_payload.data(), static_cast<opus_int32>(next_payload.size()),
                                    pcm.data(), static_cast<int>(pcm.frames()), 1);
    if (r < 0) return fail(from_opus(r));
    last_was_celt_ = false;  // libopus took the next packet's (SILK or hybrid) mode
    ++stats_.fec_recovered;
    return r;
}

void opus_decoder::reset() noexcept {
    (void)opus_decoder_ctl(state_, OPUS_RESET_STATE);
    last_was_celt_ = false;
}

TUTTI_END_NAMESPACE
