"""Room selectors: the lists on the landing page and the room page's configuration."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_by_pk
from rooms import lobby, moderation, selectors, services
from rooms.models import Participant, Room, RoomKick, RoomMembership, RoomVisit

pytestmark = pytest.mark.django_db


def test_rooms_owned_by_lists_open_rooms_newest_first_then_closed_ones(make_user, make_room):
    ana = make_user("ana")
    older = make_room("Older", owner=ana)
    closed = services.room_close(room=make_room("Closed", owner=ana))
    newer = make_room("Newer", owner=ana)
    make_room("Someone else's")
    assert list(selectors.rooms_owned_by(user=ana)) == [newer, older, closed]


def test_rooms_recently_visited_orders_by_last_visit_and_skips_own_and_closed(make_user, make_room):
    ana = make_user("ana")
    first, second, closed = make_room("First"), make_room("Second"), make_room("Closed")
    own = make_room("Own", owner=ana)
    now = timezone.now()
    for minutes_ago, room in ((5, first), (1, second), (0, closed), (0, own)):
        RoomVisit.objects.create(
            room=room, user=ana, last_visited_at=now - timedelta(minutes=minutes_ago)
        )
    services.room_close(room=closed)
    rooms = list(selectors.rooms_recently_visited(user=ana))
    assert rooms == [second, first]
    assert rooms[0].last_visited_at == now - timedelta(minutes=1)


def test_rooms_recently_visited_shows_the_users_own_visit_not_someone_elses(make_user, make_room):
    ana, bo = make_user("ana"), make_user("bo")
    room = make_room("Shared")
    now = timezone.now()
    RoomVisit.objects.create(room=room, user=ana, last_visited_at=now - timedelta(days=2))
    RoomVisit.objects.create(room=room, user=bo, last_visited_at=now)
    rooms = list(selectors.rooms_recently_visited(user=ana, limit=None))
    assert rooms == [room]
    assert rooms[0].last_visited_at == now - timedelta(days=2)


def test_rooms_recently_visited_is_limited(make_user, make_room):
    ana = make_user("ana")
    for index in range(4):
        RoomVisit.objects.create(
            room=make_room(f"R{index}"), user=ana, last_visited_at=timezone.now()
        )
    assert len(selectors.rooms_recently_visited(user=ana, limit=3)) == 3


def test_room_get_by_slug_finds_closed_rooms_too_and_none_for_unknown(make_room):
    room = make_room("Board")
    services.room_close(room=room)
    assert selectors.room_get_by_slug(slug="board") == room
    assert selectors.room_get_by_slug(slug="nope") is None


def test_room_id_by_slug_finds_closed_rooms_too_and_none_for_unknown(make_room):
    room = make_room("Board")
    services.room_close(room=room)
    assert selectors.room_id_by_slug(slug="board") == room.pk
    assert selectors.room_id_by_slug(slug="nope") is None


def test_room_invite_url_adds_the_token_only_for_private_rooms(make_room):
    public = make_room("Open")
    private = make_room("Board", is_private=True)
    site = "https://meet.example.org/"
    assert selectors.room_invite_url(room=public, site_url=site) == (
        "https://meet.example.org/rooms/open/"
    )
    assert selectors.room_invite_url(room=private, site_url=site) == (
        f"https://meet.example.org/rooms/board/?invite={private.invite_token}"
    )


def test_room_person_finds_members_banned_and_past_participants_never_the_owner(
    make_room, make_user
):
    room = make_room("Board")
    member, banned, stranger = make_user("member"), make_user("banned"), make_user("stranger")
    visitor = make_user("visitor")
    services.room_membership_set(room=room, user=member)
    services.room_membership_set(room=room, user=room.owner)
    moderation.room_ban_user(room=room, user=banned)
    Participant.objects.create(
        room=room, user=visitor, peer_id="p-visitor", channel_name="c", last_seen=timezone.now()
    )
    Participant.objects.create(
        room=make_room("Elsewhere"),
        user=stranger,
        peer_id="p-stranger",
        channel_name="c",
        last_seen=timezone.now(),
    )
    assert selectors.room_person(room=room, user_id=member.pk) == member
    assert selectors.room_person(room=room, user_id=banned.pk) == banned
    assert selectors.room_person(room=room, user_id=visitor.pk) == visitor
    assert selectors.room_person(room=room, user_id=stranger.pk) is None
    assert selectors.room_person(room=room, user_id=room.owner_id) is None
    assert selectors.room_person(room=room, user_id=999_999) is None


def test_room_memberships_lists_moderators_first_then_by_username(make_room, make_user):
    room = make_room("Board")
    zed, amy, mod = make_user("zed"), make_user("amy"), make_user("mod")
    for user in (zed, amy):
        services.room_membership_set(room=room, user=user)
    services.room_membership_set(room=room, user=mod, role="moderator")
    assert [m.user for m in selectors.room_memberships(room=room)] == [mod, amy, zed]


def test_room_past_participants_are_those_in_calls_who_are_not_owner_member_or_banned(
    make_room, make_user
):
    room = make_room("Board")
    member, banned, early, late = (make_user(n) for n in ("member", "banned", "early", "late"))
    services.room_membership_set(room=room, user=member)
    moderation.room_ban_user(room=room, user=banned)
    for user in (room.owner, member, banned, early, late, early):
        Participant.objects.create(
            room=room, user=user, peer_id=f"p{user.pk}", channel_name="c", last_seen=timezone.now()
        )
    past = selectors.room_past_participants(room=room)
    assert past == [early, late]  # early joined again last
    assert past[0].last_joined_at > past[1].last_joined_at


def test_room_kicks_running_skips_expired_cooldowns(make_room, make_user):
    room = make_room("Board")
    now = timezone.now()
    soon = RoomKick.objects.create(
        room=room, user=make_user("soon"), until=now + timedelta(minutes=1)
    )
    later = RoomKick.objects.create(
        room=room, user=make_user("later"), until=now + timedelta(minutes=4)
    )
    RoomKick.objects.create(room=room, user=make_user("gone"), until=now - timedelta(seconds=1))
    assert list(selectors.room_kicks_running(room=room)) == [soon, later]


def test_rooms_live_count_counts_rooms_with_a_connected_participant_once(make_room, make_user):
    busy, quiet, stale = make_room("Busy"), make_room("Quiet"), make_room("Stale")
    now = timezone.now()
    for index in range(2):
        Participant.objects.create(
            room=busy, user=make_user(), peer_id=f"busy{index}", channel_name="c", last_seen=now
        )
    # An ended row and a row its worker stopped refreshing are not a call in progress.
    Participant.objects.create(
        room=quiet, user=make_user(), peer_id="gone", channel_name="c", last_seen=now, left_at=now
    )
    Participant.objects.create(
        room=stale,
        user=make_user(),
        peer_id="stale",
        channel_name="c",
        last_seen=now - timedelta(hours=1),
    )
    assert selectors.rooms_live_count() == 1


def test_rooms_live_on_sfu_count_counts_calls_in_progress_whose_room_records_a_janus_node(
    make_room, make_user
):
    now = timezone.now()
    mesh, sfu, emptied = make_room("Mesh"), make_room("Sfu"), make_room("Emptied")
    Room.objects.filter(pk__in=[sfu.pk, emptied.pk]).update(sfu_node="ws://janus", sfu_room=7)
    for room in (mesh, sfu, sfu):
        Participant.objects.create(
            room=room,
            user=make_user(),
            peer_id=f"p{make_user().pk}",
            channel_name="c",
            last_seen=now,
        )
    # A room that still records a node but whose call has nobody left is no call in progress.
    Participant.objects.create(
        room=emptied, user=make_user(), peer_id="gone", channel_name="c", last_seen=now, left_at=now
    )
    assert selectors.rooms_live_count() == 2
    assert selectors.rooms_live_on_sfu_count() == 1


def test_room_audit_entries_are_the_rooms_latest_newest_first_up_to_the_limit(make_room):
    from rooms.audit import audit_record
    from rooms.models import AuditEntry

    room, other = make_room("Board"), make_room("Other")
    old = audit_record(room=room, action="lock")
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1))
    newer = audit_record(room=room, action="unlock")
    newest = audit_record(room=room, action="end")
    audit_record(room=other, action="lock")
    assert selectors.room_audit_entries(room=room) == [newest, newer, old]
    assert selectors.room_audit_entries(room=room, limit=2) == [newest, newer]
    assert len(selectors.room_audit_entries(room=room, limit=None)) == 3


def test_room_with_access_facts_is_the_room_with_the_users_ban_kick_membership_and_lobby(
    make_room, make_user
):
    room = make_room("Facts", lobby="non_members")
    ana, bo, cy = make_user("ana"), make_user("bo"), make_user("cy")
    moderation.room_ban_user(room=room, user=ana, by=room.owner, reason="spam")
    RoomKick.objects.create(
        room=room,
        user=bo,
        until=timezone.now() + timedelta(minutes=5),
        reason="noise",
        may_knock=False,
    )
    RoomMembership.objects.create(room=room, user=cy, role="moderator")

    read = selectors.room_with_access_facts(slug=room.slug, user=ana)
    expected = Room.objects.get(pk=room.pk)
    for field in Room._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert read.access_ban_id is not None and read.access_ban_reason == "spam"
    assert read.access_kick_until is None and read.access_membership_role is None
    assert read.access_lobby_waiting is False

    read = selectors.room_with_access_facts(slug=room.slug, user=bo)
    assert read.access_ban_id is None
    assert read.access_kick_until > timezone.now() and timezone.is_aware(read.access_kick_until)
    assert (read.access_kick_reason, read.access_kick_may_knock) == ("noise", False)

    lobby.knock_create(room=room, user=bo, role="member", channel_name="test.knock")
    read = selectors.room_with_access_facts(slug=room.slug, user=cy)
    assert read.access_membership_role == "moderator"
    assert read.access_lobby_waiting is True

    assert selectors.room_with_access_facts(slug="no-such-room", user=cy) is None


_ACCESS_FACTS = (
    "access_ban_id",
    "access_ban_reason",
    "access_kick_until",
    "access_kick_reason",
    "access_kick_may_knock",
    "access_membership_role",
    "access_lobby_waiting",
    "access_facts_user_id",
)


def test_the_user_and_the_room_read_together_are_what_each_read_gives(make_room, make_user):
    room = make_room("Together", lobby="non_members")
    ana, bo, cy = make_user("ana"), make_user("bo"), make_user("cy")
    moderation.room_ban_user(room=room, user=ana, by=room.owner, reason="spam")
    RoomKick.objects.create(
        room=room, user=bo, until=timezone.now() + timedelta(minutes=5), reason="noise"
    )
    RoomMembership.objects.create(room=room, user=cy, role="moderator")
    lobby.knock_create(room=room, user=bo, role="member", channel_name="test.knock")

    for person in (ana, bo, cy, room.owner):
        with CaptureQueriesContext(connection) as captured:
            user, read = selectors.user_and_room_with_access_facts(
                user_id=person.pk, slug=room.slug
            )
        assert len(captured.captured_queries) == 1
        expected_user = user_by_pk(person.pk)
        for field in User._meta.concrete_fields:
            assert getattr(user, field.attname) == getattr(expected_user, field.attname), field
        expected = selectors.room_with_access_facts(slug=room.slug, user=person)
        for field in Room._meta.concrete_fields:
            assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
        for fact in _ACCESS_FACTS:
            assert getattr(read, fact) == getattr(expected, fact), (person.username, fact)
    assert read.access_lobby_waiting is True
    assert timezone.is_aware(
        selectors.user_and_room_with_access_facts(user_id=bo.pk, slug=room.slug)[
            1
        ].access_kick_until
    )


def test_the_user_without_a_room_and_no_user_at_all(make_room, make_user):
    ana = make_user("ana")
    make_room("Somewhere")
    user, room = selectors.user_and_room_with_access_facts(user_id=ana.pk, slug="no-such-room")
    assert user == ana and room is None
    assert selectors.user_and_room_with_access_facts(user_id=ana.pk + 1000, slug="x") == (
        None,
        None,
    )


def test_an_expired_kick_is_no_fact(make_room, make_user):
    room = make_room("Old kick")
    bo = make_user("bo")
    RoomKick.objects.create(room=room, user=bo, until=timezone.now() - timedelta(seconds=1))
    assert selectors.room_with_access_facts(slug=room.slug, user=bo).access_kick_until is None


def test_the_chat_history_is_the_latest_visible_messages_oldest_first(make_room, make_user):
    room = make_room("Chatty")
    ana, bo = make_user("ana"), make_user("bo")
    other = make_room("Elsewhere")
    services.chat_message_create(room=other, user=ana, text="not here")
    messages = [
        services.chat_message_create(room=room, user=(ana, bo)[index % 2], text=f"m{index}")
        for index in range(6)
    ]
    services.chat_message_hide(message=messages[4])

    latest = selectors.chat_messages_latest(room=room, limit=3)

    assert [message.text for message in latest] == ["m2", "m3", "m5"]
    assert [message.user.username for message in latest] == ["ana", "bo", "bo"]
    assert [message.pk for message in latest] == [messages[i].pk for i in (2, 3, 5)]
    assert all(timezone.is_aware(message.created_at) for message in latest)
    # Only the authors' names are read: the cached copy never holds a password hash.
    assert {"password", "email"} <= latest[0].user.get_deferred_fields()


def test_a_message_whose_author_was_deleted_has_no_user(make_room, make_user):
    room = make_room("Orphans")
    gone = make_user("gone")
    services.chat_message_create(room=room, user=gone, text="hello")
    gone.delete()
    (message,) = selectors.chat_messages_latest(room=room)
    assert message.text == "hello" and message.user is None
