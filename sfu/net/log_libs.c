/* Library diagnostics into our log (see log_libs.h). */
#include "sfu/net/log_libs.h"

#include <glib.h>
#include <stdbool.h>
#include <srtp2/srtp.h>
#include <string.h>

sfu_log_level sfu_log_glib_level(int flags)
{
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return SFU_LOG_ERROR;
    if (flags & G_LOG_LEVEL_WARNING)
        return SFU_LOG_WARN;
    if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return SFU_LOG_INFO;
    return SFU_LOG_DEBUG;
}

sfu_log_level sfu_log_srtp_level(int level)
{
    switch (level) {
    case srtp_log_level_error: return SFU_LOG_ERROR;
    case srtp_log_level_warning: return SFU_LOG_WARN;
    case srtp_log_level_info: return SFU_LOG_INFO;
    default: return SFU_LOG_DEBUG;
    }
}

/* The rate limit keys on the cause: one per library. */
static const char *glib_cause(const char *domain)
{
    return domain && strncmp(domain, "libnice", 7) == 0 ? "lib.nice" : "lib.glib";
}

static void glib_line(const char *domain, GLogLevelFlags flags, const char *message)
{
    sfu_log_foreign(sfu_log_glib_level((int)flags), glib_cause(domain), domain,
                    message ? message : "");
}

static GLogWriterOutput on_glib_structured(GLogLevelFlags flags, const GLogField *fields,
                                           gsize nfields, gpointer user)
{
    (void)user;
    const char *domain = NULL, *message = NULL;
    char text[SFU_LOG_LINE_MAX], dom[64];
    for (gsize i = 0; i < nfields; i++) {
        bool is_domain = strcmp(fields[i].key, "GLIB_DOMAIN") == 0;
        if (!is_domain && strcmp(fields[i].key, "MESSAGE") != 0)
            continue;
        /* A field may come without its NUL (length >= 0): copy it. */
        const char *v = fields[i].value;
        size_t len = fields[i].length < 0 ? strlen(v) : (size_t)fields[i].length;
        char *to = is_domain ? dom : text;
        size_t cap = is_domain ? sizeof dom : sizeof text;
        if (len >= cap)
            len = cap - 1;
        memcpy(to, v, len);
        to[len] = '\0';
        if (is_domain)
            domain = dom;
        else
            message = text;
    }
    glib_line(domain, flags, message);
    return G_LOG_WRITER_HANDLED;
}

static void on_glib_log(const gchar *domain, GLogLevelFlags flags, const gchar *message,
                        gpointer user)
{
    (void)user;
    glib_line(domain, flags, message);
}

static void on_srtp_log(srtp_log_level_t level, const char *msg, void *data)
{
    (void)data;
    sfu_log_foreign(sfu_log_srtp_level((int)level), "lib.srtp", NULL, msg ? msg : "");
}

static gsize installed;

void sfu_log_capture_libraries(void)
{
    if (!g_once_init_enter(&installed))
        return;
    g_log_set_writer_func(on_glib_structured, NULL, NULL);
    g_log_set_default_handler(on_glib_log, NULL);
    srtp_install_log_handler(on_srtp_log, NULL);
    g_once_init_leave(&installed, 1);
}
