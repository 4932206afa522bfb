/* Thresholds in 1/256 (RFC 3550 fraction lost). Going up: with one copy,
 * 2 % loss, and 15 % straight to three; with two, a residue of 1 % (a
 * link losing about 10 %). Going down: ten loss-free reports (about 10 s
 * at Chromium's report rate for audio, which is one report per second or
 * so). */
#include "sfu/core/audio_copies.h"

#define UP_FROM_1 5             /* 2.0 % */
#define UP_FROM_2 3             /* 1.2 % left after two copies */
#define UP_FROM_1_TO_MAX 38     /* 15 % */
#define CLEAN_TO_STEP_DOWN 10

void sfu_audio_copies_init(sfu_audio_copies *a)
{
    a->copies = 1;
    a->clean_reports = 0;
}

uint8_t sfu_audio_copies_on_report(sfu_audio_copies *a, uint8_t fraction_lost)
{
    if (a->copies == 0)
        sfu_audio_copies_init(a);
    if (fraction_lost == 0) {
        if (a->copies > 1 && ++a->clean_reports >= CLEAN_TO_STEP_DOWN) {
            a->copies--;
            a->clean_reports = 0;
        }
        return a->copies;
    }
    a->clean_reports = 0;
    uint8_t up = a->copies == 1 ? UP_FROM_1 : UP_FROM_2;
    if (a->copies == 1 && fraction_lost >= UP_FROM_1_TO_MAX)
        a->copies = SFU_AUDIO_COPIES_MAX;
    else if (a->copies < SFU_AUDIO_COPIES_MAX && fraction_lost >= up)
        a->copies++;
    return a->copies;
}

void sfu_audio_copies_path_lossy(sfu_audio_copies *a)
{
    a->copies = SFU_AUDIO_COPIES_MAX;
    a->clean_reports = 0;
}
