/* GET /metrics: Prometheus text format (version 0.0.4). Counters come from
 * every worker, each copying its own on its own thread; the last one to
 * finish answers. Labels never carry addresses, names or room names. */
#ifndef SIG_METRICS_H
#define SIG_METRICS_H

#include "signaling/http.h"
#include "signaling/server.h"

void sig_metrics_answer(sig_server *srv, sig_request *req);

#endif
