#!/usr/bin/env bats
# Fuzz corpora replayed without libFuzzer: every tests/fuzz/fuzz_*.c is
# built by `make` into $BUILD/fuzz/<target> (linked with
# tests/fuzz/regression_driver.c) and fed every file of
# tests/fuzz/corpus/<target>/.  A crash or sanitizer report (make
# sanitize) fails the replay.  Fuzzing itself is `make fuzz`.

load helpers

FUZZ_BIN=${CKPT_BUILD:-$(dirname "$CKPT")}/fuzz

targets() {
	local f
	for f in "$CKPT_TOP"/tests/fuzz/fuzz_*.c; do
		[[ -e $f ]] || continue
		f=${f##*/}
		echo "${f%.c}"
	done
}

@test "fuzz: every target is built with the corpus replayer" {
	local t missing=""
	for t in $(targets); do
		[[ -x $FUZZ_BIN/$t ]] || missing+=" $t"
	done
	[[ -z $missing ]] || fail "not built in $FUZZ_BIN:$missing (run make)"
}

@test "fuzz: every target has a seed corpus" {
	local t missing=""
	for t in $(targets); do
		compgen -G "$CKPT_TOP/tests/fuzz/corpus/$t/*" >/dev/null ||
			missing+=" $t"
	done
	[[ -z $missing ]] || fail "no files in tests/fuzz/corpus/<target>/ for:$missing"
}

@test "fuzz: every corpus replays without a crash" {
	local t n=0
	for t in $(targets); do
		[[ -d $CKPT_TOP/tests/fuzz/corpus/$t && -x $FUZZ_BIN/$t ]] ||
			continue
		run -0 "$FUZZ_BIN/$t" "$CKPT_TOP/tests/fuzz/corpus/$t"
		assert_output --regexp ': [1-9][0-9]* inputs replayed$'
		n=$((n + 1))
	done
	((n > 0)) || fail "no corpus was replayed"
}

@test "fuzz: the replayer reports usage and unreadable inputs" {
	local t
	t=$(targets | head -n 1)
	[[ -x $FUZZ_BIN/$t ]] || skip "no fuzz target built"
	run -2 "$FUZZ_BIN/$t"
	assert_output --partial usage
	run -1 "$FUZZ_BIN/$t" "$BATS_TEST_TMPDIR/missing"
}
