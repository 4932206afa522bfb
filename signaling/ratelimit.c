#include "signaling/ratelimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Buckets hold micro-requests so that integer arithmetic refills exactly:
 * `rate` requests per second is `rate` micro-requests per microsecond. */
#define UNIT 1000000ull

typedef struct entry {
    char key[SIG_RATELIMIT_KEY_MAX];
    uint64_t tokens;            /* micro-requests at `last` */
    sfu_time last;
    struct entry *newer, *older;    /* the LRU list */
    struct entry *next;             /* the hash chain */
} entry;

struct sig_ratelimit {
    pthread_mutex_t lock;
    uint64_t rate;              /* requests per second; 0: off */
    uint64_t full;              /* burst * UNIT */
    unsigned max_clients;
    unsigned count;
    size_t mask;                /* buckets - 1, a power of two minus one */
    entry **buckets;            /* chains by key hash; owns the entries */
    entry *newest, *oldest;     /* least recently used at `oldest` */
    uint64_t seed[2];
};

/* SipHash-2-4 (Aumasson and Bernstein) with a random key: client addresses
 * are chosen by clients, and an unkeyed hash would let them pick addresses
 * that all land in one chain. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                              \
    do {                                                                      \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);             \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);             \
    } while (0)

static uint64_t siphash(const uint64_t k[2], const uint8_t *in, size_t len)
{
    uint64_t v0 = k[0] ^ 0x736f6d6570736575ull, v1 = k[1] ^ 0x646f72616e646f6dull;
    uint64_t v2 = k[0] ^ 0x6c7967656e657261ull, v3 = k[1] ^ 0x7465646279746573ull;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m = 0;
        for (int b = 7; b >= 0; b--)
            m = m << 8 | in[i + (size_t)b];
        v3 ^= m;
        SIPROUND; SIPROUND;
        v0 ^= m;
    }
    uint64_t last = (uint64_t)len << 56;
    for (size_t b = 0; i + b < len; b++)
        last |= (uint64_t)in[i + b] << (8 * b);
    v3 ^= last;
    SIPROUND; SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND; SIPROUND; SIPROUND; SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static entry **chain_of(sig_ratelimit *rl, const char *key)
{
    return &rl->buckets[siphash(rl->seed, (const uint8_t *)key, strlen(key)) & rl->mask];
}

static void lru_unlink(sig_ratelimit *rl, entry *e)
{
    *(e->newer ? &e->newer->older : &rl->newest) = e->older;
    *(e->older ? &e->older->newer : &rl->oldest) = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(sig_ratelimit *rl, entry *e)
{
    e->older = rl->newest;
    e->newer = NULL;
    *(rl->newest ? &rl->newest->newer : &rl->oldest) = e;
    rl->newest = e;
}

static void drop(sig_ratelimit *rl, entry *e)
{
    entry **pp = chain_of(rl, e->key);
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    lru_unlink(rl, e);
    rl->count--;
    free(e);
}

/* The bucket's level at `now`, capped at full. A clock that steps back
 * (it should not: it is monotonic) refills nothing. */
static uint64_t level_at(const sig_ratelimit *rl, const entry *e, sfu_time now)
{
    uint64_t elapsed = now > e->last ? (uint64_t)(now - e->last) : 0;
    uint64_t missing = rl->full - e->tokens;
    if (elapsed >= missing / rl->rate + 1)     /* also keeps elapsed * rate from overflowing */
        return rl->full;
    uint64_t t = e->tokens + elapsed * rl->rate;
    return t < rl->full ? t : rl->full;
}

/* Drops up to two least recently used keys whose buckets are full again:
 * amortized, the table shrinks as fast as it can grow. */
static void prune(sig_ratelimit *rl, sfu_time now)
{
    for (int i = 0; i < 2 && rl->oldest && level_at(rl, rl->oldest, now) == rl->full; i++)
        drop(rl, rl->oldest);
}

static entry *find_or_add(sig_ratelimit *rl, const char *client, sfu_time now)
{
    char key[SIG_RATELIMIT_KEY_MAX];
    snprintf(key, sizeof key, "%s", client);
    for (entry *e = *chain_of(rl, key); e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    if (rl->count >= rl->max_clients)
        drop(rl, rl->oldest);
    entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    memcpy(e->key, key, sizeof key);
    e->tokens = rl->full;
    e->last = now;
    entry **chain = chain_of(rl, key);
    e->next = *chain;
    *chain = e;
    lru_push(rl, e);
    rl->count++;
    return e;
}

sig_ratelimit *sig_ratelimit_new(uint32_t rate_per_s, uint32_t burst, uint32_t max_clients)
{
    sig_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->rate = rate_per_s;
    rl->full = (uint64_t)(burst ? burst : 1) * UNIT;
    rl->max_clients = max_clients ? max_clients : SIG_RATELIMIT_CLIENTS_DEFAULT;
    size_t nb = 16;
    while (nb < rl->max_clients && nb < (1u << 20))
        nb <<= 1;
    rl->mask = nb - 1;
    if (pthread_mutex_init(&rl->lock, NULL) != 0) {
        free(rl);
        return NULL;
    }
    if (rl->rate && (!(rl->buckets = calloc(nb, sizeof *rl->buckets)) ||
                     RAND_bytes((unsigned char *)rl->seed, sizeof rl->seed) != 1))
        goto err;
    return rl;
err:
    sig_ratelimit_free(rl);
    return NULL;
}

void sig_ratelimit_free(sig_ratelimit *rl)
{
    if (!rl)
        return;
    while (rl->oldest) {
        entry *e = rl->oldest;
        rl->oldest = e->newer;
        free(e);
    }
    free(rl->buckets);
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

bool sig_ratelimit_allow(sig_ratelimit *rl, const char *client, sfu_time now,
                         uint32_t *retry_after_s)
{
    if (!rl || !rl->rate || !client)
        return true;
    pthread_mutex_lock(&rl->lock);
    prune(rl, now);
    entry *e = find_or_add(rl, client, now);
    bool ok = true;
    if (e) {    /* out of memory: let the request through rather than fail it */
        e->tokens = level_at(rl, e, now);
        e->last = now > e->last ? now : e->last;
        lru_unlink(rl, e);
        lru_push(rl, e);
        if (e->tokens >= UNIT) {
            e->tokens -= UNIT;
        } else {
            ok = false;
            uint64_t wait_us = (UNIT - e->tokens + rl->rate - 1) / rl->rate;
            uint64_t s = (wait_us + UNIT - 1) / UNIT;
            if (retry_after_s)
                *retry_after_s = (uint32_t)(s ? s : 1);
        }
    }
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

unsigned sig_ratelimit_tracked(sig_ratelimit *rl)
{
    if (!rl)
        return 0;
    pthread_mutex_lock(&rl->lock);
    unsigned n = rl->count;
    pthread_mutex_unlock(&rl->lock);
    return n;
}

int sig_ratelimit_key(const struct sockaddr *sa, char *buf, size_t n)
{
    if (!sa || !buf || n < SIG_RATELIMIT_KEY_MAX)
        return -SFU_EINVAL;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)n) ? 0 : -SFU_EINVAL;
    }
    if (sa->sa_family != AF_INET6)
        return -SFU_EINVAL;
    struct in6_addr a = ((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a))
        return inet_ntop(AF_INET, &a.s6_addr[12], buf, (socklen_t)n) ? 0 : -SFU_EINVAL;
    memset(&a.s6_addr[8], 0, 8);
    if (!inet_ntop(AF_INET6, &a, buf, (socklen_t)n))
        return -SFU_EINVAL;
    size_t len = strlen(buf);
    if (len + 4 > n)
        return -SFU_EINVAL;
    memcpy(buf + len, "/64", 4);
    return 0;
}
