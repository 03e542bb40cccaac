# The ladder of lesson 11 (scripts/make-ladder 11-events): the TODOs in their
# order. Non-blocking sockets and the poll loop are one TODO (the loop shows
# nothing until the sockets stop blocking it, and set_nonblocking() shows
# nothing without a loop); epoll's sync_interest() comes next, since the
# epoll loop around it is given. Queueing and draining are one TODO: a queue
# that is never drained would lose lines that are relayed today.
# connect_timeout stands alone, last.
R = "room.c"
P = "poll_chat.c"
E = "epoll_chat.c"
C = "connect_timeout.c"
STEPS = [
    ("nonblocking-poll-loop", [
        ("func", R, "set_nonblocking"),
        ("func", P, "fill_pollfds"),
        ("func", P, "handle_client_events"),
        ("func", P, "serve"),
    ]),
    ("epoll-interest", [("func", E, "sync_interest")]),
    ("whole-lines", [("func", R, "client_on_readable")]),
    ("queue-and-drain", [("func", R, "queue_for"), ("func", R, "client_on_writable")]),
    ("wait-connected", [("func", C, "wait_connected")]),
]
