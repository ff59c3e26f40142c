# helpers.bash - shared setup for the ckpt bats suites.
#
# Load with `load helpers` at the top of tests/cli/<cmd>.bats.  Provides:
#   $CKPT     the binary under test (default: build/ckpt of this tree)
#   $MKCKPT   the fixture maker (default: tools/mkckpt next to $CKPT)
#   $CKPT_TOP the source tree
#   mkckpt DIR [ARGS...]       make a deterministic native checkpoint
#   assert_golden CMD CASE     compare the last `run` (stdout, stderr,
#                              exit status) with tests/cli/golden/CMD/
#                              CASE.{stdout,stderr,exit}; with
#                              CKPT_GOLDEN_UPDATE=1 write them instead
#   normalise                  filter: temp dirs -> <tmp>, tree -> <top>,
#                              created_ms -> <ms>
#   man_text FILE              a man page as plain text
#   man_synopsis CMD           the SYNOPSIS lines of man/ckpt-CMD.1
#   help_usage CMD             the usage lines of `ckpt CMD --help`
# Tests write only under $BATS_TEST_TMPDIR.

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load /usr/lib/bats/bats-file/load

CKPT_TOP=${CKPT_TOP:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
CKPT=${CKPT:-$CKPT_TOP/build/ckpt}
MKCKPT=${MKCKPT:-$(dirname "$CKPT")/tools/mkckpt}
GOLDEN_DIR=$CKPT_TOP/tests/cli/golden
export CKPT MKCKPT CKPT_TOP
# Colours and locale must not leak in from the developer's shell.
unset NO_COLOR
export LC_ALL=C TZ=UTC

mkckpt() {
	[[ -x $MKCKPT ]] || fail "mkckpt not built: $MKCKPT (run make)"
	"$MKCKPT" "$@" >/dev/null || fail "mkckpt $* failed"
}

# mkckpt writes the wall clock into metadata as created_ms.
normalise() {
	local tmp=${BATS_TEST_TMPDIR:-/nonexistent}
	sed -e "s|$tmp|<tmp>|g" -e "s|$CKPT_TOP|<top>|g" \
		-e 's/"created_ms": [0-9]*/"created_ms": <ms>/'
}

assert_golden() {
	local dir=$GOLDEN_DIR/$1 base=$GOLDEN_DIR/$1/$2
	local out err

	out=$(printf '%s' "$output" | normalise)
	err=$(printf '%s' "${stderr-}" | normalise)
	if [[ ${CKPT_GOLDEN_UPDATE-} == 1 ]]; then
		mkdir -p "$dir"
		printf '%s\n' "$out" > "$base.stdout"
		printf '%s\n' "$err" > "$base.stderr"
		printf '%s\n' "$status" > "$base.exit"
		return 0
	fi
	[[ -f $base.stdout ]] ||
		fail "no golden file $base.stdout (run 'make golden' and review)"
	diff -u "$base.stdout" <(printf '%s\n' "$out") >&2 ||
		fail "stdout differs from golden/$1/$2.stdout"
	diff -u "$base.stderr" <(printf '%s\n' "$err") >&2 ||
		fail "stderr differs from golden/$1/$2.stderr"
	[[ $(cat "$base.exit") == "$status" ]] ||
		fail "exit status $status, golden/$1/$2.exit says $(cat "$base.exit")"
}

# A man page rendered as plain text, lines unwrapped (no col(1) needed).
man_text() {
	mandoc -Tascii -O width=400 "$1" | sed 's/.\x08//g'
}

# The SYNOPSIS of man/ckpt-CMD.1 as rendered, one synopsis per line,
# blanks squeezed.
man_synopsis() {
	man_text "$CKPT_TOP/man/ckpt-$1.1" |
		awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 }
			on && NF { $1 = $1; print }'
}

help_usage() {
	"$CKPT" "$1" --help | sed -n -e 's/^usage: //p' -e 's/^   or: //p'
}

# Flips one byte (xor 0xff) of file $1 at offset $2.
flip_byte() {
	python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, 'r+b') as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xff]))
PY
}

# Every object key of the JSON document on stdin (sorted, unique).
json_keys() {
	jq -r '[paths | map(select(type == "string")) | last | select(. != null)] | unique | .[]'
}

# Fails naming each key read on stdin that the JSON OUTPUT section of
# man/ckpt-CMD.1 does not mention.
assert_keys_documented() {
	local cmd=$1 sect key bad=""
	sect=$(man_text "$CKPT_TOP/man/ckpt-$cmd.1" |
		awk '/^JSON OUTPUT/ { on = 1; next } /^[A-Z]/ { on = 0 } on')
	while read -r key; do
		grep -qw -- "$key" <<<"$sect" || bad+=" $key"
	done
	[[ -z $bad ]] || fail "not in ckpt-$cmd(1) JSON OUTPUT:$bad"
}
