// lib/c_api.cpp: the C ABI (include/tutti/tutti.h) over the C++ room
// (include/tutti/conference.hpp).
//
// Every entry point is a thin translation: check the handle and the struct
// sizes, convert C structs to C++ ones, call the room, convert back. Nothing
// here adds state to the per-tick path except the event callback dispatch in
// tutti_room_tick, which polls into a stack array (no allocation). Entry points
// that can reach allocating C++ code run inside `guarded`, so no exception
// crosses into C.
#include "tutti/tutti.h"

#include <algorithm>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "c_struct.hpp"
#include "tutti/conference.hpp"
#include "tutti/worker_pool.hpp"
#include "tutti/config.hpp"  // defines the same TUTTI_VERSION_* macros: a mismatch is a redefinition error
#include "tutti/sdp.hpp"
#include "tutti/status.hpp"

using tutti::status;

// The C codes are tutti::status values; keep them so.
static_assert(TUTTI_OK == static_cast<int>(status::ok));
static_assert(TUTTI_E_INVALID_ARGUMENT == static_cast<int>(status::invalid_argument));
static_assert(TUTTI_E_BUFFER_TOO_SMALL == static_cast<int>(status::buffer_too_small));
static_assert(TUTTI_E_UNSUPPORTED == static_cast<int>(status::unsupported));
static_assert(TUTTI_E_MALFORMED == static_cast<int>(status::malformed));
static_assert(TUTTI_E_TRUNCATED == static_cast<int>(status::truncated));
static_assert(TUTTI_E_IO == static_cast<int>(status::io_error));
static_assert(TUTTI_E_OUT_OF_MEMORY == static_cast<int>(status::out_of_memory));
static_assert(TUTTI_E_NOT_FOUND == static_cast<int>(status::not_found));
static_assert(TUTTI_E_INTERNAL == static_cast<int>(status::internal_error));
static_assert(TUTTI_TICK_STAGE_COUNT == static_cast<int>(tutti::tick_stage::count));
static_assert(TUTTI_ROOM_EVENT_PROMPT_DONE == static_cast<int>(tutti::room_event_kind::prompt_done));
static_assert(TUTTI_OPUS_APPLICATION_AUDIO == static_cast<int>(tutti::opus_application::audio));
static_assert(TUTTI_WHOLE_ROOM == tutti::whole_room);

// Sizes of the first published version of each struct: the smallest a caller
// may pass. Frozen: when a struct grows, its constant stays.
namespace {
constexpr std::size_t room_config_v1_size = sizeof(tutti_room_config);
constexpr std::size_t rtp_config_v1_size = sizeof(tutti_rtp_participant_config);
constexpr std::size_t pcm_config_v1_size = sizeof(tutti_pcm_participant_config);
constexpr std::size_t event_v1_size = sizeof(tutti_room_event);
// The stats structs grew (issue 9: rate limiting, late/early ticks): a caller
// built with the first version still gets every field it knows.
constexpr std::size_t participant_stats_v1_size = offsetof(tutti_participant_stats, packets_rate_limited);
constexpr std::size_t room_stats_v1_size = offsetof(tutti_room_stats, late_ticks);
static_assert(TUTTI_MAX_RECEIVE_PACKETS_PER_SECOND == tutti::max_receive_packets_per_second);

// ---------------------------------------------------------------------------
// Last error: per thread, a fixed buffer (no allocation) or a static string.
struct last_error_state {
    char buffer[512];
    const char* message;
};
thread_local last_error_state last_error{{}, ""};

// Records a static message (tick-thread paths: a pointer store, nothing more).
int fail_static(int code, const char* message) noexcept {
    last_error.message = message;
    return code;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
int fail(int code, const char* format, ...) noexcept {  // NOLINT(cert-dcl50-cpp): printf-style, format checked by the attribute
    va_list args;
    va_start(args, format);
    (void)std::vsnprintf(last_error.buffer, sizeof last_error.buffer, format, args);  // a longer message is cut: fine
    va_end(args);
    last_error.message = last_error.buffer;
    return code;
}

int code(status s) noexcept { return static_cast<int>(s); }

// Records `s` with the engine's sentence (or tutti_strerror's) for `fn`.
int fail_status(const char* fn, status s, const std::string& detail) noexcept {
    if (s == status::ok) return 0;
    return fail(code(s), "%s: %s", fn, detail.empty() ? tutti::to_string(s) : detail.c_str());
}

// Runs `body` and turns any exception into a code: nothing C++ leaves the ABI.
template <class F>
int guarded(const char* fn, F&& body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return fail(TUTTI_E_OUT_OF_MEMORY, "%s: out of memory", fn);
    } catch (const std::exception& e) {
        return fail(TUTTI_E_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(TUTTI_E_INTERNAL, "%s: unexpected exception", fn);
    }
}

template <class T>
int read_config(const char* fn, const char* name, const T* in, std::size_t min_size, T& out) noexcept {
    if (in == nullptr) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: %s is NULL", fn, name);
    switch (tutti_c::read_struct(in, in->struct_size, min_size, &out, sizeof(T))) {
        case tutti_c::struct_check::ok: out.struct_size = sizeof(T); return TUTTI_OK;
        case tutti_c::struct_check::too_small:
            return fail(TUTTI_E_INVALID_ARGUMENT,
                        "%s: %s->struct_size is %zu, less than the %zu bytes of its first version "
                        "(initialise it with its *_init function)",
                        fn, name, in->struct_size, min_size);
        case tutti_c::struct_check::unknown_fields_set:
            return fail(TUTTI_E_INVALID_ARGUMENT,
                        "%s: %s->struct_size is %zu and sets fields beyond the %zu bytes this tutti %s knows "
                        "(built against a newer tutti.h?)",
                        fn, name, in->struct_size, sizeof(T), tutti_version_string());
        case tutti_c::struct_check::null: break;
    }
    return fail(TUTTI_E_INVALID_ARGUMENT, "%s: %s is NULL", fn, name);
}

// Checks an output struct's size; 0 or a code.
int check_out(const char* fn, const char* name, const void* out, std::size_t min_size) noexcept {
    if (out == nullptr) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: %s is NULL", fn, name);
    std::size_t size;
    std::memcpy(&size, out, sizeof size);
    if (size < min_size)
        return fail(TUTTI_E_INVALID_ARGUMENT, "%s: %s->struct_size is %zu, less than the %zu bytes of its first version",
                    fn, name, size, min_size);
    return TUTTI_OK;
}

template <class T>
void write_out(const T& ours, T* out) noexcept {
    tutti_c::write_struct(&ours, sizeof(T), out, out->struct_size);
}

tutti_room_event to_c(const tutti::room_event& e) noexcept {
    tutti_room_event c{};
    c.struct_size = sizeof c;
    c.kind = static_cast<int>(e.kind);
    c.participant = e.participant;
    c.prompt = e.prompt;
    c.stopped = e.stopped ? 1 : 0;
    c.key = e.key;
    c.duration_ms = e.duration_ms;
    c.level_dbov = e.level_dbov;
    c.tick = e.tick;
    return c;
}

// Fills the fields of an already zeroed `c`.
void room_config_to_c(const tutti::room_config& r, tutti_room_config& c) noexcept {
    c.struct_size = sizeof c;
    c.mixing_rate_hz = r.mixing_rate_hz;
    c.tick_us = r.tick_us;
    c.max_participants = r.max_participants;
    c.loudest_n = r.loudest_n;
    c.talk_start_dbov = r.talk_start_dbov;
    c.talk_stop_dbov = r.talk_stop_dbov;
    c.talk_hangover_ms = r.talk_hangover_ms;
    c.switch_margin_db = r.switch_margin_db;
    c.switch_hold_ms = r.switch_hold_ms;
    c.ramp_ms = r.ramp_ms;
    c.limiter_threshold = r.limiter_threshold;
    c.limiter_ceiling = r.limiter_ceiling;
    c.event_capacity = r.event_capacity;
    c.max_relations = r.max_relations;
    c.max_prompts = r.max_prompts;
    c.client_level_hold_ms = r.client_level_hold_ms;
    c.profile_stages = r.profile_stages ? 1 : 0;
    c.encoding = r.encoding == tutti::encoding_mode::per_participant ? TUTTI_ENCODING_PER_PARTICIPANT : TUTTI_ENCODING_SHARED;
    c.skip_silent_decode = r.skip_silent_decode ? 1 : 0;
    c.workers = reinterpret_cast<tutti_worker_pool*>(r.workers);
}

tutti::room_config room_config_from_c(const tutti_room_config& c) noexcept {
    tutti::room_config r;
    r.mixing_rate_hz = c.mixing_rate_hz;
    r.tick_us = c.tick_us;
    r.max_participants = c.max_participants;
    r.loudest_n = c.loudest_n;
    r.talk_start_dbov = c.talk_start_dbov;
    r.talk_stop_dbov = c.talk_stop_dbov;
    r.talk_hangover_ms = c.talk_hangover_ms;
    r.switch_margin_db = c.switch_margin_db;
    r.switch_hold_ms = c.switch_hold_ms;
    r.ramp_ms = c.ramp_ms;
    r.limiter_threshold = c.limiter_threshold;
    r.limiter_ceiling = c.limiter_ceiling;
    r.event_capacity = c.event_capacity;
    r.max_relations = c.max_relations;
    r.max_prompts = c.max_prompts;
    r.client_level_hold_ms = c.client_level_hold_ms;
    r.profile_stages = c.profile_stages != 0;
    r.encoding = c.encoding == TUTTI_ENCODING_PER_PARTICIPANT ? tutti::encoding_mode::per_participant : tutti::encoding_mode::shared;
    r.skip_silent_decode = c.skip_silent_decode != 0;
    r.workers = reinterpret_cast<tutti::worker_pool*>(c.workers);  // tutti_worker_pool is a tutti::worker_pool
    return r;
}

constexpr std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

constexpr bool all_digits(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char ch : s)
        if (ch < '0' || ch > '9') return false;
    return true;
}

// One direction's format from rtpmap/fmtp/ptime pieces (tutti.h explains the forms).
int format_from_pieces(const char* fn, const char* dir, const char* rtpmap, const char* fmtp, std::uint32_t ptime_ms,
                       std::uint32_t maxptime_ms, tutti::sdp_format& out) {
    if (rtpmap == nullptr) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: %s_rtpmap is NULL", fn, dir);
    std::string error;
    const std::string_view map = trim(rtpmap);
    if (all_digits(map)) {
        unsigned pt = 0;
        for (char ch : map.substr(0, 4)) pt = pt * 10 + static_cast<unsigned>(ch - '0');
        if (map.size() > 3 || pt > tutti::sdp_max_payload_type)
            return fail(TUTTI_E_MALFORMED, "%s: %s_rtpmap \"%s\" is not a payload type (0..127)", fn, dir, rtpmap);
        auto f = tutti::static_payload_format(static_cast<std::uint8_t>(pt));
        if (!f)
            return fail(TUTTI_E_NOT_FOUND, "%s: payload type %u has no static assignment: give its rtpmap (%s_rtpmap)",
                        fn, pt, dir);
        out = std::move(*f);
    } else if (status s = tutti::parse_rtpmap(map, out, &error); s != status::ok) {
        return fail(code(s), "%s: %s_rtpmap: %s", fn, dir, error.c_str());
    }
    if (fmtp != nullptr) {
        const std::string_view f = trim(fmtp);
        // "111 a=b" or "a=fmtp:111 a=b" is a whole fmtp value; anything else is the parameter list.
        std::size_t digits = 0;
        while (digits < f.size() && f[digits] >= '0' && f[digits] <= '9') ++digits;
        const bool whole = f.starts_with("a=fmtp:") || (digits > 0 && digits < f.size() && (f[digits] == ' ' || f[digits] == '\t'));
        std::vector<tutti::fmtp_param> params;
        if (whole) {
            std::uint8_t pt = 0;
            if (status s = tutti::parse_fmtp(f, pt, params, &error); s != status::ok)
                return fail(code(s), "%s: %s_fmtp: %s", fn, dir, error.c_str());
            if (pt != out.payload_type)
                return fail(TUTTI_E_INVALID_ARGUMENT, "%s: %s_fmtp is for payload type %u but %s_rtpmap for %u", fn, dir,
                            unsigned{pt}, dir, unsigned{out.payload_type});
        } else if (status s = tutti::parse_fmtp_params(f, params, &error); s != status::ok) {
            return fail(code(s), "%s: %s_fmtp: %s", fn, dir, error.c_str());
        }
        out.fmtp = std::move(params);
    }
    if (ptime_ms > tutti::sdp_max_ptime_ms || maxptime_ms > tutti::sdp_max_ptime_ms)
        return fail(TUTTI_E_INVALID_ARGUMENT, "%s: %s_ptime_ms %u / %s_maxptime_ms %u: at most %u", fn, dir, ptime_ms, dir,
                    maxptime_ms, tutti::sdp_max_ptime_ms);
    out.ptime_ms = ptime_ms;
    out.maxptime_ms = maxptime_ms;
    return TUTTI_OK;
}

// The non-SDP fields of an RTP participant config.
int rtp_common_from_c(const char* fn, const tutti_rtp_participant_config& c, tutti::rtp_participant_config& r) noexcept {
    if (c.telephone_event_payload_type < -1 || c.telephone_event_payload_type > 127)
        return fail(TUTTI_E_INVALID_ARGUMENT, "%s: telephone_event_payload_type %d is not -1..127", fn,
                    c.telephone_event_payload_type);
    if (c.comfort_noise_payload_type < -1 || c.comfort_noise_payload_type > 127)
        return fail(TUTTI_E_INVALID_ARGUMENT, "%s: comfort_noise_payload_type %d is not -1..127", fn,
                    c.comfort_noise_payload_type);
    if (c.audio_level_extension_id > 14)  // RFC 8285 one-byte ids; 15 is reserved
        return fail(TUTTI_E_INVALID_ARGUMENT, "%s: audio_level_extension_id %u is not 0..14", fn, c.audio_level_extension_id);
    if (c.opus_application != TUTTI_OPUS_APPLICATION_VOIP && c.opus_application != TUTTI_OPUS_APPLICATION_AUDIO)
        return fail(TUTTI_E_INVALID_ARGUMENT, "%s: opus_application %d is not a tutti_opus_application", fn,
                    c.opus_application);
    r.telephone_event_payload_type = c.telephone_event_payload_type;
    r.telephone_event_clock_hz = c.telephone_event_clock_hz;
    r.comfort_noise_payload_type = c.comfort_noise_payload_type;
    r.audio_level_extension_id = static_cast<std::uint8_t>(c.audio_level_extension_id);
    r.ssrc = c.ssrc;
    r.jitter_min_delay_ms = c.jitter_min_delay_ms;
    r.jitter_max_delay_ms = c.jitter_max_delay_ms;
    r.options.opus_bitrate_bps = c.opus_bitrate_bps;
    r.options.opus_complexity = c.opus_complexity;
    r.options.opus_app = static_cast<tutti::opus_application>(c.opus_application);
    r.options.expected_loss_percent = c.expected_loss_percent;
    r.options.opus_max_sample_rate_hz = c.opus_max_sample_rate_hz;
    r.options.default_frame_us = c.default_frame_us;
    return TUTTI_OK;
}

void* default_malloc(std::size_t n, void*) { return std::malloc(n); }
void* default_realloc(void* p, std::size_t n, void*) { return std::realloc(p, n); }
void default_free(void* p, void*) { std::free(p); }

}  // namespace

// The handle: the C++ room plus what the C layer adds (allocator, callback).
struct tutti_room {
    std::unique_ptr<tutti::room> room;
    tutti_allocator allocator{};       // what allocates and frees this handle
    tutti_allocator user_allocator{};  // as the host gave it (for tutti_room_get_config)
    tutti_room_event_callback callback = nullptr;
    void* callback_user = nullptr;
};

#define TUTTI_CHECK_ROOM(fn, r) \
    if ((r) == nullptr || !(r)->room) return fail_static(TUTTI_E_INVALID_ARGUMENT, fn ": room is NULL")

namespace {
template <class T>
int play_prompt(const char* fn, tutti_room* room, uint32_t target, const T* samples, size_t count, uint32_t rate_hz,
                float gain, uint32_t* out) {
    if (room == nullptr || !room->room) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: room is NULL", fn);
    if (out == nullptr) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: out is NULL", fn);
    if (samples == nullptr && count > 0) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: samples is NULL", fn);
    return guarded(fn, [&]() -> int {
        tutti::prompt_id id = 0;
        const status s = room->room->play_prompt(target, std::span<const T>(samples, count), rate_hz, id, gain);
        if (s != status::ok) {
            const char* why = s == status::not_found          ? "no such target participant"
                              : s == status::invalid_argument ? "empty prompt, rate out of 8000..48000 or bad gain"
                              : s == status::out_of_memory    ? "max_prompts are playing, or the control queue is full"
                                                              : tutti::to_string(s);
            return fail(code(s), "%s: %s (target %u)", fn, why, target);
        }
        *out = id;
        return TUTTI_OK;
    });
}
}  // namespace

extern "C" {

const char* tutti_strerror(int s) {
    if (s > 0 || s < TUTTI_E_INTERNAL) return "unknown status";
    return tutti::to_string(static_cast<status>(s));
}

const char* tutti_last_error(void) { return last_error.message; }

uint32_t tutti_version(void) { return TUTTI_VERSION; }

#define TUTTI_STR2(x) #x
#define TUTTI_STR(x) TUTTI_STR2(x)
const char* tutti_version_string(void) {
    return TUTTI_STR(TUTTI_VERSION_MAJOR) "." TUTTI_STR(TUTTI_VERSION_MINOR) "." TUTTI_STR(TUTTI_VERSION_PATCH);
}

// *_init zero every byte first (padding too): a newer library checks that the
// bytes it does not know are zero, and an older caller's struct must pass that.
int tutti_worker_pool_create(unsigned threads, tutti_worker_pool** out) {
    if (!out) return fail(TUTTI_E_INVALID_ARGUMENT, "tutti_worker_pool_create: out is NULL");
    std::unique_ptr<tutti::worker_pool> pool;
    if (const status s = tutti::worker_pool::create(threads, pool); s != status::ok)
        return fail(code(s), "tutti_worker_pool_create: %s (threads %u: 1..64, and the system must start them)", tutti::to_string(s), threads);
    *out = reinterpret_cast<tutti_worker_pool*>(pool.release());
    return TUTTI_OK;
}

void tutti_worker_pool_destroy(tutti_worker_pool* pool) { delete reinterpret_cast<tutti::worker_pool*>(pool); }

void tutti_room_config_init(tutti_room_config* config) {
    if (config == nullptr) return;
    // cppcheck-suppress memsetClassFloat ; every float field is set just below; this zeroes the rest (NULL callbacks, padding)
    std::memset(config, 0, sizeof *config);
    room_config_to_c(tutti::room_config{}, *config);
}

void tutti_rtp_participant_config_init(tutti_rtp_participant_config* config) {
    if (config == nullptr) return;
    const tutti::rtp_participant_config r;
    std::memset(config, 0, sizeof *config);
    tutti_rtp_participant_config& c = *config;
    c.struct_size = sizeof c;
    c.telephone_event_payload_type = r.telephone_event_payload_type;
    c.telephone_event_clock_hz = r.telephone_event_clock_hz;
    c.comfort_noise_payload_type = r.comfort_noise_payload_type;
    c.audio_level_extension_id = r.audio_level_extension_id;
    c.ssrc = r.ssrc;
    c.jitter_min_delay_ms = r.jitter_min_delay_ms;
    c.jitter_max_delay_ms = r.jitter_max_delay_ms;
    c.opus_bitrate_bps = r.options.opus_bitrate_bps;
    c.opus_complexity = r.options.opus_complexity;
    c.opus_application = static_cast<int>(r.options.opus_app);
    c.expected_loss_percent = r.options.expected_loss_percent;
    c.opus_max_sample_rate_hz = r.options.opus_max_sample_rate_hz;
    c.default_frame_us = r.options.default_frame_us;
}

void tutti_pcm_participant_config_init(tutti_pcm_participant_config* config) {
    if (config == nullptr) return;
    const tutti::pcm_participant_config r;
    std::memset(config, 0, sizeof *config);
    config->struct_size = sizeof *config;
    config->sample_rate_hz = r.sample_rate_hz;
    config->channels = r.channels;
}

int tutti_room_create(const tutti_room_config* config, tutti_room** out) {
    static constexpr const char* fn = "tutti_room_create";
    if (out == nullptr) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: out is NULL", fn);
    *out = nullptr;
    tutti_room_config c;
    tutti_room_config_init(&c);
    if (int e = read_config(fn, "config", config, room_config_v1_size, c)) return e;
    tutti_allocator a = c.allocator;
    if ((a.malloc_fn == nullptr) != (a.free_fn == nullptr))
        return fail(TUTTI_E_INVALID_ARGUMENT, "%s: config->allocator needs both malloc_fn and free_fn, or neither", fn);
    if (a.malloc_fn == nullptr) a = tutti_allocator{nullptr, default_malloc, default_realloc, default_free};
    return guarded(fn, [&]() -> int {
        std::unique_ptr<tutti::room> r;
        std::string error;
        if (status s = tutti::room::create(room_config_from_c(c), r, &error); s != status::ok)
            return fail_status(fn, s, error);
        void* memory = a.malloc_fn(sizeof(tutti_room), a.user);
        if (memory == nullptr) return fail(TUTTI_E_OUT_OF_MEMORY, "%s: config->allocator returned NULL", fn);
        auto* handle = new (memory) tutti_room;
        handle->room = std::move(r);
        handle->allocator = a;
        handle->user_allocator = c.allocator;
        handle->callback = c.event_callback;
        handle->callback_user = c.event_user;
        *out = handle;
        return TUTTI_OK;
    });
}

void tutti_room_destroy(tutti_room* room) {
    if (room == nullptr) return;
    const tutti_allocator a = room->allocator;
    room->~tutti_room();  // the C++ room's destructor is noexcept
    a.free_fn(room, a.user);
}

int tutti_room_join_rtp(tutti_room* room, const tutti_rtp_participant_config* config, uint32_t* out) {
    static constexpr const char* fn = "tutti_room_join_rtp";
    TUTTI_CHECK_ROOM("tutti_room_join_rtp", room);
    if (out == nullptr) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: out is NULL", fn);
    tutti_rtp_participant_config c;
    tutti_rtp_participant_config_init(&c);
    if (int e = read_config(fn, "config", config, rtp_config_v1_size, c)) return e;
    return guarded(fn, [&]() -> int {
        tutti::rtp_participant_config r;
        if (int e = rtp_common_from_c(fn, c, r)) return e;
        if (int e = format_from_pieces(fn, "receive", c.receive_rtpmap, c.receive_fmtp, c.receive_ptime_ms,
                                       c.receive_maxptime_ms, r.receive))
            return e;
        if (c.send_rtpmap == nullptr) {
            r.send = r.receive;
        } else if (int e = format_from_pieces(fn, "send", c.send_rtpmap, c.send_fmtp, c.send_ptime_ms,
                                              c.send_maxptime_ms, r.send)) {
            return e;
        }
        std::string error;
        tutti::participant_id id = 0;
        if (status s = room->room->join_rtp(r, id, &error); s != status::ok) return fail_status(fn, s, error);
        *out = id;
        return TUTTI_OK;
    });
}

int tutti_room_join_rtp_sdp(tutti_room* room, const char* sdp, int payload_type,
                            const tutti_rtp_participant_config* config, uint32_t* out) {
    static constexpr const char* fn = "tutti_room_join_rtp_sdp";
    TUTTI_CHECK_ROOM("tutti_room_join_rtp_sdp", room);
    if (out == nullptr) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: out is NULL", fn);
    if (sdp == nullptr) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: sdp is NULL", fn);
    if (payload_type < -1 || payload_type > 127)
        return fail(TUTTI_E_INVALID_ARGUMENT, "%s: payload_type %d is not -1..127", fn, payload_type);
    tutti_rtp_participant_config c;
    tutti_rtp_participant_config_init(&c);
    if (config != nullptr)
        if (int e = read_config(fn, "config", config, rtp_config_v1_size, c)) return e;
    return guarded(fn, [&]() -> int {
        std::vector<tutti::sdp_format> formats;
        std::string error;
        if (status s = tutti::parse_sdp_audio(sdp, formats, &error); s != status::ok)
            return fail(code(s), "%s: %s", fn, error.empty() ? tutti::to_string(s) : error.c_str());
        const tutti::sdp_format* chosen = nullptr;
        std::string listed;
        for (const auto& f : formats) {
            listed += (listed.empty() ? "" : ", ") + std::to_string(f.payload_type) + " " + f.encoding_name;
            if (chosen != nullptr) continue;
            if (payload_type >= 0 ? f.payload_type == payload_type : room->room->codecs().find(f.encoding_name) != nullptr)
                chosen = &f;
        }
        if (chosen == nullptr) {
            if (payload_type >= 0)
                return fail(TUTTI_E_NOT_FOUND, "%s: payload type %d is not in the m=audio section (%s)", fn, payload_type,
                            listed.c_str());
            return fail(TUTTI_E_NOT_FOUND, "%s: no format of the m=audio section (%s) is one tutti can code", fn,
                        listed.c_str());
        }
        c.telephone_event_payload_type = -1;
        c.comfort_noise_payload_type = -1;
        for (const auto& f : formats) {
            if (f.is("telephone-event") &&
                (c.telephone_event_payload_type < 0 || (f.clock_rate_hz == chosen->clock_rate_hz &&
                                                        c.telephone_event_clock_hz != chosen->clock_rate_hz))) {
                c.telephone_event_payload_type = f.payload_type;
                c.telephone_event_clock_hz = f.clock_rate_hz;
            }
            if (f.is("CN") && f.clock_rate_hz == 8000 && c.comfort_noise_payload_type < 0)
                c.comfort_noise_payload_type = f.payload_type;
        }
        tutti::rtp_participant_config r;
        if (int e = rtp_common_from_c(fn, c, r)) return e;
        r.receive = *chosen;
        r.send = *chosen;
        tutti::participant_id id = 0;
        if (status s = room->room->join_rtp(r, id, &error); s != status::ok) return fail_status(fn, s, error);
        *out = id;
        return TUTTI_OK;
    });
}

int tutti_room_join_pcm(tutti_room* room, const tutti_pcm_participant_config* config, uint32_t* out) {
    static constexpr const char* fn = "tutti_room_join_pcm";
    TUTTI_CHECK_ROOM("tutti_room_join_pcm", room);
    if (out == nullptr) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: out is NULL", fn);
    tutti_pcm_participant_config c;
    tutti_pcm_participant_config_init(&c);
    if (int e = read_config(fn, "config", config, pcm_config_v1_size, c)) return e;
    if (c.channels > 0xffff) return fail(TUTTI_E_INVALID_ARGUMENT, "%s: channels %u is out of range", fn, c.channels);
    return guarded(fn, [&]() -> int {
        std::string error;
        tutti::participant_id id = 0;
        const tutti::pcm_participant_config r{c.sample_rate_hz, static_cast<std::uint16_t>(c.channels)};
        if (status s = room->room->join_pcm(r, id, &error); s != status::ok) return fail_status(fn, s, error);
        *out = id;
        return TUTTI_OK;
    });
}

// Control calls whose C++ form returns a bare status: the message names the call and the id.
#define TUTTI_CONTROL(fn, room, id, call)                                                             \
    TUTTI_CHECK_ROOM(fn, room);                                                                        \
    return guarded(fn, [&]() -> int {                                                                  \
        const status s = (call);                                                                       \
        if (s == status::ok) return TUTTI_OK;                                                          \
        return fail(code(s), "%s: %s (participant or prompt %u)", fn, tutti::to_string(s), unsigned{id}); \
    })

int tutti_room_leave(tutti_room* room, uint32_t participant) {
    TUTTI_CONTROL("tutti_room_leave", room, participant, room->room->leave(participant));
}
int tutti_room_set_input_gain(tutti_room* room, uint32_t participant, float gain) {
    TUTTI_CONTROL("tutti_room_set_input_gain", room, participant, room->room->set_input_gain(participant, gain));
}
int tutti_room_set_output_gain(tutti_room* room, uint32_t participant, float gain) {
    TUTTI_CONTROL("tutti_room_set_output_gain", room, participant, room->room->set_output_gain(participant, gain));
}
int tutti_room_set_muted(tutti_room* room, uint32_t participant, int muted) {
    TUTTI_CONTROL("tutti_room_set_muted", room, participant, room->room->set_muted(participant, muted != 0));
}
int tutti_room_set_deaf(tutti_room* room, uint32_t participant, int deaf) {
    TUTTI_CONTROL("tutti_room_set_deaf", room, participant, room->room->set_deaf(participant, deaf != 0));
}
int tutti_room_set_hears(tutti_room* room, uint32_t listener, uint32_t talker, int hears) {
    TUTTI_CHECK_ROOM("tutti_room_set_hears", room);
    return guarded("tutti_room_set_hears", [&]() -> int {
        const status s = room->room->set_hears(listener, talker, hears != 0);
        if (s == status::ok) return TUTTI_OK;
        return fail(code(s), "tutti_room_set_hears: %s (listener %u, talker %u)", tutti::to_string(s), listener, talker);
    });
}
int tutti_room_stop_prompt(tutti_room* room, uint32_t prompt) {
    TUTTI_CONTROL("tutti_room_stop_prompt", room, prompt, room->room->stop_prompt(prompt));
}
int tutti_room_enable_tap(tutti_room* room, int enabled) {
    TUTTI_CHECK_ROOM("tutti_room_enable_tap", room);
    return guarded("tutti_room_enable_tap", [&]() -> int {
        const status s = room->room->enable_tap(enabled != 0);
        return s == status::ok ? TUTTI_OK : fail(code(s), "tutti_room_enable_tap: %s", tutti::to_string(s));
    });
}


int tutti_room_play_prompt(tutti_room* room, uint32_t target, const float* samples, size_t count, uint32_t rate_hz,
                           float gain, uint32_t* out) {
    return play_prompt("tutti_room_play_prompt", room, target, samples, count, rate_hz, gain, out);
}
int tutti_room_play_prompt_s16(tutti_room* room, uint32_t target, const int16_t* samples, size_t count,
                               uint32_t rate_hz, float gain, uint32_t* out) {
    return play_prompt("tutti_room_play_prompt_s16", room, target, samples, count, rate_hz, gain, out);
}

// Media and tick: the C++ calls are noexcept and never allocate; errors are
// recorded as static strings (a pointer store), never formatted.

int tutti_room_pull_tap(tutti_room* room, float* out, size_t capacity, uint32_t* rate_hz) {
    TUTTI_CHECK_ROOM("tutti_room_pull_tap", room);
    if (out == nullptr && capacity > 0) return fail_static(TUTTI_E_INVALID_ARGUMENT, "tutti_room_pull_tap: out is NULL");
    const std::ptrdiff_t n = room->room->pull_tap(std::span<float>(out, capacity), rate_hz);
    if (n < 0) return fail_static(static_cast<int>(n), "tutti_room_pull_tap: out cannot hold a tick (the tick is dropped)");
    return static_cast<int>(n);
}

int tutti_room_push_rtp(tutti_room* room, uint32_t participant, const uint8_t* datagram, size_t size, int64_t arrival_us) {
    TUTTI_CHECK_ROOM("tutti_room_push_rtp", room);
    if (datagram == nullptr && size > 0) return fail_static(TUTTI_E_INVALID_ARGUMENT, "tutti_room_push_rtp: datagram is NULL");
    const status s = room->room->push_rtp(participant, std::span<const std::uint8_t>(datagram, size), arrival_us);
    switch (s) {
        case status::ok: return TUTTI_OK;
        case status::not_found: return fail_static(code(s), "tutti_room_push_rtp: unknown participant");
        case status::invalid_argument: return fail_static(code(s), "tutti_room_push_rtp: not an RTP participant");
        case status::buffer_too_small: return fail_static(code(s), "tutti_room_push_rtp: receive ring full (packet dropped)");
        default: return fail_static(code(s), "tutti_room_push_rtp: refused");
    }
}

int tutti_room_push_pcm(tutti_room* room, uint32_t participant, const int16_t* samples, size_t frames, uint32_t channels) {
    TUTTI_CHECK_ROOM("tutti_room_push_pcm", room);
    if (samples == nullptr) return fail_static(TUTTI_E_INVALID_ARGUMENT, "tutti_room_push_pcm: samples is NULL");
    const status s = room->room->push_pcm(participant, tutti::interleaved_view<const std::int16_t>(samples, frames, channels));
    switch (s) {
        case status::ok: return TUTTI_OK;
        case status::not_found: return fail_static(code(s), "tutti_room_push_pcm: unknown participant");
        case status::invalid_argument:
            return fail_static(code(s), "tutti_room_push_pcm: not a PCM participant, or frames/channels are not one tick of its format");
        case status::buffer_too_small: return fail_static(code(s), "tutti_room_push_pcm: ring full (frame dropped)");
        default: return fail_static(code(s), "tutti_room_push_pcm: refused");
    }
}

int tutti_room_pull_rtp(tutti_room* room, uint32_t participant, uint8_t* out, size_t capacity) {
    TUTTI_CHECK_ROOM("tutti_room_pull_rtp", room);
    if (out == nullptr && capacity > 0) return fail_static(TUTTI_E_INVALID_ARGUMENT, "tutti_room_pull_rtp: out is NULL");
    const std::ptrdiff_t n = room->room->pull_rtp(participant, std::span<std::uint8_t>(out, capacity));
    if (n >= 0) return static_cast<int>(n);
    switch (static_cast<status>(n)) {
        case status::not_found: return fail_static(static_cast<int>(n), "tutti_room_pull_rtp: unknown participant");
        case status::invalid_argument: return fail_static(static_cast<int>(n), "tutti_room_pull_rtp: not an RTP participant");
        case status::buffer_too_small: return fail_static(static_cast<int>(n), "tutti_room_pull_rtp: out is smaller than the packet");
        default: return fail_static(static_cast<int>(n), "tutti_room_pull_rtp: refused");
    }
}

int tutti_room_pull_pcm(tutti_room* room, uint32_t participant, int16_t* samples, size_t frames, uint32_t channels) {
    TUTTI_CHECK_ROOM("tutti_room_pull_pcm", room);
    if (samples == nullptr) return fail_static(TUTTI_E_INVALID_ARGUMENT, "tutti_room_pull_pcm: samples is NULL");
    const std::ptrdiff_t n = room->room->pull_pcm(participant, tutti::interleaved_view<std::int16_t>(samples, frames, channels));
    if (n >= 0) return static_cast<int>(n);
    switch (static_cast<status>(n)) {
        case status::not_found: return fail_static(static_cast<int>(n), "tutti_room_pull_pcm: unknown participant");
        case status::invalid_argument:
            return fail_static(static_cast<int>(n), "tutti_room_pull_pcm: not a PCM participant, or wrong channels");
        case status::buffer_too_small: return fail_static(static_cast<int>(n), "tutti_room_pull_pcm: frames is less than one tick");
        default: return fail_static(static_cast<int>(n), "tutti_room_pull_pcm: refused");
    }
}

int tutti_room_tick(tutti_room* room, int64_t now_us) {
    TUTTI_CHECK_ROOM("tutti_room_tick", room);
    const status s = room->room->tick(now_us);
    // Events go to the callback one at a time (no allocation: one on the stack),
    // so that a callback that removes itself leaves the rest queued for polling.
    tutti::room_event event;
    while (room->callback != nullptr && room->room->poll_events(std::span<tutti::room_event>(&event, 1)) == 1) {
        const tutti_room_event e = to_c(event);
        try {
            room->callback(room->callback_user, room, &e);
        } catch (...) {  // a C++ host's callback threw: the exception must not unwind through C
            return fail_static(TUTTI_E_INTERNAL, "tutti_room_tick: the event callback threw an exception");
        }
    }
    if (s != status::ok) return fail_static(code(s), "tutti_room_tick: the tick failed");
    return TUTTI_OK;
}

size_t tutti_room_tick_frames(const tutti_room* room) {
    if (room == nullptr || !room->room) return 0;
    return room->room->tick_frames();
}

int tutti_room_poll_events(tutti_room* room, tutti_room_event* events, size_t capacity) {
    TUTTI_CHECK_ROOM("tutti_room_poll_events", room);
    if (capacity == 0) return 0;
    if (events == nullptr) return fail_static(TUTTI_E_INVALID_ARGUMENT, "tutti_room_poll_events: events is NULL");
    const std::size_t stride = events[0].struct_size;
    if (stride < event_v1_size)
        return fail_static(TUTTI_E_INVALID_ARGUMENT,
                           "tutti_room_poll_events: events[0].struct_size is less than sizeof(tutti_room_event) "
                           "of the first version");
    if (room->callback != nullptr) return 0;
    if (capacity > static_cast<std::size_t>(INT32_MAX)) capacity = INT32_MAX;
    auto* bytes = reinterpret_cast<unsigned char*>(events);
    std::size_t total = 0;
    tutti::room_event chunk[32];
    while (total < capacity) {
        const std::size_t want = std::min(capacity - total, std::size(chunk));
        const std::size_t n = room->room->poll_events(std::span<tutti::room_event>(chunk, want));
        for (std::size_t i = 0; i < n; ++i) {
            auto* dst = reinterpret_cast<tutti_room_event*>(bytes + (total + i) * stride);
            std::memcpy(&dst->struct_size, &stride, sizeof stride);
            const tutti_room_event e = to_c(chunk[i]);
            tutti_c::write_struct(&e, sizeof e, dst, stride);
        }
        total += n;
        if (n < want) break;
    }
    return static_cast<int>(total);
}

int tutti_room_set_event_callback(tutti_room* room, tutti_room_event_callback callback, void* user) {
    TUTTI_CHECK_ROOM("tutti_room_set_event_callback", room);
    room->callback = callback;
    room->callback_user = user;
    return TUTTI_OK;
}

int tutti_room_get_participant_stats(const tutti_room* room, uint32_t participant, tutti_participant_stats* out) {
    TUTTI_CHECK_ROOM("tutti_room_get_participant_stats", room);
    if (int e = check_out("tutti_room_get_participant_stats", "out", out, participant_stats_v1_size)) return e;
    tutti::participant_stats s;
    if (const status st = room->room->get_participant_stats(participant, s); st != status::ok)
        return fail(code(st), "tutti_room_get_participant_stats: %s (participant %u)", tutti::to_string(st), participant);
    tutti_participant_stats c{};
    c.struct_size = sizeof c;
    const tutti::jitter_buffer_stats& j = s.jitter;
    c.jitter = tutti_jitter_buffer_stats{j.packets_received,    j.packets_duplicate,        j.packets_late,
                                         j.packets_reordered,   j.packets_rejected,         j.packets_overflow,
                                         j.packets_lost,        j.packets_decoded,          j.fec_recovered,
                                         j.concealed_samples,   j.silence_samples,          j.accelerate_samples,
                                         j.stretch_samples,     j.silence_skipped_samples,  j.silence_inserted_samples,
                                         j.resyncs,             j.ticks,                    j.current_delay_ms,
                                         j.target_delay_ms,     j.jitter_ms};
    c.input_level_dbov = s.input_level_dbov;
    c.output_level_dbov = s.output_level_dbov;
    c.talking = s.talking ? 1 : 0;
    c.mixed = s.mixed ? 1 : 0;
    c.talk_ticks = s.talk_ticks;
    c.times_selected = s.times_selected;
    c.packets_in = s.packets_in;
    c.packets_rejected = s.packets_rejected;
    c.packets_in_overflow = s.packets_in_overflow;
    c.packets_out = s.packets_out;
    c.packets_out_overflow = s.packets_out_overflow;
    c.frames_encoded = s.frames_encoded;
    c.dtmf_events = s.dtmf_events;
    c.packets_with_level = s.packets_with_level;
    c.client_level_dbov = s.client_level_dbov;
    c.client_voice = s.client_voice ? 1 : 0;
    c.detection_level_dbov = s.detection_level_dbov;
    c.shared_encoder = s.shared_encoder ? 1 : 0;
    c.packets_shared = s.packets_shared;
    c.encoder_switches = s.encoder_switches;
    c.ticks_not_decoded = s.ticks_not_decoded;
    c.packets_not_decoded = s.jitter.packets_not_decoded;
    c.packets_rate_limited = s.packets_rate_limited;
    write_out(c, out);
    return TUTTI_OK;
}

int tutti_room_get_stats(const tutti_room* room, tutti_room_stats* out) {
    TUTTI_CHECK_ROOM("tutti_room_get_stats", room);
    if (int e = check_out("tutti_room_get_stats", "out", out, room_stats_v1_size)) return e;
    const tutti::room_stats& s = room->room->stats();
    tutti_room_stats c{};
    c.struct_size = sizeof c;
    c.ticks = s.ticks;
    c.participants = s.participants;
    c.mixing_rate_hz = s.mixing_rate_hz;
    c.talkers_mixed = s.talkers_mixed;
    c.tick_mean_us = s.tick_mean_us;
    c.tick_max_us = s.tick_max_us;
    c.tick_last_us = s.tick_last_us;
    c.events_dropped = s.events_dropped;
    c.commands_dropped = s.commands_dropped;
    c.prompts_playing = s.prompts_playing;
    c.tap_frames = s.tap_frames;
    c.tap_dropped = s.tap_dropped;
    for (int i = 0; i < TUTTI_TICK_STAGE_COUNT; ++i) c.stage_ns[i] = s.stage_ns[i];
    c.encoders_run = s.encoders_run;
    c.shared_encoders = s.shared_encoders;
    c.listeners_shared = s.listeners_shared;
    c.decoders_skipped = s.decoders_skipped;
    c.late_ticks = s.late_ticks;
    c.early_ticks = s.early_ticks;
    write_out(c, out);
    return TUTTI_OK;
}

int tutti_room_get_config(const tutti_room* room, tutti_room_config* out) {
    TUTTI_CHECK_ROOM("tutti_room_get_config", room);
    if (int e = check_out("tutti_room_get_config", "out", out, room_config_v1_size)) return e;
    tutti_room_config c{};
    room_config_to_c(room->room->config(), c);
    c.allocator = room->user_allocator;
    c.event_callback = room->callback;
    c.event_user = room->callback_user;
    write_out(c, out);
    return TUTTI_OK;
}

}  // extern "C"
