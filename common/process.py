"""Which process this is: ``process_id`` names it in replies, log entries and scan leases."""
from __future__ import annotations

import os
import socket


def process_id() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"
