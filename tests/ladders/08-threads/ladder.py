# The ladder of lesson 08 (scripts/make-ladder 08-threads): the TODOs in
# their order.
F = "chat_server.c"
STEPS = [
    ("thread-per-client", [("func", F, "start_client")]),
    ("broadcast", [("func", F, "deliver_locked")]),
    ("leave-the-list", [("func", F, "leave_room")]),
]
