#include "signaling/static_files.h"

#include <glib.h>
#include <string.h>
#include <sys/stat.h>

#define STATIC_MAX_BYTES (4u << 20)

static const char *content_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" },  { ".js", "text/javascript; charset=utf-8" },
        { ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
        { ".svg", "image/svg+xml" },              { ".png", "image/png" },
        { ".ico", "image/x-icon" },               { ".json", "application/json" },
        { ".webmanifest", "application/manifest+json" },
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < G_N_ELEMENTS(types); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

void sig_static_answer(sig_request *req, const char *dir, const char *rel, bool head,
                       const char *connect_src)
{
    gchar *path = g_build_filename(dir, rel, NULL);
    struct stat st;
    gchar *data = NULL;
    gsize len = 0;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX_BYTES ||
        !g_file_get_contents(path, &data, &len, NULL)) {
        g_free(path);
        sig_http_respond_text(req, 404, "not found");
        return;
    }
    /* The page loads only its own scripts and talks only to this origin
     * (and, on a cluster node, to the nodes it may be redirected to). */
    gchar *csp = g_strdup_printf("default-src 'self'; %s%s%smedia-src 'self' blob: mediastream:; "
                                 "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                 "frame-ancestors 'none'",
                                 connect_src ? "connect-src 'self' " : "",
                                 connect_src ? connect_src : "", connect_src ? "; " : "");
    sig_response resp = {
        .status = 200, .content_type = content_type(path), .body = head ? "" : data,
        .body_len = head ? 0 : len, .nheaders = 2,
        .header_names = { "Content-Security-Policy", "X-Content-Type-Options" },
        .header_values = { csp, "nosniff" },
    };
    sig_http_respond(req, &resp);
    g_free(csp);
    g_free(data);
    g_free(path);
}
