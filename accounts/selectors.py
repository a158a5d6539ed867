"""Reads about accounts."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.db import connections, router
from django.utils.crypto import constant_time_compare

from meet.rows import RowReader, row_reader


def user_json(user) -> dict[str, Any]:
    """A user as the protocol and the room page show it: id, username and display name.

    ``user`` may be None (a chat message whose author was deleted).
    """
    if user is None:
        return {"id": None, "username": "", "display_name": ""}
    return {"id": user.pk, "username": user.username, "display_name": user.shown_name}


@functools.cache
def _user_by_pk_statement(using: str) -> tuple[str, RowReader]:
    user_model = get_user_model()
    reader = row_reader(user_model, "u", using)
    quote = connections[using].ops.quote_name
    sql = (
        f"SELECT {reader.columns} FROM {quote(user_model._meta.db_table)} u"  # noqa: S608 - names from the model
        f" WHERE u.{quote(user_model._meta.pk.column)} = %s"
    )
    return sql, reader


def user_by_pk(pk) -> Any:
    """The user with primary key ``pk``, or None: ``ModelBackend.get_user``'s read of the row.

    The same row and instance as ``User._default_manager.get(pk=pk)``, with the statement
    written once per process: building it with the ORM cost more than running it, on every
    join (issue #14).
    """
    user_model = get_user_model()
    using = router.db_for_read(user_model)
    sql, reader = _user_by_pk_statement(using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    return None if row is None else reader.instance(row)


def _session_login(session) -> tuple[Any, Any] | None:
    """The user id and the backend a session was logged in with, if that backend is configured."""
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    return user_id, load_backend(backend_path)


def session_model_user_id(session) -> Any:
    """The id of the user row ``session_user`` reads for this session, or None.

    None when the session is not logged in, or was logged in by a backend that is no longer
    configured or is not Django's ``ModelBackend`` (``session_user`` asks such a backend itself).
    So a caller may read that row together with something else and hand it to ``session_user``.
    """
    login = _session_login(session)
    if login is None or type(login[1]) is not ModelBackend:
        return None
    return login[0]


def session_user(session, *, read_user: Callable[[Any], Any] = user_by_pk) -> Any:
    """The user a session is logged in as, else an ``AnonymousUser``: Channels' ``get_user``.

    The same rule: the session's user, through the backend that logged it in, if that backend
    is still configured and the session's auth hash still matches (a changed password ends
    every other session); otherwise the session is flushed and the visitor is anonymous. Only
    Django's ``ModelBackend`` reads the row, through ``read_user`` (``user_by_pk``, or the
    row a caller read already, for ``session_model_user_id``); any other backend is asked.
    """
    login = _session_login(session)
    if login is None:
        return AnonymousUser()
    user_id, backend = login
    if type(backend) is ModelBackend:
        user = read_user(user_id)
        if user is not None and not backend.user_can_authenticate(user):
            user = None
    else:
        user = backend.get_user(user_id)
    if hasattr(user, "get_session_auth_hash"):
        session_hash = session.get(HASH_SESSION_KEY)
        if not (session_hash and constant_time_compare(session_hash, user.get_session_auth_hash())):
            session.flush()
            user = None
    return user or AnonymousUser()
