/* The worker's shared UDP port (sfu/net/shared_port.c) with the real ICE
 * shell, on loopback, against a client made of UDP sockets and libnice's
 * STUN library: the shared candidate comes first, a nomination there
 * connects and takes the media, unknown senders and bad checks are dropped
 * and counted, a nomination from another address moves the path, one on
 * libnice's own port takes it back, an ICE restart's new ufrag is found
 * while the old one is answered until freed, and freeing the session
 * empties the table. */
#include "tests/test.h"

#include "sfu/net/ice.h"
#include "sfu/net/shared_port.h"
#include "sfu/net/worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENT_UFRAG "cliA"
#define CLIENT_PWD "client-password-0123456789"

typedef struct csock {
    int fd;
    char got[64];
    int ngot, nanswers;
    uint16_t got_from;
} csock;

typedef struct rig {
    sfu_worker *worker;
    sfu_shared_port *port;
    uint16_t shared_port, nice_port;
    sfu_ice *ice;
    sfu_ice_state state;
    int paths, ndata;
    StunAgent stun;
    char user[128];
    char pwd[64];
} rig;

static void on_data(void *user, uint8_t *d, size_t n)
{
    (void)d, (void)n;
    ((rig *)user)->ndata++;
}
static void on_state(void *user, sfu_ice_state s) { ((rig *)user)->state = s; }
static void on_path(void *user) { ((rig *)user)->paths++; }

static int csock_open(csock *c)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    return c->fd >= 0 && bind(c->fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -1;
}

static void send_to(csock *c, uint16_t port, const void *p, size_t n)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    sendto(c->fd, p, n, 0, (struct sockaddr *)&to, sizeof to);
}

/* A check signed with `pwd` under USERNAME r->user; nominating or not. */
static void send_check(rig *r, csock *c, uint16_t port, const char *pwd, bool nominate)
{
    uint8_t buf[1024];
    StunMessage msg;
    size_t n = stun_usage_ice_conncheck_create(
        &r->stun, &msg, buf, sizeof buf, (const uint8_t *)r->user, strlen(r->user),
        (const uint8_t *)pwd, strlen(pwd), nominate, true, 2000, 0x1234567890ULL, NULL,
        STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    if (n > 0)
        send_to(c, port, buf, n);
}

static bool validate(StunAgent *agent, StunMessage *message, uint8_t *username,
                     uint16_t username_len, uint8_t **password, size_t *password_len, void *data)
{
    (void)agent, (void)message, (void)username, (void)username_len, (void)data;
    *password = (uint8_t *)CLIENT_PWD;
    *password_len = strlen(CLIENT_PWD);
    return true;
}

/* Answers libnice's own checks (as a full agent would), counts answers to
 * ours, keeps the last datagram that is not STUN. */
static void client_read(rig *r, csock *c)
{
    uint8_t buf[1500], out[1024];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t n;
    while ((n = recvfrom(c->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl)) > 0) {
        if (buf[0] < 4) {
            StunMessage req, msg;
            if (stun_message_get_class(&(StunMessage){ .buffer = buf, .buffer_len = (size_t)n }) ==
                STUN_RESPONSE) {
                c->nanswers++;
            } else if (stun_agent_validate(&r->stun, &req, buf, (size_t)n, validate, NULL) ==
                       STUN_VALIDATION_SUCCESS) {
                size_t len = sizeof out;
                bool control = true;
                if (stun_usage_ice_conncheck_create_reply(&r->stun, &req, &msg, out, &len, &from,
                                                          fl, &control, 0x1234567890ULL,
                                                          STUN_USAGE_ICE_COMPATIBILITY_RFC5245) ==
                    STUN_USAGE_ICE_RETURN_SUCCESS)
                    sendto(c->fd, out, len, 0, (struct sockaddr *)&from, fl);
            }
            fl = sizeof from;
            continue;
        }
        c->ngot++;
        c->got_from = ntohs(((struct sockaddr_in *)&from)->sin_port);
        fl = sizeof from;
        size_t m = (size_t)n < sizeof c->got - 1 ? (size_t)n : sizeof c->got - 1;
        memcpy(c->got, buf, m);
        c->got[m] = '\0';
    }
}

/* Runs the worker and reads the clients for `ms`, until done(r, c) holds. */
static bool pump(rig *r, csock *s, int ns, bool (*done)(rig *, csock *), csock *c, int ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < end) {
        sfu_worker_iterate(r->worker);
        for (int i = 0; i < ns; i++)
            client_read(r, &s[i]);
        if (done && done(r, c))
            return true;
        poll(NULL, 0, 1);
    }
    return false;
}

static bool connected(rig *r, csock *c) { (void)c; return r->state == SFU_ICE_CONNECTED; }
static bool answered(rig *r, csock *c) { (void)r; return c->nanswers > 0; }
static bool got(rig *r, csock *c) { (void)r; return c->ngot > 0; }
static bool moved(rig *r, csock *c) { (void)c; return r->paths > 0; }
static bool dozing(rig *r, csock *c) { (void)c; return sfu_ice_dozing(r->ice); }
static bool moved3(rig *r, csock *c) { (void)c; return r->paths >= 3; }

static uint16_t free_udp_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static const char *const addrs[] = { "127.0.0.1" };
static const sfu_ice_config cfg = { .gather_addrs = addrs, .naddrs = 1 };

static int rig_new(rig *r)
{
    memset(r, 0, sizeof *r);
    r->worker = sfu_worker_new(0, 64, 64);
    char err[160] = "";
    r->shared_port = free_udp_port();
    r->port = sfu_shared_port_new(r->worker, &cfg, r->shared_port, err, sizeof err);
    if (!r->port) {
        fprintf(stderr, "  shared port: %s\n", err);
        return -1;
    }
    sfu_ice_callbacks cb = { .on_data = on_data, .on_state = on_state, .on_path = on_path };
    r->ice = sfu_ice_new(sfu_worker_context(r->worker), &cfg, &cb, r, err, sizeof err);
    if (!r->ice)
        return -1;
    sfu_ice_use_worker(r->ice, r->worker);
    if (sfu_ice_use_shared_port(r->ice, r->port) != 0)
        return -1;
    const char *ufrag, *pwd;
    sfu_ice_local_credentials(r->ice, &ufrag, &pwd);
    snprintf(r->user, sizeof r->user, "%s:%s", ufrag, CLIENT_UFRAG);
    snprintf(r->pwd, sizeof r->pwd, "%s", pwd);
    sfu_ice_set_remote_credentials(r->ice, CLIENT_UFRAG, CLIENT_PWD);
    stun_agent_init(&r->stun, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    sfu_ice_candidate c[SFU_ICE_MAX_CANDIDATES];
    unsigned n = sfu_ice_local_candidates(r->ice, c, SFU_ICE_MAX_CANDIDATES);
    for (unsigned i = 1; i < n; i++)
        if (!c[i].tcp && !r->nice_port)
            r->nice_port = c[i].port;
    return 0;
}

static void rig_free(rig *r)
{
    sfu_ice_free(r->ice);
    sfu_shared_port_free(r->port);
    sfu_worker_free(r->worker);
}

static sfu_shared_port_stats stats(rig *r)
{
    sfu_shared_port_stats st;
    sfu_shared_port_stats_get(r->port, &st);
    return st;
}

/* Sends one datagram and returns the SFU port it arrived from at `c`. */
static uint16_t media_port(rig *r, csock *s, int ns, csock *c, const char *what)
{
    c->ngot = 0;
    if (sfu_ice_send(r->ice, (const uint8_t *)what, strlen(what)) != (int)strlen(what))
        return 0;
    return pump(r, s, ns, got, c, 1000) && strcmp(c->got, what) == 0 ? c->got_from : 0;
}

TEST(candidates_put_the_shared_port_first)
{
    rig r;
    ASSERT_EQ(rig_new(&r), 0);
    sfu_ice_candidate c[SFU_ICE_MAX_CANDIDATES];
    unsigned n = sfu_ice_local_candidates(r.ice, c, SFU_ICE_MAX_CANDIDATES);
    ASSERT_GE(n, 2);
    ASSERT_EQ(c[0].port, r.shared_port);
    ASSERT_EQ(c[0].priority, SFU_SHARED_PORT_PRIORITY);
    ASSERT_STR_EQ(c[0].addr, "127.0.0.1");
    for (unsigned i = 1; i < n; i++) {
        ASSERT_NE(c[i].port, r.shared_port);
        ASSERT_LT(c[i].priority, c[0].priority);
    }
    ASSERT_NE(r.nice_port, 0);
    rig_free(&r);
    return 0;
}

/* Unknown senders, unknown ufrags and bad integrity: dropped, counted,
 * unanswered, nothing bound; a valid check without USE-CANDIDATE is
 * answered and routes the sender's data but does not connect; the
 * nomination connects and takes the media. */
TEST(nominate_connects_and_drops_the_rest)
{
    rig r;
    ASSERT_EQ(rig_new(&r), 0);
    csock s[2];
    ASSERT_EQ(csock_open(&s[0]), 0);
    ASSERT_EQ(csock_open(&s[1]), 0);
    send_to(&s[1], r.shared_port, "\x80\x60 not from a known address", sizeof "\x80\x60 not from a known address" - 1);
    pump(&r, s, 2, NULL, NULL, 50);
    ASSERT_EQ(r.ndata, 0);
    ASSERT_EQ(stats(&r).drop_unknown, 1);
    /* a wrong password, then an unknown ufrag */
    send_check(&r, &s[1], r.shared_port, "not-the-password-at-all", true);
    char user[128];
    snprintf(user, sizeof user, "%s", r.user);
    snprintf(r.user, sizeof r.user, "zzzz:%s", CLIENT_UFRAG);
    send_check(&r, &s[1], r.shared_port, r.pwd, true);
    snprintf(r.user, sizeof r.user, "%s", user);
    pump(&r, s, 2, NULL, NULL, 100);
    ASSERT_EQ(s[1].nanswers, 0);
    ASSERT_EQ(stats(&r).drop_stun, 2);
    ASSERT_EQ(stats(&r).checks, 0);
    ASSERT_NE(r.state, SFU_ICE_CONNECTED);
    /* a valid check that does not nominate */
    send_check(&r, &s[0], r.shared_port, r.pwd, false);
    ASSERT(pump(&r, s, 2, answered, &s[0], 1000));
    ASSERT_NE(r.state, SFU_ICE_CONNECTED);
    send_to(&s[0], r.shared_port, "\x16 a DTLS record", sizeof "\x16 a DTLS record" - 1);
    pump(&r, s, 2, NULL, NULL, 50);
    ASSERT_EQ(r.ndata, 1);
    /* the nomination */
    send_check(&r, &s[0], r.shared_port, r.pwd, true);
    ASSERT(pump(&r, s, 2, connected, NULL, 1000));
    ASSERT(sfu_ice_on_shared_port(r.ice));
    ASSERT_EQ(r.paths, 0);
    ASSERT_EQ(media_port(&r, s, 2, &s[0], "media-1"), r.shared_port);
    ASSERT_EQ(stats(&r).sessions, 1);
    int fd;
    const struct sockaddr *to;
    socklen_t tolen;
    ASSERT_EQ(sfu_ice_send_target(r.ice, &fd, &to, &tolen), 0);
    ASSERT_EQ(stats(&r).dgrams_out, 1);
    char remote[80], want[80];
    struct sockaddr_in b;
    socklen_t bl = sizeof b;
    getsockname(s[0].fd, (struct sockaddr *)&b, &bl);
    snprintf(want, sizeof want, "127.0.0.1:%u", ntohs(b.sin_port));
    sfu_ice_remote_address(r.ice, remote, sizeof remote);
    ASSERT_STR_EQ(remote, want);
    rig_free(&r);
    close(s[0].fd);
    close(s[1].fd);
    return 0;
}

/* A nomination from a new address moves the path (and only the next
 * sends); one on libnice's own port takes the session back there; one on
 * the shared port again brings it back. */
TEST(rebind_and_back_to_libnice)
{
    rig r;
    ASSERT_EQ(rig_new(&r), 0);
    csock s[2];
    ASSERT_EQ(csock_open(&s[0]), 0);
    ASSERT_EQ(csock_open(&s[1]), 0);
    send_check(&r, &s[0], r.shared_port, r.pwd, true);
    ASSERT(pump(&r, s, 2, connected, NULL, 1000));
    ASSERT_EQ(media_port(&r, s, 2, &s[0], "one"), r.shared_port);
    send_check(&r, &s[1], r.shared_port, r.pwd, true);
    ASSERT(pump(&r, s, 2, moved, NULL, 1000));
    ASSERT_EQ(r.paths, 1);
    ASSERT_EQ(media_port(&r, s, 2, &s[1], "two"), r.shared_port);
    s[0].ngot = 0;
    pump(&r, s, 2, NULL, NULL, 50);
    ASSERT_EQ(s[0].ngot, 0);
    /* libnice's own port, later than a first round of checks (ice.c,
     * SETTLE_US): its selection takes over */
    pump(&r, s, 2, NULL, NULL, 1100);
    gint64 end = g_get_monotonic_time() + 3000000;
    while (r.paths < 2 && g_get_monotonic_time() < end) {
        send_check(&r, &s[1], r.nice_port, r.pwd, true);
        pump(&r, s, 2, NULL, NULL, 20);
    }
    if (r.paths != 2)
        fprintf(stderr, "  answers %d nice_port %u state %d\n", s[1].nanswers, r.nice_port, r.state);
    ASSERT_EQ(r.paths, 2);
    ASSERT(!sfu_ice_on_shared_port(r.ice));
    ASSERT_EQ(stats(&r).sessions, 0);
    ASSERT_EQ(media_port(&r, s, 2, &s[1], "three"), r.nice_port);
    /* and back to the shared port */
    send_check(&r, &s[1], r.shared_port, r.pwd, true);
    pump(&r, s, 2, moved3, NULL, 1000);
    ASSERT_EQ(r.paths, 3);
    ASSERT(sfu_ice_on_shared_port(r.ice));
    ASSERT_EQ(media_port(&r, s, 2, &s[1], "four"), r.shared_port);
    ASSERT_EQ(r.state, SFU_ICE_CONNECTED);
    rig_free(&r);
    close(s[0].fd);
    close(s[1].fd);
    return 0;
}

/* Aggressive nomination (libnice's default as a full agent): the client
 * nominates the shared pair, then at once libnice's pair of lower
 * priority; the session stays on the shared port. */
TEST(aggressive_nomination_keeps_the_best_pair)
{
    rig r;
    ASSERT_EQ(rig_new(&r), 0);
    csock s[1];
    ASSERT_EQ(csock_open(&s[0]), 0);
    send_check(&r, &s[0], r.shared_port, r.pwd, true);
    ASSERT(pump(&r, s, 1, connected, NULL, 1000));
    ASSERT(sfu_ice_dozing(r.ice));          /* libnice's sockets out of GLib's poll */
    s[0].nanswers = 0;
    for (int i = 0; i < 10; i++) {
        send_check(&r, &s[0], r.nice_port, r.pwd, true);
        pump(&r, s, 1, NULL, NULL, 20);
    }
    ASSERT_GT(s[0].nanswers, 0);            /* libnice answered, and selected */
    pump(&r, s, 1, NULL, NULL, 100);
    ASSERT_EQ(r.paths, 0);
    ASSERT(sfu_ice_on_shared_port(r.ice));
    ASSERT_EQ(media_port(&r, s, 1, &s[0], "best"), r.shared_port);
    /* libnice read what woke its sockets; they doze again */
    ASSERT(pump(&r, s, 1, dozing, NULL, 1000));
    rig_free(&r);
    close(s[0].fd);
    return 0;
}

/* An ICE restart: the new ufrag is found; the old one is answered until
 * the new generation's nomination frees it; then it is not. Freeing the
 * session empties the table. */
TEST(restart_generations)
{
    rig r;
    ASSERT_EQ(rig_new(&r), 0);
    csock s[1];
    ASSERT_EQ(csock_open(&s[0]), 0);
    send_check(&r, &s[0], r.shared_port, r.pwd, true);
    ASSERT(pump(&r, s, 1, connected, NULL, 1000));
    char old_user[128], old_pwd[64];
    snprintf(old_user, sizeof old_user, "%s", r.user);
    snprintf(old_pwd, sizeof old_pwd, "%s", r.pwd);
    ASSERT_EQ(sfu_ice_restart(r.ice, "newufrag", "new-password-0123456789", "cliB",
                              "client-password-gen2"), 0);
    sfu_ice_candidate c[SFU_ICE_MAX_CANDIDATES];
    ASSERT_GE(sfu_ice_local_candidates(r.ice, c, SFU_ICE_MAX_CANDIDATES), 1);
    ASSERT_EQ(c[0].port, r.shared_port);
    /* the old generation still answers */
    s[0].nanswers = 0;
    send_check(&r, &s[0], r.shared_port, old_pwd, false);
    ASSERT(pump(&r, s, 1, answered, &s[0], 1000));
    /* the new one nominates: a new path; the old ufrag is gone */
    snprintf(r.user, sizeof r.user, "newufrag:cliB");
    send_check(&r, &s[0], r.shared_port, "new-password-0123456789", true);
    ASSERT(pump(&r, s, 1, moved, NULL, 1000));
    ASSERT_EQ(sfu_ice_generations(r.ice), 1);
    uint64_t dropped = stats(&r).drop_stun;
    snprintf(r.user, sizeof r.user, "%s", old_user);
    s[0].nanswers = 0;
    send_check(&r, &s[0], r.shared_port, old_pwd, false);
    pump(&r, s, 1, NULL, NULL, 100);
    ASSERT_EQ(s[0].nanswers, 0);
    ASSERT_EQ(stats(&r).drop_stun, dropped + 1);
    ASSERT_EQ(media_port(&r, s, 1, &s[0], "after"), r.shared_port);
    /* freeing the session forgets it: its checks and data are dropped */
    sfu_ice_free(r.ice);
    r.ice = NULL;
    ASSERT_EQ(stats(&r).sessions, 0);
    uint64_t unknown = stats(&r).drop_unknown;
    send_to(&s[0], r.shared_port, "\x80\x60 late media", sizeof "\x80\x60 late media" - 1);
    pump(&r, s, 1, NULL, NULL, 50);
    ASSERT_EQ(stats(&r).drop_unknown, unknown + 1);
    sfu_shared_port_free(r.port);
    sfu_worker_free(r.worker);
    close(s[0].fd);
    return 0;
}

TEST_LIST(TEST_ENTRY(candidates_put_the_shared_port_first),
          TEST_ENTRY(nominate_connects_and_drops_the_rest), TEST_ENTRY(rebind_and_back_to_libnice),
          TEST_ENTRY(aggressive_nomination_keeps_the_best_pair), TEST_ENTRY(restart_generations))
