/* The ICE shell (sfu/net/ice.c) against a client made of plain UDP sockets
 * and libnice's own STUN library, on loopback, in milliseconds: the client
 * nominates a pair, then a second one of higher priority from another port
 * (as a client whose address changed would), and the SFU's direct send path
 * must follow each newly selected pair at once. ICE restarts: whichever
 * order the client uses, the old generation keeps answering until the new
 * one (on a port of its own) selects a pair, then media moves there. */
#include "tests/test.h"

#include "sfu/net/ice.h"
#include "sfu/net/worker.h"

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
    uint16_t got_from;          /* the SFU port it came from */
    int nanswers;               /* success responses to our checks */
} client_sock;

typedef struct rig {
    GMainContext *ctx;
    sfu_worker *worker;         /* the fast path's: iterated instead of ctx */
    sfu_ice *ice;
    sfu_ice_state state;
    int states, paths;
    StunAgent stun;
    struct sockaddr_in sfu;
    char user_out[128];         /* USERNAME of our checks: "sfu:client" */
    const char *client_ufrag, *client_pwd;  /* what the SFU's checks must use */
    client_sock *watch;         /* for got_data */
    int ndata;                  /* datagrams handed to on_data */
} rig;

static void on_data(void *user, uint8_t *data, size_t len)
{
    (void)data, (void)len;
    ((rig *)user)->ndata++;
}

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
    (void)agent, (void)message;
    rig *r = user_data;
    size_t n = strlen(r->client_ufrag);
    if (username_len <= n || memcmp(username, r->client_ufrag, n) != 0 || username[n] != ':')
        return false;
    *password = (uint8_t *)r->client_pwd;
    *password_len = strlen(r->client_pwd);
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
            c->got_from = ntohs(((struct sockaddr_in *)&from)->sin_port);
            size_t m = (size_t)n < sizeof c->got - 1 ? (size_t)n : sizeof c->got - 1;
            memcpy(c->got, buf, m);
            c->got[m] = '\0';
            continue;
        }
        if (stun_message_get_class(&(StunMessage){ .buffer = buf, .buffer_len = (size_t)n }) ==
            STUN_RESPONSE) {
            c->nanswers++;      /* a success response to one of our checks */
            continue;
        }
        if (stun_agent_validate(&r->stun, &req, buf, (size_t)n, validate, r) !=
                STUN_VALIDATION_SUCCESS ||
            stun_message_get_class(&req) != STUN_REQUEST)
            continue;
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
        if (r->worker)
            sfu_worker_iterate(r->worker);
        else
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
static bool parked(rig *r) { return sfu_ice_parked(r->ice); }
static bool unparked(rig *r) { return !sfu_ice_parked(r->ice); }
static bool answered(rig *r) { return r->watch->nanswers > 0; }
static bool data_in(rig *r) { return r->ndata > 0; }

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
    r.client_ufrag = CLIENT_UFRAG;
    r.client_pwd = CLIENT_PWD;
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


#define CLIENT2_UFRAG "cliB"
#define CLIENT2_PWD "client-password-generation2"

/* A connected rig: the client's first socket nominated the first pair. */
static int rig_connect(rig *r, client_sock *s, int nsocks, uint16_t port, const char **pwd)
{
    memset(r, 0, sizeof *r);
    r->ctx = g_main_context_new();
    static const char *const addrs[] = { "127.0.0.1" };
    sfu_ice_config cfg = { .gather_addrs = addrs, .naddrs = 1, .port_min = port,
                           .port_max = port };
    sfu_ice_callbacks cb = { .on_data = on_data, .on_state = on_state, .on_path = on_path };
    char err[128] = "";
    r->ice = sfu_ice_new(r->ctx, &cfg, &cb, r, err, sizeof err);
    if (!r->ice)
        return -1;
    const char *ufrag;
    sfu_ice_local_credentials(r->ice, &ufrag, pwd);
    snprintf(r->user_out, sizeof r->user_out, "%s:%s", ufrag, CLIENT_UFRAG);
    sfu_ice_candidate cand;
    if (sfu_ice_local_candidates(r->ice, &cand, 1) != 1)
        return -1;
    r->sfu = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(cand.port) };
    inet_pton(AF_INET, cand.addr, &r->sfu.sin_addr);
    sfu_ice_set_remote_credentials(r->ice, CLIENT_UFRAG, CLIENT_PWD);
    r->client_ufrag = CLIENT_UFRAG;
    r->client_pwd = CLIENT_PWD;
    stun_agent_init(&r->stun, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    for (int i = 0; i < nsocks; i++)
        if (sock_open(&s[i], 1000u * (unsigned)(i + 1)) != 0)
            return -1;
    return pump(r, s, nsocks, &s[0], *pwd, connected, 3000) ? 0 : -1;
}

static void rig_free(rig *r, client_sock *s, int nsocks)
{
    sfu_ice_free(r->ice);
    for (int i = 0; i < nsocks; i++)
        close(s[i].fd);
    while (g_main_context_iteration(r->ctx, FALSE))
        ;
    g_main_context_unref(r->ctx);
}

/* Sends one datagram and returns the SFU port it arrived from at `c`, or 0. */
static uint16_t media_port(rig *r, client_sock *s, int nsocks, client_sock *c, const char *what)
{
    int before = c->ngot;
    if (sfu_ice_send(r->ice, (const uint8_t *)what, strlen(what)) != (int)strlen(what))
        return 0;
    r->watch = c;
    gint64 end = g_get_monotonic_time() + 1000000;
    while (c->ngot == before && g_get_monotonic_time() < end)
        pump(r, s, nsocks, NULL, NULL, got_data, 20);
    return c->ngot > before && strcmp(c->got, what) == 0 ? c->got_from : 0;
}

/* Points the client's checks at the restart's generation. */
static void use_new_generation(rig *r, const char **pwd)
{
    const char *ufrag;
    sfu_ice_local_credentials(r->ice, &ufrag, pwd);
    snprintf(r->user_out, sizeof r->user_out, "%s:%s", ufrag, CLIENT2_UFRAG);
    sfu_ice_candidate cand;
    sfu_ice_local_candidates(r->ice, &cand, 1);
    r->sfu.sin_port = htons(cand.port);
    r->client_ufrag = CLIENT2_UFRAG;
    r->client_pwd = CLIENT2_PWD;
}

static bool connected_with_pair(rig *r)
{
    char remote[80];
    sfu_ice_remote_address(r->ice, remote, sizeof remote);
    return r->state == SFU_ICE_CONNECTED && remote[0];
}

/* What Chromium does when it restarts and gathers before it has the answer
 * (a non-trickle WHEP client): it checks the OLD generation from its new
 * address, selects that pair, and only later checks the new generation. The
 * old credentials must keep working through the restart; the new pair then
 * takes the media, from the new generation's own port. */
TEST(restart_old_generation_first)
{
    rig r;
    client_sock s[2];
    const char *pwd1, *pwd2;
    ASSERT_EQ(rig_connect(&r, s, 2, 0, &pwd1), 0);
    char old_pwd[64];       /* pwd1 goes with its generation */
    snprintf(old_pwd, sizeof old_pwd, "%s", pwd1);
    uint16_t port1 = ntohs(r.sfu.sin_port);
    ASSERT_EQ(media_port(&r, s, 2, &s[0], "gen1-a"), port1);

    /* New address, old generation (before the PATCH is answered). */
    ASSERT(pump(&r, s, 2, &s[1], pwd1, path_changed, 3000));
    ASSERT_EQ(media_port(&r, s, 2, &s[1], "gen1-b"), port1);

    /* The PATCH: a second generation on a port of its own. */
    ASSERT_EQ(sfu_ice_restart(r.ice, NULL, NULL, CLIENT2_UFRAG, CLIENT2_PWD), 0);
    ASSERT_EQ(sfu_ice_generations(r.ice), 2u);
    ASSERT_EQ(sfu_ice_restarts_in_place(r.ice), 0u);
    const char *ufrag2;
    sfu_ice_local_credentials(r.ice, &ufrag2, &pwd2);
    ASSERT(strcmp(pwd2, pwd1) != 0);
    sfu_ice_candidate cand2;
    ASSERT_EQ(sfu_ice_local_candidates(r.ice, &cand2, 1), 1);
    ASSERT(cand2.port != port1);

    /* The client still checks the old generation: it is still answered,
     * and media still flows there. */
    s[1].nanswers = 0;
    r.watch = &s[1];
    ASSERT(pump(&r, s, 2, &s[1], pwd1, answered, 2000));
    ASSERT_EQ(r.state, SFU_ICE_CONNECTED);
    ASSERT_EQ(media_port(&r, s, 2, &s[1], "gen1-c"), port1);

    /* Then the new generation: its first pair takes over at once. */
    use_new_generation(&r, &pwd2);
    r.paths = 0;
    ASSERT(pump(&r, s, 2, &s[1], pwd2, path_changed, 3000));
    ASSERT_EQ(r.paths, 1);                  /* a new generation is a new path */
    ASSERT_EQ(sfu_ice_generations(r.ice), 1u);
    ASSERT_EQ(r.state, SFU_ICE_CONNECTED);
    ASSERT_EQ(media_port(&r, s, 2, &s[1], "gen2-a"), cand2.port);

    /* The old generation is gone: its port no longer answers. */
    r.sfu.sin_port = htons(port1);
    snprintf(r.user_out, sizeof r.user_out, "%s:%s", "x", CLIENT_UFRAG);
    s[0].nanswers = 0;
    r.watch = &s[0];
    ASSERT(!pump(&r, s, 2, &s[0], old_pwd, answered, 200));
    rig_free(&r, s, 2);
    return 0;
}

/* The other order: the PATCH (or re-offer) is answered before any check,
 * and the client checks the new generation only, from a new address. */
TEST(restart_answer_first)
{
    rig r;
    client_sock s[2];
    const char *pwd1, *pwd2;
    ASSERT_EQ(rig_connect(&r, s, 2, 0, &pwd1), 0);
    uint16_t port1 = ntohs(r.sfu.sin_port);
    ASSERT_EQ(sfu_ice_restart(r.ice, "srvB", "server-password-generation2", NULL, NULL), 0);
    /* Remote credentials later, as a room re-offer sets them. */
    ASSERT_EQ(sfu_ice_set_remote_credentials(r.ice, CLIENT2_UFRAG, CLIENT2_PWD), 0);
    const char *ufrag2;
    sfu_ice_local_credentials(r.ice, &ufrag2, &pwd2);
    ASSERT_STR_EQ(ufrag2, "srvB");
    ASSERT_STR_EQ(pwd2, "server-password-generation2");
    /* Until the new generation has a pair, media stays on the old one. */
    ASSERT_EQ(media_port(&r, s, 2, &s[0], "gen1"), port1);
    use_new_generation(&r, &pwd2);
    ASSERT(pump(&r, s, 2, &s[1], pwd2, path_changed, 3000));
    ASSERT_EQ(sfu_ice_generations(r.ice), 1u);
    uint16_t port2 = ntohs(r.sfu.sin_port);
    ASSERT(port2 != port1);
    ASSERT_EQ(media_port(&r, s, 2, &s[1], "gen2"), port2);
    char remote[80], want[80];
    sfu_ice_remote_address(r.ice, remote, sizeof remote);
    struct sockaddr_in b;
    socklen_t blen = sizeof b;
    getsockname(s[1].fd, (struct sockaddr *)&b, &blen);
    snprintf(want, sizeof want, "127.0.0.1:%u", ntohs(b.sin_port));
    ASSERT_STR_EQ(remote, want);
    rig_free(&r, s, 2);
    return 0;
}

/* A restart whose signaling failed is dropped; a restart of a restart that
 * never selected a pair replaces it; the current generation goes on. */
TEST(restart_cancel_and_replace)
{
    rig r;
    client_sock s[1];
    const char *pwd1, *pwd;
    ASSERT_EQ(rig_connect(&r, s, 1, 0, &pwd1), 0);
    const char *ufrag1;
    sfu_ice_local_credentials(r.ice, &ufrag1, &pwd1);
    char ufrag1_copy[64];
    snprintf(ufrag1_copy, sizeof ufrag1_copy, "%s", ufrag1);
    ASSERT_EQ(sfu_ice_restart(r.ice, "srvB", "server-password-generation2", NULL, NULL), 0);
    ASSERT_EQ(sfu_ice_generations(r.ice), 2u);
    sfu_ice_restart_cancel(r.ice);
    ASSERT_EQ(sfu_ice_generations(r.ice), 1u);
    const char *u;
    sfu_ice_local_credentials(r.ice, &u, &pwd);
    ASSERT_STR_EQ(u, ufrag1_copy);
    sfu_ice_restart_cancel(r.ice);          /* nothing pending: no-op */
    ASSERT_EQ(sfu_ice_generations(r.ice), 1u);
    ASSERT_EQ(sfu_ice_restart(r.ice, "srvB", "server-password-generation2", NULL, NULL), 0);
    ASSERT_EQ(sfu_ice_restart(r.ice, "srvC", "server-password-generation3", NULL, NULL), 0);
    ASSERT_EQ(sfu_ice_generations(r.ice), 2u);
    sfu_ice_local_credentials(r.ice, &u, &pwd);
    ASSERT_STR_EQ(u, "srvC");
    ASSERT_EQ(r.state, SFU_ICE_CONNECTED);
    ASSERT_EQ(media_port(&r, s, 1, &s[0], "still"), ntohs(r.sfu.sin_port));
    rig_free(&r, s, 1);
    return 0;
}

/* A UDP port free right now. */
static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* A port range of one: no port for a second generation, so the restart
 * happens in place; new credentials on the same port then work. */
TEST(restart_in_place_without_port)
{
    rig r;
    client_sock s[1];
    const char *pwd1, *pwd2;
    uint16_t port = free_port();
    ASSERT(port != 0);
    ASSERT_EQ(rig_connect(&r, s, 1, port, &pwd1), 0);
    ASSERT_EQ(ntohs(r.sfu.sin_port), port);
    ASSERT_EQ(sfu_ice_restart(r.ice, "srvB", "server-password-generation2", CLIENT2_UFRAG,
                              CLIENT2_PWD), 0);
    ASSERT_EQ(sfu_ice_generations(r.ice), 1u);
    ASSERT_EQ(sfu_ice_restarts_in_place(r.ice), 1u);
    use_new_generation(&r, &pwd2);
    ASSERT_STR_EQ(pwd2, "server-password-generation2");
    ASSERT_EQ(ntohs(r.sfu.sin_port), port);
    ASSERT(pump(&r, s, 1, &s[0], pwd2, connected_with_pair, 3000));
    ASSERT_EQ(media_port(&r, s, 1, &s[0], "in-place"), port);
    rig_free(&r, s, 1);
    return 0;
}

/* The fast receive path: with a worker, the selected UDP socket leaves
 * libnice's polling for the worker's epoll set; the responder answers the
 * client's checks on it, passes datagrams from the selected address only,
 * and hands the socket back to libnice for a check it must not judge (here:
 * wrong credentials); the next selected pair is parked again. */
TEST(parked_responder)
{
    sfu_worker *w = sfu_worker_new(0, 64, 64);
    ASSERT(w);
    rig r = { .worker = w };
    r.ctx = sfu_worker_context(w);
    static const char *const addrs[] = { "127.0.0.1" };
    sfu_ice_config cfg = { .gather_addrs = addrs, .naddrs = 1 };
    sfu_ice_callbacks cb = { .on_data = on_data, .on_state = on_state, .on_path = on_path };
    char err[128] = "";
    r.ice = sfu_ice_new(r.ctx, &cfg, &cb, &r, err, sizeof err);
    ASSERT(r.ice);
    sfu_ice_use_worker(r.ice, w);
    const char *ufrag, *pwd;
    sfu_ice_local_credentials(r.ice, &ufrag, &pwd);
    snprintf(r.user_out, sizeof r.user_out, "%s:%s", ufrag, CLIENT_UFRAG);
    sfu_ice_candidate cand;
    ASSERT_EQ(sfu_ice_local_candidates(r.ice, &cand, 1), 1);
    r.sfu = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(cand.port) };
    inet_pton(AF_INET, cand.addr, &r.sfu.sin_addr);
    ASSERT_EQ(sfu_ice_set_remote_credentials(r.ice, CLIENT_UFRAG, CLIENT_PWD), 0);
    r.client_ufrag = CLIENT_UFRAG;
    r.client_pwd = CLIENT_PWD;
    stun_agent_init(&r.stun, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    client_sock s[2];
    ASSERT_EQ(sock_open(&s[0], 1000), 0);
    ASSERT_EQ(sock_open(&s[1], 2000), 0);

    ASSERT(pump(&r, s, 2, &s[0], pwd, connected, 3000));
    ASSERT(pump(&r, s, 2, NULL, pwd, parked, 1000));

    /* A consent check on the parked socket: answered by the responder. */
    s[0].nanswers = 0;
    r.watch = &s[0];
    ASSERT(pump(&r, s, 2, &s[0], pwd, answered, 1000));
    ASSERT(sfu_ice_parked(r.ice));
    ASSERT_EQ(r.state, SFU_ICE_CONNECTED);

    /* Media from the selected address reaches on_data; from another, not. */
    sendto(s[1].fd, "stray", 5, 0, (struct sockaddr *)&r.sfu, sizeof r.sfu);
    pump(&r, s, 2, NULL, pwd, never, 50);
    ASSERT_EQ(r.ndata, 0);
    sendto(s[0].fd, "media", 5, 0, (struct sockaddr *)&r.sfu, sizeof r.sfu);
    ASSERT(pump(&r, s, 2, NULL, pwd, data_in, 1000));
    ASSERT_EQ(r.ndata, 1);
    ASSERT_EQ(sfu_ice_send(r.ice, (const uint8_t *)"down", 4), 4);
    r.watch = &s[0];
    s[0].ngot = 0;
    ASSERT(pump(&r, s, 2, NULL, pwd, got_data, 1000));
    ASSERT_STR_EQ(s[0].got, "down");

    /* A check it must not judge: the socket goes back to libnice. */
    send_check(&r, &s[0], "not-the-password-at-all");
    ASSERT(pump(&r, s, 2, NULL, pwd, unparked, 1000));
    ASSERT_EQ(r.state, SFU_ICE_CONNECTED);

    /* A new nomination from another address: libnice selects it, the
     * worker parks it, media follows. */
    ASSERT(pump(&r, s, 2, &s[1], pwd, path_changed, 3000));
    ASSERT(pump(&r, s, 2, NULL, pwd, parked, 1000));
    s[1].nanswers = 0;
    r.watch = &s[1];
    ASSERT(pump(&r, s, 2, &s[1], pwd, answered, 1000));
    ASSERT_EQ(sfu_ice_send(r.ice, (const uint8_t *)"moved", 5), 5);
    s[1].ngot = 0;
    ASSERT(pump(&r, s, 2, NULL, pwd, got_data, 1000));
    ASSERT_STR_EQ(s[1].got, "moved");

    sfu_ice_free(r.ice);
    close(s[0].fd);
    close(s[1].fd);
    while (g_main_context_iteration(r.ctx, FALSE))
        ;
    sfu_worker_free(w);
    return 0;
}

TEST_LIST(TEST_ENTRY(send_follows_new_pair), TEST_ENTRY(parked_responder), TEST_ENTRY(restart_in_place_without_port), TEST_ENTRY(restart_old_generation_first),
          TEST_ENTRY(restart_answer_first), TEST_ENTRY(restart_cancel_and_replace))
