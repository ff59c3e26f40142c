#!/bin/sh
# deps.sh - make sure every build and test dependency is present.
#
# Checks each with pkg-config or command -v.  When something is missing
# and we run as root on Debian, installs the Debian packages; otherwise
# prints the exact apt-get line and fails.
set -u

PKGS=""
need_pc() {	# pkg-config-name debian-package
	pkg-config --exists "$1" 2>/dev/null || PKGS="$PKGS $2"
}
need_cmd() {	# command debian-package
	command -v "$1" >/dev/null 2>&1 || PKGS="$PKGS $2"
}
need_file() {	# path debian-package
	[ -e "$1" ] || PKGS="$PKGS $2"
}

need_cmd pkg-config pkg-config
need_cmd cc gcc
need_cmd make make
if command -v pkg-config >/dev/null 2>&1; then
	need_pc libarchive libarchive-dev
	need_pc libcurl libcurl4-openssl-dev
	need_pc libcjson libcjson-dev
	need_pc readline libreadline-dev
	need_pc libzstd libzstd-dev
	need_pc liblz4 liblz4-dev
	need_pc libxxhash libxxhash-dev
	need_pc zlib zlib1g-dev
else
	PKGS="$PKGS libarchive-dev libcurl4-openssl-dev libcjson-dev libreadline-dev libzstd-dev liblz4-dev libxxhash-dev zlib1g-dev"
fi
need_cmd bats bats
need_file /usr/lib/bats/bats-assert/load.bash bats-assert
need_file /usr/lib/bats/bats-support/load.bash bats-support
need_file /usr/lib/bats/bats-file/load.bash bats-file
need_cmd mandoc mandoc
# Test-only tools: completion tests, reference tools for benchmarks,
# the socket-source peer, the sanitizer compiler.
need_cmd zsh zsh
need_cmd fish fish
need_cmd zstd zstd
need_cmd lz4 lz4
need_cmd xxhsum xxhash
need_cmd nc netcat-openbsd
need_cmd python3 python3
need_cmd bc bc
need_cmd jq jq
need_cmd mawk mawk
need_cmd clang clang
need_file /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.asan-x86_64.a libclang-rt-14-dev

[ -z "$PKGS" ] && exit 0
PKGS=$(echo $PKGS | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$PKGS" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $PKGS >&2 || {
		echo "deps: apt-get install failed" >&2; exit 1; }
	exit 0
fi
echo "deps: missing packages; run as root:" >&2
echo "  apt-get install -y $PKGS" >&2
exit 1
