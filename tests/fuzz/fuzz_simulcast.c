/* Fuzz target for the a=simulcast value parser (RFC 8853 5.1): a value that
 * parses has well-formed rid lists (ids of rid characters, unique, within
 * the limits), and the failure path leaves the result empty. */
#include <stdlib.h>
#include <string.h>

#include "signaling/sdp_simulcast.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_list(const sig_sc_list *l)
{
    check(l->nstreams <= SIG_SC_MAX_STREAMS && (l->present || l->nstreams == 0));
    check(!l->present || l->nstreams >= 1);
    for (unsigned s = 0; s < l->nstreams; s++) {
        check(l->streams[s].nalts >= 1 && l->streams[s].nalts <= SIG_SC_MAX_ALTS);
        for (unsigned a = 0; a < l->streams[s].nalts; a++) {
            size_t n = strlen(l->streams[s].alts[a].id);
            check(n >= 1 && n <= SIG_SDP_MID_LEN);
            check(strspn(l->streams[s].alts[a].id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                   "0123456789-_") == n);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char value[SIG_SDP_SIMULCAST_LEN + 1];
    if (size > SIG_SDP_SIMULCAST_LEN || memchr(data, '\0', size))
        return 0;
    memcpy(value, data, size);
    value[size] = '\0';
    sig_sdp_simulcast sc;
    char err[128];
    if (sig_sdp_simulcast_parse(value, &sc, err, sizeof err) != 0) {
        check(err[0] != '\0' && !sc.send.present && !sc.recv.present);
        return 0;
    }
    check(sc.send.present || sc.recv.present);
    check_list(&sc.send);
    check_list(&sc.recv);
    /* what an answer would say for the first alternatives that fit a layer */
    sfu_layer_desc layers[SFU_MAX_LAYERS] = { 0 };
    unsigned n = 0;
    for (unsigned i = 0; i < sc.send.nstreams && n < SFU_MAX_LAYERS; i++)
        if (strlen(sc.send.streams[i].alts[0].id) < SFU_RID_MAX)
            strcpy(layers[n++].rid, sc.send.streams[i].alts[0].id);
    char out[64];
    if (sig_sdp_simulcast_format(layers, n, out, sizeof out) == 0) {
        char again[SIG_SDP_SIMULCAST_LEN + 1];
        strcpy(again, out);
        again[0] = 's', again[1] = 'e', again[2] = 'n', again[3] = 'd';   /* "recv" -> "send" */
        check(n == 0 || sig_sdp_simulcast_parse(again, &sc, NULL, 0) == 0);
    }
    return 0;
}
