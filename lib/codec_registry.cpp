// lib/codec_registry.cpp: the codec table and the built-in factories (tutti/codec_registry.hpp).
//
// Flow position: signalling -> SDP formats -> **registry** -> encoder / decoder.
// The built-in factories translate an sdp_format (RFC 3551, RFC 7587) into the
// arguments of make_g711_* / make_g722_* / make_l16_* / make_opus_*. Those
// constructors differ in shape (G.711, G.722 and L16 return a unique_ptr and
// throw std::bad_alloc; Opus returns a status), so each factory adapts its own.
#include "tutti/codec_registry.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <new>
#include <string>
#include <utility>

#include "tutti/codecs/g711.hpp"
#include "tutti/codecs/g722.hpp"
#include "tutti/codecs/l16.hpp"
#include "tutti/codecs/opus.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

status fail(std::string* error, status s, std::string message) {
    if (error != nullptr) *error = std::move(message);
    return s;
}

// A name for a message: at most 64 bytes, non-printable bytes as '?'.
std::string quote_name(std::string_view name) {
    std::string q = "\"";
    for (std::size_t i = 0; i < name.size() && i < 64; ++i) {
        const auto u = static_cast<unsigned char>(name[i]);
        q += (u < 0x20 || u >= 0x7F) ? '?' : name[i];
    }
    return q + "\"";
}

// "name/clock/channels" for a message, the name sanitized as by quote_name.
std::string describe(const sdp_format& f) {
    const std::string q = quote_name(f.encoding_name);
    return q.substr(1, q.size() - 2) + "/" + std::to_string(f.clock_rate_hz) + "/" + std::to_string(f.channels);
}

// Packet times the sample-based codecs accept from SDP (RFC 3551 practice).
constexpr std::array<std::uint32_t, 5> pcm_frame_us{10000, 20000, 30000, 40000, 60000};
// Opus packet times chosen from SDP: 2.5 and 5 ms exist but are CELT-only
// (no SILK, no in-band FEC) and quadruple the packet rate; telephony never wants them.
constexpr std::array<std::uint32_t, 4> opus_frame_us{10000, 20000, 40000, 60000};

std::uint32_t choose(std::uint32_t ptime_ms, std::uint32_t maxptime_ms, std::uint32_t default_us,
                     std::span<const std::uint32_t> supported) noexcept {
    const std::uint64_t target = ptime_ms != 0 ? std::uint64_t{ptime_ms} * 1000u : default_us;
    const std::uint64_t limit = maxptime_ms != 0 ? std::uint64_t{maxptime_ms} * 1000u : UINT64_MAX;
    std::uint32_t best = 0;
    std::uint64_t best_distance = UINT64_MAX;
    for (const std::uint32_t us : supported) {
        if (us > limit) continue;
        if (us == target) return us;
        const std::uint64_t d = us > target ? us - target : target - us;
        if (d < best_distance) {  // strict: on a tie the shorter (earlier) one stays
            best = us;
            best_distance = d;
        }
    }
    return best;
}

status no_frame(const sdp_format& f, std::string* error) {
    return fail(error, status::invalid_argument,
                describe(f) + ": no packet time of this codec fits a=maxptime:" + std::to_string(f.maxptime_ms));
}

// ---------------------------------------------------------------------------
// G.711

status check_g711(const sdp_format& f, std::string* error) {
    if (f.clock_rate_hz != g711_sample_rate_hz || f.channels != 1) {
        return fail(error, status::invalid_argument,
                    quote_name(f.encoding_name) + " is 8000 Hz mono (RFC 3551), but the SDP says " + describe(f));
    }
    return status::ok;
}

template <g711_law law>
status g711_encoder(void*, const sdp_format& f, const codec_options& o, std::unique_ptr<encoder>& out,
                    std::string* error) {
    if (const status s = check_g711(f, error); s != status::ok) return s;
    const std::uint32_t frame_us = choose_frame_us(f, o, pcm_frame_us);
    if (frame_us == 0) return no_frame(f, error);
    try {
        auto e = make_g711_encoder(law, frame_us);
        if (!e) return fail(error, status::internal_error, "the G.711 encoder refused " + describe(f));
        out = std::move(e);
        return status::ok;
    } catch (const std::bad_alloc&) {
        return fail(error, status::out_of_memory, "out of memory creating a G.711 encoder");
    }
}

template <g711_law law>
status g711_decoder(void*, const sdp_format& f, const codec_options& o, std::unique_ptr<decoder>& out,
                    std::string* error) {
    if (const status s = check_g711(f, error); s != status::ok) return s;
    const std::uint32_t frame_us = choose_frame_us(f, o, pcm_frame_us);
    if (frame_us == 0) return no_frame(f, error);
    try {
        auto d = make_g711_decoder(law, frame_us);
        if (!d) return fail(error, status::internal_error, "the G.711 decoder refused " + describe(f));
        out = std::move(d);
        return status::ok;
    } catch (const std::bad_alloc&) {
        return fail(error, status::out_of_memory, "out of memory creating a G.711 decoder");
    }
}

// ---------------------------------------------------------------------------
// G.722

status check_g722(const sdp_format& f, std::string* error) {
    if (f.clock_rate_hz != g722_rtp_clock_rate_hz || f.channels != 1) {
        return fail(error, status::invalid_argument,
                    "G722 is written G722/8000 in SDP (RFC 3551 keeps the 8000 Hz RTP clock although the audio is "
                    "16 kHz) and is mono, but the SDP says " + describe(f));
    }
    return status::ok;
}

status g722_encoder(void*, const sdp_format& f, const codec_options& o, std::unique_ptr<encoder>& out,
                    std::string* error) {
    if (const status s = check_g722(f, error); s != status::ok) return s;
    const std::uint32_t frame_us = choose_frame_us(f, o, pcm_frame_us);
    if (frame_us == 0) return no_frame(f, error);
    try {
        auto e = make_g722_encoder(frame_us);
        if (!e) return fail(error, status::internal_error, "the G.722 encoder refused " + describe(f));
        out = std::move(e);
        return status::ok;
    } catch (const std::bad_alloc&) {
        return fail(error, status::out_of_memory, "out of memory creating a G.722 encoder");
    }
}

status g722_decoder(void*, const sdp_format& f, const codec_options& o, std::unique_ptr<decoder>& out,
                    std::string* error) {
    if (const status s = check_g722(f, error); s != status::ok) return s;
    const std::uint32_t frame_us = choose_frame_us(f, o, pcm_frame_us);
    if (frame_us == 0) return no_frame(f, error);
    try {
        auto d = make_g722_decoder(frame_us);
        if (!d) return fail(error, status::internal_error, "the G.722 decoder refused " + describe(f));
        out = std::move(d);
        return status::ok;
    } catch (const std::bad_alloc&) {
        return fail(error, status::out_of_memory, "out of memory creating a G.722 decoder");
    }
}

// ---------------------------------------------------------------------------
// L16

constexpr std::uint32_t l16_min_rate_hz = 8000;
constexpr std::uint32_t l16_max_rate_hz = 192000;

// The L16 audio_format for `f`: rate and channels checked, the packet time
// chosen among those giving a whole number of samples at this rate.
status l16_format(const sdp_format& f, const codec_options& o, audio_format& fmt, std::string* error) {
    if (f.clock_rate_hz < l16_min_rate_hz || f.clock_rate_hz > l16_max_rate_hz || f.channels < 1 || f.channels > 2) {
        return fail(error, status::invalid_argument,
                    "L16 is supported at 8000..192000 Hz with 1 or 2 channels, but the SDP says " + describe(f));
    }
    std::array<std::uint32_t, pcm_frame_us.size()> usable{};
    std::size_t n = 0;
    for (const std::uint32_t us : pcm_frame_us) {
        if (audio_format{f.clock_rate_hz, f.channels, us}.valid()) usable[n++] = us;
    }
    const std::uint32_t frame_us = choose_frame_us(f, o, std::span<const std::uint32_t>(usable.data(), n));
    if (frame_us == 0) {
        return fail(error, status::invalid_argument,
                    describe(f) + ": no packet time of 10/20/30/40/60 ms holds a whole number of samples "
                                  "within a=maxptime");
    }
    fmt = audio_format{f.clock_rate_hz, f.channels, frame_us};
    return status::ok;
}

status l16_encoder(void*, const sdp_format& f, const codec_options& o, std::unique_ptr<encoder>& out,
                   std::string* error) {
    audio_format fmt;
    if (const status s = l16_format(f, o, fmt, error); s != status::ok) return s;
    try {
        auto e = make_l16_encoder(fmt);
        if (!e) return fail(error, status::internal_error, "the L16 encoder refused " + describe(f));
        out = std::move(e);
        return status::ok;
    } catch (const std::bad_alloc&) {
        return fail(error, status::out_of_memory, "out of memory creating an L16 encoder");
    }
}

status l16_decoder(void*, const sdp_format& f, const codec_options& o, std::unique_ptr<decoder>& out,
                   std::string* error) {
    audio_format fmt;
    if (const status s = l16_format(f, o, fmt, error); s != status::ok) return s;
    try {
        auto d = make_l16_decoder(fmt);
        if (!d) return fail(error, status::internal_error, "the L16 decoder refused " + describe(f));
        out = std::move(d);
        return status::ok;
    } catch (const std::bad_alloc&) {
        return fail(error, status::out_of_memory, "out of memory creating an L16 decoder");
    }
}

// ---------------------------------------------------------------------------
// Opus

bool digits_value(std::string_view s, std::uint64_t max, std::uint64_t& out) noexcept {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
        if (v > max) return false;
    }
    out = v;
    return true;
}

status opus_flag(const sdp_format& f, std::string_view key, bool& out, std::string* error) {
    out = false;
    const auto v = f.param(key);
    if (!v) return status::ok;
    if (*v == "0" || *v == "1") {
        out = *v == "1";
        return status::ok;
    }
    return fail(error, status::invalid_argument,
                "opus fmtp " + std::string(key) + "=" + std::string(v->substr(0, 32)) + ": must be 0 or 1");
}

// A positive decimal number parameter; `present` false when absent.
status opus_number(const sdp_format& f, std::string_view key, std::uint64_t& out, bool& present, std::string* error) {
    present = false;
    const auto v = f.param(key);
    if (!v) return status::ok;
    constexpr std::uint64_t max = 1000000000;
    if (!digits_value(*v, max, out) || out == 0) {
        return fail(error, status::invalid_argument,
                    "opus fmtp " + std::string(key) + "=" + std::string(v->substr(0, 32)) + ": not a positive number");
    }
    present = true;
    return status::ok;
}

// The smallest Opus rate covering `rate_hz` (48000 above 24000).
constexpr std::uint32_t opus_rate_covering(std::uint64_t rate_hz) noexcept {
    for (const std::uint32_t r : {8000u, 12000u, 16000u, 24000u}) {
        if (rate_hz <= r) return r;
    }
    return 48000;
}

// ptime / maxptime from the attribute, else from the fmtp (non-standard but seen), else 0.
std::uint32_t opus_ms(std::uint32_t attribute_ms, const sdp_format& f, std::string_view key) noexcept {
    if (attribute_ms != 0) return attribute_ms;
    std::uint64_t v = 0;
    if (const auto p = f.param(key); p && digits_value(*p, sdp_max_ptime_ms, v)) return static_cast<std::uint32_t>(v);
    return 0;
}

status opus_encoder_factory(void*, const sdp_format& f, const codec_options& o, std::unique_ptr<encoder>& out,
                            std::string* error) {
    opus_encoder_config c;
    if (const status s = opus_configs_from_sdp(f, o, &c, nullptr, error); s != status::ok) return s;
    const status s = make_opus_encoder(c, out);
    if (s != status::ok) return fail(error, s, std::string("libopus refused the encoder config: ") + to_string(s));
    return s;
}

status opus_decoder_factory(void*, const sdp_format& f, const codec_options& o, std::unique_ptr<decoder>& out,
                            std::string* error) {
    opus_decoder_config c;
    if (const status s = opus_configs_from_sdp(f, o, nullptr, &c, error); s != status::ok) return s;
    const status s = make_opus_decoder(c, out);
    if (s != status::ok) return fail(error, s, std::string("libopus refused the decoder config: ") + to_string(s));
    return s;
}

status check_factory(std::string_view name, const codec_factory& factory, std::string* error) {
    if (name.empty() || name.size() > sdp_max_encoding_name_bytes) {
        return fail(error, status::invalid_argument, "a codec name must have 1..64 characters");
    }
    if (factory.make_encoder == nullptr || factory.make_decoder == nullptr) {
        return fail(error, status::invalid_argument, "codec " + std::string(name) + ": null factory function");
    }
    return status::ok;
}

}  // namespace

std::uint32_t choose_frame_us(const sdp_format& format, const codec_options& options,
                              std::span<const std::uint32_t> supported_us) noexcept {
    return choose(format.ptime_ms, format.maxptime_ms, options.default_frame_us, supported_us);
}

status opus_configs_from_sdp(const sdp_format& f, const codec_options& o, opus_encoder_config* enc,
                             opus_decoder_config* dec, std::string* error) {
    if (!f.is("opus") || f.clock_rate_hz != 48000 || f.channels != 2) {
        return fail(error, status::invalid_argument,
                    "Opus is always written opus/48000/2 in SDP (RFC 7587), but the SDP says " + describe(f));
    }
    bool stereo = false, sprop_stereo = false, cbr = false, fec = false, dtx = false;
    for (const auto& [key, flag] : {std::pair<const char*, bool*>{"stereo", &stereo}, {"sprop-stereo", &sprop_stereo},
                                    {"cbr", &cbr}, {"useinbandfec", &fec}, {"usedtx", &dtx}}) {
        if (const status s = opus_flag(f, key, *flag, error); s != status::ok) return s;
    }
    std::uint64_t playback = 0, capture = 0, max_bitrate = 0;
    bool has_playback = false, has_capture = false, has_max_bitrate = false;
    if (const status s = opus_number(f, "maxplaybackrate", playback, has_playback, error); s != status::ok) return s;
    if (const status s = opus_number(f, "sprop-maxcapturerate", capture, has_capture, error); s != status::ok) return s;
    if (const status s = opus_number(f, "maxaveragebitrate", max_bitrate, has_max_bitrate, error); s != status::ok) {
        return s;
    }

    const std::uint32_t frame_us = choose(opus_ms(f.ptime_ms, f, "ptime"), opus_ms(f.maxptime_ms, f, "maxptime"),
                                          o.default_frame_us, opus_frame_us);
    if (frame_us == 0) return no_frame(f, error);
    const std::uint64_t host_cap = std::max<std::uint64_t>(o.opus_max_sample_rate_hz, 8000);

    if (enc != nullptr) {
        opus_encoder_config c;
        const std::uint64_t limit = std::min(has_playback ? std::max<std::uint64_t>(playback, 8000) : 48000, host_cap);
        c.sample_rate_hz = opus_rate_covering(limit);
        c.max_bandwidth = opus_bandwidth_for_rate(static_cast<std::uint32_t>(std::min<std::uint64_t>(limit, 48000)));
        c.channels = stereo ? 2 : 1;
        c.frame_us = frame_us;
        c.application = o.opus_app;
        c.complexity = o.opus_complexity;
        c.bitrate_bps = o.opus_bitrate_bps;
        if (has_max_bitrate) {
            const int cap = static_cast<int>(std::clamp<std::uint64_t>(max_bitrate, 6000, 510000));
            c.bitrate_bps = c.bitrate_bps == opus_bitrate_auto ? cap : std::min(c.bitrate_bps, cap);
        }
        c.cbr = cbr;
        c.inband_fec = fec;
        c.expected_loss_percent = o.expected_loss_percent;
        c.dtx = dtx;
        *enc = c;
    }
    if (dec != nullptr) {
        opus_decoder_config c;
        const std::uint64_t limit = std::min(has_capture ? std::max<std::uint64_t>(capture, 8000) : 48000, host_cap);
        c.sample_rate_hz = opus_rate_covering(limit);
        c.channels = sprop_stereo ? 2 : 1;
        c.frame_us = frame_us;
        *dec = c;
    }
    return status::ok;
}

// ---------------------------------------------------------------------------
// codec_registry

codec_registry codec_registry::with_builtin_codecs() {
    codec_registry r;
    const auto must = [](status s) { (void)s; };  // names are distinct: add() cannot fail here
    must(r.add("PCMU", {&g711_encoder<g711_law::mu_law>, &g711_decoder<g711_law::mu_law>, nullptr}));
    must(r.add("PCMA", {&g711_encoder<g711_law::a_law>, &g711_decoder<g711_law::a_law>, nullptr}));
    must(r.add("G722", {&g722_encoder, &g722_decoder, nullptr}));
    must(r.add("L16", {&l16_encoder, &l16_decoder, nullptr}));
    must(r.add("opus", {&opus_encoder_factory, &opus_decoder_factory, nullptr}));
    return r;
}

status codec_registry::add(std::string_view name, const codec_factory& factory, std::string* error) {
    if (const status s = check_factory(name, factory, error); s != status::ok) return s;
    if (find(name) != nullptr) {
        return fail(error, status::invalid_argument,
                    "codec " + std::string(name) + " is already registered (use replace() to override it)");
    }
    entries_.push_back({std::string(name), factory});
    return status::ok;
}

status codec_registry::replace(std::string_view name, const codec_factory& factory, std::string* error) {
    if (const status s = check_factory(name, factory, error); s != status::ok) return s;
    for (auto& e : entries_) {
        if (iequals(e.name, name)) {
            e.name.assign(name);
            e.factory = factory;
            return status::ok;
        }
    }
    entries_.push_back({std::string(name), factory});
    return status::ok;
}

status codec_registry::remove(std::string_view name) noexcept {
    const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const entry& e) { return iequals(e.name, name); });
    if (it == entries_.end()) return status::not_found;
    entries_.erase(it);
    return status::ok;
}

const codec_factory* codec_registry::find(std::string_view name) const noexcept {
    for (const auto& e : entries_) {
        if (iequals(e.name, name)) return &e.factory;
    }
    return nullptr;
}

std::vector<std::string> codec_registry::names() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
}

status codec_registry::make_encoder(const sdp_format& format, const codec_options& options,
                                    std::unique_ptr<encoder>& out, std::string* error) const {
    const codec_factory* f = find(format.encoding_name);
    if (f == nullptr) {
        return fail(error, status::not_found, "no codec registered for " + quote_name(format.encoding_name));
    }
    return f->make_encoder(f->context, format, options, out, error);
}

status codec_registry::make_decoder(const sdp_format& format, const codec_options& options,
                                    std::unique_ptr<decoder>& out, std::string* error) const {
    const codec_factory* f = find(format.encoding_name);
    if (f == nullptr) {
        return fail(error, status::not_found, "no codec registered for " + quote_name(format.encoding_name));
    }
    return f->make_decoder(f->context, format, options, out, error);
}

TUTTI_END_NAMESPACE
