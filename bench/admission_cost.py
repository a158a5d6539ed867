"""CPU of one socket admission, in-process, by part (issue #14).

Creates ROOMS x PEERS users on a fresh SQLite database in a temporary folder, then
admits each as the signaling consumer does (``socket_admit_visitor`` with a cached session and
the lazy user of ``DeferredAuthMiddleware``), one after the other in one thread, and prints the
mean time per admission and of each part. No server, sockets or event loop: only the work the
admission does on the database thread, so a change to it can be measured without the noise of
the join storm (``bench/signaling_load.py``), whose server also does the handshakes and frames.

    .venv/bin/python bench/admission_cost.py                 # 250 rooms x 4 peers
    .venv/bin/python bench/admission_cost.py --rooms 100
    .venv/bin/python bench/admission_cost.py --postgres     # a fresh database on tools' server

Each admission runs between two ``close_old_connections`` calls, as ``database_sync_to_async``
runs it, so on PostgreSQL it also takes its connection from the pool and gives it back. The
figures are the wall time (with the database's round trips) and this process's CPU time, which
is what a join costs the server's one interpreter.

The first joiner of each room also reads its chat history (later ones find it in the cache),
and a room's owner (one in four here) is a host, whose welcome lists the lobby when anyone waits.
"""

from __future__ import annotations

import argparse
import functools
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))


def _timed(totals: Counter, module, name: str, *also) -> None:
    """Replace ``module.name`` (and the same name in ``also``) by a copy that adds up its time.

    A name the code does not have (an older commit, for a before/after run) is left out.
    """
    original = getattr(module, name, None)
    if original is None:
        return

    @functools.wraps(original)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - started

    for target in (module, *also):
        setattr(target, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=250)
    parser.add_argument("--peers", type=int, default=4)
    parser.add_argument(
        "--postgres", action="store_true", help="a fresh PostgreSQL database instead of SQLite"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-admission-"))
    postgres_db = _postgres_database_create() if args.postgres else None
    try:
        _run(args, workdir, postgres_db)
    finally:
        if postgres_db:
            _postgres_database_drop(postgres_db)


def _postgres_database_create() -> str:
    from tests.support import tools

    name, os.environ["DATABASE_URL"] = tools.postgres_database_create("bench_admission_")
    return name


def _postgres_database_drop(name: str) -> None:
    from django.db import connections

    from tests.support import tools

    connections.close_all()
    for connection in connections.all():
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()
    tools.postgres_database_drop(name)


def _run(args, workdir: Path, postgres_db: str | None) -> None:
    if not postgres_db:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("MEET_STATE_DIR", str(workdir))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "meet.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.core.management import call_command
    from django.db import close_old_connections, connection
    from django.utils.functional import SimpleLazyObject

    from accounts import selectors as account_selectors
    from rooms import selectors as room_selectors
    from rooms.services import room_create
    from signaling import admission, auth, presence
    from tests.support.servers import session_key_for

    call_command("migrate", verbosity=0)
    count = args.rooms * args.peers
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"bench{index}", password="!") for index in range(count)]
    )
    sessions = [session_key_for(user) for user in users]
    for key in sessions:  # In the cache, as the room page leaves it before the Join click.
        SessionStore(session_key=key).load()
    slugs = [
        room_create(owner=users[room * args.peers], name=f"Bench {room}").slug
        for room in range(args.rooms)
    ]

    totals: Counter = Counter()
    _timed(totals, account_selectors, "session_user")
    _timed(totals, auth, "_get_user_sync")
    _timed(totals, room_selectors, "room_with_access_facts", admission)
    _timed(totals, room_selectors, "user_and_room_with_access_facts", admission)
    _timed(totals, room_selectors, "chat_messages_latest_cached", admission)
    _timed(totals, presence, "participant_join", admission)
    _timed(totals, presence, "_lock_room_and_read_roster")
    _timed(totals, presence, "_participant_insert")
    _timed(totals, admission, "_knocks_waiting")
    _timed(totals, admission, "resume_token_make")

    def read_user(scope):
        # As DeferredAuthMiddleware does; before 2026-12-02 it ran Channels' get_user.
        if hasattr(auth, "_get_user_sync"):
            return auth._get_user_sync(scope)
        return account_selectors.session_user(scope["session"])

    def admit(index: int) -> None:
        scope = {"session": SessionStore(session_key=sessions[index])}
        if hasattr(auth, "deferred_user"):  # As DeferredAuthMiddleware does since 2026-12-02.
            scope["user"] = auth.deferred_user(scope)
        else:
            scope["user"] = SimpleLazyObject(lambda: read_user(scope))
        close_old_connections()  # As database_sync_to_async does around each call.
        try:
            _user, _token, result = admission.socket_admit_visitor(
                scope=scope, slug=slugs[index // args.peers], channel_name=f"bench.{index}"
            )
        finally:
            close_old_connections()
        assert result.join is not None, result

    warm = min(40, count // 2)
    for index in range(warm):  # Imports, statement caches, the first rooms' histories.
        admit(index)
    totals.clear()
    started = time.perf_counter()
    cpu_started = time.process_time()
    for index in range(warm, count):
        admit(index)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    measured = count - warm
    print(f"{measured} admissions on {connection.vendor}, {args.peers} peers a room, one thread")
    print(f"  per admission: {elapsed / measured * 1e6:.0f} µs ({cpu / measured * 1e6:.0f} µs CPU)")
    for name, seconds in totals.most_common():
        print(f"  {name}: {seconds / measured * 1e6:.0f} µs")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
