"""Who is talking, in an SFU call, comes from Janus: its VideoRoom measures each publisher's
audio level (the RTP audio-level header) and meet forwards its talking events as sfu-talking.

Chromium's fake microphone here plays a steady tone from a WAV file (the default one only
beeps briefly twice a second, which Janus rightly never counts as talking)."""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.support import tools
from tests.support.browser import CHROMIUM_ARGS
from tests.support.servers import LiveServers
from tests.support.sfu import SFU_CONNECT_TIMEOUT_MS, sfu_servers, wait_remote_videos_advance

pytestmark = [pytest.mark.janus, pytest.mark.browser]


def write_tone(path: Path, seconds: float = 5.0, rate: int = 48_000) -> Path:
    """A 440 Hz tone at half of full scale: speech-loud, as Janus measures it."""
    frames = b"".join(
        struct.pack("<h", int(0.5 * 32767 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


@pytest.fixture(scope="module")
def sfu_chromium(sfu_namespace, tmp_path_factory):
    directory = tmp_path_factory.mktemp("talking")
    tone = write_tone(directory / "tone.wav")
    launcher = sfu_namespace.chromium_launcher(directory, tools.chromium_path())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(launcher),
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={tone}"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def sfu_live(sfu_namespace, sfu_janus, tmp_path_factory) -> Iterator[LiveServers]:
    servers = sfu_servers(sfu_namespace, tmp_path_factory.mktemp("live"), **sfu_janus.environment())
    yield servers
    servers.stop()


def test_janus_talking_events_reach_the_others_as_sfu_talking(sfu_call):
    call = sfu_call("ana", "bob", room={"media_mode": "sfu"})
    ana, bob = call.members["ana"], call.members["bob"]
    wait_remote_videos_advance(ana, [bob.peer_id])
    # Bob's microphone plays the tone: Ana hears from the SFU that he is talking.
    ana.page.wait_for_function(
        "(id) => window.__talking.some((m) => m.peer_id === id && m.talking === true)",
        arg=bob.peer_id,
        polling=250,
        timeout=SFU_CONNECT_TIMEOUT_MS,
    )
    # And only of others: nobody is told about their own microphone.
    assert not ana.page.evaluate(
        "(id) => window.__talking.some((m) => m.peer_id === id)", ana.peer_id
    )
    # Bob mutes: Janus hears silence and says he stopped.
    bob.action("toggle-audio").click()
    ana.page.wait_for_function(
        "(id) => window.__talking.some((m) => m.peer_id === id && m.talking === false)",
        arg=bob.peer_id,
        polling=250,
        timeout=SFU_CONNECT_TIMEOUT_MS,
    )
    call.assert_clean()
