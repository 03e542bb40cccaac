# tests/lib/todo-for-section.awk - which TODO of a skeleton a hint is about.
#
# Usage: awk -v section="SECTION" -f tests/lib/todo-for-section.awk lessons/NN-slug/*.c
#
# Prints one line such as "TODO 4 in greeter.c" (or "TODO 2 or 4 in
# greeter.c", or "TODO 1 in a.c; TODO 3 in b.c"): the TODO comments that name
# SECTION in double quotes, as every TODO names the chapter sections that
# explain it. A comment starts at its "TODO N" (N a number, perhaps with a
# letter: "TODO 5a") and runs to the "*/" that closes it; "TODO N,
# continued" is TODO N again. Nothing is printed if no TODO names SECTION.
# The one implementation: tests/lib/helpers.bash (a failing test's `todo:`
# line) and scripts/hint (make hint) both run it.
BEGIN { want = "\"" section "\"" }
FNR == 1 { file = FILENAME; sub(/.*\//, "", file); on = 0 }
!on && match($0, /TODO [0-9]+[a-z]?/) {
	on = 1; num = substr($0, RSTART + 5, RLENGTH - 5); text = ""
}
on {
	line = $0; sub(/^[ \t]*(\/\*|\*\/|\*|\/\/)?[ \t]*/, "", line)
	text = text " " line
	if ($0 ~ /\*\//) {
		gsub(/[ \t]+/, " ", text)
		if (section != "" && index(text, want) && !((file, num) in seen)) {
			seen[file, num] = 1
			if (!(file in nums)) order[++nf] = file
			nums[file] = nums[file] (nums[file] == "" ? "" : " or ") num
		}
		on = 0
	}
}
END {
	for (i = 1; i <= nf; i++)
		printf "%sTODO %s in %s", (i > 1 ? "; " : ""), nums[order[i]], order[i]
	if (nf) printf "\n"
}
