#!/bin/bash
# Command-line behaviour of the sfu binary: config checking and usage.
#
#   tests/cli/check_config.sh build/sfu
#
# One PASS/FAIL line per check, then "N passed, M failed"; exit 0 only when
# every check passed. Runs from the repository root (configs/sfu.conf and
# tests/data/config/ are found relative to this script).
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 SFU_BINARY" >&2
    exit 2
fi
SFU=$(realpath "$1") || exit 2
[ -x "$SFU" ] || { echo "$0: $1 is not executable" >&2; exit 2; }
cd "$(dirname "$0")/../.." || exit 2

pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1${2:+ ($2)}"; fail=$((fail + 1)); }
check() { # check NAME DETAIL COMMAND...: PASS if COMMAND succeeds
    local name=$1 detail=$2
    shift 2
    if "$@"; then ok "$name"; else ko "$name" "$detail"; fi
}

# run ARGS...: runs the sfu (10 s at most); sets rc, out, err
run() {
    timeout 10 "$SFU" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

brief() { # the output, shortened to one line for a FAIL detail
    printf '%s' "rc=$rc out=${out:0:200} err=${err:0:200}" | tr '\n' '|'
}

# ---- good files: exit 0, say nothing
for f in configs/sfu.conf tests/data/config/good.conf configs/cluster/node-*.conf; do
    run --check-config "$f"
    check "--check-config $f exits 0 with no output" "$(brief)" \
        test "$rc" = 0 -a -z "$out" -a -z "$err"
done

# ---- every bad file: exit 1, only "file:line: key: problem" lines
line_re='^([^:]+):([0-9]+): ([A-Za-z0-9_.-]+): (.+)$'
bad_files=(tests/data/config/bad_*.conf)
check "tests/data/config has bad_*.conf files" "none found" test -e "${bad_files[0]}"
for f in "${bad_files[@]}"; do
    [ -e "$f" ] || continue
    run --check-config "$f"
    nlines=$(($(wc -l <"$f") + 1))
    problems=""
    [ "$rc" = 1 ] || problems+="exit $rc, expected 1; "
    [ -n "$out$err" ] || problems+="no output; "
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        if [[ "$line" =~ $line_re ]]; then
            [ "${BASH_REMATCH[1]}" = "$f" ] || problems+="names file ${BASH_REMATCH[1]}; "
            n=${BASH_REMATCH[2]}
            [ "$n" -ge 1 -a "$n" -le "$nlines" ] || problems+="line $n is not in the file; "
        else
            problems+="not file:line: key: problem: '${line:0:80}'; "
        fi
    done <<<"$out"$'\n'"$err"
    check "--check-config $f exits 1 with file:line: key: problem lines" \
        "$problems$(brief)" test -z "$problems"
done

# ---- exact text for a few
expect_lines() { # FILE EXPECTED-OUTPUT (lines, in order)
    local f=tests/data/config/$1 want=$2
    run --check-config "$f"
    check "--check-config $1 prints exactly: ${want//$'\n'/ / }" "$(brief)" \
        test "$rc" = 1 -a "$out$err" = "$want"
}
d=tests/data/config
expect_lines bad_duplicate.conf "$d/bad_duplicate.conf:3: log.level: duplicate key (first at line 2)"
expect_lines bad_cluster_public_url.conf \
    "$d/bad_cluster_public_url.conf:3: cluster.public_url: expected http(s)://HOST[:PORT] with no path, got \"http://10.0.0.1:8080/sfu\""
expect_lines bad_unknown_key.conf \
    "$d/bad_unknown_key.conf:3: http.lisen: unknown key (did you mean listen?)"
expect_lines bad_wrong_group.conf \
    "$d/bad_wrong_group.conf:2: http.workers: unknown key (it belongs in [media])"
expect_lines bad_range.conf "$d/bad_range.conf:3: media.workers: 65 is out of range [0, 64]"
expect_lines bad_type.conf "$d/bad_type.conf:2: media.workers: expected a whole number, got \"many\""
expect_lines bad_syntax.conf \
    "$d/bad_syntax.conf:2: syntax: expected [group], key = value or # comment"

# every problem of a file is reported, not just the first
lines_keys() { # FILE -> "line key" per problem
    run --check-config "$1"
    printf '%s\n' "$out" "$err" | sed -nE 's/^[^:]+:([0-9]+): ([A-Za-z0-9_.-]+): .*/\1 \2/p'
}
got=$(lines_keys $d/bad_several.conf | tr '\n' ',')
check "bad_several.conf: all three problems (lines 2, 3, 7) reported" "got $got" \
    test "$got" = "2 http.max_body_bytes,3 http.max_connections,7 media.rtx_cache_packets,"
got=$(lines_keys $d/bad_mixed.conf | sort -u | tr '\n' ',')
for want in "3 http.listen" "5 rooms" "8 media.gather_adresses"; do
    check "bad_mixed.conf: problem '$want' reported" "got $got" \
        grep -q "$want" <<<"$got"
done

# ---- a file that cannot be read
run --check-config "$tmp/missing.conf"
check "--check-config of a missing file exits 1 naming it" "$(brief)" \
    test "$rc" = 1 -a -n "$(grep -F "$tmp/missing.conf" <<<"$out$err")"

# ---- usage
run
check "no arguments: exit 2 with usage on stderr" "$(brief)" \
    test "$rc" = 2 -a -z "$out" -a -n "$(grep -i '^usage:' <<<"$err")"
run --bogus
check "unknown option: exit 2 with usage" "$(brief)" \
    test "$rc" = 2 -a -n "$(grep -i 'usage:' <<<"$err")"
run --config
check "--config without a file: exit 2 with usage" "$(brief)" \
    test "$rc" = 2 -a -n "$(grep -i 'usage:' <<<"$err")"
run --help
check "--help: exit 0 with usage on stdout" "$(brief)" \
    test "$rc" = 0 -a -n "$(grep -i '^usage:' <<<"$out")"

# ---- --config of a bad file: exit 1 at once, never starts
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '[http]\nlisten = 127.0.0.1:%s\n[media]\nworkers = many\n' "$port" >"$tmp/bad.conf"
run --config "$tmp/bad.conf"
check "--config of a bad file exits 1 (not 124: it did not keep running)" "$(brief)" \
    test "$rc" = 1
check "--config of a bad file prints the problem as file:line: key: problem" "$(brief)" \
    test -n "$(grep -F "$tmp/bad.conf:4: media.workers: " <<<"$out$err")"
check "--config of a bad file never starts the server" "$(brief)" \
    test -z "$(grep -E 'server\.started|listening' <<<"$out$err")"
run --config "$d/bad_several.conf"
check "--config tests/data/config/bad_several.conf exits 1 listing its problems" "$(brief)" \
    test "$rc" = 1 -a "$(grep -c '^tests/data/config/bad_several.conf:[0-9]*: ' <<<"$out$err")" = 3
run --config "$tmp/missing.conf"
check "--config of a missing file exits 1" "$(brief)" test "$rc" = 1

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
