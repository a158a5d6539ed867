"""The moderation log: each moderation service, called as its callers call it, leaves one
``AuditEntry`` saying who did what to whom in which room (and nothing when nothing changed)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from rooms import moderation, services
from rooms.audit import audit_record
from rooms.models import AuditEntry, LobbyPolicy, RoomBan, RoomMembership

pytestmark = pytest.mark.django_db

Action = AuditEntry.Action


@pytest.fixture
def ana(make_user):
    return make_user("ana", display_name="Ana Lima")


@pytest.fixture
def bob(make_user):
    # No display name: the log falls back to the username.
    return make_user("bob", display_name="")


@pytest.fixture
def room(make_room, ana):
    return make_room("Board", owner=ana)


def entries(room) -> list[tuple]:
    """The room's log, newest first, as (action, actor, actor name, target, target name, detail)."""
    return [
        (entry.action, entry.actor, entry.actor_name, entry.target, entry.target_name, entry.detail)
        for entry in AuditEntry.objects.filter(room=room)
    ]


# --- In-call moderation -----------------------------------------------------------------------


def test_kick_records_who_removed_whom_and_why(room, ana, bob, connect_participant):
    participant, _socket = connect_participant(room, bob)
    moderation.participant_kick(participant=participant, by=ana, reason="  Too loud ")
    assert entries(room) == [(Action.KICK, ana, "Ana Lima", bob, "bob", "Too loud")]


def test_a_ban_of_someone_in_the_call_records_the_ban_once_and_no_kick(
    room, ana, bob, connect_participant
):
    connect_participant(room, bob)
    moderation.room_ban_user(room=room, user=bob, by=ana, reason="Spam")
    assert entries(room) == [(Action.BAN, ana, "Ana Lima", bob, "bob", "Spam")]


def test_mute_request_records_who_asked_whom(room, ana, bob, connect_participant):
    participant, _socket = connect_participant(room, bob)
    moderation.participant_ask_mute(participant=participant, by=ana)
    assert entries(room) == [(Action.MUTE, ana, "Ana Lima", bob, "bob", "")]


def test_ban_records_the_reason_as_detail(room, ana, bob):
    moderation.room_ban_user(room=room, user=bob, by=ana, reason=" Rude to everyone ")
    assert entries(room) == [(Action.BAN, ana, "Ana Lima", bob, "bob", "Rude to everyone")]


def test_unban_records_who_lifted_it_and_lifting_no_ban_records_nothing(room, ana, bob):
    RoomBan.objects.create(room=room, user=bob, banned_by=ana)
    assert services.room_unban_user(room=room, user=bob, by=ana)
    assert entries(room) == [(Action.UNBAN, ana, "Ana Lima", bob, "bob", "")]
    assert not services.room_unban_user(room=room, user=bob, by=ana)
    assert len(entries(room)) == 1


def test_lock_and_unlock_are_recorded_but_locking_a_locked_room_is_not(room, ana, listener):
    listener().join(room)
    moderation.room_lock(room=room, by=ana, locked=True)
    moderation.room_lock(room=room, by=ana, locked=True)
    moderation.room_lock(room=room, by=ana, locked=False)
    assert entries(room) == [
        (Action.UNLOCK, ana, "Ana Lima", None, "", ""),
        (Action.LOCK, ana, "Ana Lima", None, "", ""),
    ]


def test_lock_compares_with_the_stored_value_not_a_stale_instance(room, ana, listener):
    # A consumer holds the room as it was when it connected; another moderator locked since.
    stale = type(room).objects.get(pk=room.pk)
    moderation.room_lock(room=room, by=ana, locked=True)
    moderation.room_lock(room=stale, by=ana, locked=True)
    assert [entry[0] for entry in entries(room)] == [Action.LOCK]


def test_end_records_the_call_ended_and_ending_an_empty_room_records_nothing(
    room, ana, bob, connect_participant
):
    moderation.room_end(room=room, by=ana)
    assert entries(room) == []
    connect_participant(room, bob)
    moderation.room_end(room=room, by=ana)
    assert entries(room) == [(Action.END, ana, "Ana Lima", None, "", "")]


# --- Closing, reopening, roles, invites -------------------------------------------------------


def test_closing_a_room_with_a_call_records_close_then_end(room, ana, bob, connect_participant):
    connect_participant(room, bob)
    moderation.room_close_and_end_call(room=room, by=ana)
    assert [entry[:3] for entry in entries(room)] == [
        (Action.END, ana, "Ana Lima"),
        (Action.CLOSE, ana, "Ana Lima"),
    ]


def test_closing_an_empty_room_records_only_close_and_closing_again_nothing(room, ana):
    moderation.room_close_and_end_call(room=room, by=ana)
    moderation.room_close_and_end_call(room=room, by=ana)
    assert entries(room) == [(Action.CLOSE, ana, "Ana Lima", None, "", "")]


def test_reopen_records_who_reopened_and_reopening_an_open_room_records_nothing(room, make_user):
    staff = make_user("root", display_name="Site Admin", is_staff=True)
    services.room_reopen(room=room, by=staff)
    assert entries(room) == []
    services.room_close(room=room)
    services.room_reopen(room=room, by=staff)
    assert entries(room) == [(Action.REOPEN, staff, "Site Admin", None, "", "")]


def test_role_changes_record_old_and_new_standing(room, ana, bob):
    Role = RoomMembership.Role
    moderation.room_person_standing_set(room=room, user=bob, role=Role.MODERATOR, by=ana)
    moderation.room_person_standing_set(room=room, user=bob, role=Role.MEMBER, by=ana)
    moderation.room_person_standing_set(room=room, user=bob, role=None, by=ana)
    assert entries(room) == [
        (Action.ROLE, ana, "Ana Lima", bob, "bob", "no longer a member"),
        (Action.ROLE, ana, "Ana Lima", bob, "bob", "moderator → member"),
        (Action.ROLE, ana, "Ana Lima", bob, "bob", "not a member → moderator"),
    ]


def test_removing_a_moderator_says_what_they_were(room, ana, bob):
    services.room_membership_set(room=room, user=bob, role=RoomMembership.Role.MODERATOR)
    moderation.room_person_standing_set(room=room, user=bob, role=None, by=ana)
    assert entries(room)[0][5] == "moderator → no longer a member"


def test_setting_the_role_someone_already_has_records_nothing(room, ana, bob):
    services.room_membership_set(room=room, user=bob, role=RoomMembership.Role.MEMBER)
    moderation.room_person_standing_set(
        room=room, user=bob, role=RoomMembership.Role.MEMBER, by=ana
    )
    # Removing someone who is no member is no change either.
    moderation.room_person_standing_set(room=room, user=ana, role=None, by=ana)
    assert entries(room) == []


def test_invite_rotation_records_who_made_the_new_link(room, ana):
    services.room_rotate_invite(room=room, by=ana)
    assert entries(room) == [(Action.INVITE_ROTATE, ana, "Ana Lima", None, "", "")]


# --- Who gets in: the settings form -----------------------------------------------------------


def test_allowing_guests_records_old_and_new(room, ana):
    moderation.room_edit(room=room, by=ana, guests_allowed=True)
    moderation.room_edit(room=room, by=ana, guests_allowed=False)
    assert entries(room) == [
        (Action.GUESTS, ana, "Ana Lima", None, "", "guests allowed → no guests"),
        (Action.GUESTS, ana, "Ana Lima", None, "", "no guests → guests allowed"),
    ]


def test_changing_the_lobby_and_its_use_while_locked_records_each_change(room, ana):
    moderation.room_edit(room=room, by=ana, lobby=LobbyPolicy.NON_MEMBERS, lobby_when_locked=True)
    assert entries(room) == [
        (
            Action.LOBBY,
            ana,
            "Ana Lima",
            None,
            "",
            "while locked: newcomers turned away → newcomers wait in the lobby",
        ),
        (Action.LOBBY, ana, "Ana Lima", None, "", "no lobby → everyone but members waits"),
    ]
    room.refresh_from_db()
    assert (room.lobby, room.lobby_when_locked) == (LobbyPolicy.NON_MEMBERS, True)


def test_saving_the_settings_with_entry_rules_unchanged_records_nothing(room, ana):
    room = services.room_update(room=room, guests_allowed=True, lobby=LobbyPolicy.GUESTS)
    # As the settings form does: the instance already carries the submitted values.
    room.name = "Board, renamed"
    moderation.room_edit(
        room=room,
        by=ana,
        name="Board, renamed",
        guests_allowed=True,
        lobby=LobbyPolicy.GUESTS,
        lobby_when_locked=False,
        is_locked=False,
    )
    assert entries(room) == []


def test_a_change_compares_with_the_stored_value_even_when_the_form_set_the_instance(room, ana):
    # A ModelForm copies the submitted values onto the instance before room_edit runs.
    room.guests_allowed = True
    moderation.room_edit(room=room, by=ana, guests_allowed=True)
    assert [entry[0] for entry in entries(room)] == [Action.GUESTS]


def test_an_invalid_lobby_is_refused_and_records_nothing(room, ana):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        moderation.room_edit(room=room, by=ana, lobby="everyone")
    assert entries(room) == []


# --- audit_record itself ----------------------------------------------------------------------


def test_names_are_copied_so_the_entry_reads_right_after_a_rename_or_deletion(room, ana, bob):
    entry = audit_record(room=room, action=Action.ADMIT, actor=ana, target=bob)
    ana.display_name = "Ana Renamed"
    ana.save()
    bob.delete()
    entry.refresh_from_db()
    assert (entry.actor_name, entry.target, entry.target_name) == ("Ana Lima", None, "bob")
    assert str(entry) == "Ana Lima: Let in from the lobby bob in Board"


def test_an_entry_without_an_actor_is_the_systems(room, bob):
    entry = audit_record(room=room, action=Action.DENY, actor=AnonymousUser(), target=bob)
    assert (entry.actor, entry.actor_name) == (None, "")
    assert str(entry) == "system: Turned away from the lobby bob in Board"


def test_an_unknown_action_is_refused_and_a_long_detail_is_cut_to_fit(room, ana):
    with pytest.raises(ValueError):
        audit_record(room=room, action="teleport", actor=ana)
    entry = audit_record(room=room, action=Action.BAN, actor=ana, detail="x" * 500)
    assert len(entry.detail) == AuditEntry._meta.get_field("detail").max_length
