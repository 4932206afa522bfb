/* GET /metrics: Prometheus text format (version 0.0.4). Counters come from
 * every worker, each copying its own on its own thread; the last one to
 * finish answers. Labels never carry addresses, names or room names. */
#ifndef SIG_METRICS_H
#define SIG_METRICS_H

#include "signaling/http.h"
#include "signaling/server.h"

void sig_metrics_answer(sig_server *srv, sig_request *req);

/* HTTP answers by route (sig_route_id, SIG_ROUTE_NONE for a path that
 * matched no route or a request refused before routing) and status code.
 * Adding is lock-free and safe from any thread. */
typedef struct sig_http_counts sig_http_counts;
sig_http_counts *sig_http_counts_new(void);
void sig_http_counts_free(sig_http_counts *c);
void sig_http_counts_add(sig_http_counts *c, unsigned route, unsigned status);
uint64_t sig_http_counts_get(const sig_http_counts *c, unsigned route, unsigned status);
/* The route's label value: "whip", "room_join", ..., "none". */
const char *sig_metrics_route_name(unsigned route);

#endif
