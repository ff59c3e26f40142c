# window.awk - independent oracle for `ckpt run window`: recomputes every
# window from scratch at every slide (no inverse function), from the
# input lines.  Batches follow the engine's documented rule: batch k
# covers event times [start + k*B, start + (k+1)*B), start is the first
# event time aligned down to the slide, and a line earlier than the
# current batch (late) or malformed stays in the current batch.
# Variables: B (batch ms), S (slide ms), W (window ms), MODE (output |
# state).  Output lines: "WINDOW_END<TAB>KEY<TAB>COUNT", key order left
# to `sort`; state lines: "KEY<TAB>COUNT".
BEGIN { FS = "\t"; cur = -1; nk = 0 }
{
	if ($1 !~ /^[0-9]+$/ || NF < 2 || $2 == "") next	# malformed
	t = $1 + 0
	if (cur < 0) { start = t - t % S; cur = 0 }
	b = int((t - start) / B)
	if (b > cur) cur = b
	cnt[cur, $2]++
	if (!($2 in seen)) { seen[$2] = 1; keys[nk++] = $2 }
}
END {
	if (cur < 0) exit
	bps = S / B; n = W / S
	slides = int((cur + 1) / bps)	# completed slides
	for (j = 0; j < slides; j++) {
		lo = (j - n + 1) * bps; hi = (j + 1) * bps
		if (lo < 0) lo = 0
		if (MODE == "output")
			for (i = 0; i < nk; i++) {
				c = 0
				for (x = lo; x < hi; x++) c += cnt[x, keys[i]]
				if (c != 0)
					printf "%.0f\t%s\t%d\n", start + (j + 1) * S, keys[i], c
			}
	}
	if (MODE != "state") exit
	# after the last completed slide J, slides > J - n + 1 remain
	lo = (slides - 1 - n + 2) * bps
	if (lo < 0) lo = 0
	for (i = 0; i < nk; i++) {
		c = 0
		for (x = lo; x <= cur; x++) c += cnt[x, keys[i]]
		if (c != 0) printf "%s\t%d\n", keys[i], c
	}
}
