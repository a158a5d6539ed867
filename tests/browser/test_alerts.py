"""Call alerts: sounds, chat preview, tab title, the muted hint, the microphone's processing.

Sounds are counted where they are made: an init script records the frequency of every
``OscillatorNode`` the page starts (the alerts are generated with WebAudio, no audio files).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Records every oscillator the page starts, by frequency: join = 659+880, chat = 988, hand = 784×2.
NOTES_JS = """
window.__notes = [];
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__notes.push(Math.round(this.frequency.value));
  return start.apply(this, args);
};
"""
JOIN, CHAT, HAND = [659, 880], [988], [784, 784]

SENT_MIC_JS = """(peerId) => {
  const sender = window.meet.peerConnection(peerId).getSenders()
    .find((s) => s.track && s.track.kind === "audio");
  if (!sender) return null;
  const settings = sender.track.getSettings();
  return {enabled: sender.track.enabled, noiseSuppression: settings.noiseSuppression,
          echoCancellation: settings.echoCancellation, id: sender.track.id};
}"""


def _notes(member) -> list[int]:
    return member.page.evaluate("window.__notes.slice()")


def _wait_notes(member, expected: list[int]) -> None:
    member.page.wait_for_function(
        "(n) => window.__notes.length >= n", arg=len(expected), polling=100
    )
    assert _notes(member) == expected


def test_join_chat_and_hand_alerts_sound_toast_and_count_in_the_tab_title(call_room):
    call = call_room("cy")
    ana = call.open("ana", init_script=NOTES_JS)
    base = ana.page.title()
    assert not base.startswith(("(", "✋"))

    bob = call.open("bob")
    call.wait_all_connected()
    # Three people: few enough for Meet's join sound.
    _wait_notes(ana, JOIN)

    long_text = "<b>bold?</b> " + "word " * 20
    bob.send_chat(long_text)
    preview = ana.page.locator("#toasts .toast", has_text="Bob:")
    expect(preview).to_have_text("Bob: " + long_text[:60].rstrip() + "…")
    # The message is shown as text: its markup never becomes an element.
    assert ana.page.locator("#toasts b").count() == 0
    _wait_notes(ana, JOIN + CHAT)
    expect(ana.page).to_have_title(f"(1) {base}")
    bob.page.locator('form#chat-form [name="text"]').fill("second")
    bob.page.locator('form#chat-form [name="text"]').press("Enter")
    expect(ana.page).to_have_title(f"(2) {base}")

    bob.action("raise-hand").click()
    expect(ana.page.locator("#toasts")).to_contain_text("Bob raised a hand")
    _wait_notes(ana, JOIN + CHAT + CHAT + HAND)
    expect(ana.page).to_have_title(f"✋ (2) {base}")

    ana.action("toggle-chat").click()
    expect(ana.page).to_have_title(f"✋ {base}")
    # With the chat open, a message is read at once: no sound, no toast, no count.
    bob.page.locator('form#chat-form [name="text"]').fill("while open")
    bob.page.locator('form#chat-form [name="text"]').press("Enter")
    expect(ana.page.locator("#chat-log .chat-text", has_text="while open")).to_be_visible()
    assert ana.page.locator("#toasts .toast", has_text="while open").count() == 0
    bob.action("raise-hand").click()
    expect(ana.page).to_have_title(base)
    assert _notes(ana) == JOIN + CHAT + CHAT + HAND
    call.assert_clean()


def test_alert_sounds_can_be_muted_in_the_settings_and_stay_muted(call_room):
    call = call_room("cy")
    ana = call.open("ana", init_script=NOTES_JS)
    ana.action("settings").click()
    box = ana.page.locator('#settings-dialog input[name="alert-sounds"]')
    expect(box).to_be_checked()
    box.uncheck()
    ana.page.keyboard.press("Escape")
    assert ana.page.evaluate("localStorage.getItem('meet.alertSounds')") == "false"

    bob = call.open("bob")
    call.wait_all_connected()
    bob.send_chat("quiet please")
    # The preview still shows; only the sound is off.
    expect(ana.page.locator("#toasts .toast", has_text="Bob: quiet please")).to_be_visible()
    bob.action("raise-hand").click()
    expect(ana.page.locator("#toasts")).to_contain_text("Bob raised a hand")
    assert _notes(ana) == []

    ana.page.reload()
    call.join(ana)
    ana.action("settings").click()
    expect(box).not_to_be_checked()
    call.assert_clean()


def test_speaking_while_muted_shows_the_hint_once_and_sends_nothing(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    hint = ana.page.locator("#toasts .toast", has_text="You are muted")
    # Unmuted, the fake microphone's beeps are just speech.
    ana.page.wait_for_timeout(1500)
    expect(hint).to_have_count(0)

    ana.action("toggle-audio").click()
    expect(ana.action("toggle-audio")).to_have_attribute("aria-pressed", "false")
    expect(hint).to_have_text("You are muted — press M or the microphone to speak")
    assert ana.page.evaluate(SENT_MIC_JS, bob.peer_id)["enabled"] is False
    # At most once per 30 s, though the beeps go on.
    ana.page.wait_for_timeout(3000)
    assert ana.page.locator("#toasts .toast", has_text="You are muted").count() <= 1
    assert (
        ana.page.evaluate(
            "() => [...document.querySelectorAll('#toasts .toast')]"
            ".filter((t) => t.textContent.includes('You are muted')).length"
        )
        <= 1
    )
    call.assert_clean()


def test_noise_suppression_and_echo_cancellation_toggles_reach_the_sent_track(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    before = ana.page.evaluate(SENT_MIC_JS, bob.peer_id)
    assert before["noiseSuppression"] is True and before["echoCancellation"] is True

    ana.action("settings").click()
    dialog = ana.page.locator("#settings-dialog")
    noise = dialog.locator('input[name="noise-suppression"]')
    echo = dialog.locator('input[name="echo-cancellation"]')
    expect(noise).to_be_checked()
    noise.uncheck()
    ana.page.wait_for_function(
        f"(id) => ({SENT_MIC_JS})(id)?.noiseSuppression === false", arg=bob.peer_id, polling=100
    )
    assert ana.page.evaluate(SENT_MIC_JS, bob.peer_id)["echoCancellation"] is True
    echo.uncheck()
    ana.page.wait_for_function(
        f"(id) => ({SENT_MIC_JS})(id)?.echoCancellation === false", arg=bob.peer_id, polling=100
    )
    assert ana.page.evaluate("localStorage.getItem('meet.noiseSuppression')") == "false"
    assert ana.page.evaluate("localStorage.getItem('meet.echoCancellation')") == "false"
    # Bob still hears Ana's microphone on the same connection.
    assert ana.connection_state(bob.peer_id) == "connected"

    # Remembered by this browser: the next call opens the microphone without them.
    ana.page.reload()
    call.join(ana)
    call.wait_all_connected()
    after = ana.page.evaluate(SENT_MIC_JS, bob.peer_id)
    assert after["noiseSuppression"] is False and after["echoCancellation"] is False
    ana.action("settings").click()
    expect(noise).not_to_be_checked()
    expect(echo).not_to_be_checked()
    call.assert_clean()
