"""Test settings: DATABASE_URL picks the backend (SQLite in a temp file by default)."""

import os
import tempfile

os.environ.setdefault("CHAINSTORE_DATA_DIR", tempfile.mkdtemp(prefix="chainstore-test-"))

from chainstore.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns when missing

if DATABASES["default"]["ENGINE"] == "chainstore.core.sqlite":  # noqa: F405
    # A file database (one per xdist worker), not the shared in-memory one: in-memory
    # SQLite ignores the busy timeout, and the concurrency tests need real WAL behaviour.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(os.environ["CHAINSTORE_DATA_DIR"], "test.sqlite3")
    }

# The live server (browser tests) serves each request in a new thread: persistent connections
# would outlive those threads and keep the test database busy at teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
