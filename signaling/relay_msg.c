#include "signaling/relay_msg.h"

#include <arpa/inet.h>
#include <glib.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "sfu/core/common.h"
#include "signaling/cluster_msg.h"

#define EXT_MID 1
#define EXT_AUDIO_LEVEL 2
#define EXT_DD 3

sfu_codec sig_relay_codec_parse(const char *name)
{
    if (!name)
        return SFU_CODEC_NONE;
    if (strcmp(name, "opus") == 0)
        return SFU_CODEC_OPUS;
    if (strcmp(name, "VP8") == 0)
        return SFU_CODEC_VP8;
    if (strcmp(name, "H264") == 0)
        return SFU_CODEC_H264;
    return SFU_CODEC_NONE;
}

const char *sig_relay_codec_name(sfu_codec codec)
{
    switch (codec) {
    case SFU_CODEC_OPUS: return "opus";
    case SFU_CODEC_VP8: return "VP8";
    case SFU_CODEC_H264: return "H264";
    default: return "none";
    }
}

static bool valid_nonce(const char *s)
{
    if (!s || strlen(s) != SIG_RELAY_NONCE_HEX)
        return false;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isdigit(*p) && !(*p >= 'a' && *p <= 'f'))
            return false;
    return true;
}

static bool valid_addr(const char *s)
{
    uint8_t buf[16];
    return s && strlen(s) < SIG_RELAY_ADDR_MAX &&
           (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static bool dynamic_pt(json_int_t pt) { return pt >= 96 && pt <= 127; }

/* ---- encode ---- */

char *sig_relay_request_encode(const sig_relay_request *r, const char *secret)
{
    if (!secret || !secret[0] || !valid_nonce(r->nonce) || !valid_addr(r->addr) || !r->port)
        return NULL;
    char pid[9];
    snprintf(pid, sizeof pid, "%08x", r->participant);
    json_t *o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:I}", "v", 1, "node", r->node, "room", r->room,
                          "participant", pid, "addr", r->addr, "port", (int)r->port, "nonce", r->nonce, "ts",
                          (json_int_t)r->ts);
    return sig_cluster_msg_seal(o, secret, SIG_RELAY_BODY_MAX);
}

char *sig_relay_response_encode(const sig_relay_response *r, const char *secret)
{
    if (!secret || !secret[0] || !valid_nonce(r->nonce) || !valid_nonce(r->echo) ||
        !valid_addr(r->addr) || !r->port || r->ntracks > SIG_RELAY_TRACKS_MAX)
        return NULL;
    json_t *tracks = json_array();
    for (unsigned i = 0; i < r->ntracks; i++) {
        const sig_relay_track *t = &r->tracks[i];
        json_t *jt = json_pack("{s:s,s:s,s:s,s:i,s:i,s:I,s:I,s:I}", "mid", t->mid, "kind",
                               t->kind == SFU_KIND_VIDEO ? "video" : "audio", "codec",
                               sig_relay_codec_name(t->codec), "pt", (int)t->pt, "rtx_pt",
                               (int)t->rtx_pt, "ssrc", (json_int_t)t->ssrc, "rtx_ssrc",
                               (json_int_t)t->rtx_ssrc, "plid", (json_int_t)t->profile_level_id);
        if (t->nlayers > SFU_MAX_LAYERS) {
            json_decref(jt);
            json_decref(tracks);
            return NULL;
        }
        if (t->nlayers >= 2) {
            json_t *layers = json_array();
            for (unsigned l = 0; l < t->nlayers; l++)
                json_array_append_new(layers, json_pack("{s:s,s:I,s:I}", "rid", t->layers[l].rid, "ssrc",
                                                        (json_int_t)t->layers[l].ssrc, "rtx_ssrc",
                                                        (json_int_t)t->layers[l].rtx_ssrc));
            json_object_set_new(jt, "layers", layers);
        }
        json_array_append_new(tracks, jt);
    }
    json_t *o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:i,s:o}", "v", 1, "node", r->node, "nonce", r->nonce, "echo",
                          r->echo, "addr", r->addr, "port", (int)r->port, "tracks", tracks);
    return sig_cluster_msg_seal(o, secret, SIG_RELAY_BODY_MAX);
}

/* ---- decode ---- */

#define WHY(...) (snprintf(why, n, __VA_ARGS__), -SFU_EMALFORMED)

static bool int_of(json_t *o, const char *key, json_int_t lo, json_int_t hi, json_int_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return *out >= lo && *out <= hi;
}

static bool valid_id(const char *s) { return s && sig_cluster_valid_node_id(s); }

int sig_relay_request_decode(const char *text, size_t len, const char *secret, int64_t now_s,
                             sig_relay_request *out, char *why, size_t n)
{
    json_t *o = sig_cluster_msg_open(text, len, secret, SIG_RELAY_BODY_MAX, "relay legs are off", why, n);
    if (!o)
        return -SFU_EMALFORMED;
    int rc = 0;
    sig_relay_request r = { 0 };
    const char *node = sig_cluster_msg_str(o, "node", sizeof r.node);
    const char *room = sig_cluster_msg_str(o, "room", sizeof r.room);
    const char *pid = sig_cluster_msg_str(o, "participant", 9);
    const char *addr = sig_cluster_msg_str(o, "addr", sizeof r.addr);
    const char *nonce = sig_cluster_msg_str(o, "nonce", sizeof r.nonce);
    json_int_t port, ts;
    if (!valid_id(node))
        rc = WHY("bad node id");
    else if (!room || !sig_route_valid_name(room, strlen(room)))
        rc = WHY("bad room name");
    else if (!pid || strlen(pid) != 8 || strspn(pid, "0123456789abcdef") != 8 ||
             !(r.participant = (uint32_t)strtoul(pid, NULL, 16)))
        rc = WHY("bad participant id");
    else if (!valid_addr(addr))
        rc = WHY("addr is not an IP literal");
    else if (!int_of(o, "port", 1, 65535, &port))
        rc = WHY("bad port");
    else if (!valid_nonce(nonce))
        rc = WHY("bad nonce");
    else if (!int_of(o, "ts", 0, INT64_MAX / 2, &ts) || ts < now_s - SIG_RELAY_MAX_SKEW_S ||
             ts > now_s + SIG_RELAY_MAX_SKEW_S)
        rc = WHY("stale or future timestamp");
    if (rc == 0) {
        g_strlcpy(r.node, node, sizeof r.node);
        g_strlcpy(r.room, room, sizeof r.room);
        g_strlcpy(r.addr, addr, sizeof r.addr);
        g_strlcpy(r.nonce, nonce, sizeof r.nonce);
        r.port = (uint16_t)port;
        r.ts = ts;
        *out = r;
    }
    json_decref(o);
    return rc;
}

/* RFC 8851 rid-id: alphanumerics, '-' and '_'; "" for a layer told apart
 * by SSRC only. */
static bool valid_rid(const char *s)
{
    return s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == strlen(s);
}

/* A simulcast video track's layers; the first one repeats the track's
 * SSRCs. */
static int layers_decode(json_t *a, sig_relay_track *out, uint32_t ssrc, uint32_t rtx_ssrc, char *why,
                         size_t n)
{
    if (out->kind != SFU_KIND_VIDEO || !json_is_array(a) || json_array_size(a) < 2 ||
        json_array_size(a) > SFU_MAX_LAYERS)
        return WHY("layers: 2 to %d of them, video only", SFU_MAX_LAYERS);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *l = json_array_get(a, i);
        const char *rid = json_is_object(l) ? sig_cluster_msg_str(l, "rid", SFU_RID_MAX) : NULL;
        json_int_t ls, lr;
        if (!valid_rid(rid))
            return WHY("bad layer rid");
        if (!int_of(l, "ssrc", 1, UINT32_MAX, &ls) || !int_of(l, "rtx_ssrc", 0, UINT32_MAX, &lr) ||
            ls == lr || (lr != 0) != (rtx_ssrc != 0) || (i == 0 && (ls != ssrc || lr != rtx_ssrc)))
            return WHY("bad layer ssrc");
        g_strlcpy(out->layers[i].rid, rid, sizeof out->layers[i].rid);
        out->layers[i].ssrc = (uint32_t)ls;
        out->layers[i].rtx_ssrc = (uint32_t)lr;
    }
    out->nlayers = (uint8_t)json_array_size(a);
    return 0;
}

static int track_decode(json_t *t, sig_relay_track *out, char *why, size_t n)
{
    if (!json_is_object(t))
        return WHY("a track is not an object");
    const char *mid = sig_cluster_msg_str(t, "mid", SFU_MID_MAX);
    const char *kind = sig_cluster_msg_str(t, "kind", 8);
    const char *codec = sig_cluster_msg_str(t, "codec", 8);
    json_int_t pt, rtx_pt, ssrc, rtx_ssrc, plid;
    if (!mid || !mid[0] || !sig_route_valid_name(mid, strlen(mid)))
        return WHY("bad track mid");
    if (!kind || (strcmp(kind, "audio") != 0 && strcmp(kind, "video") != 0))
        return WHY("bad track kind");
    out->kind = strcmp(kind, "video") == 0 ? SFU_KIND_VIDEO : SFU_KIND_AUDIO;
    out->codec = sig_relay_codec_parse(codec);
    if (out->codec == SFU_CODEC_NONE || (out->codec == SFU_CODEC_OPUS) != (out->kind == SFU_KIND_AUDIO))
        return WHY("bad track codec");
    if (!int_of(t, "pt", 96, 127, &pt) || !int_of(t, "rtx_pt", 0, 127, &rtx_pt) ||
        (rtx_pt && (!dynamic_pt(rtx_pt) || rtx_pt == pt)))
        return WHY("bad payload type");
    if (!int_of(t, "ssrc", 1, UINT32_MAX, &ssrc) || !int_of(t, "rtx_ssrc", 0, UINT32_MAX, &rtx_ssrc) ||
        ssrc == rtx_ssrc || (rtx_pt != 0) != (rtx_ssrc != 0))
        return WHY("bad ssrc");
    if (!int_of(t, "plid", 0, 0xffffff, &plid))
        return WHY("bad profile-level-id");
    json_t *layers = json_object_get(t, "layers");
    if (layers && layers_decode(layers, out, (uint32_t)ssrc, (uint32_t)rtx_ssrc, why, n) != 0)
        return -SFU_EMALFORMED;
    g_strlcpy(out->mid, mid, sizeof out->mid);
    out->pt = (uint8_t)pt;
    out->rtx_pt = (uint8_t)rtx_pt;
    out->ssrc = (uint32_t)ssrc;
    out->rtx_ssrc = (uint32_t)rtx_ssrc;
    out->profile_level_id = (uint32_t)plid;
    return 0;
}

/* Every SSRC of the response (tracks, layers, RTX) once; every mid once. */
static bool unique_tracks(const sig_relay_response *r)
{
    uint32_t seen[SIG_RELAY_TRACKS_MAX * SFU_MAX_LAYERS * 2];
    unsigned k = 0;
    for (unsigned i = 0; i < r->ntracks; i++) {
        const sig_relay_track *a = &r->tracks[i];
        for (unsigned j = 0; j < i; j++)
            if (strcmp(a->mid, r->tracks[j].mid) == 0)
                return false;
        unsigned nl = a->nlayers ? a->nlayers : 1;
        for (unsigned l = 0; l < nl; l++) {
            uint32_t s[2] = { a->nlayers ? a->layers[l].ssrc : a->ssrc,
                              a->nlayers ? a->layers[l].rtx_ssrc : a->rtx_ssrc };
            for (unsigned x = 0; x < 2; x++) {
                if (!s[x])
                    continue;
                for (unsigned y = 0; y < k; y++)
                    if (seen[y] == s[x])
                        return false;
                seen[k++] = s[x];
            }
        }
    }
    return true;
}

int sig_relay_response_decode(const char *text, size_t len, const char *secret,
                              const char *nonce, sig_relay_response *out, char *why, size_t n)
{
    json_t *o = sig_cluster_msg_open(text, len, secret, SIG_RELAY_BODY_MAX, "relay legs are off", why, n);
    if (!o)
        return -SFU_EMALFORMED;
    int rc = 0;
    sig_relay_response *r = g_new0(sig_relay_response, 1);
    const char *node = sig_cluster_msg_str(o, "node", sizeof r->node);
    const char *mine = sig_cluster_msg_str(o, "nonce", sizeof r->nonce);
    const char *echo = sig_cluster_msg_str(o, "echo", sizeof r->echo);
    const char *addr = sig_cluster_msg_str(o, "addr", sizeof r->addr);
    json_t *tracks = json_object_get(o, "tracks");
    json_int_t port;
    if (!valid_id(node))
        rc = WHY("bad node id");
    else if (!valid_nonce(mine))
        rc = WHY("bad nonce");
    else if (!echo || !nonce || strcmp(echo, nonce) != 0)
        rc = WHY("the answer is not to this request");
    else if (!valid_addr(addr))
        rc = WHY("addr is not an IP literal");
    else if (!int_of(o, "port", 1, 65535, &port))
        rc = WHY("bad port");
    else if (!json_is_array(tracks) || json_array_size(tracks) == 0 ||
             json_array_size(tracks) > SIG_RELAY_TRACKS_MAX)
        rc = WHY("tracks: 1 to %d of them", SIG_RELAY_TRACKS_MAX);
    for (size_t i = 0; rc == 0 && i < json_array_size(tracks); i++) {
        rc = track_decode(json_array_get(tracks, i), &r->tracks[i], why, n);
        r->ntracks++;
    }
    if (rc == 0 && !unique_tracks(r))
        rc = WHY("tracks repeat a mid or an ssrc");
    if (rc == 0) {
        g_strlcpy(r->node, node, sizeof r->node);
        g_strlcpy(r->nonce, mine, sizeof r->nonce);
        g_strlcpy(r->echo, echo, sizeof r->echo);
        g_strlcpy(r->addr, addr, sizeof r->addr);
        r->port = (uint16_t)port;
        *out = *r;
    }
    g_free(r);
    json_decref(o);
    return rc;
}

/* ---- keys ---- */

static void derive(const char *secret, const char *label, const char *np, const char *ns,
                   uint8_t out[32])
{
    char msg[128];
    int len = snprintf(msg, sizeof msg, "sfu-relay-srtp-v1|%s|%s|%s", label, np, ns);
    unsigned int mlen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, (size_t)len, out,
         &mlen);
}

int sig_relay_keys(const char *secret, const char *nonce_pull, const char *nonce_serve,
                   bool serving, sfu_srtp_keys *out)
{
    if (!secret || !secret[0] || !valid_nonce(nonce_pull) || !valid_nonce(nonce_serve))
        return -SFU_EINVAL;
    uint8_t to_pull[32], to_serve[32];
    derive(secret, "serve-to-pull", nonce_pull, nonce_serve, to_pull);
    derive(secret, "pull-to-serve", nonce_pull, nonce_serve, to_serve);
    memset(out, 0, sizeof *out);
    out->profile = SFU_SRTP_AEAD_AES_128_GCM;
    const uint8_t *local = serving ? to_pull : to_serve;
    const uint8_t *remote = serving ? to_serve : to_pull;
    memcpy(out->local_key, local, 16);
    memcpy(out->local_salt, local + 16, 12);
    memcpy(out->remote_key, remote, 16);
    memcpy(out->remote_salt, remote + 16, 12);
    OPENSSL_cleanse(to_pull, sizeof to_pull);
    OPENSSL_cleanse(to_serve, sizeof to_serve);
    return 0;
}

/* ---- tracks and leg descriptions ---- */

unsigned sig_relay_tracks_make(const sig_relay_source *in, unsigned n,
                               uint32_t (*pick)(void *user), void *user, sig_relay_track *out)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n && k < SIG_RELAY_TRACKS_MAX; i++) {
        sig_relay_track *t = &out[k];
        memset(t, 0, sizeof *t);
        t->codec = in[i].codec;
        t->kind = in[i].kind;
        if (t->codec == SFU_CODEC_OPUS && t->kind == SFU_KIND_AUDIO) {
            t->pt = 111;
        } else if (t->codec == SFU_CODEC_VP8 && t->kind == SFU_KIND_VIDEO) {
            t->pt = 96, t->rtx_pt = 97;
        } else if (t->codec == SFU_CODEC_H264 && t->kind == SFU_KIND_VIDEO) {
            t->pt = 102, t->rtx_pt = 103;
            t->profile_level_id = in[i].profile_level_id & 0xffffff;
        } else {
            continue;
        }
        snprintf(t->mid, sizeof t->mid, "r%u", k);
        do
            t->ssrc = pick(user);
        while (t->ssrc == 0);
        if (t->rtx_pt)
            do
                t->rtx_ssrc = pick(user);
            while (t->rtx_ssrc == 0 || t->rtx_ssrc == t->ssrc);
        k++;
    }
    return k;
}

static bool ssrc_used(const sig_relay_track *tracks, unsigned n, uint32_t ssrc)
{
    for (unsigned i = 0; i < n; i++) {
        const sig_relay_track *t = &tracks[i];
        if (t->ssrc == ssrc || t->rtx_ssrc == ssrc)
            return true;
        for (unsigned l = 0; l < t->nlayers; l++)
            if (t->layers[l].ssrc == ssrc || t->layers[l].rtx_ssrc == ssrc)
                return true;
    }
    return false;
}

void sig_relay_track_set_layers(sig_relay_track *tracks, unsigned n, unsigned t,
                                const sfu_layer_desc *layers, unsigned nlayers,
                                uint32_t (*pick)(void *user), void *user)
{
    sig_relay_track *tr = &tracks[t];
    if (t >= n || tr->kind != SFU_KIND_VIDEO || nlayers < 2)
        return;
    nlayers = nlayers < SFU_MAX_LAYERS ? nlayers : SFU_MAX_LAYERS;
    memset(tr->layers, 0, sizeof tr->layers);
    tr->nlayers = 0;
    for (unsigned l = 0; l < nlayers; l++) {
        sig_relay_layer *o = &tr->layers[l];
        g_strlcpy(o->rid, valid_rid(layers[l].rid) ? layers[l].rid : "", sizeof o->rid);
        if (l == 0) {
            o->ssrc = tr->ssrc;
            o->rtx_ssrc = tr->rtx_ssrc;
        } else {
            uint32_t s;
            do
                s = pick(user);
            while (s == 0 || ssrc_used(tracks, n, s));
            o->ssrc = s;
            if (tr->rtx_pt) {
                do
                    s = pick(user);
                while (s == 0 || s == o->ssrc || ssrc_used(tracks, n, s));
                o->rtx_ssrc = s;
            }
        }
        tr->nlayers = (uint8_t)(l + 1);
    }
}

static void fill_common(const sig_relay_track *t, sfu_track_desc *d)
{
    memset(d, 0, sizeof *d);
    g_strlcpy(d->mid, t->mid, sizeof d->mid);
    d->kind = t->kind;
    d->codec = t->codec;
    d->pt = t->pt;
    d->rtx_pt = t->rtx_pt;
    d->clock_rate = t->codec == SFU_CODEC_OPUS ? 48000 : 90000;
    bool video = t->kind == SFU_KIND_VIDEO;
    d->fb_nack = video;
    d->fb_pli = video;
    d->fb_fir = video;
    d->ext.mid = EXT_MID;
    d->ext.audio_level = video ? 0 : EXT_AUDIO_LEVEL;
    d->ext.dd = video ? EXT_DD : 0;
}

static void leg_common(uint32_t rtcp_ssrc, sfu_leg_desc *out)
{
    memset(out, 0, sizeof *out);
    out->rtcp_ssrc = rtcp_ssrc;
    out->layer_feedback = true;     /* the layers the pulling end needs flow back (rtcp_layers.h) */
    g_strlcpy(out->cname, "sfu-relay", sizeof out->cname);
}

void sig_relay_serve_desc(const sig_relay_track *tracks, unsigned n, uint32_t rtcp_ssrc,
                          sfu_leg_desc *out)
{
    leg_common(rtcp_ssrc, out);
    for (unsigned i = 0; i < n; i++) {
        const sig_relay_track *t = &tracks[i];
        unsigned nl = t->nlayers >= 2 ? t->nlayers : 1;
        for (unsigned l = 0; l < nl && out->ntracks < SFU_MAX_TRACKS; l++) {
            sfu_track_desc *d = &out->tracks[out->ntracks++];
            fill_common(t, d);
            d->send = true;
            if (nl == 1) {
                d->local_ssrc = t->ssrc;
                d->local_rtx_ssrc = t->rtx_ssrc;
                continue;
            }
            if (l > 0)
                snprintf(d->mid, sizeof d->mid, "%.12s.%c", t->mid, (char)('0' + l));
            d->local_ssrc = t->layers[l].ssrc;
            d->local_rtx_ssrc = t->layers[l].rtx_ssrc;
            d->pin_layer = (uint8_t)(l + 1);
        }
    }
}

void sig_relay_pull_desc(const sig_relay_track *tracks, unsigned n, uint32_t rtcp_ssrc,
                         sfu_leg_desc *out)
{
    leg_common(rtcp_ssrc, out);
    for (unsigned i = 0; i < n && out->ntracks < SFU_MAX_TRACKS; i++) {
        const sig_relay_track *t = &tracks[i];
        sfu_track_desc *d = &out->tracks[out->ntracks++];
        fill_common(t, d);
        d->recv = true;
        d->remote_ssrc = t->ssrc;
        d->remote_rtx_ssrc = t->rtx_ssrc;
        if (t->nlayers >= 2 && t->nlayers <= SFU_MAX_LAYERS) {
            d->nlayers = t->nlayers;
            for (unsigned l = 0; l < t->nlayers; l++) {
                g_strlcpy(d->layers[l].rid, t->layers[l].rid, sizeof d->layers[l].rid);
                d->layers[l].ssrc = t->layers[l].ssrc;
                d->layers[l].rtx_ssrc = t->layers[l].rtx_ssrc;
            }
        }
    }
}
