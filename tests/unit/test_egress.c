/* The egress batch over real loopback sockets: every datagram arrives,
 * each socket's in the order it was held, whether it went in a GSO train or
 * singly; bursts to one receiver go as trains. */
#include "sfu/net/egress.h"
#include "tests/test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

static int udp_bound(struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    *a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof *a;
    if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof *a) != 0 ||
        getsockname(fd, (struct sockaddr *)a, &l) != 0)
        return -1;
    return fd;
}

static void hold(sfu_egress *eg, int fd, const struct sockaddr_in *to, uint8_t tag, uint16_t seq,
                 size_t len)
{
    uint8_t *d = sfu_egress_reserve(eg, fd, (const struct sockaddr *)to, sizeof *to);
    memset(d, tag, len);
    d[0] = tag;
    d[1] = (uint8_t)(seq >> 8);
    d[2] = (uint8_t)seq;
    sfu_egress_commit(eg, len);
}

/* Reads what rx got: (tag, seq, len) per datagram; returns the count. */
static int drain(int rx, uint8_t *tags, uint16_t *seqs, size_t *lens, int max)
{
    int n = 0;
    uint8_t buf[2048];
    while (n < max) {
        ssize_t r = recv(rx, buf, sizeof buf, MSG_DONTWAIT);
        if (r < 0)
            break;
        tags[n] = buf[0];
        seqs[n] = (uint16_t)(buf[1] << 8 | buf[2]);
        lens[n] = (size_t)r;
        n++;
    }
    return n;
}

/* Two viewers (each its own sending socket, as a parked peer has, or both
 * on one, as on the worker's shared port), a keyframe burst of 40 equal
 * packets and a short last one, audio in between, held packet-major as a
 * fan-out holds them: on one socket the viewers' packets alternate, and
 * GSO trains form only if the run is ordered by destination. */
static int run(bool gso, bool shared)
{
    struct sockaddr_in a1, a2, s1a, s2a;
    int rx1 = udp_bound(&a1), rx2 = udp_bound(&a2), tx1 = udp_bound(&s1a), tx2 = udp_bound(&s2a);
    ASSERT(rx1 >= 0 && rx2 >= 0 && tx1 >= 0 && tx2 >= 0);
    int big = 1 << 20;
    setsockopt(rx1, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(rx2, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    sfu_egress *eg = sfu_egress_new();
    sfu_egress_set_gso(eg, gso);
    if (shared)
        tx2 = tx1;
    uint16_t seq = 0;
    for (int p = 0; p < 41; p++) {
        size_t len = p == 40 ? 500 : 1232;
        hold(eg, tx1, &a1, 'v', seq, len);
        hold(eg, tx2, &a2, 'w', seq, len);
        seq++;
        if (p == 20) {     /* an audio packet in the middle of the burst */
            hold(eg, tx1, &a1, 'a', seq, 90);
            hold(eg, tx2, &a2, 'b', seq, 90);
            seq++;
        }
    }
    ASSERT_EQ(sfu_egress_held(eg), 84u);
    sfu_egress_flush(eg);
    ASSERT_EQ(sfu_egress_held(eg), 0u);
    ASSERT_EQ(sfu_egress_failed(eg), 0u);
    if (gso) {
        ASSERT(sfu_egress_gso_trains(eg) >= 2);
        ASSERT(sfu_egress_gso_dgrams(eg) >= 80);
        ASSERT(sfu_egress_calls(eg) == (shared ? 1u : 2u)); /* one sendmmsg per socket */
    } else {
        ASSERT_EQ(sfu_egress_gso_trains(eg), 0u);
    }
    int socks[2] = { rx1, rx2 };
    for (int s = 0; s < 2; s++) {
        uint8_t tags[100];
        uint16_t seqs[100];
        size_t lens[100];
        int n = drain(socks[s], tags, seqs, lens, 100);
        ASSERT_EQ(n, 42);
        for (int i = 0; i < n; i++) {
            ASSERT_EQ(seqs[i], (uint16_t)i);
            bool audio = i == 21;
            ASSERT_EQ(tags[i], audio ? (s ? 'b' : 'a') : (s ? 'w' : 'v'));
            ASSERT_EQ(lens[i], audio ? 90u : i == 41 ? 500u : 1232u);
        }
    }
    sfu_egress_free(eg);
    close(rx1), close(rx2), close(tx1);
    if (!shared)
        close(tx2);
    return 0;
}

TEST(burst_arrives_in_order_with_gso) { return run(true, false); }
TEST(burst_arrives_in_order_without_gso) { return run(false, false); }
TEST(shared_socket_burst_arrives_in_order_with_gso) { return run(true, true); }
TEST(shared_socket_burst_arrives_in_order_without_gso) { return run(false, true); }

/* More than SFU_EGRESS_MAX held: the batch flushes itself when full and
 * nothing is lost or reordered. */
TEST(overflow_flushes)
{
    struct sockaddr_in a, s;
    int rx = udp_bound(&a), tx = udp_bound(&s);
    ASSERT(rx >= 0 && tx >= 0);
    int big = 8 << 20;
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    sfu_egress *eg = sfu_egress_new();
    unsigned total = SFU_EGRESS_MAX + 100, got = 0;
    uint8_t buf[2048];
    for (unsigned i = 0; i < total; i++) {
        hold(eg, tx, &a, 'x', (uint16_t)i, 200);
        /* keep the receiver's buffer from filling */
        while (recv(rx, buf, sizeof buf, MSG_DONTWAIT) > 0) {
            ASSERT_EQ((uint16_t)(buf[1] << 8 | buf[2]), (uint16_t)got);
            got++;
        }
    }
    sfu_egress_flush(eg);
    while (recv(rx, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        ASSERT_EQ((uint16_t)(buf[1] << 8 | buf[2]), (uint16_t)got);
        got++;
    }
    ASSERT_EQ(got, total);
    ASSERT_EQ(sfu_egress_failed(eg), 0u);
    sfu_egress_free(eg);
    close(rx), close(tx);
    return 0;
}

TEST_LIST(TEST_ENTRY(burst_arrives_in_order_with_gso), TEST_ENTRY(burst_arrives_in_order_without_gso),
          TEST_ENTRY(shared_socket_burst_arrives_in_order_with_gso),
          TEST_ENTRY(shared_socket_burst_arrives_in_order_without_gso), TEST_ENTRY(overflow_flushes))
