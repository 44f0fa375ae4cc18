"""The `carnet` command's own subcommands."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from carnet.management.commands.totp import current_code


def test_node_key_creates_the_key_once(capsys) -> None:
    call_command("node_key")
    first = capsys.readouterr().out
    call_command("node_key")
    second = capsys.readouterr().out
    fingerprint = first.split(": ", 1)[1].split()[0]
    assert "BEGIN PGP PUBLIC KEY BLOCK" in first
    assert "(existing)" in second and fingerprint in second


def test_totp_prints_the_rfc6238_code() -> None:
    # RFC 6238 test vector (SHA-1, secret "12345678901234567890", T = 59 s): 94287082.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert current_code(secret, at=59) == "287082"


def test_totp_refuses_a_bad_secret() -> None:
    with pytest.raises(CommandError):
        call_command("totp", "not base32!")


def test_the_command_line_leaves_the_cycle_collector_on_even_when_django_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Django is loaded with the collector paused (a faster start); a failure to load must
    # not leave it paused, and must be left to Django's command line to report.
    import gc

    import django

    from carnet import cli

    def broken_setup() -> None:
        assert not gc.isenabled()
        raise RuntimeError("settings are broken")

    monkeypatch.setattr(django, "setup", broken_setup)

    cli._set_up_django()

    assert gc.isenabled()
    gc.unfreeze()


def test_the_command_line_keeps_its_objects_from_the_collector_as_it_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Python collects once more at exit, scanning every object left: for a command that
    # made many (an import), a fifth of a second spent on memory the process gives back.
    import gc

    from carnet import cli

    def failing_command(argv: list[str]) -> None:
        gc.unfreeze()
        raise SystemExit(1)

    monkeypatch.setattr("django.core.management.execute_from_command_line", failing_command)
    try:
        with pytest.raises(SystemExit):
            cli.main(["carnet", "check"])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
