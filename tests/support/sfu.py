"""Shared machinery of the SFU browser tests (tests/browser/test_sfu*.py).

Janus never gathers ICE candidates on loopback, so SFU tests make their own network namespace
with a veth pair on 10.77.0.0/24 (``tests.support.janus.NetworkNamespace``) and run Janus,
daphne, coturn and Chromium inside it; the test itself reaches daphne through a thread that
entered the namespace, and drives Chromium over Playwright's pipe. Nothing is added to the
machine's interfaces and no packet leaves the namespace.

The fixtures here (``sfu_*``, a plugin named in tests/conftest.py) serve every SFU test module,
which defines its own ``sfu_live`` (daphne with the Janus nodes and settings it needs). Pages
capture at 320x180 and 15 frames a second, so that five of them, each encoding one camera and
decoding four, fit the two cores of a CI machine.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CONNECT_TIMEOUT_MS, Call, Member
from tests.support import tools
from tests.support.browser import CHROMIUM_ARGS, FRAMES_GAINED_JS, JOIN_READY_JS
from tests.support.coturn import Coturn
from tests.support.janus import Janus, NetworkNamespace
from tests.support.servers import LiveServers

USERS = ("ana", "bob", "cy", "dan", "eve")

SFU_CONNECT_TIMEOUT_MS = 45_000

# Every RTCPeerConnection and WebSocket the page makes, kept for counting and for dropping a
# socket (the app keeps its own private), and the camera asked for at a given size (by default
# small, so five pages fit two cores).
_INSTRUMENTS = """
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
  // Every WebSocket too, so a test can drop the signaling socket as a network would.
  const NativeSocket = window.WebSocket;
  window.__sockets = [];
  // And the SFU's talking events it hears, from the first frame on.
  window.__talking = [];
  window.WebSocket = function (...args) {
    const socket = new NativeSocket(...args);
    window.__sockets.push(socket);
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string" && event.data.includes('"sfu-talking"')) {
        window.__talking.push(JSON.parse(event.data));
      }
    });
    return socket;
  };
  window.WebSocket.prototype = NativeSocket.prototype;
  Object.setPrototypeOf(window.WebSocket, NativeSocket);
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints) => {
    if (constraints && constraints.video) {
      const video = typeof constraints.video === "object" ? constraints.video : {};
      constraints = {
        ...constraints,
        video: {
          ...video, width: { ideal: WIDTH }, height: { ideal: HEIGHT }, frameRate: { ideal: 15 },
        },
      };
    }
    return getUserMedia(constraints);
  };
})();
"""


def page_instruments(camera: tuple[int, int] = (320, 180)) -> str:
    width, height = camera
    return _INSTRUMENTS.replace("WIDTH", str(width)).replace("HEIGHT", str(height))


PAGE_INSTRUMENTS = page_instruments()

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
def sfu_namespace() -> Iterator[NetworkNamespace]:
    tools.require("root (ip netns)", _is_root(), "run the browser suite as root")
    with NetworkNamespace() as created:
        yield created


def _is_root() -> bool:
    return os.geteuid() == 0


@pytest.fixture(scope="module")
def sfu_janus(sfu_namespace, tmp_path_factory) -> Iterator[Janus]:
    with Janus(tmp_path_factory.mktemp("janus"), namespace=sfu_namespace) as server:
        yield server


def sfu_servers(namespace, workdir, **env: str) -> LiveServers:
    """One daphne inside ``namespace`` with ``env`` (the Janus nodes, SFU settings...)."""
    return LiveServers(workdir=workdir, namespace=namespace, extra_env=env).start()


class NamespacedCoturn(Coturn):
    """coturn inside the namespace, listening and relaying on its veth address."""

    def __init__(self, workdir, namespace: NetworkNamespace, **options) -> None:
        super().__init__(workdir, host=namespace.address, **options)
        self.namespace = namespace

    def command(self) -> list[str]:
        return self.namespace.command(super().command())

    def wait_until_answering(self) -> None:
        self.namespace.call(super().wait_until_answering)


@pytest.fixture(scope="module")
def sfu_sessions(sfu_live) -> dict[str, str]:
    return sfu_live.create_users(*USERS)


@pytest.fixture(scope="module")
def sfu_chromium(sfu_namespace, tmp_path_factory):
    """Chromium inside the namespace (Playwright drives it over a pipe from outside)."""
    launcher = sfu_namespace.chromium_launcher(
        tmp_path_factory.mktemp("bin"), tools.chromium_path()
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(launcher), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def sfu_call(request, sfu_chromium, sfu_live, sfu_sessions):
    """``sfu_call("ana", "bob", room={"media_mode": "sfu"})``: a Call whose members joined."""
    calls: list[Call] = []

    def make(
        *usernames: str, room: dict | None = None, camera: tuple[int, int] = (320, 180)
    ) -> Call:
        slug = sfu_live.create_room(usernames[0], request.node.name[:60], **(room or {}))
        call = Call(sfu_live, slug, sfu_chromium, sfu_sessions)
        calls.append(call)
        for username in usernames:
            open_member(call, username, camera=camera)
        return call

    yield make
    for call in calls:
        for member in list(call.members.values()):
            member.context.close()


def open_member(call: Call, username: str, camera: tuple[int, int] = (320, 180)) -> Member:
    member = call.browse(
        username, init_script=page_instruments(camera), viewport={"width": 800, "height": 500}
    )
    member.page.goto(call.url)
    member.page.wait_for_function(JOIN_READY_JS, polling=100, timeout=CONNECT_TIMEOUT_MS)
    # Five pages each encoding a camera and decoding four load two cores fully: the newcomer's
    # page may take more than Playwright's usual 10 s to take a click.
    member.action("join").click(timeout=CONNECT_TIMEOUT_MS)
    member.wait_call_state("in-call")
    member.peer_id = member.page.evaluate("window.meet.selfPeerId")
    return member


def wait_remote_videos_advance(member: Member, peer_ids: list[str], frames: int = 10) -> None:
    """Every one of ``peer_ids`` plays on ``member``'s page and decodes ``frames`` more frames
    (counted across a <video> restarting its count, ``FRAMES_GAINED_JS``)."""
    start = member.page.evaluate(REMOTE_FRAMES_JS)
    token = secrets.token_hex(8)
    try:
        member.page.wait_for_function(
            f"""([ids, n, token]) => {{
              const now = ({REMOTE_FRAMES_JS})();
              // Every id is counted at every poll (no short cut), so no restart goes unseen.
              const gained = ids.map((id) => ({FRAMES_GAINED_JS})(token, id, now[id] ?? -1));
              return gained.every((count) => count >= n);
            }}""",
            arg=[peer_ids, frames, token],
            polling=200,
            timeout=SFU_CONNECT_TIMEOUT_MS,
        )
    except PlaywrightTimeoutError:
        # Say which videos stalled and what the page's connections were doing, so that a rare
        # failure on CI can be read from its log alone.
        gained = member.page.evaluate("(token) => window.__framesGained[token]", token)
        state = member.page.evaluate(CALL_STATE_JS)
        raise AssertionError(
            f"on {member.username}'s page ({member.peer_id}) the videos of {peer_ids} did not "
            f"advance {frames} frames in {SFU_CONNECT_TIMEOUT_MS} ms; frames at start {start}, "
            f"frames gained {gained}, page state {state}"
        ) from None


# What a page's call looks like from inside: its media mode, each camera tile's video and
# connection state, and every RTCPeerConnection the page made with the tracks it receives.
CALL_STATE_JS = f"""
() => {{
const describe = (track) => `${{track.kind}}:${{track.readyState}}:${{track.muted}}`;
return {{
  mediaMode: document.body.dataset.mediaMode,
  callState: document.body.dataset.callState,
  frames: ({REMOTE_FRAMES_JS})(),
  tiles: [...document.querySelectorAll('[data-peer-id][data-view]')].map((tile) => {{
    const video = tile.querySelector("video");
    const stream = video && video.srcObject;
    return {{
      peer: tile.dataset.peerId, view: tile.dataset.view,
      connection: tile.dataset.connectionState,
      tracks: stream ? stream.getTracks().map(describe) : null,
      paused: video ? video.paused : null,
    }};
  }}),
  pcs: window.__pcs.map((pc) => ({{
    connection: pc.connectionState, signaling: pc.signalingState,
    receivers: pc.getReceivers().map((receiver) => describe(receiver.track)),
  }})),
}};
}}
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


def expect_pressed(member: Member, action: str, value: str) -> None:
    expect(member.action(action)).to_have_attribute("aria-pressed", value)


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
