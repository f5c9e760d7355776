/* tutti/plugin.h: the plugin ABI. Plain C99, no tutti library needed.
 *
 * A plugin is a shared object that exports one symbol, `tutti_plugin_entry`
 * (a const tutti_plugin_entry_t). Through it the host finds factories by
 * string id, and the factories make the three kinds of plugin object:
 *
 *   codec     (TUTTI_CODEC_FACTORY_ID)     encoders and decoders registered in
 *             a tutti::codec_registry under their SDP encoding name;
 *   processor (TUTTI_PROCESSOR_FACTORY_ID) changes one participant's voice
 *             before the mix, or what one participant hears after it;
 *   tap       (TUTTI_TAP_FACTORY_ID)       receives (never changes) one
 *             participant's voice, what it hears, or the room mix each tick.
 *
 * Where they sit in the room's flow (see tutti/conference.hpp):
 *   RTP in -> jitter buffer -> [codec plugin decoder] -> resampler ->
 *   [input processors] -> input gain, level -> mix -> prompts ->
 *   [room-mix taps, input taps] -> mix-minus -> output gain ->
 *   [output processors] -> limiter -> [output taps] -> resampler ->
 *   [codec plugin encoder] -> RTP out
 *
 * Design, after CLAP: every top-level struct begins with its ABI version;
 * factories and extensions are found by versioned string ids ("tutti.x/1"), so
 * a later ABI adds ids instead of changing structs; every field says who owns
 * it and which thread may call it:
 *   [control-thread]  a host thread that may allocate and block (set-up);
 *                     the host serialises calls on one object;
 *   [tick-thread]     the real-time thread that runs the room's tick: no
 *                     allocation, no locks, no system calls that may block, no
 *                     logging; return within the host's time budget;
 *   [any-thread]      any thread, concurrently.
 * Memory: everything a processor or tap needs is allocated in activate(), for
 * the one sample rate and frame count it is given; process() only computes.
 * Codec objects allocate when created and never in encode/decode.
 *
 * Units: rates in Hz, durations in µs unless a name says _ms, sizes in bytes,
 * `frames` = samples per channel. Audio is float, 1.0 = int16 full scale.
 * Strings are UTF-8 (ASCII for ids and keys), NUL-terminated.
 *
 * Errors: functions that can fail return int32_t: TUTTI_PLUGIN_OK (0), a count
 * (>= 0) where they produce data, or one of the negative TUTTI_PLUGIN_E_*
 * codes, which have the numbers of tutti::status. Where a function takes
 * `error` and `error_size`, on failure it writes one English sentence there
 * (NUL-terminated, truncated to error_size); `error` is never NULL.
 */
#ifndef TUTTI_PLUGIN_H
#define TUTTI_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */

/** An ABI version. A host loads a plugin whose major equals its own and whose
 *  minor is not above its own (a minor adds ids or appends fields). */
typedef struct tutti_plugin_version {
    uint32_t major;
    uint32_t minor;
    uint32_t revision;
} tutti_plugin_version_t;

#define TUTTI_PLUGIN_VERSION_MAJOR 1
#define TUTTI_PLUGIN_VERSION_MINOR 0
#define TUTTI_PLUGIN_VERSION_REVISION 0
/** What plugins write first in each top-level struct. */
#define TUTTI_PLUGIN_VERSION_INIT {TUTTI_PLUGIN_VERSION_MAJOR, TUTTI_PLUGIN_VERSION_MINOR, TUTTI_PLUGIN_VERSION_REVISION}

/** Non-zero when a host built with this header can use something declared with `v`. */
static inline int tutti_plugin_version_is_compatible(tutti_plugin_version_t v) {
    return v.major == TUTTI_PLUGIN_VERSION_MAJOR && v.minor <= TUTTI_PLUGIN_VERSION_MINOR;
}

/* ------------------------------------------------------------------------ */
/* Results (same numbers as tutti::status)                                   */

#define TUTTI_PLUGIN_OK 0
#define TUTTI_PLUGIN_E_INVALID_ARGUMENT (-1) /**< a parameter is outside its documented range */
#define TUTTI_PLUGIN_E_BUFFER_TOO_SMALL (-2) /**< the output buffer cannot hold the result */
#define TUTTI_PLUGIN_E_UNSUPPORTED (-3)      /**< a valid request this plugin does not implement */
#define TUTTI_PLUGIN_E_MALFORMED (-4)        /**< input data violates its format */
#define TUTTI_PLUGIN_E_TRUNCATED (-5)        /**< input data is shorter than its headers say */
#define TUTTI_PLUGIN_E_IO (-6)               /**< the operating system refused a file operation */
#define TUTTI_PLUGIN_E_OUT_OF_MEMORY (-7)    /**< an allocation failed (only outside process) */
#define TUTTI_PLUGIN_E_NOT_FOUND (-8)        /**< unknown id, key or name */
#define TUTTI_PLUGIN_E_INTERNAL (-9)         /**< a dependency failed unexpectedly */

/* ------------------------------------------------------------------------ */
/* The host, as the plugin sees it                                           */

typedef struct tutti_plugin_host tutti_plugin_host_t;
/** Handed to the plugin's init(). Owned by the host; valid until deinit() returns. */
struct tutti_plugin_host {
    tutti_plugin_version_t abi_version; /**< the host's ABI version */
    const char* name;                   /**< e.g. "tutti"; owned by the host */
    const char* version;                /**< the host's version string; owned by the host */
    void* host_data;                    /**< reserved for the host; plugins must not touch it */
    /** A host extension by id, or NULL when the host has none. [any-thread]
     *  The returned struct is owned by the host and valid until deinit(). */
    const void* (*get_extension)(const tutti_plugin_host_t* host, const char* extension_id);
};

/* ------------------------------------------------------------------------ */
/* The entry point                                                           */

/** The one symbol a plugin exports: `TUTTI_PLUGIN_EXPORT const tutti_plugin_entry_t tutti_plugin_entry = {...};`.
 *  Owned by the plugin (static storage); the host reads it after dlopen. */
typedef struct tutti_plugin_entry {
    tutti_plugin_version_t abi_version; /**< TUTTI_PLUGIN_VERSION_INIT; checked before anything else is read */
    const char* id;                     /**< reverse-DNS id, e.g. "org.example.gsm"; static storage */
    const char* name;                   /**< human-readable; static storage */
    const char* vendor;                 /**< static storage; may be "" */
    const char* version;                /**< the plugin's own version, e.g. "1.2.0"; static storage */
    /** Called once after loading, before any other call. Returns TUTTI_PLUGIN_OK
     *  or a negative code with a sentence in `error` (the host then unloads
     *  without calling deinit). `host` stays valid until deinit() returns.
     *  [control-thread] */
    int32_t (*init)(const tutti_plugin_host_t* host, char* error, size_t error_size);
    /** Called once before unloading, after every object the plugin made is
     *  destroyed. [control-thread] */
    void (*deinit)(void);
    /** A factory by id (TUTTI_*_FACTORY_ID), or NULL when the plugin has none.
     *  The factory is owned by the plugin and valid until deinit(). Called only
     *  between init() and deinit(). [control-thread] */
    const void* (*get_factory)(const char* factory_id);
} tutti_plugin_entry_t;

#if defined(_WIN32)
#define TUTTI_PLUGIN_EXPORT __declspec(dllexport)
#else
#define TUTTI_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/** Name of the exported symbol, for dlsym(). */
#define TUTTI_PLUGIN_ENTRY_SYMBOL "tutti_plugin_entry"

/* ------------------------------------------------------------------------ */
/* Descriptors and parameters (shared by processors and taps)                */

/** Describes one processor or tap a factory can make. Owned by the plugin,
 *  static storage (valid until deinit). */
typedef struct tutti_plugin_descriptor {
    tutti_plugin_version_t abi_version; /**< TUTTI_PLUGIN_VERSION_INIT */
    const char* id;                     /**< unique within the plugin, e.g. "org.example.speex-preprocess" */
    const char* name;
    const char* description;            /**< one sentence; may be "" */
} tutti_plugin_descriptor_t;

/** Extension id of tutti_params_extension_t (optional on processors and taps). */
#define TUTTI_EXT_PARAMS "tutti.params/1"

/** One key/value parameter a processor or tap accepts (for listing only;
 *  set_param is the authority). Strings owned by the plugin, static storage. */
typedef struct tutti_param_info {
    const char* key;           /**< e.g. "noise_suppress_db" */
    const char* default_value; /**< as set_param would take it, e.g. "-25" */
    const char* description;   /**< one sentence with its units and range */
} tutti_param_info_t;

/** Lists parameters. Owned by the plugin (static storage). [control-thread] */
typedef struct tutti_params_extension {
    uint32_t (*count)(void);
    /** Fills `out` for index < count(); returns TUTTI_PLUGIN_OK or E_NOT_FOUND. */
    int32_t (*get)(uint32_t index, tutti_param_info_t* out);
} tutti_params_extension_t;

/* ------------------------------------------------------------------------ */
/* Processors                                                                */

#define TUTTI_PROCESSOR_FACTORY_ID "tutti.processor-factory/1"

/** Lifecycle: create -> set_param* -> activate -> process* (tick) ->
 *  [deactivate -> set_param* -> activate -> ...] -> destroy (deactivates first
 *  if needed). The object and everything it points to are owned by the plugin
 *  until destroy(); the host never frees them. */
typedef struct tutti_processor tutti_processor_t;
struct tutti_processor {
    const tutti_plugin_descriptor_t* descriptor; /**< what it is; owned by the plugin */
    void* plugin_data;                           /**< the plugin's state; the host never touches it */

    /** Sets one parameter from strings (copied; pointers are the host's and
     *  valid only during the call). Only while not active. Returns OK,
     *  E_NOT_FOUND (unknown key) or E_INVALID_ARGUMENT (bad value), with a
     *  sentence in `error`. [control-thread] */
    int32_t (*set_param)(const tutti_processor_t* p, const char* key, const char* value, char* error, size_t error_size);
    /** Allocates everything process() needs. Each process() call then has
     *  exactly `frames` frames of mono audio at `sample_rate_hz` (one room
     *  tick: e.g. 320 frames at 16000 Hz for 20 ms). Returns OK or an error
     *  with a sentence. [control-thread] */
    int32_t (*activate)(const tutti_processor_t* p, uint32_t sample_rate_hz, uint32_t frames, char* error,
                        size_t error_size);
    /** Frees what activate() allocated. Only while active. [control-thread] */
    void (*deactivate)(const tutti_processor_t* p);
    /** Processes one tick: reads `frames` samples from `in`, writes `frames`
     *  samples to `out`. Both belong to the host and are valid only during the
     *  call; they never overlap. Returns OK, or a negative code: the host then
     *  discards `out` and uses `in` unchanged (bypass) for this tick, and
     *  counts it. A call that takes longer than the host's budget is treated
     *  the same way; after a few failures in a row the host stops calling.
     *  Only while active. [tick-thread] */
    int32_t (*process)(const tutti_processor_t* p, const float* in, float* out, uint32_t frames);
    /** Forgets history (as after activate); may be NULL. Only while active. [tick-thread] */
    void (*reset)(const tutti_processor_t* p);
    /** An extension by id (e.g. TUTTI_EXT_PARAMS), or NULL. The returned
     *  struct is owned by the plugin, valid until destroy(). [control-thread] */
    const void* (*get_extension)(const tutti_processor_t* p, const char* extension_id);
    /** Frees the object (deactivating it first when active). [control-thread] */
    void (*destroy)(const tutti_processor_t* p);
};

/** Makes processors. Owned by the plugin, valid until deinit(). [control-thread] */
typedef struct tutti_processor_factory {
    tutti_plugin_version_t abi_version; /**< TUTTI_PLUGIN_VERSION_INIT */
    /** How many kinds of processor the plugin has. */
    uint32_t (*count)(const struct tutti_processor_factory* f);
    /** The descriptor at index < count(), else NULL. */
    const tutti_plugin_descriptor_t* (*get_descriptor)(const struct tutti_processor_factory* f, uint32_t index);
    /** Makes a processor by descriptor id. Returns OK and sets *out (owned by
     *  the plugin until its destroy()), or E_NOT_FOUND / E_OUT_OF_MEMORY with
     *  a sentence, leaving *out alone. */
    int32_t (*create)(const struct tutti_processor_factory* f, const char* processor_id, const tutti_processor_t** out,
                      char* error, size_t error_size);
} tutti_processor_factory_t;

/* ------------------------------------------------------------------------ */
/* Taps                                                                      */

#define TUTTI_TAP_FACTORY_ID "tutti.tap-factory/1"

/** Same lifecycle and rules as a processor, but process() only reads. A tap
 *  that must write files or sockets hands the audio to a thread of its own
 *  (started in activate, joined in deactivate): process() must not block. */
typedef struct tutti_tap tutti_tap_t;
struct tutti_tap {
    const tutti_plugin_descriptor_t* descriptor; /**< owned by the plugin */
    void* plugin_data;                           /**< the plugin's state */
    /** As tutti_processor_t::set_param. [control-thread] */
    int32_t (*set_param)(const tutti_tap_t* t, const char* key, const char* value, char* error, size_t error_size);
    /** As tutti_processor_t::activate. [control-thread] */
    int32_t (*activate)(const tutti_tap_t* t, uint32_t sample_rate_hz, uint32_t frames, char* error, size_t error_size);
    /** As tutti_processor_t::deactivate: a recorder finishes its file here. [control-thread] */
    void (*deactivate)(const tutti_tap_t* t);
    /** Receives one tick (`frames` samples, host-owned, valid during the call).
     *  Returns OK or a negative code (counted; a tap that keeps failing or
     *  overrunning the budget is no longer called). [tick-thread] */
    int32_t (*process)(const tutti_tap_t* t, const float* in, uint32_t frames);
    /** May be NULL. [tick-thread] */
    void (*reset)(const tutti_tap_t* t);
    /** As tutti_processor_t::get_extension. [control-thread] */
    const void* (*get_extension)(const tutti_tap_t* t, const char* extension_id);
    /** As tutti_processor_t::destroy. [control-thread] */
    void (*destroy)(const tutti_tap_t* t);
};

/** Makes taps; same rules as tutti_processor_factory_t. [control-thread] */
typedef struct tutti_tap_factory {
    tutti_plugin_version_t abi_version; /**< TUTTI_PLUGIN_VERSION_INIT */
    uint32_t (*count)(const struct tutti_tap_factory* f);
    const tutti_plugin_descriptor_t* (*get_descriptor)(const struct tutti_tap_factory* f, uint32_t index);
    int32_t (*create)(const struct tutti_tap_factory* f, const char* tap_id, const tutti_tap_t** out, char* error,
                      size_t error_size);
} tutti_tap_factory_t;

/* ------------------------------------------------------------------------ */
/* Codecs                                                                    */

#define TUTTI_CODEC_FACTORY_ID "tutti.codec-factory/1"

/** One fmtp parameter. Strings owned by the host, valid during the call. */
typedef struct tutti_fmtp_param {
    const char* key;
    const char* value;
} tutti_fmtp_param_t;

/** A negotiated SDP format (the host's; valid only during the create call). */
typedef struct tutti_sdp_format {
    uint8_t payload_type;             /**< 0..127 */
    const char* encoding_name;        /**< rtpmap name as written, e.g. "GSM" */
    uint32_t clock_rate_hz;           /**< rtpmap clock rate */
    uint16_t channels;                /**< rtpmap channels (1 when absent) */
    const tutti_fmtp_param_t* fmtp;   /**< fmtp_count parameters, in SDP order */
    uint32_t fmtp_count;
    uint32_t ptime_ms;                /**< a=ptime, 0 when absent */
    uint32_t maxptime_ms;             /**< a=maxptime, 0 when absent */
    uint32_t default_frame_us;        /**< the host's packet time when ptime is absent (usually 20000) */
} tutti_sdp_format_t;

/** What the PCM side of an encoder or decoder looks like. */
typedef struct tutti_codec_format {
    uint32_t sample_rate_hz; /**< 8000..48000 */
    uint16_t channels;       /**< 1 or 2 (interleaved) */
    uint32_t frame_us;       /**< the encoder's packet duration; the decoder's nominal one */
} tutti_codec_format_t;

/** An encoder. Owned by the plugin until destroy(). Used by one thread at a time. */
typedef struct tutti_codec_encoder tutti_codec_encoder_t;
struct tutti_codec_encoder {
    tutti_codec_format_t format; /**< constant after create */
    void* plugin_data;           /**< the plugin's state */
    /** Encodes exactly format.frame_us worth of frames of `pcm` (interleaved,
     *  host-owned) into `payload` (capacity bytes, host-owned). Returns the
     *  payload size, 0 for "nothing to send" (DTX), or a negative code
     *  (E_INVALID_ARGUMENT: wrong frame count; E_BUFFER_TOO_SMALL). Never
     *  allocates. [tick-thread] */
    int32_t (*encode)(const tutti_codec_encoder_t* e, const float* pcm, uint32_t frames, uint8_t* payload,
                      uint32_t capacity);
    /** Forgets history. [tick-thread] */
    void (*reset)(const tutti_codec_encoder_t* e);
    /** Frees it. [control-thread] */
    void (*destroy)(const tutti_codec_encoder_t* e);
};

/** A decoder. Owned by the plugin until destroy(). Used by one thread at a time. */
typedef struct tutti_codec_decoder tutti_codec_decoder_t;
struct tutti_codec_decoder {
    tutti_codec_format_t format; /**< constant after create */
    void* plugin_data;
    /** Frames `payload` decodes to, or a negative code when it is not a valid
     *  payload. Reads nothing but the payload. [tick-thread] */
    int32_t (*frames_in)(const tutti_codec_decoder_t* d, const uint8_t* payload, uint32_t size);
    /** Decodes into `pcm` (room for `max_frames` frames, interleaved). Returns
     *  frames written or a negative code; the decoder stays usable. [tick-thread] */
    int32_t (*decode)(const tutti_codec_decoder_t* d, const uint8_t* payload, uint32_t size, float* pcm,
                      uint32_t max_frames);
    /** Fills `frames` frames of `pcm` for a lost packet (fading over repeated
     *  calls). Returns frames. May be NULL: the host then fades out the last
     *  decoded audio itself. [tick-thread] */
    int32_t (*conceal)(const tutti_codec_decoder_t* d, float* pcm, uint32_t frames);
    /** Forgets history. [tick-thread] */
    void (*reset)(const tutti_codec_decoder_t* d);
    /** Frees it. [control-thread] */
    void (*destroy)(const tutti_codec_decoder_t* d);
};

/** Makes encoders and decoders by SDP encoding name. Owned by the plugin,
 *  valid until deinit(). [control-thread] */
typedef struct tutti_codec_factory {
    tutti_plugin_version_t abi_version; /**< TUTTI_PLUGIN_VERSION_INIT */
    /** How many encoding names the plugin provides. */
    uint32_t (*count)(const struct tutti_codec_factory* f);
    /** The SDP encoding name at index < count() (e.g. "GSM"; compared
     *  ignoring ASCII case; static storage), else NULL. */
    const char* (*get_encoding_name)(const struct tutti_codec_factory* f, uint32_t index);
    /** Makes an encoder for `format` (what the remote side receives). Returns
     *  OK and sets *out, or E_INVALID_ARGUMENT (the SDP asks for something the
     *  codec cannot do) / E_OUT_OF_MEMORY with a sentence, leaving *out alone. */
    int32_t (*create_encoder)(const struct tutti_codec_factory* f, const tutti_sdp_format_t* format,
                              const tutti_codec_encoder_t** out, char* error, size_t error_size);
    /** Makes a decoder for `format` (what the remote side sends). Same returns. */
    int32_t (*create_decoder)(const struct tutti_codec_factory* f, const tutti_sdp_format_t* format,
                              const tutti_codec_decoder_t** out, char* error, size_t error_size);
} tutti_codec_factory_t;

#ifdef __cplusplus
}
#endif

#endif /* TUTTI_PLUGIN_H */
