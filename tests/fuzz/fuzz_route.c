/* Fuzzes the HTTP router. Input: "METHOD\nTARGET\n" then "key=value" lines,
 * each handed to sig_route_query_arg as libmicrohttpd would. Checks what the
 * router promises: one of the statuses it documents, and on success every
 * captured parameter passes its validator and the method is allowed. */
#include "signaling/route.h"

#include <stdlib.h>
#include <string.h>

static void check(bool ok)
{
    if (!ok)
        abort();
}

/* Copies the next '\n'-terminated piece of the input into a NUL-terminated
 * string (a NUL inside ends the string early, as it would in C callers). */
static char *next_piece(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    memcpy(s, *p, n);
    s[n] = '\0';
    *p += n + (nl ? 1 : 0);
    return s;
}

static void check_result(const sig_route *r, int rc)
{
    check(r->status == 0 || r->status == 400 || r->status == 404 || r->status == 405);
    check((rc == 0) == (r->status == 0));
    if (r->status != 0) {
        check(r->id == SIG_ROUTE_NONE && r->reason && r->room[0] == '\0' && r->session[0] == '\0');
        check(r->status != 405 || (r->allowed && !(r->allowed & r->method)));
        return;
    }
    check(r->id != SIG_ROUTE_NONE && (r->allowed & r->method) && (r->allowed & SIG_METHOD_OPTIONS));
    check(!r->room[0] || sig_route_valid_name(r->room, strlen(r->room)));
    check(!r->participant[0] || sig_route_valid_name(r->participant, strlen(r->participant)));
    check(!r->session[0] || sig_route_valid_session_id(r->session, strlen(r->session)));
    check(!r->has_name || sig_route_valid_display_name(r->name, strlen(r->name)));
    /* no segment may start with a dot: no "..", no hidden files */
    check(r->static_path[0] != '/' && r->static_path[0] != '.' && !strstr(r->static_path, "/.") &&
          !strstr(r->static_path, "//"));
    if (r->method != SIG_METHOD_OPTIONS) {
        bool needs_session = r->id == SIG_ROUTE_SESSION || r->id == SIG_ROUTE_SESSION_EVENTS ||
                             r->id == SIG_ROUTE_SESSION_ANSWER;
        check(needs_session == (r->session[0] != '\0'));
        check((r->id == SIG_ROUTE_STATIC) == (r->static_path[0] != '\0'));
    }
    check(!r->has_access_token || r->id == SIG_ROUTE_SESSION_EVENTS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *method = next_piece(&p, end), *target = next_piece(&p, end);
    static sig_route r;     /* about 5 KB: off the fuzzer's stack */
    int rc = sig_route_match(method, target, &r);
    check_result(&r, rc);

    char allow[128];
    size_t n = sig_route_allow_header(r.allowed, allow, sizeof allow);
    check(n == strlen(allow));

    for (int i = 0; i < 8 && p < end && rc == 0; i++) {
        char *arg = next_piece(&p, end), *eq = strchr(arg, '=');
        if (eq)
            *eq++ = '\0';
        rc = sig_route_query_arg(&r, arg, eq);
        check_result(&r, rc);
        free(arg);
    }
    free(method);
    free(target);
    return 0;
}
