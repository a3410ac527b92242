#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The man pages against the code: both render without warnings; every key
# the loader and the engines accept (their static key arrays) has an entry
# in faultline.yaml(5), every choice of their enums is mentioned there, and
# its examples are valid files; every subcommand of the CLI's table and
# every exit status is in faultline(8).
source "$(dirname "$0")/../lib.sh"

PAGE5=${DOCS_YAML5:-$SRC/docs/faultline.yaml.5}
PAGE8=${DOCS_MAN8:-$SRC/docs/faultline.8}

# ---------------------------------------------------------------------
# Helpers: C sources and roff pages, read with awk and sed.

# c_array FILE NAME: the strings of "static const char *const NAME[] = {".
c_array() {
	awk -v name="$2" '
	!on && $0 ~ ("^(static )?const char \\*const " name "\\[\\] = \\{") {
		on = 1
		sub(/^[^{]*\{/, "")
	}
	on {
		line = $0
		while (match(line, /"[^"]*"/)) {
			print substr(line, RSTART + 1, RLENGTH - 2)
			line = substr(line, RSTART + RLENGTH)
		}
		if ($0 ~ /\};/)
			exit
	}' "$1"
}

# c_arrays FILE ERE: names of the string arrays matching ERE.
c_arrays() {
	sed -n 's/^\(static \)\{0,1\}const char \*const \([a-z0-9_]*\)\[\] = {.*/\2/p' "$1" |
		grep -E -- "$2"
}

# c_engines FILE: "name parse-function" of each fault engine in FILE that
# has a parse op (a file-level "const struct fl_engine x = {" block, with
# FL_ENGINE_OPS(NAME, ...), which names NAME_parse, or .name and .parse).
c_engines() {
	awk '
	/^(static )?const struct fl_engine [a-z0-9_]+ = \{/ { on = 1; name = ""; parse = ""; next }
	on && /^\t*FL_ENGINE_OPS\(/ { s = $0; sub(/^[^(]*\(/, "", s); sub(/,.*/, "", s); name = s; parse = s "_parse" }
	on && /^\t*\.name = "/ { s = $0; sub(/^[^"]*"/, "", s); sub(/".*/, "", s); name = s }
	on && /^\t*\.parse = / { s = $0; sub(/^[^=]*= */, "", s); sub(/[ ,].*/, "", s); parse = s }
	on && /^\};/ { if (parse != "" && name != "") print name, parse; on = 0 }' "$1"
}

# c_defines FUNCTION: the sources that define it (not declare it).
c_defines() {
	grep -lE "^[a-z].*[ *]$1\(|^$1\(" "$SRC"/*/*.c 2>/dev/null | while read -r f; do
		awk -v fn="$1" '
		($0 ~ ("^[a-z].*[ *]" fn "\\(") || $0 ~ ("^" fn "\\(")) && $0 !~ /;[ \t]*$/ { found = 1 }
		END { exit !found }' "$f" && echo "$f"
	done
}

# The awk function that turns a roff line into rough text.
ROFF_NORM='
function norm(s) {
	sub(/^\.[A-Za-z]+[ \t]*/, "", s)
	gsub(/\\f[BIRP]|\\f\(..|\\&|"/, "", s)
	gsub(/\\-/, "-", s)
	gsub(/\\\(aq/, "\047", s)
	return s
}
function section(s) {
	s = substr(s, 5)
	gsub(/"/, "", s)
	return s
}'

# page_tags PAGE SECTION: the first word of each .TP tag in that .SH or
# .SS section (up to the next one), a trailing ":" dropped.
page_tags() {
	awk -v want="$2" "$ROFF_NORM"'
	/^\.S[HS] / { sec = section($0); tag = 0; next }
	tag {
		tag = 0
		if (sec != want)
			next
		split(norm($0), w, /[ \t]+/)
		sub(/:$/, "", w[1])
		print w[1]
		next
	}
	/^\.TP/ { tag = 1 }' "$1"
}

# page_text PAGE SECTION: the text of that section, roughly unescaped.
page_text() {
	awk -v want="$2" "$ROFF_NORM"'
	/^\.S[HS] / { sec = section($0); next }
	/^\.\\"/ { next }
	sec == want { print norm($0) }' "$1"
}

# page_sections PAGE: every .SH and .SS title.
page_sections() {
	awk "$ROFF_NORM"'/^\.S[HS] / { print section($0) }' "$1"
}

# page_examples PAGE DIR: each .EX/.EE block into DIR/N.yaml, unescaped,
# with the title of its section in DIR/N.sec.
page_examples() {
	awk -v out="$2" "$ROFF_NORM"'
	/^\.S[HS] / { sec = section($0); next }
	/^\.EX/ { n++; f = out "/" n ".yaml"; print sec > (out "/" n ".sec")
		  close(out "/" n ".sec"); printf "" > f; on = 1; next }
	/^\.EE/ { if (on) close(f); on = 0; next }
	on { print > f }' "$1"
	local y
	for y in "$2"/*.yaml; do
		[ -e "$y" ] || continue
		sed -i -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' \
		    -e 's/\\(ga/`/g' -e 's/\\(ha/^/g' -e 's/\\(ti/~/g' \
		    -e 's/\\&//g' -e 's/\\e/\\/g' "$y"
	done
}

# ---------------------------------------------------------------------
# Keys: every key of the C arrays has a .TP entry in its section.

declare -A LOADER_SECTION=(
	[top_keys]="TOP-LEVEL KEYS"
	[target_kinds]="TARGETS"
	[fault_keys]="FAULTS"
	[probe_keys]="PROBES"
	[report_keys]="REPORT"
)

# Sources of an engine besides the file of its ops table and the file that
# defines its parse function, for arrays (keys, value names) the engine
# keeps elsewhere: ENGINE_FILES[engine]="folder/file.c ...".
declare -A ENGINE_FILES=()

# engine_list: "name parse-function ops-file" of every fault engine.
engine_list() {
	local f
	for f in "$SRC"/*/*.c; do
		case $f in "$SRC"/core/* | "$SRC"/tests/*) continue ;; esac
		c_engines "$f" | sed "s|\$| $f|"
	done
}
# engine_srcs NAME PARSE OPS: the files whose arrays are that engine's.
engine_srcs() {
	local x
	{
		echo "$3"
		c_defines "$2"
		for x in ${ENGINE_FILES[$1]:-}; do echo "$SRC/$x"; done
	} | sort -u
}
# engine_folders: the folders that hold an engine.
engine_folders() {
	engine_list | awk '{ print $3 }' | xargs -n1 dirname | sort -u
}

# key_problems PAGE: one line per key (or array) the page misses; also
# counts the keys checked into $NKEYS.
key_problems() {
	local page=$1 exp=$SRC/core/experiment.c f arr sec k n e tags
	NKEYS=0
	for arr in $(c_arrays "$exp" '_(keys|kinds)$'); do
		sec=${LOADER_SECTION[$arr]:-}
		if [ -z "$sec" ]; then
			echo "core/experiment.c: array $arr has no section in tests/host/docs.sh"
			continue
		fi
		tags=$(page_tags "$page" "$sec")
		n=0
		for k in $(c_array "$exp" "$arr"); do
			n=$((n + 1))
			grep -qxF -- "$k" <<<"$tags" ||
				echo "$sec: no entry for '$k' (core/experiment.c $arr)"
		done
		[ $n -gt 0 ] || echo "core/experiment.c: no strings read from $arr"
		NKEYS=$((NKEYS + n))
	done
	for arr in "${!LOADER_SECTION[@]}"; do
		c_arrays "$exp" "^$arr\$" >/dev/null ||
			echo "core/experiment.c: no array $arr (update tests/host/docs.sh)"
	done
	# A probe's expect: (core/steady.c): the PROBES section.
	tags=$(page_tags "$page" "PROBES")
	n=0
	for k in $(c_array "$SRC/core/steady.c" expect_keys); do
		n=$((n + 1))
		grep -qxF -- "$k" <<<"$tags" ||
			echo "PROBES: no entry for '$k' (core/steady.c expect_keys)"
	done
	[ $n -gt 0 ] || echo "core/steady.c: no strings read from expect_keys"
	NKEYS=$((NKEYS + n))
	# repeat: on any fault (core/repeat.c): the REPEATS section.
	tags=$(page_tags "$page" "REPEATS")
	n=0
	for k in $(c_array "$SRC/core/repeat.c" repeat_keys); do
		n=$((n + 1))
		grep -qxF -- "$k" <<<"$tags" ||
			echo "REPEATS: no entry for '$k' (core/repeat.c repeat_keys)"
	done
	[ $n -gt 0 ] || echo "core/repeat.c: no strings read from repeat_keys"
	NKEYS=$((NKEYS + n))
	local parse ops
	while read -r e parse ops; do
		sec=${e^^}
		if ! page_sections "$page" | grep -qxF -- "$sec"; then
			echo "no section $sec for the $e engine (${ops#"$SRC"/})"
			continue
		fi
		tags=$(page_tags "$page" "$sec")
		for f in $(engine_srcs "$e" "$parse" "$ops"); do
			for arr in $(c_arrays "$f" '_keys$'); do
				n=0
				for k in $(c_array "$f" "$arr"); do
					n=$((n + 1))
					grep -qxF -- "$k" <<<"$tags" ||
						echo "$sec: no entry for '$k' (${f#"$SRC"/} $arr)"
				done
				[ $n -gt 0 ] || echo "${f#"$SRC"/}: no strings read from $arr"
				NKEYS=$((NKEYS + n))
			done
		done
	done < <(engine_list)
}

# unclaimed_arrays: key and value arrays in an engine's folder that no
# engine's files hold (a file split off without ENGINE_FILES).
unclaimed_arrays() {
	local claimed="" e parse ops f arr
	while read -r e parse ops; do
		claimed+=" $(engine_srcs "$e" "$parse" "$ops" | tr '\n' ' ')"
	done < <(engine_list)
	for f in $(engine_folders | sed 's|$|/*.c|'); do
		[[ " $claimed " == *" $f "* ]] && continue
		for arr in $(c_arrays "$f" '_(keys|names|models)$' | grep -vx route_names); do
			echo "${f#"$SRC"/}: $arr belongs to no engine (ENGINE_FILES in tests/host/docs.sh)"
		done
	done
}

# value_problems PAGE: every choice of the engines' enums (*_names and
# *_models arrays, but route_names, which is prose) is in its section.
value_problems() {
	local page=$1 f e arr v text parse ops
	while read -r e parse ops; do
		text=$(page_text "$page" "${e^^}")
		for f in $(engine_srcs "$e" "$parse" "$ops"); do
			for arr in $(c_arrays "$f" '_(names|models)$' | grep -vx route_names); do
				for v in $(c_array "$f" "$arr"); do
					grep -qw -- "$v" <<<"$text" ||
						echo "${e^^}: value '$v' is not mentioned (${f#"$SRC"/} $arr)"
				done
			done
		done
	done < <(engine_list)
}

key_problems "$PAGE5" >"$T/keys.out"
check_eq "faultline.yaml.5 documents every key of the loader and engines" "" \
	"$(cat "$T/keys.out")"
check "the key arrays were read ($NKEYS keys)" [ "$NKEYS" -ge 60 ]
engines=$(engine_list | awk '{ print $1 }' | sort | tr '\n' ' ')
check_eq "the fault engines were found" "disk kill link netem oom partition pause syscall " "$engines"
check_eq "every key or value array belongs to an engine" "" "$(unclaimed_arrays)"
out=$(value_problems "$PAGE5")
check_eq "faultline.yaml.5 mentions every value of the engines' enums" "" "$out"

# The check itself must be able to fail: drop one key's entry from a copy.
key=$(for f in "$SRC"/netem/*.c; do c_array "$f" netem_keys; done | head -1)
awk -v key="$key" "$ROFF_NORM"'
	/^\.S[HS] / { sec = section($0) }
	tag { tag = 0; split(norm($0), w, /[ \t]+/); if (sec == "NETEM" && w[1] == key ":") next }
	/^\.TP/ { tag = 1 }
	{ print }' "$PAGE5" > "$T/mutant.5"
out=$(key_problems "$T/mutant.5")
check_match "the key check notices a missing entry ('$key')" "^NETEM: no entry for '$key'" "$out"

# ---------------------------------------------------------------------
# Text that describes an older build, and paths that no longer exist, in
# the documentation (README.md, docs/) and in the sources' comments.

DOCS=("$SRC/README.md" "$SRC"/docs/*.md "$PAGE5" "$PAGE8")
# Phrases that promise later work or hedge on "this build": the docs say
# what the code does now.  ERE, case-insensitive.
STALE='in this build|with later work|lands? with (later|issue|a later)|'\
'not (in this build|implemented) yet|not yet (implemented|supported|in)|'\
'(will|to) (land|come) (later|with|in)|coming soon|\bTODO\b|\bFIXME\b|'\
'until (issue|#)[0-9]+ lands'

# stale_lines FILE...: "file:line: text" for each stale phrase.
stale_lines() {
	local f
	for f; do
		sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$f" |
			grep -inE -- "$STALE" | sed "s|^|${f#"$SRC"/}:|"
	done
}
check_eq "the documentation describes this build (no stale phrase)" "" \
	"$(stale_lines "${DOCS[@]}")"
check_eq "no source comment promises later work" "" \
	"$(stale_lines "$SRC"/{core,netem,cgroup,bpf,fs,tools}/*.[ch] "$SRC/Makefile")"
# The check can fail: the sentence issue 12 found.
printf '%s\n' 'In this build the engines parse, check and plan their faults, but the' \
	'kernel-side apply of every engine lands with later work.' > "$T/stale.5"
check_match "the stale-phrase check notices an old sentence" "stale.5:1:" \
	"$(stale_lines "$T/stale.5")"

# doc_paths FILE: the source-tree paths a document names ("core/yaml.c",
# "tests/vm/*.sh"); an upper-case placeholder (tests/vm/NAME.sh) is a glob.
doc_paths() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$1" |
		grep -oE '(^|[^A-Za-z0-9_./-])(core|netem|cgroup|bpf|fs|tools|tests|docs|examples|\.ci)/[A-Za-z0-9_./*-]*[A-Za-z0-9_*/]' |
		sed -E 's/^[^a-z.]//' | sort -u
}
# path_exists PATH: in the source tree, or a build product the Makefile
# makes from one (X from X.c, X.o from X.c, X.skel.h from X.bpf.c), or
# named by the Makefile itself (tests/faultline-test).
path_exists() {
	local p=$1 g
	case $p in
	cgroup/connect[46] | cgroup/sendmsg[46] | cgroup/recvmsg[46] | \
	cgroup/bind[46] | cgroup/sock_create | cgroup/skb)
		return 0 ;;	# BPF section names, not paths
	esac
	g=$(sed -E 's/[A-Z][A-Z0-9_]+/*/g' <<<"$p")
	p=${p%/}
	(cd "$SRC" && compgen -G "$g" >/dev/null) && return 0
	for g in "$p.c" "${p%.o}.c" "${p%.skel.h}.bpf.c" "${p%.bpf.o}.bpf.c"; do
		[ -e "$SRC/$g" ] && return 0
	done
	grep -qF -- "$p" "$SRC/Makefile"
}
path_problems() {
	local f p
	for f; do
		for p in $(doc_paths "$f"); do
			path_exists "$p" || echo "${f#"$SRC"/}: $p"
		done
	done
}
check_eq "every path the documentation names exists" "" \
	"$(path_problems "${DOCS[@]}")"
printf '%s\n' 'See tools/memhog.c and core/yaml.c, and \fBtests/vm/NAME.sh\fR.' > "$T/paths.md"
check_eq "the path check notices a path that moved" "$T/paths.md: tools/memhog.c" \
	"$(path_problems "$T/paths.md")"

# ---------------------------------------------------------------------
# Rendering: man -l with warnings on, and nothing on standard error.

if command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
	for p in "$PAGE8" "$PAGE5"; do
		name=$(basename "$p")
		MANWIDTH=80 man --warnings -l "$p" >"$T/render.out" 2>"$T/render.err"
		rc=$?
		check_eq "$name renders with man -l" 0 "$rc"
		check_eq "$name renders without warnings" "" "$(cat "$T/render.err")"
		check "$name renders to text" [ "$(wc -l <"$T/render.out")" -gt 50 ]
	done
else
	skip "man pages render" "man or groff is not installed"
fi

# ---------------------------------------------------------------------
# faultline(8): the command table and the exit statuses.

cmds=$(awk '
	/^static const struct fl_cmd cmds\[\] = \{/ { on = 1; next }
	on && /^\};/ { exit }
	on && match($0, /^\t\{ "[a-z-]+",/) { s = substr($0, RSTART + 4); sub(/".*/, "", s); print s }' \
	"$SRC/tools/faultline.c")
check "the command table was read" [ "$(wc -l <<<"$cmds")" -ge 6 ]
tags=$(page_tags "$PAGE8" COMMANDS)
missing=""
for c in $cmds; do
	grep -qxF -- "$c" <<<"$tags" || missing+="$c "
done
check_eq "faultline.8 documents every subcommand" "" "$missing"

codes=$(sed -n 's/^\tFL_EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p' "$SRC/core/faultline.h" | sort -n | tr '\n' ' ')
check_eq "the exit statuses in core/faultline.h are 0 to 4" "0 1 2 3 4 " "$codes"
tags=$(page_tags "$PAGE8" "EXIT STATUS")
missing=""
# shellcheck disable=SC2086 # $codes is a list of words
for c in $(printf '%s\n' 0 1 2 3 4 $codes | sort -un); do
	grep -qxF -- "$c" <<<"$tags" || missing+="$c "
done
check_eq "faultline.8 documents every exit status" "" "$missing"

# Every option a command's --help lists (its usage and option lines) is in
# faultline(8), spelled the same.
# options_missing TEXT: "command:--option" for each one TEXT lacks.
options_missing() {
	local c o
	for c in $cmds "report merge"; do
		# shellcheck disable=SC2086 # "report merge" is two words
		for o in $("$FAULTLINE" $c --help 2>/dev/null | awk '/^$/ { exit } { print }' |
			   grep -E '^(Usage:|  +-)' | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
			grep -qF -- "$o" <<<"$1" || printf '%s ' "$c:$o"
		done
	done
}
page8=$(groff -man -Tutf8 -P-cbou "$PAGE8" 2>/dev/null | sed 's/\xe2\x80\x90/-/g')
if [ -x "$FAULTLINE" ] && [ -n "$page8" ]; then
	check_eq "faultline.8 documents every option of every command's --help" "" \
		"$(options_missing "$page8")"
	# The check can fail: the page without --seed.
	check_match "... and it sees an option missing from a copy of the page" \
		"plan:--seed" "$(options_missing "$(sed 's/--seed//g' <<<"$page8")")"
else
	skip "faultline.8 against --help" "no faultline binary at $FAULTLINE, or no groff"
fi

# ---------------------------------------------------------------------
# The examples of faultline.yaml(5): valid files, the same as examples/.

mkdir -p "$T/ex"
page_examples "$PAGE5" "$T/ex"
n=$(find "$T/ex" -name '*.yaml' | wc -l)
check "faultline.yaml.5 has examples ($n)" [ "$n" -ge 5 ]
if [ -x "$FAULTLINE" ]; then
	for y in "$T"/ex/*.yaml; do
		sec=$(cat "${y%.yaml}.sec")
		out=$("$FAULTLINE" validate "$y" 2>&1)
		check_eq "the example in '$sec' is valid" 0 "$?"
		[ -z "$out" ] || printf '%s\n' "$out" | grep -v ': ok (' | sed 's/^/#   /'
	done
else
	skip "the page's examples validate" "no faultline binary at $FAULTLINE"
fi
for y in "$T"/ex/*.yaml; do
	sec=$(cat "${y%.yaml}.sec")
	file=$(sed -n 's/.*(\(examples\/[^)]*\.yaml\)).*/\1/p' <<<"$sec")
	[ -n "$file" ] || continue
	if cmp -s "$y" "$SRC/$file"; then
		ok "the example in '$sec' is $file"
	else
		notok "the example in '$sec' is $file"
		diff "$SRC/$file" "$y" | head -10 | sed 's/^/#   /'
	fi
done

# docs/drills.md's example, introduced as "(examples/NAME.yaml)", is that
# file byte for byte (the Ansible playbook's usage line names it too).
if [ -f "$SRC/docs/drills.md" ]; then
	file=$(sed -n 's/.*(\(examples\/[^)]*\.yaml\)).*/\1/p' "$SRC/docs/drills.md" | head -1)
	blk=$(awk '/^```yaml$/ {f = 1; next} /^```$/ && f {exit} f' "$SRC/docs/drills.md")
	check_eq "docs/drills.md's example is ${file:-an examples/ file}" \
		"$(cat "$SRC/${file:-/dev/null}" 2>/dev/null)" "$blk"
	check_match "the Ansible playbook's usage names it" "drill_file=$file" \
		"$(cat "$SRC/tools/ansible/drill.yml")"
fi
