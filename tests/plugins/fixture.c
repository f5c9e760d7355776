/* Test fixtures for the plugin loader: one source, built several times with
 * one of these defined (tests/CMakeLists.txt):
 *   FIXTURE_GOOD       processors "half" (x0.5), "fail" (process errors after
 *                      5 good calls), "stall" (sleeps 30 ms per call), and
 *                      "null-process" (a NULL process pointer);
 *   FIXTURE_BAD_ABI    entry says ABI 99.0.0;
 *   FIXTURE_NO_ENTRY   exports no tutti_plugin_entry;
 *   FIXTURE_NULL_INIT  entry with a NULL init. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tutti/plugin.h>

typedef struct fixture {
    tutti_processor_t api;
    int calls;
} fixture;

static const tutti_plugin_descriptor_t descriptors[] = {
    {TUTTI_PLUGIN_VERSION_INIT, "half", "half", "multiplies by 0.5"},
    {TUTTI_PLUGIN_VERSION_INIT, "fail", "fail", "fails after 5 calls"},
    {TUTTI_PLUGIN_VERSION_INIT, "stall", "stall", "sleeps 30 ms"},
    {TUTTI_PLUGIN_VERSION_INIT, "null-process", "null-process", "process is NULL"},
};

static int32_t set_param(const tutti_processor_t* p, const char* key, const char* value, char* error, size_t n) {
    (void)p;
    (void)key;
    (void)value;
    strncpy(error, "no parameters", n);
    return TUTTI_PLUGIN_E_NOT_FOUND;
}
static int32_t activate(const tutti_processor_t* p, uint32_t rate, uint32_t frames, char* error, size_t n) {
    (void)p;
    (void)rate;
    (void)frames;
    (void)error;
    (void)n;
    return TUTTI_PLUGIN_OK;
}
static void deactivate(const tutti_processor_t* p) { (void)p; }
static int32_t process(const tutti_processor_t* p, const float* in, float* out, uint32_t frames) {
    fixture* s = (fixture*)p->plugin_data;
    ++s->calls;
    if (p->descriptor == &descriptors[1] && s->calls > 5) {
        for (uint32_t i = 0; i < frames; ++i) out[i] = 1e6f; /* garbage the host must discard */
        return TUTTI_PLUGIN_E_INTERNAL;
    }
    if (p->descriptor == &descriptors[2]) {
        const struct timespec t = {0, 30 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    for (uint32_t i = 0; i < frames; ++i) out[i] = 0.5f * in[i];
    return TUTTI_PLUGIN_OK;
}
static void destroy(const tutti_processor_t* p) { free(p->plugin_data); }

static uint32_t count(const tutti_processor_factory_t* f) {
    (void)f;
    return 4;
}
static const tutti_plugin_descriptor_t* get_descriptor(const tutti_processor_factory_t* f, uint32_t i) {
    (void)f;
    return i < 4 ? &descriptors[i] : NULL;
}
static int32_t create(const tutti_processor_factory_t* f, const char* id, const tutti_processor_t** out, char* error, size_t n) {
    (void)f;
    for (int i = 0; i < 4; ++i)
        if (strcmp(id, descriptors[i].id) == 0) {
            fixture* s = (fixture*)calloc(1, sizeof *s);
            if (!s) return TUTTI_PLUGIN_E_OUT_OF_MEMORY;
            s->api.descriptor = &descriptors[i];
            s->api.plugin_data = s;
            s->api.set_param = set_param;
            s->api.activate = activate;
            s->api.deactivate = deactivate;
            s->api.process = i == 3 ? NULL : process;
            s->api.destroy = destroy;
            *out = &s->api;
            return TUTTI_PLUGIN_OK;
        }
    strncpy(error, "no such processor", n);
    return TUTTI_PLUGIN_E_NOT_FOUND;
}
static const tutti_processor_factory_t factory = {TUTTI_PLUGIN_VERSION_INIT, count, get_descriptor, create};

__attribute__((unused)) static int32_t init(const tutti_plugin_host_t* host, char* error, size_t n) {
    (void)host;
    (void)error;
    (void)n;
    return TUTTI_PLUGIN_OK;
}
static void deinit(void) {}
static const void* get_factory(const char* id) { return strcmp(id, TUTTI_PROCESSOR_FACTORY_ID) == 0 ? &factory : NULL; }

#if defined(FIXTURE_BAD_ABI)
TUTTI_PLUGIN_EXPORT const tutti_plugin_entry_t tutti_plugin_entry = {{99, 0, 0}, "fixture", "fixture", "", "1", init, deinit, get_factory};
#elif defined(FIXTURE_NULL_INIT)
TUTTI_PLUGIN_EXPORT const tutti_plugin_entry_t tutti_plugin_entry = {TUTTI_PLUGIN_VERSION_INIT, "fixture", "fixture", "", "1", NULL, deinit,
                                                                     get_factory};
#elif defined(FIXTURE_NO_ENTRY)
TUTTI_PLUGIN_EXPORT const tutti_plugin_entry_t some_other_name = {TUTTI_PLUGIN_VERSION_INIT, "fixture", "fixture", "", "1", init, deinit,
                                                                  get_factory};
#else
TUTTI_PLUGIN_EXPORT const tutti_plugin_entry_t tutti_plugin_entry = {TUTTI_PLUGIN_VERSION_INIT, "fixture", "fixture", "", "1", init, deinit,
                                                                     get_factory};
#endif
