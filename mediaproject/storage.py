"""The static files' storage: versioned names, pre-compressed copies, readable modes.

``collectstatic`` writes each file under a name with its content's hash
(``js/app.3f2a9c1e.js``), rewrites the references between them (CSS ``url()``, and ES
module ``import``/``export ... from`` statements, so one changed module changes the names
of those importing it), and beside each text file a gzip and a brotli copy. WhiteNoise
(``WhiteNoiseMiddleware``) serves the versioned names with a one-year ``immutable``
lifetime and picks the copy the browser accepts.

Before ``collectstatic`` has run (the in-process tests, a server started without it) there
is no manifest: pages then name the files by their plain names, which WhiteNoise serves
from the source folders (``WHITENOISE_USE_FINDERS``) with a short lifetime.

Server processes run with umask 077 (``common.datadir``); the collected files are not
secret and a web server in front (nginx) runs as another account, so every file written
here, compressed copies included, gets the storage's modes (0644 files, 0755 folders).
"""
from __future__ import annotations

import os

import brotli
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Brotli's best quality takes ~10x the time of quality 9 for a few percent: the UI's own
# files get the best, the large bundles of the API docs (megabytes) quality 9. Source maps
# (fetched by developer tools only) are not compressed.
BEST_QUALITY_UP_TO = 256 * 1024
SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")


class StaticCompressor(Compressor):
    @staticmethod
    def compress_brotli(data: bytes) -> bytes:
        return brotli.compress(data, quality=11 if len(data) <= BEST_QUALITY_UP_TO else 9)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True

    def create_compressor(self, **kwargs):
        kwargs["extensions"] = kwargs.get("extensions") or SKIP_COMPRESS_EXTENSIONS
        return StaticCompressor(**kwargs)

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:  # not collected: the plain name, served from the source folders
            return name
        return super().stored_name(name)

    def compress_files(self, paths):
        for name, compressed_name in super().compress_files(paths):
            if self.file_permissions_mode is not None:
                os.chmod(self.path(compressed_name), self.file_permissions_mode)
            yield name, compressed_name
