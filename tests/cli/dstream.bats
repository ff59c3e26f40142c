#!/usr/bin/env bats
# Legacy Spark Streaming (DStream) checkpoints: ls and verify on a copy
# of fixture 14's DStream part (checkpoint-<ms> + .bk with Hadoop .crc,
# the receivedBlockMetadata WAL, RDD checkpoint dirs), on damaged
# copies, and on the fixture itself where it is mixed with a Structured
# Streaming checkpoint.  Expected values: fixtures/spark/EXPECTED.json.

load helpers

F14=Atuneros--proy_twitter--checkpoint
WAL=receivedBlockMetadata/log-1621164543071-1621164603071

setup() {
	FX=${CKPT_SPARK_FIXTURES:-$CKPT_TOP/../shared/fixtures/spark}/$F14
	[[ -f $FX/$WAL ]] || skip "Spark fixture 14 not found in $FX (set CKPT_SPARK_FIXTURES)"
	DS=$BATS_TEST_TMPDIR/ds
	mkdir -p "$DS"
	(cd "$FX" && cp -r checkpoint-* .checkpoint-* receivedBlockMetadata \
		*-*-*-*-*/ "$DS/")
	chmod -R u+w "$DS"
}

@test "dstream: ls lists generations, the restart file, the WAL and RDD dirs" {
	run -0 --separate-stderr "$CKPT" ls "$DS"
	assert_line 'format:        spark streaming (dstream)'
	assert_line 'name:          SERVER'
	assert_line --regexp "^restart point: batch 1621164555000 \(newest checkpoint file 'checkpoint-1621164555000' decodes\)$"
	assert_line --regexp '^1621164245000 +yes .* 4 +10\.2 KiB$'
	assert_line --regexp '^1621164555000 +yes .*<- restart point$'
	assert_line --regexp "^  $WAL +7 +2021-05-16T11:29:03\.071Z +2021-05-16T11:30:03\.071Z .*\(1 additions, 3 allocations, 3 cleanups\)$"
	assert_line --regexp '^  52847c24-eae7-463d-af36-3e5077bbeb64/rdd-50 +8 parts .*not referenced$'
	assert_line --regexp '^  checkpoint-1621164550000\.bk +5\.0 KiB +2021-05-16T11:29:10\.000Z +1621164550000$'
	assert_line --regexp '^  checkpoint-1621164555000 +5\.0 KiB +2021-05-16T11:29:15\.000Z +-  <- restart file$'
	assert_line 'Leftovers: none'
	assert_line --regexp '^Total: 129 files, '
	[[ $(grep -c ' parts ' <<<"$output") -eq 6 ]]
	[[ $(grep -cE '^16211[0-9]{8} ' <<<"$output") -eq 5 ]]
}

@test "dstream: ls --json has the generations, the WAL and the RDD dirs" {
	run -0 --separate-stderr "$CKPT" ls --json "$DS"
	run -0 jq -c '[.format, .restart_point, .next_batch, (.batches | length),
		(.checkpoint_files | map(select(.bk)) | map(.pending_times[0] == .time_ms) | all),
		(.checkpoint_files | map(select(.restart_file)) | map(.file)),
		.write_ahead_logs, (.rdd_checkpoints | length),
		.rdd_checkpoints[5], .totals.files]' <<<"$output"
	assert_output '["dstream",1621164555000,1621164560000,5,true,["checkpoint-1621164555000"],[{"path":"'"$WAL"'","stream":"","records":7,"start_ms":1621164543071,"end_ms":1621164603071,"bytes":5348,"cut_offset":null}],6,{"path":"52847c24-eae7-463d-af36-3e5077bbeb64/rdd-79","parts":8,"bytes":12439,"referenced":false},129]'
}

@test "dstream: inspect shows a generation's two files and pending times" {
	run -0 --separate-stderr "$CKPT" inspect --json --batch 1621164550000 "$DS"
	run -0 jq -c '[.batch.files[] | [.file, .bk, .checkpoint_time_ms,
		.pending_times]], .metadata.write_ahead_logs[0].events,
		.metadata.app_name' <<<"$output"
	assert_line --index 0 '[["checkpoint-1621164550000",false,1621164550000,[]],["checkpoint-1621164550000.bk",true,1621164550000,[1621164550000]]]'
	assert_line --index 1 '{"BlockAdditionEvent":1,"BatchAllocationEvent":3,"BatchCleanupEvent":3,"other":0}'
	assert_line --index 2 '"SERVER"'
}

@test "dstream: verify and verify --read-state pass on the clean copy" {
	run -0 --separate-stderr "$CKPT" verify "$DS"
	assert_output 'verified 129 files, 83919 bytes, 64 checksums: 0 errors, 0 warnings'
	run -0 --separate-stderr "$CKPT" verify --read-state "$DS"
	assert_output --regexp ': 0 errors, 0 warnings$'
}

@test "dstream: a flipped byte in a checkpoint file is an error naming it" {
	printf '\000' | dd of="$DS/checkpoint-1621164555000" bs=1 seek=2000 \
		conv=notrunc 2>/dev/null
	run -3 --separate-stderr "$CKPT" verify "$DS"
	assert_line --regexp "^error: checkpoint-1621164555000: offset 1536: hadoop checksum mismatch in chunk 3 "
	assert_line --regexp "^error: checkpoint-1621164555000: .*lz4 block at offset 0"
	assert_line --regexp ': 2 errors, 0 warnings$'
	# Spark falls back to the .bk of the same time
	run -0 --separate-stderr "$CKPT" ls "$DS"
	assert_line --regexp "^restart point: batch 1621164555000 \('checkpoint-1621164555000.bk' is the newest file that decodes"
	assert_line --regexp '^  checkpoint-1621164555000 +5\.0 KiB +does not decode: checksum mismatch in '
	assert_line --regexp '^  checkpoint-1621164555000\.bk .*  <- restart file$'
}

@test "dstream: a WAL cut inside a record is a warning with its offset" {
	truncate -s 3000 "$DS/$WAL"
	run -0 --separate-stderr "$CKPT" verify "$DS"
	assert_line "warning: $WAL: offset 2744: log ends inside the record at offset 2744 (817 bytes, 252 left; Spark stops reading there)"
	assert_line --regexp ': 0 errors, 1 warnings$'
	run -0 --separate-stderr "$CKPT" ls "$DS"
	assert_line --regexp "^  $WAL +3 .* cut at 2744 "
}

@test "dstream: a truncated checkpoint file and a leftover temp file" {
	head -c 100 "$FX/checkpoint-1621164250000" >"$DS/checkpoint-1621164250000"
	echo partial >"$DS/temp"
	run -3 --separate-stderr "$CKPT" verify "$DS"
	assert_line "error: checkpoint-1621164250000: checksum file covers 11 chunks, data size 100 needs 1 (checksum file '.checkpoint-1621164250000.crc')"
	assert_line "error: checkpoint-1621164250000: cannot decode 'checkpoint-1621164250000': lz4 block at offset 0: truncated block payload"
	assert_line 'warning: temp: temporary file of an interrupted checkpoint write'
	assert_line --regexp ': 2 errors, 1 warnings$'
	run -0 --separate-stderr "$CKPT" ls "$DS"
	assert_line --regexp '^  temp +temp\b'
}

@test "dstream: no decodable checkpoint file is an error for the root" {
	for f in "$DS"/checkpoint-*; do printf 'junk' >"$f"; done
	rm -f "$DS"/.checkpoint-*.crc
	run -3 --separate-stderr "$CKPT" verify "$DS"
	assert_line --regexp "no checkpoint file decodes: Spark cannot restart from this directory$"
	run -0 --separate-stderr "$CKPT" ls "$DS"
	assert_line --regexp '^restart point: none \(none of the 10 newest checkpoint files decodes\)$'
}

@test "dstream: the fixture itself is structured streaming + dstream" {
	run -0 --separate-stderr "$CKPT" ls "$FX"
	assert_line 'format:        structured streaming + dstream'
	assert_line --regexp "^  $WAL +7 "
	assert_line --regexp '^Total: 137 files, '
	run -0 --separate-stderr "$CKPT" verify "$FX"
	assert_output --regexp 'verified 137 files, 86118 bytes, 64 checksums: 0 errors'
	run -0 --separate-stderr "$CKPT" inspect --hex "$WAL" "$FX"
	assert_line '== record length at 0, 4 bytes: record 0: 886 bytes [ok]'
}

@test "dstream: inspect --hex annotates LZ4 blocks, WAL records and sidecars" {
	run -0 --separate-stderr "$CKPT" inspect --hex checkpoint-1621164555000 "$DS"
	assert_line '== lz4 block header at 0, 21 bytes: lz4, 5055 -> 11148 bytes, xxhash ok [ok]'
	assert_line '== lz4 block header at 5076, 21 bytes: end of stream, 0 -> 0 bytes, xxhash ok [ok]'
	run -0 --separate-stderr "$CKPT" inspect --hex "$WAL" "$DS"
	assert_line '== record length at 4783, 4 bytes: record 6: 561 bytes [ok]'
	[[ $(grep -c '^== record payload' <<<"$output") -eq 7 ]]
	run -0 --separate-stderr "$CKPT" inspect --hex .checkpoint-1621164555000.crc "$DS"
	assert_line '== chunk checksums at 8, 40 bytes: 10 CRC-32 sums, big-endian [ok]'
	printf '\000' | dd of="$DS/checkpoint-1621164555000" bs=1 seek=2000 \
		conv=notrunc 2>/dev/null
	run -0 --separate-stderr "$CKPT" inspect --hex checkpoint-1621164555000 "$DS"
	assert_line --regexp '^== damage at 0, 0 bytes: .*xxhash .* \[BAD\]$'
}

@test "dstream: ls and inspect agree with EXPECTED.json" {
	local exp=$FX/../EXPECTED.json
	[[ -f $exp ]] || skip "no EXPECTED.json next to the fixtures"
	run -0 jq -c --arg k "$F14" '.[$k].dstream |
		[(.checkpoint_files.files | map([.file, .bk, .bytes,
		.checkpointTime, .pendingTimes]) | sort),
		.checkpoint_files.first_readable,
		(.wal.receivedBlockMetadata | to_entries | map([.key,
		.value.records, .value.start_ms, .value.end_ms,
		.value.events.BlockAdditionEvent,
		.value.events.BatchAllocationEvent,
		.value.events.BatchCleanupEvent])),
		(.rdd_dirs | to_entries | map([.key, .value.parts,
		.value.part_bytes]) | sort)]' "$exp"
	local want=$output
	run -0 --separate-stderr "$CKPT" inspect --json --batch 1621164555000 "$DS"
	run -0 jq -c '.metadata as $m | [
		($m.write_ahead_logs | map([(.path | sub("^.*/"; "")),
		.records, .start_ms, .end_ms, .events.BlockAdditionEvent,
		.events.BatchAllocationEvent, .events.BatchCleanupEvent])),
		($m.rdd_checkpoints | map([.path, .parts, .bytes]) | sort),
		$m.restart_file]' <<<"$output"
	local got_meta=$output
	run -0 --separate-stderr "$CKPT" ls --json "$DS"
	run -0 jq -c '.checkpoint_files | map([.file, .bk, .bytes,
		.checkpoint_time_ms, .pending_times]) | sort' <<<"$output"
	local got_files=$output
	run -0 jq -c --argjson m "$got_meta" --argjson f "$got_files" \
		-n '[$f, $m[2], $m[0], $m[1]]'
	assert_output "$want"
}

@test "dstream: diff compares what two generations resume" {
	run -3 --separate-stderr "$CKPT" diff --from 1621164250000 --to 1621164545000 "$DS"
	assert_line 'M checkpoint_time_ms 1621164250000 -> 1621164545000'
	assert_line 'M zero_time_ms 1621164215000 -> 1621164540000'
	run -3 --separate-stderr "$CKPT" diff "$DS"
	assert_line 'M checkpoint_time_ms 1621164550000 -> 1621164555000'
	refute_line --partial 'zero_time_ms'
}

@test "dstream: a damaged non-empty sidecar is an error, an empty one a warning" {
	local side="$DS/.checkpoint-1621164555000.crc"
	printf 'XXX' | dd of="$side" bs=1 conv=notrunc 2>/dev/null
	run -3 --separate-stderr "$CKPT" verify "$DS"
	assert_line --regexp "^error: \.checkpoint-1621164555000\.crc: .*bad magic"
	: > "$side"
	run -0 --separate-stderr "$CKPT" verify "$DS"
	assert_line --regexp "^warning: checkpoint-1621164555000: .*empty checksum file"
}
