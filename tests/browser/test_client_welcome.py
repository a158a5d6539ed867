"""What the room page makes of `welcome`: the chat history, the protocol version, the viewer's role.

Some tests put Playwright's WebSocket routing between one page and the server to hold a
`welcome` back or rewrite a field of it, which is how a server of another version, or a role
changed between two sessions, looks to the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CONNECT_TIMEOUT_MS, make_live_servers
from tests.support.browser import JOIN_READY_JS
from tests.support.servers import LiveServers

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def module_servers(tmp_path_factory) -> Iterator[LiveServers]:
    """The suite's server, with room for the history test's burst of 55 chat messages.

    The per-socket chat rate (``CHAT_RATE_BURST`` 5, then 1 a second) would refuse most of a
    burst sent as fast as the form submits; what is tested here is the history, not the rate
    (tests/signaling/test_chat_rate.py tests that).
    """
    servers = make_live_servers(tmp_path_factory, extra_env={"CHAT_RATE_BURST": "100"})
    yield servers
    servers.stop()


SOCKET_PATH = re.compile(r"/ws/rooms/")

# The chat log's distance from the bottom, and whether it has anything to scroll at all.
LOG_SCROLL_JS = """
() => {
  const log = document.querySelector("#chat-log");
  return {
    fromBottom: log.scrollHeight - log.scrollTop - log.clientHeight,
    overflows: log.scrollHeight > log.clientHeight,
    top: log.scrollTop,
  };
}
"""

# Sends chat messages through the page's own form, as fast as the page can submit them.
SEND_MANY_JS = """
([prefix, first, last]) => {
  const form = document.querySelector("#chat-form");
  const input = form.querySelector('[name="text"]');
  for (let i = first; i <= last; i += 1) {
    input.value = `${prefix} ${i}`;
    form.requestSubmit();
  }
}
"""


class WelcomeRelay:
    """Relays one page's signaling sockets, holding back or rewriting each `welcome` on request.

    Every other frame passes untouched both ways. Set it up before the page opens the room.
    """

    def __init__(self, page) -> None:
        self.page = page
        self.hold = False
        self.rewrite: Callable[[dict], dict] | None = None
        self.held: list[tuple[object, str]] = []
        self.sockets: list[tuple[object, object]] = []
        self.welcomes = 0
        self.warnings: list[str] = []
        page.on("console", lambda msg: self._console(msg))
        page.route_web_socket(SOCKET_PATH, self._route)

    def _console(self, msg) -> None:
        if msg.type == "warning":
            self.warnings.append(msg.text)

    def _route(self, page_side) -> None:
        server_side = page_side.connect_to_server()
        self.sockets.append((page_side, server_side))

        def from_server(message) -> None:
            if isinstance(message, str) and '"welcome"' in message:
                frame = json.loads(message)
                if frame.get("type") == "welcome":
                    self.welcomes += 1
                    if self.rewrite:
                        message = json.dumps(self.rewrite(frame))
                    if self.hold:
                        self.held.append((page_side, message))
                        return
            page_side.send(message)

        server_side.on_message(from_server)

    def wait_welcomes(self, count: int) -> None:
        """Wait until the server has sent ``count`` welcomes in all (held ones included)."""
        for _ in range(CONNECT_TIMEOUT_MS // 50):
            if self.welcomes >= count:
                return
            # Playwright delivers the relay's callbacks while the page is being waited on.
            self.page.wait_for_timeout(50)
        raise AssertionError(f"only {self.welcomes} of {count} welcomes arrived")

    def release(self) -> None:
        self.hold = False
        for page_side, message in self.held:
            page_side.send(message)
        self.held.clear()

    def drop_socket(self) -> None:
        """Cut the newest socket as a network would, with a code after which the page resumes."""
        page_side, server_side = self.sockets[-1]
        server_side.close()
        page_side.close(code=4000, reason="dropped by the test")


def test_fifty_messages_of_history_show_in_order_and_the_open_log_ends_at_the_newest(call_room):
    call = call_room("ana")
    ana = call.members["ana"]
    ana.action("toggle-chat").click()
    # 55 messages: the server keeps the newest 50 for the history.
    ana.page.evaluate(SEND_MANY_JS, ["message", 1, 55])
    expect(ana.page.locator("#chat-log [data-chat-id]")).to_have_count(55)

    # The socket is opened by Join, so routing it from the preview on is early enough.
    bob = call.open("bob", join=False)
    relay = WelcomeRelay(bob.page)
    relay.hold = True
    bob.page.wait_for_function(JOIN_READY_JS, polling=100)
    bob.action("join").click()
    relay.wait_welcomes(1)
    # Bob opens the chat while the history is on its way, so it arrives into a visible log.
    bob.action("toggle-chat").click()
    expect(bob.page.locator("form#chat-form")).to_be_visible()
    relay.release()
    bob.wait_call_state("in-call")

    messages = bob.page.locator("#chat-log [data-chat-id]")
    expect(messages).to_have_count(50)
    assert messages.locator(".chat-text").all_text_contents() == [
        f"message {i}" for i in range(6, 56)
    ]
    ids = [int(value) for value in messages.evaluate_all("(n) => n.map((m) => m.dataset.chatId)")]
    assert ids == sorted(ids) and len(set(ids)) == 50
    scroll = bob.page.evaluate(LOG_SCROLL_JS)
    assert scroll["overflows"], "50 messages should not fit the chat log without scrolling"
    assert scroll["fromBottom"] <= 1, f"the history did not end scrolled to the bottom: {scroll}"
    expect(bob.page.locator("[data-unread]")).to_be_hidden()

    # A live message while Bob reads the newest ones follows the bottom…
    ana.send_chat("live at the bottom")
    expect(messages.last.locator(".chat-text")).to_have_text("live at the bottom")
    bob.page.wait_for_function(f"() => ({LOG_SCROLL_JS})().fromBottom <= 1")
    # …while Bob reading old messages keeps his place.
    bob.page.evaluate("document.querySelector('#chat-log').scrollTop = 0")
    ana.send_chat("live while reading history")
    expect(messages).to_have_count(52)
    assert bob.page.evaluate(LOG_SCROLL_JS)["top"] == 0
    # With the panel closed a live message counts as unread.
    bob.action("toggle-chat").click()
    ana.send_chat("live while closed")
    expect(bob.page.locator("[data-unread]")).to_have_text("1")
    call.assert_clean()


def test_a_server_of_another_major_protocol_version_ends_the_call_asking_for_a_reload(call_room):
    call = call_room("ana", join=False)
    ana = call.members["ana"]
    relay = WelcomeRelay(ana.page)
    relay.rewrite = lambda frame: {**frame, "protocol": 2}

    ana.page.wait_for_function(JOIN_READY_JS, polling=100)
    ana.action("join").click()

    notice = ana.page.locator('#notice[data-notice="outdated"]')
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(re.compile(r"reload", re.I))
    reload_link = notice.locator("a", has_text=re.compile("reload", re.I))
    expect(reload_link).to_have_attribute("href", re.compile(rf"/rooms/{call.slug}/$"))
    ana.wait_call_state("refused")
    expect(ana.page.locator("body")).to_have_attribute("data-signaling", "closed")
    assert any("protocol 2" in line for line in relay.warnings), relay.warnings
    call.assert_clean()


def test_a_server_at_a_later_revision_of_the_same_protocol_keeps_the_call_and_says_reload(
    call_room,
):
    call = call_room("bob")
    bob = call.members["bob"]
    ana = call.open("ana", join=False)
    relay = WelcomeRelay(ana.page)
    relay.rewrite = lambda frame: {**frame, "protocol": 1.1}
    call.join(ana)

    reload_notice = ana.page.locator("#toasts .toast", has_text=re.compile(r"reload", re.I))
    expect(reload_notice).to_have_count(1)
    expect(reload_notice.locator("a", has_text="Reload")).to_have_attribute(
        "href", re.compile(rf"/rooms/{call.slug}/$")
    )
    assert any("protocol 1.1" in line for line in relay.warnings), relay.warnings
    call.wait_all_connected()
    ana.wait_frames_advance(bob.peer_id)
    ana.send_chat("still talking")
    expect(bob.page.locator("#chat-log .chat-text")).to_have_text("still talking")
    expect(ana.page.locator("body")).to_have_attribute("data-call-state", "in-call")
    # Unlike passing toasts it stays until dismissed.
    expect(reload_notice).to_be_visible()
    reload_notice.get_by_role("button", name="Dismiss").click()
    expect(reload_notice).to_have_count(0)
    call.assert_clean()


def test_moderation_buttons_follow_the_role_a_resumed_welcome_brings(call_room):
    call = call_room("ana", "cy")
    ana, cy = call.members["ana"], call.members["cy"]
    bob = call.open("bob", join=False)
    relay = WelcomeRelay(bob.page)
    call.join(bob)
    call.wait_all_connected()
    bob.action("toggle-participants").click()
    panel = bob.page.locator("#participants")
    expect(panel.locator(f'[data-participant="{cy.peer_id}"]')).to_be_visible()
    expect(panel.locator('[data-action="kick"], [data-action="mute"]')).to_have_count(0)
    expect(bob.action("lock")).to_be_hidden()

    # The owner names Bob a moderator between two of his sessions; the server decides a role at
    # each admission, so he learns it from the welcome of his resumed session.
    relay.rewrite = lambda frame: {**frame, "self": {**frame["self"], "role": "moderator"}}
    relay.drop_socket()
    relay.wait_welcomes(2)
    bob.wait_signaling("open")
    assert bob.page.evaluate("window.meet.selfPeerId") == bob.peer_id

    # Rows made while Bob was a member now carry the buttons; only an owner moderates an owner.
    expect(bob.action("mute", data_target_peer=cy.peer_id)).to_be_visible()
    expect(bob.action("kick", data_target_peer=cy.peer_id)).to_be_visible()
    expect(panel.locator(f'[data-target-peer="{ana.peer_id}"]')).to_have_count(0)
    expect(panel.locator(f'[data-target-peer="{bob.peer_id}"]')).to_have_count(0)
    expect(bob.action("lock")).to_be_visible()
    expect(bob.action("end")).to_be_visible()

    # Back to member on the next session: the buttons leave the page again.
    relay.rewrite = None
    relay.drop_socket()
    relay.wait_welcomes(3)
    bob.wait_signaling("open")
    expect(panel.locator('[data-action="kick"], [data-action="mute"]')).to_have_count(0)
    expect(bob.action("lock")).to_be_hidden()
    call.wait_all_connected()
    expect(bob.page.locator("body")).to_have_attribute("data-call-state", "in-call")
    call.assert_clean()
