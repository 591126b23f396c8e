# bash completion for muppy-diff(1)                      -*- shell-script -*-
_muppy_diff()
{
	local cur prev words cword split
	_init_completion -s || return

	case $prev in
	-f | --format)
		COMPREPLY=($(compgen -W 'table tsv json svg' -- "$cur"))
		return ;;
	-s | --sort)
		COMPREPLY=($(compgen -W 'size count name' -- "$cur"))
		return ;;
	--color)
		COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
		return ;;
	-n | --limit | --fail-on-growth)
		return ;;
	esac
	$split && return

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '$(_parse_help "$1")' -- "$cur"))
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
		return
	fi
	_filedir snap
} &&
	complete -F _muppy_diff muppy-diff
