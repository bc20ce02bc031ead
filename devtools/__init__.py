"""Development tools, not part of the server: the benchmarks (``bench/``, run by
``manage.py bench <name>``: the package is an installed app for that command only, with
no models), real server processes on a throwaway database (``deploy``), WebSocket clients
(``wsclient``) and the figures they print (``stats``). The tests use the same helpers."""
