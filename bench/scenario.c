#include "bench/scenario.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

typedef enum { K_UINT, K_DOUBLE, K_BOOL, K_STR } key_type;

typedef struct key_def {
    const char *group, *key;
    key_type type;
    size_t off;
    double min, max;
} key_def;

#define F(field) offsetof(bench_scenario, field)

static const key_def keys[] = {
    { "scenario", "name", K_STR, F(name), 0, 0 },
    { "scenario", "kind", K_STR, F(kind), 0, 0 },
    { "scenario", "join", K_STR, F(join), 0, 0 },
    { "scenario", "publishers", K_UINT, F(publishers), 1, 1 },
    { "scenario", "participants", K_UINT, F(participants), 2, 100 },
    { "scenario", "tiles", K_UINT, F(tiles), 1, 32 },
    { "scenario", "calls", K_UINT, F(calls), 1, 2000 },
    { "scenario", "viewers", K_UINT, F(viewers), 0, 1000 },
    { "scenario", "duration_s", K_DOUBLE, F(duration_s), 1, 86400 },
    { "scenario", "warmup_s", K_DOUBLE, F(warmup_s), 0, 600 },
    { "scenario", "join_interval_ms", K_UINT, F(join_interval_ms), 0, 10000 },
    { "scenario", "decode_sample", K_UINT, F(decode_sample), 0, 1000 },
    { "scenario", "max_loss_ratio", K_DOUBLE, F(max_loss_ratio), 0, 1 },
    { "media", "audio", K_BOOL, F(audio), 0, 0 },
    { "media", "video", K_BOOL, F(video), 0, 0 },
    { "media", "width", K_UINT, F(width), 16, 3840 },
    { "media", "height", K_UINT, F(height), 16, 2160 },
    { "media", "fps", K_UINT, F(fps), 1, 60 },
    { "media", "video_kbps", K_UINT, F(video_kbps), 50, 20000 },
    { "media", "gop_frames", K_UINT, F(gop_frames), 1, 600 },
    { "media", "audio_kbps", K_UINT, F(audio_kbps), 6, 510 },
    { "media", "simulcast", K_BOOL, F(simulcast), 0, 0 },
    { "media", "viewer_transport_cc", K_BOOL, F(viewer_transport_cc), 0, 0 },
    { "media", "pacing_factor", K_DOUBLE, F(pacing_factor), 0, 100 },
    { "media", "audio_level", K_BOOL, F(audio_level), 0, 0 },
    { "ramp", "step", K_UINT, F(ramp.step), 1, 1000 },
    { "ramp", "step_s", K_DOUBLE, F(ramp.step_s), 1, 3600 },
    { "ramp", "max_viewers", K_UINT, F(ramp.max_viewers), 1, 5000 },
    { "ramp", "max_loss_ratio", K_DOUBLE, F(ramp.max_loss_ratio), 0, 1 },
    { "ramp", "max_latency_ms", K_DOUBLE, F(ramp.max_latency_ms), 0.01, 10000 },
    { "soak", "cycles", K_UINT, F(soak.cycles), 1, 10000000 },
    { "soak", "parallel", K_UINT, F(soak.parallel), 1, 64 },
    { "soak", "viewers", K_UINT, F(soak.viewers), 0, 16 },
    { "soak", "hold_ms", K_UINT, F(soak.hold_ms), 0, 60000 },
    { "soak", "liveness_timeout_ms", K_UINT, F(soak.liveness_timeout_ms), 1000, 600000 },
    { "soak", "settle_s", K_DOUBLE, F(soak.settle_s), 1, 3600 },
    { "soak", "rss_tolerance", K_DOUBLE, F(soak.rss_tolerance), 0, 10 },
};

static const char *const kinds[] = { "one-to-many", "meeting", "large-meeting", "voice-calls", "ramp",
                                      "soak" };

void bench_scenario_defaults(bench_scenario *s)
{
    *s = (bench_scenario){
        .name = "unnamed", .kind = "one-to-many", .join = "room", .publishers = 1, .viewers = 10,
        .duration_s = 20, .warmup_s = 1, .join_interval_ms = 20, .decode_sample = 2,
        .max_loss_ratio = 1, .audio = true, .video = true, .width = 640, .height = 360,
        .fps = 30, .video_kbps = 800, .gop_frames = 0, .audio_kbps = 32,
        .viewer_transport_cc = true,
        .participants = 4, .tiles = 9, .calls = 10,
        .ramp = { .step = 10, .step_s = 5, .max_viewers = 500, .max_loss_ratio = 0.01,
                  .max_latency_ms = 50 },
        .soak = { .cycles = 500, .parallel = 4, .viewers = 2, .hold_ms = 100,
                  .liveness_timeout_ms = 2000, .settle_s = 30, .rss_tolerance = 0.05 },
    };
}

static const key_def *find_key(const char *group, const char *key)
{
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        if (strcmp(keys[i].group, group) == 0 && strcmp(keys[i].key, key) == 0)
            return &keys[i];
    return NULL;
}

static int read_key(GKeyFile *kf, const key_def *k, bench_scenario *s, GError **ge)
{
    char *base = (char *)s + k->off;
    if (k->type == K_STR) {
        char *v = g_key_file_get_string(kf, k->group, k->key, ge);
        if (v)
            g_strlcpy(base, v, k->off == F(name) ? sizeof s->name
                               : k->off == F(join) ? sizeof s->join : sizeof s->kind);
        g_free(v);
        return v ? 0 : -1;
    }
    if (k->type == K_BOOL) {
        gboolean v = g_key_file_get_boolean(kf, k->group, k->key, ge);
        *(bool *)base = v;
        return *ge ? -1 : 0;
    }
    double v = g_key_file_get_double(kf, k->group, k->key, ge);
    if (*ge)
        return -1;
    if (v < k->min || v > k->max || (k->type == K_UINT && v != (unsigned)v))
        return 1;
    if (k->type == K_UINT)
        *(unsigned *)base = (unsigned)v;
    else
        *(double *)base = v;
    return 0;
}

static int read_group(GKeyFile *kf, const char *path, const char *group, bench_scenario *s,
                      char *err, size_t errlen)
{
    gchar **names = g_key_file_get_keys(kf, group, NULL, NULL);
    int rc = 0;
    for (gchar **n = names; n && *n && rc == 0; n++) {
        const key_def *k = find_key(group, *n);
        GError *ge = NULL;
        int r = k ? read_key(kf, k, s, &ge) : -2;
        if (r == -2)
            snprintf(err, errlen, "%s: %s.%s: unknown key", path, group, *n);
        else if (r == 1)
            snprintf(err, errlen, "%s: %s.%s: out of range %g-%g (or not whole)", path, group,
                     *n, k->min, k->max);
        else if (r < 0)
            snprintf(err, errlen, "%s: %s.%s: %s", path, group, *n, ge->message);
        rc = r ? -1 : 0;
        g_clear_error(&ge);
    }
    g_strfreev(names);
    return rc;
}

int bench_scenario_load(const char *path, bench_scenario *s, char *err, size_t errlen)
{
    bench_scenario_defaults(s);
    GKeyFile *kf = g_key_file_new();
    GError *ge = NULL;
    int rc = -1;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &ge)) {
        snprintf(err, errlen, "%s: %s", path, ge->message);
        goto out;
    }
    gchar **groups = g_key_file_get_groups(kf, NULL);
    rc = 0;
    for (gchar **g = groups; *g && rc == 0; g++) {
        if (strcmp(*g, "scenario") != 0 && strcmp(*g, "media") != 0 &&
            strcmp(*g, "ramp") != 0 && strcmp(*g, "soak") != 0) {
            snprintf(err, errlen, "%s: [%s]: unknown group", path, *g);
            rc = -1;
        } else {
            rc = read_group(kf, path, *g, s, err, errlen);
        }
    }
    g_strfreev(groups);
    bool known = false;
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++)
        known |= strcmp(s->kind, kinds[i]) == 0;
    if (rc == 0 && !known) {
        snprintf(err, errlen, "%s: scenario.kind: %s is not one of one-to-many, meeting, "
                 "large-meeting, voice-calls, ramp, soak", path, s->kind);
        rc = -1;
    }
    if (rc == 0 && strcmp(s->join, "room") != 0 && strcmp(s->join, "whip-whep") != 0) {
        snprintf(err, errlen, "%s: scenario.join: %s is not one of room, whip-whep", path,
                 s->join);
        rc = -1;
    }
    if (rc == 0 && !s->audio && !s->video) {
        snprintf(err, errlen, "%s: media: neither audio nor video", path);
        rc = -1;
    }
    if (rc == 0 && s->simulcast && (!s->video || (strcmp(s->kind, "one-to-many") != 0 &&
                                                  strcmp(s->kind, "ramp") != 0))) {
        snprintf(err, errlen, "%s: media.simulcast: needs video and kind one-to-many or ramp",
                 path);
        rc = -1;
    }
    if (rc == 0 && s->simulcast && (s->width < 64 || s->height < 64)) {
        snprintf(err, errlen, "%s: media.simulcast: the lowest layer is a quarter of width x "
                 "height: give at least 64x64", path);
        rc = -1;
    }
    if (rc == 0 && strcmp(s->kind, "large-meeting") == 0 &&
        (!s->video || s->tiles >= s->participants)) {
        snprintf(err, errlen, "%s: scenario.tiles: a large meeting needs video and fewer tiles "
                 "than participants", path);
        rc = -1;
    }
    if (s->gop_frames == 0)
        s->gop_frames = 2 * s->fps;
out:
    g_clear_error(&ge);
    g_key_file_free(kf);
    return rc;
}
