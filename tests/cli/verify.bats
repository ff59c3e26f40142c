#!/usr/bin/env bats
# ckpt verify: tiers, problem report, summary, exit codes 0/1/2/3/10,
# and a CLI corruption sample (flipped state byte, truncated commit).

load helpers

setup() {
	CK=$BATS_TEST_TMPDIR/ck
	# --help needs no checkpoint (and must work without mkckpt).
	# Golden tests use --compress none: compressed bytes (and so sizes
	# and checksums) may differ between zstd versions.
	local compress=zstd
	[[ $BATS_TEST_DESCRIPTION != *"(golden)"* ]] || compress=none
	[[ $BATS_TEST_DESCRIPTION == *--help ]] ||
		mkckpt "$CK" --batches 4 --keys 40 --partitions 2 --seed 21 \
			--compress "$compress"
}

@test "verify: --help" {
	run -0 --separate-stderr "$CKPT" verify --help
	assert_golden verify help
}

@test "verify: a clean checkpoint exits 0 with a summary (golden)" {
	run -0 --separate-stderr "$CKPT" verify "$CK"
	assert_golden verify clean
	assert_line --regexp '^verified [0-9]+ files, [0-9]+ bytes, [0-9]+ checksums: 0 errors, 0 warnings$'
}

@test "verify: --read-state on a clean checkpoint exits 0" {
	run -0 --separate-stderr "$CKPT" verify --read-state "$CK"
	assert_line --regexp ': 0 errors, 0 warnings$'
}

@test "verify: --json on a clean checkpoint (golden)" {
	run -0 --separate-stderr "$CKPT" verify --json --read-state "$CK"
	assert_golden verify clean-json
	[ "$(jq -r '"\(.level) \(.ok) \(.problems | length) \(.stats.errors)"' <<<"$output")" = "read-state true 0 0" ]
	[ "$(jq '.stats.checksums > 0' <<<"$output")" = true ]
}

@test "verify: -q drops the summary line" {
	run -0 --separate-stderr "$CKPT" verify -q "$CK"
	assert_output ""
}

@test "verify: -q prints errors only, no warnings and no summary" {
	local ck=$BATS_TEST_TMPDIR/uc f
	mkckpt "$ck" --batches 4 --keys 20 --partitions 2 --seed 4 --uncommitted
	run -0 --separate-stderr "$CKPT" verify "$ck"
	assert_line --regexp '^warning: '
	run -0 --separate-stderr "$CKPT" verify -q "$ck"
	assert_output ""
	f=$(cd "$ck" && find state -name '*.snapshot' | sort | head -1)
	flip_byte "$ck/$f" 40
	run -3 --separate-stderr "$CKPT" verify -q --read-state "$ck"
	assert_output --regexp "^error: $f: "
	refute_line --regexp '^(warning|verified) '
}

@test "verify: a flipped byte in a state file is found by --read-state (3)" {
	local f size
	f=$(cd "$CK" && find state -type f | sort | tail -1)
	size=$(stat -c %s "$CK/$f")
	flip_byte "$CK/$f" $((size / 2))
	run -3 --separate-stderr "$CKPT" verify --read-state "$CK"
	assert_line --regexp "^error: $f: "
	assert_line --regexp ': [1-9][0-9]* errors?, [0-9]+ warnings$'
	run -3 --separate-stderr "$CKPT" verify --read-state --json "$CK"
	[ "$(jq -r .ok <<<"$output")" = false ]
	run -0 jq -r '.problems[] | select(.severity == "error") | .path' <<<"$output"
	assert_line "$f"
}

@test "verify: a truncated commit exits 3 naming it" {
	local f size
	f=$(cd "$CK" && find commits -type f | sort | tail -1)
	size=$(stat -c %s "$CK/$f")
	truncate -s $((size / 2)) "$CK/$f"
	run -3 --separate-stderr "$CKPT" verify "$CK"
	assert_line --regexp "^error: .*$f"
}

@test "verify: --read-subset accepts n/t and x%" {
	run -0 --separate-stderr "$CKPT" verify --read-subset 1/2 "$CK"
	run -0 --separate-stderr "$CKPT" verify --read-subset 2/2 --json "$CK"
	[ "$(jq -r '"\(.level) \(.subset)"' <<<"$output")" = "read-subset 2/2" ]
	run -0 --separate-stderr "$CKPT" verify --read-subset 50% "$CK"
}

@test "verify: a bad --read-subset exits 2" {
	local bad
	for bad in 0/2 3/2 abc 1/ /2 150% 0% -5% 1/2x; do
		run -2 --separate-stderr "$CKPT" verify --read-subset "$bad" "$CK"
		[[ $stderr == "ckpt verify: option '--read-subset' expects N/T or X%, got '$bad'"* ]] ||
			fail "'$bad': $stderr"
	done
}

@test "verify: missing and foreign paths exit 10" {
	run -10 --separate-stderr "$CKPT" verify "$BATS_TEST_TMPDIR/nope"
	[[ $stderr == "ckpt verify: "* ]]
	mkdir "$BATS_TEST_TMPDIR/empty"
	run -10 --separate-stderr "$CKPT" verify "$BATS_TEST_TMPDIR/empty"
	head -c 100 /dev/urandom > "$BATS_TEST_TMPDIR/file"
	run -10 --separate-stderr "$CKPT" verify "$BATS_TEST_TMPDIR/file"
}

@test "verify: an unsupported URL cannot be verified (1)" {
	run -1 --separate-stderr "$CKPT" verify hdfs://namenode/x
	[[ $stderr == "ckpt verify: "*hdfs* ]]
}

@test "verify: bad flags exit 2" {
	run -2 --separate-stderr "$CKPT" verify --read-stat "$CK"
	[[ $stderr == "ckpt verify: unknown option '--read-stat'"* ]]
	run -2 --separate-stderr "$CKPT" verify
	run -2 --separate-stderr "$CKPT" verify --json
	[ "$(jq -r .error.code <<<"$output")" = usage ]
}

@test "verify: errors are red on a terminal, plain with NO_COLOR" {
	command -v script >/dev/null || skip "script(1) is not installed"
	local f
	f=$(cd "$CK" && find state -type f | sort | tail -1)
	flip_byte "$CK/$f" 40
	run -3 script -qec "$CKPT verify --read-state $CK 2>/dev/null" /dev/null
	[[ $output == *$'\033[31merror'* ]] || fail "no red: $output"
	run -3 script -qec "NO_COLOR=1 $CKPT verify --read-state $CK 2>/dev/null" /dev/null
	[[ $output != *$'\033['* ]] || fail "colour despite NO_COLOR"
}

@test "verify: progress on stderr only when it is a terminal, not with -q" {
	command -v script >/dev/null || skip "script(1) is not installed"
	run -0 script -qec "$CKPT verify --read-state $CK >/dev/null" /dev/null
	[[ $output =~ $'\r\033'\[Kverify:\ batch\ [0-9]+/[0-9]+\ \([0-9]+%\) ]] || fail "no progress: $output"
	run -0 script -qec "$CKPT verify -q --read-state $CK >/dev/null" /dev/null
	assert_output ""
	run -0 --separate-stderr "$CKPT" verify --read-state "$CK"
	[ -z "$stderr" ]
	# --json output stays clean; progress still goes to the terminal only
	run -0 script -qec "$CKPT verify --json --read-state $CK 2>/dev/null" /dev/null
	[[ $output != *verify:\ batch* ]] || fail "progress on stdout: $output"
}

@test "verify: SIGINT stops it with exit 130" {
	local big=$BATS_TEST_TMPDIR/big
	# big state, so that verify still runs after 0.1 s (~0.6 s in all)
	mkckpt "$big" --batches 2 --keys 4000000 --partitions 2 --state-every 1
	"$CKPT" verify --read-state "$big" >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
	local pid=$!
	sleep 0.1
	kill -INT "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ] || fail "exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"
	run cat "$BATS_TEST_TMPDIR/err"
	[[ -z $output || $output == "ckpt verify: "*interrupted* ]]
}

@test "verify: damaged metadata that cannot be opened is one error (3)" {
	local f
	f=$(cd "$CK" && find meta -type f | sort | head -1)
	flip_byte "$CK/$f" 40
	run -3 --separate-stderr "$CKPT" verify "$CK"
	assert_line --index 0 --regexp "^error: $CK: .*$f"
	assert_line --index 1 --regexp ": 1 errors, 0 warnings$"
	run -3 --separate-stderr "$CKPT" verify --json "$CK"
	[ "$(jq -r '.ok, .problems[0].path, .stats.errors' <<<"$output" | tr '\n' ' ')" = "false  1 " ]
}

@test "verify: every --json field is documented in ckpt-verify(1)" {
	local f
	f=$(cd "$CK" && find state -type f | sort | tail -1)
	flip_byte "$CK/$f" 40
	"$CKPT" verify --read-state --json "$CK" | json_keys | assert_keys_documented verify
}

@test "verify: a file where a partition directory belongs is damage (3)" {
	local ck=$BATS_TEST_TMPDIR/nd
	mkckpt "$ck" --batches 3 --keys 10 --partitions 2 --seed 6
	rm -rf "$ck/state/0/1"
	echo x > "$ck/state/0/1"
	run -3 --separate-stderr "$CKPT" verify "$ck"
	assert_line --regexp "^error: .*'$ck/state/0/1': Not a directory$"
	run -3 --separate-stderr "$CKPT" verify --json "$ck"
	[ "$(jq -r '.ok, .stats.errors' <<<"$output" | tr '\n' ' ')" = "false 1 " ]
}

@test "verify: -v names the tier and counts blocks and records on stderr" {
	run -0 --separate-stderr "$CKPT" verify -v --read-state "$CK"
	assert_line --regexp '^verified '
	[[ $stderr == *"ckpt verify: verifying '$CK' (file backend): read-state"* ]]
	[[ $stderr =~ "ckpt verify: read "[1-9][0-9]*" blocks, decoded "[1-9][0-9]*" records" ]]
	run -0 --separate-stderr "$CKPT" verify -v --read-subset 1/2 "$CK"
	[[ $stderr == *": read-subset 1/2"* ]]
}

@test "verify: corruption sweep through the CLI: every flip and truncation exits 3 naming the file" {
	# Every byte of a tiny v2 checkpoint (every 7th under sanitizers):
	# xor 0x80, and truncation there.  The in-process sweep with two
	# flips per byte is tests/unit/test_native_sweep.c.
	local ck=$BATS_TEST_TMPDIR/sw step=1
	[[ -n ${CKPT_SANITIZE-} ]] && step=7
	mkckpt "$ck" --batches 2 --keys 3 --partitions 1 --format-version 2
	run -0 --separate-stderr "$CKPT" verify --read-state "$ck"
	# a private copy: 5000 runs must not race a rebuild of build/ckpt
	cp "$CKPT" "$BATS_TEST_TMPDIR/ckpt"
	run python3 - "$BATS_TEST_TMPDIR/ckpt" "$ck" "$step" <<'PY'
import os, subprocess, sys
ckpt, d, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.path.relpath(os.path.join(r, f), d)
               for r, _, fs in os.walk(d) for f in fs)
bad, runs = [], 0
for f in files:
    p = os.path.join(d, f)
    orig = open(p, 'rb').read()
    for kind in ('flip', 'truncate'):
        for i in range(0, len(orig), step):
            if kind == 'flip':
                b = bytearray(orig)
                b[i] ^= 0x80
                open(p, 'wb').write(b)
            else:
                open(p, 'wb').write(orig[:i])
            r = subprocess.run([ckpt, 'verify', '--read-state', d],
                               capture_output=True, text=True)
            runs += 1
            if r.returncode != 3 or f not in r.stdout + r.stderr:
                bad.append('%s %s@%d: exit %d %s' % (f, kind, i,
                           r.returncode, (r.stdout + r.stderr)[-160:]))
    open(p, 'wb').write(orig)
print('%d runs over %d files' % (runs, len(files)))
for x in bad[:10]:
    print('BAD', x)
sys.exit(1 if bad or len(files) < 8 else 0)
PY
	refute_line --partial BAD
	assert_line --regexp '^[0-9]+ runs over [0-9]+ files$'
	[ "$status" -eq 0 ] || fail "$output"
}

@test "verify: --read-subset parts 1/T..T/T together read the state once; damage is in exactly one" {
	local ck=$BATS_TEST_TMPDIR/sub n s full sum=0 f hits=0
	mkckpt "$ck" --batches 8 --keys 200 --partitions 3 --seed 9
	# state records decoded (output blobs, read by every part, hold none)
	records() { "$CKPT" verify --json "$@" "$ck" | jq '.stats.records'; }
	s=$(records)
	full=$(records --read-state)
	[ "$s" -eq 0 ] && [ "$full" -gt 0 ]
	for n in 1 2 3; do
		local part=$(records --read-subset $n/3)
		[ "$part" -gt 0 ] || fail "part $n/3 decoded no state record"
		sum=$((sum + part))
	done
	[ "$sum" -eq "$full" ] || fail "parts decoded $sum records, --read-state $full"
	[ "$(records --read-subset 100%)" -eq "$full" ]
	f=$(cd "$ck" && find state -name '*.snapshot' | sort | sed -n 5p)
	flip_byte "$ck/$f" 40
	for n in 1 2 3; do
		run --separate-stderr "$CKPT" verify --read-subset $n/3 "$ck"
		case $status in
		3) hits=$((hits + 1)); assert_line --regexp "^error: $f: " ;;
		0) ;;
		*) fail "--read-subset $n/3 exited $status" ;;
		esac
	done
	[ "$hits" -eq 1 ]
}
