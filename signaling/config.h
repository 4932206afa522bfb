/* The operator's configuration: an INI file (GLib GKeyFile syntax) read once
 * at start into one struct that is then passed around as `const sig_config *`.
 * Every key lives in one table in config.c (group, name, type, default,
 * bounds, help); configs/sfu.conf documents them all.
 *
 * Every problem is reported as `file:line: group.key: problem` (line 0 when
 * the file cannot be read at all), and any problem makes loading fail: a typo
 * never silently falls back to a default. */
#ifndef SIG_CONFIG_H
#define SIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sfu/core/common.h"
#include "sfu/net/log.h"

#define SIG_CONFIG_STR_MAX 256          /* bytes of a string value, with its NUL */
#define SIG_CONFIG_PATH_MAX 1024
#define SIG_CONFIG_HOST_MAX 64          /* an IPv4 or IPv6 literal, with its NUL */
#define SIG_CONFIG_LIST_MAX 8           /* items of a list value */

typedef struct sig_config_addr {
    char host[SIG_CONFIG_HOST_MAX];     /* numeric, without brackets: "::1" */
    uint16_t port;                      /* 0: any free port */
} sig_config_addr;

typedef struct sig_config_list {
    unsigned count;
    char item[SIG_CONFIG_LIST_MAX][SIG_CONFIG_STR_MAX];
} sig_config_list;

typedef struct sig_config {
    struct {
        sig_config_addr listen;
        char cors_origin[SIG_CONFIG_STR_MAX];
        char static_dir[SIG_CONFIG_PATH_MAX];   /* the call page's files */
        uint32_t max_body_bytes;
        uint32_t max_connections;
        uint32_t max_pending_connections_per_client;    /* 0: no cap */
        sfu_time header_timeout, body_timeout, idle_timeout;    /* microseconds */
        uint32_t requests_per_second_per_client;    /* 0: no rate limit */
        uint32_t request_burst;
    } http;
    struct {
        uint16_t port_min, port_max;            /* inclusive */
        sig_config_list gather_addresses;       /* IP literals */
        sig_config_list announce_addresses;     /* empty, or one per gather address */
        bool ice_tcp;
        char udp_port[16];                      /* "auto", "off", or a base port; sig_config_udp_ports */
        uint32_t workers;                       /* 0: one per core */
        sfu_time liveness_timeout;              /* microseconds */
        uint32_t buffer_pool_packets;           /* per worker, at start */
        uint32_t buffer_pool_max_packets;       /* per worker, grown to on demand */
        uint32_t rtx_cache_packets;             /* per source stream */
        sfu_time keyframe_min_interval;         /* microseconds */
        sfu_time keyframe_cache;                /* microseconds; 0: off */
        uint32_t max_publish_bitrate_bps;       /* 0: unlimited */
        uint32_t max_retransmissions_per_second; /* per viewer stream */
        bool simulcast;                         /* answer a=simulcast offers */
        bool udp_gso;                           /* send a viewer's bursts as UDP GSO trains */
        uint32_t read_coalesce_us;              /* core/rx_coalesce.h; 0: off */
        bool video_loss_copies;                 /* sink_repair.h */
    } media;
    struct {
        uint32_t audio_slots;                   /* reneg.h, room_audio.c */
    } room;
    struct {
        uint32_t max_sessions;
        uint32_t max_rooms;
        uint32_t max_participants_per_room;
        uint32_t max_tracks_per_session;
        uint32_t max_sdp_mlines;
        uint32_t max_sdp_bytes;
    } limits;
    struct {
        char cert_file[SIG_CONFIG_PATH_MAX];    /* empty: generate at start */
        char key_file[SIG_CONFIG_PATH_MAX];
    } dtls;
    struct {
        sfu_log_level level;
        uint32_t lines_per_second_per_cause;    /* 0: no limit */
    } log;
    struct {
        bool log_addresses;
        bool api_addresses;
    } privacy;
    struct {
        char secret[SIG_CONFIG_STR_MAX];        /* empty: auth off; never printed */
        uint32_t clock_skew_s;
    } auth;
    struct {
        sig_config_list stun_urls;              /* stun: / stuns: URIs */
    } ice;
    struct {
        sig_config_list urls;                   /* turn: / turns: URIs */
        char secret[SIG_CONFIG_STR_MAX];        /* time-limited credentials; never printed */
        uint32_t ttl_s;
        char username[SIG_CONFIG_STR_MAX];      /* fixed credentials, without a secret */
        char credential[SIG_CONFIG_STR_MAX];    /* never printed */
    } turn;
    struct {
        uint32_t drain_timeout_s;               /* SIGTERM: wait this long for sessions to end */
    } server;
    struct {
        char redis_url[SIG_CONFIG_STR_MAX];     /* empty: a single node */
        char redis_password[SIG_CONFIG_STR_MAX];    /* never printed */
        char node_id[SIG_CONFIG_STR_MAX];       /* empty: random at start */
        char public_url[SIG_CONFIG_STR_MAX];
        char secret[SIG_CONFIG_STR_MAX];        /* seals the records; never printed */
        sfu_time heartbeat, node_ttl, redis_timeout;    /* microseconds */
        bool relay;                             /* WHEP for a room elsewhere: relay leg, not 307 */
        sfu_time relay_timeout;                 /* the node-to-node call's deadline */
        bool span;                              /* room join for a room elsewhere: served here */
    } cluster;
} sig_config;

/* Fills `cfg` with every key's default. */
void sig_config_defaults(sig_config *cfg);

/* Reads `path` over the defaults. Returns 0, or -SFU_EINVAL with every
 * problem in `err` (one per line, cut to fit) and `out` unchanged. */
int sig_config_load(const char *path, sig_config *out, char *err, size_t errlen);

/* Checks `path` and writes each problem as one line to `report` (may be
 * NULL). Returns the number of problems: 0 means the file is good. */
int sig_config_check(const char *path, FILE *report);

/* Writes the effective configuration as an INI file, secrets as "(set)". */
void sig_config_dump(const sig_config *cfg, FILE *out);

/* media.udp_port: "auto", "off" or a number (0: off); AUTO stands for
 * auto. -SFU_EINVAL for anything else. */
#define SIG_UDP_PORT_AUTO 0x10000u
int sig_config_udp_port_parse(const char *text, uint32_t *port);
/* The shared port's base for `nworkers` workers (0: off) and the lowest
 * port left to libnice: with auto, the first nworkers ports of the range.
 * 1 when auto found the range too small (fewer than 2 ports per worker):
 * then off. -SFU_ELIMIT when BASE+nworkers-1 is past 65535. */
int sig_config_udp_ports(const sig_config *cfg, unsigned nworkers, uint16_t *base,
                         uint16_t *port_min);

#endif
