"""Room services: slugs, updates, closing, invites, membership, unbans, entering and chat."""

import pytest
from django.core.exceptions import ValidationError

from rooms import moderation, services
from rooms.models import Participant, Room, RoomBan, RoomMembership, RoomVisit

pytestmark = pytest.mark.django_db


def test_room_create_makes_slugs_from_names_and_suffixes_duplicates(make_user):
    owner = make_user()
    first = services.room_create(owner=owner, name="Weekly Sync")
    second = services.room_create(owner=owner, name="weekly  sync!")
    third = services.room_create(owner=owner, name="Weekly Sync")
    assert [first.slug, second.slug, third.slug] == [
        "weekly-sync",
        "weekly-sync-2",
        "weekly-sync-3",
    ]


def test_room_create_gives_names_without_slug_characters_a_fallback_slug(make_user):
    room = services.room_create(owner=make_user(), name="日本語 !!!")
    assert room.slug == "room" and room.name == "日本語 !!!"


def test_room_create_cuts_very_long_slugs_to_fit(make_user):
    owner = make_user()
    name = "a" * 80
    first = services.room_create(owner=owner, name=name)
    second = services.room_create(owner=owner, name=name)
    assert len(first.slug) <= 100 and second.slug == first.slug + "-2"


def test_room_slug_for_with_30_same_name_rooms_asks_the_database_once(
    make_user, django_assert_max_num_queries
):
    owner = make_user()
    for _ in range(30):
        services.room_create(owner=owner, name="Weekly Sync")
    with django_assert_max_num_queries(2):
        slug = services.room_slug_for(name="Weekly Sync")
    assert slug == "weekly-sync-31"


def test_room_slug_for_takes_the_first_free_suffix_and_ignores_longer_names(make_user):
    owner = make_user()
    for name in ("Weekly Sync", "Weekly Sync", "Weekly Sync", "Weekly Sync Up", "Weekly Sync 10"):
        services.room_create(owner=owner, name=name)
    Room.objects.filter(slug="weekly-sync-2").delete()
    # weekly-sync, -3, -up and -10 are taken: -2 is free again.
    assert services.room_slug_for(name="Weekly sync") == "weekly-sync-2"
    assert services.room_slug_for(name="Weekly Sync Up") == "weekly-sync-up-2"
    assert services.room_slug_for(name="Board") == "board"


def test_room_create_refuses_a_user_at_the_open_room_cap_with_a_clear_message(make_user, settings):
    settings.MAX_ROOMS_PER_USER = 2
    owner = make_user()
    services.room_create(owner=owner, name="One")
    services.room_create(owner=owner, name="Two")
    with pytest.raises(ValidationError, match="You already have 2 open rooms"):
        services.room_create(owner=owner, name="Three")
    assert Room.objects.filter(owner=owner).count() == 2
    # A closed room no longer counts, and someone else is not held back by this owner's rooms.
    services.room_close(room=Room.objects.get(name="One"))
    assert services.room_create(owner=owner, name="Three").slug == "three"
    assert services.room_create(owner=make_user(), name="Four").slug == "four"


def test_room_create_cap_does_not_apply_to_staff_or_when_zero(make_user, settings):
    settings.MAX_ROOMS_PER_USER = 1
    staff = make_user(is_staff=True)
    for name in ("One", "Two", "Three"):
        services.room_create(owner=staff, name=name)
    settings.MAX_ROOMS_PER_USER = 0
    owner = make_user()
    for name in ("One", "Two", "Three"):
        services.room_create(owner=owner, name=name)
    assert Room.objects.filter(owner=owner).count() == 3


def test_room_update_changes_editable_fields_and_trims_the_name(make_room):
    room = make_room("Board")
    services.room_update(room=room, name="  Board 2 ", description="x", max_participants=16)
    room.refresh_from_db()
    assert (room.name, room.description, room.max_participants) == ("Board 2", "x", 16)


def test_room_update_refuses_fields_that_have_their_own_service(make_room, make_user):
    room = make_room("Board")
    with pytest.raises(TypeError, match="is_locked"):
        services.room_update(room=room, is_locked=True)
    with pytest.raises(TypeError, match="owner"):
        services.room_update(room=room, owner=make_user())
    with pytest.raises(TypeError, match="invite_token"):
        services.room_update(room=room, invite_token="guessable")


@pytest.mark.parametrize(
    "fields", [{"name": ""}, {"name": "n" * 81}, {"max_participants": 1}, {"max_participants": 17}]
)
def test_room_update_rejects_invalid_values_and_stores_nothing(make_room, fields):
    room = make_room("Board")
    with pytest.raises(ValidationError):
        services.room_update(room=room, **fields)
    room.refresh_from_db()
    assert (room.name, room.max_participants) == ("Board", 8)


def test_room_update_saves_only_the_fields_it_is_given(make_room):
    room = make_room("Board")
    # A ModelForm copies every submitted value onto the instance before the service runs.
    room.is_locked = True
    services.room_update(room=room, description="new")
    room.refresh_from_db()
    assert room.description == "new" and not room.is_locked


def test_room_close_and_reopen_round_trip(make_room):
    room = make_room("Board")
    services.room_close(room=room)
    closed_at = room.closed_at
    services.room_close(room=room)
    assert room.closed_at == closed_at, "closing twice keeps the first time"
    room.refresh_from_db()
    assert room.is_closed
    services.room_reopen(room=room)
    room.refresh_from_db()
    assert not room.is_closed


def test_room_rotate_invite_makes_a_new_unguessable_token(make_room):
    room = make_room("Board", is_private=True)
    tokens = {room.invite_token}
    for _ in range(3):
        tokens.add(services.room_rotate_invite(room=room).invite_token)
    assert len(tokens) == 4 and all(len(token) >= 32 for token in tokens)


def test_room_enter_by_invite_makes_a_member_and_records_the_visit(make_room, make_user):
    room = make_room("Board", is_private=True)
    bo = make_user("bo")
    verdict = services.room_enter(user=bo, room=room, invite_token=room.invite_token)
    assert verdict.allowed and verdict.role == Participant.Role.MEMBER
    assert RoomMembership.objects.get(room=room, user=bo).role == RoomMembership.Role.MEMBER
    first_visit = RoomVisit.objects.get(room=room, user=bo).last_visited_at
    services.room_enter(user=bo, room=room)
    assert RoomVisit.objects.get(room=room, user=bo).last_visited_at >= first_visit


def test_room_enter_records_nothing_on_refusal(make_room, make_user):
    room = make_room("Board", is_private=True)
    bo = make_user("bo")
    verdict = services.room_enter(user=bo, room=room, invite_token="wrong")
    assert not verdict.allowed and verdict.refusal == "forbidden"
    assert not RoomVisit.objects.exists() and not RoomMembership.objects.exists()


def test_room_enter_conceals_a_private_room_from_a_stranger_even_when_locked(make_room, make_user):
    # The socket answers the contract's ``forbidden`` (4403); pages and TURN answer 404, and
    # a locked private room must not answer ``room_locked`` to someone who may not know it.
    bo = make_user("bo")
    for room in (
        make_room("Board", is_private=True),
        make_room("Den", is_private=True, is_locked=True),
    ):
        verdict = services.room_enter(user=bo, room=room, invite_token="wrong")
        assert not verdict.allowed and verdict.refusal == "forbidden"
        assert verdict.conceals_room


def test_room_enter_tells_banned_members_and_locked_out_members_why(make_room, make_user):
    bo, cy = make_user("bo"), make_user("cy")
    room = make_room("Board", is_private=True, is_locked=True)
    services.room_membership_set(room=room, user=bo)
    RoomBan.objects.create(room=room, user=cy)
    locked_out = services.room_enter(user=bo, room=room)
    banned = services.room_enter(user=cy, room=room, invite_token=room.invite_token)
    assert (locked_out.refusal, locked_out.conceals_room) == ("room_locked", False)
    assert (banned.refusal, banned.conceals_room) == ("forbidden", False)
    assert banned.message == "You have been banned from this room."


def test_chat_message_create_trims_and_rejects_empty_or_too_long(make_room):
    room = make_room("Board")
    message = services.chat_message_create(room=room, user=room.owner, text="  hi  ")
    assert message.text == "hi"
    for text in ("   ", "x" * 2001):
        with pytest.raises(ValueError, match="1 to 2000"):
            services.chat_message_create(room=room, user=room.owner, text=text)


def test_chat_message_hide_hides(make_room):
    room = make_room("Board")
    message = services.chat_message_create(room=room, user=room.owner, text="oops")
    services.chat_message_hide(message=message)
    message.refresh_from_db()
    assert message.hidden


def test_room_membership_remove_and_unban_report_whether_there_was_one(make_room, make_user):
    room = make_room("Board")
    bo = make_user("bo")
    services.room_membership_set(room=room, user=bo)
    assert services.room_membership_remove(room=room, user=bo) is True
    assert services.room_membership_remove(room=room, user=bo) is False
    moderation.room_ban_user(room=room, user=bo)
    assert services.room_unban_user(room=room, user=bo) is True
    assert services.room_unban_user(room=room, user=bo) is False
    assert not RoomMembership.objects.exists() and not RoomBan.objects.exists()
