"""Two Janus nodes: each call is pinned to the least loaded one, and a dead node takes no new
calls (Janus, daphne and Chromium inside the test's network namespace; tests/support/sfu.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.janus import Janus
from tests.support.servers import LiveServers
from tests.support.sfu import sfu_servers, wait_remote_videos_advance

pytestmark = [pytest.mark.janus, pytest.mark.browser]


@pytest.fixture(scope="module")
def second_janus(sfu_namespace, sfu_janus, tmp_path_factory) -> Iterator[Janus]:
    with Janus(
        tmp_path_factory.mktemp("janus-b"),
        namespace=sfu_namespace,
        api_secret=sfu_janus.api_secret,
        admin_key=sfu_janus.admin_key,
        rtp_port_range="40200-40399",
    ) as server:
        yield server


@pytest.fixture(scope="module")
def sfu_live(sfu_namespace, sfu_janus, second_janus, tmp_path_factory) -> Iterator[LiveServers]:
    servers = sfu_servers(
        sfu_namespace,
        tmp_path_factory.mktemp("live"),
        **{**sfu_janus.environment(), "JANUS_URLS": f"{sfu_janus.url},{second_janus.url}"},
    )
    yield servers
    servers.stop()


def node_of(call) -> str:
    code = f"from rooms.models import Room; print(Room.objects.get(slug={call.slug!r}).sfu_node)"
    return call.servers.run_python(code).strip().splitlines()[-1]


def assert_videos_flow(call) -> None:
    members = list(call.members.values())
    for member in members:
        wait_remote_videos_advance(member, [m.peer_id for m in members if m is not member])


def test_calls_spread_over_two_nodes_and_a_dead_node_takes_no_new_call(
    sfu_call, sfu_janus, second_janus
):
    first = sfu_call("ana", "bob", room={"media_mode": "sfu"})
    assert node_of(first) == sfu_janus.url
    second = sfu_call("cy", "dan", room={"media_mode": "sfu"})
    # The first node has a call, the second none: the new call goes to the second.
    assert node_of(second) == second_janus.url
    assert_videos_flow(first)
    assert_videos_flow(second)

    sfu_janus.kill()
    # Both nodes now carry one call; the first is dead, so the next call goes to the second.
    third = sfu_call("eve", "ana", room={"media_mode": "sfu"})
    assert node_of(third) == second_janus.url
    assert_videos_flow(third)
    assert_videos_flow(second)

    # The first call stays pinned to its node and comes back when the node does.
    sfu_janus.start()
    assert node_of(first) == sfu_janus.url
    assert_videos_flow(first)
