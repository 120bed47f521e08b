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
