# bash completion for ckpt(1)
#
# Candidates come from the program itself (`ckpt __complete WORDS`),
# which reads each command's option table, so this file never lists
# options.  When the program cannot be run, the static list of commands
# below is offered.  An empty answer means "complete file names".
#
# Commands: ls inspect verify diff prune migrate run restore-test shell

_ckpt()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	local bin=${COMP_WORDS[0]}
	local out
	local IFS=$'\n'

	COMPREPLY=()
	if type -P -- "$bin" >/dev/null 2>&1 || [[ -x $bin ]]; then
		out=$("$bin" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" \
			2>/dev/null)
	elif ((COMP_CWORD == 1)); then
		out=$'ls\ninspect\nverify\ndiff\nprune\nmigrate\nrun\nrestore-test\nshell\nhelp'
	fi
	if [[ -n $out ]]; then
		COMPREPLY=($(compgen -W "$out" -- "$cur"))
	fi
	return 0
}

complete -o default -o bashdefault -F _ckpt ckpt
