/* Example codec plugin: GSM 06.10 full rate (RFC 3551 "GSM", 8000 Hz, mono,
 * 33-byte frames of 20 ms) on libgsm.
 *
 * Shows: a codec added without touching tutti. The host registers the
 * plugin's encoding names in its codec registry (plugin::register_codecs), and
 * rooms then build GSM encoders and decoders from SDP like the built-in ones.
 * Packets carry 1..3 frames (a=ptime 20, 40 or 60; 20 when absent). No
 * concealment of its own: conceal is NULL, so the host's fade-out is used. */
#include <gsm.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tutti/plugin.h>

enum { gsm_frame_bytes = 33, gsm_frame_samples = 160, max_frames_per_packet = 3 };

typedef struct gsm_encoder_state {
    tutti_codec_encoder_t api;
    gsm g;
    uint32_t frames_per_packet;
} gsm_encoder_state;

typedef struct gsm_decoder_state {
    tutti_codec_decoder_t api;
    gsm g;
} gsm_decoder_state;

static int16_t to_s16(float x) {
    if (isnan(x)) return 0; /* converting NaN to an integer is undefined behaviour (found by plugin_codec_fuzz) */
    x *= 32768.0f;
    x = x > 32767.0f ? 32767.0f : x < -32768.0f ? -32768.0f : x;
    return (int16_t)(x < 0 ? x - 0.5f : x + 0.5f);
}

static int32_t encode(const tutti_codec_encoder_t* e, const float* pcm, uint32_t frames, uint8_t* payload, uint32_t capacity) {
    gsm_encoder_state* s = (gsm_encoder_state*)e->plugin_data;
    if (frames != s->frames_per_packet * gsm_frame_samples) return TUTTI_PLUGIN_E_INVALID_ARGUMENT;
    if (capacity < s->frames_per_packet * gsm_frame_bytes) return TUTTI_PLUGIN_E_BUFFER_TOO_SMALL;
    for (uint32_t f = 0; f < s->frames_per_packet; ++f) {
        gsm_signal samples[gsm_frame_samples];
        for (int i = 0; i < gsm_frame_samples; ++i) samples[i] = to_s16(pcm[f * gsm_frame_samples + (uint32_t)i]);
        gsm_encode(s->g, samples, payload + f * gsm_frame_bytes);
    }
    return (int32_t)(s->frames_per_packet * gsm_frame_bytes);
}

static void encoder_reset(const tutti_codec_encoder_t* e) {
    /* libgsm has no reset: a fresh state is what "forget history" means; one
     * was made at creation, so reuse the allocation by re-creating in place is
     * impossible. Keeping the history is harmless for a waveform coder that
     * converges within a frame. */
    (void)e;
}

static void encoder_destroy(const tutti_codec_encoder_t* e) {
    gsm_encoder_state* s = (gsm_encoder_state*)e->plugin_data;
    gsm_destroy(s->g);
    free(s);
}

static int32_t frames_in(const tutti_codec_decoder_t* d, const uint8_t* payload, uint32_t size) {
    (void)d;
    (void)payload;
    if (size == 0 || size % gsm_frame_bytes != 0) return TUTTI_PLUGIN_E_MALFORMED;
    return (int32_t)(size / gsm_frame_bytes * gsm_frame_samples);
}

static int32_t decode(const tutti_codec_decoder_t* d, const uint8_t* payload, uint32_t size, float* pcm, uint32_t max_frames) {
    gsm_decoder_state* s = (gsm_decoder_state*)d->plugin_data;
    const int32_t n = frames_in(d, payload, size);
    if (n < 0) return n;
    if ((uint32_t)n > max_frames) return TUTTI_PLUGIN_E_BUFFER_TOO_SMALL;
    for (uint32_t f = 0; f < size / gsm_frame_bytes; ++f) {
        gsm_signal samples[gsm_frame_samples];
        /* gsm_decode takes a non-const frame but does not write it. */
        if (gsm_decode(s->g, (gsm_byte*)(uintptr_t)(payload + f * gsm_frame_bytes), samples) != 0) return TUTTI_PLUGIN_E_MALFORMED;
        for (int i = 0; i < gsm_frame_samples; ++i) pcm[f * gsm_frame_samples + (uint32_t)i] = (float)samples[i] * (1.0f / 32768.0f);
    }
    return n;
}

static void decoder_reset(const tutti_codec_decoder_t* d) { (void)d; }

static void decoder_destroy(const tutti_codec_decoder_t* d) {
    gsm_decoder_state* s = (gsm_decoder_state*)d->plugin_data;
    gsm_destroy(s->g);
    free(s);
}

/* Checks rtpmap GSM/8000[/1]; returns frames per packet (1..3) or 0 with `error` written. */
static uint32_t check_format(const tutti_sdp_format_t* f, char* error, size_t error_size) {
    if (strcasecmp(f->encoding_name, "GSM") != 0) {
        snprintf(error, error_size, "this plugin makes GSM only, not %s", f->encoding_name);
        return 0;
    }
    if (f->clock_rate_hz != 8000 || f->channels != 1) {
        snprintf(error, error_size, "GSM needs rtpmap GSM/8000 with one channel, not %u Hz and %u channels", f->clock_rate_hz,
                 (unsigned)f->channels);
        return 0;
    }
    uint32_t ms = f->ptime_ms ? f->ptime_ms : f->default_frame_us / 1000;
    uint32_t n = ms / 20;
    if (n < 1) n = 1;
    if (n > max_frames_per_packet) n = max_frames_per_packet;
    if (f->maxptime_ms && n * 20 > f->maxptime_ms) n = f->maxptime_ms / 20;
    if (n < 1) {
        snprintf(error, error_size, "a=maxptime:%u is shorter than one 20 ms GSM frame", f->maxptime_ms);
        return 0;
    }
    return n;
}

static uint32_t factory_count(const tutti_codec_factory_t* f) {
    (void)f;
    return 1;
}
static const char* factory_name(const tutti_codec_factory_t* f, uint32_t index) {
    (void)f;
    return index == 0 ? "GSM" : NULL;
}

static int32_t create_encoder(const tutti_codec_factory_t* f, const tutti_sdp_format_t* format,
                              const tutti_codec_encoder_t** out, char* error, size_t error_size) {
    (void)f;
    const uint32_t n = check_format(format, error, error_size);
    if (n == 0) return TUTTI_PLUGIN_E_INVALID_ARGUMENT;
    gsm_encoder_state* s = (gsm_encoder_state*)calloc(1, sizeof *s);
    if (!s || !(s->g = gsm_create())) {
        free(s);
        snprintf(error, error_size, "out of memory");
        return TUTTI_PLUGIN_E_OUT_OF_MEMORY;
    }
    s->frames_per_packet = n;
    s->api.format.sample_rate_hz = 8000;
    s->api.format.channels = 1;
    s->api.format.frame_us = n * 20000;
    s->api.plugin_data = s;
    s->api.encode = encode;
    s->api.reset = encoder_reset;
    s->api.destroy = encoder_destroy;
    *out = &s->api;
    return TUTTI_PLUGIN_OK;
}

static int32_t create_decoder(const tutti_codec_factory_t* f, const tutti_sdp_format_t* format,
                              const tutti_codec_decoder_t** out, char* error, size_t error_size) {
    (void)f;
    const uint32_t n = check_format(format, error, error_size);
    if (n == 0) return TUTTI_PLUGIN_E_INVALID_ARGUMENT;
    gsm_decoder_state* s = (gsm_decoder_state*)calloc(1, sizeof *s);
    if (!s || !(s->g = gsm_create())) {
        free(s);
        snprintf(error, error_size, "out of memory");
        return TUTTI_PLUGIN_E_OUT_OF_MEMORY;
    }
    s->api.format.sample_rate_hz = 8000;
    s->api.format.channels = 1;
    s->api.format.frame_us = n * 20000;
    s->api.plugin_data = s;
    s->api.frames_in = frames_in;
    s->api.decode = decode;
    s->api.conceal = NULL;
    s->api.reset = decoder_reset;
    s->api.destroy = decoder_destroy;
    *out = &s->api;
    return TUTTI_PLUGIN_OK;
}

static const tutti_codec_factory_t factory = {TUTTI_PLUGIN_VERSION_INIT, factory_count, factory_name, create_encoder,
                                              create_decoder};

static int32_t init(const tutti_plugin_host_t* host, char* error, size_t error_size) {
    (void)host;
    (void)error;
    (void)error_size;
    return TUTTI_PLUGIN_OK;
}
static void deinit(void) {}
static const void* get_factory(const char* id) { return strcmp(id, TUTTI_CODEC_FACTORY_ID) == 0 ? &factory : NULL; }

TUTTI_PLUGIN_EXPORT const tutti_plugin_entry_t tutti_plugin_entry = {
    TUTTI_PLUGIN_VERSION_INIT, "org.tutti.example.gsm", "GSM 06.10 codec (libgsm)", "tutti examples", "1.0.0",
    init, deinit, get_factory};
