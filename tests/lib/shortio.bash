# tests/lib/shortio.bash - run a program under the short-I/O shim
# (tests/lib/preload-shortio.c): on stream sockets, every send, recv, read
# and write moves only a few bytes, so a missing loop shows at once.
#
# Load it after the helpers:   load lib/helpers; load lib/shortio
# Then prefix a command with "${SHORTIO[@]}", and run the PLAIN build (ASan
# wants to be first in the library list):
#   start_server recv -- "${SHORTIO[@]}" "$PLAIN_DIR/receiver" 0
#
# The sequence of lengths is seeded: SHORTIO_SEED (default 1) and
# SHORTIO_MAX (default 7 bytes) in the environment of the suite change it,
# and the same values repeat a run exactly.

SHORTIO=(env "LD_PRELOAD=$TOOLS_DIR/preload-shortio.so"
	"SHORTIO_SEED=${SHORTIO_SEED:-1}" "SHORTIO_MAX=${SHORTIO_MAX:-7}")

# SHORTIO_EINTR: the same, and about one call in 5 fails with EINTR first.
SHORTIO_EINTR=("${SHORTIO[@]}" "SHORTIO_EINTR=5")
