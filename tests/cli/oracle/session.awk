# session.awk - independent oracle for `ckpt run session`: replays the
# input batch by batch and closes, at the end of each batch (end time
# E), every key with E - last_seen >= T.  Batches as in window.awk, with
# start aligned to the batch interval.  Variables: B (batch ms), T
# (timeout ms), N (actions kept), MODE (output | state).  Output lines
# carry the batch first ("BATCH<TAB>KEY<TAB>COUNT<TAB>LAST<TAB>ACTIONS")
# so `sort -k1,1n -k2,2` puts them in the engine's order.
BEGIN { FS = "\t"; cur = -1 }
function close_batches(upto,    k, e) {
	for (; cur < upto; cur++) {
		e = start + (cur + 1) * B
		for (k in cnt)
			if (e - last[k] >= T) {
				if (MODE == "output")
					printf "%d\t%s\t%d\t%.0f\t%s\n", cur, k,
					    cnt[k], last[k], acts[k]
				delete cnt[k]; delete last[k]; delete acts[k]
			}
	}
}
function push(k, a,    n, parts, i, s) {
	if (!(k in acts) || acts[k] == "") { acts[k] = a; return }
	s = acts[k] "," a
	n = split(s, parts, ",")
	if (n > N) {
		s = parts[n - N + 1]
		for (i = n - N + 2; i <= n; i++) s = s "," parts[i]
	}
	acts[k] = s
}
{
	if ($1 !~ /^[0-9]+$/ || NF < 2 || $2 == "") next
	t = $1 + 0
	if (cur < 0) { start = t - t % B; cur = 0 }
	b = int((t - start) / B)
	if (b > cur) close_batches(b)
	k = $2
	if (!(k in cnt) || t > last[k]) last[k] = t
	cnt[k]++
	push(k, NF >= 3 ? $3 : "")
}
END {
	if (cur < 0) exit
	close_batches(cur + 1)
	if (MODE == "state")
		for (k in cnt) printf "%s\t%d\t%.0f\t%s\n", k, cnt[k], last[k], acts[k]
}
