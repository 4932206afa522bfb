#!/bin/bash
# `sfu --version` and where the version comes from.
#
#   tests/cli/version.sh build/sfu
#
# Checks: the line's form ("sfu X.Y.Z (git HASH)"), exit 0, nothing on
# stderr; the version is the Makefile's; in a git checkout the hash names a
# commit of this repository; --version with an argument is a usage error;
# the Makefile writes the same header twice (no date: reproducible) and,
# from a copy without .git, says "unknown" instead of failing.
# One PASS/FAIL line per check, then "N passed, M failed".
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

check() { # check NAME DETAIL COMMAND...: PASS if COMMAND succeeds
    local name=$1 detail=$2
    shift 2
    if "$@"; then
        echo "PASS $name"; pass=$((pass + 1))
    else
        echo "FAIL $name ($detail)"; fail=$((fail + 1))
    fi
}

timeout 10 "$SFU" --version >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
out=$(cat "$tmp/out")
err=$(cat "$tmp/err")
detail="rc=$rc out='$out' err='${err:0:200}'"
re='^sfu ([0-9]+\.[0-9]+\.[0-9]+) \(git ([0-9a-f]{7,40}|unknown)\)$'
check "--version exits 0 with one line on stdout, nothing on stderr" "$detail" \
    test "$rc" = 0 -a -z "$err" -a "$(wc -l <"$tmp/out")" = 1
check "--version prints 'sfu X.Y.Z (git HASH)'" "$detail" eval '[[ "$out" =~ $re ]]'
version=$(sed -nE 's/^sfu ([^ ]+) .*/\1/p' <<<"$out")
hash=$(sed -nE 's/.*\(git ([^)]+)\)$/\1/p' <<<"$out")
make_version=$(sed -nE 's/^SFU_VERSION := (.*)$/\1/p' Makefile)
check "the version is the Makefile's SFU_VERSION ($make_version)" "got '$version'" \
    test -n "$make_version" -a "$version" = "$make_version"
if [ -e .git ] && command -v git >/dev/null; then
    check "the hash ($hash) names a commit of this repository" "git cat-file failed" \
        git cat-file -e "$hash^{commit}"
else
    check "outside git the hash is 'unknown'" "got '$hash'" test "$hash" = unknown
fi

timeout 10 "$SFU" --version extra >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
check "--version with an argument: exit 2 with usage" "rc=$rc" \
    test "$rc" = 2 -a -n "$(grep -i 'usage:' "$tmp/err")"
timeout 10 "$SFU" --help >"$tmp/out" 2>&1 </dev/null
check "--help mentions --version" "$(head -c 200 "$tmp/out")" grep -q -- '--version' "$tmp/out"

# The generated header: the same bytes twice, and "unknown" without git.
make -s BUILD="$tmp/b1" "$tmp/b1/gen/version_gen.h" >/dev/null 2>&1
make -s BUILD="$tmp/b2" "$tmp/b2/gen/version_gen.h" >/dev/null 2>&1
check "two builds write the same version header" "$(cat "$tmp/b1/gen/version_gen.h" 2>&1)" \
    cmp -s "$tmp/b1/gen/version_gen.h" "$tmp/b2/gen/version_gen.h"
check "the header carries the hash the binary prints" "$(cat "$tmp/b1/gen/version_gen.h")" \
    grep -q "SFU_COMMIT \"$hash\"" "$tmp/b1/gen/version_gen.h"
mkdir -p "$tmp/nogit/bench"
cp Makefile "$tmp/nogit/" && cp bench/bench.mk "$tmp/nogit/bench/"
(cd "$tmp/nogit" && GIT_CEILING_DIRECTORIES="$tmp" make -s BUILD=b b/gen/version_gen.h) \
    >"$tmp/nogit.log" 2>&1
check "without .git the build says commit \"unknown\" and does not fail" \
    "$(head -c 300 "$tmp/nogit.log")" grep -q 'SFU_COMMIT "unknown"' "$tmp/nogit/b/gen/version_gen.h"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
