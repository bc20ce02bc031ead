"""The transport under daphne: finding a connection's Twisted transport behind an ASGI
``send``, how much it holds unsent, and writing to it directly.

daphne never blocks ``send``: whatever a client does not read piles up in the
transport's buffer, without bound. Flow control reads ``transport_backlog``: the
WebSocket outbox (``bridge.consumers``) and streamed HTTP responses
(``mediaproject.http``) both wait for it to drain.
"""
from __future__ import annotations

from typing import Any


def find_protocol(send: Any) -> Any:
    """daphne's protocol object behind an ASGI ``send`` callable, or None.

    daphne hands each application ``partial(server.handle_reply, protocol)``; channels'
    session middleware wraps it (``real_send``), and the project's own ASGI steps that wrap
    ``send`` name the callable they wrap ``__wrapped__`` (as ``functools.wraps`` does).
    Anything else (the test communicator, another server) has no protocol to look at, and
    flow control is then off.
    """
    for _ in range(8):
        args = getattr(send, "args", None)
        if args and hasattr(args[0], "transport"):
            return args[0]
        inner = getattr(send, "__wrapped__", None)
        if inner is None:
            inner = getattr(getattr(send, "__self__", None), "real_send", None)
        if inner is None:
            return None
        send = inner
    return None


def transport_backlog(protocol: Any) -> int | None:
    """Bytes written to the connection's Twisted transport and not yet sent to the socket."""
    transport = getattr(protocol, "transport", None)
    if transport is None:
        return None
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except (AttributeError, TypeError):
        return None  # not a plain TCP transport (e.g. TLS terminated by daphne itself)


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
    if (send_now and _TCP is not None and type(transport) is _TCP and transport.connected
            and not transport.disconnecting):
        if not transport._tempDataLen and len(transport.dataBuffer) == transport.offset:
            try:
                sent = transport.socket.send(frame)
            except BlockingIOError:
                sent = 0
            except OSError:
                sent = 0  # Twisted notices the broken connection on its own write
            if sent == len(frame):
                return
            frame = frame[sent:]
    transport.write(frame)


try:
    from twisted.internet.tcp import Server as _TCP  # daphne's accepted connections
except ImportError:  # pragma: no cover - daphne always brings Twisted
    _TCP = None
