#!/usr/bin/env bats
# The dispatcher: global options, help, unknown commands, completion
# helper, exit codes, colours and the final check of stdout.

load helpers

# `ckpt --help` with its list of commands folded into one line, so the
# golden file does not change with every new command (the list itself
# is checked against `ckpt __complete` below).
fold_commands() {
	output=$(awk '/^Commands:$/ { print; print "  <commands>"; skip = 1; next }
		skip && /^$/ { skip = 0 } !skip' <<<"$output")
}

@test "ckpt: --help shows usage, commands and global options on stdout" {
	run -0 --separate-stderr "$CKPT" --help
	fold_commands
	assert_golden ckpt help
}

@test "ckpt: --help lists every command with a summary" {
	run -0 --separate-stderr "$CKPT" --help
	local cmd
	for cmd in $("$CKPT" __complete "" | grep -vx help); do
		assert_line --regexp "^  $cmd +[a-z].*"
	done
	assert_line --regexp '^  ls +'
	assert_line --regexp '^  verify +'
}

@test "ckpt: -h is --help" {
	run -0 --separate-stderr "$CKPT" -h
	fold_commands
	assert_golden ckpt help
}

@test "ckpt: help without a command is --help" {
	run -0 --separate-stderr "$CKPT" help
	fold_commands
	assert_golden ckpt help
}

@test "ckpt: no command prints usage on stderr and exits 2" {
	run -2 --separate-stderr "$CKPT"
	assert_output ""
	[[ $stderr == usage:\ ckpt* ]]
}

@test "ckpt: only global options is still no command" {
	run -2 --separate-stderr "$CKPT" -q
	assert_output ""
	[[ $stderr == usage:\ ckpt* ]]
}

@test "ckpt: --version prints the version" {
	run -0 --separate-stderr "$CKPT" --version
	assert_output "ckpt 0.1.0"
	[ -z "$stderr" ]
}

@test "ckpt: --version --json is a JSON document, before or after a command" {
	run -0 --separate-stderr "$CKPT" --version --json
	[ "$(jq -r .version <<<"$output")" = 0.1.0 ]
	run -0 --separate-stderr "$CKPT" ls --json --version
	[ "$(jq -r .version <<<"$output")" = 0.1.0 ]
	[ -z "$stderr" ]
}

@test "ckpt: no command with --json is a JSON usage error (2)" {
	run -2 --separate-stderr "$CKPT" --json
	[ "$(jq -r .error.code <<<"$output")" = usage ]
	[ "$(jq -r .error.message <<<"$output")" = "missing command: see 'ckpt --help'" ]
	[ -z "$stderr" ]
}

@test "ckpt: unknown command exits 2 with a lowercase message" {
	run -2 --separate-stderr "$CKPT" foo
	assert_output ""
	[ "$stderr" = "ckpt: unknown command 'foo': see 'ckpt --help'" ]
}

@test "ckpt: unknown command with --json is a JSON usage error" {
	run -2 --separate-stderr "$CKPT" --json foo
	[ "$(jq -r .error.code <<<"$output")" = usage ]
	[ "$(jq -r .error.message <<<"$output")" = "unknown command 'foo': see 'ckpt --help'" ]
}

@test "ckpt: unknown global option exits 2" {
	run -2 --separate-stderr "$CKPT" --frobnicate ls
	assert_output ""
	[[ $stderr == "ckpt: unknown option '--frobnicate'"* ]]
}

@test "ckpt: help CMD equals CMD --help" {
	local cmd
	for cmd in $("$CKPT" __complete ""); do
		[ "$cmd" = help ] && continue
		run -0 --separate-stderr "$CKPT" help "$cmd"
		local a=$output
		run -0 --separate-stderr "$CKPT" "$cmd" --help
		[ "$a" = "$output" ] || fail "help $cmd differs from $cmd --help"
		run -0 --separate-stderr "$CKPT" "$cmd" -h
		[ "$a" = "$output" ] || fail "$cmd -h differs from $cmd --help"
	done
}

@test "ckpt: --help CMD is help CMD" {
	run -0 --separate-stderr "$CKPT" ls --help
	local a=$output
	run -0 --separate-stderr "$CKPT" --help ls
	[ "$a" = "$output" ]
	run -0 --separate-stderr "$CKPT" -q -h ls
	[ "$a" = "$output" ]
}

@test "ckpt: help help is the program's help" {
	run -0 --separate-stderr "$CKPT" help help
	local h=$output
	run -0 --separate-stderr "$CKPT" --help
	[ "$h" = "$output" ]
}

@test "ckpt: help of an unknown command exits 2" {
	run -2 --separate-stderr "$CKPT" help nope
	[[ $stderr == *"unknown command 'nope'"* ]]
}

@test "ckpt: global options work after the command" {
	run -0 --separate-stderr "$CKPT" ls --version
	assert_output "ckpt 0.1.0"
	run -10 --separate-stderr "$CKPT" ls "$BATS_TEST_TMPDIR/missing" --json
	[ "$(jq -r .error.code <<<"$output")" = not_found ]
}

@test "ckpt: global options work before the command" {
	run -10 --separate-stderr "$CKPT" --json ls "$BATS_TEST_TMPDIR/missing"
	[ "$(jq -r .error.code <<<"$output")" = not_found ]
	[ -z "$stderr" ]
}

@test "ckpt: a failed write to stdout exits 1" {
	run -1 --separate-stderr bash -c '"$CKPT" --help > /dev/full'
	[[ $stderr == *"write failure on standard output"* ]]
}

@test "ckpt: __complete lists the commands" {
	run -0 --separate-stderr "$CKPT" __complete ""
	assert_line ls
	assert_line inspect
	assert_line verify
	assert_line help
	run -0 --separate-stderr "$CKPT" __complete "ve"
	assert_output verify
}

@test "ckpt: __complete lists a command's options and the global ones" {
	run -0 --separate-stderr "$CKPT" __complete ls -
	assert_line -- --long
	assert_line -- --all
	assert_line -- --json
	assert_line -- --no-color
	run -0 --separate-stderr "$CKPT" __complete verify --read-s
	assert_output -- --read-state$'\n'--read-subset
}

@test "ckpt: __complete offers nothing (files) for arguments" {
	run -0 --separate-stderr "$CKPT" __complete ls ""
	assert_output ""
	run -0 --separate-stderr "$CKPT" __complete inspect --batch ""
	assert_output ""
}

@test "ckpt: __complete offers global options before the command" {
	run -0 --separate-stderr "$CKPT" __complete --ver
	assert_line -- --version
	assert_line -- --verbose
}

@test "ckpt: __complete of an unknown command is empty" {
	run -0 --separate-stderr "$CKPT" __complete nope -
	assert_output ""
}

@test "ckpt: __complete offers the values of an enum option" {
	"$CKPT" __complete "" | grep -qx restore-test ||
		skip "no command with an enum option is built yet"
	run -0 --separate-stderr "$CKPT" __complete restore-test --job ""
	assert_line wordcount
	assert_line session
	run -0 --separate-stderr "$CKPT" __complete restore-test --job w
	assert_output $'wordcount\nwindow'
	run -0 --separate-stderr "$CKPT" __complete restore-test --format=j
	assert_output -- "--format=junit"$'\n'"--format=json"
	run -2 --separate-stderr "$CKPT" restore-test --format bogus
	[[ $stderr == "ckpt restore-test: option '--format' does not accept 'bogus' (one of: "*")"* ]]
}

@test "ckpt: every command that takes the writer lock exits 11 when it is held" {
	local ck=$BATS_TEST_TMPDIR/ck
	printf 'a b\n' > "$BATS_TEST_TMPDIR/in.txt"
	run -0 "$CKPT" run wordcount -c "$ck" -i "$BATS_TEST_TMPDIR/in.txt"
	sleep 60 &
	local pid=$!
	printf '{"host":"%s","pid":%d,"since_ms":1,"what":"ckpt run wordcount"}\n' \
		"$(hostname)" "$pid" > "$ck/lock"
	local -a cmds=(
		"run wordcount -c $ck -i $BATS_TEST_TMPDIR/in.txt"
		"prune $ck --keep-last 1"
		"migrate $ck repartition --partitions 2 --execute"
	)
	local c bad=""
	for c in "${cmds[@]}"; do
		run --separate-stderr $CKPT $c
		[[ $status == 11 && $stderr == *"locked by pid $pid"* ]] ||
			bad+=" [$c: $status $stderr]"
		run --separate-stderr $CKPT --json $c
		[[ $status == 11 && $(jq -r .error.code <<<"$output") == locked ]] ||
			bad+=" [--json $c: $status $output]"
	done
	# readers do not take the lock
	for c in ls inspect verify; do
		run --separate-stderr $CKPT $c "$ck"
		[[ $status == 0 ]] || bad+=" [$c: $status]"
	done
	kill "$pid"
	[[ -z $bad ]] || fail "$bad"
}

@test "ckpt: a bad CKPT_CRASH_POINT or CKPT_FAULT is a usage error (2), as ckpt(1) says" {
	local ck=$BATS_TEST_TMPDIR/ck
	mkckpt "$ck" --batches 1 --keys 2 --partitions 1
	CKPT_CRASH_POINT=nope run -2 --separate-stderr "$CKPT" ls "$ck"
	[ "$stderr" = "ckpt ls: bad CKPT_CRASH_POINT 'nope': unknown crash point" ]
	CKPT_CRASH_POINT=commit.after_entry:0 run -2 --separate-stderr "$CKPT" ls "$ck"
	CKPT_FAULT=write:EPERM run -2 --separate-stderr "$CKPT" ls "$ck"
	[[ $stderr == "ckpt ls: bad CKPT_FAULT 'write:EPERM'"* ]]
	CKPT_FAULT=write:EIO run -0 --separate-stderr "$CKPT" ls "$ck"
}

@test "ckpt: CKPT_CRASH_POINT kills at the named point; the checkpoint still verifies" {
	local ck=$BATS_TEST_TMPDIR/ck
	printf 'a b\nc d\n' > "$BATS_TEST_TMPDIR/in.txt"
	CKPT_CRASH_POINT=commit.before_entry run -137 "$CKPT" run wordcount \
		-c "$ck" -i "$BATS_TEST_TMPDIR/in.txt"
	[ ! -e "$ck/commits/00000000000000000000" ]
	run -0 --separate-stderr "$CKPT" run wordcount -c "$ck" -i "$BATS_TEST_TMPDIR/in.txt"
	run -0 --separate-stderr "$CKPT" verify --read-state "$ck"
}
