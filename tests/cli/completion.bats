#!/usr/bin/env bats
# The shell completions: bash, zsh and fish each ask `ckpt __complete`
# and fall back to a static command list when ckpt cannot be run.  Each
# test skips when its shell is not installed.

load helpers

setup() {
	# The completions run "ckpt" from PATH, as a user's shell would.
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	ln -sf "$CKPT" "$BATS_TEST_TMPDIR/bin/ckpt"
	export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
	COMP=$CKPT_TOP/completions
}

bash_complete() {	# words... (the last one is completed)
	bash -c 'source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_ckpt; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP/ckpt.bash" "$@"
}

@test "completion: bash completes command names" {
	run -0 bash_complete ckpt ve
	assert_output verify
	run -0 bash_complete ckpt ""
	assert_line ls
	assert_line inspect
	assert_line help
}

@test "completion: bash completes a command's options from its table" {
	run -0 bash_complete ckpt ls --a
	assert_output -- --all
	run -0 bash_complete ckpt verify --read
	assert_line -- --read-state
	assert_line -- --read-subset
	run -0 bash_complete ckpt inspect --js
	assert_output -- --json
}

@test "completion: bash leaves arguments to file completion" {
	run -0 bash_complete ckpt ls ""
	assert_output ""
	run -0 bash -c 'source "$1"; complete -p ckpt' _ "$COMP/ckpt.bash"
	assert_output --partial "-o default"
}

@test "completion: bash falls back to the static list without ckpt" {
	run -0 env PATH=/usr/bin:/bin bash -c 'source "$1"
		COMP_WORDS=(ckpt rest); COMP_CWORD=1
		_ckpt; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP/ckpt.bash"
	assert_output restore-test
}

zsh_complete() {	# words... ; prints what compadd got, or FILES
	zsh -f -c 'compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
		_files() { print FILES; }
		f=$1; shift; words=("$@"); CURRENT=$#
		source "$f"' _ "$COMP/_ckpt" "$@"
}

@test "completion: zsh file parses" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	run -0 zsh -n "$COMP/_ckpt"
	run -0 head -1 "$COMP/_ckpt"
	assert_output "#compdef ckpt"
}

@test "completion: zsh compinit registers _ckpt for ckpt" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	run -0 zsh -f -c 'fpath=("$1" $fpath); autoload -U compinit
		compinit -D -d "$2/zcompdump"; print -r -- $_comps[ckpt]' \
		_ "$COMP" "$BATS_TEST_TMPDIR"
	assert_output _ckpt
}

@test "completion: zsh completes commands, options and files" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	run -0 zsh_complete ckpt ve
	assert_output verify
	run -0 zsh_complete ckpt ls --lo
	assert_output -- --long
	run -0 zsh_complete ckpt ls x
	assert_output FILES
}

@test "completion: zsh falls back to the static list without ckpt" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	PATH=/usr/bin:/bin run -0 zsh_complete ckpt ""
	assert_line restore-test
	refute_line shell
}

@test "completion: fish completes verify from 've'" {
	command -v fish >/dev/null || skip "fish is not installed"
	run -0 fish -c "source $COMP/ckpt.fish; complete -C'ckpt ve'"
	assert_output verify
}

@test "completion: fish completes options and leaves arguments to files" {
	command -v fish >/dev/null || skip "fish is not installed"
	run -0 fish -c "source $COMP/ckpt.fish; complete -C'ckpt ls --lo'"
	assert_output -- --long
	touch "$BATS_TEST_TMPDIR/some-file"
	cd "$BATS_TEST_TMPDIR"
	run -0 fish -c "source $COMP/ckpt.fish; complete -C'ckpt ls some'"
	assert_output some-file
}

@test "completion: fish falls back to the static list without ckpt" {
	command -v fish >/dev/null || skip "fish is not installed"
	run -0 env PATH=/usr/bin:/bin fish -c "source $COMP/ckpt.fish; complete -C'ckpt ve'"
	assert_output verify
}

@test "completion: bash completes --opt=value split at '='" {
	"$CKPT" __complete "" | grep -qx restore-test ||
		skip "no command with an enum option is built yet"
	run -0 bash_complete ckpt restore-test --format = j
	assert_output $'junit\njson'
	run -0 bash_complete ckpt restore-test --format =
	assert_line "=tap"
	run -0 bash_complete ckpt restore-test --format j
	assert_output $'junit\njson'
}

@test "completion: the static fallback lists are exactly the program's commands" {
	local want f got
	want=$("$CKPT" __complete "" | sort | tr '\n' ' ')
	got=$(sed -n "s/^.*out=\\\$'\\(.*\\)'\$/\\1/p" "$COMP/ckpt.bash" |
		sed 's/\\n/ /g' | tr ' ' '\n' | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "ckpt.bash: '$got' != '$want'"
	got=$(sed -n 's/^.*cands=(\(ls .*\))$/\1/p' "$COMP/_ckpt" |
		tr ' ' '\n' | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "_ckpt: '$got' != '$want'"
	got=$(sed -n "s/^.*printf '%s\\\\n' \\(ls .*\\)\$/\\1/p" "$COMP/ckpt.fish" |
		tr ' ' '\n' | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "ckpt.fish: '$got' != '$want'"
	for f in ckpt.bash _ckpt ckpt.fish; do
		got=$(sed -n 's/^# Commands: //p' "$COMP/$f" | tr ' ' '\n' |
			sort | tr '\n' ' ')
		[ "$got" = "$(grep -vx help <<<"$("$CKPT" __complete "")" |
			sort | tr '\n' ' ')" ] || fail "$f header: '$got'"
	done
}
