#!/usr/bin/env bats
# ckpt run: jobs against independent oracles (sort/uniq and the awk
# recomputations in tests/cli/oracle/), recovery after SIGTERM, SIGINT
# and SIGKILL, the socket source's write-ahead log across a kill and at
# its crash points, and the configuration errors with their exit codes.

load helpers

ORACLE=$CKPT_TOP/tests/cli/oracle

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# state DIR: the final state as "KEY<TAB>VALUE" lines, sorted.
state() {
	"$CKPT" inspect --json "$1" | jq -r '.operators[0].records[] |
		"\(.key)\t\(.value | if type == "object" then .count else . end)"' |
		LC_ALL=C sort
}

# session_state DIR: "KEY<TAB>COUNT<TAB>LAST_SEEN_MS<TAB>ACTIONS", sorted.
session_state() {
	"$CKPT" inspect --json "$1" | jq -r '.operators[0].records[] |
		(.value.last_seen | capture("^(?<s>[^.]+)\\.(?<ms>[0-9]+)Z$")) as $c |
		"\(.key)\t\(.value.count)\t\((($c.s + "Z") | fromdateiso8601) * 1000 + ($c.ms | tonumber))\t\(.value.actions | join(","))"' |
		LC_ALL=C sort
}

# Generated event input with skew, late events and idle gaps.
gen_events() {
	"$CKPT" run session --generate --dump-input --seed "$1" --keys 40 \
		--events "$2" --rate 20 --skew 60 --late 5 --late-by 25s \
		--gap-every 700 --gap "$3"
}

# wait_for CMD...: retries CMD for up to 20 s.
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# server_py: writes the start of server.py, a test's line server: it
# listens on 127.0.0.1 at a port chosen at run time and names it in the
# file "port"; the test appends what it serves.
server_py() {
	cat > server.py <<'EOF'
import os, socket, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
with open("port.tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename("port.tmp", "port")
EOF
}

# run_until_words N ARGS...: runs `ckpt run wordcount -c ck ARGS` in the
# background until its committed output holds N words starting with w,
# then stops it with SIGTERM, which must end it with exit 0.
run_until_words() {
	local n=$1 pid rc=0
	shift
	"$CKPT" run wordcount -c ck "$@" 3>&- 2>/dev/null &
	pid=$!
	words_in() { [ "$("$CKPT" run wordcount -c ck --show-output | grep -c '^w')" -ge "$n" ]; }
	wait_for words_in
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
}

lines_at_least() {
	[[ -f $1 ]] && (($(wc -l < "$1") >= $2))
}

@test "run: --help" {
	run -0 --separate-stderr "$CKPT" run --help
	assert_golden run help
}

@test "run: --list shows the jobs with their defaults" {
	run -0 --separate-stderr "$CKPT" run --list
	assert_line --regexp '^wordcount - '
	assert_line --partial '--window 10m --slide 30s'
	assert_line --partial '--timeout 30m --max-actions 100'
	run -0 --separate-stderr "$CKPT" run --list --json
	[ "$(jq -r '[.jobs[].name] | join(",")' <<<"$output")" = wordcount,window,session ]
	[ "$(jq '.jobs[1].slide_ms' <<<"$output")" = 30000 ]
}

@test "run: wordcount on the demo input equals sort | uniq -c; ls and verify pass" {
	in=$CKPT_TOP/tests/data/demo-input.txt
	run -0 --separate-stderr "$CKPT" run wordcount --checkpoint ck --input "$in"
	assert_output --regexp "^wordcount: committed batches 0\.\.[0-9]+ in 'ck' \(304 lines, 0 malformed"
	tr -s ' \t' '\n\n' < "$in" | grep -v '^$' | LC_ALL=C sort | uniq -c |
		awk '{ print $2 "\t" $1 }' | LC_ALL=C sort > expect
	state ck > got
	diff -u expect got
	# the running totals in the output end at the same numbers
	"$CKPT" run wordcount -c ck --show-output |
		awk -F'\t' '{ last[$1] = $2 } END { for (w in last) print w "\t" last[w] }' |
		LC_ALL=C sort > out_totals
	diff -u expect out_totals
	run -0 "$CKPT" ls ck
	run -0 "$CKPT" verify --read-state ck
	assert_output --regexp ': 0 errors, 0 warnings$'
}

@test "run: wordcount output per batch equals an awk recomputation" {
	"$CKPT" run wordcount --generate --dump-input --seed 5 --keys 300 \
		--events 900 --skew 70 > in.txt
	run -0 "$CKPT" run wordcount -c ck -i in.txt --rate 100 --batch-interval 2s
	# line i is in batch floor(i * 1000 / rate / batch); a batch lists
	# its words in the order they first appear in it, with their totals
	awk 'function flush(   j) { for (j = 0; j < k; j++) print ord[j] "\t" n[ord[j]]
			k = 0; split("", seen) }
		{ b = int((NR - 1) * 1000 / 100 / 2000); if (b != cb) { flush(); cb = b }
		  for (i = 1; i <= NF; i++) { n[$i]++; if (!($i in seen)) { seen[$i] = 1; ord[k++] = $i } } }
		END { flush() }' in.txt > expect
	"$CKPT" run wordcount -c ck --show-output > got
	diff -u expect got
	# the same input straight from the generator gives the same bytes
	run -0 "$CKPT" run wordcount -c gen --generate --seed 5 --keys 300 \
		--events 900 --skew 70 --rate 100 --batch-interval 2s
	"$CKPT" run wordcount -c gen --show-output | cmp - got
	[ "$(state gen)" = "$(state ck)" ]
}

@test "run: window output equals a full recomputation at every slide" {
	gen_events 11 3000 3m > in.tsv
	printf 'garbage line\n' >> in.tsv
	run -0 --separate-stderr "$CKPT" run window -c ck -i in.tsv \
		--batch-interval 10s --slide 30s --window 2m --checkpoint-interval 60s
	assert_output --partial '1 malformed'
	awk -v B=10000 -v S=30000 -v W=120000 -v MODE=output \
		-f "$ORACLE/window.awk" in.tsv | LC_ALL=C sort -t$'\t' -k1,1n -k2,2 > expect
	[ -s expect ]
	"$CKPT" run window -c ck --show-output > got
	diff -u expect got
	awk -v B=10000 -v S=30000 -v W=120000 -v MODE=state \
		-f "$ORACLE/window.awk" in.tsv | LC_ALL=C sort > expect_state
	state ck > got_state
	diff -u expect_state got_state
}

@test "run: session output and state equal a batch-by-batch recomputation" {
	gen_events 12 1500 7m > in.tsv
	run -0 "$CKPT" run session -c ck -i in.tsv --batch-interval 30s \
		--timeout 4m --max-actions 5 --checkpoint-interval 5
	awk -v B=30000 -v T=240000 -v N=5 -v MODE=output \
		-f "$ORACLE/session.awk" in.tsv | LC_ALL=C sort -t$'\t' -k1,1n -k2,2 |
		cut -f2- > expect
	[ -s expect ]
	"$CKPT" run session -c ck --show-output > got
	diff -u expect got
	awk -v B=30000 -v T=240000 -v N=5 -v MODE=state \
		-f "$ORACLE/session.awk" in.tsv | LC_ALL=C sort > expect_state
	session_state ck > got_state
	diff -u expect_state got_state
}

@test "run: malformed lines are counted and reported, fatal with --strict" {
	printf '1000\tk1\ta\nnot a line\n2000\tk2\n\tk3\n3000\t\tx\n' > in.tsv
	run -0 --separate-stderr "$CKPT" run session -c ck -i in.tsv --metrics m.jsonl
	assert_output --partial '3 malformed'
	[[ $stderr == *"malformed input line 2 in batch 0 skipped: expected EVENT_TIME_MS<TAB>KEY[<TAB>VALUE]"* ]]
	[ "$(jq -s 'map(.malformed) | add' m.jsonl)" = 3 ]
	run -1 --separate-stderr "$CKPT" run session -c ck2 -i in.tsv --strict
	[[ $stderr == "ckpt run: malformed input line 2 in batch 0: expected"* ]]
}

@test "run: metrics are JSON lines with the documented fields" {
	"$CKPT" run wordcount --generate --dump-input --seed 1 --events 200 > in.txt
	run -0 --separate-stderr "$CKPT" run wordcount -c ck -i in.txt --metrics - \
		--checkpoint-interval 3
	[ "${#lines[@]}" -eq 8 ]
	jq -e -s 'all(has("batch") and has("batch_time_ms") and has("records_in")
		and has("records_out") and has("scheduling_delay_ms")
		and has("processing_delay_ms") and has("checkpoint_ms")
		and has("checkpoint_bytes") and has("dir_bytes"))' <<<"$output"
	[ "$(jq -s '[.[] | select(.checkpoint_kind != null) | .batch] | join(",")' <<<"$output")" = '"2,5,7"' ]
	[ "$(jq -s 'map(.records_in) | add' <<<"$output")" = 200 ]
}

@test "run: a second run resumes where the first stopped; nothing new is a no-op" {
	"$CKPT" run wordcount --generate --dump-input --seed 2 --events 300 > all.txt
	head -n 100 all.txt > in.txt
	run -0 "$CKPT" run wordcount -c ck -i in.txt
	run -0 "$CKPT" run wordcount -c ck -i in.txt
	assert_output --partial 'nothing new to run'
	cp all.txt in.txt
	run -0 "$CKPT" run wordcount -c ck -i in.txt
	assert_output --partial '(200 lines'
	tr ' ' '\n' < all.txt | LC_ALL=C sort | uniq -c | awk '{ print $2 "\t" $1 }' |
		LC_ALL=C sort > expect
	diff -u expect <(state ck)
	# a truncated input is noticed, not silently treated as finished
	head -n 10 all.txt > in.txt
	run -1 --separate-stderr "$CKPT" run wordcount -c ck -i in.txt
	[[ $stderr == "ckpt run: cannot resume from input 'in.txt': it has "*" (was it truncated or replaced?)" ]]
}

@test "run: SIGTERM finishes the batch, checkpoints, exits 0; restart matches an uninterrupted run" {
	"$CKPT" run session --generate --dump-input --seed 4 --keys 30 \
		--events 1200 --rate 5 --late 3 > in.tsv
	opts=(--batch-interval 2s --timeout 20s --checkpoint-interval 7)
	run -0 "$CKPT" run session -c ref -i in.tsv "${opts[@]}"
	"$CKPT" run session -c ck -i in.tsv "${opts[@]}" --metrics m.jsonl 3>&- &
	pid=$!
	wait_for lines_at_least m.jsonl 20
	kill -TERM "$pid"
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
	n=$(wc -l < m.jsonl)
	(( n < 120 ))
	# the last batch before the stop carries a state checkpoint
	[ "$(tail -n 1 m.jsonl | jq -r .checkpoint_kind)" != null ]
	run -0 "$CKPT" run session -c ck -i in.tsv "${opts[@]}"
	cmp <("$CKPT" run session -c ref --show-output) <("$CKPT" run session -c ck --show-output)
	diff -u <(session_state ref) <(session_state ck)
}

@test "run: SIGINT exits 130 after checkpointing" {
	"$CKPT" run wordcount --generate --dump-input --seed 6 --events 3000 > in.txt
	"$CKPT" run wordcount -c ck -i in.txt --metrics m.jsonl 3>&- &
	pid=$!
	wait_for lines_at_least m.jsonl 5
	kill -INT "$pid"
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 130 ]
	run -0 "$CKPT" verify ck
}

@test "run: SIGKILL mid-run and a crash point, then restart, match an uninterrupted run" {
	gen_events 8 12000 2m > in.tsv
	opts=(--batch-interval 10s --slide 20s --window 1m --checkpoint-interval 80s)
	run -0 "$CKPT" run window -c ref -i in.tsv "${opts[@]}"
	# a kill at a random moment
	"$CKPT" run window -c ck -i in.tsv "${opts[@]}" --metrics m.jsonl 3>&- &
	pid=$!
	wait_for lines_at_least m.jsonl 3
	# On a fast machine the run may finish first; the restart must then
	# still end identical (the dir is complete), so only report it.
	kill -KILL "$pid" 2>/dev/null || echo "# the run ended before the kill" >&3
	wait "$pid" || true
	run -0 "$CKPT" run window -c ck -i in.tsv "${opts[@]}"
	# a crash between the state files and the output of a batch
	CKPT_CRASH_POINT=engine.after_checkpoint:2 run -137 "$CKPT" run window \
		-c ck2 -i in.tsv "${opts[@]}"
	run -0 "$CKPT" run window -c ck2 -i in.tsv "${opts[@]}"
	assert_output --partial 'batches replayed'
	for d in ck ck2; do
		cmp <("$CKPT" run window -c ref --show-output) <("$CKPT" run window -c $d --show-output)
		diff -u <(state ref) <(state $d)
		run -0 "$CKPT" verify --read-state $d
	done
}

@test "run: background state checkpoints equal --sync-checkpoint byte for byte" {
	"$CKPT" run wordcount --generate --dump-input --seed 9 --keys 3000 \
		--events 20000 > in.txt
	opts=(--rate 500 --checkpoint-interval 2 --snapshot-every 3)
	run -0 "$CKPT" run wordcount -c bg -i in.txt "${opts[@]}" --metrics bg.jsonl
	run -0 "$CKPT" run wordcount -c sy -i in.txt "${opts[@]}" --sync-checkpoint
	# 40 batches, a checkpoint every 2: snapshots and deltas, queued
	# batches behind each one
	[ "$(jq -r 'select(.checkpoint_kind == "delta") | .batch' bg.jsonl | wc -l)" -ge 10 ]
	[ "$(jq -r .batch bg.jsonl | tr '\n' ' ')" = "$(seq 0 39 | tr '\n' ' ')" ]
	# every file but the metadata (lineage id, creation time) is identical
	diff -r -x meta bg sy
	run -0 "$CKPT" verify --read-state bg
	# a kill while a checkpoint is being written, then a restart
	CKPT_CRASH_POINT=store.before_rename:30 run -137 "$CKPT" run wordcount \
		-c k -i in.txt "${opts[@]}"
	run -0 "$CKPT" run wordcount -c k -i in.txt "${opts[@]}"
	cmp <("$CKPT" run wordcount -c sy --show-output) <("$CKPT" run wordcount -c k --show-output)
	diff -u <(state sy) <(state k)
}

# cpus LIST: a kernel CPU list ("0-2,5") as one number per line.
cpus() {
	tr ',' '\n' <<<"$1" | awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c }'
}

# task_cpus PID COMM: the CPU list of PID's thread named COMM.
task_cpus() {
	local t
	for t in /proc/"$1"/task/*; do
		if [[ $(cat "$t/comm") == "$2" ]]; then
			awk '$1 == "Cpus_allowed_list:" { print $2 }' "$t/status"
			return 0
		fi
	done
	return 1
}

# main_cpus PID: the CPU list of PID's main thread (the engine's).
main_cpus() {
	awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/"$1"/task/"$1"/status
}

@test "run: the writer threads keep off the engine's CPU and follow it when it moves" {
	[[ -d /proc/self/task ]] || skip "no /proc: thread placement cannot be read"
	(($(nproc) >= 2)) || skip "one usable CPU: nothing to keep apart"
	command -v taskset > /dev/null || skip "taskset (util-linux) not installed"
	allowed=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/self/status)
	seq 1 3000 | sed 's/^/w/' > in.txt
	"$CKPT" run wordcount -c ck -i in.txt --follow --idle-flush 200ms \
		> summary 2>err 3>&- &
	pid=$!
	has_output() { "$CKPT" run wordcount -c ck --show-output | grep -q "$1"; }
	wait_for has_output w3000
	# the engine may run anywhere; the writers on all CPUs but one
	[ "$(cpus "$(main_cpus "$pid")")" = "$(cpus "$allowed")" ]
	persist=$(task_cpus "$pid" ckpt-persist)
	[ "$(task_cpus "$pid" ckpt-fill)" = "$persist" ]
	[ "$(cpus "$persist" | wc -l)" = $(($(cpus "$allowed" | wc -l) - 1)) ]
	# move the engine to the CPU the writers have, then give it a batch
	to=$(cpus "$persist" | head -1)
	taskset -pc "$to" "$pid" > /dev/null
	echo w3001 >> in.txt
	wait_for has_output w3001
	[ "$(cpus "$(task_cpus "$pid" ckpt-persist)")" = "$(cpus "$allowed" | grep -vx "$to")" ]
	kill -TERM "$pid"
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
	[ ! -s err ]
	[[ $(cat summary) != *"engine on CPU"* ]]
	# --no-pin-threads: every thread anywhere
	"$CKPT" run wordcount -c ck2 -i in.txt --follow --idle-flush 200ms \
		--no-pin-threads > /dev/null 2>&1 3>&- &
	pid=$!
	wait_for test -f ck2/commits/00000000000000000000
	[ "$(cpus "$(task_cpus "$pid" ckpt-persist)")" = "$(cpus "$allowed")" ]
	kill -TERM "$pid"
	wait "$pid"
	run -2 --separate-stderr "$CKPT" run wordcount -c ck3 -i in.txt \
		--pin-threads --no-pin-threads
	[[ $stderr == "ckpt run: give one of --pin-threads and --no-pin-threads"* ]]
}

@test "run: --pin-threads keeps the engine on one CPU and the writers on the others" {
	[[ -d /proc/self/task ]] || skip "no /proc: thread placement cannot be read"
	(($(nproc) >= 2)) || skip "one usable CPU: nothing to pin apart"
	seq 1 3000 | sed 's/^/w/' > in.txt
	"$CKPT" run wordcount -c ck -i in.txt --follow --idle-flush 200ms \
		--pin-threads > summary 2>err 3>&- &
	pid=$!
	has_output() { "$CKPT" run wordcount -c ck --show-output | grep -q w3000; }
	wait_for has_output
	main=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/$pid/task/$pid/status)
	persist=$(task_cpus "$pid" ckpt-persist)
	fill=$(task_cpus "$pid" ckpt-fill)
	allowed=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/self/status)
	kill -TERM "$pid"
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
	# the engine on one CPU, the writers on every other one allowed
	[ "$(cpus "$main" | wc -l)" = 1 ]
	[ "$(cpus "$persist")" = "$(cpus "$allowed" | grep -vx "$main")" ]
	[ "$fill" = "$persist" ]
	grep -q "engine on CPU $main, stopped by a signal)" summary
	[ ! -s err ]
	# the same bytes as an unpinned run
	opts=(--rate 500 --checkpoint-interval 2 --snapshot-every 3)
	run -0 --separate-stderr "$CKPT" run wordcount -c p -i in.txt "${opts[@]}" --pin-threads --json
	[ "$(jq .pinned_cpu <<<"$output")" -ge 0 ]
	run -0 "$CKPT" run wordcount -c u -i in.txt "${opts[@]}"
	diff -r -x meta p u
}

# noisy_cpu: the CPU this process may use that completed most block I/O
# since boot (/proc/softirqs BLOCK), by the rule of eng_pin_quiet(): at
# least 1000 and half of all, and another allowed CPU a quarter of that
# or fewer; nothing when there is none.
noisy_cpu() {
	local allowed
	allowed=$(cpus "$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/self/status)" | tr '\n' ' ')
	awk -v allowed="$allowed" '
	BEGIN { n = split(allowed, a, " "); for (i = 1; i <= n; i++) ok[a[i]] = 1 }
	NR == 1 { for (i = 1; i <= NF; i++) { c = $i; sub(/^CPU/, "", c); col[i] = c } }
	$1 == "BLOCK:" {
		for (i = 2; i <= NF; i++) {
			c = col[i - 1]
			if (!(c in ok))
				continue
			t += $i
			if (max == "" || $i > max) { max = $i; m = c }
		}
		for (i = 2; i <= NF; i++) {
			c = col[i - 1]
			if ((c in ok) && c != m && (min == "" || $i < min))
				min = $i
		}
		if (max >= 1000 && 2 * max >= t && min != "" && 4 * min <= max)
			print m
	}' /proc/softirqs
}

@test "run: the engine's thread keeps off the CPU that completes the disk's I/O" {
	[[ -r /proc/softirqs ]] || skip "no /proc/softirqs: block I/O by CPU unknown"
	(($(nproc) >= 2)) || skip "one usable CPU: nowhere else to go"
	noisy=$(noisy_cpu)
	[[ -n $noisy ]] || skip "no CPU completes most block I/O here"
	seq 1 2000 | sed 's/^/w/' > in.txt
	# pinned: to a quiet CPU, whichever it started on (five tries)
	for i in 1 2 3 4 5; do
		run -0 --separate-stderr "$CKPT" run wordcount -c p$i -i in.txt \
			--rate 500 --pin-threads --json
		[ -z "$stderr" ]
		cpu=$(jq .pinned_cpu <<<"$output")
		[ "$cpu" -ge 0 ]
		[ "$cpu" != "$noisy" ]
	done
	# the noisy CPU's own: the engine may not leave it, and stays
	run -0 --separate-stderr taskset -c "$noisy" "$CKPT" run wordcount \
		-c one -i in.txt --rate 500
	[ -z "$stderr" ]
	diff -r -x meta p1 one
}

@test "run: --pin-threads on one CPU or with --sync-checkpoint warns and runs unpinned" {
	command -v taskset > /dev/null || skip "taskset (util-linux) not installed"
	printf 'a b a\n' > in.txt
	run -0 --separate-stderr taskset -c 0 "$CKPT" run wordcount -c one \
		-i in.txt --pin-threads --json
	[ "$stderr" = "ckpt run: warning: --pin-threads: the process may use only one CPU; threads not pinned" ]
	[ "$(jq .pinned_cpu <<<"$output")" = null ]
	run -0 --separate-stderr "$CKPT" run wordcount -c sy -i in.txt \
		--pin-threads --sync-checkpoint
	[ "$stderr" = "ckpt run: warning: --pin-threads: this run writes on the engine's thread (--sync-checkpoint); nothing to pin" ]
	[[ $output != *"engine on CPU"* ]]
	# without --pin-threads nothing was asked for: no warning
	run -0 --separate-stderr taskset -c 0 "$CKPT" run wordcount -c quiet -i in.txt
	[ -z "$stderr" ]
	diff -u <(state one) <(state sy)
}

@test "run: the socket source loses no line and counts none twice across a kill" {
	server_py
	cat >> server.py <<'EOF'
# first connection: lines 0..599, then wait for the engine to die
c, _ = srv.accept()
c.sendall("".join("w%d x\n" % i for i in range(600)).encode())
while c.recv(4096):
    pass
c.close()
# the restarted engine gets the rest, ending without a newline
c, _ = srv.accept()
c.sendall(("".join("w%d x\n" % i for i in range(600, 999)) + "w999 x").encode())
c.close()
EOF
	python3 server.py 3>&- &
	spid=$!
	wait_for test -f port
	port=$(cat port)
	opts=(--socket 127.0.0.1:$port --batch-interval 1500ms --checkpoint-interval 2)
	"$CKPT" run wordcount -c ck "${opts[@]}" 3>&- 2>err1 &
	pid=$!
	wal_lines() { (($(cat ck/wal/*.log 2>/dev/null | wc -l) >= 600)); }
	wait_for wal_lines
	kill -KILL "$pid"
	wait "$pid" || true
	run_until_words 1000 "${opts[@]}"
	wait "$spid"
	# every line once: 1000 distinct words with total 1, "x" 1000 times
	"$CKPT" run wordcount -c ck --show-output > out
	[ "$(grep -c '^w' out)" = 1000 ]
	[ "$(grep '^w' out | cut -f1 | sort -u | wc -l)" = 1000 ]
	[ "$(awk -F'\t' '$1 == "x" { v = $2 } END { print v }' out)" = 1000 ]
	[ "$(state ck | awk -F'\t' '$1 ~ /^w/ && $2 == 1' | wc -l)" = 1000 ]
	run -0 "$CKPT" verify ck
}

@test "run: WAL segments rotate and those no restart needs are deleted" {
	server_py
	cat >> server.py <<'EOF'
c, _ = srv.accept()
for chunk in range(8):
    c.sendall("".join("w%d\n" % i for i in range(chunk * 250, chunk * 250 + 250)).encode())
    time.sleep(0.35)
c.close()
EOF
	python3 server.py 3>&- &
	spid=$!
	wait_for test -f port
	"$CKPT" run wordcount -c ck --socket "127.0.0.1:$(cat port)" \
		--batch-interval 200ms --checkpoint-interval 2 \
		--wal-segment-bytes 1000 2>/dev/null 3>&- &
	pid=$!
	all_in() { [ "$("$CKPT" run wordcount -c ck --show-output | cut -f1 | sort -u | wc -l)" -ge 2000 ]; }
	wait_for all_in
	kill -TERM "$pid"
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
	wait "$spid"
	[ ! -e ck/wal/00000000000000000000.log ]
	[ "$(ls ck/wal | wc -l)" -lt 8 ]
	[ "$(state ck | awk -F'\t' '$2 == 1' | wc -l)" = 2000 ]
	[ "$(state ck | wc -l)" = 2000 ]
	# a restart (no server: it keeps retrying) finds what it needs
	run -0 "$CKPT" run wordcount -c ck --socket 127.0.0.1:1 \
		--batch-interval 200ms --max-batches 1
	[ "$(state ck | wc -l)" = 2000 ]
}

@test "run: WAL crash points: the lines in the log at a crash count once, a torn tail is cut" {
	# The server sends lines 0..599 in six blocks on the first
	# connection (the engine dies at its third WAL append), then
	# 600..999 to the restarted engine.  Lines the kernel had received
	# but the log had not are lost, as the WAL's contract says (no
	# acknowledgements on a plain TCP line protocol); every line that
	# was whole in the log at the crash must be counted exactly once.
	server_py
	cat >> server.py <<'EOF'
c, _ = srv.accept()
try:
    for chunk in range(6):
        c.sendall("".join("w%d x\n" % i for i in range(chunk * 100, chunk * 100 + 100)).encode())
        time.sleep(0.2)
    while c.recv(4096):
        pass
except OSError:
    pass
c.close()
c, _ = srv.accept()
c.sendall("".join("w%d x\n" % i for i in range(600, 1000)).encode())
c.close()
EOF
	for cp in wal.mid_append:3 wal.after_append:3; do
		rm -rf ck port
		python3 server.py 3>&- &
		spid=$!
		wait_for test -f port
		opts=(--socket "127.0.0.1:$(cat port)" --batch-interval 300ms
			--checkpoint-interval 2)
		CKPT_CRASH_POINT=$cp run -137 "$CKPT" run wordcount -c ck \
			"${opts[@]}" 3>&-
		# the lines the log holds whole (mid_append may leave a torn
		# one, which the restart cuts)
		for f in ck/wal/*.log; do
			python3 -c 'import sys; d = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(d[:d.rfind(b"\n") + 1])' "$f"
		done | grep -a '^w[0-9]* x$' | cut -d' ' -f1 | LC_ALL=C sort > logged
		n=$(wc -l < logged)
		((n >= 1 && n <= 600))
		want=$((n + 400))
		run_until_words "$want" "${opts[@]}"
		wait "$spid"
		"$CKPT" run wordcount -c ck --show-output > out
		# exactly the logged lines and the second connection's, once
		{ cat logged; seq 600 999 | sed 's/^/w/'; } | LC_ALL=C sort > expect
		grep '^w' out | cut -f1 | LC_ALL=C sort > got
		diff expect got
		[ "$(awk -F'\t' '$1 == "x" { v = $2 } END { print v }' out)" = "$want" ]
		[ "$(state ck | awk -F'\t' '$1 ~ /^w/ && $2 == 1' | wc -l)" = "$want" ]
		run -0 "$CKPT" verify ck
	done
}

@test "run: a checkpoint interval that is not a multiple is refused" {
	printf 'a b\n' > in.txt
	run -1 --separate-stderr "$CKPT" run wordcount -c ck -i in.txt \
		--batch-interval 2s --checkpoint-interval 15s
	[ "$stderr" = "ckpt run: checkpoint interval 15s is not a multiple of the batch interval 2s: state can only be checkpointed between batches" ]
	run -1 --separate-stderr "$CKPT" run window -c ck -i in.txt \
		--checkpoint-interval 40s
	[ "$stderr" = "ckpt run: checkpoint interval 40s is not a multiple of the slide 30s: a windowed state must be checkpointed at slide boundaries, as Spark requires" ]
	run -2 --separate-stderr "$CKPT" run window -c ck -i in.txt --slide 0s
	run -0 --separate-stderr "$CKPT" run wordcount -c ck -i in.txt --checkpoint-interval 20
	[[ $stderr == *"warning: checkpoint interval 20s is 20x the batch interval; 5-10x is recommended"* ]]
}

@test "run: a directory of another job or configuration is refused" {
	printf 'a b\n' > in.txt
	run -0 "$CKPT" run wordcount -c app -i in.txt
	run -1 --separate-stderr "$CKPT" run session -c app -i in.txt
	[ "$stderr" = "ckpt run: checkpoint 'app' was written by job 'wordcount', not 'session': use a new versioned directory (e.g. 'app-v2') or 'ckpt migrate'" ]
	run -1 --separate-stderr "$CKPT" run wordcount -c app -i in.txt --partitions 4
	[ "$stderr" = "ckpt run: checkpoint 'app' was written with --partitions 8, not 4: use a new versioned directory (e.g. 'app-v2') or 'ckpt migrate'" ]
	run -1 --separate-stderr "$CKPT" run wordcount -c app -i in.txt --batch-interval 5s
	[[ $stderr == *"was written with --batch-interval 1s, not 5s"* ]]
}

@test "run: a locked directory is refused with exit 11" {
	printf 'a b\n' > in.txt
	"$CKPT" run wordcount -c ck -i in.txt --follow --metrics m.jsonl 3>&- &
	pid=$!
	wait_for lines_at_least m.jsonl 1
	run -11 --separate-stderr "$CKPT" run wordcount -c ck -i in.txt
	[[ $stderr == "ckpt run: "*"locked by pid $pid"* ]]
	run -0 "$CKPT" ls ck
	assert_output --regexp "locked by: +pid $pid on .* \(ckpt run wordcount\)"
	kill -TERM "$pid"
	rc=0; wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
}

@test "run: format version 1 writes snapshots only and stays version 1" {
	"$CKPT" run wordcount --generate --dump-input --seed 3 --events 400 > in.txt
	run -0 "$CKPT" run wordcount -c v1 -i in.txt --format-version 1 --checkpoint-interval 5
	run -0 "$CKPT" run wordcount -c v2 -i in.txt --checkpoint-interval 5
	[ -z "$(find v1/state -name '*.delta')" ]
	[ -n "$(find v2/state -name '*.delta')" ]
	[ "$(state v1)" = "$(state v2)" ]
	cat in.txt in.txt > in2.txt
	run -0 "$CKPT" run wordcount -c v1 -i in2.txt
	[ -z "$(find v1/state -name '*.delta')" ]
	run -1 --separate-stderr "$CKPT" run wordcount -c v1 -i in2.txt --format-version 2
	[[ $stderr == *"was written with --format-version 1, not 2"* ]]
}

@test "run: the generator is deterministic and usage errors exit 2" {
	a=$("$CKPT" run window --generate --dump-input --seed 9 --events 50 | md5sum)
	b=$("$CKPT" run window --generate --dump-input --seed 9 --events 50 | md5sum)
	c=$("$CKPT" run window --generate --dump-input --seed 10 --events 50 | md5sum)
	[ "$a" = "$b" ] && [ "$a" != "$c" ]
	run -2 --separate-stderr "$CKPT" run wordcount -c ck
	run -2 --separate-stderr "$CKPT" run wordcount -i x --generate -c ck
	run -2 --separate-stderr "$CKPT" run wordcount -c ck --generate --batch-interval 3x
	run -2 --separate-stderr "$CKPT" run nosuchjob -c ck --generate
	[[ $stderr == *"unknown job 'nosuchjob'"* ]]
}
