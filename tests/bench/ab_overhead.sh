#!/bin/sh
# ab_overhead.sh [-n PAIRS] [-i INPUT] [-l LABELS] CKPT... - the state
# checkpoint overhead of one or more ckpt binaries, compared in the same
# minutes.
#
# make bench runs it with 15 pairs; on a shared 2-core VM the median of
# that many pairs still moves by several points between runs, more than
# most changes to the checkpoint path.  To judge a change, build the
# old and the new binary and give both here: rounds go
# binary after binary (so the host's drift hits them alike), each round
# one back-to-back pair per binary (a run with a state checkpoint every
# 10 batches, one with a checkpoint only at the end, the order
# alternating), and each binary's overhead is the median of its pairs'
# wall-clock ratios with a 95% bootstrap interval, then the median run
# times and the median ratio of CPU time (user + system).  60 pairs
# (the default) take about 3 minutes per binary and give intervals of
# about +-4 points; intervals that overlap mean no difference was shown.
# A CKPT may be a script that adds options ("exec ckpt "$@" --opt").
# LABELS: names to print for the CKPTs, separated by spaces.
set -eu
PAIRS=60
IN=""
LABELS=""
usage() {
	echo "usage: $0 [-n PAIRS] [-i INPUT] [-l LABELS] CKPT..." >&2
	exit 2
}
while getopts n:i:l: o; do
	case $o in
	n) PAIRS=$OPTARG ;;
	i) IN=$OPTARG ;;
	l) LABELS=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
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

# "WALL CPU" seconds of one run into a fresh directory.  The directories are
# kept until the end: on ext4 without a journal, creating a file scans
# past every inode of its group deleted in the last 30 s or so, so a
# run right after deleting the previous one's few hundred files pays
# for that in its persister's system time (make bench keeps them too).
# 60 pairs of two binaries take about 3 GB.
one() {
	d=$(mktemp -d "$T/run-XXXXXX")
	/usr/bin/time -f "%e %U %S" -o "$T/t" "$1" run wordcount -q \
		-c "$d/ck" -i "$IN" --rate "$rate" --batch-interval 1s \
		--checkpoint-interval "$2" > /dev/null 2>&1
	awk '{ printf "%s %.2f", $1, $2 + $3 }' "$T/t"
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
		echo "$b $e $k" >> "$T/pairs"	# b, wall/cpu at end, every 10
	done
	i=$((i + 1))
done

b=0
for c in "$@"; do
	b=$((b + 1))
	name=$(echo "$LABELS" | awk -v b="$b" '{ print $b }')
	awk -v b="$b" -v name="${name:-$c}" '
	function med(a, n,   i, j, t) {	# median of a[1..n], sorts a
		for (i = 2; i <= n; i++) {
			t = a[i]
			for (j = i - 1; j >= 1 && a[j] > t; j--)
				a[j + 1] = a[j]
			a[j + 1] = t
		}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$1 == b {
		n++
		r[n] = $4 / $2 - 1; ew[n] = $2; kw[n] = $4
		rc[n] = $5 / ($3 > 0 ? $3 : 0.01) - 1
	}
	END {
		for (i = 1; i <= n; i++)
			c[i] = r[i]
		m = med(c, n)
		me = med(ew, n)
		mk = med(kw, n)
		mc = med(rc, n)
		srand(1)
		for (k = 1; k <= 1000; k++) {
			for (i = 1; i <= n; i++)
				s[i] = r[int(rand() * n) + 1]
			bs[k] = med(s, n)
		}
		med(bs, 1000)
		printf "%s: overhead %+.1f%% (95%% interval %+.1f%% to %+.1f%%, %d pairs); median run %.2f s with checkpoints, %.2f s without; cpu %+.1f%%\n",
		    name, m * 100, bs[25] * 100, bs[976] * 100, n, mk, me,
		    mc * 100
	}' "$T/pairs"
done
