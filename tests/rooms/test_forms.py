"""Room forms: each bad field gets a message a person can act on."""

import pytest

from rooms.forms import RoomCreateForm, RoomEditForm
from rooms.models import LobbyPolicy, Room


def test_create_form_needs_only_a_name_and_defaults_the_rest():
    form = RoomCreateForm({"name": " Weekly Sync "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "name": "Weekly Sync",
        "description": "",
        "max_participants": 8,
        "is_private": False,
    }


def test_create_form_accepts_the_bounds_of_every_field():
    for name, size in (("n", 2), ("n" * 80, 16)):
        form = RoomCreateForm({"name": name, "max_participants": size, "description": "d" * 1000})
        assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": ""}, {"name": ["Give the room a name."]}),
        ({"name": "\t \n"}, {"name": ["Give the room a name."]}),
        (
            {"name": "n" * 81},
            {"name": ["Room names can be at most 80 characters (this one has 81)."]},
        ),
        (
            {"name": "ok", "max_participants": "0"},
            {"max_participants": ["A call needs at least 2 participants."]},
        ),
        (
            {"name": "ok", "max_participants": "99"},
            {"max_participants": ["At most 16 participants fit in one call."]},
        ),
        (
            {"name": "ok", "max_participants": "2.5"},
            {"max_participants": ["Enter a whole number."]},
        ),
        (
            {"name": "ok", "description": "d" * 1001},
            {"description": ["Keep the description under 1000 characters."]},
        ),
    ],
)
def test_create_form_bad_input_gets_one_clear_message_per_field(data, errors):
    form = RoomCreateForm(data)
    assert not form.is_valid()
    assert form.errors == errors


def test_edit_form_has_the_lock_and_validates_like_create():
    form = RoomEditForm({"name": "", "is_locked": "on"})
    assert not form.is_valid() and list(form.errors) == ["name"]
    form = RoomEditForm({"name": "ok", "is_locked": "on"})
    assert form.is_valid() and form.cleaned_data["is_locked"] is True


def test_edit_form_takes_guests_and_the_lobby_under_their_contract_names():
    form = RoomEditForm(
        {"name": "ok", "guests_allowed": "on", "lobby": "non_members", "lobby_when_locked": "on"}
    )
    assert form.is_valid(), form.errors
    assert {key: form.cleaned_data[key] for key in ("guests_allowed", "lobby")} == {
        "guests_allowed": True,
        "lobby": "non_members",
    }
    assert form.cleaned_data["lobby_when_locked"] is True
    assert [value for value, _label in form.fields["lobby"].choices] == [
        "off",
        "guests",
        "non_members",
    ]


def test_edit_form_posted_without_a_lobby_keeps_the_rooms_lobby():
    form = RoomEditForm({"name": "ok"}, instance=Room(name="ok", lobby=LobbyPolicy.GUESTS))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["lobby"] == "guests"
    assert form.cleaned_data["guests_allowed"] is False
    # Sent but empty is a mistake to point out, not a value to guess.
    empty = RoomEditForm({"name": "ok", "lobby": ""}, instance=Room(name="ok"))
    assert empty.errors == {"lobby": ["Choose who waits in the lobby."]}


@pytest.mark.parametrize("form_class", [RoomCreateForm, RoomEditForm])
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Sync\u202eevil", "Room names cannot contain characters that change text direction."),
        ("\u200b\u200d", "Room names need at least one visible character."),
        ("Sync\x1b[31m", "Room names cannot contain control characters."),
    ],
)
def test_room_forms_refuse_invisible_and_direction_tricks_in_names(form_class, name, message):
    form = form_class({"name": name})
    assert not form.is_valid()
    assert form.errors["name"] == [message]


def test_room_forms_normalise_names_with_nfkc():
    form = RoomCreateForm({"name": "  Ｗｅｅｋｌｙ   Sync\u3000"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "Weekly Sync"


JANUS = {"JANUS_URLS": ["ws://127.0.0.1:8188"], "JANUS_API_SECRET": "s", "JANUS_ADMIN_KEY": "k"}


def test_with_an_sfu_a_room_may_be_larger_than_a_mesh_but_not_past_100(settings):
    for key, value in JANUS.items():
        setattr(settings, key, value)
    form = RoomCreateForm({"name": "Town hall", "max_participants": "40"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["max_participants"] == 40
    assert 'max="100"' in str(form["max_participants"])
    too_many = RoomCreateForm({"name": "Town hall", "max_participants": "101"})
    assert too_many.errors == {"max_participants": ["At most 100 participants fit in one call."]}


@pytest.mark.django_db
def test_a_room_set_to_peer_to_peer_stays_within_the_mesh_limit(settings, make_room):
    for key, value in JANUS.items():
        setattr(settings, key, value)
    room = make_room("Board")
    data = {
        "name": "Board",
        "max_participants": "40",
        "lobby": room.lobby,
        "media_mode": "mesh",
    }
    form = RoomEditForm(data, instance=room)
    assert form.errors == {
        "max_participants": [
            "Peer to peer works for up to 16 people; for more, let video go through the server."
        ]
    }
    form = RoomEditForm({**data, "media_mode": "auto"}, instance=room)
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_without_an_sfu_the_model_refuses_a_call_larger_than_a_mesh(make_room):
    from django.core.exceptions import ValidationError

    room = make_room("Board")
    room.max_participants = 17
    with pytest.raises(ValidationError) as refused:
        room.full_clean()
    assert refused.value.message_dict["max_participants"] == [
        "More than 16 people need video to go through the server."
    ]
