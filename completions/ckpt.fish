# fish completion for ckpt(1)
#
# Candidates come from the program itself (`ckpt __complete WORDS`),
# which reads each command's option table; when it cannot be run, the
# static list of commands below is offered.  An empty answer lets fish
# complete file names.
#
# Commands: ls inspect verify diff prune migrate run restore-test

function __ckpt_complete
	set -l tokens (commandline -opc)
	set -l cur (commandline -ct)
	set -l bin $tokens[1]
	if command -sq -- $bin; or test -x "$bin"
		$bin __complete $tokens[2..-1] "$cur" 2>/dev/null
	else if test (count $tokens) -eq 1
		printf '%s\n' ls inspect verify diff prune migrate run restore-test help
	end
end

# Files only when ckpt has nothing better to offer.
function __ckpt_has_candidates
	set -l cands (__ckpt_complete)
	test (count $cands) -gt 0
end

complete -c ckpt -f -n __ckpt_has_candidates -a '(__ckpt_complete)'
