/* a=simulcast (RFC 8853) parsing and the choice of a publisher's layers; see
 * sdp_simulcast.h. */
#include "signaling/sdp_simulcast.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -SFU_EMALFORMED;
}

/* RFC 8851 10: rid-id = 1*(alpha-numeric / "-" / "_") */
static bool rid_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static bool seen(const sig_sdp_simulcast *sc, const char *id)
{
    const sig_sc_list *lists[] = { &sc->send, &sc->recv };
    for (unsigned l = 0; l < 2; l++)
        for (unsigned s = 0; s < lists[l]->nstreams; s++)
            for (unsigned a = 0; a < lists[l]->streams[s].nalts; a++)
                if (strcmp(lists[l]->streams[s].alts[a].id, id) == 0)
                    return true;
    return false;
}

/* One list "a,b;~c;d" starting at *pp, up to a space or the end. */
static int parse_list(const char **pp, sig_sdp_simulcast *sc, sig_sc_list *list, char *err, size_t errlen)
{
    const char *p = *pp;
    if (strncmp(p, "rid=", 4) == 0)
        p += 4;
    list->present = true;
    sig_sc_stream *st = NULL;
    for (;;) {
        if (!st) {
            if (list->nstreams == SIG_SC_MAX_STREAMS)
                return fail(err, errlen, "more than %d streams", SIG_SC_MAX_STREAMS);
            st = &list->streams[list->nstreams++];
        }
        sig_sc_rid r = { .paused = *p == '~' };
        p += r.paused;
        size_t n = 0;
        while (rid_char(p[n]))
            n++;
        if (n == 0 && (*p == '\0' || *p == ' ' || *p == ';' || *p == ','))
            return fail(err, errlen, "empty rid");
        if (n == 0)
            return fail(err, errlen, "bad character '%c' in a rid", *p);
        if (n > SIG_SDP_MID_LEN)
            return fail(err, errlen, "rid longer than %d characters", SIG_SDP_MID_LEN);
        memcpy(r.id, p, n);
        r.id[n] = '\0';
        p += n;
        if (seen(sc, r.id))
            return fail(err, errlen, "rid \"%s\" listed twice", r.id);
        if (st->nalts == SIG_SC_MAX_ALTS)
            return fail(err, errlen, "more than %d alternatives in a stream", SIG_SC_MAX_ALTS);
        st->alts[st->nalts++] = r;
        if (*p == ',')
            p++;
        else if (*p == ';')
            p++, st = NULL;
        else if (*p == ' ' || *p == '\0')
            break;
        else
            return fail(err, errlen, "bad character '%c' in a rid", *p);
    }
    *pp = p;
    return 0;
}

int sig_sdp_simulcast_parse(const char *value, sig_sdp_simulcast *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p = value;
    int rc = 0;
    unsigned ndirs = 0;
    while (rc == 0) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        sig_sc_list *list = strncmp(p, "send ", 5) == 0 ? &out->send : strncmp(p, "recv ", 5) == 0 ? &out->recv : NULL;
        if (!list) {
            size_t n = strcspn(p, " ");
            rc = fail(err, errlen, "expected \"send <rids>\" or \"recv <rids>\", not \"%.*s\"",
                      (int)(n > 16 ? 16 : n), p);
        } else if (list->present) {
            rc = fail(err, errlen, "direction %.4s given twice", p);
        } else {
            p += 5;
            while (*p == ' ')
                p++;
            rc = parse_list(&p, out, list, err, errlen);
            ndirs++;
        }
    }
    if (rc == 0 && ndirs == 0)
        rc = fail(err, errlen, "empty value");
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

static const sig_sdp_rid *declared(const sig_sdp_media *om, const char *id)
{
    for (unsigned i = 0; i < om->nrids; i++)
        if (strcmp(om->rids[i].id, id) == 0)
            return &om->rids[i];
    return NULL;
}

/* RFC 8853 5.3.2: an alternative the SFU can take for a stream it receives. */
static bool usable(const sig_sdp_media *om, const sig_sc_rid *alt, uint8_t pt)
{
    const sig_sdp_rid *r = declared(om, alt->id);
    if (alt->paused || !r || !r->send || strlen(alt->id) >= SFU_RID_MAX)
        return false;
    bool pt_ok = r->npts == 0;
    for (unsigned i = 0; i < r->npts && !pt_ok; i++)
        pt_ok = r->pts[i] == pt;
    return pt_ok;
}

static bool has_rid_ext(const sig_sdp_media *om)
{
    for (unsigned i = 0; i < om->nexts; i++)
        if (om->exts[i].kind == SIG_EXT_RID)
            return true;
    return false;
}

static unsigned rid_layers(const sig_sdp_media *om, const sig_sdp_simulcast *sc, uint8_t pt,
                           sfu_layer_desc layers[SFU_MAX_LAYERS])
{
    unsigned n = 0;
    if (!sc->send.present || !has_rid_ext(om))
        return 0;
    for (unsigned s = 0; s < sc->send.nstreams && n < SFU_MAX_LAYERS; s++) {
        const sig_sc_stream *st = &sc->send.streams[s];
        for (unsigned a = 0; a < st->nalts; a++) {
            if (usable(om, &st->alts[a], pt)) {
                memset(&layers[n], 0, sizeof layers[n]);
                snprintf(layers[n].rid, sizeof layers[n].rid, "%s", st->alts[a].id);
                n++;
                break;
            }
        }
    }
    return n;
}

static unsigned sim_layers(const sig_sdp_media *om, sfu_layer_desc layers[SFU_MAX_LAYERS])
{
    unsigned n = 0;
    for (unsigned i = 0; i < om->nsims && n < SFU_MAX_LAYERS; i++) {
        memset(&layers[n], 0, sizeof layers[n]);
        layers[n].ssrc = om->sims[i];
        for (unsigned k = 0; k < om->nfids; k++)
            if (om->fids[k].primary == om->sims[i])
                layers[n].rtx_ssrc = om->fids[k].rtx;
        n++;
    }
    return n;
}

int sig_sdp_simulcast_layers(const sig_sdp_media *om, uint8_t pt, sfu_layer_desc layers[SFU_MAX_LAYERS],
                             uint8_t *nlayers, char *err, size_t errlen)
{
    unsigned n = 0;
    *nlayers = 0;
    if (om->simulcast) {
        if (om->simulcast_too_long)
            return fail(err, errlen, "line %u: a=simulcast: longer than %d bytes", om->simulcast_line,
                        SIG_SDP_SIMULCAST_LEN);
        sig_sdp_simulcast sc;
        char why[128];
        if (sig_sdp_simulcast_parse(om->simulcast_value, &sc, why, sizeof why) != 0)
            return fail(err, errlen, "line %u: a=simulcast: %s", om->simulcast_line, why);
        n = rid_layers(om, &sc, pt, layers);
    } else if (om->nsims >= 2) {
        n = sim_layers(om, layers);
    }
    *nlayers = n >= 2 ? (uint8_t)n : 0;
    return 0;
}

int sig_sdp_simulcast_format(const sfu_layer_desc *layers, unsigned nlayers, char *buf, size_t size)
{
    size_t off = 0;
    for (unsigned i = 0; i <= nlayers; i++) {
        int k = i == 0 ? snprintf(buf, size, "recv")
                       : snprintf(buf + off, size - off, "%c%s", i == 1 ? ' ' : ';', layers[i - 1].rid);
        if (k < 0 || (size_t)k >= size - off)
            return -SFU_ENOSPC;
        off += (size_t)k;
    }
    return 0;
}
