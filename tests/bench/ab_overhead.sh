#!/bin/sh
# ab_overhead.sh [-n PAIRS] [-i INPUT] CKPT... - the state checkpoint
# overhead of one or more ckpt binaries, compared in the same minutes.
#
# make bench prints one figure from 15 pairs; on a shared 2-core VM the
# median of that many pairs still moves by several points between runs,
# more than most changes to the checkpoint path.  To judge a change,
# build the old and the new binary and give both here: rounds go
# binary after binary (so the host's drift hits them alike), each round
# one back-to-back pair per binary (a run with a state checkpoint every
# 10 batches, one with a checkpoint only at the end, the order
# alternating), and each binary's overhead is the median of its pairs'
# wall-clock ratios with a 95% bootstrap interval.  60 pairs (the
# default) take about 3 minutes per binary and give intervals of about
# +-4 points; intervals that overlap mean no difference was shown.
# Not run by make bench.
set -eu
PAIRS=60
IN=""
while getopts n:i: o; do
	case $o in
	n) PAIRS=$OPTARG ;;
	i) IN=$OPTARG ;;
	*) echo "usage: $0 [-n PAIRS] [-i INPUT] CKPT..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-n PAIRS] [-i INPUT] CKPT..." >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-ab-XXXXXX")
trap 'rm -rf "$T"' EXIT
if [ -z "$IN" ]; then	# the input of make bench's overhead part
	IN=$T/in.txt
	"$1" run wordcount --generate --dump-input --seed 1 --keys 200000 \
		--skew 50 --events 1000000 > "$IN"
fi
lines=$(wc -l < "$IN")
rate=$((lines / 100))
[ "$rate" -ge 1 ] || rate=1

# wall seconds of one run into a fresh directory.  The directories are
# kept until the end: on ext4 without a journal, creating a file scans
# past every inode of its group deleted in the last 30 s or so, so a
# run right after deleting the previous one's few hundred files pays
# for that in its persister's system time (make bench keeps them too).
# 60 pairs of two binaries take about 3 GB.
one() {
	d=$(mktemp -d "$T/run-XXXXXX")
	/usr/bin/time -f "%e" -o "$T/t" "$1" run wordcount -q -c "$d/ck" \
		-i "$IN" --rate "$rate" --batch-interval 1s \
		--checkpoint-interval "$2" > /dev/null 2>&1
	cat "$T/t"
}

: > "$T/pairs"
i=0
while [ "$i" -lt "$PAIRS" ]; do
	b=0
	for c in "$@"; do
		b=$((b + 1))
		if [ $(((i + b) % 2)) = 0 ]; then
			e=$(one "$c" 1000); k=$(one "$c" 10)
		else
			k=$(one "$c" 10); e=$(one "$c" 1000)
		fi
		echo "$b $e $k" >> "$T/pairs"
	done
	i=$((i + 1))
done

b=0
for c in "$@"; do
	b=$((b + 1))
	awk -v b="$b" -v name="$c" '
	function med(a, n,   i, j, t) {	# median of a[1..n], sorts a
		for (i = 2; i <= n; i++) {
			t = a[i]
			for (j = i - 1; j >= 1 && a[j] > t; j--)
				a[j + 1] = a[j]
			a[j + 1] = t
		}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$1 == b { n++; r[n] = $3 / $2 - 1; ew[n] = $2; kw[n] = $3 }
	END {
		for (i = 1; i <= n; i++)
			c[i] = r[i]
		m = med(c, n)
		me = med(ew, n)
		mk = med(kw, n)
		srand(1)
		for (k = 1; k <= 1000; k++) {
			for (i = 1; i <= n; i++)
				s[i] = r[int(rand() * n) + 1]
			bs[k] = med(s, n)
		}
		med(bs, 1000)
		printf "%s: overhead %+.1f%% (95%% interval %+.1f%% to %+.1f%%, %d pairs); median run %.2f s with checkpoints, %.2f s without\n",
		    name, m * 100, bs[25] * 100, bs[976] * 100, n, mk, me
	}' "$T/pairs"
done
