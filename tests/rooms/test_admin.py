"""Staff moderation in /admin/: room lists, actions, inlines, participants and chat."""

import pytest
from asgiref.sync import sync_to_async

from rooms import services
from rooms.models import ChatMessage, Participant, Room, RoomBan, RoomMembership
from tests.signaling.conftest import connect  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(make_user):
    return make_user("boss", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, boss):
    client.force_login(boss)
    return client


def run_action(client, url, action, objects):
    return client.post(
        url, {"action": action, "_selected_action": [obj.pk for obj in objects]}, follow=True
    )


def room_form_data(room, **inlines):
    """The room change form as the admin page posts it, with optional inline rows."""
    data = {
        "name": room.name,
        "owner": room.owner_id,
        "description": room.description,
        "max_participants": room.max_participants,
        "lobby": room.lobby,
        "media_mode": room.media_mode,
    }
    for flag in ("is_private", "is_locked", "guests_allowed", "lobby_when_locked"):
        if getattr(room, flag):
            data[flag] = "on"
    for prefix in ("participants", "memberships", "bans"):
        rows = inlines.get(prefix, [])
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": len(rows),
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
        for index, row in enumerate(rows):
            data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


# --- Rooms list -------------------------------------------------------------------------------


def test_room_list_searches_name_slug_and_owner(staff_client, make_user, make_room):
    make_room("Weekly Sync", owner=make_user("ana", display_name="Ana Lima"))
    make_room("Board", owner=make_user("bo"))
    for query in ("weekly", "weekly-sync", "ana", "lima"):
        response = staff_client.get(f"/admin/rooms/room/?q={query}")
        assert response.status_code == 200
        names = [room.name for room in response.context["cl"].result_list]
        assert names == ["Weekly Sync"], query


def test_room_list_filters_by_locked_private_and_closed(staff_client, make_room):
    plain = make_room("Plain")
    locked = make_room("Locked", is_locked=True)
    private = make_room("Private", is_private=True)
    closed = services.room_close(room=make_room("Closed"))

    def listed(query):
        response = staff_client.get(f"/admin/rooms/room/?{query}")
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed("is_locked__exact=1") == {locked}
    assert listed("is_private__exact=1") == {private}
    assert listed("closed=yes") == {closed}
    assert listed("closed=no") == {plain, locked, private}


def test_room_list_shows_how_many_are_connected(staff_client, make_room, make_user):
    from django.utils import timezone

    room = make_room("Board")
    for index in range(2):
        Participant.objects.create(
            room=room, user=make_user(), peer_id=f"p{index}", last_seen=timezone.now()
        )
    response = staff_client.get("/admin/rooms/room/")
    assert response.context["cl"].result_list[0].connected_count == 2


def test_room_list_and_inline_leave_out_a_participant_the_call_no_longer_shows(
    staff_client, make_room, make_user, settings
):
    from datetime import timedelta

    from django.utils import timezone

    room = make_room("Board")
    now = timezone.now()
    Participant.objects.create(room=room, user=make_user(), peer_id="live", last_seen=now)
    # Its process died: not seen for longer than the stale limit, not yet swept. The welcome
    # no longer lists it, so the admin must not count it either.
    stale_since = timezone.now() - timedelta(seconds=settings.PRESENCE_STALE_SECONDS + 5)
    Participant.objects.create(room=room, user=make_user(), peer_id="ghost", last_seen=stale_since)
    listed = staff_client.get("/admin/rooms/room/")
    assert listed.context["cl"].result_list[0].connected_count == 1
    page = staff_client.get(f"/admin/rooms/room/{room.pk}/change/")
    assert "live" in page.text and "ghost" not in page.text


def test_room_admin_is_staff_only(client, make_user):
    client.force_login(make_user("ana"))
    assert client.get("/admin/rooms/room/").status_code == 302


def test_room_list_and_change_form_show_how_each_live_call_carries_media(
    staff_client, make_room, make_user
):
    from django.utils import timezone

    on_sfu = make_room("Town hall", media_mode="sfu")
    Room.objects.filter(pk=on_sfu.pk).update(
        sfu_node="ws://janus-2:8188", sfu_room=4242, sfu_secret="s"
    )
    mesh = make_room("Standup")
    for room in (on_sfu, mesh):
        Participant.objects.create(
            room=room, user=make_user(), peer_id=f"in-{room.pk}", last_seen=timezone.now()
        )
    idle = make_room("Idle")
    listed = staff_client.get("/admin/rooms/room/")
    model_admin = listed.context["cl"].model_admin
    shown = {room.name: model_admin.live_media(room) for room in listed.context["cl"].result_list}
    assert shown == {
        "Town hall": "SFU on ws://janus-2:8188 (room 4242)",
        "Standup": "peer to peer",
        "Idle": "—",
    }
    # "peer to peer" is also in the media mode's choices: look at the column's own cells.
    assert '<td class="field-live_media">SFU on ws://janus-2:8188 (room 4242)</td>' in listed.text
    assert '<td class="field-live_media">peer to peer</td>' in listed.text

    def change_form_shows(room) -> str:
        page = staff_client.get(f"/admin/rooms/room/{room.pk}/change/")
        field = page.text.split('class="form-row field-live_media"', 1)[1]
        return field.split('<div class="readonly">', 1)[1].split("</div>", 1)[0]

    assert change_form_shows(on_sfu) == "SFU on ws://janus-2:8188 (room 4242)"
    assert change_form_shows(mesh) == "peer to peer"
    assert change_form_shows(idle) == "—"


def test_room_list_filters_by_media_mode(staff_client, make_room):
    auto = make_room("Auto")
    mesh = make_room("Mesh", media_mode="mesh")
    sfu = make_room("SFU", media_mode="sfu")

    def listed(query):
        response = staff_client.get(f"/admin/rooms/room/?{query}")
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed("media_mode__exact=sfu") == {sfu}
    assert listed("media_mode__exact=mesh") == {mesh}
    assert listed("media_mode__exact=auto") == {auto}
    page = staff_client.get("/admin/rooms/room/")
    titles = {spec.title for spec in page.context["cl"].filter_specs}
    assert "media mode" in titles


def test_room_change_form_saves_the_media_mode(staff_client, make_room):
    room = make_room("Board")
    response = staff_client.post(
        f"/admin/rooms/room/{room.pk}/change/",
        {**room_form_data(room), "media_mode": "mesh"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    room.refresh_from_db()
    assert room.media_mode == "mesh"


# --- Room actions -----------------------------------------------------------------------------


def test_lock_and_unlock_actions_change_the_rooms_and_tell_their_calls(
    staff_client, make_room, listener
):
    rooms = [make_room("One"), make_room("Two")]
    socket = listener().join(rooms[0])
    response = run_action(staff_client, "/admin/rooms/room/", "lock_rooms", rooms)
    assert "Locked 2 room(s)." in response.text
    assert all(room.is_locked for room in Room.objects.all())
    assert socket.receive()["frame"] == {"type": "room", "locked": True}
    run_action(staff_client, "/admin/rooms/room/", "unlock_rooms", rooms[:1])
    assert list(Room.objects.filter(is_locked=True)) == [rooms[1]]
    assert socket.receive()["frame"] == {"type": "room", "locked": False}


def test_close_action_closes_rooms_and_ends_their_calls(
    staff_client, make_room, make_user, connect_participant
):
    room = make_room("Board")
    participant, socket = connect_participant(room, make_user("bo"))
    response = run_action(staff_client, "/admin/rooms/room/", "close_rooms", [room])
    assert "Closed 1 room(s)." in response.text
    room.refresh_from_db()
    assert room.is_closed
    event = socket.receive()
    assert event["frame"]["type"] == "room-ended" and event["close"] == 4411
    participant.refresh_from_db()
    assert participant.left_at is not None


def test_end_calls_action_ends_the_calls_and_leaves_the_rooms_open(
    staff_client, make_room, make_user, connect_participant
):
    room = make_room("Board")
    participant, socket = connect_participant(room, make_user("bo"))
    response = run_action(staff_client, "/admin/rooms/room/", "end_calls", [room])
    assert "Ended the calls in 1 room(s)." in response.text
    room.refresh_from_db()
    assert not room.is_closed
    event = socket.receive()
    assert event["frame"]["type"] == "room-ended" and event["close"] == 4411
    participant.refresh_from_db()
    assert participant.leave_reason == "room-ended"


def test_reopen_action_reopens_closed_rooms(staff_client, make_room):
    room = services.room_close(room=make_room("Board"))
    response = run_action(staff_client, "/admin/rooms/room/", "reopen_rooms", [room])
    assert "Reopened 1 room(s)." in response.text
    room.refresh_from_db()
    assert not room.is_closed


def test_rotate_invite_action_replaces_the_tokens(staff_client, make_room):
    room = make_room("Board", is_private=True)
    old = room.invite_token
    response = run_action(staff_client, "/admin/rooms/room/", "rotate_invites", [room])
    assert "old links no longer work" in response.text
    room.refresh_from_db()
    assert room.invite_token != old


# --- Room change page and inlines -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_locking_in_the_room_change_form_tells_a_connected_socket(
    connect,  # noqa: F811
    staff_client,
    make_room,
):
    room = await sync_to_async(make_room)("Board")
    owner = await connect(room.slug, room.owner)
    assert owner.welcome is not None, owner.first
    data = room_form_data(room) | {"is_locked": "on"}
    response = await sync_to_async(staff_client.post)(f"/admin/rooms/room/{room.pk}/change/", data)
    assert response.status_code == 302
    assert await owner.receive_type("room") == {"type": "room", "locked": True}
    assert (await sync_to_async(Room.objects.get)(pk=room.pk)).is_locked


def test_room_change_form_unlocks_through_the_service_and_saves_the_other_fields(
    staff_client, make_room, listener
):
    room = make_room("Board", is_locked=True)
    socket = listener().join(room)
    data = room_form_data(room)
    data.pop("is_locked")
    data |= {"name": "Board (renamed)", "description": "Quarterly", "max_participants": 4}
    response = staff_client.post(f"/admin/rooms/room/{room.pk}/change/", data)
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.name, room.description) == ("Board (renamed)", "Quarterly")
    assert room.max_participants == 4
    assert not room.is_locked and room.slug == "board"
    assert socket.receive()["frame"] == {"type": "room", "locked": False}


def test_room_change_form_without_a_lock_change_announces_nothing(
    staff_client, make_room, listener
):
    room = make_room("Board")
    socket = listener().join(room)
    data = room_form_data(room) | {"name": "Renamed"}
    assert staff_client.post(f"/admin/rooms/room/{room.pk}/change/", data).status_code == 302
    assert Room.objects.get(pk=room.pk).name == "Renamed"
    assert socket.nothing_pending()


def test_room_change_form_gives_the_room_a_new_owner_whose_call_role_follows(
    staff_client, make_room, make_user, connect_participant
):
    ana, bo = make_user("ana"), make_user("bo")
    room = make_room("Board", owner=ana)
    old_owner, old_socket = connect_participant(room, ana, role=Participant.Role.OWNER)
    data = room_form_data(room) | {"owner": bo.pk}
    assert staff_client.post(f"/admin/rooms/room/{room.pk}/change/", data).status_code == 302
    assert Room.objects.get(pk=room.pk).owner == bo
    old_owner.refresh_from_db()
    assert old_owner.role == Participant.Role.MEMBER
    assert old_socket.receive()["frame"] == {
        "type": "role",
        "peer_id": old_owner.peer_id,
        "role": "member",
    }


def test_room_change_page_shows_bans_members_and_connected_participants(
    staff_client, make_room, make_user
):
    from django.utils import timezone

    room = make_room("Board")
    bo, cy, di = make_user("bo"), make_user("cy"), make_user("di")
    RoomBan.objects.create(room=room, user=bo, reason="spam")
    services.room_membership_set(room=room, user=cy, role=RoomMembership.Role.MODERATOR)
    Participant.objects.create(room=room, user=di, peer_id="peer-live", last_seen=timezone.now())
    Participant.objects.create(
        room=room, user=di, peer_id="peer-gone", last_seen=timezone.now(), left_at=timezone.now()
    )
    response = staff_client.get(f"/admin/rooms/room/{room.pk}/change/")
    assert response.status_code == 200
    titles = [
        inline.opts.verbose_name_plural for inline in response.context["inline_admin_formsets"]
    ]
    assert titles == ["connected participants", "moderators and members", "bans"]
    assert "spam" in response.text and "peer-live" in response.text
    assert "peer-gone" not in response.text


def test_ban_added_inline_records_who_banned_and_kicks_the_user(
    staff_client, boss, make_room, make_user, connect_participant
):
    room = make_room("Board")
    bo = make_user("bo")
    participant, socket = connect_participant(room, bo)
    data = room_form_data(room, bans=[{"user": bo.pk, "reason": "trolling"}])
    response = staff_client.post(f"/admin/rooms/room/{room.pk}/change/", data)
    assert response.status_code == 302, response.context["errors"]
    ban = RoomBan.objects.get()
    assert (ban.user, ban.banned_by, ban.reason) == (bo, boss, "trolling")
    assert socket.receive()["frame"]["type"] == "kicked"
    participant.refresh_from_db()
    assert participant.left_at is not None


def test_ban_of_the_owner_is_refused_with_a_message(staff_client, make_room):
    room = make_room("Board")
    data = room_form_data(room, bans=[{"user": room.owner_id, "reason": "no"}])
    response = staff_client.post(f"/admin/rooms/room/{room.pk}/change/", data)
    assert response.status_code == 200
    assert "The owner of a room cannot be banned from it." in response.text
    assert not RoomBan.objects.exists()


def test_members_and_moderators_are_added_inline(staff_client, make_room, make_user):
    room = make_room("Board")
    cy = make_user("cy")
    data = room_form_data(room, memberships=[{"user": cy.pk, "role": "moderator"}])
    response = staff_client.post(f"/admin/rooms/room/{room.pk}/change/", data)
    assert response.status_code == 302
    assert RoomMembership.objects.get(room=room, user=cy).role == "moderator"


def test_a_moderator_added_inline_gets_the_role_in_the_call_at_once(
    staff_client, make_room, make_user, connect_participant
):
    room = make_room("Board")
    cy = make_user("cy")
    participant, socket = connect_participant(room, cy)
    data = room_form_data(room, memberships=[{"user": cy.pk, "role": "moderator"}])
    response = staff_client.post(f"/admin/rooms/room/{room.pk}/change/", data)
    assert response.status_code == 302
    event = socket.receive()
    assert event["frame"] == {"type": "role", "peer_id": participant.peer_id, "role": "moderator"}
    assert event["roles"] == {participant.peer_id: "moderator"}
    participant.refresh_from_db()
    assert participant.role == "moderator"


def test_a_membership_row_given_to_someone_else_demotes_the_previous_user_in_the_call(
    staff_client, make_room, make_user, connect_participant
):
    room = make_room("Board")
    cy, dan = make_user("cy"), make_user("dan")
    membership = services.room_membership_set(room=room, user=cy, role="moderator")
    participant, socket = connect_participant(room, cy)
    participant.role = "moderator"
    participant.save()
    data = room_form_data(room, memberships=[{"user": dan.pk, "role": "moderator"}])
    data.update(
        {
            "memberships-INITIAL_FORMS": 1,
            "memberships-0-id": membership.pk,
            "memberships-0-room": room.pk,
        }
    )
    response = staff_client.post(f"/admin/rooms/room/{room.pk}/change/", data)
    assert response.status_code == 302, response.context["errors"]
    assert socket.receive()["frame"] == {
        "type": "role",
        "peer_id": participant.peer_id,
        "role": "member",
    }


def test_ban_admin_adds_a_ban_through_the_service(staff_client, boss, make_room, make_user):
    room = make_room("Board")
    bo = make_user("bo")
    assert staff_client.get("/admin/rooms/roomban/add/").status_code == 200
    response = staff_client.post(
        "/admin/rooms/roomban/add/", {"room": room.pk, "user": bo.pk, "reason": "spam"}
    )
    assert response.status_code == 302
    assert RoomBan.objects.get().banned_by == boss
    refused = staff_client.post(
        "/admin/rooms/roomban/add/", {"room": room.pk, "user": room.owner_id, "reason": "x"}
    )
    assert refused.status_code == 200 and RoomBan.objects.count() == 1


# --- Participants -----------------------------------------------------------------------------


def test_kick_action_kicks_connected_participants_and_skips_those_gone(
    staff_client, make_room, make_user, connect_participant
):
    from django.utils import timezone

    room = make_room("Board")
    live, socket = connect_participant(room, make_user("bo"))
    gone = Participant.objects.create(
        room=room,
        user=make_user("cy"),
        peer_id="gone",
        last_seen=timezone.now(),
        left_at=timezone.now(),
    )
    response = run_action(
        staff_client, "/admin/rooms/participant/", "kick_participants", [live, gone]
    )
    assert "Kicked 1 participant(s). 1 had already left." in response.text
    event = socket.receive()
    assert event["frame"]["type"] == "kicked" and event["frame"]["by"]["username"] == "boss"
    assert event["close"] == 4410
    live.refresh_from_db()
    assert live.left_at is not None and live.leave_reason == "kicked"


def test_participant_list_filters_connected_and_cannot_add(staff_client, make_room, make_user):
    from django.utils import timezone

    room = make_room("Board")
    live = Participant.objects.create(
        room=room, user=make_user(), peer_id="live", last_seen=timezone.now()
    )
    Participant.objects.create(
        room=room,
        user=make_user(),
        peer_id="gone",
        last_seen=timezone.now(),
        left_at=timezone.now(),
    )
    response = staff_client.get("/admin/rooms/participant/?left_at__isempty=1")
    assert list(response.context["cl"].result_list) == [live]
    assert staff_client.get("/admin/rooms/participant/add/").status_code == 403
    assert staff_client.get(f"/admin/rooms/participant/{live.pk}/change/").status_code == 200


# --- Chat -------------------------------------------------------------------------------------


def test_chat_list_searches_and_the_hide_action_hides(staff_client, make_room, make_user):
    room = make_room("Board")
    bo = make_user("bo")
    rude = services.chat_message_create(room=room, user=bo, text="something rude")
    services.chat_message_create(room=room, user=bo, text="hello all")
    response = staff_client.get("/admin/rooms/chatmessage/?q=rude")
    assert list(response.context["cl"].result_list) == [rude]
    response = run_action(staff_client, "/admin/rooms/chatmessage/", "hide_messages", [rude])
    assert "Hid 1 message(s)." in response.text
    assert list(ChatMessage.objects.filter(hidden=True)) == [rude]
    listed = staff_client.get("/admin/rooms/chatmessage/?hidden__exact=1")
    assert list(listed.context["cl"].result_list) == [rude]
    assert staff_client.get(f"/admin/rooms/chatmessage/{rude.pk}/change/").status_code == 200


def test_rooms_added_in_the_admin_get_unique_slugs_from_their_names(staff_client, boss):
    for _ in range(2):
        data = room_form_data(Room(name="Weekly Sync", owner=boss, max_participants=8))
        response = staff_client.post("/admin/rooms/room/add/", data)
        assert response.status_code == 302, response.context["errors"]
    assert sorted(Room.objects.values_list("slug", flat=True)) == ["weekly-sync", "weekly-sync-2"]


def test_admin_index_is_branded_and_lists_the_moderation_models(staff_client):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    assert "meet administration" in response.text
    for path in ("rooms/room/", "rooms/roomban/", "rooms/participant/", "rooms/chatmessage/"):
        assert f"/admin/{path}" in response.text
    assert "/admin/accounts/user/" in response.text


# --- The moderation log -----------------------------------------------------------------------


def test_admin_actions_are_logged_with_the_staff_member_as_actor(
    staff_client, boss, make_room, make_user, connect_participant
):
    room = make_room("Board", is_private=True)
    participant, _socket = connect_participant(room, make_user("bo"))
    run_action(staff_client, "/admin/rooms/room/", "lock_rooms", [room])
    run_action(staff_client, "/admin/rooms/room/", "rotate_invites", [room])
    run_action(staff_client, "/admin/rooms/participant/", "kick_participants", [participant])
    run_action(staff_client, "/admin/rooms/room/", "close_rooms", [room])
    run_action(staff_client, "/admin/rooms/room/", "reopen_rooms", [room])
    run_action(staff_client, "/admin/rooms/room/", "unlock_rooms", [room])
    log = list(room.audit_entries.values_list("action", "actor", "target_name", "detail"))
    assert log == [
        ("unlock", boss.pk, "", ""),
        ("reopen", boss.pk, "", ""),
        ("close", boss.pk, "", ""),
        ("kick", boss.pk, "Bo", "Removed by staff."),
        ("invite_rotate", boss.pk, "", ""),
        ("lock", boss.pk, "", ""),
    ]


def test_bans_and_roles_changed_in_the_admin_are_logged(staff_client, boss, make_room, make_user):
    room = make_room("Board")
    bo, cy = make_user("bo"), make_user("cy")
    staff_client.post(
        "/admin/rooms/roomban/add/", {"room": room.pk, "user": bo.pk, "reason": "spam"}
    )
    ban = RoomBan.objects.get()
    staff_client.post(f"/admin/rooms/roomban/{ban.pk}/delete/", {"post": "yes"})
    assert not RoomBan.objects.exists()
    data = room_form_data(room, memberships=[{"user": cy.pk, "role": "moderator"}])
    assert staff_client.post(f"/admin/rooms/room/{room.pk}/change/", data).status_code == 302
    log = list(room.audit_entries.values_list("action", "actor", "target_name", "detail"))
    assert log == [
        ("role", boss.pk, "Cy", "not a member → moderator"),
        ("unban", boss.pk, "Bo", ""),
        ("ban", boss.pk, "Bo", "spam"),
    ]


def test_room_change_form_sets_guests_and_the_lobby_and_logs_them(staff_client, boss, make_room):
    room = make_room("Board")
    page = staff_client.get(f"/admin/rooms/room/{room.pk}/change/")
    for field in ("guests_allowed", "lobby", "lobby_when_locked"):
        assert f'name="{field}"' in page.text
    data = room_form_data(room) | {"guests_allowed": "on", "lobby": "non_members"}
    assert staff_client.post(f"/admin/rooms/room/{room.pk}/change/", data).status_code == 302
    room.refresh_from_db()
    assert (room.guests_allowed, room.lobby) == (True, "non_members")
    assert list(room.audit_entries.values_list("action", "actor")) == [
        ("lobby", boss.pk),
        ("guests", boss.pk),
    ]
    listed = staff_client.get("/admin/rooms/room/?guests_allowed__exact=1&lobby__exact=non_members")
    assert list(listed.context["cl"].result_list) == [room]


def test_the_moderation_log_admin_is_read_only_even_for_a_superuser(staff_client, make_room):
    from rooms.audit import audit_record

    room = make_room("Board")
    entry = audit_record(room=room, action="lock", actor=room.owner)
    base = "/admin/rooms/auditentry/"
    listing = staff_client.get(base)
    assert listing.status_code == 200 and "delete_selected" not in listing.text
    assert staff_client.get(f"{base}add/").status_code == 403
    assert staff_client.post(f"{base}add/", {"room": room.pk, "action": "ban"}).status_code == 403
    page = staff_client.get(f"{base}{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.text
    changed = staff_client.post(
        f"{base}{entry.pk}/change/", {"room": room.pk, "action": "ban", "detail": "forged"}
    )
    assert changed.status_code == 403
    assert staff_client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert (entry.action, entry.detail) == ("lock", "")


def test_the_moderation_log_admin_filters_by_room_actor_and_action_and_searches_names(
    staff_client, make_room, make_user
):
    from rooms.audit import audit_record

    ana, bo = make_user("ana", display_name="Ana Lima"), make_user("bo")
    board, other = make_room("Board", owner=ana), make_room("Other", owner=bo)
    by_ana = audit_record(room=board, action="ban", actor=ana, target=bo, detail="spam")
    by_bo = audit_record(room=other, action="lock", actor=bo)
    by_nobody = audit_record(room=board, action="lock")

    def listed(query):
        response = staff_client.get(f"/admin/rooms/auditentry/?{query}")
        assert response.status_code == 200
        return list(response.context["cl"].result_list)

    assert listed("") == [by_nobody, by_bo, by_ana]
    assert listed(f"room__id__exact={board.pk}") == [by_nobody, by_ana]
    assert listed(f"actor__id__exact={bo.pk}") == [by_bo]
    assert listed("action__exact=ban") == [by_ana]
    assert listed("q=lima") == [by_ana]
    # The actor filter offers only people who did something, not every account.
    page = staff_client.get("/admin/rooms/auditentry/")
    actor_filter = next(spec for spec in page.context["cl"].filter_specs if spec.title == "actor")
    assert {label for _pk, label in actor_filter.lookup_choices} == {"ana", "bo"}
    assert '<td class="field-actor_shown">system</td>' in page.text
