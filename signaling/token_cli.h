/* `sfu token`: mints a bearer token with the configured [auth] secret.
 *
 *   sfu token --config FILE --room R --name N [--ttl 1h|30m|90s|2d|3600]
 *             [--publish] [--subscribe]
 *
 * Prints the token and a newline on stdout, nothing else; errors go to
 * stderr as one line each and never contain the secret. --room "*" gives a
 * token for every room; with neither --publish nor --subscribe the token
 * can only read the room list. Default ttl: 1h. */
#ifndef SIG_TOKEN_CLI_H
#define SIG_TOKEN_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "sfu/core/common.h"

#define SIG_TOKEN_EXIT_OK 0
#define SIG_TOKEN_EXIT_ERROR 1      /* config unreadable, no secret, minting failed */
#define SIG_TOKEN_EXIT_USAGE 2      /* bad or missing arguments */

/* argv[0] is "token"; returns the process exit status. */
int sig_token_main(int argc, char **argv);

/* The same, writing to `out` and `err` and minting at `now_unix` (tests). */
int sig_token_run(int argc, char **argv, int64_t now_unix, FILE *out, FILE *err);

/* "3600", "90s", "30m", "1h", "2d" to seconds, 1 s to 366 days.
 * Returns 0 or -SFU_EINVAL. */
int sig_token_parse_ttl(const char *s, uint32_t *out);

#endif
