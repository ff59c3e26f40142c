# bash completion for ckpt(1)
#
# Candidates come from the program itself (`ckpt __complete WORDS`),
# which reads each command's option table, so this file never lists
# options.  When the program cannot be run, the static list of commands
# below is offered.  An empty answer means "complete file names".
#
# Commands: ls inspect verify diff prune migrate run restore-test

_ckpt()
{
	local bin=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
	local -a words=()
	local i out strip
	local IFS=$'\n'

	COMPREPLY=()
	# bash splits "--opt=value" at '='; glue the pieces back for ckpt.
	for ((i = 1; i <= COMP_CWORD; i++)); do
		if ((${#words[@]} > 0)) && [[ ${COMP_WORDS[i]} == = ||
		    ${COMP_WORDS[i - 1]} == = ]]; then
			words[${#words[@]} - 1]+=${COMP_WORDS[i]}
		else
			words+=("${COMP_WORDS[i]}")
		fi
	done
	if type -P -- "$bin" >/dev/null 2>&1 || [[ -x $bin ]]; then
		out=$("$bin" __complete "${words[@]}" 2>/dev/null)
	elif ((COMP_CWORD == 1)); then
		out=$'ls\ninspect\nverify\ndiff\nprune\nmigrate\nrun\nrestore-test\nhelp'
	fi
	[[ -n $out ]] || return 0
	# Offer only what replaces bash's current word (after the '=').
	strip=$((${#words[${#words[@]} - 1]} - ${#cur}))
	for i in $out; do
		[[ ${i:strip} == "$cur"* ]] && COMPREPLY+=("${i:strip}")
	done
	return 0
}

complete -o default -o bashdefault -F _ckpt ckpt
