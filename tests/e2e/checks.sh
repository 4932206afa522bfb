# Sourced by the shell tests: one PASS/FAIL line per check, then the
# "N passed, M failed" line that tests/run-all.sh counts.
pass=0
fail=0
check() {   # check NAME OK(0|1) DETAIL
    if [ "$2" -eq 0 ]; then echo "PASS $1${3:+: $3}"; pass=$((pass + 1))
    else echo "FAIL $1${3:+: $3}"; fail=$((fail + 1)); fi
}
finish() {  # prints the summary; exits 0 only when something passed and nothing failed
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
    exit $?
}
