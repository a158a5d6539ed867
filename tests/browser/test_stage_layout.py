"""The stage during a call: pin, the layout menu, full screen, the self view, quality numbers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Where each visible view of the stage sits, by its key (self, camera:<id>, screen:<id>).
BOXES_JS = """
() => Object.fromEntries([...document.querySelectorAll('#stage [data-view-key]')]
  .filter((view) => !view.hidden)
  .map((view) => {
    const box = view.getBoundingClientRect();
    return [view.dataset.viewKey, {x: box.x, y: box.y, width: box.width, height: box.height,
      featured: Boolean(view.closest('#spotlight'))}];
  }))
"""


def _boxes(member) -> dict:
    return member.page.evaluate(BOXES_JS)


def _choose_layout(member, choice: str) -> None:
    member.action("change-layout").click()
    dialog = member.page.locator("#layout-dialog")
    dialog.locator(f'input[name="layout"][value="{choice}"]').check()
    dialog.locator('[data-action="cancel"]').click()
    expect(dialog).to_be_hidden()


def test_pinning_a_tile_makes_it_big_with_the_others_in_a_strip_and_unpinning_restores_the_grid(
    call_room,
):
    call = call_room("ana", "bob", "cy")
    ana, bob, cy = (call.members[name] for name in ("ana", "bob", "cy"))
    call.wait_all_connected()
    stage = ana.page.locator("#stage")
    expect(stage).to_have_attribute("data-layout", "grid")
    tile = ana.tile(bob.peer_id)

    tile.hover()
    tile.locator('[data-action="pin"]').click()

    expect(stage).to_have_attribute("data-layout", "spotlight")
    expect(tile).to_have_attribute("data-pinned", "true")
    expect(tile.locator('[data-action="pin"]')).to_have_attribute("aria-pressed", "true")
    expect(ana.page.locator(f'#spotlight [data-peer-id="{bob.peer_id}"]')).to_have_count(1)
    boxes = _boxes(ana)
    pinned, others = boxes[f"camera:{bob.peer_id}"], [boxes["self"], boxes[f"camera:{cy.peer_id}"]]
    assert pinned["featured"] and not any(other["featured"] for other in others)
    for other in others:
        assert pinned["width"] * pinned["height"] > 4 * other["width"] * other["height"], boxes
    # The pinned tile still shows Bob, the strip still shows Cy: moving a tile keeps its video.
    ana.wait_frames_advance(bob.peer_id)
    ana.wait_frames_advance(cy.peer_id)
    ana.page.screenshot(path="/tmp/meet-layout-pinned.png")

    tile.locator('[data-action="pin"]').click()

    expect(stage).to_have_attribute("data-layout", "grid")
    expect(tile).to_have_attribute("data-pinned", "false")
    expect(ana.page.locator("#spotlight")).to_be_hidden()
    boxes = _boxes(ana)
    widths = {round(box["width"]) for box in boxes.values()}
    assert len(widths) == 1, f"the grid gives everyone the same size again: {boxes}"
    call.assert_clean()


def test_each_layout_of_the_menu_shows_on_the_stage_and_is_remembered_by_the_browser(call_room):
    call = call_room("ana", "bob", "cy")
    ana, bob, cy = (call.members[name] for name in ("ana", "bob", "cy"))
    call.wait_all_connected()
    stage = ana.page.locator("#stage")

    _choose_layout(ana, "speaker")
    expect(stage).to_have_attribute("data-layout", "speaker")
    boxes = _boxes(ana)
    featured = [box for box in boxes.values() if box["featured"]]
    strip = [box for box in boxes.values() if not box["featured"]]
    assert len(featured) == 1 and len(strip) == 2, boxes
    for box in strip:
        assert box["y"] >= featured[0]["y"] + featured[0]["height"], (
            f"speaker strip is below: {boxes}"
        )
        assert box["width"] * 4 < featured[0]["width"], boxes
    ana.page.screenshot(path="/tmp/meet-layout-speaker.png")

    _choose_layout(ana, "sidebar")
    expect(stage).to_have_attribute("data-layout", "sidebar")
    boxes = _boxes(ana)
    featured = [box for box in boxes.values() if box["featured"]]
    strip = [box for box in boxes.values() if not box["featured"]]
    assert len(featured) == 1 and len(strip) == 2, boxes
    for box in strip:
        assert box["x"] >= featured[0]["x"] + featured[0]["width"], f"sidebar is beside: {boxes}"
    ana.page.screenshot(path="/tmp/meet-layout-sidebar.png")

    # Tiled keeps a presentation in the grid, the same size as the cameras.
    _choose_layout(ana, "grid")
    bob.action("toggle-screen").click()
    ana.wait_frames_advance(bob.peer_id, view="screen")
    expect(stage).to_have_attribute("data-layout", "grid")
    boxes = _boxes(ana)
    assert f"screen:{bob.peer_id}" in boxes and not any(box["featured"] for box in boxes.values())
    assert len({round(box["width"]) for box in boxes.values()}) == 1, boxes
    ana.page.screenshot(path="/tmp/meet-layout-grid.png")

    _choose_layout(ana, "auto")
    expect(stage).to_have_attribute("data-layout", "spotlight")
    assert _boxes(ana)[f"screen:{bob.peer_id}"]["featured"]
    ana.page.screenshot(path="/tmp/meet-layout-auto-presenting.png")
    bob.action("toggle-screen").click()
    expect(stage).to_have_attribute("data-layout", "grid")

    # The next call in this browser starts with the last choice.
    _choose_layout(ana, "sidebar")
    ana.action("leave").click()
    ana.wait_call_state("left")
    ana.page.goto(call.url)
    call.join(ana)
    expect(ana.page.locator("#stage")).to_have_attribute("data-layout", "sidebar")
    ana.action("change-layout").click()
    expect(ana.page.locator('#layout-dialog input[value="sidebar"]')).to_be_checked()
    del cy
    call.assert_clean()


def test_full_screen_shows_one_tile_or_a_shared_screen_and_leaves_again(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    tile = ana.tile(bob.peer_id)
    full_screen_peer = "document.fullscreenElement?.dataset.peerId ?? null"

    tile.hover()
    tile.locator('[data-action="fullscreen"]').click()

    ana.page.wait_for_function(f"{full_screen_peer} === {bob.peer_id!r}")
    assert ana.page.evaluate("document.fullscreenElement.dataset.view") == "camera"
    expect(tile.locator('[data-action="fullscreen"]')).to_have_attribute("aria-pressed", "true")
    ana.wait_frames_advance(bob.peer_id)

    tile.locator('[data-action="fullscreen"]').click()
    ana.page.wait_for_function("document.fullscreenElement === null")
    expect(tile.locator('[data-action="fullscreen"]')).to_have_attribute("aria-pressed", "false")

    bob.action("toggle-screen").click()
    ana.wait_frames_advance(bob.peer_id, view="screen")
    screen = ana.tile(bob.peer_id, view="screen")
    screen.hover()
    screen.locator('[data-action="fullscreen"]').click()
    ana.page.wait_for_function("document.fullscreenElement?.dataset.view === 'screen'")
    ana.wait_frames_advance(bob.peer_id, view="screen")
    call.assert_clean()


SELF_TRANSFORM_JS = "getComputedStyle(document.querySelector('[data-self] video')).transform"
REMOTE_TRANSFORM_JS = (
    "(id) => getComputedStyle(document.querySelector(`[data-peer-id='${id}'] video`)).transform"
)
# The camera track Ana sends is the very track of her self view: no copy, no canvas, no flip.
SENT_IS_CAMERA_JS = """
(id) => {
  const selfTrack = document.querySelector('[data-self] video').srcObject.getVideoTracks()[0];
  const sent = window.meet.peerConnection(id).getSenders()
    .filter((sender) => sender.track && sender.track.kind === 'video');
  return sent.length === 1 && sent[0].track.id === selfTrack.id;
}
"""


def test_self_view_can_be_hidden_and_only_the_self_view_is_mirrored(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    self_tile = ana.page.locator("[data-self]")

    # Mirrored by default, on Ana's screen only; Bob's copy of Ana is not flipped.
    assert ana.page.evaluate(SELF_TRANSFORM_JS) == "matrix(-1, 0, 0, 1, 0, 0)"
    assert bob.page.evaluate(REMOTE_TRANSFORM_JS, ana.peer_id) == "none"
    assert ana.page.evaluate(SENT_IS_CAMERA_JS, bob.peer_id)

    ana.action("settings").click()
    ana.page.locator('#settings-dialog input[name="mirror"]').uncheck()
    assert ana.page.evaluate(SELF_TRANSFORM_JS) == "none"
    ana.page.locator('#settings-dialog input[name="mirror"]').check()
    assert ana.page.evaluate(SELF_TRANSFORM_JS) == "matrix(-1, 0, 0, 1, 0, 0)"
    ana.page.locator('#settings-dialog [data-action="cancel"]').click()

    expect(ana.page.locator("#tiles")).to_have_attribute("data-count", "2")
    self_tile.hover()
    self_tile.locator('[data-action="hide-self"]').click()

    expect(self_tile).to_be_hidden()
    expect(ana.page.locator("#tiles")).to_have_attribute("data-count", "1")
    # Hiding is for Ana's eyes only: Bob still gets her camera.
    bob.wait_frames_advance(ana.peer_id)
    expect(bob.tile(ana.peer_id)).to_have_attribute("data-video", "on")

    ana.action("settings").click()
    self_view = ana.page.locator('#settings-dialog input[name="self-view"]')
    expect(self_view).not_to_be_checked()
    self_view.check()
    expect(self_tile).to_be_visible()
    expect(ana.page.locator("#tiles")).to_have_attribute("data-count", "2")
    call.assert_clean()


def test_connection_quality_is_a_dot_whose_numbers_show_on_hover_or_focus(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    quality = ana.tile(bob.peer_id).locator(".tile-quality")
    numbers = quality.locator(".tile-quality-details")
    expect(quality).to_be_visible(timeout=15_000)
    expect(numbers).to_contain_text("ms")
    expect(numbers).to_be_hidden()
    # Screen readers get the numbers from the label, whatever is drawn.
    expect(quality).to_have_attribute("aria-label", re.compile(r"^Connection \w+: Direct, \d+ ms"))

    quality.hover()
    expect(numbers).to_be_visible()
    ana.page.mouse.move(5, 5)
    expect(numbers).to_be_hidden()

    quality.focus()
    ana.page.keyboard.press("Shift+Tab")
    ana.page.keyboard.press("Tab")
    expect(quality).to_be_focused()
    expect(numbers).to_be_visible()
    ana.page.locator("body").click(position={"x": 5, "y": 5})
    expect(numbers).to_be_hidden()
    call.assert_clean()
