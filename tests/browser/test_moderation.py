"""Moderation seen from the browser: the admin's kick, and the owner's mute, kick, lock and end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import JOIN_READY_JS

pytestmark = pytest.mark.browser


def _assert_removed_from_call(member, notice: str, call_state: str) -> None:
    """The member's call is over: a plain notice with a way home, and no remote media left."""
    banner = member.page.locator(f'#notice[data-notice="{notice}"]')
    expect(banner).to_be_visible()
    assert banner.inner_text().strip(), f"the {notice} notice says nothing"
    expect(banner.locator("a[href]").first).to_be_visible()
    member.wait_call_state(call_state)
    expect(member.page.locator("[data-peer-id]")).to_have_count(0)
    assert member.page.evaluate("window.meet.peerIds()") == []


def test_admin_kick_ends_the_targets_call_with_a_notice_and_the_others_see_them_leave(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()

    admin = call.browse("admin")
    admin.page.goto(call.servers.url(f"/admin/rooms/participant/?q={bob.peer_id}"))
    row = admin.page.locator("#result_list tbody tr", has_text=bob.peer_id)
    expect(row).to_have_count(1)
    row.locator('input[name="_selected_action"]').check()
    admin.page.locator('select[name="action"]').select_option(label="Kick selected participants")
    admin.page.locator('button[name="index"]').click()
    expect(admin.page.locator(".messagelist")).to_contain_text("Kicked 1 participant")

    _assert_removed_from_call(bob, "kicked", "kicked")
    expect(ana.tile(bob.peer_id)).to_have_count(0)
    assert ana.page.evaluate("window.meet.peerIds()") == []
    expect(ana.page.locator("body")).to_have_attribute("data-call-state", "in-call")
    call.assert_clean()


def test_owner_asks_a_member_to_mute_then_kicks_them_from_the_participants_panel(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()

    # A member gets no moderation buttons at all.
    bob.action("toggle-participants").click()
    expect(bob.page.locator(f'#participants [data-participant="{ana.peer_id}"]')).to_be_visible()
    expect(bob.page.locator('[data-action="kick"], [data-action="mute"]')).to_have_count(0)

    ana.action("toggle-participants").click()
    panel = ana.page.locator("#participants")
    expect(panel.locator(f'[data-participant="{bob.peer_id}"]')).to_be_visible()
    expect(panel.locator(f'[data-participant="{ana.peer_id}"]')).to_be_visible()
    # The owner cannot kick or mute themself from the list.
    expect(panel.locator(f'[data-target-peer="{ana.peer_id}"]')).to_have_count(0)

    ana.action("mute", data_target_peer=bob.peer_id).click()
    expect(bob.action("toggle-audio")).to_have_attribute("aria-pressed", "false")
    expect(bob.page.locator("#toasts")).to_contain_text("Ana")
    expect(ana.tile(bob.peer_id)).to_have_attribute("data-audio", "off")

    ana.action("kick", data_target_peer=bob.peer_id).click()
    # Removing someone always asks first.
    dialog = ana.page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Remove Bob from the meeting?")
    dialog.locator('[data-action="confirm"]').click()

    _assert_removed_from_call(bob, "kicked", "kicked")
    expect(ana.tile(bob.peer_id)).to_have_count(0)
    expect(panel.locator(f'[data-participant="{bob.peer_id}"]')).to_have_count(0)

    # Bob opens the room again at once: he may only ask, and Ana sees who is asking.
    bob.page.goto(call.url)
    bob.page.wait_for_function(JOIN_READY_JS, polling=100)
    expect(bob.page.locator("[data-removed-notice]")).to_be_visible()
    expect(bob.action("join")).to_have_text("Ask to join")
    bob.action("join").click()
    bob.wait_call_state("lobby")
    knock = ana.page.locator("#lobby [data-lobby-peer]")
    expect(knock).to_contain_text("Bob")
    expect(knock).to_contain_text("Removed earlier")
    knock.locator('[data-action="admit"]').click()
    bob.wait_call_state("in-call")
    bob.peer_id = bob.page.evaluate("window.meet.selfPeerId")
    call.wait_all_connected()
    call.assert_clean()


def test_locking_keeps_out_a_newcomer_with_a_notice_and_unlocking_lets_them_in(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    # Cy is already looking at the preview when the room gets locked.
    cy = call.open("cy", join=False)

    ana.action("toggle-participants").click()
    ana.action("lock").click()
    expect(ana.action("lock")).to_have_attribute("aria-pressed", "true")
    # Bob hearing of it means the server has taken the lock (Ana's button changes at once).
    expect(bob.page.locator("#toasts")).to_contain_text(re.compile(r"\blocked", re.I))

    cy.page.wait_for_function(JOIN_READY_JS, polling=100)
    cy.action("join").click()
    expect(cy.page.locator('#notice[data-notice="locked"]')).to_be_visible()
    assert cy.page.locator("#notice").inner_text().strip()
    cy.wait_call_state("refused")
    assert ana.page.evaluate("window.meet.peerIds()") == [bob.peer_id]

    ana.action("lock").click()
    expect(ana.action("lock")).to_have_attribute("aria-pressed", "false")
    expect(bob.page.locator("#toasts")).to_contain_text(re.compile("unlocked", re.I))
    cy.page.goto(call.url)
    call.join(cy)
    call.wait_all_connected()
    call.assert_clean()


def test_ending_the_meeting_after_confirming_closes_it_for_everyone(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()

    ana.action("toggle-participants").click()
    ana.action("end").click()
    # Nothing ends before the confirmation.
    expect(bob.page.locator("body")).to_have_attribute("data-call-state", "in-call")
    ana.page.locator('[data-action="confirm"]').click()

    _assert_removed_from_call(bob, "room-ended", "ended")
    _assert_removed_from_call(ana, "room-ended", "ended")
    # Only the meeting ended: the room's link still opens the room for the next one.
    bob.page.goto(call.url)
    bob.wait_call_state("prejoin")
    call.assert_clean()


def test_a_member_made_moderator_in_the_settings_gets_the_controls_during_the_call(call_room):
    call = call_room("ana", room={"is_private": True})
    ana = call.members["ana"]
    invite = ana.page.evaluate("JSON.parse(document.getElementById('room-config').textContent)")
    bob = call.browse("bob")
    bob.page.goto(invite["invite_url"])
    call.join(bob)
    cy = call.browse("cy")
    cy.page.goto(invite["invite_url"])
    call.join(cy)
    call.wait_all_connected()
    bob.action("toggle-participants").click()
    cy_row = bob.page.locator(f'#participants [data-participant="{cy.peer_id}"]')
    expect(cy_row).to_be_visible()
    expect(bob.page.locator('[data-action="kick"], [data-action="mute"]')).to_have_count(0)

    # The owner opens the room's settings in another tab and promotes Bob.
    settings = ana.context.new_page()
    settings.goto(call.servers.url(f"/rooms/{call.slug}/edit/"))
    bob_entry = settings.locator("li.person", has_text="@bob")
    bob_entry.locator('button[name="action"][value="make_moderator"]').click()
    expect(settings.locator(".messages")).to_contain_text("Bob is now a moderator")

    # No reload: Bob's page has the moderation controls now, for Cy but not for the owner.
    expect(bob.page.locator("#toasts")).to_contain_text("You are now a moderator")
    expect(cy_row.locator('[data-action="mute"]')).to_be_visible()
    ana_row = bob.page.locator(f'#participants [data-participant="{ana.peer_id}"]')
    expect(ana_row.locator('[data-action="mute"], [data-action="kick"]')).to_have_count(0)
    cy_row.locator('[data-action="mute"]').click()
    expect(cy.page.locator("#toasts")).to_contain_text("Bob muted your microphone")
    # Everyone else sees Bob's new role in the list.
    ana.action("toggle-participants").click()
    bob_in_list = ana.page.locator(f'#participants [data-participant="{bob.peer_id}"]')
    expect(bob_in_list).to_contain_text("Moderator")
    settings.close()
    call.assert_clean()


def test_owner_bans_a_member_from_the_participants_panel_after_confirming_with_a_reason(
    call_room,
):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()

    # A member gets no ban button.
    bob.action("toggle-participants").click()
    expect(bob.page.locator(f'#participants [data-participant="{ana.peer_id}"]')).to_be_visible()
    expect(bob.page.locator('[data-action="ban"]')).to_have_count(0)

    ana.action("toggle-participants").click()
    panel = ana.page.locator("#participants")
    expect(panel.locator(f'[data-target-peer="{ana.peer_id}"]')).to_have_count(0)
    ana.action("ban", data_target_peer=bob.peer_id).click()

    # The project's own dialog asks, with a reason field; nothing happens before confirming.
    dialog = ana.page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-confirm-text]")).to_contain_text("Ban Bob")
    reason = dialog.locator('input[name="reason"]')
    expect(reason).to_be_visible()
    expect(bob.page.locator("body")).to_have_attribute("data-call-state", "in-call")
    reason.fill("spamming links")
    dialog.locator('[data-action="confirm"]').click()

    _assert_removed_from_call(bob, "kicked", "kicked")
    notice = bob.page.locator('#notice[data-notice="kicked"]')
    expect(notice).to_contain_text("banned")
    expect(notice).to_contain_text("spamming links")
    expect(ana.tile(bob.peer_id)).to_have_count(0)
    expect(panel.locator(f'[data-participant="{bob.peer_id}"]')).to_have_count(0)

    # Coming back is refused with the reason; the room page answers 403 and says why.
    again = bob.context.new_page()
    response = again.goto(call.url)
    assert response is not None and response.status == 403
    expect(again.locator("main")).to_contain_text("You have been banned from this room.")
    expect(again.locator("main")).to_contain_text("spamming links")
    again.close()
    assert ana.dialogs == [] and bob.dialogs == [], "confirmation must not be window.confirm"
    call.assert_clean()


def test_a_display_name_cannot_pass_for_a_role(call_room):
    # Bob names himself after the badges; roles come from the server, never from a name.
    call = call_room("ana")
    call.servers.run_python(
        "from accounts.models import User\n"
        "User.objects.filter(username='bob').update(display_name='Host')\n"
    )
    bob = call.open("bob")
    ana = call.members["ana"]
    call.wait_all_connected()

    bob.action("toggle-participants").click()
    panel = bob.page.locator("#participants")
    host_row = panel.locator(f'[data-participant="{ana.peer_id}"]')
    own_row = panel.locator(f'[data-participant="{bob.peer_id}"]')
    expect(host_row).to_have_attribute("data-role", "owner")
    expect(host_row.locator(".participant-role").first).to_have_text("Host")
    # Bob's row carries his name, "Host", but no role: a member has no label.
    expect(own_row).to_have_attribute("data-role", "member")
    expect(own_row.locator(".participant-name")).to_have_text("Host (you)")
    expect(own_row.locator(".participant-role").first).to_have_text("")
    # Seen by the real host too: Bob is a member, with no moderation rights.
    expect(ana.tile(bob.peer_id)).to_have_attribute("data-role", "member")
    expect(bob.page.locator('[data-action="kick"], [data-action="mute"]')).to_have_count(0)
    call.assert_clean()
