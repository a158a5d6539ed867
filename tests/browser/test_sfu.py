"""SFU mode end to end: Chromium, daphne and a real Janus (VideoRoom) in a network namespace.

The namespace, Chromium inside it and the page instruments are in tests/support/sfu.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CONNECT_TIMEOUT_MS, sha256_of
from tests.support.browser import JOIN_READY_JS
from tests.support.servers import LiveServers
from tests.support.sfu import (
    CONNECTED_PCS_JS,
    FREEZE_WATCH_JS,
    IGNORE_MUTE_REQUESTS,
    PAGE_INSTRUMENTS,
    SFU_CONNECT_TIMEOUT_MS,
    audio_packets_advance,
    expect_pressed,
    feed_displays,
    open_member,
    sfu_room_of,
    sfu_servers,
    wait_remote_videos_advance,
)

pytestmark = [pytest.mark.janus, pytest.mark.browser]


@pytest.fixture(scope="module")
def sfu_live(sfu_namespace, sfu_janus, tmp_path_factory) -> Iterator[LiveServers]:
    # A low threshold so that four people are enough to see the automatic switch.
    servers = sfu_servers(
        sfu_namespace, tmp_path_factory.mktemp("live"), **sfu_janus.environment(), SFU_THRESHOLD="3"
    )
    yield servers
    servers.stop()


def test_five_people_in_an_sfu_room_each_see_four_videos_over_two_connections(sfu_call):
    call = sfu_call("ana", "bob", "cy", "dan", "eve", room={"media_mode": "sfu"})
    members = list(call.members.values())
    for member in members:
        assert member.page.evaluate("document.body.dataset.mediaMode") == "sfu"
    for member in members:
        others = [other.peer_id for other in members if other is not member]
        wait_remote_videos_advance(member, others)
        for other in others:
            tile = member.tile(other)
            assert tile.get_attribute("data-connection-state") == "connected"
    for member in members:
        # One publisher (camera and microphone) and one subscriber: never one per person.
        assert member.page.evaluate(CONNECTED_PCS_JS) <= 2, member.username
    call.assert_clean()


def test_a_mesh_call_moves_to_the_sfu_when_it_grows_past_the_threshold(sfu_call):
    # SFU_THRESHOLD is 3 in this module: the fourth person moves the call.
    call = sfu_call("ana", "bob", "cy", room={"media_mode": "auto"})
    ana, bob, cy = call.members.values()
    for member in (ana, bob, cy):
        assert member.page.evaluate("document.body.dataset.mediaMode") == "mesh"
        wait_remote_videos_advance(member, [m.peer_id for m in (ana, bob, cy) if m is not member])
    # Watch every remote video on the three pages for frozen stretches while the call moves.
    for member in (ana, bob, cy):
        member.page.evaluate(FREEZE_WATCH_JS)
    dan = open_member(call, "dan")
    everyone = [ana, bob, cy, dan]
    for member in everyone:
        member.page.wait_for_selector('body[data-media-mode="sfu"]', state="attached")
    for member in everyone:
        wait_remote_videos_advance(member, [m.peer_id for m in everyone if m is not member])
    # The mesh connections close once both ends receive each other through the SFU.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        counts = {m.username: m.page.evaluate(CONNECTED_PCS_JS) for m in everyone}
        if all(count <= 2 for count in counts.values()):
            break
        time.sleep(0.5)
    assert all(count <= 2 for count in counts.values()), counts
    longest = {m.username: m.page.evaluate("window.__longestFreezeMs()") for m in (ana, bob, cy)}
    print("longest frozen remote video during the switch (ms):", json.dumps(longest))
    assert max(longest.values()) <= 1500, longest
    call.assert_clean()


def test_in_an_sfu_call_a_mute_is_enforced_kick_ends_the_feed_and_end_destroys_the_room(
    sfu_call, sfu_janus
):
    call = sfu_call("ana", "cy", room={"media_mode": "sfu"})
    ana, cy = call.members["ana"], call.members["cy"]
    bob = call.browse(
        "bob",
        init_script=PAGE_INSTRUMENTS + IGNORE_MUTE_REQUESTS,
        viewport={"width": 800, "height": 500},
    )
    bob.page.goto(call.url)
    bob.page.wait_for_function(JOIN_READY_JS, polling=100, timeout=CONNECT_TIMEOUT_MS)
    bob.action("join").click()
    bob.wait_call_state("in-call")
    bob.peer_id = bob.page.evaluate("window.meet.selfPeerId")
    for member in (ana, bob, cy):
        wait_remote_videos_advance(member, [m.peer_id for m in (ana, bob, cy) if m is not member])
    room = sfu_room_of(call)
    assert f"{bob.peer_id}:camera" in feed_displays(sfu_janus, room)
    assert audio_packets_advance(cy, bob.peer_id) > 10

    # Bob's page ignores the request and keeps its microphone on; the SFU stops forwarding it.
    ana.action("toggle-participants").click()
    ana.action("mute", data_target_peer=bob.peer_id).click()
    expect_pressed(bob, "toggle-audio", "true")
    time.sleep(0.5)
    assert audio_packets_advance(cy, bob.peer_id) == 0
    # Bob unmutes himself (off, then on again): the others hear him again.
    bob.action("toggle-audio").click()
    bob.action("toggle-audio").click()
    expect_pressed(bob, "toggle-audio", "true")
    time.sleep(0.5)
    assert audio_packets_advance(cy, bob.peer_id) > 10

    ana.action("kick", data_target_peer=bob.peer_id).click()
    ana.page.locator('#confirm-dialog [data-action="confirm"]').click()
    bob.wait_call_state("kicked")
    deadline = time.monotonic() + 10
    while f"{bob.peer_id}:camera" in feed_displays(sfu_janus, room) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert f"{bob.peer_id}:camera" not in feed_displays(sfu_janus, room)

    ana.action("end").click()
    ana.page.locator('[data-action="confirm"]').click()
    cy.wait_call_state("ended")
    deadline = time.monotonic() + 10
    while sfu_janus.videoroom({"request": "exists", "room": room})["exists"]:
        assert time.monotonic() < deadline, "the call ended but its VideoRoom still exists"
        time.sleep(0.2)


def test_in_an_sfu_call_a_shared_screen_is_a_second_feed_and_files_go_browser_to_browser(
    sfu_call, tmp_path
):
    call = sfu_call("ana", "bob", "cy", room={"media_mode": "sfu"})
    ana, bob, cy = call.members.values()
    for member in (ana, bob, cy):
        wait_remote_videos_advance(member, [m.peer_id for m in (ana, bob, cy) if m is not member])
    ana.action("toggle-screen").click()
    for member in (bob, cy):
        member.wait_frames_advance(ana.peer_id, "screen", timeout=SFU_CONNECT_TIMEOUT_MS)
    # Camera, screen and subscriber: three connections while sharing.
    assert ana.page.evaluate(CONNECTED_PCS_JS) <= 3

    path = tmp_path / "notes.bin"
    path.write_bytes(bytes(range(256)) * 4096)
    ana.send_file(path, to=bob.peer_id)
    link = bob.page.locator("a[download][data-file-sha256]")
    expect(link).to_have_count(1, timeout=30_000)
    expect(link).to_have_attribute("data-file-sha256", sha256_of(path))

    ana.action("toggle-screen").click()
    expect(bob.tile(ana.peer_id, "screen")).to_have_count(0, timeout=15_000)
    call.assert_clean()


def test_when_janus_restarts_mid_call_video_returns_without_a_reload(sfu_call, sfu_janus):
    call = sfu_call("ana", "bob", "cy", room={"media_mode": "sfu"})
    members = list(call.members.values())
    for member in members:
        wait_remote_videos_advance(member, [m.peer_id for m in members if m is not member])
    sfu_janus.kill()
    time.sleep(1)
    sfu_janus.start()
    back = time.monotonic()
    for member in members:
        wait_remote_videos_advance(member, [m.peer_id for m in members if m is not member])
    recovered = time.monotonic() - back
    print(f"video back {recovered:.1f} s after Janus restarted")
    assert recovered <= 10
    for member in members:
        assert member.page.evaluate("document.body.dataset.callState") == "in-call"


def test_people_who_join_while_janus_is_down_wait_in_the_call_and_get_video_when_it_is_back(
    sfu_call, sfu_janus
):
    sfu_janus.kill()
    try:
        call = sfu_call("ana", "bob", room={"media_mode": "sfu"})
        ana, bob = call.members["ana"], call.members["bob"]
        time.sleep(3)
        # Still in the call on the same socket: no error loop, no reload.
        for member in (ana, bob):
            assert member.page.evaluate("document.body.dataset.callState") == "in-call"
            assert member.page.evaluate("window.meet.signalingState()") == "open"
    finally:
        sfu_janus.start()
    back = time.monotonic()
    wait_remote_videos_advance(ana, [bob.peer_id])
    wait_remote_videos_advance(bob, [ana.peer_id])
    assert time.monotonic() - back <= 10


def test_a_dropped_signaling_socket_resumes_and_the_media_never_stops(sfu_call):
    call = sfu_call("ana", "bob", room={"media_mode": "sfu"})
    ana, bob = call.members["ana"], call.members["bob"]
    wait_remote_videos_advance(ana, [bob.peer_id])
    wait_remote_videos_advance(bob, [ana.peer_id])
    for member in (ana, bob):
        member.page.evaluate(FREEZE_WATCH_JS)
    connections = ana.page.evaluate("window.__pcs.length")
    # The network drops Ana's socket (not a close the server asked for): she resumes.
    ana.page.evaluate("window.__sockets.at(-1).close(3999)")
    ana.page.wait_for_function(
        "() => window.__sockets.length >= 2 && window.meet.signalingState() === 'open'",
        timeout=SFU_CONNECT_TIMEOUT_MS,
    )
    time.sleep(2)
    # The server kept her Janus handles for the resumed socket: the same two connections carry
    # on, none was made again, and neither side's video stopped.
    assert ana.page.evaluate("window.__pcs.length") == connections
    assert ana.page.evaluate(CONNECTED_PCS_JS) == 2
    wait_remote_videos_advance(ana, [bob.peer_id])
    wait_remote_videos_advance(bob, [ana.peer_id])
    longest = {m.username: m.page.evaluate("window.__longestFreezeMs()") for m in (ana, bob)}
    assert max(longest.values()) < 500, longest
    call.assert_clean()
