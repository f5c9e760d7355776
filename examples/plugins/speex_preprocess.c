/* Example processor plugin: SpeexDSP's preprocessor (noise suppression and,
 * optionally, automatic gain control) on one participant's voice or on what
 * one participant hears.
 *
 * Shows: a processor factory with one descriptor, key/value parameters (with
 * the TUTTI_EXT_PARAMS listing), all memory taken in activate() (the SpeexDSP
 * state and an int16 frame), process() that only computes. Plain C, only
 * <tutti/plugin.h> from tutti: the plugin never links tutti. */
#include <speex/speex_preprocess.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tutti/plugin.h>

typedef struct preprocess {
    tutti_processor_t api;
    /* parameters (set_param, before activate) */
    int denoise;
    int noise_suppress_db;
    int agc;
    float agc_level;
    /* activated state */
    SpeexPreprocessState* state;
    spx_int16_t* frame;
    uint32_t frames;
} preprocess;

static const tutti_plugin_descriptor_t descriptor = {
    TUTTI_PLUGIN_VERSION_INIT, "org.tutti.example.speex-preprocess", "SpeexDSP noise suppressor and AGC",
    "Suppresses stationary noise (and levels speech when agc=1) with speex_preprocess_run."};

static const tutti_param_info_t params[] = {
    {"denoise", "1", "1 to suppress noise, 0 to leave it"},
    {"noise_suppress_db", "-25", "most attenuation of noise in dB, -60..0"},
    {"agc", "0", "1 to level speech towards agc_level, 0 for none"},
    {"agc_level", "8000", "AGC target level, int16 RMS units, 1000..32000"},
};
static uint32_t params_count(void) { return (uint32_t)(sizeof params / sizeof params[0]); }
static int32_t params_get(uint32_t index, tutti_param_info_t* out) {
    if (index >= params_count()) return TUTTI_PLUGIN_E_NOT_FOUND;
    *out = params[index];
    return TUTTI_PLUGIN_OK;
}
static const tutti_params_extension_t params_ext = {params_count, params_get};

static preprocess* self(const tutti_processor_t* p) { return (preprocess*)p->plugin_data; }

/* Parses a whole decimal integer in [lo, hi]. */
static int parse_int(const char* s, long lo, long hi, long* out) {
    char* end = NULL;
    const long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int32_t set_param(const tutti_processor_t* p, const char* key, const char* value, char* error, size_t error_size) {
    preprocess* s = self(p);
    long v = 0;
    if (strcmp(key, "denoise") == 0 || strcmp(key, "agc") == 0) {
        if (!parse_int(value, 0, 1, &v)) {
            snprintf(error, error_size, "%s must be 0 or 1, not \"%s\"", key, value);
            return TUTTI_PLUGIN_E_INVALID_ARGUMENT;
        }
        if (key[0] == 'd') s->denoise = (int)v;
        else s->agc = (int)v;
        return TUTTI_PLUGIN_OK;
    }
    if (strcmp(key, "noise_suppress_db") == 0) {
        if (!parse_int(value, -60, 0, &v)) {
            snprintf(error, error_size, "noise_suppress_db must be a whole number of dB in -60..0, not \"%s\"", value);
            return TUTTI_PLUGIN_E_INVALID_ARGUMENT;
        }
        s->noise_suppress_db = (int)v;
        return TUTTI_PLUGIN_OK;
    }
    if (strcmp(key, "agc_level") == 0) {
        if (!parse_int(value, 1000, 32000, &v)) {
            snprintf(error, error_size, "agc_level must be 1000..32000, not \"%s\"", value);
            return TUTTI_PLUGIN_E_INVALID_ARGUMENT;
        }
        s->agc_level = (float)v;
        return TUTTI_PLUGIN_OK;
    }
    snprintf(error, error_size, "unknown parameter \"%s\" (denoise, noise_suppress_db, agc, agc_level)", key);
    return TUTTI_PLUGIN_E_NOT_FOUND;
}

static void deactivate(const tutti_processor_t* p) {
    preprocess* s = self(p);
    if (s->state) speex_preprocess_state_destroy(s->state);
    free(s->frame);
    s->state = NULL;
    s->frame = NULL;
}

static int32_t activate(const tutti_processor_t* p, uint32_t rate, uint32_t frames, char* error, size_t error_size) {
    preprocess* s = self(p);
    s->frame = (spx_int16_t*)calloc(frames, sizeof(spx_int16_t));
    s->state = speex_preprocess_state_init((int)frames, (int)rate);
    if (!s->frame || !s->state) {
        deactivate(p);
        snprintf(error, error_size, "cannot allocate the SpeexDSP preprocessor for %u frames at %u Hz", frames, rate);
        return TUTTI_PLUGIN_E_OUT_OF_MEMORY;
    }
    spx_int32_t on = s->denoise, level = s->noise_suppress_db, agc = s->agc;
    float agc_level = s->agc_level;
    speex_preprocess_ctl(s->state, SPEEX_PREPROCESS_SET_DENOISE, &on);
    speex_preprocess_ctl(s->state, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &level);
    speex_preprocess_ctl(s->state, SPEEX_PREPROCESS_SET_AGC, &agc);
    if (agc) speex_preprocess_ctl(s->state, SPEEX_PREPROCESS_SET_AGC_LEVEL, &agc_level);
    s->frames = frames;
    return TUTTI_PLUGIN_OK;
}

static int32_t process(const tutti_processor_t* p, const float* in, float* out, uint32_t frames) {
    preprocess* s = self(p);
    if (frames != s->frames) return TUTTI_PLUGIN_E_INVALID_ARGUMENT;
    for (uint32_t i = 0; i < frames; ++i) {
        float x = in[i] * 32768.0f;
        /* Written so that NaN ends at -32768, not in an undefined float-to-integer conversion. */
        x = x > -32768.0f ? x : -32768.0f;
        x = x < 32767.0f ? x : 32767.0f;
        s->frame[i] = (spx_int16_t)x;
    }
    speex_preprocess_run(s->state, s->frame);
    for (uint32_t i = 0; i < frames; ++i) out[i] = (float)s->frame[i] * (1.0f / 32768.0f);
    return TUTTI_PLUGIN_OK;
}

static void reset(const tutti_processor_t* p) { (void)p; /* SpeexDSP has no reset; its estimates adapt within a second */ }

static const void* get_extension(const tutti_processor_t* p, const char* id) {
    (void)p;
    return strcmp(id, TUTTI_EXT_PARAMS) == 0 ? &params_ext : NULL;
}

static void destroy(const tutti_processor_t* p) {
    deactivate(p);
    free(self(p));
}

static uint32_t factory_count(const tutti_processor_factory_t* f) {
    (void)f;
    return 1;
}
static const tutti_plugin_descriptor_t* factory_descriptor(const tutti_processor_factory_t* f, uint32_t index) {
    (void)f;
    return index == 0 ? &descriptor : NULL;
}
static int32_t factory_create(const tutti_processor_factory_t* f, const char* id, const tutti_processor_t** out, char* error,
                              size_t error_size) {
    (void)f;
    if (strcmp(id, descriptor.id) != 0) {
        snprintf(error, error_size, "no processor \"%s\" here (only %s)", id, descriptor.id);
        return TUTTI_PLUGIN_E_NOT_FOUND;
    }
    preprocess* s = (preprocess*)calloc(1, sizeof *s);
    if (!s) {
        snprintf(error, error_size, "out of memory");
        return TUTTI_PLUGIN_E_OUT_OF_MEMORY;
    }
    s->denoise = 1;
    s->noise_suppress_db = -25;
    s->agc = 0;
    s->agc_level = 8000.0f;
    s->api.descriptor = &descriptor;
    s->api.plugin_data = s;
    s->api.set_param = set_param;
    s->api.activate = activate;
    s->api.deactivate = deactivate;
    s->api.process = process;
    s->api.reset = reset;
    s->api.get_extension = get_extension;
    s->api.destroy = destroy;
    *out = &s->api;
    return TUTTI_PLUGIN_OK;
}

static const tutti_processor_factory_t factory = {TUTTI_PLUGIN_VERSION_INIT, factory_count, factory_descriptor, factory_create};

static int32_t init(const tutti_plugin_host_t* host, char* error, size_t error_size) {
    (void)host;
    (void)error;
    (void)error_size;
    return TUTTI_PLUGIN_OK;
}
static void deinit(void) {}
static const void* get_factory(const char* id) { return strcmp(id, TUTTI_PROCESSOR_FACTORY_ID) == 0 ? &factory : NULL; }

TUTTI_PLUGIN_EXPORT const tutti_plugin_entry_t tutti_plugin_entry = {
    TUTTI_PLUGIN_VERSION_INIT, "org.tutti.example.speex-preprocess", "SpeexDSP preprocessor", "tutti examples", "1.0.0",
    init, deinit, get_factory};
