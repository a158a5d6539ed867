"""Guests and the lobby in real Chromium (issue #12): a guest with only the invite link joins,
knockers wait on the pre-join page until a host admits or denies them, and a rotated link
refuses a guest."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import CONNECT_TIMEOUT_MS
from tests.support.browser import JOIN_READY_JS


def _set_room(call, **fields) -> None:
    """Change the room's stored settings as its owner's settings page would."""
    call.servers.run_python(
        "import json\n"
        "from rooms.models import Room\n"
        f"Room.objects.filter(slug={call.slug!r}).update(**json.loads({json.dumps(fields)!r}))\n"
    )


def _invite_url(call) -> str:
    token = call.servers.run_python(
        f"from rooms.models import Room\nprint(Room.objects.get(slug={call.slug!r}).invite_token)\n"
    )
    return f"{call.url}?invite={token.strip().splitlines()[-1]}"


def _guest_joins(call, label: str, name: str, url: str, *, until: str = "in-call"):
    """An anonymous visitor opens ``url``, gives ``name`` and clicks Join."""
    guest = call.browse(label, anonymous=True)
    guest.page.goto(url)
    guest.page.wait_for_selector('body[data-call-state="prejoin"]', state="attached")
    guest.page.wait_for_function(JOIN_READY_JS, polling=100)
    guest.page.locator('input[name="display_name"]').fill(name)
    guest.action("join").click()
    guest.wait_call_state(until)
    if until == "in-call":
        guest.peer_id = guest.page.evaluate("window.meet.selfPeerId")
    return guest


def _knock(call, username: str):
    member = call.open(username, join=False)
    member.page.wait_for_function(JOIN_READY_JS, polling=100)
    expect(member.action("join")).to_have_text("Ask to join")
    member.action("join").click()
    member.wait_call_state("lobby")
    return member


def test_a_guest_with_only_the_invite_link_joins_and_members_see_the_guest_badge(call_room):
    call = call_room("ana")
    _set_room(call, guests_allowed=True)
    ana = call.members["ana"]
    guest = _guest_joins(call, "gil", "Gil Guest", _invite_url(call))
    call.wait_all_connected([ana, guest])

    tile = ana.tile(guest.peer_id)
    expect(tile).to_have_attribute("data-role", "guest")
    expect(tile.locator(".role-badge")).to_have_text("Guest")
    expect(tile.locator(".role-badge")).to_be_visible()
    expect(tile.locator(".tile-name")).to_have_text("Gil Guest")
    row = ana.page.locator(f'[data-participant="{guest.peer_id}"]')
    expect(row).to_have_attribute("data-role", "guest")
    # Video flows both ways through the guest's connection.
    ana.wait_frames_advance(guest.peer_id)
    guest.wait_frames_advance(ana.peer_id)
    # The guest sees itself as a guest, and the owner as the host.
    expect(guest.page.locator("[data-self]").first).to_have_attribute("data-role", "guest")
    expect(guest.tile(ana.peer_id)).to_have_attribute("data-role", "owner")
    call.assert_clean()


def test_a_guest_cannot_moderate_or_open_settings_or_create_rooms(call_room):
    call = call_room("ana")
    _set_room(call, guests_allowed=True)
    ana = call.members["ana"]
    guest = _guest_joins(call, "gil", "Gil", _invite_url(call))
    call.wait_all_connected([ana, guest])
    # No moderation controls on the guest's page at all.
    assert guest.page.locator('[data-action="kick"], [data-action="mute"]').count() == 0
    # A hand-made kick over the guest's own socket is refused with forbidden.
    answer = guest.page.evaluate(
        """([path, target]) => new Promise((resolve) => {
          const socket = new WebSocket(`ws://${location.host}${path}`);
          socket.onmessage = (event) => {
            const message = JSON.parse(event.data);
            if (message.type === "welcome") {
              socket.send(JSON.stringify({type: "kick", peer_id: target}));
            } else if (message.type === "error") {
              resolve(message.code);
              socket.close();
            }
          };
        })""",
        [f"/ws/rooms/{call.slug}/", ana.peer_id],
    )
    assert answer == "forbidden"
    expect(ana.tile(guest.peer_id)).to_be_attached()
    # Settings and room creation need an account: both send the guest to the login page.
    for path in (f"/rooms/{call.slug}/edit/", "/rooms/new/"):
        page = guest.context.new_page()
        page.goto(call.servers.url(path))
        assert "/accounts/login/" in page.url, page.url
        page.close()
    call.assert_clean()


def test_a_knocker_is_admitted_mid_call_and_another_is_denied(call_room):
    call = call_room("ana")
    _set_room(call, lobby="non_members")
    ana = call.members["ana"]

    bob = _knock(call, "bob")
    expect(bob.page.locator("[data-lobby-status]")).to_have_text(
        "Waiting for the host to let you in…"
    )
    # The preview stays while waiting.
    expect(bob.page.locator("#prejoin video")).to_be_visible()
    knock = ana.page.locator("[data-lobby-peer]", has_text="Bob")
    expect(knock).to_be_visible()
    expect(knock).to_have_attribute("data-role", "member")
    knock.locator('[data-action="admit"]').click()
    bob.wait_call_state("in-call")
    bob.peer_id = bob.page.evaluate("window.meet.selfPeerId")
    call.wait_all_connected([ana, bob])
    ana.wait_frames_advance(bob.peer_id)
    bob.wait_frames_advance(ana.peer_id)
    expect(ana.page.locator("#lobby")).to_be_hidden()

    cy = _knock(call, "cy")
    knock = ana.page.locator("[data-lobby-peer]", has_text="Cy")
    expect(knock).to_be_visible()
    # Only hosts see knocks.
    assert bob.page.locator("[data-lobby-peer]").count() == 0
    knock.locator('[data-action="deny"]').click()
    cy.wait_call_state("refused")
    expect(cy.page.locator("[data-notice]")).to_contain_text("did not let you in")
    expect(ana.page.locator("[data-lobby-peer]")).to_have_count(0)
    call.assert_clean()


def test_a_knock_with_no_host_present_waits_and_is_admitted_when_the_owner_arrives(call_room):
    call = call_room("ana", join=False)
    _set_room(call, lobby="non_members")
    call.close("ana")
    bob = _knock(call, "bob")
    expect(bob.page.locator("[data-lobby-status]")).to_contain_text(
        "Nobody who can let you in is in the call yet"
    )

    ana = call.open("ana")
    knock = ana.page.locator("[data-lobby-peer]", has_text="Bob")
    expect(knock).to_be_visible()
    expect(bob.page.locator("[data-lobby-status]")).to_have_text(
        "Waiting for the host to let you in…"
    )
    knock.locator('[data-action="admit"]').click()
    bob.wait_call_state("in-call")
    bob.peer_id = bob.page.evaluate("window.meet.selfPeerId")
    call.wait_all_connected([ana, bob])
    call.assert_clean()


def test_a_guest_with_a_rotated_link_is_refused(call_room):
    call = call_room("ana")
    _set_room(call, guests_allowed=True)
    old_link = _invite_url(call)
    guest = _guest_joins(call, "gil", "Gil", old_link)
    guest.action("leave").click()
    guest.wait_call_state("left")

    call.servers.run_python(
        "from rooms.models import Room\n"
        "from rooms.services import room_rotate_invite\n"
        f"room_rotate_invite(room=Room.objects.get(slug={call.slug!r}))\n"
    )
    # The guest who came with it, and a newcomer holding it, are both told the link is old.
    for page in (guest.page, call.browse("hal", anonymous=True).page):
        page.goto(old_link)
        expect(page.locator("main")).to_contain_text("no longer valid")
        assert page.locator('[data-action="join"]').count() == 0
    # The new link works for a newcomer.
    _guest_joins(call, "ivy", "Ivy", _invite_url(call))
    # The refusal pages are 403s, which Chromium logs; nothing else may be.
    refused = re.compile(r"Failed to load resource: .* 403 \(Forbidden\) <.*\?invite=.*>")
    call.assert_clean(allowed_console=(refused,))


def test_a_guest_knocks_when_the_lobby_is_for_guests_and_members_walk_in(call_room):
    call = call_room("ana")
    _set_room(call, guests_allowed=True, lobby="guests")
    ana = call.members["ana"]
    bob = call.open("bob")
    guest = _guest_joins(call, "gil", "Gil", _invite_url(call), until="lobby")
    knock = ana.page.locator("[data-lobby-peer]", has_text="Gil")
    expect(knock).to_have_attribute("data-role", "guest")
    expect(knock.locator(".role-badge")).to_have_text("Guest")
    knock.locator('[data-action="admit"]').click()
    guest.wait_call_state("in-call", timeout=CONNECT_TIMEOUT_MS)
    guest.peer_id = guest.page.evaluate("window.meet.selfPeerId")
    call.wait_all_connected([ana, bob, guest])
    call.assert_clean()
