"""SFU mode end to end: Chromium, daphne and a real Janus (VideoRoom) in a network namespace.

Janus never gathers ICE candidates on loopback, so this module makes its own namespace with a
veth pair on 10.77.0.0/24 (tests.support.janus.NetworkNamespace) and runs Janus, daphne and
Chromium inside it; the test itself reaches daphne through a thread that entered the namespace.
Nothing is added to the machine's interfaces and no packet leaves the namespace.

Pages capture at 320x180 and 15 frames a second so that five of them, each encoding one camera
and decoding four, fit the two cores of a CI machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.conftest import CONNECT_TIMEOUT_MS, Call, Member
from tests.support import tools
from tests.support.browser import CHROMIUM_ARGS, JOIN_READY_JS
from tests.support.janus import Janus, NetworkNamespace
from tests.support.servers import LiveServers

pytestmark = pytest.mark.janus

SFU_CONNECT_TIMEOUT_MS = 45_000

# Every RTCPeerConnection the page makes, kept for counting (the app keeps its own private),
# and cameras asked for at a small size, so five pages fit two cores.
PAGE_INSTRUMENTS = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Native);
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints) => {
    if (constraints && constraints.video) {
      const video = typeof constraints.video === "object" ? constraints.video : {};
      constraints = {
        ...constraints,
        video: {
          ...video, width: { ideal: 320 }, height: { ideal: 180 }, frameRate: { ideal: 15 },
        },
      };
    }
    return getUserMedia(constraints);
  };
})();
"""

CONNECTED_PCS_JS = "() => window.__pcs.filter((pc) => pc.connectionState === 'connected').length"

# Decoded frames of every remote camera <video> on the page, by peer id.
REMOTE_FRAMES_JS = """
() => {
  const out = {};
  for (const tile of document.querySelectorAll('[data-peer-id][data-view="camera"]')) {
    const video = tile.querySelector("video");
    out[tile.dataset.peerId] = video && video.videoWidth
      ? video.getVideoPlaybackQuality().totalVideoFrames : -1;
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def namespace() -> Iterator[NetworkNamespace]:
    tools.require("root (ip netns)", _is_root(), "run the browser suite as root")
    with NetworkNamespace() as created:
        yield created


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


@pytest.fixture(scope="module")
def janus(namespace, tmp_path_factory) -> Iterator[Janus]:
    with Janus(tmp_path_factory.mktemp("janus"), namespace=namespace) as server:
        yield server


@pytest.fixture(scope="module")
def module_servers(namespace, janus, tmp_path_factory) -> Iterator[LiveServers]:
    servers = LiveServers(
        workdir=tmp_path_factory.mktemp("live"),
        namespace=namespace,
        extra_env={**janus.environment(), "SFU_THRESHOLD": "3"},
    ).start()
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def module_sessions(module_servers) -> dict[str, str]:
    return module_servers.create_users("ana", "bob", "cy", "dan", "eve")


@pytest.fixture(scope="module")
def chromium(namespace, tmp_path_factory):
    """Chromium inside the namespace (Playwright drives it over a pipe from outside)."""
    launcher = namespace.chromium_launcher(tmp_path_factory.mktemp("bin"), tools.chromium_path())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(launcher), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def sfu_call(request, chromium, module_servers, module_sessions):
    """``sfu_call("ana", "bob", room={"media_mode": "sfu"})``: a Call whose members joined."""
    calls: list[Call] = []

    def make(*usernames: str, room: dict | None = None) -> Call:
        slug = module_servers.create_room(usernames[0], request.node.name[:60], **(room or {}))
        call = Call(module_servers, slug, chromium, module_sessions)
        calls.append(call)
        for username in usernames:
            open_member(call, username)
        return call

    yield make
    for call in calls:
        for member in list(call.members.values()):
            member.context.close()


def open_member(call: Call, username: str) -> Member:
    member = call.browse(
        username, init_script=PAGE_INSTRUMENTS, viewport={"width": 800, "height": 500}
    )
    member.page.goto(call.url)
    member.page.wait_for_function(JOIN_READY_JS, polling=100, timeout=CONNECT_TIMEOUT_MS)
    member.action("join").click()
    member.wait_call_state("in-call")
    member.peer_id = member.page.evaluate("window.meet.selfPeerId")
    return member


def wait_remote_videos_advance(member: Member, peer_ids: list[str], frames: int = 10) -> None:
    """Every one of ``peer_ids`` plays on ``member``'s page and decodes ``frames`` more frames."""
    start = member.page.evaluate(REMOTE_FRAMES_JS)
    member.page.wait_for_function(
        f"""([ids, start, n]) => {{
          const now = ({REMOTE_FRAMES_JS})();
          return ids.every((id) => (now[id] ?? -1) >= Math.max(start[id] ?? -1, 0) + n);
        }}""",
        arg=[peer_ids, start, frames],
        polling=200,
        timeout=SFU_CONNECT_TIMEOUT_MS,
    )


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


# Samples each remote camera's decoded frame count every 50 ms and keeps, per video, the longest
# stretch in which it did not advance; __longestFreezeMs() reads the worst of them.
FREEZE_WATCH_JS = """
() => {
  const last = new Map();
  let longest = 0;
  setInterval(() => {
    const now = performance.now();
    for (const tile of document.querySelectorAll('[data-peer-id][data-view="camera"]')) {
      const video = tile.querySelector("video");
      if (!video || !video.videoWidth) continue;
      const frames = video.getVideoPlaybackQuality().totalVideoFrames;
      const seen = last.get(tile.dataset.peerId);
      if (!seen || frames !== seen.frames) {
        last.set(tile.dataset.peerId, { frames, since: now });
      } else {
        longest = Math.max(longest, now - seen.since);
      }
    }
  }, 50);
  window.__longestFreezeMs = () => Math.round(longest);
}
"""


def sfu_room_of(call: Call) -> int:
    """The VideoRoom id of the call's SFU, as the room's row says."""
    code = f"from rooms.models import Room; print(Room.objects.get(slug={call.slug!r}).sfu_room)"
    return int(call.servers.run_python(code).strip().splitlines()[-1])


def feed_displays(janus: Janus, room: int) -> set[str]:
    """The displays of everyone joined to a VideoRoom (meet sets ``<peer_id>:<feed>``)."""
    answer = janus.videoroom({"request": "listparticipants", "room": room})
    return {participant.get("display", "") for participant in answer.get("participants", [])}


# The packets received so far of one peer's microphone, read from the receiver playing it.
AUDIO_PACKETS_JS = """
async (peerId) => {
  const video = document.querySelector(`[data-peer-id="${peerId}"][data-view="camera"] video`);
  const track = video && video.srcObject && video.srcObject.getAudioTracks()[0];
  if (!track) return -1;
  for (const pc of window.__pcs) {
    for (const receiver of pc.getReceivers()) {
      if (receiver.track !== track) continue;
      let packets = 0;
      (await receiver.getStats()).forEach((report) => {
        if (report.type === "inbound-rtp") packets = report.packetsReceived;
      });
      return packets;
    }
  }
  return -2;
}
"""

# A client that ignores a moderator's mute request (a modified page): what the SFU must stop.
IGNORE_MUTE_REQUESTS = """
(() => {
  const add = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (type, listener, options) {
    if (type !== "message") return add.call(this, type, listener, options);
    const filtered = (event) => {
      if (typeof event.data === "string" && event.data.includes('"type":"mute-request"')) return;
      listener.call(this, event);
    };
    return add.call(this, type, filtered, options);
  };
})();
"""


def audio_packets_advance(member: Member, peer_id: str, seconds: float = 1.5) -> int:
    before = member.page.evaluate(AUDIO_PACKETS_JS, peer_id)
    time.sleep(seconds)
    return member.page.evaluate(AUDIO_PACKETS_JS, peer_id) - before


def test_in_an_sfu_call_a_mute_is_enforced_kick_ends_the_feed_and_end_destroys_the_room(
    sfu_call, janus
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
    assert f"{bob.peer_id}:camera" in feed_displays(janus, room)
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
    while f"{bob.peer_id}:camera" in feed_displays(janus, room) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert f"{bob.peer_id}:camera" not in feed_displays(janus, room)

    ana.action("end").click()
    ana.page.locator('[data-action="confirm"]').click()
    cy.wait_call_state("ended")
    deadline = time.monotonic() + 10
    while janus.videoroom({"request": "exists", "room": room})["exists"]:
        assert time.monotonic() < deadline, "the call ended but its VideoRoom still exists"
        time.sleep(0.2)


def expect_pressed(member: Member, action: str, value: str) -> None:
    from playwright.sync_api import expect

    expect(member.action(action)).to_have_attribute("aria-pressed", value)


def test_in_an_sfu_call_a_shared_screen_is_a_second_feed_and_files_go_browser_to_browser(
    sfu_call, tmp_path
):
    from playwright.sync_api import expect

    from tests.browser.conftest import sha256_of

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


def test_when_janus_restarts_mid_call_video_returns_without_a_reload(sfu_call, janus):
    call = sfu_call("ana", "bob", "cy", room={"media_mode": "sfu"})
    members = list(call.members.values())
    for member in members:
        wait_remote_videos_advance(member, [m.peer_id for m in members if m is not member])
    janus.kill()
    time.sleep(1)
    janus.start()
    back = time.monotonic()
    for member in members:
        wait_remote_videos_advance(member, [m.peer_id for m in members if m is not member])
    recovered = time.monotonic() - back
    print(f"video back {recovered:.1f} s after Janus restarted")
    assert recovered <= 10
    for member in members:
        assert member.page.evaluate("document.body.dataset.callState") == "in-call"
