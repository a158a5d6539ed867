"""Account reads: the user by primary key and the user a session is logged in as."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.selectors import session_model_user_id, session_user, user_by_pk
from tests.support.servers import session_key_for

pytestmark = pytest.mark.django_db


class _CountingBackend(ModelBackend):
    """A backend of the project's own: ``session_user`` must ask it, not read the row itself."""

    asked: list = []

    def get_user(self, user_id):
        self.asked.append(user_id)
        return super().get_user(user_id)


def _session(user, backend="django.contrib.auth.backends.ModelBackend") -> SessionStore:
    session = SessionStore(session_key=session_key_for(user))
    session[BACKEND_SESSION_KEY] = backend
    session.save()
    return SessionStore(session_key=session.session_key)


def test_user_by_pk_is_the_row_the_orm_reads_in_one_statement(make_user):
    user = make_user("ana")
    with CaptureQueriesContext(connection) as captured:
        read = user_by_pk(user.pk)
    assert len(captured.captured_queries) == 1
    assert read == user
    assert (read.username, read.password, read.is_active) == ("ana", user.password, True)
    assert user_by_pk(user.pk + 1000) is None


def test_a_session_gives_its_user(make_user):
    user = make_user("ana")
    assert session_user(_session(user)) == user


def test_a_session_whose_password_changed_since_is_anonymous_and_flushed(make_user):
    user = make_user("ana")
    session = _session(user)
    key = session.session_key
    user.set_password("a-new-password-123")
    user.save()
    assert session_user(session).is_anonymous
    assert SESSION_KEY not in session
    assert not SessionStore().exists(key)  # Flushed: the stolen cookie is worth nothing now.


def test_a_deactivated_user_is_anonymous(make_user):
    user = make_user("ana")
    session = _session(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert session_user(session).is_anonymous


def test_a_deleted_user_is_anonymous(make_user):
    user = make_user("ana")
    session = _session(user)
    User.objects.filter(pk=user.pk).delete()
    assert session_user(session).is_anonymous


def test_a_session_without_a_login_or_its_hash_is_anonymous(make_user):
    assert session_user(SessionStore()).is_anonymous
    user = make_user("ana")
    session = _session(user)
    del session[HASH_SESSION_KEY]
    assert session_user(session).is_anonymous


def test_a_backend_no_longer_configured_is_anonymous(make_user, settings):
    user = make_user("ana")
    session = _session(user)
    settings.AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend"]
    assert session_user(session).is_anonymous


def test_another_backend_is_asked_for_the_user(make_user, settings):
    path = f"{__name__}._CountingBackend"
    settings.AUTHENTICATION_BACKENDS = [path]
    user = make_user("ana")
    _CountingBackend.asked.clear()
    assert session_user(_session(user, backend=path)) == user
    assert _CountingBackend.asked == [user.pk]


def test_the_row_a_session_names_is_its_users_under_model_backend_only(make_user, settings):
    user = make_user("ana")
    assert session_model_user_id(_session(user)) == user.pk
    assert session_model_user_id(SessionStore()) is None
    path = f"{__name__}._CountingBackend"
    assert session_model_user_id(_session(user, backend=path)) is None  # Not configured.
    settings.AUTHENTICATION_BACKENDS = [path]
    assert session_model_user_id(_session(user, backend=path)) is None  # Asked, not read.


def test_a_row_read_beforehand_is_used_and_judged_by_the_same_rule(make_user):
    user = make_user("ana")
    session = _session(user)
    row = user_by_pk(user.pk)
    with CaptureQueriesContext(connection) as captured:
        assert session_user(session, read_user=lambda pk: row) is row
    assert captured.captured_queries == []
    row.is_active = False
    assert session_user(_session(user), read_user=lambda pk: row).is_anonymous
    assert session_user(_session(user), read_user=lambda pk: None).is_anonymous
