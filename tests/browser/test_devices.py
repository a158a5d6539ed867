"""Switching camera, microphone and speaker during the call, and remembering the choice."""

from __future__ import annotations

import asyncio

import pytest
from playwright.sync_api import expect

from tests.support import tools
from tests.support.browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    """Chromium with three fake cameras (the suite's has one), so there is one to switch to.

    The second fake camera imitates a depth camera: its frames reach a <video> but no encoder
    takes them (framesEncoded stood still after switching to it, in a plain page too), so the
    test switches from the first to the third.
    """
    args = [
        "--use-fake-device-for-media-stream=device-count=3"
        if arg == "--use-fake-device-for-media-stream"
        else arg
        for arg in CHROMIUM_ARGS
    ]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=tools.chromium_path(), headless=True, args=args
        )
        yield browser
        browser.close()
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


# Counts every negotiation of every connection from now on, and keeps the descriptions in use.
WATCH_NEGOTIATION_JS = """
() => {
  window.__e2eNegotiations = 0;
  window.__e2eDescriptions = {};
  for (const id of window.meet.peerIds()) {
    const pc = window.meet.peerConnection(id);
    pc.addEventListener('negotiationneeded', () => { window.__e2eNegotiations += 1; });
    pc.addEventListener('signalingstatechange', () => { window.__e2eNegotiations += 1; });
    window.__e2eDescriptions[id] = [pc.localDescription.sdp, pc.remoteDescription.sdp];
  }
}
"""
UNCHANGED_NEGOTIATION_JS = """
() => window.__e2eNegotiations === 0 && window.meet.peerIds().every((id) => {
  const pc = window.meet.peerConnection(id);
  const [local, remote] = window.__e2eDescriptions[id];
  return pc.localDescription.sdp === local && pc.remoteDescription.sdp === remote;
})
"""
SENT_TRACK_JS = """
([id, kind]) => {
  const sender = window.meet.peerConnection(id).getSenders()
    .find((sender) => sender.track && sender.track.kind === kind);
  return sender ? {label: sender.track.label, deviceId: sender.track.getSettings().deviceId,
                   state: sender.track.readyState} : null;
}
"""
DEVICES_JS = """
async (kind) => (await navigator.mediaDevices.enumerateDevices())
  .filter((device) => device.kind === kind && device.deviceId !== 'default')
  .map((device) => ({deviceId: device.deviceId, label: device.label}))
"""


def test_switching_the_camera_mid_call_replaces_the_track_without_renegotiating(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    bob.wait_frames_advance(ana.peer_id)
    cameras = ana.page.evaluate(DEVICES_JS, "videoinput")
    assert [camera["label"] for camera in cameras] == [f"fake_device_{n}" for n in range(3)]
    before = ana.page.evaluate(SENT_TRACK_JS, [bob.peer_id, "video"])
    assert before["label"] == "fake_device_0"
    other = cameras[2]
    ana.page.evaluate(WATCH_NEGOTIATION_JS)
    bob.page.evaluate(WATCH_NEGOTIATION_JS)

    ana.action("settings").click()
    camera_select = ana.page.locator('#settings-dialog select[name="settings-camera"]')
    expect(camera_select).to_have_value(before["deviceId"])
    camera_select.select_option(other["deviceId"])

    ana.page.wait_for_function(
        "([args, wanted]) => (" + SENT_TRACK_JS + ")(args)?.deviceId === wanted",
        arg=[[bob.peer_id, "video"], other["deviceId"]],
    )
    after = ana.page.evaluate(SENT_TRACK_JS, [bob.peer_id, "video"])
    assert after["label"] == other["label"] != before["label"]
    assert after["state"] == "live"
    # Bob keeps seeing Ana, now from the other camera, on the same connection.
    bob.wait_frames_advance(ana.peer_id, frames=15)
    assert ana.page.evaluate(UNCHANGED_NEGOTIATION_JS), "no offer or answer was needed"
    assert bob.page.evaluate(UNCHANGED_NEGOTIATION_JS), "no offer or answer was needed"
    # The self view shows the new camera too.
    assert (
        ana.page.evaluate(
            "document.querySelector('[data-self] video').srcObject.getVideoTracks()[0].label"
        )
        == other["label"]
    )
    ana.page.screenshot(path="/tmp/meet-settings-dialog.png")

    # The next pre-join in this browser starts with that camera.
    again = ana.context.new_page()
    again.goto(call.url)
    expect(again.locator('select[name="camera"]')).to_have_value(other["deviceId"])
    again.wait_for_function(
        "(label) => document.querySelector('#prejoin video')?.srcObject"
        "?.getVideoTracks()[0]?.label === label",
        arg=other["label"],
    )
    again.close()
    call.assert_clean()


def test_microphone_and_speaker_switch_mid_call_and_are_remembered(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    microphones = ana.page.evaluate(DEVICES_JS, "audioinput")
    speakers = ana.page.evaluate(DEVICES_JS, "audiooutput")
    before = ana.page.evaluate(SENT_TRACK_JS, [bob.peer_id, "audio"])
    other_mic = next(mic for mic in microphones if mic["label"] != before["label"])
    speaker = speakers[-1]
    ana.page.evaluate(WATCH_NEGOTIATION_JS)

    ana.action("settings").click()
    dialog = ana.page.locator("#settings-dialog")
    dialog.locator('select[name="settings-microphone"]').select_option(other_mic["deviceId"])
    ana.page.wait_for_function(
        "([args, wanted]) => (" + SENT_TRACK_JS + ")(args)?.deviceId === wanted",
        arg=[[bob.peer_id, "audio"], other_mic["deviceId"]],
    )
    speaker_select = dialog.locator('select[name="settings-speaker"]')
    expect(speaker_select).to_be_visible()
    speaker_select.select_option(speaker["deviceId"])
    # Bob's voice now plays on the chosen speaker.
    ana.page.wait_for_function(
        "([id, sink]) => document.querySelector(`[data-peer-id='${id}'] video`).sinkId === sink",
        arg=[bob.peer_id, speaker["deviceId"]],
    )
    assert ana.page.evaluate(UNCHANGED_NEGOTIATION_JS), "no offer or answer was needed"
    # The microphone state the others see did not change: still on, not muted by the switch.
    expect(bob.tile(ana.peer_id)).to_have_attribute("data-audio", "on")

    again = ana.context.new_page()
    again.goto(call.url)
    expect(again.locator('select[name="microphone"]')).to_have_value(other_mic["deviceId"])
    expect(again.locator('select[name="speaker"]')).to_have_value(speaker["deviceId"])
    again.close()
    call.assert_clean()
