/* The envelope of node-to-node messages (relay_msg.h, span_msg.h): a JSON
 * object sealed with the cluster secret (cluster_store.h), carrying
 * "v": 1: written and opened here for both kinds, with the checked string
 * reader of its fields. */
#ifndef SIG_CLUSTER_MSG_H
#define SIG_CLUSTER_MSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* `o` (taken, may be NULL) as compact JSON sealed with the cluster secret,
 * a string to g_free; NULL when `o` is NULL, it cannot be written, or the
 * sealed text is over `max` bytes (the receiver would refuse it). */
char *sig_cluster_msg_seal(json_t *o, const char *secret, size_t max);

/* The message's object (the caller decrefs it), or NULL with the reason in
 * why[0..n): no secret (`feature`, e.g. "relay legs are off", ends the reason), a
 * body over `max` bytes or whose seal does not check, not a JSON object,
 * or a version other than 1. */
json_t *sig_cluster_msg_open(const char *text, size_t len, const char *secret, size_t max,
                             const char *feature, char *why, size_t n);

/* The string under `key`, shorter than `max` and free of NUL bytes; NULL
 * otherwise. */
const char *sig_cluster_msg_str(json_t *o, const char *key, size_t max);

#endif
