/* The whole server: configuration, certificate, media workers, the
 * registry and the HTTP front. One instance per process, built from a
 * loaded config and passed explicitly (no global state). */
#ifndef SIG_SERVER_H
#define SIG_SERVER_H

#include "signaling/config.h"
#include "signaling/http.h"
#include "signaling/registry.h"
#include "sfu/crypto/cert.h"
#include "sfu/crypto/dtls.h"
#include "sfu/net/host.h"
#include "sfu/net/worker.h"

typedef struct sig_server {
    sig_config cfg;
    sfu_cert *cert;
    sfu_dtls_ctx *dtls;
    unsigned nworkers;
    sfu_worker **workers;
    sfu_host **hosts;
    sfu_host_config host_cfg;
    const char *gather[SIG_CONFIG_LIST_MAX];
    const char *announce[SIG_CONFIG_LIST_MAX];
    sig_registry *reg;
    sig_http *http;
    struct sig_ratelimit *ratelimit;    /* NULL: no limit */
    unsigned keepalive_timer;           /* event streams' comment lines, main loop */
    uint32_t max_sessions;          /* the config's, capped by ports and fds */
} sig_server;

sig_server *sig_server_new(const sig_config *cfg, char *err, size_t errlen);
void sig_server_free(sig_server *srv);

/* The HTTP entry point (signaling/api.c). */
void sig_api_handle(void *user, sig_request *req);

#endif
