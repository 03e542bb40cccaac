# tests/lib/room.bash - drive a chat room (lessons 08 and 11) with chat-crowd
# and read its log.
#
# Load it after lib/helpers and lib/chat:   load lib/room
# The server under test is the program started as "server"; its log lines
# are "joined ADDR:PORT (N online)" and "left ADDR:PORT (N online)".

# online_count N: how many of the server's lines say "(N online)".
online_count() {
	grep -ac "(${1} online)\$" "$(out server)" || true
}

# wait_online N BEFORE: wait until the server has said "(N online)" more
# than BEFORE times (BEFORE: the count from online_count, taken earlier).
more_online() { [ "$(online_count "$1")" -gt "$2" ]; }

wait_online() {
	local want=$1 before=$2
	if ! wait_until --while server 40 more_online "$want" "$before"; then
		fail_with "the server did not log every client joining" \
			"a line 'joined ADDR:PORT ($want online)'" \
			"$(_tail "$(out server)") (server running: $(is_running server && echo yes || echo no))"
		return 1
	fi
}

# crowd NAME ONLINE [chat-crowd options]: run chat-crowd against the server
# and check its verdict. Its clients connect, then wait until the server has
# logged ONLINE clients in the room, so nobody misses the first lines.
crowd() {
	local name=$1 online=$2 before
	shift 2
	before=$(online_count "$online")
	start_typed "$name" --timeout 90 -- "$TOOLS_DIR/chat-crowd" 127.0.0.1 "$PORT" \
		--wait-stdin --timeout-ms 40000 "$@"
	wait_line "$name" '^connected ' 40
	wait_online "$online" "$before" || return 1
	type_line "$name" go
	wait_exit "$name" 60
	if [ "$STATUS" != 0 ]; then
		fail_with "chat-crowd $* found a problem" "a line 'ok: ...'" \
			"$(_tail "$(out "$name")")
--- the server's log:
$(_tail "$(out server)")
--- the server's stderr:
$(_tail "$(err server)")"
		return 1
	fi
}

# wait_empty: wait until every client has left: the server has logged a
# "left" line for each "joined" line.
# The server logs after unlocking the room, so two threads' lines may come
# out in either order: count them instead of reading the last one.
room_empty() {
	local joined left
	joined=$(grep -ac '^joined ' "$(out server)" || true)
	left=$(grep -ac '^left ' "$(out server)" || true)
	[ "$joined" -gt 0 ] && [ "$left" -eq "$joined" ] && grep -aq '(0 online)$' "$(out server)"
}

wait_empty() {
	if ! wait_until --while server 40 room_empty; then
		fail_with "the clients were not all taken out of the room" \
			"as many 'left ADDR:PORT (N online)' lines as 'joined' lines, one with (0 online)" \
			"$(_tail "$(out server)") (server running: $(is_running server && echo yes || echo no))"
		return 1
	fi
}
