#include "bench/ice_client.h"

#include <agent.h>
#include <glib-unix.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct bench_ice {
    NiceAgent *agent;
    guint stream;
    bench_ice_callbacks cb;
    void *user;
    bool connected, failed;
    gchar *ufrag, *pwd;
    char cand_line[256];
    gulong state_handler;
    int fd;                     /* the selected pair's socket, -1 until known */
    GMainContext *ctx;          /* the media thread's */
    bool drained;               /* in rx_ices: read by the timer's drain */
    bool on_rx_ctx;             /* its sockets' sources moved to rx_ctx */
};

static void drain_add(bench_ice *ice);
static void drain_remove(bench_ice *ice);

/* When the datagram libnice just read reached its socket, on bench_now()'s
 * clock: the kernel stamps each datagram as it enters the receive path (in
 * the sender's send call on loopback and veth) and SIOCGSTAMPNS gives the
 * stamp of the last one read. libnice reads one datagram per callback, so
 * that is this one. The bench's own queueing (one thread receives for every
 * viewer) is then not in the latency: a browser has a receive thread per
 * PeerConnection. The first call turns stamping on and has no stamp yet. */
static sfu_time arrival_time(bench_ice *ice)
{
    if (ice->fd < 0) {
        GSocket *s = nice_agent_get_selected_socket(ice->agent, ice->stream, 1);
        if (!s)
            return -1;
        ice->fd = g_socket_get_fd(s);   /* the agent keeps the socket */
        g_object_unref(s);
    }
    struct timespec k, real, mono;
    if (ioctl(ice->fd, SIOCGSTAMPNS, &k) != 0)
        return -1;
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    int64_t ago_ns = (int64_t)(real.tv_sec - k.tv_sec) * 1000000000 + (real.tv_nsec - k.tv_nsec);
    if (ago_ns < 0 || ago_ns > 2000000000LL)
        return -1;                      /* a stamp from before stamping began, or a clock step */
    return ((int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec - ago_ns) / 1000;
}

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                    gpointer data)
{
    (void)agent, (void)stream, (void)component;
    bench_ice *ice = data;
    ice->cb.on_data(ice->user, (uint8_t *)buf, len, arrival_time(ice));
}

static void on_component_state(NiceAgent *agent, guint stream, guint component, guint state,
                               gpointer data)
{
    (void)agent, (void)stream, (void)component;
    bench_ice *ice = data;
    if ((state == NICE_COMPONENT_STATE_READY || state == NICE_COMPONENT_STATE_CONNECTED) &&
        !ice->connected) {
        ice->connected = true;
        drain_add(ice);
        ice->cb.on_connected(ice->user);
    } else if (state == NICE_COMPONENT_STATE_FAILED && !ice->failed) {
        ice->failed = true;
        ice->connected = false;
        ice->cb.on_failed(ice->user);
    }
}

static int first_candidate(bench_ice *ice)
{
    GSList *list = nice_agent_get_local_candidates(ice->agent, ice->stream, 1);
    int rc = -1;
    for (GSList *l = list; l && rc != 0; l = l->next) {
        NiceCandidate *c = l->data;
        if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP)
            continue;
        char addr[NICE_ADDRESS_STRING_LEN];
        nice_address_to_string(&c->addr, addr);
        snprintf(ice->cand_line, sizeof ice->cand_line, "candidate:%s 1 udp %u %s %u typ host",
                 c->foundation, c->priority, addr, nice_address_get_port(&c->addr));
        rc = 0;
    }
    g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
    return rc;
}

/* The address host candidates are gathered on: 127.0.0.1 unless a target
 * (Janus, in its own network namespace) needs the veth's address. */
static char local_address[NICE_ADDRESS_STRING_LEN] = "127.0.0.1";

void bench_ice_set_local_address(const char *ip)
{
    g_strlcpy(local_address, ip, sizeof local_address);
}

void bench_ice_set_controlling(bench_ice *ice, bool controlling)
{
    g_object_set(ice->agent, "controlling-mode", controlling ? TRUE : FALSE, NULL);
}

bench_ice *bench_ice_new(GMainContext *ctx, const bench_ice_callbacks *cb, void *user,
                         char *err, size_t errlen)
{
    bench_ice *ice = g_new0(bench_ice, 1);
    ice->fd = -1;
    ice->ctx = ctx;
    ice->cb = *cb;
    ice->user = user;
    ice->agent = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245,
                                     NICE_AGENT_OPTION_CONSENT_FRESHNESS);
    g_object_set(ice->agent, "controlling-mode", TRUE, "upnp", FALSE, "ice-udp", TRUE,
                 "ice-tcp", FALSE, NULL);
    NiceAddress addr;
    nice_address_init(&addr);
    if (!nice_address_set_from_string(&addr, local_address) ||
        !nice_agent_add_local_address(ice->agent, &addr) ||
        (ice->stream = nice_agent_add_stream(ice->agent, 1)) == 0) {
        snprintf(err, errlen, "cannot set up an ICE agent on %s", local_address);
        goto err;
    }
    ice->state_handler = g_signal_connect(ice->agent, "component-state-changed",
                                          G_CALLBACK(on_component_state), ice);
    if (!nice_agent_attach_recv(ice->agent, ice->stream, 1, ctx, on_recv, ice) ||
        !nice_agent_gather_candidates(ice->agent, ice->stream) || first_candidate(ice) != 0) {
        snprintf(err, errlen, "ICE: no UDP host candidate on %s", local_address);
        goto err;
    }
    nice_agent_get_local_credentials(ice->agent, ice->stream, &ice->ufrag, &ice->pwd);
    return ice;
err:
    bench_ice_free(ice);
    return NULL;
}

void bench_ice_free(bench_ice *ice)
{
    if (!ice)
        return;
    drain_remove(ice);
    if (ice->agent) {
        if (ice->state_handler)
            g_signal_handler_disconnect(ice->agent, ice->state_handler);
        if (ice->stream) {
            nice_agent_attach_recv(ice->agent, ice->stream, 1, NULL, NULL, NULL);
            nice_agent_remove_stream(ice->agent, ice->stream);
        }
        g_object_unref(ice->agent);
    }
    g_free(ice->ufrag);
    g_free(ice->pwd);
    g_free(ice);
}

const char *bench_ice_ufrag(const bench_ice *ice) { return ice->ufrag; }
const char *bench_ice_pwd(const bench_ice *ice) { return ice->pwd; }
const char *bench_ice_candidate_line(const bench_ice *ice) { return ice->cand_line; }

static NiceCandidate *to_nice(const sig_ice_candidate *c, guint stream)
{
    NiceCandidate *nc = nice_candidate_new(NICE_CANDIDATE_TYPE_HOST);
    nc->stream_id = stream;
    nc->component_id = 1;
    nc->transport = NICE_CANDIDATE_TRANSPORT_UDP;
    nc->priority = c->priority;
    g_strlcpy(nc->foundation, c->foundation, sizeof nc->foundation);
    if (!nice_address_set_from_string(&nc->addr, c->address)) {
        nice_candidate_free(nc);
        return NULL;
    }
    nice_address_set_port(&nc->addr, c->port);
    return nc;
}

int bench_ice_start(bench_ice *ice, const char *ufrag, const char *pwd,
                    const sig_ice_candidate *cands, unsigned ncands)
{
    if (!nice_agent_set_remote_credentials(ice->agent, ice->stream, ufrag, pwd))
        return -1;
    GSList *list = NULL;
    for (unsigned i = 0; i < ncands; i++) {
        NiceCandidate *nc = cands[i].transport == SIG_ICE_UDP && cands[i].component == 1
                                ? to_nice(&cands[i], ice->stream) : NULL;
        if (nc)
            list = g_slist_append(list, nc);
    }
    int added = list ? nice_agent_set_remote_candidates(ice->agent, ice->stream, 1, list) : 0;
    g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
    return added > 0 ? 0 : -1;
}

int bench_ice_send(bench_ice *ice, const uint8_t *data, size_t len)
{
    if (!ice->connected)
        return -1;
    return nice_agent_send(ice->agent, ice->stream, 1, (guint)len, (const gchar *)data);
}

/* ---- reading on a timer (bench_ice_set_rx_poll_us) ----
 *
 * Once a peer is connected, its component's socket sources move to rx_ctx,
 * a context that nothing polls while sleeping: every rx_poll_us a timer on
 * the media thread iterates it once without blocking. GLib's poll has a zero
 * timeout then, which queues no waiter on the sockets, so a datagram from
 * the server finds nobody to wake and the server's send path does not pay
 * for the bench's wake-ups (on loopback the receiver's wake-up runs inside
 * the sender's send call; a remote viewer's does not). libnice still reads
 * every datagram itself, in its own socket callback: STUN (checks, consent)
 * is answered as before, only up to rx_poll_us later, and on_recv gets the
 * rest with the kernel's receive stamp as before. The agents' timers stay
 * on the media thread's context. */

static unsigned rx_poll_us;
static GMainContext *rx_ctx;
static GPtrArray *rx_ices;      /* connected agents, on rx_ctx or about to be */
static GSource *rx_timer;
static int rx_timer_fd = -1;

void bench_ice_set_rx_poll_us(unsigned us) { rx_poll_us = us; }
unsigned bench_ice_rx_poll_us(void) { return rx_poll_us; }

static gboolean on_rx_tick(gint fd, GIOCondition cond, gpointer data)
{
    (void)cond, (void)data;
    uint64_t expirations;
    if (read(fd, &expirations, sizeof expirations) != sizeof expirations)
        return G_SOURCE_CONTINUE;
    /* Moved here, not in the state callback: libnice is inside its own
     * signal emission there. */
    for (unsigned i = 0; i < rx_ices->len; i++) {
        bench_ice *ice = g_ptr_array_index(rx_ices, i);
        if (!ice->on_rx_ctx) {
            nice_agent_attach_recv(ice->agent, ice->stream, 1, rx_ctx, on_recv, ice);
            ice->on_rx_ctx = true;
        }
    }
    g_main_context_iteration(rx_ctx, FALSE);
    return G_SOURCE_CONTINUE;
}

static void drain_add(bench_ice *ice)
{
    if (rx_poll_us == 0 || ice->drained)
        return;
    if (!rx_ctx)
        rx_ctx = g_main_context_new();
    if (!rx_ices)
        rx_ices = g_ptr_array_new();
    if (!rx_timer) {
        rx_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        struct timespec period = { rx_poll_us / 1000000, (long)(rx_poll_us % 1000000) * 1000 };
        struct itimerspec it = { .it_interval = period, .it_value = period };
        if (rx_timer_fd < 0 || timerfd_settime(rx_timer_fd, 0, &it, NULL) != 0) {
            if (rx_timer_fd >= 0)
                close(rx_timer_fd);
            rx_timer_fd = -1;
            return;     /* stays on libnice's receive callback */
        }
        rx_timer = g_unix_fd_source_new(rx_timer_fd, G_IO_IN);
        g_source_set_callback(rx_timer, (GSourceFunc)(void (*)(void))on_rx_tick, NULL, NULL);
        g_source_attach(rx_timer, ice->ctx);
    }
    g_ptr_array_add(rx_ices, ice);
    ice->drained = true;
}

static void drain_remove(bench_ice *ice)
{
    if (!ice->drained)
        return;
    g_ptr_array_remove_fast(rx_ices, ice);
    ice->drained = false;
    if (rx_ices->len == 0 && rx_timer) {
        g_source_destroy(rx_timer);
        g_source_unref(rx_timer);
        rx_timer = NULL;
        close(rx_timer_fd);
        rx_timer_fd = -1;
    }
}
