"""A client for Janus's WebSocket API: one connection per node and process, many sessions on it.

Browsers never talk to Janus; meet's server does, on their behalf, through this module. Each
server process keeps one ``JanusConnection`` per Janus node (``JANUS_URLS``), shared by all of
its peers: requests are told apart by their ``transaction`` id, and events that Janus sends on
its own (a publisher joined, someone is talking, a PeerConnection went up or down) are routed
to the handle they name. The connection sends each of its sessions a ``keepalive`` every
``KEEPALIVE_SECONDS`` (Janus frees a silent session after its ``session_timeout``, 60 s in the
project's template), so a worker that dies leaves nothing behind on Janus for long.

The API, as Janus 1.1 speaks it (see janus-gateway's ``janus.js`` and the VideoRoom docs):

- ``create`` → ``success`` with ``data.id`` (a session); ``attach`` with a ``plugin`` → ``success``
  with ``data.id`` (a handle); ``destroy`` / ``detach`` end them;
- ``message`` to a handle: a synchronous plugin request (``create``, ``destroy``, ``kick``,
  ``moderate``, ``listparticipants``...) answers ``success`` with ``plugindata``; an asynchronous
  one (``join``, ``configure``, ``start``, ``publish``...) answers ``ack`` and later an ``event``
  with the same transaction, which may carry a ``jsep``;
- ``trickle`` with ``candidate`` (or ``{"completed": true}``) answers ``ack``;
- every request carries ``apisecret``; a refusal is ``error`` with ``code`` and ``reason``, and
  a plugin's refusal is a ``plugindata.data`` with ``error_code`` and ``error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect

from signaling import metrics

logger = logging.getLogger(__name__)

SUBPROTOCOL = "janus-protocol"
VIDEOROOM = "janus.plugin.videoroom"
KEEPALIVE_SECONDS = 15.0
REQUEST_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0

EventListener = Callable[[dict[str, Any]], Awaitable[None] | None]

# Every connection of this process, for the metrics' session count; a dropped connection leaves
# by itself when it is garbage-collected.
_connections: weakref.WeakSet[JanusConnection] = weakref.WeakSet()


def open_session_count() -> int:
    """Janus sessions this process holds open now, over every node (0 without Janus)."""
    return sum(
        len(connection.sessions) for connection in list(_connections) if connection.connected
    )


metrics.JANUS_SESSIONS.set_function(open_session_count)


class JanusError(Exception):
    """Janus, or one of its plugins, refused a request (``code`` and ``reason`` as it said)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusUnavailable(Exception):
    """The Janus node cannot be reached, or the connection to it dropped."""


@dataclass
class JanusReply:
    """What a plugin request came back with: the plugin's ``data`` and, maybe, a ``jsep``."""

    data: dict[str, Any]
    jsep: dict[str, Any] | None = None


@dataclass
class _Pending:
    """A request waiting for its answer; ``asynchronous`` ones skip the ``ack`` and wait on."""

    future: asyncio.Future
    asynchronous: bool = False


@dataclass
class JanusHandle:
    """One attached plugin handle; events Janus sends about it go to ``listener``."""

    connection: JanusConnection
    session_id: int
    id: int
    listener: EventListener | None = None
    detached: bool = False

    async def request(self, body: dict[str, Any]) -> JanusReply:
        """A synchronous plugin request (``create``, ``kick``, ``moderate``...): its answer."""
        return await self.connection.plugin_message(self, body, asynchronous=False)

    async def send(self, body: dict[str, Any], jsep: dict[str, Any] | None = None) -> JanusReply:
        """An asynchronous plugin request (``join``, ``configure``, ``start``...): its event."""
        return await self.connection.plugin_message(self, body, jsep=jsep, asynchronous=True)

    async def trickle(self, candidate: dict[str, Any] | None) -> None:
        """Hand Janus one ICE candidate of the browser, or ``None`` when gathering is complete."""
        await self.connection.call(
            {
                "janus": "trickle",
                "session_id": self.session_id,
                "handle_id": self.id,
                "candidate": candidate if candidate is not None else {"completed": True},
            }
        )

    async def detach(self) -> None:
        """Detach the handle (Janus hangs up its PeerConnection); harmless when already gone."""
        if self.detached:
            return
        self.detached = True
        self.connection.handles.pop(self.id, None)
        with contextlib.suppress(JanusError, JanusUnavailable):
            await self.connection.call(
                {"janus": "detach", "session_id": self.session_id, "handle_id": self.id}
            )


@dataclass
class JanusSession:
    """A Janus session: the handles of one peer live in it and die with it."""

    connection: JanusConnection
    id: int
    handles: dict[int, JanusHandle] = field(default_factory=dict)
    destroyed: bool = False

    async def attach(
        self, plugin: str = VIDEOROOM, *, listener: EventListener | None = None
    ) -> JanusHandle:
        """Attach a new handle to ``plugin``; its unsolicited events go to ``listener``."""
        answer = await self.connection.call(
            {"janus": "attach", "session_id": self.id, "plugin": plugin}
        )
        handle = JanusHandle(
            connection=self.connection,
            session_id=self.id,
            id=int(answer["data"]["id"]),
            listener=listener,
        )
        self.handles[handle.id] = handle
        self.connection.handles[handle.id] = handle
        return handle

    async def destroy(self) -> None:
        """Destroy the session and with it every handle; harmless when already gone."""
        if self.destroyed:
            return
        self.destroyed = True
        for handle in self.handles.values():
            handle.detached = True
            self.connection.handles.pop(handle.id, None)
        self.connection.sessions.pop(self.id, None)
        with contextlib.suppress(JanusError, JanusUnavailable):
            await self.connection.call({"janus": "destroy", "session_id": self.id})


class JanusConnection:
    """One WebSocket to one Janus node; see the module docstring.

    ``on_lost`` is called once when the connection drops (Janus died or restarted): every
    session on it is gone too, and the caller recreates what it needs on a new connection.
    """

    def __init__(
        self,
        url: str,
        *,
        api_secret: str = "",
        keepalive_seconds: float = KEEPALIVE_SECONDS,
        request_timeout: float = REQUEST_TIMEOUT,
        on_lost: Callable[[JanusConnection], Awaitable[None] | None] | None = None,
    ) -> None:
        self.url = url
        self.api_secret = api_secret
        self.keepalive_seconds = keepalive_seconds
        self.request_timeout = request_timeout
        self.on_lost = on_lost
        self.sessions: dict[int, JanusSession] = {}
        self.handles: dict[int, JanusHandle] = {}
        self._socket: ClientConnection | None = None
        self._pending: dict[str, _Pending] = {}
        self._reader: asyncio.Task | None = None
        self._keepalive: asyncio.Task | None = None
        self._transaction_ids = itertools.count(1)
        self._transaction_prefix = secrets.token_hex(4)
        self.closed = False
        _connections.add(self)

    # --- lifecycle ------------------------------------------------------------------------------

    async def connect(self) -> JanusConnection:
        try:
            self._socket = await websocket_connect(
                self.url,
                subprotocols=[SUBPROTOCOL],
                open_timeout=CONNECT_TIMEOUT,
                max_size=4 * 1024 * 1024,
            )
        except (OSError, TimeoutError, websockets.WebSocketException) as error:
            raise JanusUnavailable(f"Cannot reach Janus at {self.url}: {error}") from error
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._keepalive = asyncio.get_running_loop().create_task(self._keep_sessions_alive())
        return self

    @property
    def connected(self) -> bool:
        return self._socket is not None and not self.closed

    async def close(self) -> None:
        """Close the socket; Janus then frees our sessions after its session timeout."""
        if self.closed:
            return
        self.closed = True
        for task in (self._keepalive, self._reader):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
        self._fail_pending(JanusUnavailable("The connection to Janus was closed."))

    # --- requests -------------------------------------------------------------------------------

    async def info(self) -> dict[str, Any]:
        """Janus's ``server_info`` (needs the API secret when one is set)."""
        return await self.call({"janus": "info"})

    async def create_session(self) -> JanusSession:
        answer = await self.call({"janus": "create"})
        session = JanusSession(connection=self, id=int(answer["data"]["id"]))
        self.sessions[session.id] = session
        return session

    async def call(self, request: dict[str, Any], *, asynchronous: bool = False) -> dict[str, Any]:
        """Send one request and return Janus's answer (``success``, ``ack`` or ``event``)."""
        if not self.connected:
            raise JanusUnavailable(f"Not connected to Janus at {self.url}.")
        transaction = f"{self._transaction_prefix}-{next(self._transaction_ids)}"
        message = {**request, "transaction": transaction}
        if self.api_secret:
            message["apisecret"] = self.api_secret
        future = asyncio.get_running_loop().create_future()
        self._pending[transaction] = _Pending(future=future, asynchronous=asynchronous)
        try:
            await self._socket.send(json.dumps(message, separators=(",", ":")))
            answer = await asyncio.wait_for(future, timeout=self.request_timeout)
        except websockets.ConnectionClosed as error:
            raise JanusUnavailable("The connection to Janus dropped.") from error
        except TimeoutError as error:
            raise JanusUnavailable(
                f"Janus did not answer {request.get('janus')} within {self.request_timeout} s."
            ) from error
        finally:
            self._pending.pop(transaction, None)
        if answer.get("janus") == "error":
            error = answer.get("error") or {}
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "unknown")))
        return answer

    async def plugin_message(
        self,
        handle: JanusHandle,
        body: dict[str, Any],
        *,
        jsep: dict[str, Any] | None = None,
        asynchronous: bool,
    ) -> JanusReply:
        request: dict[str, Any] = {
            "janus": "message",
            "session_id": handle.session_id,
            "handle_id": handle.id,
            "body": body,
        }
        if jsep is not None:
            request["jsep"] = jsep
        answer = await self.call(request, asynchronous=asynchronous)
        data = (answer.get("plugindata") or {}).get("data") or {}
        if "error_code" in data:
            raise JanusError(int(data["error_code"]), str(data.get("error", "plugin error")))
        return JanusReply(data=data, jsep=answer.get("jsep"))

    # --- the reader and the keepalive -----------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for text in self._socket:
                try:
                    message = json.loads(text)
                except ValueError:
                    logger.warning("Janus sent a frame that is not JSON; ignored")
                    continue
                await self._dispatch(message)
        except websockets.ConnectionClosed:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Reading from Janus at %s failed", self.url)
        await self._lost()

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("janus")
        pending = self._pending.get(message.get("transaction", ""))
        if pending is not None and not pending.future.done():
            # An asynchronous plugin request is answered twice: ``ack`` now, its ``event`` later.
            if not (kind == "ack" and pending.asynchronous):
                pending.future.set_result(message)
                return
            return
        handle = self.handles.get(message.get("sender") or 0)
        if handle is not None and handle.listener is not None:
            try:
                result = handle.listener(message)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                logger.exception("A Janus event listener failed on %s", kind)

    async def _keep_sessions_alive(self) -> None:
        while not self.closed:
            await asyncio.sleep(self.keepalive_seconds)
            for session_id in list(self.sessions):
                try:
                    await self.call({"janus": "keepalive", "session_id": session_id})
                except JanusError as error:
                    # Janus no longer knows the session (it timed out): forget it.
                    logger.warning("Janus dropped session %s: %s", session_id, error.reason)
                    self.sessions.pop(session_id, None)
                except JanusUnavailable:
                    return

    async def _lost(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._keepalive is not None:
            self._keepalive.cancel()
        self._fail_pending(JanusUnavailable(f"The connection to Janus at {self.url} dropped."))
        for session in self.sessions.values():
            session.destroyed = True
        if self.on_lost is not None:
            try:
                result = self.on_lost(self)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                logger.exception("Handling the loss of Janus at %s failed", self.url)

    def _fail_pending(self, error: Exception) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        self._pending.clear()
