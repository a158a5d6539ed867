"""Prometheus metrics of the live call, served at ``/metrics`` (``signaling.views.metrics``).

Counters and histograms are module-level objects that the consumer, admission and the TURN view
bump as things happen; their labelled children are bound here, once, so that the relay hot path
is one ``inc()`` with no label lookup. Gauges of what exists now (peers on this process, live
rooms, calls by media mode, Janus sessions) are read when Prometheus scrapes, not kept up to date
on every change. Each daphne worker serves its own numbers: Prometheus scrapes every worker's
port (docs/server.md, "Metrics and logs").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import prometheus_client
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from rooms.access import FORBIDDEN, NOT_AUTHENTICATED, ROOM_LOCKED, ROOM_NOT_FOUND
from rooms.selectors import rooms_live_count, rooms_live_on_sfu_count
from signaling import wire

logger = logging.getLogger(__name__)

# How a call carries media. Every call is a peer-to-peer mesh today; the SFU adds "sfu".
MEDIA_MODE_MESH = "mesh"
MEDIA_MODE_SFU = "sfu"
MEDIA_MODES = (MEDIA_MODE_MESH, MEDIA_MODE_SFU)

ADMITTED = "admitted"

# Without this every counter also exports a "_created" timestamp series per label: twice the
# series for nothing Prometheus needs (it finds resets from the values themselves).
prometheus_client.disable_created_metrics()

# --- what happens (counters, a histogram) -------------------------------------------------------

ADMISSIONS = Counter(
    "meet_admissions",
    "Signaling sockets admitted or refused, by outcome (admitted, or the refusal's error code).",
    ["outcome"],
)
ADMISSIONS_ADMITTED = ADMISSIONS.labels(outcome=ADMITTED)
# Every refusal the access rule and the seat count can give, so each shows as 0 from the start.
for _code in (
    NOT_AUTHENTICATED,
    FORBIDDEN,
    ROOM_NOT_FOUND,
    ROOM_LOCKED,
    wire.ROOM_FULL,
    wire.TOO_MANY_CONNECTIONS,
):
    ADMISSIONS.labels(outcome=_code)

ADMISSION_SECONDS = Histogram(
    "meet_admission_seconds",
    "Time from a socket's connect to its welcome or refusal (the access rule, the seat, the "
    "roster and the recent chat, read in one trip to the database).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

CALLS_STARTED = Counter(
    "meet_calls_started",
    "Calls started on this process (a peer admitted to a room with nobody else in it), by "
    "media mode.",
    ["media_mode"],
)
CALLS_STARTED_MESH = CALLS_STARTED.labels(media_mode=MEDIA_MODE_MESH)
CALLS_STARTED_SFU = CALLS_STARTED.labels(media_mode=MEDIA_MODE_SFU)

# The hot path: one unlabelled counter, bumped once per relayed sdp or ice message.
RELAYS = Counter(
    "meet_relays",
    "sdp and ice messages relayed from one peer to another (relays per second: rate()).",
)

ERRORS_SENT = Counter(
    "meet_errors_sent",
    "error frames sent to signaling clients, by code (admission refusals included).",
    ["code"],
)
_ERRORS_SENT_BY_CODE = {
    code: ERRORS_SENT.labels(code=code)
    for code in (
        wire.BAD_MESSAGE,
        wire.UNKNOWN_TYPE,
        wire.UNKNOWN_PEER,
        wire.TOO_LARGE,
        wire.RATE_LIMITED,
        wire.ROOM_FULL,
        wire.TOO_MANY_CONNECTIONS,
        wire.BUSY,
        wire.NOT_DELIVERED,
        NOT_AUTHENTICATED,
        FORBIDDEN,
        ROOM_NOT_FOUND,
        ROOM_LOCKED,
    )
}

TURN_CREDENTIALS_ISSUED = Counter(
    "meet_turn_credentials_issued",
    "TURN credentials handed out by /api/turn/.",
)
TURN_CREDENTIALS_REFUSED = Counter(
    "meet_turn_credentials_refused",
    "Requests to /api/turn/ refused, by reason (the error code of the JSON answer).",
    ["reason"],
)

LAYER_ERRORS = Counter(
    "meet_layer_errors",
    "Channel-layer sends that failed (Redis unreachable, a full queue): relays answered busy, "
    "broadcasts not delivered, announcements left to the presence sweep.",
)


def admission_counted(*, refusal: str | None) -> None:
    """Count one admission: ``refusal`` is its error code, or None when admitted."""
    if refusal is None:
        ADMISSIONS_ADMITTED.inc()
    else:
        ADMISSIONS.labels(outcome=refusal).inc()


def error_sent(*, code: str) -> None:
    """Count one ``error`` frame sent to a client."""
    child = _ERRORS_SENT_BY_CODE.get(code)
    if child is None:
        # A code added later and not listed above: still counted, at the cost of a lookup.
        child = _ERRORS_SENT_BY_CODE[code] = ERRORS_SENT.labels(code=code)
    child.inc()


# --- what exists now, read at scrape time -------------------------------------------------------

# signaling.presence and signaling.janus give these their scrape-time functions when they load
# (they import this module, not the other way round); a process that never loads the Janus
# client reports 0 sessions.
CONNECTED_PEERS = Gauge(
    "meet_connected_peers", "Signaling sockets admitted to a room and open on this process."
)
JANUS_SESSIONS = Gauge(
    "meet_janus_sessions", "Janus sessions this process holds open (0 without Janus)."
)


class LiveRoomsCollector(Collector):
    """Live rooms and calls by media mode, counted in the database when Prometheus scrapes.

    These are the same for every worker (they come from the shared database); aggregate them
    with ``max``, not ``sum``, across workers. A database that cannot answer leaves them out of
    that scrape rather than failing the others.
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            live = rooms_live_count()
            on_sfu = rooms_live_on_sfu_count()
        except Exception:
            logger.warning("Could not count live rooms for the metrics", exc_info=True)
            return
        yield GaugeMetricFamily(
            "meet_live_rooms",
            "Rooms with at least one connected participant, over every worker (the database's "
            "count).",
            value=live,
        )
        calls = GaugeMetricFamily(
            "meet_calls",
            "Calls in progress (rooms with a connected participant), by media mode.",
            labels=["media_mode"],
        )
        # A call in progress is on the SFU when its room records a Janus node (media_mode.py).
        calls.add_metric([MEDIA_MODE_MESH], live - on_sfu)
        calls.add_metric([MEDIA_MODE_SFU], on_sfu)
        yield calls

    def describe(self) -> list:
        # Described as nothing, so registering does not run collect() (a database query at
        # import time, before Django may even have a database).
        return []


REGISTRY.register(LiveRoomsCollector())
