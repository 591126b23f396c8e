# bash completion for muppy-cron(1)                      -*- shell-script -*-
_muppy_cron()
{
	local cur prev words cword
	_init_completion || return

	case $prev in
	-d)
		_filedir -d
		return ;;
	-u)
		COMPREPLY=($(compgen -u -- "$cur"))
		return ;;
	-k | -m | -n)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '-d -k -m -n -u -O -h --help' -- "$cur"))
		return
	fi
	# NAME: programs and scripts of the running Python processes.
	COMPREPLY=($(compgen -W "$(ps -eo args= 2>/dev/null |
		awk '$1 ~ /python/ { n = split($1, a, "/"); print a[n];
			for (i = 2; i <= NF; i++) if ($i !~ /^-/) {
				n = split($i, a, "/"); print a[n]; break } }' |
		sort -u)" -- "$cur"))
} &&
	complete -F _muppy_cron muppy-cron
