#!/usr/bin/env bats
# restore-test.bats - ckpt restore-test: a modest run passes with valid
# TAP, JUnit and JSON; the harness catches deliberate bugs (a test-hooks
# build of ckpt, made here, with CKPT_TEST_BUG) with exit 3 and a
# command line that reproduces them; usage errors exit 2.

load helpers

# The test-hooks variant: the objects of the build under test, with
# lib/ctx_test.c recompiled with -DCKPT_TEST_HOOKS (the one file that
# reads CKPT_TEST_BUG).  Built once per file into $BATS_FILE_TMPDIR.
build_bug_binary() {
	local build=${CKPT_BUILD:-$(dirname "$CKPT")} cc=${CC:-cc} san=()
	local pkgs="libarchive libcurl libcjson libzstd liblz4 libxxhash zlib"
	local objs=() f o
	if [[ ${CKPT_SANITIZE-} == 1 ]]; then
		cc=clang
		san=(-fsanitize=address,undefined -fno-sanitize-recover=all)
	fi
	for f in "$CKPT_TOP"/lib/*.c "$CKPT_TOP"/lib/*/*.c "$CKPT_TOP"/cmd/*.c; do
		f=${f#"$CKPT_TOP"/}
		[[ $f == lib/ctx_test.c ]] && continue
		o=$build/${f%.c}.o
		[[ -f $o ]] || return 1
		objs+=("$o")
	done
	"$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g "${san[@]}" \
		-DCKPT_TEST_HOOKS $(pkg-config --cflags $pkgs) \
		-c "$CKPT_TOP/lib/ctx_test.c" -o "$BATS_FILE_TMPDIR/ctx_test.o" &&
	"$cc" "${san[@]}" -o "$BATS_FILE_TMPDIR/ckpt-bugs" "${objs[@]}" \
		"$BATS_FILE_TMPDIR/ctx_test.o" $(pkg-config --libs $pkgs) \
		-lm -lpthread $(pkg-config --libs readline 2>/dev/null || echo -lreadline)
}

setup_file() {
	build_bug_binary > "$BATS_FILE_TMPDIR/build.log" 2>&1 || true
	export BUGGY=$BATS_FILE_TMPDIR/ckpt-bugs
}

# Runs go to a fresh mktemp directory, in memory when /dev/shm exists:
# the engine fsyncs a lot, and the power-loss journal models
# durability itself, so tmpfs changes nothing but the speed.
setup() {
	if [[ -d /dev/shm && -w /dev/shm ]]; then
		RT_TMP=$(mktemp -d /dev/shm/ckpt-restore-test-bats-XXXXXX)
	else
		RT_TMP=$(mktemp -d "$BATS_TEST_TMPDIR/rt-XXXXXX")
	fi
	export TMPDIR=$RT_TMP
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	[[ -n ${RT_TMP-} ]] && rm -rf "$RT_TMP"
}

need_bug_binary() {
	[[ -x $BUGGY ]] || fail "cannot build the test-hooks binary: $(cat "$BATS_FILE_TMPDIR/build.log")"
}

# Checks that $1 is a TAP stream whose plan matches its test lines.
assert_tap() {
	python3 - "$1" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
plans = [l for l in lines if re.fullmatch(r'1\.\.\d+', l)]
tests = [l for l in lines if re.match(r'(not )?ok \d+ ', l)]
assert len(plans) == 1, "want one plan line, got %d" % len(plans)
n = int(plans[0][3:])
assert n == len(tests) and n > 0, "plan %d, %d test lines" % (n, len(tests))
nums = [int(re.match(r'(?:not )?ok (\d+)', l).group(1)) for l in tests]
assert nums == list(range(1, n + 1)), "test numbers out of order"
for l in lines:
    assert (l == "TAP version 13" or re.fullmatch(r'1\.\.\d+', l) or
            re.match(r'(not )?ok \d+ - ', l) or l.startswith('#')), \
        "not TAP: %r" % l
PY
}

@test "restore-test: --help matches golden" {
	run -0 --separate-stderr "$CKPT" restore-test --help
	assert_golden restore-test help
}

@test "restore-test: usage errors exit 2" {
	run -2 --separate-stderr "$CKPT" restore-test
	assert_equal "${stderr_lines[0]}" "ckpt restore-test: --job is required"
	run -2 --separate-stderr "$CKPT" restore-test --job nosuch
	run -2 --separate-stderr "$CKPT" restore-test --job all --crash-points commit.nosuch
	assert_regex "$stderr" "bad --crash-points 'commit.nosuch'"
	run -2 --separate-stderr "$CKPT" restore-test --job all --fault-at write:EPERM
	run -2 --separate-stderr "$CKPT" restore-test --job all --fault-at fsync:SHORT
	run -2 --separate-stderr "$CKPT" restore-test --job all --kill-at 10,x
	run -2 --separate-stderr "$CKPT" restore-test --job all --input f --events 3
	run -2 --separate-stderr "$CKPT" restore-test --job all --power-loss --checkpoint s3://b/p
	run -2 --separate-stderr "$CKPT" restore-test --job all -j 0
}

@test "restore-test: --list-crash-points lists the points of the man page" {
	run -0 "$CKPT" restore-test --list-crash-points
	local names man
	names=$(awk '{ print $1 }' <<<"$output" | sort)
	[[ $(wc -l <<<"$names") -ge 10 ]] || fail "too few points: $names"
	assert_regex "$output" "commit\.before_entry +everything but the commit entry is durable"
	man=$(mandoc -Tascii -O width=400 "$CKPT_TOP/man/ckpt-restore-test.1" | col -b |
		awk '/^CRASH POINTS/ { on = 1; next } /^[A-Z]/ { on = 0 }
			on && /^       [a-z_]+\.[a-z_]+$/ { print $1 }' | sort)
	diff -u <(echo "$man") <(echo "$names") ||
		fail "man page CRASH POINTS and --list-crash-points differ"
	run -0 "$CKPT" restore-test --list-crash-points --json
	python3 -c 'import json,sys; d=json.load(sys.stdin)["crash_points"]; assert len(d) >= 10 and all(p["name"] and p["description"] for p in d)' <<<"$output"
}

@test "restore-test: a reference run that fails is a harness error (exit 1)" {
	run -1 --separate-stderr "$CKPT" restore-test --job wordcount --input "$BATS_TEST_TMPDIR/missing" --kills 1
	assert_regex "$stderr" "ckpt restore-test: the reference run of wordcount failed: .*"
}

@test "restore-test: 20 kills per job and every crash point pass, as valid TAP" {
	run -0 --separate-stderr "$CKPT" restore-test --job all --kills 20 \
		--crash-points all --seed 11 --events 2000 -j 2 --format tap
	printf '%s\n' "$output" > run.tap
	assert_tap run.tap
	refute_line --regexp '^not ok'
	local job p
	for job in wordcount window session; do
		for p in $("$CKPT" restore-test --list-crash-points | awk '{ print $1 }'); do
			assert_line --regexp "^ok [0-9]+ - $job: crash point $p:[0-9]+"
		done
	done
	# the kills happened, and the commit path was crashed in every job
	local kills=$(grep -oE '; [0-9]+ kills' <<<"$output" | grep -oE '[0-9]+')
	[[ $kills -ge 60 ]] || fail "only $kills kills"
	assert_line --regexp '^ok [0-9]+ - wordcount: crash point commit.before_entry:[0-9]+$'
	assert_line --regexp '^# [0-9]+ cases: [0-9]+ passed, 0 failed, [0-9]+ skipped, 0 errors; '
	# nothing is left behind
	[[ -z $(ls "$RT_TMP") ]] ||
		fail "temp root not removed"
}

@test "restore-test: a crash while the directory is being created restores" {
	# found by restore-test: meta/ holding only a temp file made the
	# restart refuse the directory as "not a checkpoint"
	run -0 "$CKPT" restore-test --job all --seed 5 --events 300 --format tap \
		--crash-points store.mid_write:1,store.before_fsync:1,store.before_rename:1,store.before_dir_fsync:1
	refute_line --regexp '^not ok'
	assert_line --regexp '^# 12 cases: 12 passed, 0 failed, 0 skipped, 0 errors; '
}

@test "restore-test: JUnit and JSON reports are well-formed" {
	run -0 --separate-stderr "$CKPT" restore-test --job window --kills 3 \
		--crash-points commit.after_entry,lock.takeover --seed 5 --events 1500 --format junit
	printf '%s\n' "$output" > report
	python3 - report <<'PY' || fail "bad JUnit XML: $output"
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(open(sys.argv[1]).read())
assert root.tag == "testsuites"
suites = root.findall("testsuite")
assert [s.get("name") for s in suites] == ["restore-test.window"]
cases = suites[0].findall("testcase")
assert len(cases) == int(suites[0].get("tests")) >= 3
assert root.get("failures") == "0" and root.get("errors") == "0"
assert any("lock.takeover" in c.get("name") for c in cases)
PY
	run -0 --separate-stderr "$CKPT" restore-test --job session --kills 2 \
		--crash-points commit.before_entry --seed 5 --events 1500 --json
	printf '%s\n' "$output" > report
	python3 - report <<'PY' || fail "bad JSON: $output"
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["seed", "events", "input", "power_loss", "jobs", "cases", "summary"]
assert d["seed"] == 5 and d["summary"]["failed"] == 0
assert d["summary"]["kills"] >= 2
assert {c["kind"] for c in d["cases"]} == {"kills", "crash_point"}
assert all(c["status"] == "pass" and c["reproduce"] is None for c in d["cases"])
PY
}

@test "restore-test: I/O faults fail the run cleanly and the last checkpoint restores" {
	run -0 --separate-stderr "$CKPT" restore-test --job wordcount --io-faults \
		--seed 3 --events 1500 --format tap -v
	printf '%s\n' "$output" > run.tap
	assert_tap run.tap
	assert_line --regexp '^ok [0-9]+ - wordcount: I/O fault write:ENOSPC:[0-9]+$'
	assert_line --regexp '^ok [0-9]+ - wordcount: I/O fault fsync:EIO:[0-9]+$'
	assert_line --regexp '^ok [0-9]+ - wordcount: I/O fault rename:EIO:[0-9]+$'
	assert_line --regexp '^ok [0-9]+ - wordcount: I/O fault write:SHORT:[0-9]+$'
	assert_line --regexp '^# runs: #1 failed on fsync:EIO:[0-9]+; #2 finished$'
}

@test "restore-test: catches a commit entry written before the state files (exit 3)" {
	need_bug_binary
	# the same binary without the bug passes the same case...
	# (batch 9 is the first with state: commit 10 is its entry)
	CKPT_TEST_BUG= run -0 "$BUGGY" restore-test --job wordcount \
		--crash-points commit.after_entry:10 --seed 1 --events 1500 --format tap
	# ...with it, the crash leaves a commit whose state is missing
	CKPT_TEST_BUG=commit-before-state run -3 --separate-stderr "$BUGGY" \
		restore-test --job wordcount --crash-points commit.after_entry:10 \
		--seed 1 --events 1500 --format tap
	assert_line 'not ok 1 - wordcount: crash point commit.after_entry:10'
	assert_line --regexp '^# after the crash of attempt 1 the checkpoint does not verify$'
	assert_line --regexp "^# [0-9]+ error\\(s\\), first 'state/.*': missing"
	assert_line "# reproduce: CKPT_TEST_BUG=commit-before-state $BUGGY restore-test --job wordcount --seed 1 --events 1500 --crash-points commit.after_entry:10"
	assert_line --regexp '^# 1 cases: 0 passed, 1 failed, 0 skipped, 0 errors; .* 1 divergences; '
	# the kept directory exists, and the reproducing command fails again
	local kept=$(sed -n 's/^# kept: \([^ ]*\) .*/\1/p' <<<"$output")
	assert_dir_exists "$kept"
	local cmd=$(sed -n 's/^# reproduce: //p' <<<"$output")
	run -3 env $cmd --format text
	assert_line --regexp '^FAIL wordcount: crash point commit.after_entry:10 '
	# random kills find it as well
	CKPT_TEST_BUG=commit-before-state run -3 "$BUGGY" restore-test \
		--job wordcount --kills 40 --seed 2 --events 1500 --format tap
	assert_line --regexp '^not ok '
	# a timed kill is replayed at the crash point it landed after: the
	# reproducing command names crash points only, and fails every time
	cmd=$(sed -n 's/^# reproduce: \(.* --kill-at [a-z_.]*:[0-9]*\(,[a-z_.]*:[0-9]*\)*\)$/\1/p' <<<"$output" | head -1)
	[[ -n $cmd ]] || fail "no reproducing command without timed kills in: $output"
	run -3 env $cmd --format text
	assert_line --regexp '^FAIL wordcount: kills at [a-z_.]+:[0-9]+'
	run -3 env $cmd --format text
}

@test "restore-test: catches a skipped directory fsync in power-loss mode only" {
	need_bug_binary
	# a plain crash cannot see a missing fsync...
	CKPT_TEST_BUG=skip-dir-fsync run -0 "$BUGGY" restore-test --job window \
		--crash-points commit.after_entry:3 --seed 4 --events 1500 --format tap
	# ...a power cut can
	CKPT_TEST_BUG=skip-dir-fsync run -3 --separate-stderr "$BUGGY" restore-test \
		--job window --crash-points commit.after_entry:3 --power-loss \
		--seed 4 --events 1500 --format junit
	printf '%s\n' "$output" > report
	python3 - report <<'PY' || fail "bad JUnit XML: $output"
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(open(sys.argv[1]).read())
assert root.get("failures") == "1"
f = root.find("testsuite/testcase/failure")
assert f.get("type") == "divergence"
assert "reproduce: CKPT_TEST_BUG=skip-dir-fsync " in f.text
assert "--power-loss --crash-points commit.after_entry:3" in f.text
PY
	# and the walk over every crash point finds it too
	CKPT_TEST_BUG=skip-dir-fsync run -3 "$BUGGY" restore-test --job window \
		--crash-points all --power-loss --seed 4 --events 1500 --format tap
}

@test "restore-test: a production build ignores CKPT_TEST_BUG" {
	CKPT_TEST_BUG=commit-before-state run -0 "$CKPT" restore-test \
		--job wordcount --crash-points commit.after_entry:2 --seed 1 \
		--events 1500 --format tap
	refute_line --partial 'CKPT_TEST_BUG'
}

@test "restore-test: --checkpoint puts the runs under URL and cleans up" {
	run -0 "$CKPT" restore-test --job wordcount --kills 2 --seed 3 \
		--events 300 --checkpoint "file://$RT_TMP/base" --format tap
	assert_dir_exists "$RT_TMP/base"
	[[ -z $(ls -A "$RT_TMP/base") ]] || fail "left: $(ls -A "$RT_TMP/base")"
}

@test "restore-test: completion offers jobs, crash points, faults and formats" {
	run -0 "$CKPT" __complete restore-test --job ""
	assert_output $'wordcount\nwindow\nsession\nall'
	run -0 "$CKPT" __complete restore-test --crash-points commit.a
	assert_line commit.after_entry
	assert_line commit.after_state
	run -0 "$CKPT" __complete restore-test --fault-at fs
	assert_output $'fsync:ENOSPC\nfsync:EIO'
	run -0 "$CKPT" __complete restore-test --format ""
	assert_line junit
	run -0 "$CKPT" __complete restore-test --po
	assert_output --power-loss
}

@test "restore-test: catches a power cut that loses a batch reported committed" {
	need_bug_binary
	# no directory is ever fsynced: a power cut takes everything back,
	# consistently, so only the metrics the run printed can tell
	CKPT_TEST_BUG=skip-all-dir-fsync run -0 "$BUGGY" restore-test \
		--job session --crash-points engine.after_checkpoint:2 --seed 6 \
		--events 1500 --format tap
	CKPT_TEST_BUG=skip-all-dir-fsync run -3 "$BUGGY" restore-test \
		--job session --crash-points engine.after_checkpoint:2 --power-loss \
		--seed 6 --events 1500 --format tap
	assert_line --regexp '^# batch [0-9]+ was reported committed, but '
	assert_line --regexp '^# reproduce: CKPT_TEST_BUG=skip-all-dir-fsync .* --power-loss --crash-points engine.after_checkpoint:2$'
}
