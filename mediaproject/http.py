"""Django's ASGI handler, run the way a threaded WSGI server runs Django.

It still earns its place: measured against Django's own ``ASGIHandler`` (Django 5.2.19) in
the same run (``manage.py bench handler``: two daphne servers on one SQLite database, each
request sent to both back to back, 2,000 requests per URL, on a loaded 2-core machine), p50
/ p95 in ms, two runs:

    ===============  ================  ================
    handler          album detail      404 (no view)
    ===============  ================  ================
    this one         3.74 / 8.21       1.51 / 3.30
                     3.34 / 11.57      1.43 / 2.92
    Django's         7.10 / 14.32      2.96 / 8.28
                     6.03 / 13.25      2.77 / 7.69
    ===============  ================  ================

Django's handler is slower for two reasons this handler removes:

- It builds the middleware chain in async mode, so every sync middleware (all of
  Django's are) runs ``process_request`` and ``process_response`` through separate
  ``sync_to_async`` calls, and the view through another: about sixteen hops between
  the event loop and a thread per request. Here the chain is built in sync mode, as
  the WSGI handler builds it, and runs in one hop.
- It gives every request a new thread (``ThreadSensitiveContext()``), so database
  connections cannot outlive a request: each one opens a connection (for SQLite:
  schema parsed again, page cache cold) and closes it. Here each request runs its
  thread-sensitive work (signals, middleware, view, closing the response) on one of
  ``HTTP_THREADS`` long-lived threads, each keeping its database connection for
  ``CONN_MAX_AGE`` seconds, checked before reuse (``CONN_HEALTH_CHECKS``): Django's
  own persistent-connection rules, as under a threaded WSGI server. When every thread
  is busy, a request waits for one. A thread is held only for those sync steps: reading
  the request body and sending the response (a long stream to a slow client) hold none,
  so a few slow listeners cannot keep every other request waiting.

The sync steps of a request (the ``request_started`` signal, building the request, the
chain, and closing a response whose body is already bytes) run in that one hop; a
streaming response is closed in a second hop, on whichever thread is idle by then. Reading
the body, streaming a response and noticing a disconnect are Django's ASGI code. An async
view still works: the sync chain runs it through ``async_to_sync``.

**Back-pressure for streamed responses.** daphne never blocks ``send``: each body chunk
goes to the connection's Twisted transport, which keeps whatever the client has not read
(a client that reads nothing made a bridge hold the whole file). So a streaming response
is paced: after each chunk, while the transport holds over ``STREAM_WINDOW_BYTES``
unsent (``bridge.ws.transport.transport_backlog``), the next chunk waits until it drains to
``STREAM_RESUME_BYTES``, and the file is read no further meanwhile. A client whose
backlog does not shrink for ``STREAM_STALL_TIMEOUT`` seconds is dropped (the connection
aborted, its unsent bytes discarded) and the response, with its file, closed. Under
another server, or a transport whose backlog cannot be read (TLS terminated by daphne),
responses are not paced.
"""
from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix

from bridge.ws.transport import find_protocol, transport_backlog

logger = logging.getLogger(__name__)

# The methods of Django's ``ASGIHandler`` this handler copies and changes (``__init__``,
# ``__call__``, ``handle`` and, inside ``_respond``, ``run_get_response``), each with the
# first 16 hex digits of the SHA-256 of its source in the Django version the copy was last
# reviewed against. A test fails when the installed Django's differ: review the copy against
# the new source (fixes Django made there), then update the version and the hashes.
DJANGO_REVIEWED = "5.2.19"
DJANGO_SOURCES = {
    "__init__": "41379d4f4b69f900",
    "__call__": "f756809e9c9308dc",
    "handle": "98faeb5bef800331",
    "run_get_response": "0234ea5fe09a5777",
}

# Unsent bytes a streamed response may leave with the transport, and the level they must
# drain to before it goes on. Twisted copies its buffer as it writes, so a stalled response
# holds about twice the window: 1.3 MiB each with 20 stalled readers (``bench streams``).
STREAM_WINDOW_BYTES = 512 * 1024
STREAM_RESUME_BYTES = 128 * 1024
DRAIN_POLL_SECONDS = (0.005, 0.25)  # first and longest wait between looks at the backlog


class StalledClient(Exception):
    """The client read nothing for ``STREAM_STALL_TIMEOUT`` seconds."""


async def drained(protocol, stall_timeout: float) -> None:
    """Return once the transport holds at most ``STREAM_RESUME_BYTES`` unsent (at once when
    it holds no more than ``STREAM_WINDOW_BYTES``); ``StalledClient`` when the backlog does
    not shrink for ``stall_timeout`` seconds."""
    backlog = transport_backlog(protocol)
    if backlog is None or backlog <= STREAM_WINDOW_BYTES:
        return
    shortest, longest = DRAIN_POLL_SECONDS
    delay = shortest
    progress_at = time.monotonic()
    while backlog > STREAM_RESUME_BYTES:
        await asyncio.sleep(delay)
        now = transport_backlog(protocol)
        if now is None:
            return
        if now < backlog:
            progress_at, delay = time.monotonic(), shortest
        elif time.monotonic() - progress_at >= stall_timeout:
            raise StalledClient
        else:
            delay = min(delay * 2, longest)
        backlog = now


def paced(send, protocol):
    """``send`` that waits for the client to drain each body chunk (see ``drained``)."""
    stall_timeout = float(settings.STREAM_STALL_TIMEOUT)

    async def send_paced(message):
        await send(message)
        if message.get("more_body"):
            await drained(protocol, stall_timeout)

    return send_paced


class ThreadPoolASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = max(1, int(getattr(settings, "HTTP_THREADS", 8)))
        self._idle: asyncio.Queue | None = None

    def _idle_threads(self) -> asyncio.Queue:
        if self._idle is None:  # made on first use, inside the server's event loop
            # Last in, first out: the most recently used thread, whose database connection
            # and caches are warm (round robin over eight threads measured 1.5 ms slower).
            self._idle = asyncio.LifoQueue()
            for number in range(self.threads):
                self._idle.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{number}"))
        return self._idle

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def on_thread(self, func, *args):
        """``func(*args)`` on the next idle one of the ``HTTP_THREADS`` threads (waiting for
        one when all are busy), with its thread-sensitive calls kept there."""
        idle = self._idle_threads()
        thread = await idle.get()
        try:
            async with ThreadSensitiveContext(executor=thread):
                return await sync_to_async(func, thread_sensitive=True)(*args)
        finally:
            idle.put_nowait(thread)

    async def handle(self, scope, receive, send):
        """Django's ``ASGIHandler.handle`` with its sync steps (the ``request_started``
        signal, building the request, the middleware chain and view, and closing a
        response whose body is already bytes) in one call on the request's thread.

        A response whose body is bytes is sent as it is: a client that went away is noticed
        by the server, which drops what is sent to it. Only a streaming response is sent
        while listening for the disconnect (Django's way), so that it stops early; that
        listener costs a task and a wait per request, which the other responses skip.
        """
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            set_script_prefix(get_script_prefix(scope))
            response = await self.on_thread(self._respond, scope, body_file)
            if response.streaming:
                await self._stream(response, receive, send)
            else:
                await self.send_response(response, send)
        finally:
            body_file.close()

    async def _stream(self, response, receive, send):
        """Send a streaming response, paced by the client (see the module docstring), until
        it ends or the client goes away or stalls, then close it."""
        protocol = find_protocol(send)
        if protocol is not None and transport_backlog(protocol) is not None:
            send = paced(send, protocol)

        async def sending():
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:  # the client went away while we were sending
                pass
            except StalledClient:
                logger.info("dropped a client that read nothing of a streamed response for %s s",
                            settings.STREAM_STALL_TIMEOUT)
                protocol.transport.abortConnection()
            except Exception as exc:  # the body failed midway (a transcode stopped): never end it as if complete
                logger.warning("a streamed response failed midway, connection aborted: %s", exc)
                if protocol is not None:
                    protocol.transport.abortConnection()

        tasks = [asyncio.create_task(self.listen_for_disconnect(receive)), asyncio.create_task(sending())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        await self.on_thread(response.close)
        for outcome in outcomes:
            if isinstance(outcome, AssertionError):  # a message after the body: Django's handler raises it too
                raise outcome

    def _respond(self, scope, body_file):
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            response = error_response
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()  # the body is bytes already: finish the request here, as WSGI would after sending
        return response


def get_asgi_application() -> ThreadPoolASGIHandler:
    """``django.core.asgi.get_asgi_application`` with this handler."""
    import django

    django.setup(set_prefix=False)
    return ThreadPoolASGIHandler()
