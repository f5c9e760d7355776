/* Example tap plugin: records what it is attached to (the room mix, or one
 * participant's voice or output) into a 16-bit mono WAV file.
 *
 * Shows: a tap that must do I/O without blocking the tick. process() only
 * copies the tick into a lock-free single-producer/single-consumer ring; a
 * writer thread started in activate() appends it to the file and, after every
 * write, fixes the RIFF and data sizes in the header, so the file is a valid
 * WAV whenever the process stops, even in the middle of a call.
 * deactivate() drains the ring, joins the thread and closes the file.
 * Parameters: path (required), ring_ms (default 2000). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tutti/plugin.h>

typedef struct recorder {
    tutti_tap_t api;
    char path[1024];
    uint32_t ring_ms;
    /* activated state */
    FILE* file;
    int16_t* ring;
    size_t capacity;               /* samples */
    _Atomic size_t head;           /* written by process() (tick thread) */
    _Atomic size_t tail;           /* written by the writer thread */
    _Atomic int stop;
    _Atomic unsigned long dropped; /* samples lost because the writer fell behind */
    uint32_t rate;
    uint32_t data_bytes;
    pthread_t writer;
    int writer_running;
} recorder;

static const tutti_plugin_descriptor_t descriptor = {TUTTI_PLUGIN_VERSION_INIT, "org.tutti.example.wav-recorder",
                                                     "WAV recorder",
                                                     "Writes 16-bit mono PCM WAV, valid at every moment while recording."};

static const tutti_param_info_t params[] = {
    {"path", "", "file to create (replaced if it exists); required"},
    {"ring_ms", "2000", "audio the writer thread may fall behind by before ticks are dropped, 100..60000 ms"},
};
static uint32_t params_count(void) { return 2; }
static int32_t params_get(uint32_t index, tutti_param_info_t* out) {
    if (index >= 2) return TUTTI_PLUGIN_E_NOT_FOUND;
    *out = params[index];
    return TUTTI_PLUGIN_OK;
}
static const tutti_params_extension_t params_ext = {params_count, params_get};

static recorder* self(const tutti_tap_t* t) { return (recorder*)t->plugin_data; }

static void put_u32(unsigned char* p, uint32_t v) {
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)((v >> 8) & 0xff);
    p[2] = (unsigned char)((v >> 16) & 0xff);
    p[3] = (unsigned char)(v >> 24);
}
static void put_u16(unsigned char* p, uint32_t v) {
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)((v >> 8) & 0xff);
}

/* The 44-byte header for `data_bytes` of 16-bit mono audio at `rate`. */
static void header(unsigned char h[44], uint32_t rate, uint32_t data_bytes) {
    memcpy(h, "RIFF", 4);
    put_u32(h + 4, 36 + data_bytes);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_u32(h + 16, 16);
    put_u16(h + 20, 1); /* PCM */
    put_u16(h + 22, 1); /* mono */
    put_u32(h + 24, rate);
    put_u32(h + 28, rate * 2);
    put_u16(h + 32, 2);
    put_u16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    put_u32(h + 40, data_bytes);
}

/* Appends what the ring holds, then rewrites the two sizes. Writer thread only. */
static void drain(recorder* s) {
    size_t tail = atomic_load_explicit(&s->tail, memory_order_relaxed);
    const size_t head = atomic_load_explicit(&s->head, memory_order_acquire);
    if (head == tail) return;
    while (tail != head) {
        const size_t at = tail % s->capacity;
        size_t n = head - tail;
        if (n > s->capacity - at) n = s->capacity - at;
        unsigned char bytes[4096];
        size_t done = 0;
        while (done < n) { /* little-endian on disk whatever the CPU */
            size_t k = n - done;
            if (k > sizeof bytes / 2) k = sizeof bytes / 2;
            for (size_t i = 0; i < k; ++i) put_u16(bytes + 2 * i, (uint16_t)s->ring[at + done + i]);
            if (s->data_bytes + 2 * k > 0xFFFFFFFFu - 36) break; /* 4 GiB: WAV cannot hold more */
            if (fwrite(bytes, 2, k, s->file) == k) s->data_bytes += (uint32_t)(2 * k);
            done += k;
        }
        tail += n;
        atomic_store_explicit(&s->tail, tail, memory_order_release);
    }
    unsigned char h[44];
    header(h, s->rate, s->data_bytes);
    long end = ftell(s->file);
    fseek(s->file, 4, SEEK_SET);
    fwrite(h + 4, 1, 4, s->file);
    fseek(s->file, 40, SEEK_SET);
    fwrite(h + 40, 1, 4, s->file);
    fseek(s->file, end, SEEK_SET);
    fflush(s->file);
}

static void* writer_main(void* arg) {
    recorder* s = (recorder*)arg;
    const struct timespec pause = {0, 5 * 1000 * 1000}; /* 5 ms: a quarter of a tick */
    while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
        drain(s);
        nanosleep(&pause, NULL);
    }
    drain(s);
    return NULL;
}

static int32_t set_param(const tutti_tap_t* t, const char* key, const char* value, char* error, size_t error_size) {
    recorder* s = self(t);
    if (strcmp(key, "path") == 0) {
        if (value[0] == '\0' || strlen(value) >= sizeof s->path) {
            snprintf(error, error_size, "path must be 1..%zu bytes", sizeof s->path - 1);
            return TUTTI_PLUGIN_E_INVALID_ARGUMENT;
        }
        strcpy(s->path, value);
        return TUTTI_PLUGIN_OK;
    }
    if (strcmp(key, "ring_ms") == 0) {
        char* end = NULL;
        const long v = strtol(value, &end, 10);
        if (end == value || *end != '\0' || v < 100 || v > 60000) {
            snprintf(error, error_size, "ring_ms must be 100..60000, not \"%s\"", value);
            return TUTTI_PLUGIN_E_INVALID_ARGUMENT;
        }
        s->ring_ms = (uint32_t)v;
        return TUTTI_PLUGIN_OK;
    }
    snprintf(error, error_size, "unknown parameter \"%s\" (path, ring_ms)", key);
    return TUTTI_PLUGIN_E_NOT_FOUND;
}

static void deactivate(const tutti_tap_t* t) {
    recorder* s = self(t);
    if (s->writer_running) {
        atomic_store_explicit(&s->stop, 1, memory_order_release);
        pthread_join(s->writer, NULL);
        s->writer_running = 0;
    }
    if (s->file) fclose(s->file);
    free(s->ring);
    s->file = NULL;
    s->ring = NULL;
}

static int32_t activate(const tutti_tap_t* t, uint32_t rate, uint32_t frames, char* error, size_t error_size) {
    recorder* s = self(t);
    if (s->path[0] == '\0') {
        snprintf(error, error_size, "set the path parameter before attaching the recorder");
        return TUTTI_PLUGIN_E_INVALID_ARGUMENT;
    }
    s->capacity = (size_t)rate * s->ring_ms / 1000 + frames;
    s->ring = (int16_t*)calloc(s->capacity, sizeof(int16_t));
    if (!s->ring) {
        snprintf(error, error_size, "out of memory");
        return TUTTI_PLUGIN_E_OUT_OF_MEMORY;
    }
    s->file = fopen(s->path, "wb");
    if (!s->file) {
        snprintf(error, error_size, "cannot create %s: %s", s->path, strerror(errno));
        deactivate(t);
        return TUTTI_PLUGIN_E_IO;
    }
    unsigned char h[44];
    header(h, rate, 0);
    if (fwrite(h, 1, 44, s->file) != 44 || fflush(s->file) != 0) {
        snprintf(error, error_size, "cannot write %s: %s", s->path, strerror(errno));
        deactivate(t);
        return TUTTI_PLUGIN_E_IO;
    }
    s->rate = rate;
    s->data_bytes = 0;
    atomic_store(&s->head, 0);
    atomic_store(&s->tail, 0);
    atomic_store(&s->stop, 0);
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        snprintf(error, error_size, "cannot start the writer thread");
        deactivate(t);
        return TUTTI_PLUGIN_E_INTERNAL;
    }
    s->writer_running = 1;
    return TUTTI_PLUGIN_OK;
}

static int32_t process(const tutti_tap_t* t, const float* in, uint32_t frames) {
    recorder* s = self(t);
    const size_t head = atomic_load_explicit(&s->head, memory_order_relaxed);
    const size_t tail = atomic_load_explicit(&s->tail, memory_order_acquire);
    if (s->capacity - (head - tail) < frames) { /* the writer is behind: lose this tick, keep the file whole */
        atomic_fetch_add_explicit(&s->dropped, frames, memory_order_relaxed);
        return TUTTI_PLUGIN_OK;
    }
    for (uint32_t i = 0; i < frames; ++i) {
        float x = in[i] * 32768.0f;
        x = x > 32767.0f ? 32767.0f : x < -32768.0f ? -32768.0f : x;
        s->ring[(head + i) % s->capacity] = (int16_t)(x < 0 ? x - 0.5f : x + 0.5f);
    }
    atomic_store_explicit(&s->head, head + frames, memory_order_release);
    return TUTTI_PLUGIN_OK;
}

static const void* get_extension(const tutti_tap_t* t, const char* id) {
    (void)t;
    return strcmp(id, TUTTI_EXT_PARAMS) == 0 ? &params_ext : NULL;
}

static void destroy(const tutti_tap_t* t) {
    deactivate(t);
    free(self(t));
}

static uint32_t factory_count(const tutti_tap_factory_t* f) {
    (void)f;
    return 1;
}
static const tutti_plugin_descriptor_t* factory_descriptor(const tutti_tap_factory_t* f, uint32_t index) {
    (void)f;
    return index == 0 ? &descriptor : NULL;
}
static int32_t factory_create(const tutti_tap_factory_t* f, const char* id, const tutti_tap_t** out, char* error,
                              size_t error_size) {
    (void)f;
    if (strcmp(id, descriptor.id) != 0) {
        snprintf(error, error_size, "no tap \"%s\" here (only %s)", id, descriptor.id);
        return TUTTI_PLUGIN_E_NOT_FOUND;
    }
    recorder* s = (recorder*)calloc(1, sizeof *s);
    if (!s) {
        snprintf(error, error_size, "out of memory");
        return TUTTI_PLUGIN_E_OUT_OF_MEMORY;
    }
    s->ring_ms = 2000;
    s->api.descriptor = &descriptor;
    s->api.plugin_data = s;
    s->api.set_param = set_param;
    s->api.activate = activate;
    s->api.deactivate = deactivate;
    s->api.process = process;
    s->api.reset = NULL;
    s->api.get_extension = get_extension;
    s->api.destroy = destroy;
    *out = &s->api;
    return TUTTI_PLUGIN_OK;
}

static const tutti_tap_factory_t factory = {TUTTI_PLUGIN_VERSION_INIT, factory_count, factory_descriptor, factory_create};

static int32_t init(const tutti_plugin_host_t* host, char* error, size_t error_size) {
    (void)host;
    (void)error;
    (void)error_size;
    return TUTTI_PLUGIN_OK;
}
static void deinit(void) {}
static const void* get_factory(const char* id) { return strcmp(id, TUTTI_TAP_FACTORY_ID) == 0 ? &factory : NULL; }

TUTTI_PLUGIN_EXPORT const tutti_plugin_entry_t tutti_plugin_entry = {
    TUTTI_PLUGIN_VERSION_INIT, "org.tutti.example.wav-recorder", "WAV recorder", "tutti examples", "1.0.0",
    init, deinit, get_factory};
