#!/usr/bin/env bats
# Meta tests (git t0012/t0450, curl test1139/test1477): every command
# the program lists has help matching its man page SYNOPSIS and golden
# file, a man page that lints clean, completions, a bats file and a
# README line; every error kind is documented in ckpt(1).

load helpers

# The commands `ckpt __complete` offers, minus "help".
commands() {
	"$CKPT" __complete "" | grep -vx help
}

@test "meta: the program lists at least ls, inspect and verify" {
	run -0 commands
	assert_line ls
	assert_line inspect
	assert_line verify
}

@test "meta: every command's --help usage lines are its man SYNOPSIS" {
	local cmd line syn bad=""
	for cmd in $(commands); do
		[[ -f $CKPT_TOP/man/ckpt-$cmd.1 ]] || { bad+=" $cmd(no man page)"; continue; }
		syn=$(man_synopsis "$cmd")
		[[ -n $(help_usage "$cmd") ]] || bad+=" $cmd(no usage line)"
		while IFS= read -r line; do
			line=$(echo $line)	# squeeze blanks as man_synopsis does
			grep -qxF -- "$line" <<<"$syn" ||
				bad+=" $cmd('$line' not in SYNOPSIS: '$syn')"
		done < <(help_usage "$cmd")
	done
	[[ -z $bad ]] || fail "mismatch:$bad"
}

@test "meta: every command's --help matches golden/<cmd>/help.stdout" {
	local cmd bad=""
	for cmd in $(commands); do
		local g=$GOLDEN_DIR/$cmd/help.stdout
		if [[ ! -f $g ]]; then
			bad+=" $cmd(no golden/$cmd/help.stdout)"
		elif ! diff -u "$g" <("$CKPT" "$cmd" --help) >&2; then
			bad+=" $cmd(differs)"
		fi
	done
	[[ -z $bad ]] || fail "help:$bad"
}

@test "meta: every man page passes mandoc -Tlint -W warning" {
	local m bad=""
	for m in "$CKPT_TOP"/man/*.[15]; do
		[[ -z $(mandoc -Tlint -W warning "$m" 2>&1) ]] || bad+=" ${m##*/}"
	done
	[[ -z $bad ]] || fail "lint warnings in:$bad"
}

@test "meta: every command has a man page listed in ckpt(1)" {
	local cmd bad="" top
	top=$(man_text "$CKPT_TOP/man/ckpt.1")
	local sect=$(awk '/^COMMANDS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' <<<"$top")
	for cmd in $(commands); do
		[[ -f $CKPT_TOP/man/ckpt-$cmd.1 ]] || bad+=" $cmd(no man/ckpt-$cmd.1)"
		grep -qE "^       $cmd( |\$)" <<<"$sect" || bad+=" $cmd(not in ckpt.1 COMMANDS)"
		grep -qF "ckpt-$cmd(1)" <<<"$top" || bad+=" $cmd(not in ckpt.1 SEE ALSO)"
	done
	[[ -z $bad ]] || fail "missing:$bad"
}

@test "meta: every command is in the three completion files" {
	local cmd f bad=""
	for cmd in $(commands); do
		for f in ckpt.bash _ckpt ckpt.fish; do
			grep -qw -- "$cmd" "$CKPT_TOP/completions/$f" ||
				bad+=" $cmd($f)"
		done
	done
	[[ -z $bad ]] || fail "missing:$bad"
}

@test "meta: every command has tests/cli/<cmd>.bats" {
	local cmd bad=""
	for cmd in $(commands); do
		[[ -f $CKPT_TOP/tests/cli/$cmd.bats ]] || bad+=" $cmd"
	done
	[[ -z $bad ]] || fail "no bats file for:$bad"
}

@test "meta: README.md mentions every command" {
	[[ -f $CKPT_TOP/README.md ]] || skip "README.md not written yet"
	local cmd bad=""
	for cmd in $(commands); do
		grep -qF "ckpt $cmd" "$CKPT_TOP/README.md" || bad+=" $cmd"
	done
	[[ -z $bad ]] || fail "README.md does not mention:$bad"
}

@test "meta: every error kind of ckpt.h is documented in ckpt(1)" {
	local k bad="" top
	top=$(man_text "$CKPT_TOP/man/ckpt.1")
	for k in $(grep -o 'CKPT_E_[A-Z]*' "$CKPT_TOP/lib/ckpt.h" | sort -u); do
		grep -qF "$k" <<<"$top" || bad+=" $k"
	done
	[[ -z $bad ]] || fail "undocumented error kinds:$bad"
}

@test "meta: the exit codes of ckpt(1) are the ones the program uses" {
	local top code
	top=$(man_text "$CKPT_TOP/man/ckpt.1" |
		awk '/^EXIT STATUS/ { on = 1; next } /^[A-Z]/ { on = 0 } on')
	for code in 0 1 2 3 10 11 130; do
		grep -qE "^       $code( |\$)" <<<"$top" || fail "exit status $code not documented"
	done
}

@test "meta: every command answers __complete from its option table" {
	local cmd bad=""
	for cmd in $(commands); do
		timeout 10 "$CKPT" __complete "$cmd" --hel | grep -qx -- --help ||
			bad+=" $cmd"
	done
	[[ -z $bad ]] || fail "no option completion (opt_parse not called first?):$bad"
}

@test "meta: every command option is in its man page OPTIONS, and no more" {
	local cmd o sect globals bad=""
	globals=$("$CKPT" __complete -)
	for cmd in $(commands); do
		sect=$(man_text "$CKPT_TOP/man/ckpt-$cmd.1" |
			awk '/^OPTIONS/ { on = 1; next } /^[A-Z]/ { on = 0 } on')
		for o in $("$CKPT" __complete "$cmd" -); do
			grep -qxF -- "$o" <<<"$globals" && continue
			grep -qE -- "(^|[ ,])$o([ ,=]|\$)" <<<"$sect" ||
				bad+=" $cmd($o not in man)"
		done
		for o in $(grep -oE -- '(^|[ ,])--[a-z][-a-z0-9]*' <<<"$sect" |
		    tr -d ' ,' | sort -u); do
			"$CKPT" __complete "$cmd" "$o" | grep -qxF -- "$o" ||
				bad+=" $cmd($o in man, not in the option table)"
		done
	done
	[[ -z $bad ]] || fail "mismatch:$bad"
}

@test "meta: ckpt(1) CRASH POINTS lists every crash point, no more" {
	local sect want got
	sect=$(man_text "$CKPT_TOP/man/ckpt.1" |
		awk '/^CRASH POINTS/ { on = 1; next } /^[A-Z]/ { on = 0 } on')
	want=$("$CKPT" restore-test --list-crash-points | awk '{ print $1 }' | sort)
	got=$(grep -oE '^       [a-z]+\.[a-z_]+' <<<"$sect" | tr -d ' ' | sort)
	[ -n "$want" ]
	diff -u <(echo "$want") <(echo "$got") >&2 ||
		fail "ckpt(1) CRASH POINTS differs from --list-crash-points"
}

@test "meta: ckpt(1) ERROR KINDS names every kind, in snake_case" {
	local sect k bad=""
	sect=$(man_text "$CKPT_TOP/man/ckpt.1" |
		awk '/^ERROR KINDS/ { on = 1; next } /^[A-Z]/ { on = 0 } on')
	for k in $(sed -n 's/^\t\[CKPT_E_[A-Z]*\] = "\([^"]*\)",$/\1/p' \
	    "$CKPT_TOP/lib/error.c"); do
		[[ $k =~ ^[a-z]+(_[a-z]+)*$ ]] || bad+=" $k(not snake_case)"
		grep -qE "^       $k \(CKPT_E_" <<<"$sect" || bad+=" $k"
	done
	[[ -z $bad ]] || fail "ERROR KINDS:$bad"
}
