#!/usr/bin/env bash
# The mutation score of each suite: how many small mechanical changes to the
# reference solution (scripts/mutate) its suite notices. Informational, not a
# gate: a lesson is "ok" with survivors (they are listed, and in
# build/mutation/NN.txt); "not ok" only when the tool itself breaks.
# Kept cheap for make test: MUTANTS (default 1) per lesson, each run stopped
# at its first failing test or after MUTANT_TIMEOUT (default 90) seconds.
# `make mutate` measures more. LESSONS="01 02" limits the lessons, as for
# scripts/selftest, which runs it lesson by lesson:
# selftest: one job per lesson
cd "$(dirname "$0")/../.." || exit 1
want=()
for n in ${LESSONS:-}; do want+=("$n"); done
MUTANTS=${MUTANTS:-1} MUTANT_TIMEOUT=${MUTANT_TIMEOUT:-90} TAP=1 \
	python3 scripts/mutate "${want[@]}"
status=$?
[ $status -le 1 ] || echo "not ok - mutation testing ran (scripts/mutate exit $status)"
exit 0
