/* examples/c-host: a PBX-shaped host that runs a small conference through the
 * C ABI (tutti.h) only.
 *
 * Three PCM participants at 16 kHz (as a host whose core decodes, like
 * Asterisk, would join them), each "talking" a tone of its own frequency in
 * bursts (1 s on, 1 s off). The host's timer is a plain loop here: every 20 ms it
 * pushes what each participant said, ticks the room, and pulls what each one
 * hears. Events arrive through a callback from tutti_room_tick. At the end it
 * prints the statistics and checks that everybody heard the other two and not
 * themselves (mix-minus), measuring each tone's amplitude in what a listener
 * heard. Exit status 0 means all checks passed.
 *
 * Build: part of examples/CMakeLists.txt (target tutti-c-host); run without
 * arguments. */
#include <tutti/tutti.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PEOPLE 3
#define RATE 16000
#define FRAMES 320 /* one 20 ms tick at 16 kHz */
#define TICKS 300  /* 6 s */

static const double pi = 3.14159265358979323846;
static const double tone_hz[PEOPLE] = {400.0, 700.0, 1000.0};
static const char* const names[PEOPLE] = {"alice", "bob", "carol"};

/* What one participant says at sample n: its tone, on for 1 s of every 2 s
 * (longer than the 400 ms talk hang-over, so talkspurts end), the three
 * staggered. */
static double voice(int who, long n) {
    const long period = 2 * RATE, on = RATE;
    const long phase = (n + who * RATE * 2 / 3) % period;
    return phase < on ? 0.2 * sin(2 * pi * tone_hz[who] * (double)n / RATE) : 0.0;
}

/* Running single-frequency DFT of what a listener heard, for each talker's tone. */
struct meter {
    double re[PEOPLE], im[PEOPLE];
    long n;
};

static void measure(struct meter* m, const int16_t* pcm, size_t frames) {
    size_t i;
    int k;
    for (i = 0; i < frames; ++i, ++m->n)
        for (k = 0; k < PEOPLE; ++k) {
            const double w = 2 * pi * tone_hz[k] * (double)m->n / RATE, x = pcm[i] / 32768.0;
            m->re[k] += x * cos(w);
            m->im[k] += x * sin(w);
        }
}

/* Amplitude of tone k in what was heard (full scale = 1). */
static double amplitude(const struct meter* m, int k) {
    return 2.0 * sqrt(m->re[k] * m->re[k] + m->im[k] * m->im[k]) / (double)m->n;
}

static uint32_t ids[PEOPLE];
static int talk_starts[PEOPLE];

static const char* who(uint32_t id) {
    int i;
    for (i = 0; i < PEOPLE; ++i)
        if (ids[i] == id) return names[i];
    return id == TUTTI_WHOLE_ROOM ? "the room" : "?";
}

/* Runs on the tick thread, inside tutti_room_tick: quick, no blocking. */
static void on_event(void* user, tutti_room* room, const tutti_room_event* e) {
    int i;
    (void)user;
    (void)room;
    switch (e->kind) {
        case TUTTI_ROOM_EVENT_JOINED: printf("tick %3lu: %s joined\n", (unsigned long)e->tick, who(e->participant)); break;
        case TUTTI_ROOM_EVENT_LEFT: printf("tick %3lu: %s left\n", (unsigned long)e->tick, who(e->participant)); break;
        case TUTTI_ROOM_EVENT_TALK_START:
            for (i = 0; i < PEOPLE; ++i)
                if (ids[i] == e->participant) ++talk_starts[i];
            printf("tick %3lu: %s starts talking (%.1f dBov)\n", (unsigned long)e->tick, who(e->participant), e->level_dbov);
            break;
        case TUTTI_ROOM_EVENT_TALK_STOP: printf("tick %3lu: %s stops talking\n", (unsigned long)e->tick, who(e->participant)); break;
        case TUTTI_ROOM_EVENT_PROMPT_DONE:
            printf("tick %3lu: prompt %u to %s done%s\n", (unsigned long)e->tick, e->prompt, who(e->participant),
                   e->stopped ? " (stopped)" : "");
            break;
        default: printf("tick %3lu: event %d\n", (unsigned long)e->tick, e->kind); break;
    }
}

/* Prints the failing call's detail and returns 1 (the exit status). */
static int failed(const char* what, int status) {
    fprintf(stderr, "c-host: %s failed: %s (%s)\n", what, tutti_strerror(status), tutti_last_error());
    return 1;
}

int main(void) {
    tutti_room_config config;
    tutti_pcm_participant_config pcm;
    tutti_room_stats room_stats;
    tutti_participant_stats stats;
    tutti_room* room = NULL;
    struct meter heard[PEOPLE];
    int16_t frame[FRAMES], chime[RATE / 4];
    uint32_t prompt = 0;
    int status, i, k, t, ok = 1;
    size_t j;

    printf("tutti %s (built against %d.%d.%d)\n", tutti_version_string(), TUTTI_VERSION_MAJOR, TUTTI_VERSION_MINOR,
           TUTTI_VERSION_PATCH);
    if (tutti_version() / 100 != TUTTI_VERSION / 100) return failed("version check", TUTTI_E_UNSUPPORTED);

    /* Control thread: create the room and join everyone (this allocates). */
    tutti_room_config_init(&config);
    config.mixing_rate_hz = RATE;
    config.event_callback = on_event;
    if ((status = tutti_room_create(&config, &room)) != TUTTI_OK) return failed("tutti_room_create", status);
    tutti_pcm_participant_config_init(&pcm);
    pcm.sample_rate_hz = RATE;
    pcm.channels = 1;
    for (i = 0; i < PEOPLE; ++i)
        if ((status = tutti_room_join_pcm(room, &pcm, &ids[i])) != TUTTI_OK) return failed("tutti_room_join_pcm", status);
    /* A quarter-second chime for the whole room, as a bridge plays on entry. */
    for (j = 0; j < sizeof chime / sizeof chime[0]; ++j) chime[j] = (int16_t)(3000.0 * sin(2 * pi * 1500.0 * (double)j / RATE));
    if ((status = tutti_room_play_prompt_s16(room, TUTTI_WHOLE_ROOM, chime, sizeof chime / sizeof chime[0], RATE, 1.0f,
                                             &prompt)) != TUTTI_OK)
        return failed("tutti_room_play_prompt_s16", status);
    memset(heard, 0, sizeof heard);

    /* The media loop: the host's 20 ms timer. In a PBX the pushes come from each
     * channel's read path and the pulls from its write path; here one thread
     * does all of it, in the order a tick needs. */
    for (t = 0; t < TICKS; ++t) {
        for (i = 0; i < PEOPLE; ++i) {
            for (k = 0; k < FRAMES; ++k) frame[k] = (int16_t)(32767.0 * voice(i, (long)t * FRAMES + k));
            if ((status = tutti_room_push_pcm(room, ids[i], frame, FRAMES, 1)) != TUTTI_OK)
                return failed("tutti_room_push_pcm", status);
        }
        if ((status = tutti_room_tick(room, (int64_t)t * 20000)) != TUTTI_OK) return failed("tutti_room_tick", status);
        for (i = 0; i < PEOPLE; ++i) {
            status = tutti_room_pull_pcm(room, ids[i], frame, FRAMES, 1);
            if (status != FRAMES) return failed("tutti_room_pull_pcm", status < 0 ? status : TUTTI_E_INTERNAL);
            if (t >= 25) measure(&heard[i], frame, FRAMES); /* after the chime */
        }
    }

    /* Between ticks, on the tick thread: statistics. */
    room_stats.struct_size = sizeof room_stats;
    if ((status = tutti_room_get_stats(room, &room_stats)) != TUTTI_OK) return failed("tutti_room_get_stats", status);
    printf("room: %lu ticks at %u Hz, tick mean %.1f us, max %.1f us\n", (unsigned long)room_stats.ticks,
           room_stats.mixing_rate_hz, room_stats.tick_mean_us, room_stats.tick_max_us);
    for (i = 0; i < PEOPLE; ++i) {
        stats.struct_size = sizeof stats;
        if ((status = tutti_room_get_participant_stats(room, ids[i], &stats)) != TUTTI_OK)
            return failed("tutti_room_get_participant_stats", status);
        printf("%-5s: talked %lu ticks, %d talkspurts, selected %lu times; hears", names[i],
               (unsigned long)stats.talk_ticks, talk_starts[i], (unsigned long)stats.times_selected);
        for (k = 0; k < PEOPLE; ++k) {
            const double a = amplitude(&heard[i], k);
            /* Each tone is on half the time at 0.2: about 0.1 when heard whole. */
            const int good = k == i ? a < 0.002 : a > 0.05;
            printf(" %s %.3f%s", names[k], a, good ? "" : " (WRONG)");
            ok &= good;
        }
        printf("\n");
        ok &= talk_starts[i] >= 2;
    }

    /* Control thread again: leave and tear down. */
    for (i = 0; i < PEOPLE; ++i)
        if ((status = tutti_room_leave(room, ids[i])) != TUTTI_OK) return failed("tutti_room_leave", status);
    if ((status = tutti_room_tick(room, (int64_t)TICKS * 20000)) != TUTTI_OK) return failed("tutti_room_tick", status);
    tutti_room_destroy(room);
    printf("%s\n", ok ? "everyone heard the others and not themselves" : "CHECK FAILED");
    return ok ? 0 : 1;
}
