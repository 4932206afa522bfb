/* Fuzzes the shared port's table (sfu/core/ice_mux.h) with USERNAME
 * attributes and source addresses from the network: a lookup finds only
 * the registered generation whose "local:remote" matches exactly, and never
 * changes the table. The first byte picks how many of the input's lines are
 * registered first ("ufrag:remote" each), the rest is one USERNAME. */
#include "sfu/core/ice_mux.h"

#include <stdlib.h>
#include <string.h>

static void check(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    sfu_ice_mux *m = sfu_ice_mux_new();
    if (!m)
        return 0;
    unsigned nreg = data[0] % 8;
    const uint8_t *p = data + 1, *end = data + size;
    for (unsigned i = 0; i < nreg && p < end; i++) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        char line[160] = { 0 };
        size_t n = (size_t)(nl - p) < sizeof line - 1 ? (size_t)(nl - p) : sizeof line - 1;
        memcpy(line, p, n);
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            if (sfu_ice_mux_add_ufrag(m, line, "password", i + 1, i) == 0)
                check(sfu_ice_mux_set_remote(m, line, colon + 1) == 0 ||
                      strlen(colon + 1) > SFU_ICE_MUX_UFRAG_MAX);
        }
        p = nl + 1;
    }
    size_t before = sfu_ice_mux_ufrags(m);
    size_t ulen = (size_t)(end - p);
    sfu_ice_mux_cred c;
    if (sfu_ice_mux_find_username(m, p, ulen, &c)) {
        check(c.owner >= 1 && c.owner <= nreg);
        check(memchr(p, ':', ulen) != NULL);
        check(strcmp(c.pwd, "password") == 0);
    }
    sfu_ice_mux_addr a = { .family = 4 };
    memcpy(a.ip, p, ulen < 4 ? ulen : 4);
    check(sfu_ice_mux_lookup(m, &a) == 0);
    check(sfu_ice_mux_ufrags(m) == before && sfu_ice_mux_addrs(m) == 0);
    sfu_ice_mux_free(m);
    return 0;
}
