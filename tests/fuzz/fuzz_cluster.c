/* Fuzz target for what a cluster node reads from Redis: sealed node
 * records and rooms summaries (cluster_store.c). The first byte picks
 * with or without a secret; the rest is the stored value. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/cluster_store.h"

#define SECRET "0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *secret = data[0] & 1 ? SECRET : "";
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    sig_cluster_node node;
    if (sig_cluster_node_decode(text, len, secret, NULL, &node) == 0) {
        /* What decodes must encode and decode back to the same. */
        char *again = sig_cluster_node_encode(&node, secret);
        sig_cluster_node back;
        if (!again || sig_cluster_node_decode(again, strlen(again), secret, node.id, &back) != 0 ||
            memcmp(&back, &node, sizeof node) != 0)
            abort();
        g_free(again);
    }
    const char *json;
    size_t jlen;
    if (sig_cluster_unseal(text, len, secret, &json, &jlen) == 0) {
        char *rooms = sig_cluster_summary_rooms(json, jlen, NULL);
        if (rooms) {
            const char *arr[1] = { rooms };
            char *merged = sig_cluster_rooms_merge("{\"rooms\":[]}", "self", arr, 1);
            if (!merged)
                abort();    /* valid local JSON always merges */
            free(merged);
        }
        free(rooms);
    }
    return 0;
}
