// lib/sdp.cpp: SDP audio-section parsing (tutti/sdp.hpp).
//
// Flow position: signalling -> **SDP formats** -> codec registry -> codecs.
// Written from RFC 8866 (SDP), RFC 3551 (static payload types) and RFC 7587
// (Opus fmtp); every rule and limit is documented in the header. The parser
// works on string_views of the caller's text and copies only what it returns.
#include "tutti/sdp.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

TUTTI_BEGIN_NAMESPACE

namespace {

constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
// A byte that may not appear inside an SDP line (tabs are allowed as spaces).
constexpr bool is_control(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7F;
}
// RFC 8866 token-char: visible ASCII except "(),/:;<=>?@[\] and the double quote.
constexpr bool is_token_char(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return false;
    switch (c) {
        case '"': case '(': case ')': case ',': case '/': case ':': case ';':
        case '<': case '=': case '>': case '?': case '@': case '[': case '\\': case ']':
            return false;
        default: return true;
    }
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Decimal digits only, value <= max. Leading zeros are fine; overflow is not.
bool parse_uint(std::string_view s, std::uint64_t max, std::uint64_t& out) noexcept {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (const char c : s) {
        if (!is_digit(c)) return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
        if (v > max) return false;
    }
    out = v;
    return true;
}

// Up to 60 bytes of `s` for an error message, non-printable bytes shown as '?'.
std::string quote(std::string_view s) {
    constexpr std::size_t max_quoted = 60;
    std::string q = "\"";
    for (std::size_t i = 0; i < s.size() && i < max_quoted; ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        q += (u < 0x20 || u >= 0x7F) ? '?' : s[i];
    }
    if (s.size() > max_quoted) q += "...";
    q += '"';
    return q;
}

status fail(std::string* error, std::string message) {
    if (error != nullptr) *error = std::move(message);
    return status::malformed;
}

// Splits "<payload type><blanks><rest>"; rest may be empty when allow_empty_rest.
status split_payload_type(std::string_view text, std::string_view what, bool allow_empty_rest, std::uint8_t& pt,
                          std::string_view& rest, std::string* error) {
    std::size_t i = 0;
    while (i < text.size() && !is_blank(text[i])) ++i;
    const std::string_view pt_text = text.substr(0, i);
    std::uint64_t v = 0;
    if (pt_text.empty()) return fail(error, std::string(what) + " " + quote(text) + ": missing payload type");
    if (!parse_uint(pt_text, sdp_max_payload_type, v)) {
        return fail(error, std::string(what) + " " + quote(text) + ": payload type " + quote(pt_text) +
                               " is not a number in 0..127");
    }
    rest = trim(text.substr(i));
    if (rest.empty() && !allow_empty_rest) {
        return fail(error, std::string(what) + " " + quote(text) + ": nothing after the payload type");
    }
    pt = static_cast<std::uint8_t>(v);
    return status::ok;
}

status check_no_control(std::string_view text, std::string_view what, std::string* error) {
    for (const char c : text) {
        if (is_control(c)) return fail(error, std::string(what) + " " + quote(text) + ": control character in the text");
    }
    return status::ok;
}

// Appends the parameters of `more` to `into` unless the key (ASCII case ignored) is there already.
status merge_params(std::vector<fmtp_param>& into, std::vector<fmtp_param>& more, std::string* error) {
    for (auto& p : more) {
        bool present = false;
        for (const auto& q : into) {
            if (iequals(q.key, p.key)) {
                present = true;
                break;
            }
        }
        if (present) continue;
        if (into.size() >= sdp_max_fmtp_params) {
            return fail(error, "more than " + std::to_string(sdp_max_fmtp_params) + " fmtp parameters");
        }
        into.push_back(std::move(p));
    }
    return status::ok;
}

// "20", "20.0", "0.5": rounded to whole ms, 1..sdp_max_ptime_ms.
bool parse_ptime(std::string_view s, std::uint32_t& ms) noexcept {
    s = trim(s);
    const std::size_t dot = s.find('.');
    const std::string_view whole = s.substr(0, dot);
    std::uint64_t v = 0;
    if (!parse_uint(whole, sdp_max_ptime_ms, v)) return false;
    if (dot != std::string_view::npos) {
        const std::string_view frac = s.substr(dot + 1);
        std::uint64_t ignored = 0;
        if (frac.empty() || !parse_uint(frac.substr(0, 1), 9, ignored)) return false;
        for (const char c : frac) {
            if (!is_digit(c)) return false;
        }
        if (frac[0] >= '5') ++v;
    }
    if (v < 1 || v > sdp_max_ptime_ms) return false;
    ms = static_cast<std::uint32_t>(v);
    return true;
}

struct payload_slot {
    bool listed = false;
    bool has_rtpmap = false;
    sdp_format format;  // rtpmap fields when has_rtpmap
    std::vector<fmtp_param> params;
};

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool sdp_format::is(std::string_view name) const noexcept { return iequals(encoding_name, name); }

std::optional<std::string_view> sdp_format::param(std::string_view key) const noexcept {
    for (const auto& p : fmtp) {
        if (iequals(p.key, key)) return std::string_view(p.value);
    }
    return std::nullopt;
}

std::optional<sdp_format> static_payload_format(std::uint8_t payload_type) {
    struct entry {
        std::uint8_t pt;
        const char* name;
        std::uint32_t rate;
        std::uint16_t channels;
    };
    // RFC 3551 table 4 (audio). 1, 2, 19 and up are reserved, unassigned or dynamic.
    static constexpr std::array<entry, 17> table{{
        {0, "PCMU", 8000, 1},   {3, "GSM", 8000, 1},     {4, "G723", 8000, 1},   {5, "DVI4", 8000, 1},
        {6, "DVI4", 16000, 1},  {7, "LPC", 8000, 1},     {8, "PCMA", 8000, 1},   {9, "G722", 8000, 1},
        {10, "L16", 44100, 2},  {11, "L16", 44100, 1},   {12, "QCELP", 8000, 1}, {13, "CN", 8000, 1},
        {14, "MPA", 90000, 1},  {15, "G728", 8000, 1},   {16, "DVI4", 11025, 1}, {17, "DVI4", 22050, 1},
        {18, "G729", 8000, 1},
    }};
    for (const auto& e : table) {
        if (e.pt == payload_type) {
            sdp_format f;
            f.payload_type = e.pt;
            f.encoding_name = e.name;
            f.clock_rate_hz = e.rate;
            f.channels = e.channels;
            return f;
        }
    }
    return std::nullopt;
}

status parse_rtpmap(std::string_view text, sdp_format& out, std::string* error) {
    text = trim(text);
    if (starts_with_nocase(text, "a=rtpmap:")) text = trim(text.substr(9));
    if (text.size() > sdp_max_line_bytes) return fail(error, "rtpmap is longer than " + std::to_string(sdp_max_line_bytes) + " bytes");
    if (check_no_control(text, "rtpmap", error) != status::ok) return status::malformed;

    std::uint8_t pt = 0;
    std::string_view rest;
    if (split_payload_type(text, "rtpmap", false, pt, rest, error) != status::ok) return status::malformed;
    const std::string what = "rtpmap " + quote(text) + ": ";

    for (const char c : rest) {
        if (is_blank(c)) return fail(error, what + "unexpected space in the encoding '<name>/<clock rate>[/<channels>]'");
    }
    const std::size_t slash1 = rest.find('/');
    if (slash1 == std::string_view::npos) return fail(error, what + "missing '/<clock rate>' after the encoding name");
    const std::string_view name = rest.substr(0, slash1);
    std::string_view after = rest.substr(slash1 + 1);
    const std::size_t slash2 = after.find('/');
    const std::string_view rate_text = after.substr(0, slash2);
    const std::string_view channels_text =
        slash2 == std::string_view::npos ? std::string_view{} : after.substr(slash2 + 1);

    if (name.empty()) return fail(error, what + "empty encoding name");
    if (name.size() > sdp_max_encoding_name_bytes) {
        return fail(error, what + "encoding name longer than " + std::to_string(sdp_max_encoding_name_bytes) + " bytes");
    }
    for (const char c : name) {
        if (!is_token_char(c)) return fail(error, what + "encoding name has a character SDP does not allow in a token");
    }
    std::uint64_t rate = 0;
    if (rate_text.empty()) return fail(error, what + "empty clock rate");
    if (!parse_uint(rate_text, sdp_max_clock_rate_hz, rate)) {
        bool digits = true;
        for (const char c : rate_text) digits = digits && is_digit(c);
        return fail(error, what + "clock rate " + quote(rate_text) +
                               (digits ? " is above " + std::to_string(sdp_max_clock_rate_hz) + " Hz"
                                       : std::string(" is not a number")));
    }
    if (rate == 0) return fail(error, what + "clock rate 0");
    std::uint64_t channels = 1;
    if (slash2 != std::string_view::npos) {
        if (channels_text.find('/') != std::string_view::npos) return fail(error, what + "more than three '/' fields");
        if (!parse_uint(channels_text, sdp_max_channels, channels) || channels == 0) {
            return fail(error, what + "channel count " + quote(channels_text) + " is not a number in 1..8");
        }
    }
    out.payload_type = pt;
    out.encoding_name.assign(name);
    out.clock_rate_hz = static_cast<std::uint32_t>(rate);
    out.channels = static_cast<std::uint16_t>(channels);
    return status::ok;
}

status parse_fmtp_params(std::string_view text, std::vector<fmtp_param>& params, std::string* error) {
    if (text.size() > sdp_max_line_bytes) return fail(error, "fmtp is longer than " + std::to_string(sdp_max_line_bytes) + " bytes");
    if (check_no_control(text, "fmtp", error) != status::ok) return status::malformed;
    std::vector<fmtp_param> result;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(';', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view piece = trim(text.substr(start, end - start));
        start = end + 1;
        if (piece.empty()) continue;
        fmtp_param p;
        const std::size_t eq = piece.find('=');
        const std::string_view key = eq == std::string_view::npos ? std::string_view{} : trim(piece.substr(0, eq));
        const std::string_view value = eq == std::string_view::npos ? piece : trim(piece.substr(eq + 1));
        if (eq != std::string_view::npos) {
            if (key.empty()) return fail(error, "fmtp parameter " + quote(piece) + " has an empty name");
            if (key.size() > sdp_max_fmtp_key_bytes) {
                return fail(error, "fmtp parameter name " + quote(key) + " is longer than " +
                                       std::to_string(sdp_max_fmtp_key_bytes) + " bytes");
            }
            for (const char c : key) {
                if (!is_token_char(c)) return fail(error, "fmtp parameter name " + quote(key) + " is not an SDP token");
            }
        }
        if (value.size() > sdp_max_fmtp_value_bytes) {
            return fail(error, "fmtp value of " + quote(piece) + " is longer than " +
                                   std::to_string(sdp_max_fmtp_value_bytes) + " bytes");
        }
        p.key.assign(key);
        p.value.assign(value);
        std::vector<fmtp_param> one;
        one.push_back(std::move(p));
        if (merge_params(result, one, error) != status::ok) return status::malformed;
    }
    params = std::move(result);
    return status::ok;
}

status parse_fmtp(std::string_view text, std::uint8_t& payload_type, std::vector<fmtp_param>& params,
                  std::string* error) {
    text = trim(text);
    if (starts_with_nocase(text, "a=fmtp:")) text = trim(text.substr(7));
    if (text.size() > sdp_max_line_bytes) return fail(error, "fmtp is longer than " + std::to_string(sdp_max_line_bytes) + " bytes");
    if (check_no_control(text, "fmtp", error) != status::ok) return status::malformed;
    std::uint8_t pt = 0;
    std::string_view rest;
    if (split_payload_type(text, "fmtp", true, pt, rest, error) != status::ok) return status::malformed;
    std::vector<fmtp_param> result;
    if (parse_fmtp_params(rest, result, error) != status::ok) return status::malformed;
    payload_type = pt;
    params = std::move(result);
    return status::ok;
}

status parse_sdp_audio(std::string_view sdp, std::vector<sdp_format>& out, std::string* error) {
    if (sdp.size() > sdp_max_bytes) {
        return fail(error, "SDP of " + std::to_string(sdp.size()) + " bytes is larger than the " +
                               std::to_string(sdp_max_bytes) + " accepted");
    }
    enum class where { session, audio, other_media };
    where section = where::session;
    bool found_audio = false;
    std::uint32_t session_ptime = 0, session_maxptime = 0, ptime = 0, maxptime = 0;
    std::vector<std::uint8_t> order;
    std::array<payload_slot, 128> slots;
    std::string inner;  // message of a nested parser

    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos < sdp.size()) {
        std::size_t nl = sdp.find('\n', pos);
        if (nl == std::string_view::npos) nl = sdp.size();
        std::string_view line = sdp.substr(pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const auto at_line = [&](std::string_view why) {
            return fail(error, "line " + std::to_string(line_no) + " " + quote(line) + ": " + std::string(why));
        };
        if (line.size() > sdp_max_line_bytes) {
            return at_line("longer than " + std::to_string(sdp_max_line_bytes) + " bytes");
        }
        for (const char c : line) {
            if (is_control(c)) return at_line("control character inside the line");
        }
        const std::string_view t = trim(line);
        if (t.empty()) continue;
        if (t.size() < 2 || !is_alpha(t[0]) || t[1] != '=') return at_line("not of the form '<letter>=<value>'");
        const char type = t[0];
        const std::string_view value = t.substr(2);

        if (type == 'm') {
            if (section == where::audio) break;  // end of the first audio section
            if (!starts_with_nocase(value, "audio") || (value.size() > 5 && !is_blank(value[5]))) {
                section = where::other_media;
                continue;
            }
            if (found_audio) continue;  // unreachable: we stop at the end of the first one
            // m=audio <port>[/<count>] <proto> <fmt> ...
            std::vector<std::string_view> tokens;
            std::size_t i = 0;
            while (i < value.size()) {
                while (i < value.size() && is_blank(value[i])) ++i;
                const std::size_t b = i;
                while (i < value.size() && !is_blank(value[i])) ++i;
                if (i > b) tokens.push_back(value.substr(b, i - b));
            }
            if (tokens.size() < 4) return at_line("m=audio needs a port, a protocol and at least one format");
            const std::string_view port = tokens[1].substr(0, tokens[1].find('/'));
            std::uint64_t v = 0;
            if (!parse_uint(port, 65535, v)) return at_line("port " + quote(tokens[1]) + " is not a number in 0..65535");
            if (tokens[1].size() > port.size() && !parse_uint(tokens[1].substr(port.size() + 1), 65535, v)) {
                return at_line("port count in " + quote(tokens[1]) + " is not a number");
            }
            for (const char c : tokens[2]) {
                if (!is_token_char(c) && c != '/') return at_line("protocol " + quote(tokens[2]) + " is not an SDP token");
            }
            for (std::size_t k = 3; k < tokens.size(); ++k) {
                if (!parse_uint(tokens[k], sdp_max_payload_type, v)) {
                    return at_line("payload type " + quote(tokens[k]) + " is not a number in 0..127");
                }
                if (!slots[v].listed) {
                    slots[v].listed = true;
                    order.push_back(static_cast<std::uint8_t>(v));
                }
            }
            section = where::audio;
            found_audio = true;
            continue;
        }
        if (type != 'a' || section == where::other_media) continue;

        const std::size_t colon = value.find(':');
        const std::string_view name = value.substr(0, colon);
        const std::string_view arg = colon == std::string_view::npos ? std::string_view{} : value.substr(colon + 1);
        if (iequals(name, "ptime") || iequals(name, "maxptime")) {
            std::uint32_t ms = 0;
            if (!parse_ptime(arg, ms)) {
                return at_line("value " + quote(arg) + " is not a duration in 1.." + std::to_string(sdp_max_ptime_ms) + " ms");
            }
            const bool is_max = iequals(name, "maxptime");
            std::uint32_t& slot = section == where::audio ? (is_max ? maxptime : ptime)
                                                           : (is_max ? session_maxptime : session_ptime);
            if (slot == 0) slot = ms;
            continue;
        }
        if (section != where::audio) continue;
        if (iequals(name, "rtpmap")) {
            sdp_format f;
            if (parse_rtpmap(arg, f, &inner) != status::ok) return at_line(inner);
            payload_slot& s = slots[f.payload_type];
            if (!s.listed) continue;
            if (s.has_rtpmap) {
                if (s.format.encoding_name != f.encoding_name || s.format.clock_rate_hz != f.clock_rate_hz ||
                    s.format.channels != f.channels) {
                    return at_line("a second, different rtpmap for payload type " + std::to_string(f.payload_type));
                }
                continue;
            }
            s.format = std::move(f);
            s.has_rtpmap = true;
        } else if (iequals(name, "fmtp")) {
            std::uint8_t pt = 0;
            std::vector<fmtp_param> params;
            if (parse_fmtp(arg, pt, params, &inner) != status::ok) return at_line(inner);
            payload_slot& s = slots[pt];
            if (!s.listed) continue;
            if (merge_params(s.params, params, &inner) != status::ok) {
                return at_line(inner + " for payload type " + std::to_string(pt));
            }
        }
    }
    if (!found_audio) {
        if (error != nullptr) *error = "no m=audio section in the SDP";
        return status::not_found;
    }
    if (ptime == 0) ptime = session_ptime;
    if (maxptime == 0) maxptime = session_maxptime;

    std::vector<sdp_format> result;
    result.reserve(order.size());
    for (const std::uint8_t pt : order) {
        payload_slot& s = slots[pt];
        sdp_format f;
        if (s.has_rtpmap) {
            f = std::move(s.format);
        } else if (auto st = static_payload_format(pt)) {
            f = std::move(*st);
        } else {
            continue;  // dynamic without rtpmap: unusable, skipped (see header)
        }
        f.fmtp = std::move(s.params);
        f.ptime_ms = ptime;
        f.maxptime_ms = maxptime;
        result.push_back(std::move(f));
    }
    out = std::move(result);
    return status::ok;
}

TUTTI_END_NAMESPACE
