/* tutti.h compiled as strict C99 (-std=c99 -pedantic -Wall -Wextra -Werror),
 * and a short run through the C ABI from C: two PCM participants, a few ticks,
 * each hears the other. Exits 0 on success. */
#include "tutti/tutti.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#if TUTTI_VERSION < 100
#error "TUTTI_VERSION must be usable in #if"
#endif

static int events_seen = 0;

static void on_event(void* user, tutti_room* room, const tutti_room_event* event) {
    (void)room;
    (void)event;
    ++*(int*)user;
}

int main(void) {
    tutti_room_config config;
    tutti_pcm_participant_config pcm;
    tutti_room_stats stats;
    tutti_room* room = NULL;
    uint32_t a = 0, b = 0;
    int16_t in[320], out[320];
    double heard_a = 0, heard_b = 0;
    int t, i;

    if (tutti_version() != TUTTI_VERSION) return 1;
    tutti_room_config_init(&config);
    config.mixing_rate_hz = 16000;
    config.event_callback = on_event;
    config.event_user = &events_seen;
    if (tutti_room_create(&config, &room) != TUTTI_OK) {
        fprintf(stderr, "create: %s\n", tutti_last_error());
        return 1;
    }
    tutti_pcm_participant_config_init(&pcm);
    if (tutti_room_join_pcm(room, &pcm, &a) != TUTTI_OK || tutti_room_join_pcm(room, &pcm, &b) != TUTTI_OK) return 1;
    for (t = 0; t < 50; ++t) {
        for (i = 0; i < 320; ++i) in[i] = (int16_t)(8000.0 * sin(2 * 3.14159265358979 * 500.0 * (t * 320 + i) / 16000.0));
        if (tutti_room_push_pcm(room, a, in, 320, 1) != TUTTI_OK) return 1;
        memset(in, 0, sizeof in);
        if (tutti_room_push_pcm(room, b, in, 320, 1) != TUTTI_OK) return 1;
        if (tutti_room_tick(room, (int64_t)t * 20000) != TUTTI_OK) return 1;
        if (tutti_room_pull_pcm(room, a, out, 320, 1) != 320) return 1;
        for (i = 0; i < 320; ++i) heard_a += (double)out[i] * out[i];
        if (tutti_room_pull_pcm(room, b, out, 320, 1) != 320) return 1;
        for (i = 0; i < 320; ++i) heard_b += (double)out[i] * out[i];
    }
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    if (tutti_room_get_stats(room, &stats) != TUTTI_OK || stats.ticks != 50) return 1;
    tutti_room_destroy(room);
    /* b hears a's tone; a (mix-minus) hears nothing; joined + talk events reached the callback. */
    printf("c99: b heard %.3g, a heard %.3g, %d events\n", heard_b, heard_a, events_seen);
    return heard_b > 1e9 && heard_a == 0 && events_seen >= 3 ? 0 : 1;
}
