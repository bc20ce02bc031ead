"""The benchmarks run by ``manage.py bench <name>`` (``BENCHMARKS``: name -> module).

Each benchmark is a module with ``add_arguments(parser)`` and ``run(options, out)``. They
measure a baseline in the same run and print ratios against it, since the machine they
run on is noisy.
"""

BENCHMARKS = {
    "trackers": "devtools.bench.trackers",
    "scan": "devtools.bench.scan",
    "api": "devtools.bench.api",
    "fanout": "devtools.bench.fanout",
    "rpc": "devtools.bench.fanout",
    "subsonic-auth": "devtools.bench.subsonic_auth",
    "subsonic": "devtools.bench.subsonic",
    "streams": "devtools.bench.streams",
    "handler": "devtools.bench.handler",
    "transcode": "devtools.bench.transcode",
    "similar": "devtools.bench.similar",
    "sync": "devtools.bench.sync",
}
