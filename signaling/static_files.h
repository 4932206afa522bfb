/* The call page: GET / and GET /static/<path>, served from the configured
 * directory. Paths were validated by the router (no "..", no hidden files). */
#ifndef SIG_STATIC_FILES_H
#define SIG_STATIC_FILES_H

#include "signaling/http.h"

/* `rel` is "index.html" for / or the path under /static/. */
/* `connect_src`: more sources for the page's CSP connect-src beside 'self'
 * (space-separated origins), or NULL. */
void sig_static_answer(sig_request *req, const char *dir, const char *rel, bool head,
                       const char *connect_src);

#endif
