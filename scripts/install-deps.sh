#!/bin/sh
# Installs the Debian 12 packages that building and testing need, only when
# something is missing, so `make run` and `make test` work on a fresh machine.
set -eu

PACKAGES="build-essential pkg-config clang libclang-rt-14-dev llvm
libnice-dev libsrtp2-dev libssl-dev libmicrohttpd-dev libjansson-dev
libglib2.0-dev libopus-dev libvpx-dev libhiredis-dev
python3 python3-aiortc python3-numpy
iproute2 nftables curl procps prometheus strace
chromium firefox-esr coturn redis-server"

# `install-deps.sh bench` adds what only the comparison benchmark and the
# ramp plot need (make bench-compare, make bench-ramp).
if [ "${1:-}" = bench ]; then
    PACKAGES="$PACKAGES janus jq gnuplot-nox"
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

# Node.js may come from elsewhere (nodesource bundles npm and conflicts with
# Debian's npm package): only the commands matter.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "install-deps: missing packages:$missing (run as root to install)" >&2
        exit 1
    fi
    echo "install-deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# playwright-core drives Debian's Chromium, puppeteer-core Debian's
# firefox-esr (WebDriver BiDi); neither may ever fetch a browser.
if [ ! -d tests/e2e/node_modules/playwright-core ] || [ ! -d tests/e2e/node_modules/puppeteer-core ]; then
    echo "install-deps: npm ci in tests/e2e"
    (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 \
        npm ci --no-audit --no-fund --silent)
fi
