/* How many copies of each audio packet the SFU sends to one viewer, from the
 * loss that viewer's receiver reports show (RFC 3550 6.4.1 fraction lost).
 * A lost audio packet cannot be retransmitted in time, so toward a lossy
 * viewer the SFU adds redundancy of its own: every packet goes out up to
 * three times (the same bytes; the receiver's SRTP replay check discards
 * the copies that arrive second). With the publisher's RED (two earlier
 * frames in each packet) a frame is lost only when three packets in a row
 * miss the viewer, so each copy cuts the viewer's frame loss steeply.
 *
 * A reported fraction is the loss left after the copies: with c copies on a
 * link losing p, about p^c. The state moves up when that residue is still
 * high (straight to three when a report with one copy shows heavy loss:
 * two would leave p^2, 9 % at 30 %) and down only after ten reports in a
 * row without loss, so it does not swing between reports.
 *
 * Receiver reports are slow: Chromium reports on audio every few seconds,
 * so at the onset of 30 % loss a viewer concealed 4-19 % of its audio in
 * each second until the reports had brought the copies up, 3-9 s in
 * (tests/e2e/netlab.sh loss30: 1.4-5.2 % over 10 s). Audio and video to a viewer share one path, and the viewer's
 * video NACKs show heavy loss within a fraction of a second
 * (sink_repair.h): while they do, the room says so here and the audio gets
 * the most copies too. Sans-IO; embedded in the viewer's sink. */
#ifndef SFU_CORE_AUDIO_COPIES_H
#define SFU_CORE_AUDIO_COPIES_H

#include "sfu/core/common.h"

#define SFU_AUDIO_COPIES_MAX 3

typedef struct sfu_audio_copies {
    uint8_t copies;             /* 1..SFU_AUDIO_COPIES_MAX; 0 before init */
    uint8_t clean_reports;      /* reports in a row with no loss */
} sfu_audio_copies;

void sfu_audio_copies_init(sfu_audio_copies *a);
/* One receiver report block for the viewer's audio stream; returns the
 * copies to send from now on. */
uint8_t sfu_audio_copies_on_report(sfu_audio_copies *a, uint8_t fraction_lost);
/* The viewer's path shows heavy loss on its other streams (its video gets
 * copies, sink_repair.h): SFU_AUDIO_COPIES_MAX from now on, stepping down
 * only after clean reports as above. */
void sfu_audio_copies_path_lossy(sfu_audio_copies *a);

#endif
