/* tutti/tutti.h: the C99 ABI of the conference engine, for hosts written in C
 * (Asterisk, FreeSWITCH, Janus modules) or reached through an FFI.
 *
 * It wraps the C++ room of tutti/conference.hpp one to one: tutti_room_join_rtp
 * is room::join_rtp, tutti_room_tick is room::tick, and so on; read that header
 * for what the engine does. Flow, per participant, every tick:
 *   RTP in -> jitter buffer -> decoder -> resampler -> mix-minus -> limiter ->
 *   resampler -> encoder -> RTP out     (PCM participants skip the codec/RTP ends)
 *
 * Conventions:
 *  - Handles are opaque (tutti_room); participants and prompts are uint32_t ids
 *    (never 0; a room reuses a participant id only after (2^32 - 1) /
 *    max_participants further joins).
 *  - Every function that can fail returns an int: TUTTI_OK (0) or a negative
 *    TUTTI_E_* code; functions that produce data return "count or negative
 *    code", like opus_encode. tutti_strerror() names a code; tutti_last_error()
 *    gives the detailed sentence of the latest failure on the calling thread.
 *  - No C++ exception ever leaves a tutti_* function: everything is caught at
 *    the boundary and turned into a code (allocation failure: TUTTI_E_OUT_OF_MEMORY).
 *  - Structs that may grow begin with `size_t struct_size`. Call the matching
 *    *_init() (or set struct_size = sizeof(the struct)) before use. A library
 *    reads older, smaller structs (missing fields take their defaults) and
 *    newer, larger ones as long as the fields it does not know are all zero
 *    (left at the defaults of a *_init() that sets them to zero); anything else
 *    is TUTTI_E_INVALID_ARGUMENT. The *_init() functions zero the whole struct
 *    (padding included) before setting defaults, so build configs with them.
 *    Output structs (stats, events) are written up to the caller's struct_size.
 *  - Units are in the names: _hz, _ms, _us (microseconds), _dbov (0 = full
 *    scale); "frames" count one sample per channel.
 *
 * Threads. The host owns every thread; each declaration says which may call it:
 *  [any-thread]      any thread, any time.
 *  [control-thread]  join, leave, gains, relations, prompts: any thread, while
 *                    ticks run; they allocate on the calling thread, serialise
 *                    among themselves, and reach the tick through a lock-free queue.
 *  [tick-thread]     the one thread that calls tutti_room_tick (the host's timer),
 *                    and only between ticks.
 *  [media-thread]    push/pull for one participant: one thread pushes and one
 *                    thread pulls (either may be the tick thread). Stop pushing
 *                    and pulling a participant before tutti_room_leave() for it.
 * tutti_room_tick never allocates, locks, logs or throws once participants are
 * set up (tests/c_api_test.cpp proves the "allocates" part with an allocation
 * counter).
 *
 * Memory. tutti_room_config.allocator, when set, serves every allocation the C
 * layer itself makes (the room handle). It does NOT reach the engine: the C++
 * room, its participants' codecs, jitter buffers and resamplers, and
 * libopus/SpeexDSP use the process's operator new / malloc, on the calling
 * control thread (never in the tick). Routing those would mean threading an
 * allocator through the whole engine; ask if you need it.
 */
#ifndef TUTTI_TUTTI_H
#define TUTTI_TUTTI_H

#include <stddef.h>
#include <stdint.h>

/* Compile-time version (the same numbers as tutti/config.hpp). */
#define TUTTI_VERSION_MAJOR 0
#define TUTTI_VERSION_MINOR 1
#define TUTTI_VERSION_PATCH 0
/** major * 10000 + minor * 100 + patch, for `#if TUTTI_VERSION >= ...`. */
#define TUTTI_VERSION (TUTTI_VERSION_MAJOR * 10000 + TUTTI_VERSION_MINOR * 100 + TUTTI_VERSION_PATCH)

#if defined(__GNUC__) || defined(__clang__)
#define TUTTI_API __attribute__((visibility("default")))
#define TUTTI_NODISCARD __attribute__((warn_unused_result))
#else
#define TUTTI_API
#define TUTTI_NODISCARD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes: the same numbers as tutti::status (status.hpp).            */

#define TUTTI_OK 0                    /**< success */
#define TUTTI_E_INVALID_ARGUMENT (-1) /**< a parameter is out of range (NULL handle, wrong struct_size, bad gain ...) */
#define TUTTI_E_BUFFER_TOO_SMALL (-2) /**< the output buffer cannot hold the result, or a ring is full */
#define TUTTI_E_UNSUPPORTED (-3)      /**< valid request this build does not implement */
#define TUTTI_E_MALFORMED (-4)        /**< input data violates its format (bad SDP, rtpmap, fmtp) */
#define TUTTI_E_TRUNCATED (-5)        /**< input data ends before its own headers say it should */
#define TUTTI_E_IO (-6)               /**< the operating system refused a file operation */
#define TUTTI_E_OUT_OF_MEMORY (-7)    /**< an allocation failed, or a fixed capacity is exhausted */
#define TUTTI_E_NOT_FOUND (-8)        /**< unknown participant, prompt or codec; SDP without m=audio */
#define TUTTI_E_INTERNAL (-9)         /**< a dependency failed unexpectedly, or an unexpected C++ exception */

/** A short static description of `status` ("not found"); "unknown status" for
 *  numbers that are not codes. Never NULL. [any-thread] */
TUTTI_API const char* tutti_strerror(int status);

/** The English sentence describing the latest failure of a tutti_* call on the
 *  calling thread (e.g. "tutti_room_join_rtp: send rtpmap: ..."), or "" when
 *  none failed yet. Successful calls leave it alone (like errno). The string
 *  is thread-local storage: valid until the next failing tutti_* call on this
 *  thread. Never NULL. [any-thread] */
TUTTI_API const char* tutti_last_error(void);

/** The run-time version, TUTTI_VERSION of the library actually linked
 *  (compare with the compile-time TUTTI_VERSION). [any-thread] */
TUTTI_API uint32_t tutti_version(void);
/** The same as "major.minor.patch". Static, never NULL. [any-thread] */
TUTTI_API const char* tutti_version_string(void);

/* ------------------------------------------------------------------------ */
/* Allocator.                                                               */

/** Caller-supplied memory for the C layer (see "Memory" above). Either all of
 *  malloc_fn/free_fn are NULL (use malloc/free) or both are set; realloc_fn is
 *  optional (NULL: the C layer never needs it today). malloc_fn must return
 *  memory aligned like malloc's, or NULL on failure. The functions may be
 *  called on any control thread (never by tutti_room_tick), concurrently for
 *  different rooms. */
typedef struct tutti_allocator {
    void* user; /**< passed back to every function */
    void* (*malloc_fn)(size_t size, void* user);
    void* (*realloc_fn)(void* ptr, size_t size, void* user);
    void (*free_fn)(void* ptr, void* user);
} tutti_allocator;

/* ------------------------------------------------------------------------ */
/* Events.                                                                  */

/** What happened (room_event_kind). */
typedef enum tutti_room_event_kind {
    TUTTI_ROOM_EVENT_JOINED = 0,
    TUTTI_ROOM_EVENT_LEFT = 1,
    TUTTI_ROOM_EVENT_TALK_START = 2,
    TUTTI_ROOM_EVENT_TALK_STOP = 3,
    TUTTI_ROOM_EVENT_DTMF_BEGIN = 4,
    TUTTI_ROOM_EVENT_DTMF_END = 5,
    TUTTI_ROOM_EVENT_PROMPT_DONE = 6
} tutti_room_event_kind;

/** One event (room_event). Output struct: see tutti_room_poll_events. */
typedef struct tutti_room_event {
    size_t struct_size;
    int kind;                /**< a tutti_room_event_kind */
    uint32_t participant;    /**< who; PROMPT_DONE: the prompt's target (0 = whole room) */
    uint32_t prompt;         /**< PROMPT_DONE: which prompt */
    int stopped;             /**< PROMPT_DONE: 1 when cut short (stop_prompt, target left) */
    char key;                /**< DTMF: '0'-'9', '*', '#', 'A'-'D' */
    uint32_t duration_ms;    /**< DTMF_END: how long the key was held */
    float level_dbov;        /**< TALK_START: the level that started it */
    uint64_t tick;           /**< tick number when it happened */
} tutti_room_event;

typedef struct tutti_room tutti_room;

/** Called from tutti_room_tick, on the tick thread, once per event after the
 *  tick's work is done. `event` is valid during the call only. It must not
 *  block, and must not call tutti_room_tick or tutti_room_destroy on this
 *  room; control calls from it are allowed but allocate on the tick thread.
 *  It may replace or remove itself (tutti_room_set_event_callback): events
 *  not yet delivered then go to the new callback, or wait for polling. */
typedef void (*tutti_room_event_callback)(void* user, tutti_room* room, const tutti_room_event* event);

/* ------------------------------------------------------------------------ */
/* Rooms.                                                                   */

/** Threads that share the per-participant work of ticks (worker_pool). The
 *  host creates it, may give it to several rooms ticked from one thread, and
 *  destroys it after them. */
typedef struct tutti_worker_pool tutti_worker_pool;

/** Starts threads - 1 threads (the thread calling tutti_room_tick is the
 *  last). TUTTI_E_INVALID_ARGUMENT for 0 or more than 64, TUTTI_E_OUT_OF_MEMORY.
 *  [control-thread] */
TUTTI_API int tutti_worker_pool_create(unsigned threads, tutti_worker_pool** out);
/** Joins the threads. NULL is ignored. Only when no room uses it. [control-thread] */
TUTTI_API void tutti_worker_pool_destroy(tutti_worker_pool* pool);

/** room_config::encoding. */
#define TUTTI_ENCODING_SHARED 0
#define TUTTI_ENCODING_PER_PARTICIPANT 1

/** Settings of a room (room_config). Levels in dBov, times in ms. */
typedef struct tutti_room_config {
    size_t struct_size;
    uint32_t mixing_rate_hz;      /**< 8000..48000, or 0: the highest rate any participant needs (default 0) */
    uint32_t tick_us;             /**< 10000, 20000 (default) or 40000 */
    uint32_t max_participants;    /**< slots allocated at creation (64) */
    uint32_t loudest_n;           /**< talkers mixed at once, 1..16 (3) */
    float talk_start_dbov;        /**< smoothed level that starts a talkspurt (-40) */
    float talk_stop_dbov;         /**< ... and that ends it after the hang-over (-48) */
    uint32_t talk_hangover_ms;    /**< (400) */
    float switch_margin_db;       /**< a talker replaces a mixed one only when this much louder (3) ... */
    uint32_t switch_hold_ms;      /**< ... for this long (200) */
    uint32_t ramp_ms;             /**< gain ramps when a talker enters or leaves the mix (20) */
    float limiter_threshold;      /**< linear (0.5) */
    float limiter_ceiling;        /**< linear (0.95) */
    uint32_t event_capacity;      /**< events held until polled (1024) */
    uint32_t max_relations;       /**< "does not hear" entries per listener (8) */
    uint32_t max_prompts;         /**< prompts playing or waiting to be freed at once (16) */
    uint32_t client_level_hold_ms;/**< RFC 6464 client level validity (100) */
    int profile_stages;           /**< 1: time each tick stage (tutti_room_stats.stage_ns) */
    tutti_allocator allocator;    /**< all NULL (default): malloc/free */
    /** NULL (default): events are polled with tutti_room_poll_events. Set:
     *  tutti_room_tick hands each event to it instead. */
    tutti_room_event_callback event_callback;
    void* event_user;             /**< passed to event_callback */
    int encoding;                 /**< TUTTI_ENCODING_SHARED (default) or TUTTI_ENCODING_PER_PARTICIPANT (encoding_mode) */
    int skip_silent_decode;       /**< 1 (default): silent participants are not decoded (room_config::skip_silent_decode) */
    tutti_worker_pool* workers;   /**< NULL (default): the whole tick on the calling thread; else see tutti_worker_pool_create */
} tutti_room_config;

/** Sets struct_size and the defaults of room_config. [any-thread] */
TUTTI_API void tutti_room_config_init(tutti_room_config* config);

/** Creates a room (room::create). On success stores the handle in *out and
 *  returns TUTTI_OK; otherwise *out is set to NULL (when out is not NULL) and
 *  tutti_last_error() says which setting is wrong. [control-thread] */
TUTTI_API TUTTI_NODISCARD int tutti_room_create(const tutti_room_config* config, tutti_room** out);

/** Destroys a room and everything in it. NULL is a no-op. No other call on the
 *  room may run or follow. [control-thread, with ticks stopped] */
TUTTI_API void tutti_room_destroy(tutti_room* room);

/* ------------------------------------------------------------------------ */
/* Participants.                                                            */

/** Opus encoder application (codec_options::opus_app). */
typedef enum tutti_opus_application {
    TUTTI_OPUS_APPLICATION_VOIP = 0,
    TUTTI_OPUS_APPLICATION_AUDIO = 1
} tutti_opus_application;

/** An RTP participant (rtp_participant_config + codec_options). Each direction
 *  is given as SDP text pieces, as a SIP stack hands them over:
 *   - *_rtpmap: the a=rtpmap value, "111 opus/48000/2" ("a=rtpmap:" prefix
 *     accepted), or only a static payload type number, "0" (PCMU) / "8" / "9";
 *   - *_fmtp: NULL, the parameters ("minptime=10;useinbandfec=1"), or the whole
 *     a=fmtp value ("111 minptime=10", whose payload type must match);
 *   - *_ptime_ms / *_maxptime_ms: a=ptime / a=maxptime, 0 when absent.
 *  The strings are read during the call only. */
typedef struct tutti_rtp_participant_config {
    size_t struct_size;
    const char* receive_rtpmap;   /**< what the participant sends (decoded here); required */
    const char* receive_fmtp;
    uint32_t receive_ptime_ms;
    uint32_t receive_maxptime_ms;
    const char* send_rtpmap;      /**< what it receives from us (encoded here); NULL: same as receive */
    const char* send_fmtp;        /**< used only with send_rtpmap */
    uint32_t send_ptime_ms;
    uint32_t send_maxptime_ms;
    int telephone_event_payload_type;  /**< RFC 4733 payload type both ways, -1 (default) if not negotiated */
    uint32_t telephone_event_clock_hz; /**< its rtpmap clock (8000; WebRTC uses 48000 beside Opus) */
    int comfort_noise_payload_type;    /**< RFC 3389 CN payload type it may send, -1 (default) if none */
    uint32_t audio_level_extension_id; /**< RFC 6464 extension id 1..14 both ways, 0 (default) if none */
    uint32_t ssrc;                     /**< SSRC of the stream we send */
    uint32_t jitter_min_delay_ms;      /**< (0) */
    uint32_t jitter_max_delay_ms;      /**< (500) */
    /* codec_options: the host's codec choices that SDP does not carry. */
    int opus_bitrate_bps;              /**< 6000..510000 (32000) */
    int opus_complexity;               /**< 0..10 (10) */
    int opus_application;              /**< a tutti_opus_application (VOIP) */
    int expected_loss_percent;         /**< 0..100 (0) */
    uint32_t opus_max_sample_rate_hz;  /**< (48000) */
    uint32_t default_frame_us;         /**< packet time without a=ptime (20000) */
} tutti_rtp_participant_config;

/** Sets struct_size and the defaults (NULL strings). [any-thread] */
TUTTI_API void tutti_rtp_participant_config_init(tutti_rtp_participant_config* config);

/** Adds an RTP participant (room::join_rtp): builds its decoder, jitter buffer,
 *  encoder, resamplers and packetizer (allocates). Stores its id in *out.
 *  TUTTI_E_MALFORMED for rtpmap/fmtp text that does not parse, TUTTI_E_NOT_FOUND
 *  for a codec tutti does not have, TUTTI_E_INVALID_ARGUMENT for a format the
 *  codec cannot do; tutti_last_error() says which. [control-thread] */
TUTTI_API TUTTI_NODISCARD int tutti_room_join_rtp(tutti_room* room, const tutti_rtp_participant_config* config,
                                                  uint32_t* out);

/** Adds an RTP participant from the negotiated SDP (typically the answer):
 *  parses its first m=audio section with tutti's SDP parser and uses, for both
 *  directions, the format with `payload_type`, or with -1 the first listed
 *  format tutti can code. telephone-event (same clock as that format, else any)
 *  and CN/8000 payload types of the section are used too. `config` gives the
 *  rest (ssrc, jitter, codec options, audio level id; its rtpmap/fmtp/ptime and
 *  payload type fields are ignored) and may be NULL for the defaults. C-only
 *  convenience over room::join_rtp. [control-thread] */
TUTTI_API TUTTI_NODISCARD int tutti_room_join_rtp_sdp(tutti_room* room, const char* sdp, int payload_type,
                                                      const tutti_rtp_participant_config* config, uint32_t* out);

/** A PCM participant (pcm_participant_config): the host hands in and takes
 *  out one tick of interleaved int16 frames. */
typedef struct tutti_pcm_participant_config {
    size_t struct_size;
    uint32_t sample_rate_hz; /**< 8000..48000 (16000) */
    uint32_t channels;       /**< 1 or 2 (1) */
} tutti_pcm_participant_config;

/** Sets struct_size and the defaults. [any-thread] */
TUTTI_API void tutti_pcm_participant_config_init(tutti_pcm_participant_config* config);

/** Adds a PCM participant (room::join_pcm); its id in *out. [control-thread] */
TUTTI_API TUTTI_NODISCARD int tutti_room_join_pcm(tutti_room* room, const tutti_pcm_participant_config* config,
                                                  uint32_t* out);

/** Removes a participant (ramped out, freed by a later control call).
 *  TUTTI_E_NOT_FOUND for an unknown id. [control-thread] */
TUTTI_API int tutti_room_leave(tutti_room* room, uint32_t participant);

/** Linear gain on what the participant says (1 = unchanged). [control-thread] */
TUTTI_API int tutti_room_set_input_gain(tutti_room* room, uint32_t participant, float gain);
/** Linear gain on what the participant hears. [control-thread] */
TUTTI_API int tutti_room_set_output_gain(tutti_room* room, uint32_t participant, float gain);
/** muted != 0: heard by nobody. [control-thread] */
TUTTI_API int tutti_room_set_muted(tutti_room* room, uint32_t participant, int muted);
/** deaf != 0: hears nothing (and is not encoded for). [control-thread] */
TUTTI_API int tutti_room_set_deaf(tutti_room* room, uint32_t participant, int deaf);
/** Whether `listener` hears `talker` (default yes). [control-thread] */
TUTTI_API int tutti_room_set_hears(tutti_room* room, uint32_t listener, uint32_t talker, int hears);

/* ------------------------------------------------------------------------ */
/* Prompts and the mix tap.                                                 */

/** The prompt target meaning "everyone in the room" (whole_room). */
#define TUTTI_WHOLE_ROOM 0u

/** Plays `count` mono float samples at `rate_hz` (8000..48000; copied) to
 *  `target` (TUTTI_WHOLE_ROOM or one participant), scaled by linear `gain`
 *  (room::play_prompt; read its comment for where it is mixed). Its id in *out;
 *  a PROMPT_DONE event follows when it ends. TUTTI_E_OUT_OF_MEMORY when
 *  max_prompts are in use. [control-thread] */
TUTTI_API TUTTI_NODISCARD int tutti_room_play_prompt(tutti_room* room, uint32_t target, const float* samples,
                                                     size_t count, uint32_t rate_hz, float gain, uint32_t* out);
/** The same for int16 samples (x / 32768). [control-thread] */
TUTTI_API TUTTI_NODISCARD int tutti_room_play_prompt_s16(tutti_room* room, uint32_t target, const int16_t* samples,
                                                         size_t count, uint32_t rate_hz, float gain, uint32_t* out);
/** Stops a prompt (faded out; PROMPT_DONE with stopped = 1). TUTTI_E_NOT_FOUND
 *  when it already finished. [control-thread] */
TUTTI_API int tutti_room_stop_prompt(tutti_room* room, uint32_t prompt);

/** enabled != 0 starts the mix tap (each tick's room mix, mono float at the
 *  mixing rate, for recording), 0 stops it. The first start allocates.
 *  [control-thread] */
TUTTI_API int tutti_room_enable_tap(tutti_room* room, int enabled);
/** Takes the oldest tick of the tap into `out` (room `capacity` floats): frames
 *  written, 0 when none waits, or TUTTI_E_BUFFER_TOO_SMALL (that tick is
 *  dropped; 960 floats hold a 20 ms tick at 48 kHz). Its rate goes to *rate_hz
 *  when not NULL. [one thread] */
TUTTI_API int tutti_room_pull_tap(tutti_room* room, float* out, size_t capacity, uint32_t* rate_hz);

/* ------------------------------------------------------------------------ */
/* Media.                                                                   */

/** Hands in one received RTP (or RTCP, ignored) datagram of `size` bytes with
 *  its arrival time on the host's monotonic clock (µs, the clock of
 *  tutti_room_tick). Copied. TUTTI_E_BUFFER_TOO_SMALL when the participant's
 *  ring is full (counted), TUTTI_E_INVALID_ARGUMENT for a PCM participant.
 *  Never allocates. [media-thread: one receive thread per participant] */
TUTTI_API int tutti_room_push_rtp(tutti_room* room, uint32_t participant, const uint8_t* datagram, size_t size,
                                  int64_t arrival_us);
/** Hands in one tick of a PCM participant's audio: `frames` interleaved frames
 *  of `channels` int16 samples (its rate and channels: tutti_room_tick_frames
 *  scaled to its rate). [media-thread] */
TUTTI_API int tutti_room_push_pcm(tutti_room* room, uint32_t participant, const int16_t* samples, size_t frames,
                                  uint32_t channels);
/** Takes the next RTP packet to send into `out` (`capacity` bytes; 1500 is
 *  always enough): its size, 0 when none waits, or a negative code.
 *  [media-thread: one send thread per participant] */
TUTTI_API int tutti_room_pull_rtp(tutti_room* room, uint32_t participant, uint8_t* out, size_t capacity);
/** Takes the next tick of mixed PCM into `samples` (room for `frames` frames of
 *  `channels`): frames written, 0 when none waits, or a negative code.
 *  [media-thread] */
TUTTI_API int tutti_room_pull_pcm(tutti_room* room, uint32_t participant, int16_t* samples, size_t frames,
                                  uint32_t channels);

/** Runs one tick (room::tick): applies control changes, pulls in media, mixes,
 *  produces media out, then hands events to the event callback if one is set.
 *  `now_us` is the host's monotonic clock. Never allocates. [tick-thread] */
TUTTI_API int tutti_room_tick(tutti_room* room, int64_t now_us);

/** Frames per tick at the current mixing rate (0 for a NULL room). [tick-thread] */
TUTTI_API size_t tutti_room_tick_frames(const tutti_room* room);

/* ------------------------------------------------------------------------ */
/* Events and statistics.                                                   */

/** Moves up to `capacity` pending events into `events` (room::poll_events):
 *  returns how many, or a negative code. events[0].struct_size must be set to
 *  sizeof(tutti_room_event) as the caller knows it: it is the array's stride,
 *  and each returned event is written up to it (and gets it as struct_size).
 *  Returns 0 while an event callback is set (tick hands events there).
 *  [tick-thread] */
TUTTI_API int tutti_room_poll_events(tutti_room* room, tutti_room_event* events, size_t capacity);

/** Installs (or with NULL removes) the event callback of
 *  tutti_room_config.event_callback. [tick-thread, between ticks] */
TUTTI_API int tutti_room_set_event_callback(tutti_room* room, tutti_room_event_callback callback, void* user);

/** Jitter buffer counters (jitter_buffer_stats), embedded in
 *  tutti_participant_stats. Its layout is frozen: new jitter counters will be
 *  appended to tutti_participant_stats instead. */
typedef struct tutti_jitter_buffer_stats {
    uint64_t packets_received;     /**< accepted */
    uint64_t packets_duplicate;
    uint64_t packets_late;         /**< arrived after their time was concealed: dropped */
    uint64_t packets_reordered;
    uint64_t packets_rejected;     /**< bad payload */
    uint64_t packets_overflow;     /**< dropped: beyond the window, or held at a restart or at the end of a flood */
    uint64_t packets_lost;         /**< played as FEC or PLC */
    uint64_t packets_decoded;
    uint64_t fec_recovered;
    uint64_t concealed_samples;    /**< PLC output, per channel */
    uint64_t silence_samples;      /**< silence / comfort noise output */
    uint64_t accelerate_samples;
    uint64_t stretch_samples;
    uint64_t silence_skipped_samples;
    uint64_t silence_inserted_samples;
    uint64_t resyncs;              /**< restarts: SSRC change, confirmed jump, media clock ahead, end of a flood */
    uint64_t ticks;
    float current_delay_ms;
    float target_delay_ms;
    float jitter_ms;               /**< RFC 3550 interarrival jitter */
} tutti_jitter_buffer_stats;

/** RTP datagrams a participant may send per second before the tick drops
 *  them unread (max_receive_packets_per_second; bursts of 256 pass). */
#define TUTTI_MAX_RECEIVE_PACKETS_PER_SECOND 1000

/** Counters of one participant (participant_stats). Output struct. */
typedef struct tutti_participant_stats {
    size_t struct_size;
    tutti_jitter_buffer_stats jitter;  /**< RTP participants only */
    float input_level_dbov;            /**< last tick, after input gain */
    float output_level_dbov;           /**< last tick, what it was sent */
    int talking;
    int mixed;                         /**< among the loudest-N this tick */
    uint64_t talk_ticks;
    uint64_t times_selected;
    uint64_t packets_in;
    uint64_t packets_rejected;
    uint64_t packets_in_overflow;
    uint64_t packets_out;
    uint64_t packets_out_overflow;
    uint64_t frames_encoded;
    uint64_t dtmf_events;
    uint64_t packets_with_level;
    float client_level_dbov;
    int client_voice;
    float detection_level_dbov;
    int shared_encoder;                /**< its packets come from a shared encoder this tick */
    uint64_t packets_shared;           /**< packets sent with a shared encoder's payload */
    uint64_t encoder_switches;         /**< moves between its own encoder and the shared one */
    uint64_t ticks_not_decoded;        /**< ticks its jitter buffer ran without decoding */
    uint64_t packets_not_decoded;      /**< packets played out without decoding */
    uint64_t packets_rate_limited;     /**< datagrams dropped unread: over TUTTI_MAX_RECEIVE_PACKETS_PER_SECOND (a flood) */
} tutti_participant_stats;

/** Fills *out (set out->struct_size first) for a participant (room::
 *  get_participant_stats). [tick-thread, between ticks] */
TUTTI_API int tutti_room_get_participant_stats(const tutti_room* room, uint32_t participant,
                                               tutti_participant_stats* out);

/** Stages of the tick, indexes of tutti_room_stats.stage_ns (tick_stage). */
typedef enum tutti_tick_stage {
    TUTTI_TICK_STAGE_RECEIVE = 0,
    TUTTI_TICK_STAGE_JITTER_DECODE = 1,
    TUTTI_TICK_STAGE_RESAMPLE_IN = 2,
    TUTTI_TICK_STAGE_MIX = 3,
    TUTTI_TICK_STAGE_RESAMPLE_OUT = 4,
    TUTTI_TICK_STAGE_ENCODE = 5,
    TUTTI_TICK_STAGE_PACKETIZE = 6,
    TUTTI_TICK_STAGE_COUNT = 7
} tutti_tick_stage;

/** Counters of the room (room_stats). Output struct. */
typedef struct tutti_room_stats {
    size_t struct_size;
    uint64_t ticks;
    uint32_t participants;
    uint32_t mixing_rate_hz;
    uint32_t talkers_mixed;        /**< last tick */
    double tick_mean_us;           /**< wall time in tick, mean since creation */
    double tick_max_us;
    double tick_last_us;
    uint64_t events_dropped;       /**< event queue full */
    uint64_t commands_dropped;     /**< control queue full */
    uint32_t prompts_playing;
    uint64_t tap_frames;
    uint64_t tap_dropped;
    uint64_t stage_ns[TUTTI_TICK_STAGE_COUNT]; /**< with profile_stages */
    uint32_t encoders_run;         /**< last tick: encoders that encoded (a shared one counts once) */
    uint32_t shared_encoders;      /**< shared encoders in the room */
    uint32_t listeners_shared;     /**< last tick: listeners sending a shared encoder's payloads */
    uint32_t decoders_skipped;     /**< last tick: participants not decoded */
    uint64_t late_ticks;           /**< tick called more than 1.5 tick intervals after the previous one */
    uint64_t early_ticks;          /**< tick called less than half a tick interval after the previous one (or earlier) */
} tutti_room_stats;

/** Fills *out (set out->struct_size first) (room::stats). [tick-thread, between ticks] */
TUTTI_API int tutti_room_get_stats(const tutti_room* room, tutti_room_stats* out);

/** Fills *out (set out->struct_size first, e.g. with tutti_room_config_init)
 *  with the room's settings (room::config), its allocator as given and the
 *  current event callback. [tick-thread, between ticks] */
TUTTI_API int tutti_room_get_config(const tutti_room* room, tutti_room_config* out);

#ifdef __cplusplus
}
#endif

#endif /* TUTTI_TUTTI_H */
