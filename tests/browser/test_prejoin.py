"""The pre-join preview when the camera and microphone cannot be had: say so, join receive-only."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# The fake-UI launch flag grants every context the fake devices, so a refusal (or a machine
# with no devices) is made per context by making getUserMedia fail the way Chromium does.
REFUSE_MEDIA = """
(() => {
  if (!navigator.mediaDevices) return;
  navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException("%(message)s", "%(name)s"));
})();
"""


@pytest.mark.parametrize(
    ("error_name", "message"),
    [
        ("NotAllowedError", "Permission denied"),
        ("NotFoundError", "Requested device not found"),
    ],
    ids=["permission-denied", "no-device"],
)
def test_without_camera_and_mic_the_preview_says_so_and_joins_receive_only(
    call_room, error_name, message
):
    call = call_room("ana")
    ana = call.members["ana"]

    bob = call.open(
        "bob", join=False, init_script=REFUSE_MEDIA % {"name": error_name, "message": message}
    )

    notice = bob.page.locator("[data-prejoin-notice]")
    expect(notice).to_be_visible()
    assert notice.inner_text().strip(), "the pre-join notice is empty"
    expect(bob.action("join")).to_be_enabled()

    call.join(bob)
    call.wait_all_connected()

    # Bob sends nothing, yet receives Ana's media; Ana sees Bob as muted with the camera off.
    bob.wait_frames_advance(ana.peer_id)
    expect(bob.action("toggle-audio")).to_have_attribute("aria-pressed", "false")
    expect(bob.action("toggle-video")).to_have_attribute("aria-pressed", "false")
    tile = ana.tile(bob.peer_id)
    expect(tile).to_have_attribute("data-connection-state", "connected")
    expect(tile).to_have_attribute("data-audio", "off")
    expect(tile).to_have_attribute("data-video", "off")
    expect(tile.locator('[data-badge="muted"]')).to_be_visible()
    expect(tile.locator('[data-badge="camera-off"]')).to_be_visible()
    call.assert_clean()
