"""The call itself: full mesh, playing video, chat, badges, screen sharing and files.

One live server serves the module; every test makes its own room and its own browser contexts.
"""

from __future__ import annotations

import os
import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CONNECT_TIMEOUT_MS, sha256_of

pytestmark = pytest.mark.browser

COMPLETE = re.compile(r"^1(\.0+)?$")
# Some bytes arrived, not all: 0 < progress < 1.
STARTED = re.compile(r"^0\.\d*[1-9]\d*$")

SCREEN_TRANSCEIVER = 2  # microphone, camera, screen, screen audio (docs/client.md)

# What the browser's own "Stop sharing" bar does (headless Chromium draws none): the capture
# track ends, which fires `ended` on it. Returns false when no screen track is being sent.
END_SCREEN_TRACK_JS = f"""
(id) => {{
  const track = window.meet.peerConnection(id).getTransceivers()[{SCREEN_TRANSCEIVER}].sender.track;
  if (!track) return false;
  track.dispatchEvent(new Event("ended"));
  return true;
}}
"""

# Records the size of every read of file data on the page (Blob.arrayBuffer, which the sender
# uses on each slice), to see how much of a file is held at once.
WATCH_FILE_READS_JS = """
() => {
  window.__e2eReads = [];
  const original = Blob.prototype.arrayBuffer;
  Blob.prototype.arrayBuffer = function () {
    window.__e2eReads.push(this.size);
    return original.call(this);
  };
}
"""

# Playing <video>s that are neither inside a remote peer's element nor the self-view.
REMOTE_VIDEOS_OUTSIDE_PEERS_JS = """
() => [...document.querySelectorAll("video")]
  .filter((v) => v.srcObject && !v.closest("[data-peer-id]") && !v.closest("[data-self]"))
  .length
"""


def test_three_users_connect_in_full_mesh_and_every_remote_video_plays(call_room):
    call = call_room("ana", "bob", "cy")
    members = list(call.members.values())

    call.wait_all_connected()

    for member in members:
        others = [other for other in members if other is not member]
        assert sorted(member.page.evaluate("window.meet.peerIds()")) == sorted(
            other.peer_id for other in others
        )
        for other in others:
            tile = member.tile(other.peer_id)
            # Frames advancing proves decoding, not just an attached track.
            member.wait_frames_advance(other.peer_id)
            expect(tile.locator(".tile-name")).to_contain_text(other.display_name)
            expect(tile).to_have_attribute("data-audio", "on")
            expect(tile).to_have_attribute("data-video", "on")
            # No TURN server here, so loopback must be a direct path once stats are known.
            expect(tile).to_have_attribute("data-path", "direct", timeout=CONNECT_TIMEOUT_MS)
        # Only remote media carries data-peer-id; the self-view is separate.
        expect(member.page.locator("[data-self]")).to_have_count(1)
        expect(member.page.locator(f'[data-peer-id="{member.peer_id}"]')).to_have_count(0)
        assert member.page.evaluate(REMOTE_VIDEOS_OUTSIDE_PEERS_JS) == 0
    call.assert_clean()


def test_chat_reaches_everyone_once_and_a_late_joiner_sees_the_history(call_room):
    call = call_room("ana", "bob", "cy")
    ana, bob, cy = call.members["ana"], call.members["bob"], call.members["cy"]

    ana.send_chat("Hello from Ana")

    for member in (ana, bob, cy):
        messages = member.page.locator("#chat-log [data-chat-id]")
        expect(messages).to_have_count(1)
        expect(messages.locator(".chat-text")).to_have_text("Hello from Ana")
    chat_id = ana.page.locator("#chat-log [data-chat-id]").get_attribute("data-chat-id")
    sent_at = ana.page.locator("#chat-log [data-chat-id] time").get_attribute("datetime")
    assert datetime.fromisoformat(sent_at.replace("Z", "+00:00"))

    # Cy's chat panel is closed, so the message counts as unread until Cy opens it.
    expect(cy.page.locator("form#chat-form")).to_be_hidden()
    expect(cy.page.locator("[data-unread]")).to_have_text("1")
    cy.action("toggle-chat").click()
    expect(cy.page.locator("form#chat-form")).to_be_visible()
    expect(cy.page.locator("[data-unread]")).to_be_hidden()

    # Cy leaves before Dan comes, which keeps the mesh (and the CI machine's load) at three.
    cy.action("leave").click()
    cy.wait_call_state("left")
    expect(ana.tile(cy.peer_id)).to_have_count(0)
    call.close("cy")

    dan = call.open("dan")
    history = dan.page.locator("#chat-log [data-chat-id]")
    expect(history).to_have_count(1)
    expect(history).to_have_attribute("data-chat-id", chat_id)
    expect(history.locator(".chat-text")).to_have_text("Hello from Ana")

    dan.send_chat("Dan here")
    for member in (ana, bob, dan):
        expect(member.page.locator("#chat-log [data-chat-id]")).to_have_count(2)
        expect(member.page.locator("#chat-log [data-chat-id] .chat-text").last).to_have_text(
            "Dan here"
        )
    call.assert_clean()


MARKUP = "<img src=x onerror=alert(1)> <b>x</b> https://example.org"


def test_chat_full_of_markup_shows_as_text_with_one_safe_link(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]

    ana.send_chat(MARKUP)

    for member in (ana, bob):
        text = member.page.locator("#chat-log [data-chat-id] .chat-text")
        expect(text).to_have_count(1)
        assert text.text_content() == MARKUP
        expect(member.page.locator("#chat-log img, #chat-log b, #chat-log script")).to_have_count(0)
        links = text.locator("a")
        expect(links).to_have_count(1)
        expect(links).to_have_text("https://example.org")
        assert links.get_attribute("href") in ("https://example.org", "https://example.org/")
        assert links.get_attribute("target") == "_blank"
        assert set(links.get_attribute("rel").split()) >= {"noopener", "noreferrer"}
        assert member.dialogs == [], f"script ran on {member.username}'s page"
    call.assert_clean()


def test_badges_on_the_remote_tile_follow_mic_camera_and_hand(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    tile = bob.tile(ana.peer_id)

    expect(ana.action("toggle-audio")).to_have_attribute("aria-pressed", "true")
    expect(ana.action("toggle-video")).to_have_attribute("aria-pressed", "true")
    expect(tile.locator('[data-badge="muted"]')).to_have_count(0)
    expect(tile.locator('[data-badge="camera-off"]')).to_have_count(0)
    # Chromium's fake microphone beeps, so Ana is heard speaking until she mutes.
    expect(tile).to_have_attribute("data-speaking", "true")

    ana.action("toggle-audio").click()
    expect(ana.action("toggle-audio")).to_have_attribute("aria-pressed", "false")
    expect(tile).to_have_attribute("data-audio", "off")
    expect(tile.locator('[data-badge="muted"]')).to_be_visible()
    expect(tile).to_have_attribute("data-speaking", "false")

    ana.action("toggle-video").click()
    expect(ana.action("toggle-video")).to_have_attribute("aria-pressed", "false")
    expect(tile).to_have_attribute("data-video", "off")
    expect(tile.locator('[data-badge="camera-off"]')).to_be_visible()

    ana.action("raise-hand").click()
    expect(ana.action("raise-hand")).to_have_attribute("aria-pressed", "true")
    expect(tile).to_have_attribute("data-hand", "up")
    expect(tile.locator('[data-badge="hand"]')).to_be_visible()

    ana.action("toggle-audio").click()
    ana.action("toggle-video").click()
    ana.action("raise-hand").click()
    expect(ana.action("toggle-audio")).to_have_attribute("aria-pressed", "true")
    expect(ana.action("toggle-video")).to_have_attribute("aria-pressed", "true")
    expect(tile).to_have_attribute("data-audio", "on")
    expect(tile).to_have_attribute("data-video", "on")
    expect(tile).to_have_attribute("data-hand", "down")
    expect(tile.locator('[data-badge="muted"]')).to_have_count(0)
    expect(tile.locator('[data-badge="camera-off"]')).to_have_count(0)
    expect(tile.locator('[data-badge="hand"]')).to_have_count(0)
    # The camera coming back on must bring real frames back, not only the badge.
    bob.wait_frames_advance(ana.peer_id)
    call.assert_clean()


def test_screen_share_shows_in_a_spotlight_and_stopping_restores_the_grid(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    bob.wait_frames_advance(ana.peer_id)
    expect(bob.page.locator("[data-layout]").first).to_have_attribute("data-layout", "grid")

    ana.action("toggle-screen").click()

    expect(ana.action("toggle-screen")).to_have_attribute("aria-pressed", "true")
    bob.wait_frames_advance(ana.peer_id, view="screen")
    indicator = bob.page.locator("[data-share-indicator]")
    expect(indicator).to_be_visible()
    expect(indicator).to_contain_text("Ana")
    expect(bob.page.locator("[data-layout]").first).to_have_attribute("data-layout", "spotlight")
    expect(bob.tile(ana.peer_id)).to_have_attribute("data-screen", "on")
    # The contract: every <video> showing remote media sits inside that peer's data-peer-id.
    assert bob.page.evaluate(REMOTE_VIDEOS_OUTSIDE_PEERS_JS) == 0

    ana.action("toggle-screen").click()

    expect_share_ended(presenter=ana, viewer=bob)
    call.assert_clean()


def test_stopping_a_share_from_the_browser_bar_restores_both_views(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    ana.action("toggle-screen").click()
    bob.wait_frames_advance(ana.peer_id, view="screen")
    expect(bob.page.locator("[data-share-indicator]")).to_be_visible()

    assert ana.page.evaluate(END_SCREEN_TRACK_JS, bob.peer_id), "no screen track was being sent"

    expect_share_ended(presenter=ana, viewer=bob)
    expect(ana.page.locator("[data-layout]").first).to_have_attribute("data-layout", "grid")
    # The capture stopped too, not only the buttons: nothing is sent in the screen's place.
    assert ana.page.evaluate(END_SCREEN_TRACK_JS, bob.peer_id) is False
    call.assert_clean()


def expect_share_ended(*, presenter, viewer) -> None:
    """The presenter's control is off and the viewer is back to the grid with live camera."""
    expect(presenter.action("toggle-screen")).to_have_attribute("aria-pressed", "false")
    expect(viewer.tile(presenter.peer_id, view="screen")).to_have_count(0)
    expect(viewer.page.locator("[data-layout]").first).to_have_attribute("data-layout", "grid")
    expect(viewer.page.locator("[data-share-indicator]")).to_be_hidden()
    expect(viewer.tile(presenter.peer_id)).to_have_attribute("data-screen", "off")
    viewer.wait_frames_advance(presenter.peer_id)


def test_five_megabyte_file_reaches_only_its_recipient_with_a_matching_sha256(call_room, tmp_path):
    call = call_room("ana", "bob", "cy")
    ana, bob, cy = call.members["ana"], call.members["bob"], call.members["cy"]
    call.wait_all_connected()
    path = tmp_path / "report.bin"
    path.write_bytes(os.urandom(5 * 1024 * 1024))
    expected = sha256_of(path)

    ana.send_file(path, to=bob.peer_id)

    link = bob.page.locator("a[download][data-file-sha256]")
    expect(link).to_have_count(1, timeout=30_000)
    expect(link).to_have_attribute("data-file-sha256", expected)
    with bob.page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "report.bin"
    assert sha256_of(download.path()) == expected

    outgoing = ana.page.locator('[data-transfer-id][data-direction="out"]')
    incoming = bob.page.locator('[data-transfer-id][data-direction="in"]')
    expect(outgoing).to_have_count(1)
    expect(incoming).to_have_count(1)
    expect(outgoing).to_have_attribute("data-progress", COMPLETE)
    expect(incoming).to_have_attribute("data-progress", COMPLETE)
    # Cy was not the recipient: nothing may arrive, not even a transfer row.
    expect(cy.page.locator("[data-transfer-id]")).to_have_count(0)
    expect(cy.page.locator("a[download]")).to_have_count(0)
    call.assert_clean()


def test_a_file_to_everyone_is_read_slice_by_slice_not_whole_per_recipient(call_room, tmp_path):
    call = call_room("ana", "bob", "cy")
    ana, bob, cy = call.members["ana"], call.members["bob"], call.members["cy"]
    call.wait_all_connected()
    size = 12 * 1024 * 1024
    path = tmp_path / "slides.bin"
    path.write_bytes(os.urandom(size))
    expected = sha256_of(path)
    ana.page.evaluate(WATCH_FILE_READS_JS)

    ana.send_file(path)

    for member in (bob, cy):
        link = member.page.locator("a[download][data-file-sha256]")
        expect(link).to_have_count(1, timeout=60_000)
        expect(link).to_have_attribute("data-file-sha256", expected)
    reads = ana.page.evaluate("() => window.__e2eReads")
    # Hashed once and sent to two people: every byte is read three times in all, a megabyte at
    # most at a time, so the sender never holds the file, let alone one copy per recipient.
    assert sum(reads) == 3 * size, reads
    assert max(reads) <= 1024 * 1024, max(reads)
    call.assert_clean()


def test_cancelled_transfer_stops_on_both_ends_and_the_next_file_still_arrives(call_room, tmp_path):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(40 * 1024 * 1024))
    small = tmp_path / "small.bin"
    small.write_bytes(os.urandom(64 * 1024))

    ana.send_file(big, to=bob.peer_id)
    outgoing = ana.page.locator('[data-transfer-id][data-direction="out"]')
    incoming = bob.page.locator('[data-transfer-id][data-direction="in"]')
    expect(incoming).to_have_count(1)
    expect(incoming).to_have_attribute("data-progress", STARTED)
    big_out = f'[data-transfer-id="{outgoing.get_attribute("data-transfer-id")}"]'
    big_in = f'[data-transfer-id="{incoming.get_attribute("data-transfer-id")}"]'
    outgoing.locator('[data-action="cancel-transfer"]').click()

    # Everyone, this time: the channel still works after a cancel, and only this file arrives.
    ana.send_file(small)
    link = bob.page.locator("a[download][data-file-sha256]")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("data-file-sha256", sha256_of(small))
    expect(link).to_have_attribute("download", "small.bin")
    # The cancelled file stopped short on both ends and never became a download.
    assert float(bob.page.locator(big_in).get_attribute("data-progress")) < 1
    assert float(ana.page.locator(big_out).get_attribute("data-progress")) < 1
    expect(bob.page.locator("a[download]")).to_have_count(1)
    call.assert_clean()
