# The ladder of lesson 10 (scripts/make-ladder 10-file-download): the TODOs
# in their order. open_in_root comes first: a missing file shows alone (status
# 1), while the name rules only show once the root's own refusals work.
# create_temp and receive_file are one TODO: main calls both before anything
# can be seen.
S = "file-server.c"
D = "download.c"
STEPS = [
    ("open-in-root", [("func", S, "open_in_root")]),
    ("unsafe-name", [("func", S, "unsafe_name")]),
    ("stream-file", [("func", S, "stream_file")]),
    ("create-temp-receive-file", [
        # The solution names mkstemp's six characters above create_temp.
        ("region", D, "// [snippet temp_file]\n", "static int create_temp"),
        ("func", D, "create_temp"),
        ("func", D, "receive_file"),
    ]),
    ("finish-temp", [("func", D, "finish_temp")]),
    ("progress-bar", [("func", D, "progress_draw")]),
]
