/* Redaction of secrets and addresses from foreign log text (see log_redact.h).
 *
 * One pass from left to right. At each position the rules are tried in a
 * fixed order (session path, address, named secret, anonymous run); the first
 * that matches writes its replacement and consumes what it matched, else one
 * byte is copied. Every rule looks at a bounded window or consumes what it
 * scans, so the whole pass is linear. */
#include "sfu/net/log_redact.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#define ADDR_RUN_MAX 64         /* longer than any written address with zone */
#define ZONE_MAX 16

typedef struct sink {
    char *out;
    size_t n, o;
} sink;

static void put(sink *s, const char *p, size_t k)
{
    if (s->n == 0)
        return;
    size_t room = s->n - 1 - s->o;
    if (k > room)
        k = room;
    memcpy(s->out + s->o, p, k);
    s->o += k;
}

static void put_str(sink *s, const char *str) { put(s, str, strlen(str)); }

/* ASCII only: the result must not depend on the locale. */
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
static bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_space(char c) { return c == ' ' || c == '\t'; }
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* Characters of base64, base64url, hex and dotted tokens. */
static bool is_run_char(char c)
{
    return is_alnum(c) || c == '+' || c == '/' || c == '_' || c == '.' || c == '-';
}

/* Where a value in a URL, a header list or a key=value text ends. */
static bool ends_value(char c)
{
    return is_space(c) || c == '\r' || c == '\n' || strchr("&\"'`,;<>()[]{}#", c) != NULL;
}

static bool starts_with_ci(const char *in, size_t len, size_t i, const char *word)
{
    size_t k = strlen(word);
    if (len - i < k)
        return false;
    for (size_t j = 0; j < k; j++)
        if (lower(in[i + j]) != word[j])
            return false;
    return true;
}

/* ---- "/sessions/<id>" ---- */

static size_t session_path(sink *s, const char *in, size_t len, size_t i)
{
    static const char prefix[] = "/sessions/";
    const size_t k = sizeof prefix - 1;
    if (!starts_with_ci(in, len, i, prefix))
        return 0;
    size_t j = i + k;
    while (j < len && in[j] != '/' && in[j] != '?' && !ends_value(in[j]))
        j++;
    if (j == i + k)
        return 0;
    put(s, in + i, k);
    put_str(s, SFU_REDACT_SECRET);
    return j - i;
}

/* ---- addresses ---- */

static bool parses_as(int af, const char *in, size_t k)
{
    char text[ADDR_RUN_MAX + 1];
    unsigned char bin[16];
    if (k == 0 || k > ADDR_RUN_MAX)
        return false;
    memcpy(text, in, k);
    text[k] = '\0';
    return inet_pton(af, text, bin) == 1;
}

/* The length of the address at in[i] (with its port or zone), or 0. */
static size_t address_len_in_run(const char *in, size_t len, size_t i)
{
    size_t run = 0, colons = 0;
    while (i + run < len && run <= ADDR_RUN_MAX &&
           (is_hex(in[i + run]) || in[i + run] == ':' || in[i + run] == '.')) {
        colons += in[i + run] == ':';
        run++;
    }
    if (run < 2 || run > ADDR_RUN_MAX)
        return 0;
    char after = i + run < len ? in[i + run] : ' ';
    size_t k = run;
    while (k > 0 && (in[i + k - 1] == '.'))
        k--;        /* a sentence's full stop */
    if (colons >= 2) {
        if (!parses_as(AF_INET6, in + i, k))
            return 0;
        if (k == run && after == '%') {     /* a scope zone: fe80::1%eth0 */
            size_t z = 1;
            while (i + k + z < len && z <= ZONE_MAX &&
                   (is_alnum(in[i + k + z]) || in[i + k + z] == '_' || in[i + k + z] == '-'))
                z++;
            if (z > 1)
                k += z;
        }
        return k;
    }
    size_t colon = k;
    for (size_t j = 0; j < k; j++)
        if (in[i + j] == ':')
            colon = j;
    for (size_t j = 0; j < colon; j++)
        if (!is_digit(in[i + j]) && in[i + j] != '.')
            return 0;
    size_t host = colon;
    while (host > 0 && in[i + host - 1] == '.')
        host--;
    if (!parses_as(AF_INET, in + i, host))
        return 0;
    if (host < colon)
        return host;
    size_t port = 0;
    while (colon + 1 + port < k && port < 5 && is_digit(in[i + colon + 1 + port]))
        port++;
    /* "192.0.2.1:5000" takes the port along; "192.0.2.1:x" only the host. */
    return port > 0 && colon + 1 + port == k ? k : colon;
}

/* An address that runs on into a word ("192.0.2.1x") is not one. */
static size_t address_len(const char *in, size_t len, size_t i)
{
    size_t k = address_len_in_run(in, len, i);
    char next = i + k < len ? in[i + k] : ' ';
    return k && !is_alnum(next) && next != '_' ? k : 0;
}

static size_t address(sink *s, const char *in, size_t len, size_t i, bool after_replacement)
{
    if (i > 0 && in[i - 1] == '.' && !after_replacement)
        return 0;   /* the tail of a dotted name or of a longer number */
    size_t k = address_len(in, len, i);
    if (k)
        put_str(s, SFU_REDACT_ADDR);
    return k;
}

/* ---- named secrets ---- */

typedef enum sep_kind {
    SEP_ASSIGN,     /* name, optional closing quote, '=' or ':' */
    SEP_SPACE,      /* name, blanks */
} sep_kind;

typedef enum value_kind {
    VAL_WORD,       /* to the next space or delimiter; a quoted value to its quote */
    VAL_LINE,       /* to the end of the line (a header's value) */
    VAL_NONSPACE,   /* to the next blank, quotes and all */
} value_kind;

static const struct keyword {
    const char *name;   /* lower case */
    sep_kind sep;
    value_kind value;
} keywords[] = {
    { "authorization", SEP_ASSIGN, VAL_LINE },
    { "proxy-authorization", SEP_ASSIGN, VAL_LINE },
    { "cookie", SEP_ASSIGN, VAL_LINE },
    { "bearer", SEP_SPACE, VAL_WORD },
    { "u/p", SEP_SPACE, VAL_NONSPACE },     /* libnice: U/P 'ufrag'/'pwd' */
    { "token", SEP_ASSIGN, VAL_WORD },      /* also access_token, id_token */
    { "jwt", SEP_ASSIGN, VAL_WORD },
    { "pwd", SEP_ASSIGN, VAL_WORD },        /* also ice-pwd */
    { "password", SEP_ASSIGN, VAL_WORD },
    { "passwd", SEP_ASSIGN, VAL_WORD },
    { "secret", SEP_ASSIGN, VAL_WORD },
    { "credential", SEP_ASSIGN, VAL_WORD },
    { "ufrag", SEP_ASSIGN, VAL_WORD },      /* also ice-ufrag */
    { "username", SEP_ASSIGN, VAL_WORD },   /* STUN: ufrag:ufrag */
};

static size_t value_end(const char *in, size_t len, size_t j, value_kind kind)
{
    if (kind != VAL_NONSPACE && j < len && (in[j] == '"' || in[j] == '\'')) {
        const char q = in[j++];
        while (j < len && in[j] != q && in[j] != '\n' && in[j] != '\r')
            j++;
        return j;   /* the closing quote stays */
    }
    while (j < len) {
        char c = in[j];
        if (c == '\r' || c == '\n')
            break;
        if (kind == VAL_WORD && ends_value(c))
            break;
        if (kind == VAL_NONSPACE && is_space(c))
            break;
        j++;
    }
    return j;
}

static size_t named_secret(sink *s, const char *in, size_t len, size_t i)
{
    for (size_t w = 0; w < sizeof keywords / sizeof keywords[0]; w++) {
        const struct keyword *kw = &keywords[w];
        if (!starts_with_ci(in, len, i, kw->name))
            continue;
        size_t j = i + strlen(kw->name);
        if (j < len && (is_alnum(in[j]) || in[j] == '_'))
            continue;   /* a longer word: "tokens", "username_len" */
        if (kw->sep == SEP_ASSIGN) {
            if (j < len && (in[j] == '"' || in[j] == '\''))
                j++;    /* JSON: "token": "..." */
            while (j < len && is_space(in[j]))
                j++;
            if (j >= len || (in[j] != '=' && in[j] != ':'))
                continue;
            j++;
        } else if (j >= len || !is_space(in[j])) {
            continue;
        }
        while (j < len && is_space(in[j]))
            j++;
        size_t start = j;
        if (kw->value != VAL_NONSPACE && j < len && (in[j] == '"' || in[j] == '\''))
            start++;    /* the opening quote stays */
        size_t end = value_end(in, len, j, kw->value);
        if (end <= start)
            continue;
        put(s, in + i, start - i);
        put_str(s, SFU_REDACT_SECRET);
        return end - i;
    }
    return 0;
}

/* ---- anonymous runs ---- */

/* Scans the run of token characters at i; sets *run to its length. A run
 * that is not taken for a secret has no suffix that would be (shorter, and
 * no more kinds of character), so the caller skips the rest of it. */
static size_t anonymous_run(sink *s, const char *in, size_t len, size_t i, size_t *run)
{
    size_t k = 0;
    bool letter = false, digit = false;
    while (i + k < len && is_run_char(in[i + k])) {
        letter |= is_alpha(in[i + k]);
        digit |= is_digit(in[i + k]);
        k++;
    }
    *run = k;
    if (k < SFU_REDACT_MIN_RUN || !letter || !digit)
        return 0;
    put_str(s, SFU_REDACT_SECRET);
    return k;
}

size_t sfu_log_redact(char *out, size_t n, const char *in, size_t len, unsigned flags)
{
    sink s = { .out = out, .n = n, .o = 0 };
    if (n == 0)
        return 0;
    const char *nul = memchr(in, '\0', len);
    if (nul)
        len = (size_t)(nul - in);
    size_t run_end = 0;     /* anonymous runs are not looked at again before this */
    bool replaced = false;  /* the last bytes written were a replacement */
    for (size_t i = 0; i < len && s.o < n - 1;) {
        /* After a replacement (which ends in '>') a word starts, as it does
         * when the output is read again. */
        bool word_start = i == 0 || replaced || !is_alnum(in[i - 1]);
        size_t k = 0;
        if (in[i] == '/')
            k = session_path(&s, in, len, i);
        if (!k && word_start && !(flags & SFU_REDACT_KEEP_ADDRESSES))
            k = address(&s, in, len, i, replaced);
        if (!k && word_start)
            k = named_secret(&s, in, len, i);
        if (!k && word_start && i >= run_end) {
            size_t run;
            k = anonymous_run(&s, in, len, i, &run);
            run_end = i + run;
        }
        replaced = k > 0;
        if (k) {
            i += k;
        } else {
            put(&s, in + i, 1);
            i++;
        }
    }
    out[s.o] = '\0';
    return s.o;
}
