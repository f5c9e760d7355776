// tutti/sdp.hpp: the audio formats an SDP offer/answer settled on, as tutti needs them.
//
// Flow position: before the flow. Signalling (SIP, WebRTC) -> **SDP audio
// formats** -> codec_registry (codec_registry.hpp) -> encoders / decoders and
// transcoders -> RTP in -> jitter buffer -> decoder -> resampler -> mixer ->
// encoder -> RTP out.
//
// What a PBX has in hand after negotiation is an `m=audio` line, its
// `a=rtpmap` / `a=fmtp` / `a=ptime` / `a=maxptime` attributes, or the same
// pieces already split out by a SIP stack. This header turns either into
// `sdp_format` values. It does not negotiate, and it interprets nothing but
// the first `m=audio` section (plus session-level ptime/maxptime); lines after
// that section are not read at all.
//
// Parsing rules (RFC 8866 / 4566, RFC 3551, RFC 7587), strict where a mistake
// would change what we put on the wire, tolerant of the mess real stacks send:
//  - Lines end in CRLF or LF (a final line without either is fine). Leading and
//    trailing spaces/tabs of a line are ignored, and so are empty lines. Any
//    other control byte (NUL, lone CR, ...) inside a line is malformed.
//  - Every line up to the end of the first audio section must be
//    `<letter>=<value>`; anything else is malformed. Lines we do not interpret
//    (o=, c=, a=candidate, other media sections before the audio one, ...) are
//    only checked for that shape, control bytes and the line length limit.
//  - Encoding names keep their spelling but compare case-insensitively
//    (`sdp_format::is`); fmtp keys likewise (`sdp_format::param`).
//  - `m=audio` formats are listed in m-line order. A payload type listed twice
//    is kept once (first position). A static payload type (RFC 3551 table 4:
//    0 PCMU, 3 GSM, 4 G723, 5/6/16/17 DVI4, 7 LPC, 8 PCMA, 9 G722, 10/11 L16,
//    12 QCELP, 13 CN, 14 MPA, 15 G728, 18 G729) needs no rtpmap. A payload
//    type with neither an rtpmap nor a static assignment (a dynamic one whose
//    rtpmap the sender forgot, or an unassigned static number) is skipped: it
//    cannot be used, and failing the whole offer over it would lose the call.
//  - An explicit rtpmap wins over the static table. The same rtpmap line twice
//    is harmless; two DIFFERENT rtpmaps for one payload type are malformed (we
//    cannot know which the peer means). rtpmap/fmtp lines for payload types
//    not in the m-line are ignored (RFC 8866 §6.6), but still syntax-checked.
//  - fmtp: parameters are separated by `;` with optional spaces around them
//    (`a=fmtp:111 minptime=10; useinbandfec=1`), empty parameters (`;;`, a
//    trailing `;`) are skipped, and a value may contain `=` (only the first
//    one splits). A parameter without `=` (telephone-event's `0-16`) is stored
//    with an empty key and the whole text as value. Several fmtp lines for one
//    payload type are merged in order; when a key repeats, the FIRST value
//    wins (so a duplicated line changes nothing).
//  - `a=ptime` / `a=maxptime` apply to every format of the section. They may
//    be integers or decimals (`20.0`); the value is rounded to whole ms and
//    must be 1..sdp_max_ptime_ms. The first occurrence wins. Values given at
//    session level (before any m=) are used when the audio section has none.
//  - The m-line port and protocol are checked for shape only (a port of 0, a
//    rejected stream, still parses: the caller decides what it means).
//
// Limits (anything beyond is status::malformed, never a crash or a huge
// allocation): see the sdp_max_* constants below.
//
// All functions are [any-thread], keep no state, never read outside their
// input, and allocate only for their results (and the error message).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tutti/config.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// Largest SDP text parse_sdp_audio accepts, in bytes.
inline constexpr std::size_t sdp_max_bytes = 65536;
/// Longest line (without its line ending) that is examined, in bytes.
inline constexpr std::size_t sdp_max_line_bytes = 4096;
/// Longest encoding name in an rtpmap (RFC 8866 token), in bytes.
inline constexpr std::size_t sdp_max_encoding_name_bytes = 64;
/// Most fmtp parameters kept per payload type (after merging duplicates).
inline constexpr std::size_t sdp_max_fmtp_params = 32;
/// Longest fmtp parameter name, in bytes.
inline constexpr std::size_t sdp_max_fmtp_key_bytes = 64;
/// Longest fmtp parameter value, in bytes.
inline constexpr std::size_t sdp_max_fmtp_value_bytes = 256;
/// Highest RTP clock rate accepted in an rtpmap, in Hz (0 is malformed too).
inline constexpr std::uint32_t sdp_max_clock_rate_hz = 1000000;
/// Most channels accepted in an rtpmap (the encoding parameter of audio).
inline constexpr std::uint16_t sdp_max_channels = 8;
/// Highest RTP payload type (7 bits).
inline constexpr std::uint8_t sdp_max_payload_type = 127;
/// Highest a=ptime / a=maxptime accepted, in ms.
inline constexpr std::uint32_t sdp_max_ptime_ms = 1000;

/// One fmtp parameter as written (`key=value`); `key` is empty for a bare
/// value such as telephone-event's `0-16`.
struct fmtp_param {
    std::string key;    ///< parameter name, spelling kept; compare case-insensitively
    std::string value;  ///< text after the first `=`, spaces around it trimmed; may be empty

    friend bool operator==(const fmtp_param&, const fmtp_param&) = default;
};

/// One negotiated RTP audio format. Plain value type.
struct sdp_format {
    std::uint8_t payload_type = 0;   ///< RTP payload type, 0..127
    std::string encoding_name;       ///< rtpmap name as written ("opus", "PCMU", "telephone-event")
    std::uint32_t clock_rate_hz = 0; ///< RTP timestamp rate in Hz (G722 says 8000, Opus 48000 whatever the audio)
    std::uint16_t channels = 1;      ///< rtpmap channel count (default 1; Opus always says 2)
    std::vector<fmtp_param> fmtp;    ///< fmtp parameters in the order they were written
    std::uint32_t ptime_ms = 0;      ///< media-level a=ptime in ms, 0 when absent
    std::uint32_t maxptime_ms = 0;   ///< media-level a=maxptime in ms, 0 when absent

    /// True when encoding_name equals `name` ignoring ASCII case. [any-thread]
    bool is(std::string_view name) const noexcept;

    /// The value of the first fmtp parameter named `key` (ASCII case ignored),
    /// or nullopt. The view points into this object: valid while it is
    /// unchanged. [any-thread]
    std::optional<std::string_view> param(std::string_view key) const noexcept;

    friend bool operator==(const sdp_format&, const sdp_format&) = default;
};

/// True when `a` and `b` are equal ignoring ASCII case. [any-thread]
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Parses an rtpmap value, `<payload type> <name>/<clock rate>[/<channels>]`
/// (what follows `a=rtpmap:`; a leading `a=rtpmap:` is accepted too), e.g.
/// "111 opus/48000/2". On ok sets out.payload_type, encoding_name,
/// clock_rate_hz and channels (1 when absent) and leaves the other fields
/// alone. Otherwise returns malformed, leaves `out` unchanged and, when
/// `error` is not null, writes an English sentence to `*error`. [any-thread]
[[nodiscard]] status parse_rtpmap(std::string_view text, sdp_format& out, std::string* error = nullptr);

/// Parses an fmtp value, `<payload type> <parameters>` (what follows
/// `a=fmtp:`; a leading `a=fmtp:` is accepted too), e.g.
/// "111 minptime=10;useinbandfec=1". On ok sets `payload_type` and replaces
/// `params` (rules in the file comment); otherwise returns malformed, leaves
/// both unchanged and fills `*error` when not null. [any-thread]
[[nodiscard]] status parse_fmtp(std::string_view text, std::uint8_t& payload_type, std::vector<fmtp_param>& params,
                                std::string* error = nullptr);

/// Parses the parameter part of an fmtp alone ("minptime=10;useinbandfec=1"),
/// as SIP stacks that split the line hand it over. Same rules and errors as
/// parse_fmtp; an empty text gives an empty list. [any-thread]
[[nodiscard]] status parse_fmtp_params(std::string_view text, std::vector<fmtp_param>& params,
                                       std::string* error = nullptr);

/// Parses the first `m=audio` section of a whole SDP body into `out`, one
/// entry per usable payload type in m-line order, each with its rtpmap (or the
/// static assignment), fmtp parameters and the section's ptime/maxptime.
/// Returns ok; malformed (a line breaks a rule or limit of the file comment;
/// `*error` names the line number and quotes its start); or not_found (no
/// m=audio section). `out` is replaced on ok and unchanged otherwise. Formats
/// tutti cannot code (telephone-event, CN, red, G729, ...) are listed too: the
/// codec registry is what says no. [any-thread]
[[nodiscard]] status parse_sdp_audio(std::string_view sdp, std::vector<sdp_format>& out, std::string* error = nullptr);

/// The RFC 3551 static assignment of `payload_type` as an sdp_format (name,
/// clock rate, channels; no fmtp), or nullopt for a dynamic or unassigned
/// number. [any-thread]
std::optional<sdp_format> static_payload_format(std::uint8_t payload_type);

TUTTI_END_NAMESPACE
