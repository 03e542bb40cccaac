# tests/lib/frames.bash - build lesson 09's frames byte by byte in bash, so a
# suite can send exact bytes with tcpeer and compare what a program sent.
#
# Load it after the helpers:   load lib/helpers; load lib/frames

# frame_header LEN: print LEN as 4 bytes, most significant first (network
# byte order), e.g. 300 -> \000\000\001\054.
frame_header() {
	local n=$1
	# shellcheck disable=SC2059 # the format is built on purpose
	printf "\\$(printf %03o $(((n >> 24) & 255)))\\$(printf %03o $(((n >> 16) & 255)))\\$(printf %03o $(((n >> 8) & 255)))\\$(printf %03o $((n & 255)))"
}

# make_frame FILE: print one frame holding FILE's bytes.
make_frame() {
	frame_header "$(wc -c <"$1")"
	cat -- "$1"
}
