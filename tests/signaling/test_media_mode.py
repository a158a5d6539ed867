"""signaling.media_mode: which calls go through the SFU, on which Janus node, and when that ends.

The rule is pure (``wants_sfu``); the decision as someone joins (``call_media_settle``), the
choice of node (``sfu_node_choose``) and the release of an emptied call's SFU
(``call_media_release_if_empty``) read and write the room's row, so they run with the database.
The last tests go through ``presence.participant_join``, where the decision is taken under the
room's lock.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from rooms.models import MediaMode, Participant, Room
from signaling import media_mode, presence
from signaling.media_mode import MESH, SFU, CallMedia

NODES = ["ws://a", "ws://b"]
THRESHOLD = 3


@pytest.fixture(autouse=True)
def _every_node_healthy():
    """Each test starts with every node healthy and leaves them so (the set is per process)."""
    media_mode._unhealthy_nodes.clear()
    yield
    media_mode._unhealthy_nodes.clear()


@pytest.fixture
def janus_configured(settings):
    settings.JANUS_URLS = list(NODES)
    settings.JANUS_API_SECRET = "api-secret"
    settings.JANUS_ADMIN_KEY = "admin-key"
    settings.SFU_THRESHOLD = THRESHOLD
    return settings


def stored_media(room: Room) -> CallMedia:
    """The room's live SFU as its row says, read as ``participant_join`` reads it."""
    row = Room.objects.values("sfu_node", "sfu_room", "sfu_secret").get(pk=room.pk)
    return CallMedia(
        mode=SFU if row["sfu_node"] else MESH,
        node=row["sfu_node"],
        room=row["sfu_room"],
        secret=row["sfu_secret"],
    )


def settle(room: Room, *, others: int, room_mode: str | None = None) -> CallMedia:
    return media_mode.call_media_settle(
        room_id=room.pk,
        room_mode=room_mode or room.media_mode,
        current=stored_media(room),
        others_connected=others,
    )


def put_on_sfu(room: Room, *, node: str, sfu_room: int = 77, secret: str = "old-secret") -> None:
    Room.objects.filter(pk=room.pk).update(sfu_node=node, sfu_room=sfu_room, sfu_secret=secret)


def connect_someone(room: Room, user, *, peer_id: str, **fields) -> Participant:
    fields.setdefault("last_seen", timezone.now())
    return Participant.objects.create(room=room, user=user, peer_id=peer_id, **fields)


# --- the rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("room_mode", "call_size", "already_on_sfu", "on_sfu"),
    [
        # A mesh room never moves on its own, however large the call...
        (MediaMode.MESH, 1, False, False),
        (MediaMode.MESH, THRESHOLD + 1, False, False),
        (MediaMode.MESH, 50, False, False),
        # ...but a call already on the SFU (the mode changed during it) stays there.
        (MediaMode.MESH, 2, True, True),
        # An sfu room's call uses the SFU from its first person.
        (MediaMode.SFU, 1, False, True),
        (MediaMode.SFU, THRESHOLD + 1, False, True),
        (MediaMode.SFU, 1, True, True),
        # An auto room's call moves once it would be larger than the threshold.
        (MediaMode.AUTO, 1, False, False),
        (MediaMode.AUTO, THRESHOLD, False, False),
        (MediaMode.AUTO, THRESHOLD + 1, False, True),
        (MediaMode.AUTO, 50, False, True),
        # It does not move back when it shrinks again.
        (MediaMode.AUTO, 1, True, True),
        (MediaMode.AUTO, THRESHOLD, True, True),
    ],
)
def test_wants_sfu_follows_the_room_mode_the_call_size_and_where_the_call_already_is(
    room_mode, call_size, already_on_sfu, on_sfu
):
    assert (
        media_mode.wants_sfu(
            room_mode=room_mode,
            call_size=call_size,
            threshold=THRESHOLD,
            already_on_sfu=already_on_sfu,
        )
        is on_sfu
    )


# --- the decision as someone joins --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("room_mode", [MediaMode.AUTO, MediaMode.MESH, MediaMode.SFU])
def test_without_janus_configured_every_call_is_a_mesh(make_room, settings, room_mode):
    settings.JANUS_URLS = []
    room = make_room(media_mode=room_mode)
    for others in (0, THRESHOLD, 40):
        media = settle(room, others=others)
        assert media == CallMedia(), (room_mode, others)
        assert not media.on_sfu
    assert stored_media(room) == CallMedia()


@pytest.mark.django_db
def test_without_janus_a_fresh_call_still_retires_a_leftover_sfu_room(make_room, settings):
    settings.JANUS_URLS = []
    room = make_room(media_mode=MediaMode.SFU)
    put_on_sfu(room, node="ws://gone")
    media = settle(room, others=0)
    assert media.mode == MESH
    assert media.retired == CallMedia(mode=SFU, node="ws://gone", room=77, secret="old-secret")
    assert stored_media(room) == CallMedia()


@pytest.mark.django_db
def test_an_auto_call_moves_to_the_sfu_only_when_it_grows_past_the_threshold(
    make_room, janus_configured
):
    room = make_room()
    assert room.media_mode == MediaMode.AUTO
    for others in range(THRESHOLD):
        assert settle(room, others=others) == CallMedia(), others
        assert stored_media(room) == CallMedia()
    media = settle(room, others=THRESHOLD)
    assert media.mode == SFU and media.switched
    assert media.node in NODES
    assert isinstance(media.room, int) and 1 <= media.room < 2**53
    assert re.fullmatch(r"[0-9a-f]{32}", media.secret)
    assert media.retired is None
    # Every process reads the same answer from the room's row.
    assert stored_media(room) == CallMedia(
        mode=SFU, node=media.node, room=media.room, secret=media.secret
    )


@pytest.mark.django_db
def test_an_sfu_room_starts_on_the_sfu_and_only_a_running_call_is_switched(
    make_room, janus_configured
):
    first = settle(make_room(media_mode=MediaMode.SFU), others=0)
    assert first.mode == SFU and first.node in NODES and first.room
    assert not first.switched, "nobody was in the call to move"
    # A mesh call in a room turned to "sfu" meanwhile moves with its next joiner.
    running = settle(make_room(media_mode=MediaMode.SFU), others=2)
    assert running.mode == SFU and running.switched


@pytest.mark.django_db
def test_two_calls_get_distinct_videoroom_ids_and_secrets(make_room, janus_configured):
    one = settle(make_room(media_mode=MediaMode.SFU), others=0)
    two = settle(make_room(media_mode=MediaMode.SFU), others=0)
    assert one.room != two.room and one.secret != two.secret


@pytest.mark.django_db
def test_a_call_on_the_sfu_stays_there_when_it_shrinks(make_room, janus_configured):
    room = make_room()
    moved = settle(room, others=THRESHOLD)
    for others in (THRESHOLD + 1, 2, 1):
        media = settle(room, others=others)
        assert media == CallMedia(
            mode=SFU, node=moved.node, room=moved.room, secret=moved.secret
        ), others
        assert not media.switched and media.retired is None
    assert stored_media(room).room == moved.room


@pytest.mark.django_db
def test_a_call_already_on_the_sfu_stays_there_even_in_a_room_turned_to_mesh(
    make_room, janus_configured
):
    room = make_room()
    moved = settle(room, others=THRESHOLD)
    media = settle(room, others=THRESHOLD + 1, room_mode=MediaMode.MESH)
    assert (media.mode, media.room) == (SFU, moved.room)


@pytest.mark.django_db
def test_a_fresh_auto_call_retires_the_leftover_sfu_room_and_clears_the_row(
    make_room, janus_configured
):
    room = make_room()
    put_on_sfu(room, node="ws://b")
    media = settle(room, others=0)
    assert media.mode == MESH and not media.switched
    assert media.retired == CallMedia(mode=SFU, node="ws://b", room=77, secret="old-secret")
    assert stored_media(room) == CallMedia()


@pytest.mark.django_db
def test_a_fresh_sfu_call_retires_the_leftover_sfu_room_and_replaces_it(
    make_room, janus_configured
):
    room = make_room(media_mode=MediaMode.SFU)
    put_on_sfu(room, node="ws://b")
    media = settle(room, others=0)
    assert media.mode == SFU and not media.switched
    assert media.room != 77 and media.secret != "old-secret"
    assert media.retired == CallMedia(mode=SFU, node="ws://b", room=77, secret="old-secret")
    assert stored_media(room) == CallMedia(
        mode=SFU, node=media.node, room=media.room, secret=media.secret
    )


# --- the choice of node -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_node_is_chosen_when_none_has_a_call(make_room, janus_configured):
    room = make_room()
    assert media_mode.sfu_node_choose(exclude_room_id=room.pk) == "ws://a"


@pytest.mark.django_db
def test_the_node_with_the_fewest_live_calls_is_chosen(make_room, make_user, janus_configured):
    # ws://a carries two live calls, one of them with two people (still one call).
    for name, people in (("One", 1), ("Two", 2)):
        busy = make_room(name)
        put_on_sfu(busy, node="ws://a")
        for index in range(people):
            connect_someone(busy, make_user(), peer_id=f"{name}-{index}")
    # ws://b carries one live call, and two whose people are gone: those cost it nothing.
    live = make_room("Live")
    put_on_sfu(live, node="ws://b")
    connect_someone(live, make_user(), peer_id="live")
    left = make_room("Left")
    put_on_sfu(left, node="ws://b")
    connect_someone(left, make_user(), peer_id="left", left_at=timezone.now())
    stale = make_room("Stale")
    put_on_sfu(stale, node="ws://b")
    stale_since = timezone.now() - timedelta(seconds=janus_configured.PRESENCE_STALE_SECONDS + 5)
    connect_someone(stale, make_user(), peer_id="stale", last_seen=stale_since)

    newcomer = make_room("New")
    assert media_mode.sfu_node_choose(exclude_room_id=newcomer.pk) == "ws://b"
    # A third live call on ws://b ties the two nodes: the first one listed wins the tie.
    third = make_room("Third")
    put_on_sfu(third, node="ws://b")
    connect_someone(third, make_user(), peer_id="third")
    assert media_mode.sfu_node_choose(exclude_room_id=newcomer.pk) == "ws://a"


@pytest.mark.django_db
def test_the_deciding_room_does_not_count_against_its_own_node(
    make_room, make_user, janus_configured
):
    deciding = make_room("Deciding")
    put_on_sfu(deciding, node="ws://a")
    connect_someone(deciding, make_user(), peer_id="here")
    other = make_room("Other")
    put_on_sfu(other, node="ws://b")
    connect_someone(other, make_user(), peer_id="there")
    assert media_mode.sfu_node_choose(exclude_room_id=deciding.pk) == "ws://a"


@pytest.mark.django_db
def test_an_unhealthy_node_takes_no_new_calls_until_it_is_healthy_again(
    make_room, make_user, janus_configured
):
    busy = make_room("Busy")
    put_on_sfu(busy, node="ws://b")
    connect_someone(busy, make_user(), peer_id="busy")
    room = make_room()
    media_mode.node_health_set(node="ws://a", healthy=False)
    # The idle node is dead, so the busy one takes the call.
    assert media_mode.sfu_node_choose(exclude_room_id=room.pk) == "ws://b"
    assert settle(make_room(media_mode=MediaMode.SFU), others=0).node == "ws://b"
    media_mode.node_health_set(node="ws://a", healthy=True)
    assert media_mode.sfu_node_choose(exclude_room_id=room.pk) == "ws://a"


@pytest.mark.django_db
def test_when_every_node_is_unhealthy_the_least_loaded_of_all_is_tried(
    make_room, make_user, janus_configured
):
    busy = make_room("Busy")
    put_on_sfu(busy, node="ws://a")
    connect_someone(busy, make_user(), peer_id="busy")
    room = make_room()
    for node in NODES:
        media_mode.node_health_set(node=node, healthy=False)
    assert media_mode.sfu_node_choose(exclude_room_id=room.pk) == "ws://b"
    assert settle(make_room(media_mode=MediaMode.SFU), others=0).mode == SFU


# --- the release of an emptied call -------------------------------------------------------------


@pytest.mark.django_db
def test_an_emptied_call_releases_its_sfu_once_and_clears_the_row(
    make_room, make_user, janus_configured
):
    room = make_room(media_mode=MediaMode.SFU)
    media = settle(room, others=0)
    ana = connect_someone(room, make_user("ana"), peer_id="ana")
    bob = connect_someone(room, make_user("bob"), peer_id="bob")
    Participant.objects.filter(pk=bob.pk).update(left_at=timezone.now())
    # Ana is still in the call: nothing to destroy.
    assert media_mode.call_media_release_if_empty(room_id=room.pk) is None
    assert stored_media(room).room == media.room
    Participant.objects.filter(pk=ana.pk).update(left_at=timezone.now())
    released = media_mode.call_media_release_if_empty(room_id=room.pk)
    assert released == CallMedia(mode=SFU, node=media.node, room=media.room, secret=media.secret)
    assert stored_media(room) == CallMedia()
    # A second process whose last peer left at the same time gets nothing to destroy.
    assert media_mode.call_media_release_if_empty(room_id=room.pk) is None


@pytest.mark.django_db
def test_a_stale_participant_does_not_keep_the_sfu_of_an_emptied_call(
    make_room, make_user, janus_configured
):
    room = make_room(media_mode=MediaMode.SFU)
    media = settle(room, others=0)
    stale_since = timezone.now() - timedelta(seconds=janus_configured.PRESENCE_STALE_SECONDS + 5)
    connect_someone(room, make_user(), peer_id="ghost", last_seen=stale_since)
    assert media_mode.call_media_release_if_empty(room_id=room.pk).room == media.room


@pytest.mark.django_db
def test_a_mesh_call_or_a_missing_room_has_nothing_to_release(make_room, janus_configured):
    room = make_room()
    assert media_mode.call_media_release_if_empty(room_id=room.pk) is None
    assert media_mode.call_media_release_if_empty(room_id=room.pk + 1000) is None


# --- through participant_join -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_joiner_past_the_threshold_moves_an_auto_call_to_the_sfu(
    make_room, make_user, janus_configured
):
    room = make_room()
    users = [make_user(f"person{index}") for index in range(THRESHOLD + 2)]

    def join(user):
        return presence.participant_join(
            room=room, user=user, role="member", channel_name=f"socket-{user.username}"
        )

    for user in users[:THRESHOLD]:
        media = join(user).media
        assert media.mode == MESH and not media.switched, user.username
    moved = join(users[THRESHOLD]).media
    assert moved.mode == SFU and moved.switched
    assert moved.node in NODES
    assert stored_media(room) == CallMedia(
        mode=SFU, node=moved.node, room=moved.room, secret=moved.secret
    )
    # The next one joins the call where it is; nothing is switched again.
    later = join(users[THRESHOLD + 1]).media
    assert (later.mode, later.node, later.room, later.switched) == (
        SFU,
        moved.node,
        moved.room,
        False,
    )

    # Everyone leaves without the release running (their process died): the next call starts
    # as a mesh and is handed the old SFU room to destroy.
    Participant.objects.filter(room=room).update(left_at=timezone.now())
    fresh = join(users[0]).media
    assert fresh.mode == MESH
    assert fresh.retired == CallMedia(
        mode=SFU, node=moved.node, room=moved.room, secret=moved.secret
    )
    assert stored_media(room) == CallMedia()
