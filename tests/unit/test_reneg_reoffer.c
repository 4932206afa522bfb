/* Room sessions renegotiated from the client's side: a re-offer while the
 * server's offer is pending, a re-offer that adds a camera, bad re-offers,
 * and ICE restart by re-offer (fixture: tests/unit/reneg_fixture.h). */
#include "tests/unit/reneg_fixture.h"


TEST(reoffer_while_offer_pending_409)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    size_t len;
    char *re = rc_reoffer(&f.client, f.first.sdp, f.first.sdp_len, NULL, NULL, &len);
    ASSERT(re != NULL);
    sig_reneg_result res;
    char err[200];
    int rc = sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err);
    ASSERT_EQ(rc, -SFU_ESTATE);
    ASSERT_EQ(sig_reneg_http_status(rc), 409);
    free(re);
    /* Glare the other way: a server change during the client's re-offer
     * stays queued and goes out after. */
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(add_av(&f, P3, SFU_MS(1500)), 0);
    re = rc_reoffer(&f.client, f.last, f.last_len, NULL, NULL, &len);
    ASSERT_EQ(sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err), 0);
    free(re);
    ASSERT(!res.ice_restart);
    ASSERT_EQ(res.leg.ntracks, 4);
    sig_sdp *a = rc_parse(res.sdp, res.sdp_len);
    ASSERT(a != NULL);
    ASSERT_EQ(a->nmedia, 4);
    ASSERT_EQ(a->media[0].setup, SIG_SDP_SETUP_PASSIVE);   /* the SFU stays DTLS server */
    ASSERT_EQ(a->media[0].dir, SIG_SDP_RECVONLY);
    ASSERT_EQ(a->media[2].dir, SIG_SDP_SENDONLY);
    ASSERT_EQ(a->media[3].nfids, 1);                        /* same SSRCs as offered */
    ASSERT_EQ(a->media[3].fids[0].primary, leg_mid(&res.leg, "3")->local_ssrc);
    sig_sdp_free(a);
    sig_reneg_result_deinit(&res);
    ASSERT_EQ(offer_now(&f, SFU_MS(1600), &o), 0);
    ASSERT_EQ(o->ntracks, 4);
    ASSERT_EQ(answer(&f, o, &res), 0);
    leave(&f);
    return 0;
}

/* The video m-line of Chrome's offer, as a new transceiver with mid "v9". */
static int camera_mline(sig_sdp_media *out)
{
    size_t len;
    char *raw = load("chromium156-whip-publish-offer.sdp", &len);
    ASSERT(raw != NULL);
    sig_sdp *s = rc_parse(raw, len);
    free(raw);
    ASSERT(s != NULL);
    *out = s->media[1];
    strcpy(out->mid, "v9");
    sig_sdp_free(s);
    return 0;
}

TEST(reoffer_adds_camera)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    /* Audio only at the join: no video m-line at all. */
    size_t len;
    char *raw = load("chromium156-whip-publish-offer.sdp", &len);
    ASSERT(raw != NULL);
    *strstr(raw, "m=video") = '\0';
    char *t1 = replace(raw, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0");
    char *t2 = replace(t1, "a=sendonly", "a=sendrecv");
    ASSERT_EQ(join_text(&f, t2, &cfg), 0);
    free(raw), free(t1), free(t2);
    ASSERT_EQ(sig_reneg_add_track(f.r, P2, SFU_KIND_AUDIO, 0), 0);
    ASSERT_EQ(sig_reneg_add_track(f.r, P2, SFU_KIND_VIDEO, 0), SIG_RENEG_WAITING);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(o->ntracks, 1);
    ASSERT_EQ(answer(&f, o, &res), 0);
    sig_sdp_media *cam = malloc(sizeof *cam);
    ASSERT_EQ(camera_mline(cam), 0);
    char *re = rc_reoffer(&f.client, f.last, f.last_len, cam, NULL, &len);
    free(cam);
    ASSERT(re != NULL);
    char err[200];
    int rc = sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err);
    if (rc)
        fprintf(stderr, "  %s\n", err);
    ASSERT_EQ(rc, 0);
    free(re);
    const sfu_track_desc *t = leg_mid(&res.leg, "v9");
    ASSERT(t && t->recv && !t->send);
    ASSERT_EQ(t->kind, SFU_KIND_VIDEO);
    ASSERT_EQ(t->remote_ssrc, 1891586647u);
    ASSERT_EQ(t->codec, SFU_CODEC_VP8);
    sig_sdp *a = rc_parse(res.sdp, res.sdp_len);
    ASSERT(a && a->nmedia == 3);
    ASSERT_EQ(a->media[2].dir, SIG_SDP_RECVONLY);
    ASSERT(sig_sdp_in_bundle(a, "v9"));
    sig_sdp_free(a);
    sig_reneg_result_deinit(&res);
    /* Now there is a video m-line to copy: the waiting video goes out. */
    ASSERT_EQ(offer_now(&f, SFU_SEC(2), &o), 0);
    ASSERT_EQ(o->ntracks, 2);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 4);
    ASSERT_EQ(o->tracks[1].kind, SFU_KIND_VIDEO);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 1);
    leave(&f);
    return 0;
}

static void e_drop_mline(sig_sdp *s) { s->nmedia--, s->nbundle--; }
static void e_passive_offer(sig_sdp *s) { for (unsigned i = 0; i < s->nmedia; i++) s->media[i].setup = SIG_SDP_SETUP_PASSIVE; }
static void e_new_ice(sig_sdp *s)
{
    for (unsigned i = 0; i < s->nmedia; i++) {
        strcpy(s->media[i].ice.ufrag, "NEWu");
        strcpy(s->media[i].ice.pwd, "newclientpasswordnewcl");
    }
}

TEST(reoffer_errors)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    static const struct { rc_edit edit; int rc; } cases[] = {
        { e_drop_mline, -SFU_EMALFORMED }, { e_passive_offer, -SFU_EMALFORMED },
        { e_fp, -SFU_EMALFORMED }, { e_mid, -SFU_EMALFORMED },
    };
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(answer(&f, o, &res), 0);
    char err[200];
    for (unsigned i = 0; i < SFU_ARRAY_LEN(cases); i++) {
        size_t len;
        char *re = rc_reoffer(&f.client, f.last, f.last_len, NULL, cases[i].edit, &len);
        ASSERT(re != NULL);
        ASSERT_EQ(sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err), cases[i].rc);
        free(re);
    }
    ASSERT_EQ(sig_reneg_handle_client_offer(f.r, "x", 1, NULL, &res, err, sizeof err), -SFU_EMALFORMED);
    leave(&f);
    return 0;
}

TEST(ice_restart)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(answer(&f, o, &res), 0);
    size_t len;
    char *re = rc_reoffer(&f.client, f.last, f.last_len, NULL, e_new_ice, &len);
    ASSERT(re != NULL);
    ASSERT_EQ(sig_reneg_is_ice_restart(f.r, re, len), 1);
    char err[200];
    ASSERT_EQ(sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err), -SFU_EINVAL);
    ASSERT(res.ice_restart);
    ASSERT_STR_EQ(res.remote_ice.ufrag, "NEWu");
    /* The new generation has a port of its own: the answer announces it. */
    const sig_ice_candidate gen2 = { .foundation = "2", .component = 1,
                                     .transport = SIG_ICE_UDP, .priority = 2130706431,
                                     .address = "127.0.0.1", .port = 40002,
                                     .type = SIG_ICE_HOST };
    const sig_reneg_ice_creds creds = { "newS", "newserverpasswordnewse", &gen2, 1 };
    ASSERT_EQ(sig_reneg_handle_client_offer(f.r, re, len, &creds, &res, err, sizeof err), 0);
    free(re);
    ASSERT(res.ice_restart);
    sig_sdp *a = rc_parse(res.sdp, res.sdp_len);
    ASSERT(a != NULL);
    ASSERT_STR_EQ(a->media[0].ice.ufrag, "newS");
    ASSERT_EQ(a->media[0].ncands, 1);
    ASSERT_EQ(a->media[0].cands[0].port, 40002);
    ASSERT_EQ(a->media[0].port, 40002);
    ASSERT_STR_EQ(a->media[3].ice.pwd, "newserverpasswordnewse");
    ASSERT_EQ(a->media[3].nssrcs, 2);
    sig_sdp_free(a);
    sig_reneg_result_deinit(&res);
    /* Later offers keep the new credentials; answers must carry the
     * client's new ones. */
    strcpy(f.ufrag, "newS");
    strcpy(f.client.ice.ufrag, "NEWu");
    strcpy(f.client.ice.pwd, "newclientpasswordnewcl");
    ASSERT_EQ(sig_reneg_add_track(f.r, P3, SFU_KIND_AUDIO, SFU_SEC(2)), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);
    sig_sdp *o2 = rc_parse(o->sdp, o->sdp_len);
    ASSERT(o2 != NULL);
    ASSERT_EQ(o2->media[0].cands[0].port, 40002);   /* later offers keep it */
    sig_sdp_free(o2);
    ASSERT_EQ(answer(&f, o, &res), 0);
    /* Same credentials again: no restart. */
    re = rc_reoffer(&f.client, f.last, f.last_len, NULL, NULL, &len);
    ASSERT_EQ(sig_reneg_is_ice_restart(f.r, re, len), 0);
    ASSERT_EQ(sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err), 0);
    ASSERT(!res.ice_restart);
    free(re);
    sig_reneg_result_deinit(&res);
    leave(&f);
    return 0;
}

TEST_LIST(TEST_ENTRY(reoffer_while_offer_pending_409), TEST_ENTRY(reoffer_adds_camera), TEST_ENTRY(reoffer_errors),
          TEST_ENTRY(ice_restart))
