/* The STUN and TURN servers a client is told about, as the values of
 * `Link: <uri>; rel="ice-server"` header fields on a 201 (RFC 9725 section
 * 4.6; link syntax RFC 8288 section 3). TURN servers carry credentials:
 * fixed ones from [turn] username/credential, or, with [turn] secret set,
 * time-limited ones in the TURN REST API style that coturn's
 * use-auth-secret accepts (draft-uberti-behave-turn-rest-00):
 *   username   = "<expiry unix time>:<name>"
 *   credential = base64(HMAC-SHA1(secret, username))
 * Pure: the caller passes the wall-clock time. */
#ifndef SIG_ICE_SERVERS_H
#define SIG_ICE_SERVERS_H

#include <stddef.h>
#include <stdint.h>

#include "signaling/config.h"

#define SIG_ICE_LINKS_MAX (2 * SIG_CONFIG_LIST_MAX)
#define SIG_ICE_LINK_LEN 1536       /* a value with its NUL: a URI and two escaped strings */
#define SIG_ICE_TURN_USER_MAX 96    /* "<expiry>:<name>" with its NUL */
#define SIG_ICE_TURN_CRED_MAX 32    /* base64 of 20 bytes (28) with its NUL */

typedef struct sig_ice_links {
    unsigned count;
    char value[SIG_ICE_LINKS_MAX][SIG_ICE_LINK_LEN];    /* one Link header value each */
} sig_ice_links;

/* Fills `out` with one value per [ice] stun_urls entry, then one per [turn]
 * urls entry, in config order, e.g.
 *   <stun:stun.example.net>; rel="ice-server"
 *   <turn:turn.example.net:3478?transport=udp>; rel="ice-server";
 *     username="1700000000:p1"; credential="..."; credential-type="password"
 * (one line). `name` identifies the user to the TURN server's logs: a
 * participant id, or NULL for "sfu". Returns 0, or -SFU_EINVAL when `name`
 * is not a valid participant id or a configured value cannot be written as
 * an RFC 8288 quoted-string or URI-Reference (control characters, non-ASCII);
 * `out->count` is 0 then. */
int sig_ice_servers_links(const sig_config *cfg, int64_t now_unix, const char *name,
                          sig_ice_links *out);

/* The TURN REST credentials for `name`, valid until `expiry_unix`.
 * Returns 0 or -SFU_EINVAL (empty secret, bad name, buffers too small). */
int sig_ice_turn_credentials(const char *secret, int64_t expiry_unix, const char *name,
                             char *username, size_t ulen, char *credential, size_t clen);

#endif
