/* Server-driven renegotiation of room sessions: batching, revisions, m-line
 * recycling, answers that do not match, limits, real offers, simulcast.
 * Client re-offers and ICE restart: test_reneg_reoffer.c. The fixture is
 * tests/unit/reneg_fixture.h, the client side tests/unit/reneg_client.h. */
#include "tests/unit/reneg_fixture.h"

#include <malloc.h>

TEST(join_sendrecv_av)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    sfu_leg_desc leg;
    sig_reneg_leg(f.r, &leg);
    ASSERT_EQ(leg.ntracks, 2);
    ASSERT(leg.tracks[0].recv && leg.tracks[1].recv);
    ASSERT(!leg.tracks[0].send && !leg.tracks[1].send);
    ASSERT_EQ(leg.tracks[1].remote_ssrc, 1891586647u);
    ASSERT_EQ(leg.rtcp_ssrc, f.first.leg.rtcp_ssrc);
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(1)));
    ASSERT_EQ(sig_reneg_timeout(f.r), SFU_TIME_NEVER);
    ASSERT(sig_reneg_outstanding(f.r) == NULL);
    leave(&f);
    return 0;
}

TEST(batched_offer_and_answer)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, SFU_MS(1000)), 0);
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_MS(1050)));
    ASSERT_EQ(add_av(&f, P3, SFU_MS(1060)), 0);
    ASSERT_EQ(sig_reneg_timeout(f.r), SFU_MS(1100));
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_MS(1099)));
    const sig_reneg_offer *o;
    ASSERT_EQ(offer_now(&f, SFU_MS(1100), &o), 0);
    ASSERT_EQ(o->revision, 1);
    ASSERT_EQ(o->ntracks, 4);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 6);
    static const struct { const char *mid; uint32_t p; sfu_kind kind; } want[] = {
        { "2", P2, SFU_KIND_AUDIO }, { "3", P2, SFU_KIND_VIDEO },
        { "4", P3, SFU_KIND_AUDIO }, { "5", P3, SFU_KIND_VIDEO },
    };
    for (unsigned i = 0; i < SFU_ARRAY_LEN(want); i++) {
        ASSERT_STR_EQ(o->tracks[i].mid, want[i].mid);
        ASSERT_EQ(o->tracks[i].participant, want[i].p);
        ASSERT_EQ(o->tracks[i].kind, want[i].kind);
    }
    /* The client's own m-lines: the SFU only receives on them. */
    ASSERT(strstr(o->sdp, "a=mid:0\r\n") && strstr(o->sdp, "a=recvonly"));
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(5)));    /* outstanding */
    ASSERT(sig_reneg_outstanding(f.r) == o);
    sig_reneg_result res;
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.leg.ntracks, 6);
    ASSERT_EQ(res.nbindings, 4);
    for (unsigned i = 0; i < 4; i++) {
        ASSERT_STR_EQ(res.bindings[i].mid, want[i].mid);
        ASSERT_EQ(res.bindings[i].participant, want[i].p);
        const sfu_track_desc *t = leg_mid(&res.leg, want[i].mid);
        ASSERT(t && t->send && !t->recv && t->local_ssrc);
        ASSERT_EQ(t->kind, want[i].kind);
        ASSERT_EQ(t->pt, want[i].kind == SFU_KIND_VIDEO ? 96 : 111);  /* the client's PTs */
        ASSERT_EQ(t->rtx_pt, want[i].kind == SFU_KIND_VIDEO ? 97 : 0);
        ASSERT(want[i].kind == SFU_KIND_AUDIO || t->local_rtx_ssrc);
        ASSERT_EQ(t->ext.mid, 4);
    }
    ASSERT(leg_mid(&res.leg, "0")->recv && !leg_mid(&res.leg, "0")->send);
    ASSERT_EQ(leg_mid(&res.leg, "0")->remote_ssrc, 7000);  /* as the answer signals it */
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(10)));
    sig_reneg_result_deinit(&res);
    leave(&f);
    return 0;
}

/* Once answered, the offer's text goes (a session of a large room would
 * keep ~18 KB of SDP for its lifetime): the heap shrinks by about its size. */
TEST(answered_offer_text_freed)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, SFU_MS(1000)), 0);
    ASSERT_EQ(add_av(&f, P3, SFU_MS(1000)), 0);
    const sig_reneg_offer *o;
    ASSERT_EQ(offer_now(&f, SFU_MS(1100), &o), 0);
    size_t len = o->sdp_len;
    ASSERT(len > 1000);
    sig_reneg_result res;
    struct mallinfo2 before = mallinfo2();
    ASSERT_EQ(answer(&f, o, &res), 0);
    struct mallinfo2 after = mallinfo2();
    ASSERT(sig_reneg_outstanding(f.r) == NULL);
#ifndef __SANITIZE_ADDRESS__    /* ASan's allocator is not glibc's: mallinfo2 does not see it */
    ASSERT(after.uordblks + len / 2 <= before.uordblks);
#else
    (void)before, (void)after, (void)len;
#endif
    sig_reneg_result_deinit(&res);
    leave(&f);
    return 0;
}

#ifndef __SANITIZE_ADDRESS__
/* Bytes the heap gives back when the session's state is freed. */
static size_t state_bytes(fixture *f)
{
    struct mallinfo2 before = mallinfo2();
    sig_reneg_free(f->r);
    f->r = NULL;
    struct mallinfo2 after = mallinfo2();
    return before.uordblks - after.uordblks;
}
#endif

/* The m-line slots are sized to the m-lines in use, and an idle session
 * keeps one copy of them (the offer's goes once it is answered): fixed
 * arrays of 32 slots, the committed ones and the next offer's, were about
 * 50 KB a session whatever it had. */
TEST(slot_state_sized_to_mlines)
{
    fixture two, six, pending;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&two, &cfg), 0);
    ASSERT_EQ(join(&six, &cfg), 0);
    ASSERT_EQ(add_av(&six, P2, SFU_MS(1000)), 0);
    ASSERT_EQ(add_av(&six, P3, SFU_MS(1000)), 0);
    const sig_reneg_offer *o;
    ASSERT_EQ(offer_now(&six, SFU_MS(1100), &o), 0);
    sig_reneg_result res;
    ASSERT_EQ(answer(&six, o, &res), 0);
    sig_reneg_result_deinit(&res);
    ASSERT_EQ(count_mlines(six.last, six.last_len), 6);
    ASSERT(!sig_reneg_poll_offer(six.r, SFU_SEC(10)));
    ASSERT_EQ(join(&pending, &cfg), 0);
    ASSERT_EQ(add_av(&pending, P2, SFU_MS(1000)), 0);
    ASSERT_EQ(add_av(&pending, P3, SFU_MS(1000)), 0);
    ASSERT_EQ(offer_now(&pending, SFU_MS(1100), &o), 0);
#ifndef __SANITIZE_ADDRESS__    /* ASan's allocator is not glibc's: mallinfo2 does not see it */
    size_t b2 = state_bytes(&two), b6 = state_bytes(&six), bp = state_bytes(&pending);
    ASSERT(b2 < 24 * 1024);             /* 2 m-lines */
    ASSERT(b6 > b2 + 4 * 512);          /* 4 more, each a slot of several hundred bytes */
    ASSERT(b6 < 24 * 1024);
    ASSERT(bp > b6 + 6 * 512);          /* outstanding: the offer's 6 slots as well */
#endif
    leave(&two);
    leave(&six);
    leave(&pending);
    return 0;
}

TEST(revisions_409)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    sig_reneg_result res;
    char err[200];
    ASSERT_EQ(sig_reneg_handle_answer(f.r, 1, "v=0\r\n", 5, &res, err, sizeof err), -SFU_ESTATE);
    ASSERT_EQ(sig_reneg_http_status(-SFU_ESTATE), 409);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(sig_reneg_remove_participant(f.r, P2, SFU_SEC(2)), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);
    ASSERT_EQ(o->revision, 2);
    ASSERT_EQ(sig_reneg_make_offer(f.r, SFU_SEC(3), &o), -SFU_ESTATE);
    size_t len;
    char *a = rc_answer(&f.client, o->sdp, o->sdp_len, NULL, &len);
    ASSERT(a != NULL);
    for (uint32_t rev = 0; rev < 5; rev++) {
        if (rev == 2)
            continue;
        ASSERT_EQ(sig_reneg_handle_answer(f.r, rev, a, len, &res, err, sizeof err), -SFU_ESTATE);
        ASSERT(sig_reneg_outstanding(f.r) != NULL);
    }
    ASSERT_EQ(sig_reneg_handle_answer(f.r, 2, a, len, &res, err, sizeof err), 0);
    /* The same answer again: nothing outstanding. */
    ASSERT_EQ(sig_reneg_handle_answer(f.r, 2, a, len, &res, err, sizeof err), -SFU_ESTATE);
    free(a);
    leave(&f);
    return 0;
}

TEST(leave_goes_inactive_then_recycled)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    ASSERT_EQ(add_av(&f, P3, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(sig_reneg_remove_participant(f.r, P2, SFU_SEC(2)), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);
    ASSERT_EQ(o->ntracks, 2);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 6);
    sig_sdp *s = rc_parse(o->sdp, o->sdp_len);
    ASSERT(s != NULL);
    ASSERT_EQ(s->media[2].dir, SIG_SDP_INACTIVE);
    ASSERT_EQ(s->media[3].dir, SIG_SDP_INACTIVE);
    ASSERT_EQ(s->media[4].dir, SIG_SDP_SENDONLY);
    ASSERT_EQ(s->media[3].nssrcs, 0);
    ASSERT(s->media[3].port != 0 && sig_sdp_in_bundle(s, "3"));
    sig_sdp_free(s);
    /* A join while the inactive offer is unanswered: queued, and the
     * draining m-lines are not reused before the answer. */
    ASSERT_EQ(add_av(&f, P4, SFU_MS(3010)), 0);
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(4)));
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 0);
    ASSERT(!leg_mid(&res.leg, "2")->send && !leg_mid(&res.leg, "3")->send);
    uint32_t old_ssrc = f.first.leg.tracks[0].local_ssrc;
    (void)old_ssrc;
    ASSERT_EQ(sig_reneg_timeout(f.r), SFU_MS(3110));
    ASSERT_EQ(offer_now(&f, SFU_SEC(4), &o), 0);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 6);
    ASSERT_EQ(o->ntracks, 4);
    ASSERT_EQ(track_of(o, "2")->participant, P4);
    ASSERT_EQ(track_of(o, "3")->participant, P4);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 2);
    ASSERT_STR_EQ(res.bindings[0].mid, "2");
    ASSERT_EQ(res.bindings[1].participant, P4);
    leave(&f);
    return 0;
}

TEST(sdp_size_stable_over_50_cycles)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    sfu_time now = SFU_SEC(1);
    size_t first_len = 0, max_len = 0;
    uint32_t prev_ssrc = 0;
    for (uint32_t k = 0; k < 50; k++) {
        uint32_t p = 0x10000000u + k;
        ASSERT_EQ(add_av(&f, p, now), 0);
        now += SFU_SEC(1);
        ASSERT_EQ(offer_now(&f, now, &o), 0);
        ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 6);
        ASSERT_EQ(track_of(o, "4")->participant, p);
        ASSERT_EQ(track_of(o, "5")->participant, p);
        ASSERT_EQ(track_of(o, "2")->participant, P2);
        first_len = first_len ? first_len : o->sdp_len;
        max_len = o->sdp_len > max_len ? o->sdp_len : max_len;
        ASSERT_EQ(answer(&f, o, &res), 0);
        const sfu_track_desc *t = leg_mid(&res.leg, "5");
        ASSERT(t && t->send && t->local_ssrc != prev_ssrc);   /* new SSRCs on reuse */
        prev_ssrc = t->local_ssrc;
        ASSERT_EQ(sig_reneg_remove_participant(f.r, p, now), 0);
        now += SFU_SEC(1);
        ASSERT_EQ(offer_now(&f, now, &o), 0);
        ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 6);
        ASSERT_EQ(o->ntracks, 2);
        ASSERT_EQ(answer(&f, o, &res), 0);
    }
    ASSERT_EQ(o->revision, 100);     /* P2 came with the first */
    ASSERT_LE(max_len, first_len + 8);  /* only the o= version grows a digit or two */
    leave(&f);
    return 0;
}

TEST(changes_that_cancel_make_no_offer)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);    /* idempotent */
    ASSERT_EQ(sig_reneg_remove_participant(f.r, P2, SFU_MS(10)), 0);
    ASSERT_EQ(sig_reneg_remove_participant(f.r, P2, SFU_MS(10)), -SFU_ENOTFOUND);
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(1)));
    ASSERT_EQ(sig_reneg_add_track(f.r, P2, (sfu_kind)7, 0), -SFU_EINVAL);
    leave(&f);
    return 0;
}

static const struct bad_answer {
    const char *name;
    rc_edit edit;
    const char *why;            /* expected in the error text */
} bad_answers[] = {
    { "m-line missing", e_drop_last, "m-lines" },
    { "mid changed", e_mid, "mid" },
    { "order changed", e_swap, "mid" },
    { "kind changed", e_kind, "mid" },
    { "needed m-line rejected", e_reject, "rejected" },
    { "published m-line rejected", e_reject_pub, "rejected" },
    { "setup flips the DTLS role", e_passive, "setup" },
    { "setup actpass in an answer", e_actpass, "setup" },
    { "sends on a sendonly offer", e_dir_send, "direction" },
    { "receives on a recvonly offer", e_dir_recv, "direction" },
    { "payload type not offered", e_pt, "payload type" },
    { "codec missing", e_no_codec, "payload type" },
    { "ICE credentials changed", e_ice, "ICE" },
    { "fingerprint changed", e_fp, "fingerprint" },
    { "extension id changed", e_ext, "extension" },
    { "mid outside BUNDLE", e_bundle, "BUNDLE" },
    { "no BUNDLE group", e_no_bundle, "BUNDLE" },
};

TEST(mismatched_answers_400)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    sig_reneg_result res;
    char err[256];
    for (unsigned i = 0; i < SFU_ARRAY_LEN(bad_answers); i++) {
        const struct bad_answer *b = &bad_answers[i];
        size_t len;
        char *a = rc_answer(&f.client, o->sdp, o->sdp_len, b->edit, &len);
        ASSERT(a != NULL);
        err[0] = '\0';
        int rc = sig_reneg_handle_answer(f.r, o->revision, a, len, &res, err, sizeof err);
        free(a);
        if (rc != -SFU_EMALFORMED || !strstr(err, b->why))
            fprintf(stderr, "  case \"%s\": rc %d, \"%s\"\n", b->name, rc, err);
        ASSERT_EQ(rc, -SFU_EMALFORMED);
        ASSERT(strstr(err, b->why) != NULL);
        ASSERT(sig_reneg_outstanding(f.r) == o);
    }
    static const char *const garbage[] = { "", "hello", "v=0\r\nm=audio\r\n", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" };
    for (unsigned i = 0; i < SFU_ARRAY_LEN(garbage); i++) {
        int rc = sig_reneg_handle_answer(f.r, o->revision, garbage[i], strlen(garbage[i]), &res, err, sizeof err);
        ASSERT_EQ(rc, -SFU_EMALFORMED);
        ASSERT_EQ(sig_reneg_http_status(rc), 400);
    }
    /* Still answerable after all that. */
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 2);
    leave(&f);
    return 0;
}

static void e_inactive_video(sig_sdp *s) { s->media[3].dir = SIG_SDP_INACTIVE; }

TEST(client_refuses_an_mline)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(answer_with(&f, o, e_inactive_video, &res), 0);
    ASSERT_EQ(res.nbindings, 1);
    ASSERT(!leg_mid(&res.leg, "3")->send);
    /* The video goes to a new m-line, not back to the refused one. */
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 5);
    ASSERT_EQ(track_of(o, "4")->participant, P2);
    ASSERT(track_of(o, "3") == NULL);
    ASSERT_EQ(answer(&f, o, &res), 0);
    leave(&f);
    return 0;
}

TEST(mline_limit)
{
    fixture f;
    const sig_reneg_config cfg = config(4);
    ASSERT_EQ(join(&f, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    ASSERT_EQ(sig_reneg_add_track(f.r, P3, SFU_KIND_AUDIO, 0), SIG_RENEG_WAITING);
    ASSERT_EQ(sig_reneg_add_track(f.r, P3, SFU_KIND_VIDEO, 0), SIG_RENEG_WAITING);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 4);
    ASSERT_EQ(o->ntracks, 2);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT(!sig_reneg_poll_offer(f.r, SFU_SEC(2)));     /* nothing can change */
    ASSERT_EQ(sig_reneg_remove_participant(f.r, P2, SFU_SEC(3)), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(4), &o), 0);
    ASSERT_EQ(o->ntracks, 0);
    ASSERT_EQ(answer(&f, o, &res), 0);
    /* The freed m-lines take the waiting tracks, at once. */
    ASSERT_EQ(sig_reneg_timeout(f.r), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(4), &o), 0);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 4);
    ASSERT_EQ(track_of(o, "2")->participant, P3);
    ASSERT_EQ(track_of(o, "3")->participant, P3);
    ASSERT_EQ(answer(&f, o, &res), 0);
    leave(&f);
    return 0;
}

TEST(recvonly_join_reuses_its_mlines)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join_file(&f, "chromium156-whep-recvonly-offer.sdp", NULL, NULL, &cfg), 0);
    ASSERT_EQ(add_av(&f, P2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), 2);
    ASSERT_EQ(track_of(o, "0")->participant, P2);
    ASSERT_EQ(track_of(o, "1")->kind, SFU_KIND_VIDEO);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 2);
    ASSERT(leg_mid(&res.leg, "1")->send && !leg_mid(&res.leg, "1")->recv);
    leave(&f);
    return 0;
}

static const struct real_case {
    const char *file, *from, *to;
} real_cases[] = {
    { "chromium156-whip-publish-offer.sdp", "a=sendonly", "a=sendrecv" },
    { "chromium156-whip-publish-offer.sdp", NULL, NULL },
    { "chromium156-whip-publish-offer.sdp", "a=setup:actpass", "a=setup:passive" },
    { "chromium156-simulcast-publish-offer.sdp", "a=sendonly", "a=sendrecv" },
    { "chromium156-simulcast-qhf-publish-offer.sdp", "a=sendonly", "a=sendrecv" },
    { "firefox153-simulcast-publish-offer.sdp", NULL, NULL },
    { "obs-handwritten-simulcast-publish-offer.sdp", NULL, NULL },
    { "chromium156-whep-recvonly-offer.sdp", NULL, NULL },
    { "firefox99-sendrecv-offer.sdp", NULL, NULL },
    { "aiortc1.4-publish-offer.sdp", "a=sendonly", "a=sendrecv" },
    { "gstreamer1.22-webrtcbin-publish-offer.sdp", NULL, NULL },
    { "gstreamer1.22-webrtcbin-recvonly-offer.sdp", NULL, NULL },
    { "obs-whip-publish-offer.sdp", NULL, NULL },
    { "safari-handwritten-publish-offer.sdp", "a=sendonly", "a=sendrecv" },
};

TEST(real_offers_renegotiate)
{
    for (unsigned i = 0; i < 2 * SFU_ARRAY_LEN(real_cases); i++) {
        const struct real_case *c = &real_cases[i / 2];
        fixture f;
        sig_reneg_config cfg = config(0);
        cfg.simulcast = i % 2;  /* the switch off and on */
        if (join_file(&f, c->file, c->from, c->to, &cfg) != 0) {
            fprintf(stderr, "  case %s %s\n", c->file, c->to ? c->to : "");
            return 1;
        }
        sfu_time now = 0;
        for (uint32_t p = 1; p <= 3; p++) {
            ASSERT_EQ(add_av(&f, p, now), 0);
            const sig_reneg_offer *o;
            sig_reneg_result res;
            now += SFU_SEC(1);
            ASSERT_EQ(offer_now(&f, now, &o), 0);
            int rc = answer_with(&f, o, NULL, &res);
            if (rc)
                fprintf(stderr, "  case %s %s: rc %d\n", c->file, c->to ? c->to : "", rc);
            ASSERT_EQ(rc, 0);
            ASSERT_EQ(o->ntracks, 2 * p);
        }
        ASSERT_EQ(sig_reneg_remove_participant(f.r, 2, now), 0);
        const sig_reneg_offer *o;
        sig_reneg_result res;
        ASSERT_EQ(offer_now(&f, now + SFU_SEC(1), &o), 0);
        ASSERT_EQ(answer(&f, o, &res), 0);
        size_t len;
        char *re = rc_reoffer(&f.client, f.last, f.last_len, NULL, NULL, &len);
        char err[200];
        int rc = sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err);
        if (rc)
            fprintf(stderr, "  case %s: re-offer: %s\n", c->file, err);
        ASSERT_EQ(rc, 0);
        free(re);
        sig_reneg_result_deinit(&res);
        leave(&f);
    }
    return 0;
}

/* rc_edit: the client answers the simulcast m-line (mid 1) with a=simulcast
 * "send q;h" (it dropped f), or with a malformed one. */
static void answer_send_qh(sig_sdp *a)
{
    sig_sdp_media *m = (sig_sdp_media *)sig_sdp_find_mid(a, "1");
    m->nrids = 2;
    strcpy(m->rids[0].id, "q");
    strcpy(m->rids[1].id, "h");
    m->rids[0].send = m->rids[1].send = true;
    m->simulcast = true;
    strcpy(m->simulcast_value, "send q;h");
}

static void answer_send_bad(sig_sdp *a)
{
    answer_send_qh(a);
    strcpy(((sig_sdp_media *)sig_sdp_find_mid(a, "1"))->simulcast_value, "send q;;h");
}

/* A re-offer that sends q/h/f on mid 1 again. */
static void reoffer_qhf(sig_sdp *a)
{
    answer_send_qh(a);
    sig_sdp_media *m = (sig_sdp_media *)sig_sdp_find_mid(a, "1");
    m->nrids = 3;
    strcpy(m->rids[2].id, "f");
    m->rids[2].send = true;
    strcpy(m->simulcast_value, "send q;h;f");
}

static bool has_line(const char *sdp, const char *line)
{
    char want[128];
    snprintf(want, sizeof want, "\r\n%s\r\n", line);
    return strstr(sdp, want) != NULL;
}

/* A simulcast publisher in a room: its layers stay negotiated in every
 * server offer and answer (a=rid recv + a=simulcast:recv), follow what the
 * client answers, and come back with a re-offer; with the switch off none
 * of it appears. */
TEST(simulcast_publisher)
{
    for (int on = 0; on < 2; on++) {
        fixture f;
        sig_reneg_config cfg = config(0);
        cfg.simulcast = on;
        ASSERT_EQ(join_file(&f, "chromium156-simulcast-qhf-publish-offer.sdp", "a=sendonly", "a=sendrecv", &cfg), 0);
        ASSERT_EQ(has_line(f.first.sdp, "a=simulcast:recv q;h;f"), on);
        ASSERT_EQ(leg_mid(&f.first.leg, "1")->nlayers, on ? 3 : 0);
        sfu_leg_desc leg;
        sig_reneg_leg(f.r, &leg);
        ASSERT_EQ(leg_mid(&leg, "1")->nlayers, on ? 3 : 0);
        ASSERT_EQ(leg_mid(&leg, "1")->ext.rid, 10);        /* a=rid in a room: always */
        /* a server offer keeps the layers, and the client drops f */
        ASSERT_EQ(add_av(&f, 2, 0), 0);
        const sig_reneg_offer *o;
        sig_reneg_result res;
        ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
        ASSERT_EQ(has_line(o->sdp, "a=rid:q recv") && has_line(o->sdp, "a=rid:f recv"), on);
        ASSERT_EQ(has_line(o->sdp, "a=simulcast:recv q;h;f"), on);
        ASSERT(has_line(o->sdp, "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"));
        ASSERT_EQ(answer_with(&f, o, answer_send_qh, &res), 0);
        const sfu_track_desc *t = leg_mid(&res.leg, "1");
        ASSERT_EQ(t->nlayers, on ? 2 : 0);
        if (on) {
            ASSERT_STR_EQ(t->layers[0].rid, "q");
            ASSERT_STR_EQ(t->layers[1].rid, "h");
            ASSERT_EQ(t->remote_ssrc, 0);
        }
        ASSERT_EQ(leg_mid(&res.leg, "3")->nlayers, 0);      /* receive slots have none */
        /* the next offer says q;h; a malformed answer is refused, one
         * without a=simulcast means one stream */
        ASSERT_EQ(add_av(&f, 3, SFU_SEC(2)), 0);
        ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);
        ASSERT_EQ(has_line(o->sdp, "a=simulcast:recv q;h"), on);
        ASSERT_EQ(has_line(o->sdp, "a=rid:f recv"), false);
        ASSERT_EQ(answer_with(&f, o, answer_send_bad, &res), on ? -SFU_EMALFORMED : 0);
        if (on) {
            ASSERT_EQ(answer(&f, o, &res), 0);
            ASSERT_EQ(leg_mid(&res.leg, "1")->nlayers, 0);
            ASSERT_EQ(leg_mid(&res.leg, "1")->remote_ssrc, 7001);   /* the answer's a=ssrc */
        }
        /* a client re-offer with q/h/f is answered with them again */
        size_t len;
        char *re = rc_reoffer(&f.client, f.last, f.last_len, NULL, reoffer_qhf, &len);
        char err[200];
        int rc = sig_reneg_handle_client_offer(f.r, re, len, NULL, &res, err, sizeof err);
        if (rc)
            fprintf(stderr, "  re-offer: %s\n", err);
        ASSERT_EQ(rc, 0);
        ASSERT_EQ(has_line(res.sdp, "a=simulcast:recv q;h;f"), on);
        ASSERT_EQ(leg_mid(&res.leg, "1")->nlayers, on ? 3 : 0);
        free(re);
        sig_reneg_result_deinit(&res);
        leave(&f);
    }
    return 0;
}

TEST(bad_construction)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    sig_sdp *offer = rc_parse(f.first.sdp, f.first.sdp_len);
    ASSERT(offer != NULL);
    const sig_reneg_config nopick = { 0 };
    ASSERT(sig_reneg_new(offer, &f.first, &nopick) == NULL);
    offer->nmedia = 1;          /* does not match the answer */
    ASSERT(sig_reneg_new(offer, &f.first, &cfg) == NULL);
    sig_sdp_free(offer);
    leave(&f);
    return 0;
}

TEST_LIST(TEST_ENTRY(join_sendrecv_av), TEST_ENTRY(batched_offer_and_answer),
          TEST_ENTRY(answered_offer_text_freed), TEST_ENTRY(slot_state_sized_to_mlines), TEST_ENTRY(revisions_409),
          TEST_ENTRY(leave_goes_inactive_then_recycled), TEST_ENTRY(sdp_size_stable_over_50_cycles),
          TEST_ENTRY(changes_that_cancel_make_no_offer), TEST_ENTRY(mismatched_answers_400),
          TEST_ENTRY(client_refuses_an_mline), TEST_ENTRY(mline_limit), TEST_ENTRY(recvonly_join_reuses_its_mlines),
          TEST_ENTRY(real_offers_renegotiate), TEST_ENTRY(simulcast_publisher), TEST_ENTRY(bad_construction))
