"""Settings read the environment and never write: the demo's secret key is made by the
explicit `carnet secret_key`, and a yes/no variable Carnet cannot read stops it, naming
the variable, instead of silently meaning "no"."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from carnet.env import envbool, envint

CARNET = str(Path(sys.executable).with_name("carnet"))
# The settings without a database server: nothing here connects to one.
NO_DATABASE = "postgresql://nobody@invalid/none"


# --- envbool, envint --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
        (" on ", True),
        ("0", False),
        ("false", False),
        ("False", False),
        ("NO", False),
        ("off", False),
    ],
)
def test_envbool_reads_the_usual_words_whatever_their_case(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("CARNET_TEST_FLAG", value)
    assert envbool("CARNET_TEST_FLAG", not expected) is expected


@pytest.mark.parametrize("default", [True, False])
def test_envbool_empty_or_unset_is_the_default(
    monkeypatch: pytest.MonkeyPatch, default: bool
) -> None:
    monkeypatch.delenv("CARNET_TEST_FLAG", raising=False)
    assert envbool("CARNET_TEST_FLAG", default) is default
    for empty in ("", "  "):
        monkeypatch.setenv("CARNET_TEST_FLAG", empty)
        assert envbool("CARNET_TEST_FLAG", default) is default


@pytest.mark.parametrize("value", ["ture", "2", "oui", "y", "enabled", "-1", "1.0"])
def test_envbool_refuses_what_it_cannot_read_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SESSION_COOKIE_SECURE", value)
    with pytest.raises(ImproperlyConfigured) as refused:
        envbool("SESSION_COOKIE_SECURE", True)
    assert "SESSION_COOKIE_SECURE" in str(refused.value)
    assert repr(value) in str(refused.value)


def test_envint_refuses_what_is_not_a_number_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CARNET_IDLE_TIMEOUT_MINUTES", "thirty")
    with pytest.raises(ImproperlyConfigured, match="CARNET_IDLE_TIMEOUT_MINUTES"):
        envint("CARNET_IDLE_TIMEOUT_MINUTES", 30)
    monkeypatch.setenv("CARNET_IDLE_TIMEOUT_MINUTES", " 45 ")
    assert envint("CARNET_IDLE_TIMEOUT_MINUTES", 30) == 45


# --- the secret key: read by the settings, written only by `carnet secret_key` ----------


def bare_env(var_dir: Path, **more: str) -> dict[str, str]:
    """A `carnet` process's environment with no key given, its own empty var dir."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carnet.settings",
        "DATABASE_URL": NO_DATABASE,
        "CARNET_VAR_DIR": str(var_dir),
        "CARNET_GNUPG_HOME": str(var_dir / "gnupg"),
    }
    for name in ("SECRET_KEY", "SECRET_KEY_FILE", "CARNET_DATABASE_ROLE"):
        env.pop(name, None)
    return {**env, **more}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


PRINT_KEY = (
    "import django; django.setup(); from django.conf import settings\n"
    "try:\n    print('key:' + settings.SECRET_KEY)\n"
    "except Exception as error:\n    print(type(error).__name__, error)\n"
)


def test_reading_the_settings_writes_nothing(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    done = run(bare_env(var_dir), sys.executable, "-c", PRINT_KEY)
    assert done.returncode == 0, done.stderr
    assert list(var_dir.iterdir()) == []  # no secret_key file appeared
    assert "ImproperlyConfigured The SECRET_KEY setting must not be empty." in done.stdout


def test_a_command_needing_the_key_stops_and_says_how_to_make_one(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    done = run(bare_env(var_dir), CARNET, "check")
    assert done.returncode != 0
    assert "carnet.E001" in done.stderr and "carnet secret_key" in done.stderr
    assert not (var_dir / "secret_key").exists()


def test_carnet_secret_key_makes_the_demo_key_once_and_the_settings_read_it(
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "var"
    env = bare_env(var_dir)
    made = run(env, CARNET, "secret_key")
    assert made.returncode == 0, made.stderr
    key_file = var_dir / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # its owner only
    again = run(env, CARNET, "secret_key")
    assert again.returncode == 0 and "kept" in again.stdout
    assert key_file.read_text().strip() == key  # never replaced: sessions stay valid
    assert run(env, CARNET, "check").returncode == 0
    read = run(env, sys.executable, "-c", PRINT_KEY)
    assert read.stdout.strip() == f"key:{key}"


def test_a_key_given_by_the_environment_wins_and_nothing_is_written(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    env = bare_env(var_dir, SECRET_KEY="given-by-the-node-" + "x" * 40)
    made = run(env, CARNET, "secret_key")
    assert made.returncode == 0 and "nothing to write" in made.stdout
    assert not (var_dir / "secret_key").exists()
    read = run(env, sys.executable, "-c", PRINT_KEY)
    assert read.stdout.strip() == "key:given-by-the-node-" + "x" * 40


def test_a_yes_no_setting_carnet_cannot_read_stops_the_process(tmp_path: Path) -> None:
    env = bare_env(tmp_path / "var", SECRET_KEY="k" * 50, SESSION_COOKIE_SECURE="ture")
    done = run(env, CARNET, "check")
    assert done.returncode != 0
    assert "SESSION_COOKIE_SECURE='ture' is not a yes/no value" in done.stderr
