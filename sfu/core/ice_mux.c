#include "sfu/core/ice_mux.h"

#include <stdlib.h>
#include <string.h>

#include "sfu/core/common.h"

/* Both maps: open addressing, linear probing, a power-of-two capacity at
 * most half full, deletion by backward shift (no tombstones, so probes
 * stay short however often sessions come and go). */

#define MIN_CAP 16

typedef struct ufrag_slot {
    bool used;
    uint8_t ulen, rlen;
    uint32_t owner, gen;
    char ufrag[SFU_ICE_MUX_UFRAG_MAX + 1];
    char remote[SFU_ICE_MUX_UFRAG_MAX + 1];
    char pwd[SFU_ICE_MUX_PWD_MAX + 1];
} ufrag_slot;

typedef struct addr_slot {
    bool used;
    sfu_ice_mux_addr addr;
    uint32_t owner;
    uint64_t seq;                       /* bind order, for the per-owner cap */
} addr_slot;

struct sfu_ice_mux {
    ufrag_slot *uf;
    size_t ucap, un;
    addr_slot *ad;
    size_t acap, an;
    uint64_t seq;
};

/* FNV-1a */
static uint32_t hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static uint32_t hash_addr(const sfu_ice_mux_addr *a)
{
    uint8_t key[19];
    key[0] = a->family;
    memcpy(key + 1, a->ip, 16);
    key[17] = (uint8_t)(a->port >> 8);
    key[18] = (uint8_t)a->port;
    return hash_bytes(key, sizeof key);
}

static bool addr_eq(const sfu_ice_mux_addr *a, const sfu_ice_mux_addr *b)
{
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

sfu_ice_mux *sfu_ice_mux_new(void)
{
    sfu_ice_mux *mux = calloc(1, sizeof *mux);
    if (!mux)
        return NULL;
    mux->uf = calloc(MIN_CAP, sizeof *mux->uf);
    mux->ad = calloc(MIN_CAP, sizeof *mux->ad);
    if (!mux->uf || !mux->ad)
        goto err;
    mux->ucap = mux->acap = MIN_CAP;
    return mux;
err:
    sfu_ice_mux_free(mux);
    return NULL;
}

void sfu_ice_mux_free(sfu_ice_mux *mux)
{
    if (!mux)
        return;
    free(mux->uf);
    free(mux->ad);
    free(mux);
}

size_t sfu_ice_mux_ufrags(const sfu_ice_mux *mux) { return mux->un; }
size_t sfu_ice_mux_addrs(const sfu_ice_mux *mux) { return mux->an; }

/* ---- ufrag → generation ---- */

static size_t ufrag_find(const sfu_ice_mux *mux, const char *u, size_t n)
{
    size_t mask = mux->ucap - 1;
    for (size_t i = hash_bytes(u, n) & mask;; i = (i + 1) & mask) {
        const ufrag_slot *s = &mux->uf[i];
        if (!s->used)
            return SIZE_MAX;
        if (s->ulen == n && memcmp(s->ufrag, u, n) == 0)
            return i;
    }
}

static void ufrag_put(ufrag_slot *tab, size_t cap, const ufrag_slot *e)
{
    size_t mask = cap - 1;
    size_t i = hash_bytes(e->ufrag, e->ulen) & mask;
    while (tab[i].used)
        i = (i + 1) & mask;
    tab[i] = *e;
}

static int ufrag_grow(sfu_ice_mux *mux)
{
    if ((mux->un + 1) * 2 <= mux->ucap)
        return 0;
    size_t cap = mux->ucap * 2;
    ufrag_slot *tab = calloc(cap, sizeof *tab);
    if (!tab)
        return -SFU_ENOMEM;
    for (size_t i = 0; i < mux->ucap; i++)
        if (mux->uf[i].used)
            ufrag_put(tab, cap, &mux->uf[i]);
    free(mux->uf);
    mux->uf = tab;
    mux->ucap = cap;
    return 0;
}

int sfu_ice_mux_add_ufrag(sfu_ice_mux *mux, const char *ufrag, const char *pwd, uint32_t owner,
                          uint32_t gen)
{
    size_t n = ufrag ? strlen(ufrag) : 0, pn = pwd ? strlen(pwd) : 0;
    if (owner == 0 || n == 0 || n > SFU_ICE_MUX_UFRAG_MAX || pn == 0 || pn > SFU_ICE_MUX_PWD_MAX ||
        memchr(ufrag, ':', n))
        return -SFU_EINVAL;
    if (ufrag_find(mux, ufrag, n) != SIZE_MAX)
        return -SFU_ESTATE;
    int rc = ufrag_grow(mux);
    if (rc != 0)
        return rc;
    ufrag_slot e = { .used = true, .ulen = (uint8_t)n, .owner = owner, .gen = gen };
    memcpy(e.ufrag, ufrag, n);
    memcpy(e.pwd, pwd, pn);
    ufrag_put(mux->uf, mux->ucap, &e);
    mux->un++;
    return 0;
}

int sfu_ice_mux_set_remote(sfu_ice_mux *mux, const char *ufrag, const char *remote_ufrag)
{
    size_t i = ufrag_find(mux, ufrag, strlen(ufrag));
    if (i == SIZE_MAX)
        return -SFU_ENOTFOUND;
    size_t rn = strlen(remote_ufrag);
    if (rn > SFU_ICE_MUX_UFRAG_MAX)
        return -SFU_EINVAL;
    ufrag_slot *s = &mux->uf[i];
    memset(s->remote, 0, sizeof s->remote);
    memcpy(s->remote, remote_ufrag, rn);
    s->rlen = (uint8_t)rn;
    return 0;
}

/* Backward-shift deletion of slot i: later members of the probe run move
 * up into the hole when their home slot allows it. */
static void ufrag_delete(sfu_ice_mux *mux, size_t i)
{
    size_t mask = mux->ucap - 1;
    size_t j = i;
    for (;;) {
        mux->uf[i].used = false;
        for (;;) {
            j = (j + 1) & mask;
            if (!mux->uf[j].used) {
                mux->un--;
                return;
            }
            size_t home = hash_bytes(mux->uf[j].ufrag, mux->uf[j].ulen) & mask;
            /* j may move to i unless its home lies cyclically in (i, j] */
            bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        mux->uf[i] = mux->uf[j];
        i = j;
    }
}

void sfu_ice_mux_remove_ufrag(sfu_ice_mux *mux, const char *ufrag)
{
    size_t i = ufrag_find(mux, ufrag, strlen(ufrag));
    if (i != SIZE_MAX)
        ufrag_delete(mux, i);
}

bool sfu_ice_mux_find_username(const sfu_ice_mux *mux, const uint8_t *username, size_t len,
                               sfu_ice_mux_cred *out)
{
    const uint8_t *colon = memchr(username, ':', len);
    if (!colon)
        return false;
    size_t ln = (size_t)(colon - username), rn = len - ln - 1;
    if (ln == 0 || ln > SFU_ICE_MUX_UFRAG_MAX || rn == 0)
        return false;
    size_t i = ufrag_find(mux, (const char *)username, ln);
    if (i == SIZE_MAX)
        return false;
    const ufrag_slot *s = &mux->uf[i];
    if (s->rlen == 0 || s->rlen != rn || memcmp(s->remote, colon + 1, rn) != 0)
        return false;
    *out = (sfu_ice_mux_cred){ .owner = s->owner, .gen = s->gen, .pwd = s->pwd };
    return true;
}

/* ---- address → owner ---- */

static size_t addr_find(const sfu_ice_mux *mux, const sfu_ice_mux_addr *a)
{
    size_t mask = mux->acap - 1;
    for (size_t i = hash_addr(a) & mask;; i = (i + 1) & mask) {
        const addr_slot *s = &mux->ad[i];
        if (!s->used)
            return SIZE_MAX;
        if (addr_eq(&s->addr, a))
            return i;
    }
}

static void addr_put(addr_slot *tab, size_t cap, const addr_slot *e)
{
    size_t mask = cap - 1;
    size_t i = hash_addr(&e->addr) & mask;
    while (tab[i].used)
        i = (i + 1) & mask;
    tab[i] = *e;
}

static int addr_grow(sfu_ice_mux *mux)
{
    if ((mux->an + 1) * 2 <= mux->acap)
        return 0;
    size_t cap = mux->acap * 2;
    addr_slot *tab = calloc(cap, sizeof *tab);
    if (!tab)
        return -SFU_ENOMEM;
    for (size_t i = 0; i < mux->acap; i++)
        if (mux->ad[i].used)
            addr_put(tab, cap, &mux->ad[i]);
    free(mux->ad);
    mux->ad = tab;
    mux->acap = cap;
    return 0;
}

static void addr_delete(sfu_ice_mux *mux, size_t i)
{
    size_t mask = mux->acap - 1;
    size_t j = i;
    for (;;) {
        mux->ad[i].used = false;
        for (;;) {
            j = (j + 1) & mask;
            if (!mux->ad[j].used) {
                mux->an--;
                return;
            }
            size_t home = hash_addr(&mux->ad[j].addr) & mask;
            bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        mux->ad[i] = mux->ad[j];
        i = j;
    }
}

/* Keeps at most `keep` addresses of `owner`, dropping the oldest. A scan
 * of the table: it runs only when an authenticated check comes from an
 * address new to its owner. */
static void addr_trim(sfu_ice_mux *mux, uint32_t owner, unsigned keep)
{
    for (;;) {
        unsigned n = 0;
        size_t oldest = SIZE_MAX;
        for (size_t i = 0; i < mux->acap; i++)
            if (mux->ad[i].used && mux->ad[i].owner == owner) {
                n++;
                if (oldest == SIZE_MAX || mux->ad[i].seq < mux->ad[oldest].seq)
                    oldest = i;
            }
        if (n <= keep)
            return;
        addr_delete(mux, oldest);
    }
}

int sfu_ice_mux_bind(sfu_ice_mux *mux, const sfu_ice_mux_addr *addr, uint32_t owner)
{
    if (owner == 0 || (addr->family != 4 && addr->family != 6))
        return -SFU_EINVAL;
    size_t i = addr_find(mux, addr);
    if (i != SIZE_MAX) {
        addr_slot *s = &mux->ad[i];
        if (s->owner == owner)
            return 0;
        s->owner = owner;   /* the newest authenticated check decides */
        s->seq = ++mux->seq;
        addr_trim(mux, owner, SFU_ICE_MUX_ADDRS_PER_OWNER);
        return 1;
    }
    addr_trim(mux, owner, SFU_ICE_MUX_ADDRS_PER_OWNER - 1);
    int rc = addr_grow(mux);
    if (rc != 0)
        return rc;
    addr_slot e = { .used = true, .addr = *addr, .owner = owner, .seq = ++mux->seq };
    addr_put(mux->ad, mux->acap, &e);
    mux->an++;
    return 1;
}

uint32_t sfu_ice_mux_lookup(const sfu_ice_mux *mux, const sfu_ice_mux_addr *addr)
{
    size_t i = addr_find(mux, addr);
    return i == SIZE_MAX ? 0 : mux->ad[i].owner;
}

void sfu_ice_mux_remove_owner(sfu_ice_mux *mux, uint32_t owner)
{
    /* A backward shift may move a later slot into i: look at i again. */
    for (size_t i = 0; i < mux->acap;)
        if (mux->ad[i].used && mux->ad[i].owner == owner)
            addr_delete(mux, i);
        else
            i++;
    for (size_t i = 0; i < mux->ucap;)
        if (mux->uf[i].used && mux->uf[i].owner == owner)
            ufrag_delete(mux, i);
        else
            i++;
}
