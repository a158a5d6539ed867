"""Test settings: the production settings with a fixed key and a fast password hasher."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("DJANGO_HTTPS", "false")

from meet.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests serve static files from the source folders, as the live test servers do; no
# collectstatic output is needed (and WhiteNoise stops warning that it is missing).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "meet.postgresql":  # noqa: F405
    # No pool inside the test process: the tests' own ``sync_to_async`` helpers read the
    # database from each test's async context and never give the connection back (only the
    # consumer's ``database_sync_to_async`` and Django's request cycle do), so a pool would run
    # dry after a few tests. Their connections close when collected, as before the pool. The
    # live servers (tests/support/servers.py) run meet.settings, pool included.
    DATABASES["default"]["OPTIONS"].pop("pool", None)  # noqa: F405
