#!/usr/bin/env bash
# The man page, --help and the README say the same: every long option of
# --help is an item of the page's OPTIONS and every item there is an option
# of --help (--version may be documented before --help has it); the
# commands of --help, of the page's COMMANDS and of the README's usage
# block are the same; every option the README's CLI section names is one of
# --help's, and it names each of them but --help and --version; every
# environment variable lib/ reads is in the page's ENVIRONMENT. And groff,
# when installed, renders the page without a warning.
#
# usage: test_manpage.sh PATH/TO/ocipush SOURCE_ROOT [PATH/TO/ocipush.1]
# Exits 77 (skipped) without the page: a build with no scdoc makes none.
set -uo pipefail

OCIPUSH=$1
SRC=$2
PAGE=${3:-}
if [[ -z $PAGE || ! -f $PAGE ]]; then
    echo "SKIP: the man page was not built (no scdoc, or -Dman=disabled)"
    exit 77
fi

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
help=$(${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --help) || {
    echo "FAIL: ocipush --help exited $?"
    exit 1
}

# The page as plain text lines: fonts, escapes and zero-width marks gone.
plain() { sed -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\-/-/g' -e 's/\\(em/-/g'; }

# The item heads (the line before each .RS) of the page's section $1.
items() {
    awk -v sec="$1" '
        /^\.SH / { insec = ($0 == ".SH " sec); prev = ""; next }
        insec && /^\.RS/ && prev != "" { print prev }
        { prev = ($0 ~ /^\./) ? "" : $0 }' "$PAGE" | plain
}

long_options() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
short_options() { grep -oE -- '(^|[ ,])-[a-z]\b' | tr -d ' ,' | sort -u; }
# A command's words: the lowercase words before its first argument.
command_words() {
    awk '{ c = ""; for (i = 1; i <= NF && $i ~ /^[a-z]+$/; i++) c = c (c ? " " : "") $i; if (c) print c }' |
        sort -u
}
# The commands of usage lines, after "ocipush" (and "[OPTIONS]").
commands() { sed -nE 's/^(usage:)? *ocipush +(\[OPTIONS\] +)?//p' | command_words; }
# Lines of $1 that are not in $2 (both sorted).
missing() { comm -23 <(printf '%s\n' "$1" | sed '/^$/d') <(printf '%s\n' "$2" | sed '/^$/d'); }

man_options=$(items OPTIONS)
man_long=$(long_options <<<"$man_options")
man_short=$(short_options <<<"$man_options")
man_commands=$(items COMMANDS | command_words)
help_options=$(sed -n '/^options:/,$p' <<<"$help")
help_long=$(long_options <<<"$help")
help_short=$(short_options <<<"$help_options")
help_commands=$(commands <<<"$help")

[[ -n $man_long && -n $man_commands && -n $help_long && -n $help_commands ]] ||
    fail "found no options or commands (page: $(wc -l <<<"$man_long") options, $(wc -l <<<"$man_commands") commands; --help: $(wc -l <<<"$help_long"), $(wc -l <<<"$help_commands"))"

for o in $(missing "$help_long" "$man_long"); do fail "--help prints $o, the man page's OPTIONS lack it"; done
for o in $(missing "$man_long" "$help_long"); do
    [[ $o == --version ]] || fail "the man page documents $o, --help does not print it"
done
# Each option line of --help ("  -u, --username USER   ...") heads an item
# of the page's OPTIONS as it is written there: the same value name.
help_heads=$(sed -nE 's/^  (-.*[^ ]) {2,}.*$/\1/p; s/^  (-[^ ].*[^ ])$/\1/p' <<<"$help_options" | sort -u)
while read -r h; do [[ -n $h ]] && fail "--help has '$h', no item of the man page's OPTIONS is headed so"; done \
    <<<"$(missing "$help_heads" "$(sort -u <<<"$man_options")")"
for o in $(missing "$help_short" "$man_short"); do fail "--help prints $o, the man page's OPTIONS lack it"; done
for o in $(missing "$man_short" "$help_short"); do fail "the man page documents $o, --help does not print it"; done
while read -r c; do [[ -n $c ]] && fail "--help has the command '$c', the man page's COMMANDS lack it"; done \
    <<<"$(missing "$help_commands" "$man_commands")"
while read -r c; do [[ -n $c ]] && fail "the man page's COMMANDS have '$c', --help does not"; done \
    <<<"$(missing "$man_commands" "$help_commands")"

# The README's CLI section: its usage block, and the options it names.
readme_cli=$(awk '/^## The command-line tool/ { on = 1; next } /^## / { on = 0 } on' "$SRC/README.md")
readme_usage=$(awk '/^```$/ { n++; next } n == 1' <<<"$readme_cli")
readme_commands=$(commands <<<"$readme_usage")
readme_long=$(long_options <<<"$readme_cli")
[[ -n $readme_commands ]] || fail "no usage block in the README's section 'The command-line tool'"
while read -r c; do [[ -n $c ]] && fail "--help has the command '$c', the README's usage lacks it"; done \
    <<<"$(missing "$help_commands" "$readme_commands")"
while read -r c; do [[ -n $c ]] && fail "the README's usage has the command '$c', --help does not"; done \
    <<<"$(missing "$readme_commands" "$help_commands")"
for o in $(missing "$readme_long" "$help_long"); do
    [[ $o == --version ]] || fail "the README names $o, --help does not print it"
done
for o in $(missing "$help_long" "$readme_long"); do
    [[ $o == --help || $o == --version ]] || fail "--help prints $o, the README's CLI section does not name it"
done

# What the library reads from the environment (getenv("NAME") in lib/).
man_env=$(items ENVIRONMENT)
while read -r v; do
    grep -qw -- "$v" <<<"$man_env" || fail "lib/ reads \$$v, the man page's ENVIRONMENT lacks it"
done < <(grep -rhoE 'getenv\("[A-Za-z_]+"\)' "$SRC/lib" | sed -E 's/getenv\("(.*)"\)/\1/' | sort -u)

if command -v groff >/dev/null; then
    warnings=$(groff -man -Tutf8 -ww -z "$PAGE" 2>&1)
    [[ -z $warnings ]] || fail "groff warns about the page: $warnings"
    rendered=$(groff -man -Tutf8 -P-cbou "$PAGE" 2>/dev/null | grep -E '^[A-Z][A-Z ]*$' | tr '\n' ' ')
    [[ $rendered == "NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS ENVIRONMENT EXIT STATUS EXAMPLES SEE ALSO " ]] ||
        fail "groff renders the sections '$rendered', not NAME to SEE ALSO"
else
    echo "groff is not installed: the rendering is not checked"
fi

if ((failures)); then
    echo "$failures failures"
    exit 1
fi
echo "PASS: the man page, --help and the README agree ($(wc -l <<<"$help_long") long options, $(wc -l <<<"$help_commands") commands)"
