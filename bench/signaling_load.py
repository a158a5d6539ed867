"""Signaling load benchmark: N rooms x M simulated peers against real server processes.

For each configuration (in-memory layer on one process, Redis on one process, Redis on two
processes, PostgreSQL on one process, ``plain``: the plainest Channels relay, which says what
daphne and Channels themselves take on the machine of the day, and ``uvicorn``: meet on another
ASGI server, measured and not used) it starts fresh servers on loopback, logs ROOMS x PEERS
users in, connects every peer with the ``websockets`` library and measures:

- first, untimed, every user opens the room's page, as a browser does before its Join click
  (``--cold-sessions`` skips this: each join then reads its session from the database);
- time to welcome: from opening the socket to receiving ``welcome`` (p50/p95/max), and the
  time to connect everyone;
- relay latency p50/p95/p99 of ``sdp`` frames sent at a fixed total rate (``--rate``) to random
  peers of the same room, measured from the sender's send to the target's receive;
- saturation: every peer sends as fast as the server takes it for a few seconds; the relayed
  messages per second that arrive, and their latency.

With two processes each room's peers are split across them, so every other relay crosses Redis.

    ./run bench                                  # 250 rooms x 4 peers: memory, redis-1, redis-2
    ./run bench --rooms 50 --peers 4 --configs memory
    ./run bench --configs plain,memory,redis-1,redis-2,postgres --rate-per-process
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from websockets.asyncio.client import connect as ws_connect  # noqa: E402
from websockets.exceptions import InvalidMessage  # noqa: E402

from tests.support.servers import LiveServers  # noqa: E402

CONFIGS = {
    "memory": {"redis": False, "count": 1},
    "redis-1": {"redis": True, "count": 1},
    "redis-2": {"redis": True, "count": 2},
    # The admission on PostgreSQL (a fresh database on 127.0.0.1:5432, as the tests make one).
    "postgres": {"redis": False, "count": 1, "postgres": True},
    # The yardstick: the plainest Channels relay, on daphne with the in-memory layer
    # (bench/plain_channels.py). What it takes is what daphne and Channels take on the day.
    "plain": {"redis": False, "count": 1, "application": "bench.plain_channels:application"},
    # Another ASGI server, measured beside daphne and not used by meet (issue #14): meet itself,
    # in-memory layer, one process, on uvicorn with uvloop and httptools (./run bench installs
    # them). daphne's adjustments (signaling/immediate_write.py, backpressure.py) do not apply.
    "uvicorn": {"redis": False, "count": 1, "server": "uvicorn"},
}

SETUP_CODE = """
import json
from django.contrib.auth import get_user_model
from rooms.services import room_create
from tests.support.servers import session_key_for
rooms, peers = {rooms}, {peers}
User = get_user_model()
users = User.objects.bulk_create(
    [User(username=f"bench{{i}}", password="!") for i in range(rooms * peers)]
)
sessions = [session_key_for(user) for user in users]
slugs = []
for r in range(rooms):
    slugs.append(room_create(owner=users[r * peers], name=f"Bench {{r}}").slug)
print(json.dumps({{"sessions": sessions, "slugs": slugs}}))
"""


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Peer:
    room: int
    socket: object = None
    peer_id: str = ""
    others: list[str] = field(default_factory=list)


@dataclass
class Recorder:
    """Latencies of the relays of the current phase; frames of other phases are ignored."""

    phase: str = ""
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def start(self, phase: str) -> None:
        self.phase, self.latencies = phase, []


async def _reader(peer: Peer, recorder: Recorder) -> None:
    try:
        async for raw in peer.socket:
            frame = json.loads(raw)
            kind = frame["type"]
            if kind == "sdp":
                phase, sent_at, _ = frame["description"]["sdp"].split(" ", 2)
                if phase == recorder.phase:
                    recorder.latencies.append(time.perf_counter() - float(sent_at))
            elif kind == "error":
                recorder.errors[frame["code"]] = recorder.errors.get(frame["code"], 0) + 1
    except Exception:  # noqa: BLE001 - a closed socket ends its reader; counted below
        recorder.errors["closed"] = recorder.errors.get("closed", 0) + 1


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _open_pages(servers, setup, rooms: int, peers: int) -> None:
    """Every user opens its room's page on the process its socket will use, as a browser does.

    A join storm comes after the page loads (the pre-join screen comes first), and the page
    puts the visitor's session in the cache that the socket's admission then reads.
    """

    def open_one(index: int) -> None:
        process = servers.processes[index % len(servers.processes)]
        request = urllib.request.Request(
            f"{process.base_url}/rooms/{setup['slugs'][index // peers]}/",
            headers={"Cookie": f"sessionid={setup['sessions'][index]}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            assert response.status == 200, response.status

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(open_one, range(rooms * peers)))


async def _connect_all(servers, setup, rooms: int, peers: int, concurrency: int):
    peers_list = [Peer(room=r) for r in range(rooms) for _ in range(peers)]
    welcome_times: list[float] = []
    retries: list[int] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def open_one(index: int, peer: Peer) -> None:
        # Peers of a room alternate between processes, so relays cross between them.
        process = servers.processes[index % len(servers.processes)]
        async with semaphore:
            # Daphne drops a handshake the application has not accepted within 5 s; on an
            # overloaded machine that happens, and a real client simply tries again (counted).
            for attempt in range(4):
                started = time.perf_counter()
                try:
                    peer.socket = await ws_connect(
                        f"{process.ws_url}/ws/rooms/{setup['slugs'][peer.room]}/",
                        origin=process.base_url,
                        additional_headers={"Cookie": f"sessionid={setup['sessions'][index]}"},
                        proxy=None,
                        compression=None,
                        open_timeout=60,
                        max_queue=None,
                    )
                    welcome = json.loads(await peer.socket.recv())
                    break
                except InvalidMessage:
                    if attempt == 3:
                        raise
                    retries.append(index)
            welcome_times.append(time.perf_counter() - started)
        assert welcome["type"] == "welcome", welcome
        peer.peer_id = welcome["self"]["peer_id"]

    started = time.perf_counter()
    await asyncio.gather(*(open_one(i, p) for i, p in enumerate(peers_list)))
    connect_all = time.perf_counter() - started
    by_room: dict[int, list[Peer]] = {}
    for peer in peers_list:
        by_room.setdefault(peer.room, []).append(peer)
    for members in by_room.values():
        for peer in members:
            peer.others = [p.peer_id for p in members if p is not peer]
    return peers_list, welcome_times, connect_all, len(retries)


async def _send_at_rate(peers: list[Peer], rate: float, duration: float, phase: str) -> int:
    """Send ``rate`` sdp frames per second in total, from random peers to random room-mates."""
    sent = 0
    started = time.perf_counter()
    tick = 0.01
    while (elapsed := time.perf_counter() - started) < duration:
        due = int(elapsed * rate) - sent
        for _ in range(max(0, due)):
            peer = random.choice(peers)
            frame = {
                "type": "sdp",
                "to": random.choice(peer.others),
                "description": {"type": "offer", "sdp": f"{phase} {time.perf_counter()} v=0"},
            }
            await peer.socket.send(json.dumps(frame))
            sent += 1
        await asyncio.sleep(tick)
    return sent


async def _measure(peers, recorder: Recorder, pids, phase: str, rate: float, seconds: float):
    """Send at ``rate`` for ``seconds``, wait for the relays to arrive (10 s at most), report."""
    recorder.start(phase)
    load = os.getloadavg()[0]
    client_before = _cpu_seconds(os.getpid())
    server_before = sum(_cpu_seconds(pid) for pid in pids)
    started = time.perf_counter()
    sent = await _send_at_rate(peers, rate, seconds, phase)
    send_elapsed = time.perf_counter() - started
    deadline = time.perf_counter() + 10
    while len(recorder.latencies) < sent and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    latencies = list(recorder.latencies)
    return {
        "offered_per_second": rate,
        "sent": sent,
        "received": len(latencies),
        "sent_per_second": sent / send_elapsed,
        "per_second": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "server_cpu": (sum(_cpu_seconds(pid) for pid in pids) - server_before) / elapsed,
        # Server CPU per relayed message: all the processes' CPU over the phase, by what arrived.
        "cpu_ms_per_relay": (sum(_cpu_seconds(pid) for pid in pids) - server_before)
        * 1000
        / max(1, len(latencies)),
        "all_delivered": len(latencies) == sent,
        "client_cpu": (_cpu_seconds(os.getpid()) - client_before) / elapsed,
        "load_average": load,
    }


def _start_profiler(pids: list[int], phase: str, args) -> list:
    """py-spy on each server process for one phase (``--profile DIR``); None without it."""
    if not args.profile:
        return []
    import subprocess

    args.profile.mkdir(parents=True, exist_ok=True)
    recorders = []
    for index, pid in enumerate(pids):
        out = args.profile / f"{args.current}-{phase}-{index}.txt"
        recorders.append(
            subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("py-spy")),
                    "record",
                    "--pid",
                    str(pid),
                    "--format",
                    "raw",
                    "--rate",
                    "200",
                    "--output",
                    str(out),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return recorders


def _stop_profiler(recorders: list) -> None:
    import signal as signals

    for recorder in recorders:
        recorder.send_signal(signals.SIGINT)
    for recorder in recorders:
        recorder.wait(timeout=30)


async def run_config(name: str, args) -> dict:
    spec = CONFIGS[name]
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    servers = LiveServers(
        workdir=workdir,
        count=spec["count"],
        redis=spec["redis"],
        postgres=spec.get("postgres", False),
        application=spec.get("application", "meet.asgi:application"),
        server=spec.get("server", "daphne"),
        extra_env={"LOG_LEVEL": "ERROR"},
    )
    servers.start()
    try:
        out = servers.run_python(SETUP_CODE.format(rooms=args.rooms, peers=args.peers))
        setup = json.loads(out.strip().splitlines()[-1])
        pids = [p.process.pid for p in servers.processes]
        args.current = name
        if not args.cold_sessions:
            await asyncio.to_thread(_open_pages, servers, setup, args.rooms, args.peers)
        profiling = _start_profiler(pids, "connect", args)
        server_before = sum(_cpu_seconds(pid) for pid in pids)
        client_before = _cpu_seconds(os.getpid())
        peers, welcome_times, connect_all, retries = await _connect_all(
            servers, setup, args.rooms, args.peers, args.concurrency
        )
        # The server's CPU per join says whether the storm is bound by work or by waiting.
        connect_server_cpu = sum(_cpu_seconds(pid) for pid in pids) - server_before
        connect_client_cpu = _cpu_seconds(os.getpid()) - client_before
        _stop_profiler(profiling)
        recorder = Recorder()
        readers = [asyncio.ensure_future(_reader(p, recorder)) for p in peers]
        await asyncio.sleep(1)  # Let the peer-joined storm settle before measuring.

        rate = args.rate * len(pids) if args.rate_per_process else args.rate
        profiling = _start_profiler(pids, "relay", args)
        fixed = await _measure(peers, recorder, pids, "fixed", rate, args.duration)
        _stop_profiler(profiling)
        saturated = await _measure(
            peers, recorder, pids, "saturated", args.saturate_rate, args.saturate_seconds
        )
        for peer in peers:
            await peer.socket.close()
        for reader in readers:
            reader.cancel()
        return {
            "config": name,
            "peers": len(peers),
            "connect_all_s": connect_all,
            "connect_retries": retries,
            "connect_server_cpu": connect_server_cpu / connect_all,
            "connect_cpu_ms_per_join": connect_server_cpu / len(peers) * 1000,
            "connect_client_cpu": connect_client_cpu / connect_all,
            "welcome_p50_ms": percentile(welcome_times, 0.5) * 1000,
            "welcome_p95_ms": percentile(welcome_times, 0.95) * 1000,
            "welcome_max_ms": max(welcome_times) * 1000,
            "fixed": fixed,
            "saturated": saturated,
            "errors": recorder.errors,
        }
    finally:
        servers.stop()


def print_report(results: list[dict], args) -> None:
    print(
        f"\nmachine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"load: {args.rooms} rooms x {args.peers} peers, {args.concurrency} handshakes at a "
        f"time, {args.rate:g} relays/s{' per process' if args.rate_per_process else ''} for "
        f"{args.duration:g} s, then {args.saturate_rate:g}/s offered for "
        f"{args.saturate_seconds:g} s; "
        f"{'sessions cold' if args.cold_sessions else 'room pages opened first'}\n"
    )
    header = (
        "| config | peers | connect all | welcome p50/p95/max | relay p50/p95/p99 at rate "
        "| relayed/s | all delivered | server CPU | CPU per relay "
        "| saturated: relayed/s, p50/p99 | server CPU |"
    )
    print(header)
    print("|" + "---|" * 11)
    for r in results:
        f, s = r["fixed"], r["saturated"]
        print(
            f"| {r['config']} | {r['peers']} | {r['connect_all_s']:.1f} s "
            f"| {r['welcome_p50_ms']:.0f}/{r['welcome_p95_ms']:.0f}/{r['welcome_max_ms']:.0f} ms "
            f"| {f['p50_ms']:.1f}/{f['p95_ms']:.1f}/{f['p99_ms']:.1f} ms "
            f"| {f['per_second']:.0f} | {'yes' if f['all_delivered'] else 'no'} "
            f"| {f['server_cpu'] * 100:.0f}% | {f['cpu_ms_per_relay']:.2f} ms "
            f"| {s['per_second']:.0f}, {s['p50_ms']:.0f}/{s['p99_ms']:.0f} ms "
            f"| {s['server_cpu'] * 100:.0f}% |"
        )
    print()
    for r in results:
        for phase in ("fixed", "saturated"):
            m = r[phase]
            print(
                f"{r['config']} {phase}: offered {m['offered_per_second']:g}/s, sent "
                f"{m['sent']} ({m['sent_per_second']:.0f}/s), received {m['received']}, "
                f"client CPU {m['client_cpu'] * 100:.0f}%, load average {m['load_average']:.1f}"
            )
        print(
            f"{r['config']} connect: server CPU {r['connect_server_cpu'] * 100:.0f}% "
            f"({r['connect_cpu_ms_per_join']:.2f} ms per join), "
            f"client CPU {r['connect_client_cpu'] * 100:.0f}%"
        )
        print(
            f"{r['config']}: handshakes retried {r['connect_retries']}, "
            f"errors {r['errors'] or 'none'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=250)
    parser.add_argument("--peers", type=int, default=4)
    parser.add_argument(
        "--rate",
        type=float,
        default=1500,
        help="relayed messages per second (per process with --rate-per-process)",
    )
    parser.add_argument(
        "--rate-per-process",
        action="store_true",
        help="offer --rate for each server process (3,000/s for two processes at 1,500)",
    )
    parser.add_argument(
        "--profile", type=Path, help="record py-spy profiles of the servers into this folder"
    )
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--saturate-rate", type=float, default=4000)
    parser.add_argument("--saturate-seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=50, help="sockets opening at once")
    parser.add_argument("--configs", default="memory,redis-1,redis-2")
    parser.add_argument(
        "--cold-sessions",
        action="store_true",
        help="do not open the room pages first: every join reads its session from the database",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    # A thousand peers need a thousand sockets in this process and in each server.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))

    names = [name.strip() for name in args.configs.split(",")]
    for name in names:
        if name not in CONFIGS:
            parser.error(f"unknown configuration {name!r}: choose from {', '.join(CONFIGS)}")
        if CONFIGS[name].get("server") == "uvicorn" and importlib.util.find_spec("uvicorn") is None:
            parser.error("the uvicorn configuration needs uvicorn: pip install -e '.[test]'")
    results = []
    for name in names:
        print(f"== {name} ...", flush=True)
        results.append(asyncio.run(run_config(name, args)))
        print_report(results[-1:], args)  # Each configuration's figures as soon as they exist.
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    print_report(results, args)


if __name__ == "__main__":
    main()
