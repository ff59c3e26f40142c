#!/bin/sh
# demo.sh CKPT - run the wordcount job on the bundled input into a fresh
# checkpoint directory, then show it with `ckpt ls` and `ckpt verify`.
set -eu
CKPT=${1:-build/ckpt}
TOP=$(cd "$(dirname "$0")/.." && pwd)
DIR="$TOP/build/demo/wordcount"
INPUT="$TOP/tests/data/demo-input.txt"

rm -rf "$TOP/build/demo"
mkdir -p "$TOP/build/demo"
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
	say() { printf '\n$ %s\n' "$*"; }
fi

say ckpt run wordcount --checkpoint build/demo/wordcount --input tests/data/demo-input.txt
"$CKPT" run wordcount --checkpoint "$DIR" --input "$INPUT"
say ckpt ls build/demo/wordcount
"$CKPT" ls "$DIR"
say ckpt verify --read-state build/demo/wordcount
"$CKPT" verify --read-state "$DIR"
say ckpt inspect build/demo/wordcount --limit 10
"$CKPT" inspect "$DIR" --limit 10
printf '\nThe checkpoint is in build/demo/wordcount; try `%s ls -l build/demo/wordcount`.\n' "$CKPT"
