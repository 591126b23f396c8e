# bash completion for muppy-snap(1)                      -*- shell-script -*-
_muppy_snap()
{
	local cur prev words cword split
	_init_completion -s || return

	case $prev in
	-f | --format)
		COMPREPLY=($(compgen -W 'table snap tsv json prometheus' -- "$cur"))
		return ;;
	-s | --sort)
		COMPREPLY=($(compgen -W 'size count name' -- "$cur"))
		return ;;
	--color)
		COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
		return ;;
	-o | --output)
		_filedir
		return ;;
	-u | --user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return ;;
	--payload)
		_filedir so
		return ;;
	--pidof)
		# Programs and scripts of the running Python processes.
		COMPREPLY=($(compgen -W "$(ps -eo args= 2>/dev/null |
			awk '$1 ~ /python/ { n = split($1, a, "/"); print a[n];
				for (i = 2; i <= NF; i++) if ($i !~ /^-/) {
					n = split($i, a, "/"); print a[n]; break } }' |
			sort -u)" -- "$cur"))
		return ;;
	--owners)
		COMPREPLY=($(compgen -W 'auto' -- "$cur"))
		return ;;
	-n | --limit | -t | --timeout | -i | --interval | -c | --count | -p | --pgrep | --label | --paths)
		return ;;
	esac
	$split && return

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '$(_parse_help "$1")' -- "$cur"))
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
		return
	fi
	# PIDs of Python processes: by name, or by program when the name was
	# changed (prctl, setproctitle keeps neither).
	COMPREPLY=($(compgen -W "$(ps -eo pid=,comm=,args= 2>/dev/null |
		awk '{ n = split($3, a, "/") }
			$2 ~ /^python/ || a[n] ~ /^python/ { print $1 }')" -- "$cur"))
} &&
	complete -F _muppy_snap muppy-snap
