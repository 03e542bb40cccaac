# Sockets in C - a runnable workbook. Every entry point is a target here;
# the work is done by the scripts in scripts/ (one script per target), so
# each can also be run by hand.
#
#   make check LESSON=05            grade your copy of lesson 05
#   make check LESSON=05 IMPL=solutions   grade the reference solution
#   make test                       the whole project's self-test

SHELL := /bin/bash
LESSON ?=
IMPL ?= lessons
FORMAT ?=

.DEFAULT_GOAL := help
.PHONY: help check test solutions clean deps book snippets bench grade progress watch hint reset stress compile_commands

help:
	@echo 'Sockets in C - a runnable workbook'
	@echo
	@echo 'For students:'
	@echo '  make check LESSON=NN     build lessons/NN-* with sanitizers and run its tests'
	@echo '    HOSTS=stock | ipv4     ... as on a stock Debian/Ubuntu (localhost is ::1 first) or IPv4 only'
	@echo '  make hint LESSON=NN      the hints of lesson NN, in order, without running anything'
	@echo '  make watch LESSON=NN     re-run the check whenever a file of the lesson changes'
	@echo '  make progress            where you are: one line per lesson'
	@echo '  make reset LESSON=NN     put the lesson back as it was (asks first; FORCE=1 does not)'
	@echo '  make book                the book (HTML, EPUB, PDF) in build/book/'
	@echo
	@echo 'For instructors:'
	@echo '  make grade [LESSON=NN] [FORMAT=junit|gradescope]   scores, JUnit XML, results.json'
	@echo '  make check LESSON=NN IMPL=solutions                 grade the reference solution'
	@echo
	@echo 'For the project:'
	@echo '  make test                build everything, prove solutions pass, skeletons fail,'
	@echo '                           known-buggy variants are caught, and the book builds'
	@echo '  make solutions           build every reference solution with -Werror'
	@echo '  make bench               benchmarks that print figures'
	@echo '  make stress [N=20]       every suite against the solutions N times, in parallel'
	@echo '  make snippets            copy marked code regions into the chapters that show them'
	@echo '  make compile_commands    compile_commands.json for clangd-based editors'
	@echo '  make deps                install every tool the project uses (Debian/Ubuntu)'
	@echo '  make clean               remove build/ (but not the copies make reset saved)'

check:
	@scripts/check "$(LESSON)" "$(IMPL)"

test:
	@scripts/selftest

solutions:
	@scripts/ensure-tools check
	@set -e; for d in solutions/[0-9][0-9]-*/; do \
		s=$$(basename $$d); echo "building solutions/$$s"; \
		scripts/build "solutions/$$s" "build/solutions/$$s" --strict; \
	done

deps:
	@scripts/ensure-tools all --install

# build/reset/ holds the copies make reset saved of your work: kept, and said so.
clean:
	@if [ -n "$$(ls -A build/reset 2>/dev/null)" ]; then \
		find build -mindepth 1 -maxdepth 1 ! -name reset -exec rm -rf {} +; \
		echo "removed build/, except build/reset/: the copies make reset saved of your work ($$(ls build/reset | wc -l)); rm -rf build/reset removes them"; \
	else \
		rm -rf build; echo "removed build/"; \
	fi

book:
	@scripts/book

snippets:
	@scripts/sync-snippets

bench:
	@scripts/bench

grade:
	@scripts/grade "$(LESSON)" "$(FORMAT)"

progress:
	@scripts/progress

watch:
	@scripts/watch "$(LESSON)"

hint:
	@scripts/hint "$(LESSON)"

reset:
	@scripts/reset "$(LESSON)"

stress:
	@scripts/stress

compile_commands:
	@scripts/compile-commands
