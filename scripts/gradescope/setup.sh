#!/usr/bin/env bash
# scripts/gradescope/setup.sh - Gradescope's image set-up: runs once, as root,
# when Gradescope builds the autograder's image (choose an Ubuntu base image).
# See docs/INSTRUCTORS.md. AUTOGRADER_ROOT as for run_autograder.
set -eu
root=${AUTOGRADER_ROOT:-/autograder}
cd "$root/source/workbook"
# Installs what make check lacks with apt-get (this runs as root).
scripts/ensure-tools check
# Build the test tools once, so that grading starts at once.
scripts/build-tools
