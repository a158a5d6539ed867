"""Rows read by SQL written once become the instances the ORM would make (meet/rows.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from meet.rows import row_reader
from rooms.models import Participant

pytestmark = pytest.mark.django_db


def _read(reader, model, pk):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {reader.columns} FROM {table} t WHERE t.id = %s", [pk])
        return cursor.fetchone()


def test_a_row_becomes_the_instance_the_orm_would_make(make_user):
    user = make_user("ana", is_staff=True)
    user.last_login = timezone.now()
    user.save()
    reader = row_reader(User, "t", "default")

    made = reader.instance(_read(reader, User, user.pk))

    expected = User.objects.get(pk=user.pk)
    for field in User._meta.concrete_fields:
        value, wanted = getattr(made, field.attname), getattr(expected, field.attname)
        assert value == wanted, field.name
        assert type(value) is type(wanted), field.name
    # What SQLite returns raw (naive text timestamps, 0 and 1) is converted as the ORM does.
    assert timezone.is_aware(made.date_joined)
    assert made.is_staff is True
    assert made.is_superuser is False
    assert made.get_deferred_fields() == set()
    assert made._state.adding is False
    assert made._state.db == "default"


def test_only_the_named_fields_are_selected_the_rest_read_on_use(make_user):
    user = make_user("bo")
    reader = row_reader(User, "t", "default", ("username", "display_name"))
    assert reader.attnames == ("id", "username", "display_name")
    assert "password" not in reader.columns

    made = reader.instance(_read(reader, User, user.pk))

    assert (made.pk, made.username, made.display_name) == (user.pk, "bo", "Bo")
    assert "password" in made.get_deferred_fields()
    assert made.password == user.password  # Deferred: read from the database when asked.


def test_a_json_field_comes_back_decoded(make_room):
    room = make_room("Json")
    now = timezone.now()
    participant = Participant.objects.create(
        room=room,
        user=room.owner,
        peer_id="peer-1",
        channel_name="test.channel",
        state={"mic": True, "camera": False},
        last_seen=now,
    )
    reader = row_reader(Participant, "t", "default", ("state", "joined_at", "room", "user"))

    made = reader.instance(_read(reader, Participant, participant.pk))

    assert made.state == {"mic": True, "camera": False}
    assert made.joined_at == participant.joined_at
    assert (made.room_id, made.user_id) == (room.pk, room.owner.pk)
