/* One typed value of the configuration: the key table's row type, and the
 * parser and printer that every key goes through (file values and defaults
 * alike). Internal to signaling/config.c and its test. */
#ifndef SIG_CONFIG_VALUE_H
#define SIG_CONFIG_VALUE_H

#include "signaling/config.h"

enum cfg_type {
    CFG_UINT,           /* decimal; uint16_t or uint32_t by field size */
    CFG_MS,             /* milliseconds in the file, sfu_time in the struct */
    CFG_BOOL,
    CFG_STRING,
    CFG_SECRET,         /* a string never printed */
    CFG_LEVEL,          /* sfu_log_level */
    CFG_ADDR,           /* IP:port, [IPv6]:port */
    CFG_IP_LIST,        /* IP literals, comma-separated */
    CFG_STUN_URLS,      /* RFC 7064 URIs */
    CFG_TURN_URLS,      /* RFC 7065 URIs */
};

struct cfg_key {
    const char *group, *name;
    enum cfg_type type;
    size_t off, size;   /* of the field in sig_config */
    const char *def;
    uint32_t min, max;  /* value bounds; for lists, item count bounds */
    const char *help;
};

/* Parses `text` (surrounding blanks ignored) as key `k` into its field of
 * `cfg`. Returns 0, or -SFU_EINVAL with the reason in `why` and the field
 * unchanged. */
int sig_config_value_parse(const struct cfg_key *k, const char *text, sig_config *cfg,
                           char *why, size_t n);
/* Formats key `k`'s field of `cfg` as it would be written in the file;
 * secrets come out as "(set)" or empty. */
void sig_config_value_format(const struct cfg_key *k, const sig_config *cfg, char *buf,
                             size_t n);

#endif
