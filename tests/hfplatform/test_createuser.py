"""``manage.py createuser``'s password: any value, also one that starts with a dash, in both forms
(``--password=VALUE`` and ``--password VALUE``); the prompt when it is left out."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from hfplatform.accounts.management.commands.createuser import Command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("args", [
    ["--password=-xyz-long-password"],
    ["--password", "-xyz-long-password"],
])
def test_a_password_that_starts_with_a_dash(capsys, args):
    call_command("createuser", "dash", "--role", "reviewer", *args)
    out = capsys.readouterr().out
    assert "Created dash with role reviewer" in out
    assert "shown once" not in out  # the given password is not printed
    assert authenticate(username="dash", password="-xyz-long-password") is not None


@pytest.mark.parametrize("value", ["--role", "-", "--", "plain-value", "-x --y"])
def test_the_value_after_password_is_always_the_password(value):
    parser = Command().create_parser("manage.py", "createuser")
    options = parser.parse_args(["ann", "--password", value, "--role", "auditor"])
    assert (options.password, options.role, options.username) == (value, "auditor", "ann")


def test_a_password_option_without_a_value_is_still_refused():
    with pytest.raises(CommandError, match="expected one argument"):
        call_command("createuser", "bo", "--role", "reviewer", "--password")


def test_without_a_password_a_terminal_is_prompted(capsys, monkeypatch):
    prompts = []
    monkeypatch.setattr(Command, "stdin_is_tty", staticmethod(lambda: True))
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or "-typed-password")
    call_command("createuser", "cy", "--role", "photographer")
    assert prompts == ["Password (empty: generate one): "]
    assert "shown once" not in capsys.readouterr().out
    assert authenticate(username="cy", password="-typed-password") is not None


def test_an_empty_password_is_generated_and_shown_once(capsys):
    call_command("createuser", "di", "--role", "reviewer", "--password=")
    password = capsys.readouterr().out.split("Password (shown once): ")[1].strip()
    assert authenticate(username="di", password=password) is not None
