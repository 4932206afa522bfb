/* The ICE shell (sfu/net/ice.c) against a client made of plain UDP sockets
 * and libnice's own STUN library, on loopback, in milliseconds: the client
 * nominates a pair, then a second one of higher priority from another port
 * (as a client whose address changed would), and the SFU's direct send path
 * must follow each newly selected pair at once. */
#include "tests/test.h"

#include "sfu/net/ice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENT_UFRAG "cliA"
#define CLIENT_PWD "client-password-0123456789"

typedef struct client_sock {
    int fd;
    uint32_t priority;
    char got[64];               /* the last non-STUN datagram received */
    int ngot;
} client_sock;

typedef struct rig {
    GMainContext *ctx;
    sfu_ice *ice;
    sfu_ice_state state;
    int states, paths;
    StunAgent stun;
    struct sockaddr_in sfu;
    char user_out[128];         /* USERNAME of our checks: "sfu:client" */
    client_sock *watch;         /* for got_data */
} rig;

static void on_data(void *user, uint8_t *data, size_t len) { (void)user, (void)data, (void)len; }

static void on_state(void *user, sfu_ice_state state)
{
    rig *r = user;
    r->state = state;
    r->states++;
}

static void on_path(void *user) { ((rig *)user)->paths++; }

static bool validate(StunAgent *agent, StunMessage *message, uint8_t *username,
                     uint16_t username_len, uint8_t **password, size_t *password_len,
                     void *user_data)
{
    (void)agent, (void)message, (void)user_data;
    size_t n = strlen(CLIENT_UFRAG ":");
    if (username_len < n || memcmp(username, CLIENT_UFRAG ":", n) != 0)
        return false;
    *password = (uint8_t *)CLIENT_PWD;
    *password_len = strlen(CLIENT_PWD);
    return true;
}

static int sock_open(client_sock *c, uint32_t priority)
{
    memset(c, 0, sizeof *c);
    c->priority = priority;
    c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    return c->fd >= 0 && bind(c->fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -1;
}

/* A nominating check (USE-CANDIDATE, ICE-CONTROLLING), signed with the
 * SFU's password, as a controlling full agent sends it. */
static void send_check(rig *r, client_sock *c, const char *sfu_pwd)
{
    uint8_t buf[1024];
    StunMessage msg;
    size_t n = stun_usage_ice_conncheck_create(
        &r->stun, &msg, buf, sizeof buf, (const uint8_t *)r->user_out, strlen(r->user_out),
        (const uint8_t *)sfu_pwd, strlen(sfu_pwd), true, true, c->priority, 0x1234567890ULL,
        NULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    if (n > 0)
        sendto(c->fd, buf, n, 0, (struct sockaddr *)&r->sfu, sizeof r->sfu);
}

/* Answers libnice's own checks (triggered and consent) and keeps the last
 * datagram that is not STUN. */
static void client_read(rig *r, client_sock *c)
{
    uint8_t buf[1500], out[1024];
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    ssize_t n;
    while ((n = recvfrom(c->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen)) > 0) {
        StunMessage req, msg;
        if (stun_message_validate_buffer_length(buf, (size_t)n, true) != (int)n) {
            c->ngot++;
            size_t m = (size_t)n < sizeof c->got - 1 ? (size_t)n : sizeof c->got - 1;
            memcpy(c->got, buf, m);
            c->got[m] = '\0';
            continue;
        }
        if (stun_agent_validate(&r->stun, &req, buf, (size_t)n, validate, NULL) !=
                STUN_VALIDATION_SUCCESS ||
            stun_message_get_class(&req) != STUN_REQUEST)
            continue;   /* responses to our checks need no answer */
        size_t len = sizeof out;
        bool control = true;
        if (stun_usage_ice_conncheck_create_reply(&r->stun, &req, &msg, out, &len, &from,
                                                  fromlen, &control, 0x1234567890ULL,
                                                  STUN_USAGE_ICE_COMPATIBILITY_RFC5245) ==
            STUN_USAGE_ICE_RETURN_SUCCESS)
            sendto(c->fd, out, len, 0, (struct sockaddr *)&from, fromlen);
        fromlen = sizeof from;
    }
}

/* Runs the SFU's loop and the client for up to `ms`, checking from `c`
 * every 20 ms, until `done` holds. */
static bool pump(rig *r, client_sock *socks, int nsocks, client_sock *c, const char *sfu_pwd,
                 bool (*done)(rig *), int ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000, next_check = 0;
    while (g_get_monotonic_time() < end) {
        if (c && g_get_monotonic_time() >= next_check) {
            send_check(r, c, sfu_pwd);
            next_check = g_get_monotonic_time() + 20000;
        }
        while (g_main_context_iteration(r->ctx, FALSE))
            ;
        for (int i = 0; i < nsocks; i++)
            client_read(r, &socks[i]);
        if (done(r))
            return true;
        poll(NULL, 0, 1);
    }
    return false;
}

static bool connected(rig *r) { return r->state == SFU_ICE_CONNECTED; }
static bool path_changed(rig *r) { return r->paths > 0; }
static bool got_data(rig *r) { return r->watch->ngot > 0; }
static bool never(rig *r) { (void)r; return false; }

TEST(send_follows_new_pair)
{
    rig r = { 0 };
    r.ctx = g_main_context_new();
    static const char *const addrs[] = { "127.0.0.1" };
    sfu_ice_config cfg = { .gather_addrs = addrs, .naddrs = 1 };
    sfu_ice_callbacks cb = { .on_data = on_data, .on_state = on_state, .on_path = on_path };
    char err[128] = "";
    r.ice = sfu_ice_new(r.ctx, &cfg, &cb, &r, err, sizeof err);
    if (!r.ice)
        fprintf(stderr, "  sfu_ice_new: %s\n", err);
    ASSERT(r.ice);
    const char *ufrag, *pwd;
    sfu_ice_local_credentials(r.ice, &ufrag, &pwd);
    snprintf(r.user_out, sizeof r.user_out, "%s:%s", ufrag, CLIENT_UFRAG);
    sfu_ice_candidate cand;
    ASSERT_EQ(sfu_ice_local_candidates(r.ice, &cand, 1), 1);
    r.sfu = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(cand.port) };
    inet_pton(AF_INET, cand.addr, &r.sfu.sin_addr);
    ASSERT_EQ(sfu_ice_set_remote_credentials(r.ice, CLIENT_UFRAG, CLIENT_PWD), 0);
    stun_agent_init(&r.stun, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);

    client_sock s[2];
    ASSERT_EQ(sock_open(&s[0], 1000), 0);
    ASSERT_EQ(sock_open(&s[1], 2000), 0);   /* higher priority: libnice must move to it */
    ASSERT_EQ(sfu_ice_send(r.ice, (const uint8_t *)"early", 5), -1);   /* no pair yet */

    /* First path: nominated from s[0]; media goes there. */
    ASSERT(pump(&r, s, 2, &s[0], pwd, connected, 3000));
    ASSERT_EQ(r.paths, 0);                  /* the first pair is no change */
    ASSERT_EQ(sfu_ice_send(r.ice, (const uint8_t *)"media-1", 7), 7);
    r.watch = &s[0];
    ASSERT(pump(&r, s, 2, NULL, pwd, got_data, 1000));
    ASSERT_STR_EQ(s[0].got, "media-1");
    ASSERT_EQ(s[1].ngot, 0);

    /* The client's address changes: s[1] nominates; the next send, made
     * right when the SFU learns of the new pair, goes there only. */
    ASSERT(pump(&r, s, 2, &s[1], pwd, path_changed, 3000));
    ASSERT_EQ(r.paths, 1);
    ASSERT_EQ(r.state, SFU_ICE_CONNECTED);
    ASSERT_EQ(sfu_ice_send(r.ice, (const uint8_t *)"media-2", 7), 7);
    r.watch = &s[1];
    ASSERT(pump(&r, s, 2, NULL, pwd, got_data, 1000));
    pump(&r, s, 2, NULL, pwd, never, 100);   /* anything stray would show on s[0] */
    ASSERT_EQ(s[1].ngot, 1);
    ASSERT_STR_EQ(s[1].got, "media-2");
    ASSERT_EQ(s[0].ngot, 1);                /* nothing more on the old path */
    char remote[80];
    sfu_ice_remote_address(r.ice, remote, sizeof remote);
    struct sockaddr_in b;
    socklen_t blen = sizeof b;
    getsockname(s[1].fd, (struct sockaddr *)&b, &blen);
    char want[80];
    snprintf(want, sizeof want, "127.0.0.1:%u", ntohs(b.sin_port));
    ASSERT_STR_EQ(remote, want);

    sfu_ice_free(r.ice);
    close(s[0].fd);
    close(s[1].fd);
    while (g_main_context_iteration(r.ctx, FALSE))
        ;
    g_main_context_unref(r.ctx);
    return 0;
}

TEST_LIST(TEST_ENTRY(send_follows_new_pair))
