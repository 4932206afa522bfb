/* The relay legs' pure parts: the sealed request and response bodies of
 * POST /cluster/relay (round trips, every refusal), the SRTP keys both ends
 * derive, the tracks and leg descriptions, and the HTTP response parser of
 * the node-to-node client. */
#include <glib.h>
#include <stdlib.h>

#include "sfu/core/common.h"
#include "signaling/relay_http.h"
#include "signaling/relay_msg.h"
#include "tests/test.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NONCE_P "00112233445566778899aabbccddeeff"
#define NONCE_S "ffeeddccbbaa99887766554433221100"
#define NOW 1700000000

static sig_relay_request a_request(void)
{
    sig_relay_request r = { .participant = 0x0a1b2c3d, .port = 40000, .ts = NOW };
    g_strlcpy(r.node, "node-b", sizeof r.node);
    g_strlcpy(r.room, "webinar", sizeof r.room);
    g_strlcpy(r.addr, "127.0.0.1", sizeof r.addr);
    g_strlcpy(r.nonce, NONCE_P, sizeof r.nonce);
    return r;
}

static uint32_t counter_ssrc(void *user)
{
    uint32_t *n = user;
    return ++*n;
}

static sig_relay_response a_response(void)
{
    sig_relay_response r = { .port = 40001 };
    g_strlcpy(r.node, "node-a", sizeof r.node);
    g_strlcpy(r.nonce, NONCE_S, sizeof r.nonce);
    g_strlcpy(r.echo, NONCE_P, sizeof r.echo);
    g_strlcpy(r.addr, "::1", sizeof r.addr);
    sig_relay_source src[3] = { { SFU_KIND_AUDIO, SFU_CODEC_OPUS, 0 },
                                { SFU_KIND_VIDEO, SFU_CODEC_H264, 0x42e01f },
                                { SFU_KIND_VIDEO, SFU_CODEC_VP8, 0 } };
    uint32_t n = 1000;
    r.ntracks = sig_relay_tracks_make(src, 3, counter_ssrc, &n, r.tracks);
    return r;
}

TEST(request_round_trip)
{
    sig_relay_request r = a_request(), back;
    char *text = sig_relay_request_encode(&r, SECRET);
    ASSERT(text != NULL);
    char why[128] = "";
    ASSERT_EQ(sig_relay_request_decode(text, strlen(text), SECRET, NOW + 30, &back, why,
                                       sizeof why), 0);
    ASSERT_STR_EQ(back.node, "node-b");
    ASSERT_STR_EQ(back.room, "webinar");
    ASSERT_EQ(back.participant, 0x0a1b2c3du);
    ASSERT_STR_EQ(back.addr, "127.0.0.1");
    ASSERT_EQ(back.port, 40000);
    ASSERT_STR_EQ(back.nonce, NONCE_P);
    ASSERT_EQ(back.ts, NOW);
    g_free(text);
    return 0;
}

TEST(request_refusals)
{
    sig_relay_request r = a_request(), out = { .port = 7 };
    char *good = sig_relay_request_encode(&r, SECRET);
    char why[128];
    /* Wrong secret, no secret, stale, future. */
    ASSERT_EQ(sig_relay_request_decode(good, strlen(good), "another-secret-0123456789abcdefgh",
                                       NOW, &out, why, sizeof why), -SFU_EMALFORMED);
    ASSERT_EQ(sig_relay_request_decode(good, strlen(good), "", NOW, &out, why, sizeof why),
              -SFU_EMALFORMED);
    ASSERT_EQ(sig_relay_request_decode(good, strlen(good), SECRET, NOW + 61, &out, why, sizeof why),
              -SFU_EMALFORMED);
    ASSERT_STR_EQ(why, "stale or future timestamp");
    ASSERT_EQ(sig_relay_request_decode(good, strlen(good), SECRET, NOW - 61, &out, why, sizeof why),
              -SFU_EMALFORMED);
    /* One byte changed breaks the seal. */
    char *bad = g_strdup(good);
    bad[strlen(bad) - 3] ^= 1;
    ASSERT_EQ(sig_relay_request_decode(bad, strlen(bad), SECRET, NOW, &out, why, sizeof why),
              -SFU_EMALFORMED);
    g_free(bad);
    g_free(good);
    /* Sealed but wrong inside: each field checked. */
    static const char *const bodies[] = {
        "{\"v\":2,\"node\":\"b\",\"room\":\"r\",\"participant\":\"0a1b2c3d\",\"addr\":\"127.0.0.1\",\"port\":1,\"nonce\":\"" NONCE_P "\",\"ts\":1700000000}",
        "{\"v\":1,\"node\":\"b b\",\"room\":\"r\",\"participant\":\"0a1b2c3d\",\"addr\":\"127.0.0.1\",\"port\":1,\"nonce\":\"" NONCE_P "\",\"ts\":1700000000}",
        "{\"v\":1,\"node\":\"b\",\"room\":\"~r\",\"participant\":\"0a1b2c3d\",\"addr\":\"127.0.0.1\",\"port\":1,\"nonce\":\"" NONCE_P "\",\"ts\":1700000000}",
        "{\"v\":1,\"node\":\"b\",\"room\":\"r\",\"participant\":\"00000000\",\"addr\":\"127.0.0.1\",\"port\":1,\"nonce\":\"" NONCE_P "\",\"ts\":1700000000}",
        "{\"v\":1,\"node\":\"b\",\"room\":\"r\",\"participant\":\"0A1B2C3D\",\"addr\":\"127.0.0.1\",\"port\":1,\"nonce\":\"" NONCE_P "\",\"ts\":1700000000}",
        "{\"v\":1,\"node\":\"b\",\"room\":\"r\",\"participant\":\"0a1b2c3d\",\"addr\":\"localhost\",\"port\":1,\"nonce\":\"" NONCE_P "\",\"ts\":1700000000}",
        "{\"v\":1,\"node\":\"b\",\"room\":\"r\",\"participant\":\"0a1b2c3d\",\"addr\":\"127.0.0.1\",\"port\":0,\"nonce\":\"" NONCE_P "\",\"ts\":1700000000}",
        "{\"v\":1,\"node\":\"b\",\"room\":\"r\",\"participant\":\"0a1b2c3d\",\"addr\":\"127.0.0.1\",\"port\":65536,\"nonce\":\"" NONCE_P "\",\"ts\":1700000000}",
        "{\"v\":1,\"node\":\"b\",\"room\":\"r\",\"participant\":\"0a1b2c3d\",\"addr\":\"127.0.0.1\",\"port\":1,\"nonce\":\"XYZ\",\"ts\":1700000000}",
        "{\"v\":1,\"node\":\"b\",\"room\":\"r\",\"participant\":\"0a1b2c3d\",\"addr\":\"127.0.0.1\",\"port\":1,\"nonce\":\"" NONCE_P "\",\"ts\":\"now\"}",
        "{\"v\":1,\"v\":1,\"node\":\"b\",\"room\":\"r\",\"participant\":\"0a1b2c3d\",\"addr\":\"127.0.0.1\",\"port\":1,\"nonce\":\"" NONCE_P "\",\"ts\":1700000000}",
        "[1,2,3]",
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(bodies); i++) {
        char *text = sig_cluster_seal(bodies[i], SECRET);
        out.port = 7;
        if (sig_relay_request_decode(text, strlen(text), SECRET, NOW, &out, why, sizeof why) !=
            -SFU_EMALFORMED)
            TEST_FAIL_("body %zu accepted: %s", i, bodies[i]);
        ASSERT_EQ(out.port, 7);     /* untouched */
        g_free(text);
    }
    /* The same text with the right fields passes (the table's bodies differ
     * from it by one field each). */
    char *ok = sig_cluster_seal("{\"v\":1,\"node\":\"b\",\"room\":\"r\",\"participant\":"
                                "\"0a1b2c3d\",\"addr\":\"127.0.0.1\",\"port\":1,\"nonce\":\""
                                NONCE_P "\",\"ts\":1700000000}", SECRET);
    ASSERT_EQ(sig_relay_request_decode(ok, strlen(ok), SECRET, NOW, &out, why, sizeof why), 0);
    g_free(ok);
    /* Nothing encodes without a secret or with a bad field. */
    ASSERT(sig_relay_request_encode(&r, "") == NULL);
    g_strlcpy(r.addr, "example.org", sizeof r.addr);
    ASSERT(sig_relay_request_encode(&r, SECRET) == NULL);
    return 0;
}

TEST(response_round_trip)
{
    sig_relay_response r = a_response();
    ASSERT_EQ(r.ntracks, 3u);
    char *text = sig_relay_response_encode(&r, SECRET);
    ASSERT(text != NULL);
    sig_relay_response *back = g_new0(sig_relay_response, 1);
    char why[128] = "";
    ASSERT_EQ(sig_relay_response_decode(text, strlen(text), SECRET, NONCE_P, back, why, sizeof why),
              0);
    ASSERT_STR_EQ(back->addr, "::1");
    ASSERT_EQ(back->port, 40001);
    ASSERT_EQ(back->ntracks, 3u);
    for (unsigned i = 0; i < 3; i++) {
        ASSERT_STR_EQ(back->tracks[i].mid, r.tracks[i].mid);
        ASSERT_EQ(back->tracks[i].codec, r.tracks[i].codec);
        ASSERT_EQ(back->tracks[i].pt, r.tracks[i].pt);
        ASSERT_EQ(back->tracks[i].rtx_pt, r.tracks[i].rtx_pt);
        ASSERT_EQ(back->tracks[i].ssrc, r.tracks[i].ssrc);
        ASSERT_EQ(back->tracks[i].rtx_ssrc, r.tracks[i].rtx_ssrc);
        ASSERT_EQ(back->tracks[i].profile_level_id, r.tracks[i].profile_level_id);
    }
    ASSERT_EQ(back->tracks[1].profile_level_id, 0x42e01fu);
    /* Not the answer to this request. */
    ASSERT_EQ(sig_relay_response_decode(text, strlen(text), SECRET, NONCE_S, back, why, sizeof why),
              -SFU_EMALFORMED);
    ASSERT_STR_EQ(why, "the answer is not to this request");
    g_free(text);
    /* Repeated SSRCs or mids are refused. */
    r.tracks[2].ssrc = r.tracks[0].ssrc;
    text = sig_relay_response_encode(&r, SECRET);
    ASSERT_EQ(sig_relay_response_decode(text, strlen(text), SECRET, NONCE_P, back, why, sizeof why),
              -SFU_EMALFORMED);
    g_free(text);
    r = a_response();
    g_strlcpy(r.tracks[1].mid, r.tracks[0].mid, sizeof r.tracks[1].mid);
    text = sig_relay_response_encode(&r, SECRET);
    ASSERT_EQ(sig_relay_response_decode(text, strlen(text), SECRET, NONCE_P, back, why, sizeof why),
              -SFU_EMALFORMED);
    g_free(text);
    /* A codec that does not fit its kind, a payload type out of the dynamic range. */
    r = a_response();
    r.tracks[0].kind = SFU_KIND_VIDEO;
    text = sig_relay_response_encode(&r, SECRET);
    ASSERT_EQ(sig_relay_response_decode(text, strlen(text), SECRET, NONCE_P, back, why, sizeof why),
              -SFU_EMALFORMED);
    g_free(text);
    r = a_response();
    r.tracks[2].pt = 8;
    text = sig_relay_response_encode(&r, SECRET);
    ASSERT_EQ(sig_relay_response_decode(text, strlen(text), SECRET, NONCE_P, back, why, sizeof why),
              -SFU_EMALFORMED);
    g_free(text);
    r = a_response();
    r.ntracks = 0;
    text = sig_relay_response_encode(&r, SECRET);
    ASSERT_EQ(sig_relay_response_decode(text, strlen(text), SECRET, NONCE_P, back, why, sizeof why),
              -SFU_EMALFORMED);
    g_free(text);
    g_free(back);
    return 0;
}

TEST(keys_mirror)
{
    sfu_srtp_keys serve, pull;
    ASSERT_EQ(sig_relay_keys(SECRET, NONCE_P, NONCE_S, true, &serve), 0);
    ASSERT_EQ(sig_relay_keys(SECRET, NONCE_P, NONCE_S, false, &pull), 0);
    ASSERT_EQ(serve.profile, SFU_SRTP_AEAD_AES_128_GCM);
    ASSERT_MEM_EQ(serve.local_key, pull.remote_key, 16);
    ASSERT_MEM_EQ(serve.local_salt, pull.remote_salt, 12);
    ASSERT_MEM_EQ(serve.remote_key, pull.local_key, 16);
    ASSERT_MEM_EQ(serve.remote_salt, pull.local_salt, 12);
    ASSERT(memcmp(serve.local_key, serve.remote_key, 16) != 0);
    /* Another secret or another nonce: other keys. */
    sfu_srtp_keys other;
    ASSERT_EQ(sig_relay_keys("another-secret-0123456789abcdefgh", NONCE_P, NONCE_S, true, &other), 0);
    ASSERT(memcmp(other.local_key, serve.local_key, 16) != 0);
    ASSERT_EQ(sig_relay_keys(SECRET, NONCE_S, NONCE_P, true, &other), 0);
    ASSERT(memcmp(other.local_key, serve.local_key, 16) != 0);
    ASSERT_EQ(sig_relay_keys("", NONCE_P, NONCE_S, true, &other), -SFU_EINVAL);
    ASSERT_EQ(sig_relay_keys(SECRET, "12", NONCE_S, true, &other), -SFU_EINVAL);
    /* And libsrtp takes them: what one side protects the other opens. */
    sfu_srtp_session *a = sfu_srtp_session_new(&serve), *b = sfu_srtp_session_new(&pull);
    ASSERT(a && b);
    uint8_t pkt[64 + SFU_SRTP_MAX_TRAILER_LEN] = { 0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9 };
    size_t len = 64;
    ASSERT_EQ(sfu_srtp_session_protect_rtp(a, pkt, &len), 0);
    ASSERT_EQ(sfu_srtp_session_unprotect_rtp(b, pkt, &len), 0);
    ASSERT_EQ(len, 64u);
    sfu_srtp_session_free(a);
    sfu_srtp_session_free(b);
    return 0;
}

TEST(tracks_and_descriptions)
{
    sig_relay_source src[4] = { { SFU_KIND_VIDEO, SFU_CODEC_VP8, 0 },
                                { SFU_KIND_AUDIO, SFU_CODEC_NONE, 0 },  /* left out */
                                { SFU_KIND_AUDIO, SFU_CODEC_OPUS, 0 },
                                { SFU_KIND_AUDIO, SFU_CODEC_VP8, 0 } }; /* kind mismatch: out */
    sig_relay_track t[SIG_RELAY_TRACKS_MAX];
    uint32_t n = 0;
    ASSERT_EQ(sig_relay_tracks_make(src, 4, counter_ssrc, &n, t), 2u);
    ASSERT_STR_EQ(t[0].mid, "r0");
    ASSERT_EQ(t[0].pt, 96);
    ASSERT_EQ(t[0].rtx_pt, 97);
    ASSERT_EQ(t[0].ssrc, 1u);
    ASSERT_EQ(t[0].rtx_ssrc, 2u);
    ASSERT_STR_EQ(t[1].mid, "r1");
    ASSERT_EQ(t[1].pt, 111);
    ASSERT_EQ(t[1].rtx_pt, 0);
    ASSERT_EQ(t[1].rtx_ssrc, 0u);
    sfu_leg_desc *serve = g_new0(sfu_leg_desc, 1), *pull = g_new0(sfu_leg_desc, 1);
    sig_relay_serve_desc(t, 2, 77, serve);
    sig_relay_pull_desc(t, 2, 88, pull);
    ASSERT_EQ(serve->ntracks, 2u);
    ASSERT(serve->tracks[0].send && !serve->tracks[0].recv);
    ASSERT(pull->tracks[0].recv && !pull->tracks[0].send);
    ASSERT_EQ(serve->tracks[0].local_ssrc, pull->tracks[0].remote_ssrc);
    ASSERT_EQ(serve->tracks[0].local_rtx_ssrc, pull->tracks[0].remote_rtx_ssrc);
    ASSERT(serve->tracks[0].fb_nack && serve->tracks[0].fb_pli && pull->tracks[0].fb_nack);
    ASSERT(!serve->tracks[1].fb_nack);
    ASSERT_EQ(serve->tracks[1].clock_rate, 48000u);
    ASSERT_EQ(serve->tracks[0].clock_rate, 90000u);
    ASSERT_EQ(serve->tracks[1].ext.audio_level, pull->tracks[1].ext.audio_level);
    ASSERT_EQ(serve->rtcp_ssrc, 77u);
    ASSERT_EQ(pull->rtcp_ssrc, 88u);
    g_free(serve);
    g_free(pull);
    return 0;
}

/* A simulcast publisher's video: every layer over the leg, pinned sinks on
 * the serving node, one simulcast source on the pulling node. */
TEST(simulcast_layers)
{
    sig_relay_response r = a_response();
    uint32_t n = 5000;
    sfu_layer_desc layers[3] = { { "f", 0, 0 }, { "h", 11, 12 }, { "bad rid!", 0, 0 } };
    sig_relay_track_set_layers(r.tracks, r.ntracks, 0, layers, 3, counter_ssrc, &n); /* audio: no-op */
    ASSERT_EQ(r.tracks[0].nlayers, 0);
    sig_relay_track_set_layers(r.tracks, r.ntracks, 2, layers, 1, counter_ssrc, &n); /* one: no-op */
    ASSERT_EQ(r.tracks[2].nlayers, 0);
    sig_relay_track_set_layers(r.tracks, r.ntracks, 2, layers, 3, counter_ssrc, &n);
    const sig_relay_track *v = &r.tracks[2];
    ASSERT_EQ(v->nlayers, 3);
    ASSERT_STR_EQ(v->layers[0].rid, "f");
    ASSERT_STR_EQ(v->layers[1].rid, "h");
    ASSERT_STR_EQ(v->layers[2].rid, "");    /* not a rid: left out */
    ASSERT_EQ(v->layers[0].ssrc, v->ssrc);
    ASSERT_EQ(v->layers[0].rtx_ssrc, v->rtx_ssrc);
    ASSERT(v->layers[1].ssrc && v->layers[1].rtx_ssrc && v->layers[2].ssrc && v->layers[2].rtx_ssrc);
    ASSERT(v->layers[1].ssrc != v->layers[2].ssrc && v->layers[1].ssrc != v->ssrc);

    char *text = sig_relay_response_encode(&r, SECRET);
    ASSERT(text != NULL && strstr(text, "\"layers\"") != NULL);
    sig_relay_response *back = g_new0(sig_relay_response, 1);
    char why[128] = "";
    ASSERT_EQ(sig_relay_response_decode(text, strlen(text), SECRET, NONCE_P, back, why, sizeof why), 0);
    g_free(text);
    ASSERT_EQ(back->tracks[2].nlayers, 3);
    ASSERT_EQ(back->tracks[1].nlayers, 0);
    for (unsigned l = 0; l < 3; l++) {
        ASSERT_STR_EQ(back->tracks[2].layers[l].rid, v->layers[l].rid);
        ASSERT_EQ(back->tracks[2].layers[l].ssrc, v->layers[l].ssrc);
        ASSERT_EQ(back->tracks[2].layers[l].rtx_ssrc, v->layers[l].rtx_ssrc);
    }

    sfu_leg_desc *serve = g_new0(sfu_leg_desc, 1), *pull = g_new0(sfu_leg_desc, 1);
    sig_relay_serve_desc(back->tracks, back->ntracks, 77, serve);
    sig_relay_pull_desc(back->tracks, back->ntracks, 88, pull);
    ASSERT_EQ(serve->ntracks, 5u);          /* audio, H.264, three VP8 layers */
    ASSERT_EQ(pull->ntracks, 3u);
    for (unsigned l = 0; l < 3; l++) {
        const sfu_track_desc *d = &serve->tracks[2 + l];
        ASSERT(d->send && d->kind == SFU_KIND_VIDEO);
        ASSERT_EQ(d->pin_layer, l + 1);
        ASSERT_EQ(d->local_ssrc, v->layers[l].ssrc);
        ASSERT_EQ(d->local_rtx_ssrc, v->layers[l].rtx_ssrc);
        ASSERT_EQ(pull->tracks[2].layers[l].ssrc, v->layers[l].ssrc);
        ASSERT_EQ(pull->tracks[2].layers[l].rtx_ssrc, v->layers[l].rtx_ssrc);
        ASSERT_STR_EQ(pull->tracks[2].layers[l].rid, v->layers[l].rid);
    }
    ASSERT_STR_EQ(serve->tracks[2].mid, v->mid);
    ASSERT(strcmp(serve->tracks[3].mid, serve->tracks[4].mid) != 0 &&
           strcmp(serve->tracks[3].mid, v->mid) != 0);
    ASSERT_EQ(serve->tracks[0].pin_layer, 0);
    ASSERT_EQ(serve->tracks[1].pin_layer, 0);
    ASSERT_EQ(pull->tracks[2].nlayers, 3);
    ASSERT_EQ(pull->tracks[1].nlayers, 0);
    ASSERT(serve->layer_feedback && pull->layer_feedback); /* rtcp_layers.h */

    /* Refused: a layer repeating another's SSRC, a first layer that is not
     * the track's, layers on audio, one layer, a bad rid, RTX on one layer
     * only. */
    static const char *const bad_layers[] = {
        "[{\"rid\":\"a\",\"ssrc\":10,\"rtx_ssrc\":11},{\"rid\":\"b\",\"ssrc\":10,\"rtx_ssrc\":13}]",
        "[{\"rid\":\"a\",\"ssrc\":99,\"rtx_ssrc\":11},{\"rid\":\"b\",\"ssrc\":12,\"rtx_ssrc\":13}]",
        "[{\"rid\":\"a\",\"ssrc\":10,\"rtx_ssrc\":11}]",
        "[{\"rid\":\"a\",\"ssrc\":10,\"rtx_ssrc\":11},{\"rid\":\"b c\",\"ssrc\":12,\"rtx_ssrc\":13}]",
        "[{\"rid\":\"a\",\"ssrc\":10,\"rtx_ssrc\":11},{\"rid\":\"b\",\"ssrc\":12,\"rtx_ssrc\":0}]",
        "[{\"rid\":\"a\",\"ssrc\":10,\"rtx_ssrc\":11},{\"rid\":\"b\",\"ssrc\":12,\"rtx_ssrc\":13},"
        "{\"rid\":\"c\",\"ssrc\":14,\"rtx_ssrc\":15},{\"rid\":\"d\",\"ssrc\":16,\"rtx_ssrc\":17}]",
        "[{\"rid\":\"a\",\"ssrc\":10,\"rtx_ssrc\":11},{\"rid\":\"b\",\"ssrc\":12,\"rtx_ssrc\":1}]",
        "{\"rid\":\"a\"}",
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(bad_layers); i++) {
        char *body = g_strdup_printf(
            "{\"v\":1,\"node\":\"a\",\"nonce\":\"" NONCE_S "\",\"echo\":\"" NONCE_P "\","
            "\"addr\":\"::1\",\"port\":1,\"tracks\":[{\"mid\":\"r0\",\"kind\":\"audio\","
            "\"codec\":\"opus\",\"pt\":111,\"rtx_pt\":0,\"ssrc\":1,\"rtx_ssrc\":0,\"plid\":0},"
            "{\"mid\":\"r1\",\"kind\":\"video\",\"codec\":\"VP8\",\"pt\":96,\"rtx_pt\":97,"
            "\"ssrc\":10,\"rtx_ssrc\":11,\"plid\":0,\"layers\":%s}]}", bad_layers[i]);
        char *sealed = sig_cluster_seal(body, SECRET);
        back->ntracks = 77;
        if (sig_relay_response_decode(sealed, strlen(sealed), SECRET, NONCE_P, back, why, sizeof why) !=
            -SFU_EMALFORMED)
            TEST_FAIL_("layers %zu accepted: %s", i, bad_layers[i]);
        ASSERT_EQ(back->ntracks, 77u);  /* untouched */
        g_free(sealed);
        g_free(body);
    }
    /* ... and the same body with good layers passes. */
    char *body = g_strdup_printf(
        "{\"v\":1,\"node\":\"a\",\"nonce\":\"" NONCE_S "\",\"echo\":\"" NONCE_P "\","
        "\"addr\":\"::1\",\"port\":1,\"tracks\":[{\"mid\":\"r1\",\"kind\":\"video\",\"codec\":"
        "\"VP8\",\"pt\":96,\"rtx_pt\":97,\"ssrc\":10,\"rtx_ssrc\":11,\"plid\":0,\"layers\":"
        "[{\"rid\":\"a\",\"ssrc\":10,\"rtx_ssrc\":11},{\"rid\":\"\",\"ssrc\":12,\"rtx_ssrc\":13}]}]}");
    char *sealed = sig_cluster_seal(body, SECRET);
    ASSERT_EQ(sig_relay_response_decode(sealed, strlen(sealed), SECRET, NONCE_P, back, why, sizeof why), 0);
    ASSERT_EQ(back->tracks[0].nlayers, 2);
    g_free(sealed);
    g_free(body);
    g_free(serve);
    g_free(pull);
    g_free(back);
    return 0;
}

TEST(http_responses)
{
    static const struct {
        const char *text;
        int rc;
        unsigned status;
        const char *body;
    } cases[] = {
        { "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello", 0, 201, "hello" },
        { "HTTP/1.1 201 Created\r\ncontent-length:5  \r\n\r\nhello", 0, 201, "hello" },
        { "HTTP/1.0 403 Forbidden\r\n\r\nno", 0, 403, "no" },
        { "HTTP/1.1 204 No Content\r\n\r\n", 0, 204, "" },
        { "HTTP/1.1 201 Created\r\nContent-Length: 6\r\n\r\nhello", -1, 0, NULL },
        { "HTTP/1.1 201 Created\r\nContent-Length: 5x\r\n\r\nhello", -1, 0, NULL },
        { "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", -1, 0, NULL },
        { "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nhello", -1, 0, NULL },
        { "HTTP/2 201\r\n\r\n", -1, 0, NULL },
        { "HTTP/1.1 2x1 Created\r\n\r\n", -1, 0, NULL },
        { "HTTP/1.1 099 Low\r\n\r\n", -1, 0, NULL },
        { "HTTP/1.1 2011 Created\r\n\r\n", -1, 0, NULL },
        { "", -1, 0, NULL },
    };
    for (size_t i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        unsigned status = 0;
        const char *body = NULL;
        size_t blen = 0;
        int rc = sig_relay_http_parse(cases[i].text, strlen(cases[i].text), &status, &body, &blen);
        if ((rc == 0) != (cases[i].rc == 0))
            TEST_FAIL_("case %zu: rc %d", i, rc);
        if (rc == 0) {
            ASSERT_EQ(status, cases[i].status);
            ASSERT_EQ(blen, strlen(cases[i].body));
            ASSERT_MEM_EQ(body, cases[i].body, blen);
        }
    }
    return 0;
}

TEST(http_post_refuses_https_and_bad_urls)
{
    unsigned status;
    char *resp = NULL, why[128];
    size_t len;
    ASSERT_EQ(sig_relay_http_post("https://127.0.0.1:1", "/cluster/relay", "text/plain", "x", 1,
                                  100, &status, &resp, &len, why, sizeof why),
              -SFU_EUNSUPPORTED);
    ASSERT_EQ(sig_relay_http_post("http://", "/cluster/relay", "text/plain", "x", 1, 100, &status,
                                  &resp, &len, why, sizeof why),
              -SFU_EINVAL);
    ASSERT(resp == NULL);
    return 0;
}

TEST_LIST(TEST_ENTRY(request_round_trip), TEST_ENTRY(request_refusals),
          TEST_ENTRY(response_round_trip), TEST_ENTRY(keys_mirror),
          TEST_ENTRY(tracks_and_descriptions), TEST_ENTRY(simulcast_layers), TEST_ENTRY(http_responses),
          TEST_ENTRY(http_post_refuses_https_and_bad_urls))
