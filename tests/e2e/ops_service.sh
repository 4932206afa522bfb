#!/bin/bash
# configs/sfu.service: `systemd-analyze verify` accepts it, and it carries
# the options docs/OPERATIONS.md promises (unprivileged user, hardening,
# reload by SIGHUP, a stop timeout above the drain time).
#
#   tests/e2e/ops_service.sh [--sfu build/sfu]
#
# The unit names /usr/local/bin/sfu, which verify insists exists: a copy
# pointing at --sfu is verified instead. Prints PASS/FAIL lines and
# "N passed, M failed"; SKIP when systemd-analyze is missing.
set -u
cd "$(dirname "$0")/../.."
SFU=build/sfu
[ "${1:-}" = --sfu ] && SFU=$2
UNIT=configs/sfu.service
. tests/e2e/checks.sh   # after the cd to the repository root
if ! command -v systemd-analyze >/dev/null; then
    echo "SKIP systemd-analyze not installed"; echo "0 passed, 0 failed"; exit 0
fi
TMP=$(mktemp -d /tmp/sfu-unit-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
sed "s#/usr/local/bin/sfu#$(realpath "$SFU")#g; s#/usr/local/share/sfu#$PWD#" "$UNIT" >"$TMP/sfu.service"
out=$(systemd-analyze verify "$TMP/sfu.service" 2>&1)
check "systemd-analyze verify" "$([ $? -eq 0 ] && [ -z "$out" ]; echo $?)" "${out:-no warnings}"
for want in "User=sfu" "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" \
    "PrivateTmp=yes" "PrivateDevices=yes" "CapabilityBoundingSet=$" \
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK" \
    "SystemCallFilter=@system-service" "ExecReload=/bin/kill -HUP \\\$MAINPID" "KillSignal=SIGTERM" \
    "LimitNOFILE="; do
    grep -q "^$want" "$UNIT"
    check "unit has $want" $?
done
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$UNIT")
check "TimeoutStopSec ($stop s) is above the suggested drain_timeout_s (60 s)" \
    "$([ "${stop:-0}" -gt 60 ]; echo $?)"
score=$(systemd-analyze security --offline=yes "$TMP/sfu.service" 2>/dev/null |
    sed -n 's/.*Overall exposure level for sfu.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security exposure below 2.0" \
    "$(awk "BEGIN { exit !(\"${score:-10}\" + 0 < 2.0) }"; echo $?)" "${score:-unknown}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
