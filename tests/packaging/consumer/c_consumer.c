/* The C ABI from an installed (or add_subdirectory) tutti: tutti.h is found,
 * libtutti links into a C program, and a tick mixes. Exits 0 on success. */
#include <tutti/tutti.h>

#include <stdio.h>

int main(void) {
    tutti_room_config config;
    tutti_pcm_participant_config pcm;
    tutti_room* room = NULL;
    uint32_t a = 0, b = 0;
    int16_t frame[160];
    int i, got, ok;
    tutti_room_config_init(&config);
    config.mixing_rate_hz = 8000;
    tutti_pcm_participant_config_init(&pcm);
    pcm.sample_rate_hz = 8000;
    if (tutti_room_create(&config, &room) != TUTTI_OK || tutti_room_join_pcm(room, &pcm, &a) != TUTTI_OK ||
        tutti_room_join_pcm(room, &pcm, &b) != TUTTI_OK) {
        fprintf(stderr, "c_consumer: %s\n", tutti_last_error());
        return 1;
    }
    for (i = 0; i < 160; ++i) frame[i] = 1000;
    if (tutti_room_push_pcm(room, a, frame, 160, 1) != TUTTI_OK || tutti_room_tick(room, 0) != TUTTI_OK) return 1;
    got = tutti_room_pull_pcm(room, b, frame, 160, 1);
    ok = tutti_version() == TUTTI_VERSION && got == 160;
    printf("c_consumer: tutti %s, %d frames: %s\n", tutti_version_string(), got, ok ? "ok" : "WRONG");
    tutti_room_destroy(room);
    return ok ? 0 : 1;
}
