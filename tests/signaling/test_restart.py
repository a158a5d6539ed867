"""A worker stopped with SIGTERM (a rolling restart) tells its sockets to resume elsewhere at once.

Two real daphne processes share Redis; Ana's socket is on the first, Bob's on the second. The
first is stopped as systemd stops it: Ana's socket gets close 4503 (not an abnormal 1006), she
resumes on the second process as the same peer, and Bob never sees her leave for good.
"""

from __future__ import annotations

import asyncio
import signal
import threading

import pytest
from websockets.exceptions import ConnectionClosed

from signaling.wire import CLOSE_SERVICE_RESTART
from tests.signaling.test_multiprocess import Client
from tests.support.servers import LiveServers

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def servers(tmp_path):
    live = LiveServers(tmp_path, count=2, redis=True).start()
    yield live
    live.stop()


async def test_sigterm_closes_sockets_with_4503_and_the_peer_resumes_on_another_worker(servers):
    sessions = servers.create_users("ana", "bob")
    slug = servers.create_room("ana", "Rolling restart")
    ana = await Client.open(servers, 0, slug, sessions["ana"])
    bob = await Client.open(servers, 1, slug, sessions["bob"])
    await ana.receive_type("peer-joined")

    # SIGTERM in a thread: the stop waits for the process to exit while Ana's socket is read.
    stopper = threading.Thread(target=servers.stop_process, args=(0, signal.SIGTERM))
    stopper.start()
    try:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ana.socket.recv(), 10)
        assert closed.value.rcvd is not None, "the server closed without a close frame"
        assert closed.value.rcvd.code == CLOSE_SERVICE_RESTART
    finally:
        await asyncio.get_running_loop().run_in_executor(None, stopper.join, 30)

    resumed = await Client.open(
        servers, 1, slug, sessions["ana"], query=f"resume={ana.welcome['self']['resume_token']}"
    )
    assert resumed.welcome["resumed"] is True
    assert resumed.peer_id == ana.peer_id
    # Bob hears Ana come back as the same peer (a resume, which keeps his connection to her).
    for _ in range(5):
        frame = await bob.receive(timeout=10)
        if frame["type"] == "peer-joined":
            break
    assert frame["peer"]["peer_id"] == ana.peer_id
    assert frame.get("resumed") is True
    await resumed.socket.close()
    await bob.socket.close()
