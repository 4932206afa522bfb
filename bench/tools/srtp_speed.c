/* srtp-speed: what one SRTP protect and unprotect cost per packet, for each
 * profile the SFU negotiates, at a few packet sizes. Single-threaded; the
 * figure is thread CPU time per packet (median of --reps runs, less the
 * time to copy the packet in), so other load on the machine moves it less
 * than wall time would.
 *
 *   build/srtp-speed [--packets N] [--reps R] [SIZE...]   (default 100 1200) */
#include "sfu/crypto/srtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SIZE 1400

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint8_t template_pkt[MAX_SIZE];

static void build_template(void)
{
    template_pkt[0] = 0x80;
    template_pkt[1] = 96;
    template_pkt[8] = 0x11;
    template_pkt[11] = 0x44;
    for (size_t i = 12; i < MAX_SIZE; i++)
        template_pkt[i] = (uint8_t)(i * 7);
}

/* ns/packet to copy the template in (session NULL), protect, or protect and
 * unprotect count packets of size bytes, sequence numbers from *seq. */
static double run(sfu_srtp_session *s, size_t size, long count, uint16_t *seq, bool unprotect)
{
    static uint8_t pkt[MAX_SIZE + SFU_SRTP_MAX_TRAILER_LEN];
    double start = cpu_ns();
    for (long k = 0; k < count; k++) {
        memcpy(pkt, template_pkt, size);
        pkt[2] = (uint8_t)(*seq >> 8);
        pkt[3] = (uint8_t)*seq;
        ++*seq;
        size_t len = size;
        if (s && (sfu_srtp_session_protect_rtp(s, pkt, &len) != 0 ||
                  (unprotect && sfu_srtp_session_unprotect_rtp(s, pkt, &len) != 0))) {
            fprintf(stderr, "srtp-speed: packet %ld failed\n", k);
            exit(1);
        }
    }
    return (cpu_ns() - start) / (double)count;
}

int main(int argc, char **argv)
{
    long packets = 50000, reps = 5;
    size_t sizes[8] = { 100, 1200 }, n_sizes = 2, given = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--packets") == 0 && i + 1 < argc)
            packets = atol(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atol(argv[++i]);
        else if (argv[i][0] != '-' && given < 8 && atol(argv[i]) >= 12 && atol(argv[i]) <= MAX_SIZE)
            sizes[given++] = (size_t)atol(argv[i]);
        else {
            fprintf(stderr, "usage: %s [--packets N] [--reps R] [SIZE 12..%d ...]\n", argv[0],
                    MAX_SIZE);
            return 1;
        }
    }
    if (given)
        n_sizes = given;
    if (packets < 1 || reps < 1 || reps > 99) {
        fprintf(stderr, "srtp-speed: --packets >= 1, --reps 1..99\n");
        return 1;
    }
    static const sfu_srtp_profile profiles[] = {
        SFU_SRTP_AEAD_AES_256_GCM, SFU_SRTP_AEAD_AES_128_GCM, SFU_SRTP_AES128_CM_SHA1_80,
    };
    build_template();
    printf("%-26s %6s %14s %14s   (ns/packet, median of %ld x %ld, thread CPU)\n", "profile",
           "bytes", "protect", "unprotect", reps, packets);
    for (size_t p = 0; p < sizeof profiles / sizeof profiles[0]; p++) {
        sfu_srtp_keys keys;
        memset(&keys, 0x3c, sizeof keys); /* local == remote: it unprotects its own */
        keys.profile = profiles[p];
        for (size_t z = 0; z < n_sizes; z++) {
            sfu_srtp_session *s = sfu_srtp_session_new(&keys);
            if (!s) {
                fprintf(stderr, "srtp-speed: no session for %s\n",
                        sfu_srtp_profile_name(profiles[p]));
                return 1;
            }
            double prot[99], both[99], copy[99];
            uint16_t seq = 0;
            run(s, sizes[z], packets / 10 + 1, &seq, true); /* warm up */
            for (long r = 0; r < reps; r++) {
                uint16_t no_seq = seq; /* a jump would break the ROC guess */
                copy[r] = run(NULL, sizes[z], packets, &no_seq, false);
                prot[r] = run(s, sizes[z], packets, &seq, false);
                both[r] = run(s, sizes[z], packets, &seq, true);
            }
            qsort(prot, (size_t)reps, sizeof prot[0], cmp_double);
            qsort(both, (size_t)reps, sizeof both[0], cmp_double);
            qsort(copy, (size_t)reps, sizeof copy[0], cmp_double);
            double cm = copy[reps / 2], pm = prot[reps / 2] - cm, bm = both[reps / 2] - cm;
            printf("%-26s %6zu %14.0f %14.0f\n", sfu_srtp_profile_name(profiles[p]), sizes[z], pm,
                   bm - pm);
            sfu_srtp_session_free(s);
        }
    }
    return 0;
}
