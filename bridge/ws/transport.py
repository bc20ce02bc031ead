"""The transport under daphne: the only code that touches daphne's, autobahn's or Twisted's
internals.

daphne never blocks ``send``: whatever a client does not read piles up in the
transport's buffer, without bound. Flow control reads ``transport_backlog``: the
WebSocket outbox (``bridge.ws.outbox``) and streamed HTTP responses
(``mediaproject.http``) both wait for it to drain. Group events to an idle, plain
WebSocket connection are written straight to its transport (``write_frame``), skipping
daphne's and autobahn's send paths.

What is relied on (the versions pinned in requirements.txt):

- daphne hands the application ``partial(server.handle_reply, protocol)`` as ``send``;
- Twisted's TCP transport keeps what it has not sent in ``dataBuffer`` (from ``offset``)
  and ``_tempDataLen``, and its socket in ``socket``;
- autobahn's protocol exposes ``state``/``STATE_OPEN``, ``send_queue``,
  ``_perMessageCompress`` and ``maxMessagePayloadSize``.

``probe`` checks them once, on the first connection that has a transport: if they are
not what this module expects, it logs one WARNING saying which, and from then on the
backlog is unknown (no back-pressure beyond daphne's public send path) and nothing is
written directly. Reading the internals never raises into the caller.
"""
from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

try:
    from twisted.internet.tcp import Server as _TCP  # daphne's accepted connections
except ImportError:  # pragma: no cover - daphne always brings Twisted
    _TCP = None


class Internals:
    """What ``probe`` found: which internals this process may use.

    ``None``: not probed yet (no connection with a transport so far); used as if live,
    every read guarded.
    """

    backlog: bool | None = None  # Twisted's buffer can be read (flow control)
    direct_writes: bool | None = None  # frames may be written straight to the transport


INTERNALS = Internals()

_TRANSPORT_FIELDS = ("dataBuffer", "offset", "_tempDataLen", "socket", "connected", "disconnecting")
_WEBSOCKET_FIELDS = ("state", "STATE_OPEN", "send_queue", "_perMessageCompress", "maxMessagePayloadSize")


def probe(protocol: Any, *, websocket: bool) -> None:
    """Check once that the internals are what this module expects; log the outcome.

    The transport is checked on the first protocol found; the WebSocket fields (and so
    direct writes) on the first WebSocket protocol.
    """
    if INTERNALS.backlog is None:
        transport = getattr(protocol, "transport", None)
        missing = [name for name in _TRANSPORT_FIELDS if not hasattr(transport, name)]
        if not missing:
            try:
                backlog = len(transport.dataBuffer) - transport.offset + transport._tempDataLen
                if not isinstance(backlog, int):
                    missing.append("an integer backlog")
            except Exception as exc:
                missing.append(f"a readable backlog ({exc.__class__.__name__})")
        INTERNALS.backlog = not missing
        if missing:
            logger.warning("Twisted's transport is not what bridge.ws.transport expects (%s lacks %s): "
                           "no back-pressure reading and no direct writes; frames go through daphne's send",
                           type(transport).__name__, ", ".join(missing))
            INTERNALS.direct_writes = False
    if websocket and INTERNALS.direct_writes is None:
        missing = [name for name in _WEBSOCKET_FIELDS if not hasattr(protocol, name)]
        transport = getattr(protocol, "transport", None)
        if _TCP is None or type(transport) is not _TCP:
            missing.append(f"a plain TCP transport (found {type(transport).__name__})")
        INTERNALS.direct_writes = not missing
        if missing:
            logger.warning("daphne's WebSocket protocol is not what bridge.ws.transport expects (%s lacks %s): "
                           "no direct writes; frames go through daphne's send", type(protocol).__name__,
                           ", ".join(missing))
        else:
            logger.info("daphne internals as expected: backlog reading live, direct writes live")


def find_protocol(send: Any, *, websocket: bool = False) -> Any:
    """daphne's protocol object behind an ASGI ``send`` callable, or None; probes the
    internals on the first one found.

    daphne hands each application ``partial(server.handle_reply, protocol)``; channels'
    session middleware wraps it (``real_send``), and the project's own ASGI steps that wrap
    ``send`` name the callable they wrap ``__wrapped__`` (as ``functools.wraps`` does).
    Anything else (the test communicator, another server) has no protocol to look at, and
    flow control is then off.
    """
    for _ in range(8):
        args = getattr(send, "args", None)
        if args and hasattr(args[0], "transport"):
            protocol = args[0]
            if INTERNALS.backlog is None or (websocket and INTERNALS.direct_writes is None):
                probe(protocol, websocket=websocket)
            return protocol
        inner = getattr(send, "__wrapped__", None)
        if inner is None:
            inner = getattr(getattr(send, "__self__", None), "real_send", None)
        if inner is None:
            return None
        send = inner
    return None


def transport_backlog(protocol: Any) -> int | None:
    """Bytes written to the connection's Twisted transport and not yet sent to the socket
    (None: unknown, no flow control)."""
    if INTERNALS.backlog is False:
        return None
    transport = getattr(protocol, "transport", None)
    if transport is None:
        return None
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except Exception:
        return None  # not a plain TCP transport (e.g. TLS terminated by daphne itself)


def can_write_directly(protocol: Any, size: int) -> bool:
    """Whether a frame of ``size`` bytes may go straight to this WebSocket's transport: a
    plain (uncompressed), open connection whose own send queue is empty."""
    if not INTERNALS.direct_writes:
        return False
    try:
        return (protocol.state == protocol.STATE_OPEN and not protocol.send_queue
                and protocol._perMessageCompress is None and protocol.transport is not None
                and (not protocol.maxMessagePayloadSize or size <= protocol.maxMessagePayloadSize))
    except Exception:
        return False


def ws_text_frame(data: bytes) -> bytes:
    """An unfragmented, unmasked WebSocket text frame (RFC 6455 5.2): what a server sends."""
    length = len(data)
    if length < 126:
        header = bytes((0x81, length))
    elif length < 65536:
        header = bytes((0x81, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + length.to_bytes(8, "big")
    return header + data


def write_frame(transport: Any, frame: bytes, send_now: bool = True) -> None:
    """Write ready frame bytes to a connection's Twisted transport.

    ``send_now``, the transport holding nothing unsent and a plain TCP connection: the
    bytes go to the socket at once. Twisted's ``write`` would buffer them, register the
    socket with the event loop, send on the next turn and unregister it (two
    ``epoll_ctl`` calls and a callback per connection per event: with 1,000 connections
    that was most of a bridge's work, ``bench fanout``). What the socket does not take
    goes through ``write`` as usual, after it. TLS and other transports always use
    ``write``; so do bursts (``send_now`` False), where Twisted's buffering sends many
    frames in one call.
    """
    if send_now and _TCP is not None and type(transport) is _TCP:
        try:
            idle = (transport.connected and not transport.disconnecting and not transport._tempDataLen
                    and len(transport.dataBuffer) == transport.offset)
        except Exception:
            idle = False
        if idle:
            try:
                sent = transport.socket.send(frame)
            except Exception:  # BlockingIOError, a broken connection (Twisted notices it on its own write)
                sent = 0
            if sent == len(frame):
                return
            frame = frame[sent:]
    transport.write(frame)
