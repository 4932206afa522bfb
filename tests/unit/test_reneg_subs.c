/* Large rooms in renegotiation (reneg.h): video subscriptions allocate
 * video m-lines only to the subscribed participants and reuse them as the
 * list changes; audio goes to slot m-lines when more than audio_slots others
 * publish it, and back. The fixture is tests/unit/reneg_fixture.h. */
#include "tests/unit/reneg_fixture.h"

#define PX(i) (0x20000000u + (i))

static unsigned count_kind(const sig_reneg_offer *o, sfu_kind kind)
{
    unsigned n = 0;
    for (unsigned i = 0; i < o->ntracks; i++)
        n += o->tracks[i].kind == kind;
    return n;
}

static const sig_reneg_track *video_of(const sig_reneg_offer *o, uint32_t p)
{
    for (unsigned i = 0; i < o->ntracks; i++)
        if (o->tracks[i].kind == SFU_KIND_VIDEO && o->tracks[i].participant == p)
            return &o->tracks[i];
    return NULL;
}

static unsigned video_mlines(const sig_reneg_offer *o)
{
    sig_sdp *s = rc_parse(o->sdp, o->sdp_len);
    unsigned n = 0;
    for (unsigned i = 0; s && i < s->nmedia; i++)
        n += s->media[i].kind == SIG_SDP_VIDEO && s->media[i].port != 0;
    sig_sdp_free(s);
    return n;
}

/* Each step sets the subscription list (or leaves it, `keep`), then offers
 * and answers until nothing is left to offer; then the session must receive
 * exactly `want` (video) on at most `max_video_mlines` video m-lines, the
 * client's own included. */
typedef struct sub_step {
    const char *name;
    bool keep, on;
    uint32_t subs[8];
    unsigned nsubs;
    uint32_t want[8];
    unsigned nwant;
    unsigned max_video_mlines;
    unsigned max_offers;        /* offer/answer rounds it may take */
} sub_step;

static const sub_step steps[] = {
    { "default: everyone's video", true, false, { 0 }, 0,
      { PX(1), PX(2), PX(3), PX(4), PX(5), PX(6) }, 6, 7, 1 },
    { "two tiles: the other four m-lines go inactive", false, true, { PX(1), PX(2) }, 2,
      { PX(1), PX(2) }, 2, 7, 1 },
    { "swap one tile: reuses a freed m-line, no new one", false, true, { PX(5), PX(2) }, 2,
      { PX(5), PX(2) }, 2, 7, 1 },
    { "unknown and duplicate participants are ignored", false, true, { PX(3), 0x7777, PX(3) }, 3,
      { PX(3) }, 1, 7, 2 },
    { "no tiles", false, true, { 0 }, 0, { 0 }, 0, 7, 1 },
    { "back to the default", false, false, { 0 }, 0,
      { PX(1), PX(2), PX(3), PX(4), PX(5), PX(6) }, 6, 7, 1 },
};

TEST(subscriptions_table)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    for (uint32_t i = 1; i <= 6; i++)
        ASSERT_EQ(add_av(&f, PX(i), 0), 0);
    sfu_time now = SFU_SEC(1);
    const sig_reneg_offer *o = NULL;
    sig_reneg_result res;
    for (unsigned k = 0; k < SFU_ARRAY_LEN(steps); k++) {
        const sub_step *st = &steps[k];
        if (!st->keep)
            ASSERT_EQ(sig_reneg_set_subscriptions(f.r, st->on, st->subs, st->nsubs, now), 0);
        unsigned rounds = 0;
        while (now += SFU_SEC(1), sig_reneg_poll_offer(f.r, now)) {
            ASSERT_EQ(offer_now(&f, now, &o), 0);
            ASSERT_EQ(answer(&f, o, &res), 0);
            rounds++;
            if (video_mlines(o) > st->max_video_mlines)
                fprintf(stderr, "  step \"%s\": %u video m-lines\n", st->name, video_mlines(o));
            ASSERT_LE(video_mlines(o), st->max_video_mlines);
        }
        if (count_kind(o, SFU_KIND_VIDEO) != st->nwant || rounds > st->max_offers)
            fprintf(stderr, "  step \"%s\": %u video tracks in %u rounds\n", st->name,
                    count_kind(o, SFU_KIND_VIDEO), rounds);
        ASSERT_LE(rounds, st->max_offers);
        ASSERT_EQ(count_kind(o, SFU_KIND_VIDEO), st->nwant);
        for (unsigned i = 0; i < st->nwant; i++)
            ASSERT(video_of(o, st->want[i]) != NULL);
        ASSERT_EQ(count_kind(o, SFU_KIND_AUDIO), 6u);    /* audio is not subscribed */
    }
    leave(&f);
    return 0;
}

/* The m-line a participant leaves is the one the next subscription takes,
 * after the client has answered the offer that made it inactive: the SDP
 * never grows past the largest list. */
TEST(subscription_swap_reuses_the_mline)
{
    fixture f;
    const sig_reneg_config cfg = config(0);
    ASSERT_EQ(join(&f, &cfg), 0);
    for (uint32_t i = 1; i <= 4; i++)
        ASSERT_EQ(add_av(&f, PX(i), 0), 0);
    uint32_t two[2] = { PX(1), PX(2) };
    ASSERT_EQ(sig_reneg_set_subscriptions(f.r, true, two, 2, 0), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT_EQ(count_kind(o, SFU_KIND_VIDEO), 2u);
    char mid1[SFU_MID_MAX];
    snprintf(mid1, sizeof mid1, "%s", video_of(o, PX(1))->mid);
    int nmlines = count_mlines(o->sdp, o->sdp_len);   /* before the answer frees the text */
    ASSERT_EQ(answer(&f, o, &res), 0);
    uint32_t swapped[2] = { PX(4), PX(2) };
    ASSERT_EQ(sig_reneg_set_subscriptions(f.r, true, swapped, 2, SFU_SEC(2)), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);
    ASSERT_EQ(count_kind(o, SFU_KIND_VIDEO), 1u);       /* PX(1) gone, PX(4) waits */
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), nmlines);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);        /* at once after the answer */
    ASSERT_STR_EQ(video_of(o, PX(4))->mid, mid1);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), nmlines);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(res.nbindings, 1);
    ASSERT_EQ(res.bindings[0].participant, PX(4));
    ASSERT_STR_EQ(res.bindings[0].mid, mid1);
    ASSERT(leg_mid(&res.leg, mid1)->send);
    (void)rc_reoffer;   /* the fixture's, for test_reneg_reoffer.c */
    uint32_t many[SIG_RENEG_MAX_SUBS + 1] = { 0 };
    ASSERT_EQ(sig_reneg_set_subscriptions(f.r, true, many, SIG_RENEG_MAX_SUBS + 1, 0), -SFU_EINVAL);
    leave(&f);
    return 0;
}

static unsigned slot_tracks(const sig_reneg_offer *o)
{
    unsigned n = 0;
    for (unsigned i = 0; i < o->ntracks; i++)
        n += sfu_is_audio_slot(o->tracks[i].participant);
    return n;
}

/* Audio slots: more than audio_slots others with audio -> that many slot
 * m-lines; back to one per participant once fewer than audio_slots remain. */
TEST(audio_slots_enter_and_leave)
{
    fixture f;
    sig_reneg_config cfg = config(0);
    cfg.audio_slots = 2;
    ASSERT_EQ(join(&f, &cfg), 0);
    const sig_reneg_offer *o;
    sig_reneg_result res;
    ASSERT_EQ(add_av(&f, PX(1), 0), 0);
    ASSERT_EQ(add_av(&f, PX(2), 0), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(1), &o), 0);
    ASSERT(!sig_reneg_audio_slotted(f.r));
    ASSERT_EQ(count_kind(o, SFU_KIND_AUDIO), 2u);
    ASSERT_EQ(slot_tracks(o), 0u);
    ASSERT_EQ(answer(&f, o, &res), 0);
    /* A third: slots. The per-participant audio m-lines go inactive, the
     * slots take new ones (the drained ones are reused later). */
    ASSERT_EQ(add_av(&f, PX(3), SFU_SEC(2)), 0);
    ASSERT(sig_reneg_audio_slotted(f.r));
    ASSERT_EQ(offer_now(&f, SFU_SEC(3), &o), 0);
    ASSERT_EQ(count_kind(o, SFU_KIND_AUDIO), 2u);
    ASSERT_EQ(slot_tracks(o), 2u);
    ASSERT(strstr(o->sdp, "a=msid:slots audio-") != NULL);
    int mlines = count_mlines(o->sdp, o->sdp_len);     /* before the answer frees the text */
    ASSERT_EQ(answer(&f, o, &res), 0);
    unsigned slot_binds = 0;
    for (unsigned i = 0; i < res.nbindings; i++)
        slot_binds += sfu_is_audio_slot(res.bindings[i].participant);
    ASSERT_EQ(slot_binds, 2u);
    /* Many more: still two audio m-lines, no new m-line for their audio. */
    for (uint32_t i = 4; i <= 9; i++)
        ASSERT_EQ(add_av(&f, PX(i), SFU_SEC(4)), 0);
    ASSERT_EQ(offer_now(&f, SFU_SEC(5), &o), 0);
    ASSERT_EQ(count_kind(o, SFU_KIND_AUDIO), 2u);
    ASSERT_EQ(count_mlines(o->sdp, o->sdp_len), mlines + 6);  /* their video only */
    ASSERT_EQ(answer(&f, o, &res), 0);
    /* Down to 2 others: still slots (hysteresis); down to 1: one per participant. */
    for (uint32_t i = 3; i <= 9; i++)
        ASSERT_EQ(sig_reneg_remove_participant(f.r, PX(i), SFU_SEC(6)), 0);
    ASSERT(sig_reneg_audio_slotted(f.r));
    ASSERT_EQ(offer_now(&f, SFU_SEC(7), &o), 0);
    ASSERT_EQ(slot_tracks(o), 2u);
    ASSERT_EQ(answer(&f, o, &res), 0);
    ASSERT_EQ(sig_reneg_remove_participant(f.r, PX(2), SFU_SEC(8)), 0);
    ASSERT(!sig_reneg_audio_slotted(f.r));
    sfu_time now = SFU_SEC(9);
    for (int round = 0; round < 3 && sig_reneg_poll_offer(f.r, now); round++, now += SFU_SEC(1)) {
        ASSERT_EQ(offer_now(&f, now, &o), 0);
        ASSERT_EQ(answer(&f, o, &res), 0);
    }
    ASSERT_EQ(slot_tracks(o), 0u);
    ASSERT_EQ(count_kind(o, SFU_KIND_AUDIO), 1u);
    ASSERT(!sig_reneg_poll_offer(f.r, now));
    leave(&f);
    return 0;
}

TEST_LIST(TEST_ENTRY(subscriptions_table), TEST_ENTRY(subscription_swap_reuses_the_mline),
          TEST_ENTRY(audio_slots_enter_and_leave))
