"""The library scanner: keeps a library's catalogue in step with its folder.

``scanner.run(scan_run)`` runs one scan; the other modules are its parts, each with one job:

- ``walk``: the folder tree, one ``stat`` per audio file, symlinks confined to the root;
- ``parse``: one file's tags to catalogue values (``Parsed`` / ``Unreadable``), in the parser processes;
- ``pool``: the fork pool of parser processes (``ParsePool``);
- ``writer``: batches of parsed files into the catalogue (``CatalogueWriter``);
- ``bulk``: the multi-row SQL, the only code using the database backend's internals;
- ``sweeps``: removing artists, genres and albums nothing refers to;
- ``lease``: one scan per library at a time;
- ``events``: the scan tracker's progress and lifecycle, and the staff events.

Path escaping and root confinement are the catalogue's (``library.files``).
"""
