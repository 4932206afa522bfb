#include "sfu/net/stun_responder.h"

#include <stun/usages/ice.h>

static const uint16_t stun_known[] = {
    STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_FINGERPRINT,
    STUN_ATTRIBUTE_PRIORITY, STUN_ATTRIBUTE_USE_CANDIDATE, STUN_ATTRIBUTE_ICE_CONTROLLED,
    STUN_ATTRIBUTE_ICE_CONTROLLING, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, 0,
};

/* A StunAgent is about 13 KB, nearly all of it the transaction ids of
 * requests it sent (STUN_AGENT_MAX_SAVED_IDS), and a responder sends none:
 * validating a request and building its reply read only the settings
 * below, the same for every session, so one agent per thread behaves as
 * one per session did (a response, which would need the ids, is UNMATCHED
 * either way). */
StunAgent *sfu_stun_responder(void)
{
    static __thread StunAgent agent;
    static __thread bool ready;
    if (!ready) {
        stun_agent_init(&agent, stun_known, STUN_COMPATIBILITY_RFC5389,
                        STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
        ready = true;
    }
    return &agent;
}

int sfu_stun_answer(StunMessage *req, int fd, const struct sockaddr *from, socklen_t fromlen)
{
    uint8_t out[1280];
    size_t outlen = sizeof out;
    StunMessage msg;
    bool control = false;
    if (stun_usage_ice_conncheck_create_reply(sfu_stun_responder(), req, &msg, out, &outlen,
                                              (const struct sockaddr_storage *)from, fromlen,
                                              &control, 0, STUN_USAGE_ICE_COMPATIBILITY_RFC5245) !=
        STUN_USAGE_ICE_RETURN_SUCCESS)
        return -1;
    sendto(fd, out, outlen, MSG_DONTWAIT, from, fromlen);
    return 0;
}
