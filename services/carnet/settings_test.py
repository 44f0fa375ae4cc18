"""Test settings: the real settings, with a separate embedded server (or DATABASE_URL),
a throwaway database, fast password hashing and a private OpenPGP home.

The test run connects as the PostgreSQL superuser and switches role on every new
connection (``carnet.db``): migrations run as the owner role, tests as the application
role — so row-level security and the audit grants are those of production. Tests that
simulate an attacker with database access switch back (``RESET ROLE``).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

os.environ.setdefault("CARNET_VAR_DIR", str(Path(__file__).resolve().parents[2] / "var" / "test"))
# A key for this run, in the environment: the `carnet` processes the tests start (a live
# server, a second node) inherit it, and nothing is written.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("CARNET_GNUPG_HOME", tempfile.mkdtemp(prefix="carnet-test-gnupg-"))

from carnet.settings import *  # noqa: F403
from carnet.settings import DATABASES, EMBEDDED_DATABASE

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise looks for it
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only, tests
TEST_DATABASE_NAME = os.environ.get("CARNET_TEST_DATABASE", "carnet_test")

if EMBEDDED_DATABASE:
    DATABASES["default"]["USER"] = "postgres"
DATABASES["default"]["NAME"] = TEST_DATABASE_NAME
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CARNET_ROLE"] = "carnet_app"
