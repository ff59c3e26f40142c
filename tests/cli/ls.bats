#!/usr/bin/env bats
# ckpt ls: header, batches, operators, leftovers; text and --json;
# exit codes for missing and foreign paths.

load helpers

# Golden tests use --compress none: compressed bytes (and so sizes and
# checksums) may differ between zstd versions.

setup() {
	CK=$BATS_TEST_TMPDIR/ck
}

@test "ls: --help" {
	run -0 --separate-stderr "$CKPT" ls --help
	assert_golden ls help
}

@test "ls: text listing of a small checkpoint" {
	mkckpt "$CK" --batches 5 --keys 10 --partitions 2 --seed 1 \
		--compress none
	run -0 --separate-stderr "$CKPT" ls "$CK"
	assert_golden ls text
	assert_line --regexp '^restart point: batch 4 '
	assert_line --partial "<- restart point"
	assert_line --partial "Leftovers: none"
}

@test "ls: --json listing" {
	mkckpt "$CK" --batches 5 --keys 10 --partitions 2 --seed 1 \
		--compress none
	run -0 --separate-stderr "$CKPT" ls --json "$CK"
	assert_golden ls json
	[ -z "$stderr" ]
	run -0 jq -r '.restart_point, (.batches | length), .operators[0].num_partitions, (.leftovers | length), (.operators[0] | has("partitions"))' <<<"$output"
	assert_output $'4\n5\n2\n0\nfalse'
}

@test "ls: -l --json adds per-partition detail" {
	mkckpt "$CK" --batches 5 --keys 10 --partitions 2 --seed 1 \
		--compress none
	run -0 --separate-stderr "$CKPT" ls -l --json "$CK"
	assert_golden ls long-json
	run -0 jq -r '.operators[0].partitions | map(.partition) | join(",")' <<<"$output"
	assert_output "0,1"
}

@test "ls: -l shows each partition in text" {
	mkckpt "$CK" --batches 3 --keys 10 --partitions 3 --seed 2
	run -0 --separate-stderr "$CKPT" ls -l "$CK"
	assert_line --regexp '^  partition 0 '
	assert_line --regexp '^  partition 2 '
}

@test "ls: only the 20 newest batches without -a" {
	mkckpt "$CK" --batches 30 --keys 5 --partitions 1 --seed 3
	run -0 --separate-stderr "$CKPT" ls "$CK"
	assert_line --partial "... 10 older batches (use -a to list all)"
	refute_line --regexp '^ +9  '
	assert_line --regexp '^ +10  '
	assert_line --regexp '^ +29  .*<- restart point'
	run -0 --separate-stderr "$CKPT" ls -a "$CK"
	refute_line --partial "older batches"
	assert_line --regexp '^ +0  '
	[ "$(grep -cE '^ +[0-9]+  (yes|no)' <<<"$output")" -eq 30 ]
	run -0 --separate-stderr "$CKPT" ls --json "$CK"
	[ "$(jq '.batches | length' <<<"$output")" -eq 30 ]
}

@test "ls: an uncommitted batch is a leftover that recovery replays" {
	mkckpt "$CK" --batches 4 --keys 10 --partitions 2 --seed 4 --uncommitted
	run -0 --separate-stderr "$CKPT" ls --json "$CK"
	[ "$(jq -r '.restart_point' <<<"$output")" = 3 ]
	[ "$(jq -r '.next_batch' <<<"$output")" = 4 ]
	[ "$(jq -r '.batches[-1] | "\(.id) \(.committed) \(.has_offsets)"' <<<"$output")" = "4 false true" ]
	run -0 jq -r '.leftovers[] | select(.role == "uncommitted") | "\(.batch) \(.replayed)"' <<<"$output"
	assert_line "4 true"
	run -0 --separate-stderr "$CKPT" ls "$CK"
	assert_line --partial "batch 4 has no commit: recovery replays it"
}

@test "ls: a stray file is listed as a foreign leftover" {
	mkckpt "$CK" --batches 2 --keys 5 --partitions 1 --seed 5
	echo hello > "$CK/notes.txt"
	run -0 --separate-stderr "$CKPT" ls --json "$CK"
	run -0 jq -r '.leftovers[] | "\(.path) \(.role)"' <<<"$output"
	assert_line "notes.txt foreign"
}

@test "ls: totals count every file" {
	mkckpt "$CK" --batches 3 --keys 5 --partitions 2 --seed 6
	run -0 --separate-stderr "$CKPT" ls --json "$CK"
	[ "$(jq .totals.files <<<"$output")" -eq "$(find "$CK" -type f | wc -l)" ]
	[ "$(jq .totals.bytes <<<"$output")" -eq "$(find "$CK" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')" ]
}

@test "ls: a missing path exits 10" {
	run -10 --separate-stderr "$CKPT" ls "$BATS_TEST_TMPDIR/nope"
	assert_output ""
	assert_golden ls missing
	[[ $stderr == "ckpt ls: "*"nope"* ]]
}

@test "ls: a missing path with --json is a not_found error object" {
	run -10 --separate-stderr "$CKPT" ls --json "$BATS_TEST_TMPDIR/nope"
	[ "$(jq -r .error.code <<<"$output")" = not_found ]
	[ -z "$stderr" ]
}

@test "ls: an empty directory is not a checkpoint (10)" {
	mkdir "$BATS_TEST_TMPDIR/empty"
	run -10 --separate-stderr "$CKPT" ls "$BATS_TEST_TMPDIR/empty"
	assert_output ""
	[[ $stderr == "ckpt ls: "* ]]
	run -10 --separate-stderr "$CKPT" ls --json "$BATS_TEST_TMPDIR/empty"
	[ "$(jq -r .error.code <<<"$output")" = not_checkpoint ]
}

@test "ls: a directory of random files is not a checkpoint (10)" {
	local d=$BATS_TEST_TMPDIR/random
	mkdir -p "$d/sub"
	head -c 3000 /dev/urandom > "$d/a.bin"
	head -c 100 /dev/urandom > "$d/sub/b"
	echo '{"x":1}' > "$d/metadata"
	run -10 --separate-stderr "$CKPT" ls "$d"
	assert_output ""
	[[ $stderr == "ckpt ls: "* ]]
}

@test "ls: a regular file is not a checkpoint (10)" {
	head -c 500 /dev/urandom > "$BATS_TEST_TMPDIR/file"
	run -10 --separate-stderr "$CKPT" ls "$BATS_TEST_TMPDIR/file"
	assert_output ""
	[[ $stderr == "ckpt ls: "* ]]
}

@test "ls: hdfs:// is refused as unsupported (1)" {
	run -1 --separate-stderr "$CKPT" ls hdfs://namenode/ckpt
	[[ $stderr == "ckpt ls: "*hdfs* ]]
}

@test "ls: bad flags and arguments exit 2" {
	run -2 --separate-stderr "$CKPT" ls --bogus x
	assert_output ""
	[[ $stderr == "ckpt ls: unknown option '--bogus'"* ]]
	assert_equal "$(sed -n 2p <<<"$stderr")" "usage: ckpt ls [-l] [-a] PATH"
	run -2 --separate-stderr "$CKPT" ls
	[[ $stderr == "ckpt ls: missing PATH"* ]]
	run -2 --separate-stderr "$CKPT" ls a b
	[[ $stderr == "ckpt ls: too many arguments"* ]]
	run -2 --separate-stderr "$CKPT" ls --long=yes x
	[[ $stderr == "ckpt ls: option '--long' takes no value"* ]]
	run -2 --separate-stderr "$CKPT" ls -x y
	[[ $stderr == "ckpt ls: unknown option '-x'"* ]]
}

@test "ls: options after -- are paths" {
	run -10 --separate-stderr "$CKPT" ls -- -l
	[[ $stderr == "ckpt ls: "*"'-l'"* ]]
}

@test "ls: colours only on a terminal, never with NO_COLOR or --no-color" {
	command -v script >/dev/null || skip "script(1) is not installed"
	mkckpt "$CK" --batches 2 --keys 5 --partitions 1 --seed 7
	run -0 script -qec "$CKPT ls $CK 2>/dev/null" /dev/null
	[[ $output == *$'\033['* ]] || fail "no colour on a terminal"
	run -0 script -qec "NO_COLOR=1 $CKPT ls $CK 2>/dev/null" /dev/null
	[[ $output != *$'\033['* ]] || fail "colour despite NO_COLOR"
	run -0 script -qec "$CKPT ls --no-color $CK 2>/dev/null" /dev/null
	[[ $output != *$'\033['* ]] || fail "colour despite --no-color"
	run -0 --separate-stderr "$CKPT" ls "$CK"
	[[ $output != *$'\033['* ]] || fail "colour into a pipe"
}

@test "ls: -v reports on stderr and leaves stdout alone" {
	mkckpt "$CK" --batches 2 --keys 5 --partitions 1 --seed 8
	run -0 --separate-stderr "$CKPT" ls "$CK"
	local quiet=$output
	run -0 --separate-stderr "$CKPT" ls -v "$CK"
	[ "$output" = "$quiet" ]
	[ "$stderr" = "ckpt ls: reading '$CK' (native v2, file backend)" ]
	run -0 --separate-stderr "$CKPT" -v ls "$CK"
	[ "$stderr" = "ckpt ls: reading '$CK' (native v2, file backend)" ]
}

@test "ls: damaged metadata is an error naming the file (1)" {
	mkckpt "$CK" --batches 2 --keys 5 --partitions 1 --seed 9
	local f
	f=$(cd "$CK" && find meta -type f | sort | head -1)
	flip_byte "$CK/$f" 40
	run -1 --separate-stderr "$CKPT" ls "$CK"
	assert_output ""
	[[ $stderr == "ckpt ls: "*"$f"* ]]
}

@test "ls: every --json field is documented in ckpt-ls(1)" {
	mkckpt "$CK" --batches 3 --keys 5 --partitions 2 --seed 10 --uncommitted
	"$CKPT" ls -l --json "$CK" | json_keys | assert_keys_documented ls
}

@test "ls: secrets in a URL are never printed, not even with -v" {
	local url='s3://AKIAEXAMPLE:s3cr3tKEY@bucket/app?X-Amz-Signature=deadbeef'
	local c
	for c in ls inspect verify; do
		run --separate-stderr "$CKPT" "$c" -v -v "$url"
		[[ $output$stderr != *s3cr3tKEY* && $output$stderr != *deadbeef* ]] ||
			fail "$c printed a secret: $output $stderr"
		run --separate-stderr "$CKPT" "$c" --json "$url"
		[[ $output$stderr != *s3cr3tKEY* && $output$stderr != *deadbeef* ]] ||
			fail "$c --json printed a secret: $output $stderr"
	done
}

@test "ls: control characters in file names are not sent to the terminal" {
	mkckpt "$CK" --batches 2 --keys 5 --partitions 1 --seed 11
	touch "$CK/$(printf 'evil\033[31mred')"
	run -0 --separate-stderr "$CKPT" ls "$CK"
	[[ $output != *$'\033'* ]] || fail "escape sequence printed"
	assert_line --partial 'evil?[31mred'
	run -0 --separate-stderr "$CKPT" ls --json "$CK"
	run -0 jq -r '.leftovers[].path' <<<"$output"
	assert_output "$(printf 'evil\033[31mred')"
}

@test "ls: a held writer lock is shown with its holder" {
	mkckpt "$CK" --batches 2 --keys 5 --partitions 1 --seed 12
	run -0 --separate-stderr "$CKPT" ls "$CK"
	refute_line --partial "locked by:"
	run -0 --separate-stderr "$CKPT" ls --json "$CK"
	[ "$(jq -c .lock <<<"$output")" = null ]
	sleep 60 &
	local pid=$!
	printf '{"host":"%s","pid":%d,"since_ms":1700000000000,"what":"ckpt run wordcount"}\n' \
		"$(hostname)" "$pid" > "$CK/lock"
	run -0 --separate-stderr "$CKPT" ls "$CK"
	kill "$pid"
	assert_line "locked by:     pid $pid on $(hostname) since 2023-11-14T22:13:20.000Z (ckpt run wordcount)"
}

@test "ls: a held lock in --json names host, pid, since_ms, what" {
	mkckpt "$CK" --batches 2 --keys 5 --partitions 1 --seed 12
	sleep 60 &
	local pid=$!
	printf '{"host":"%s","pid":%d,"since_ms":1700000000000,"what":"ckpt prune"}\n' \
		"$(hostname)" "$pid" > "$CK/lock"
	run -0 --separate-stderr "$CKPT" ls --json "$CK"
	kill "$pid"
	run -0 jq -r '.lock | "\(.host) \(.pid) \(.since_ms) \(.what) \(.stale)"' <<<"$output"
	assert_output "$(hostname) $pid 1700000000000 ckpt prune false"
}

@test "ls: a lock left by a dead process is shown as stale" {
	mkckpt "$CK" --batches 2 --keys 5 --partitions 1 --seed 12
	sleep 0 &
	local pid=$!
	wait "$pid"
	printf '{"host":"%s","pid":%d,"since_ms":1700000000000,"what":"ckpt run wordcount"}\n' \
		"$(hostname)" "$pid" > "$CK/lock"
	run -0 --separate-stderr "$CKPT" ls "$CK"
	assert_line --regexp "^locked by: +pid $pid .*, stale: the process is gone"
	run -0 --separate-stderr "$CKPT" ls --json "$CK"
	[ "$(jq -r .lock.stale <<<"$output")" = true ]
}

@test "ls: the lock of a running ckpt run is shown while it runs" {
	printf 'a b\n' > "$BATS_TEST_TMPDIR/in.txt"
	"$CKPT" run wordcount -c "$CK" -i "$BATS_TEST_TMPDIR/in.txt" --follow \
		--metrics "$BATS_TEST_TMPDIR/m.jsonl" 3>&- &
	local pid=$!
	local i
	for i in $(seq 200); do
		[ -s "$BATS_TEST_TMPDIR/m.jsonl" ] && break
		sleep 0.1
	done
	run -0 --separate-stderr "$CKPT" ls "$CK"
	kill -TERM "$pid"
	wait "$pid" || true
	assert_line --regexp "^locked by: +pid $pid on $(hostname) since .* \(ckpt (run )?wordcount\)$"
}

@test "ls: s3:// and archive paths are refused as not built yet (1)" {
	run -1 --separate-stderr "$CKPT" ls s3://bucket/app
	[[ $stderr == "ckpt ls: cannot open 's3://bucket/app': "*"not built yet" ]]
	mkckpt "$CK" --batches 1 --keys 2 --partitions 1
	tar -C "$BATS_TEST_TMPDIR" -cf "$BATS_TEST_TMPDIR/ck.tar" ck
	run -1 --separate-stderr "$CKPT" ls "$BATS_TEST_TMPDIR/ck.tar"
	[[ $stderr == "ckpt ls: "*"not built yet" ]]
}

@test "ls: keys at the restart point are counted from the files a restart reads" {
	# The sessions operator's history is over the 1 MiB counting budget,
	# the snapshot and deltas a restart reads are not: keys are known.
	mkckpt "$CK" --batches 11 --keys 1000 --partitions 1 --value-bytes 300 \
		--snapshot-every 4 --compress none --format-version 2 --seed 5
	run -0 --separate-stderr "$CKPT" ls --json "$CK"
	local doc=$output op want
	[ "$(jq '.operators[1].bytes' <<<"$doc")" -gt 1048576 ]
	for op in 0 1; do
		run -0 --separate-stderr "$CKPT" inspect --json --op "$op" --limit 0 "$CK"
		want=$(jq '.operators[0].records | length' <<<"$output")
		[ "$want" -gt 0 ]
		[ "$(jq ".operators[$op].keys" <<<"$doc")" = "$want" ]
	done
	run -0 --separate-stderr "$CKPT" ls "$CK"
	assert_line --regexp '^sessions .* 922 +1\.7 MiB$'
}
