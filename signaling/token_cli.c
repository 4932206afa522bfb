#include "signaling/token_cli.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "signaling/auth.h"
#include "signaling/config.h"

#define TTL_MAX (366u * 86400u)

struct opts {
    const char *config, *room, *name, *ttl;
    bool publish, subscribe, help;
};

static const char usage[] =
    "usage: sfu token --config FILE --room ROOM --name NAME [--ttl 1h|30m|90s|2d|3600]\n"
    "                 [--publish] [--subscribe]\n"
    "  prints a bearer token signed with [auth] secret; --room '*' for every room\n";

int sig_token_parse_ttl(const char *s, uint32_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -SFU_EINVAL;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > TTL_MAX)
            return -SFU_EINVAL;
    }
    uint64_t unit = 1;
    if (*s) {
        switch (*s++) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return -SFU_EINVAL;
        }
        if (*s)
            return -SFU_EINVAL;
    }
    v *= unit;
    if (v == 0 || v > TTL_MAX)
        return -SFU_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* Accepts "--key value" and "--key=value". Returns 0 or prints the problem. */
static int parse(int argc, char **argv, struct opts *o, FILE *err)
{
    static const char *const valued[] = { "--config", "--room", "--name", "--ttl" };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--publish") == 0) { o->publish = true; continue; }
        if (strcmp(a, "--subscribe") == 0) { o->subscribe = true; continue; }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { o->help = true; continue; }
        const char **slot[] = { &o->config, &o->room, &o->name, &o->ttl };
        size_t k = 0;
        const char *val = NULL;
        for (; k < SFU_ARRAY_LEN(valued); k++) {
            size_t n = strlen(valued[k]);
            if (strncmp(a, valued[k], n) == 0 && (a[n] == '\0' || a[n] == '='))
                break;
        }
        if (k == SFU_ARRAY_LEN(valued)) {
            fprintf(err, "sfu token: unknown argument \"%.64s\"\n", a);
            return -SFU_EINVAL;
        }
        val = strchr(a, '=') ? strchr(a, '=') + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) {
            fprintf(err, "sfu token: %s needs a value\n", valued[k]);
            return -SFU_EINVAL;
        }
        *slot[k] = val;
    }
    return 0;
}

static int check_opts(const struct opts *o, uint32_t *ttl, FILE *err)
{
    const char *missing = !o->config ? "--config" : !o->room ? "--room" : !o->name ? "--name"
                                                                                  : NULL;
    if (missing) {
        fprintf(err, "sfu token: %s is required\n%s", missing, usage);
        return -SFU_EINVAL;
    }
    if (!(strcmp(o->room, "*") == 0 || sig_route_valid_name(o->room, strlen(o->room)))) {
        fprintf(err, "sfu token: --room must be '*' or 1-64 of A-Z a-z 0-9 _ . -\n");
        return -SFU_EINVAL;
    }
    if (!sig_route_valid_display_name(o->name, strlen(o->name))) {
        fprintf(err, "sfu token: --name must be 1-64 bytes of UTF-8 without control "
                     "characters\n");
        return -SFU_EINVAL;
    }
    *ttl = 3600;
    if (o->ttl && sig_token_parse_ttl(o->ttl, ttl) != 0) {
        fprintf(err, "sfu token: --ttl \"%.32s\" is not a duration from 1s to 366d "
                     "(3600, 90s, 30m, 1h, 2d)\n", o->ttl);
        return -SFU_EINVAL;
    }
    return 0;
}

int sig_token_run(int argc, char **argv, int64_t now_unix, FILE *out, FILE *err)
{
    struct opts o = { 0 };
    uint32_t ttl;
    if (parse(argc, argv, &o, err) != 0)
        return SIG_TOKEN_EXIT_USAGE;
    if (o.help) {
        fputs(usage, out);
        return SIG_TOKEN_EXIT_OK;
    }
    if (check_opts(&o, &ttl, err) != 0)
        return SIG_TOKEN_EXIT_USAGE;
    sig_config *cfg = calloc(1, sizeof *cfg);   /* large: keep it off the stack */
    char cerr[1024];
    int status = SIG_TOKEN_EXIT_ERROR;
    if (!cfg) {
        fprintf(err, "sfu token: out of memory\n");
        return status;
    }
    if (sig_config_load(o.config, cfg, cerr, sizeof cerr) != 0) {
        fprintf(err, "sfu token: %s%s", cerr, cerr[0] && cerr[strlen(cerr) - 1] == '\n' ? "" : "\n");
        goto out;
    }
    if (!cfg->auth.secret[0]) {
        fprintf(err, "sfu token: %s sets no [auth] secret: auth is off, no token needed\n",
                o.config);
        goto out;
    }
    if (!o.publish && !o.subscribe)
        fprintf(err, "sfu token: note: neither --publish nor --subscribe: "
                     "this token can only read the room list\n");
    char *token = NULL;
    if (sig_auth_mint(cfg->auth.secret, o.room, o.name, ttl, o.publish, o.subscribe, now_unix,
                      &token) != 0) {
        fprintf(err, "sfu token: cannot mint a token for these arguments\n");
        goto out;
    }
    fprintf(out, "%s\n", token);
    free(token);
    status = fflush(out) == 0 ? SIG_TOKEN_EXIT_OK : SIG_TOKEN_EXIT_ERROR;
out:
    explicit_bzero(cfg, sizeof *cfg);   /* the config holds secrets */
    free(cfg);
    return status;
}

int sig_token_main(int argc, char **argv)
{
    return sig_token_run(argc, argv, (int64_t)time(NULL), stdout, stderr);
}
