"""Roles, the data migration's groups and the user commands."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from hfplatform.accounts.roles import Role, has_role, user_roles
from hfplatform.accounts.services import user_set_role

pytestmark = pytest.mark.django_db


def test_migration_creates_a_group_per_role():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "reviewer", "photographer", "ml_engineer", "auditor"}


def test_roles_and_admin_passes_every_check(make_user):
    photographer = make_user("photographer")
    admin = make_user("admin")
    assert user_roles(photographer) == {Role.PHOTOGRAPHER}
    assert has_role(photographer, {Role.REVIEWER, Role.PHOTOGRAPHER})
    assert not has_role(photographer, {Role.ML_ENGINEER})
    assert has_role(admin, {Role.AUDITOR})
    assert admin.is_staff
    assert admin.is_superuser


def test_inactive_user_has_no_role(make_user):
    user = make_user("ml_engineer")
    user.is_active = False
    assert user_roles(user) == frozenset()


def test_set_role_replaces_the_old_one(make_user):
    user = make_user("reviewer")
    user_set_role(user=user, role="auditor")
    fresh = get_user_model().objects.get(pk=user.pk)
    assert user_roles(fresh) == {Role.AUDITOR}


def test_createuser_command_with_role_and_password(capsys):
    call_command("createuser", "dana", role="photographer", password="s3cret-enough-pass")
    assert "Created dana with role photographer" in capsys.readouterr().out
    user = authenticate(username="dana", password="s3cret-enough-pass")
    assert user_roles(user) == {Role.PHOTOGRAPHER}


def test_createuser_generates_and_prints_a_password_once(capsys):
    call_command("createuser", "eli", role="auditor")
    out = capsys.readouterr().out
    password = out.split("Password (shown once): ")[1].strip()
    assert authenticate(username="eli", password=password) is not None


def test_createuser_refuses_duplicates_and_unknown_roles():
    call_command("createuser", "fay", role="reviewer", password="x-long-password-1")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createuser", "FAY", role="reviewer", password="x-long-password-2")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("createuser", "gus", role="wizard")


def test_seed_demo_prints_passwords_once_and_is_idempotent(capsys, settings):
    call_command("seed_demo")
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ")}
    assert set(lines) == {"admin", "reviewer", "photographer", "engineer", "auditor"}
    username, role, password = lines["engineer"]
    assert role == "ml_engineer"
    assert user_roles(authenticate(username=username, password=password)) == {Role.ML_ENGINEER}
    assert len(list((settings.MEDIA_ROOT / "demo" / "photos").glob("*.jpg"))) == 6

    call_command("seed_demo")
    again = capsys.readouterr().out
    assert password not in again
    assert "already exist" in again
    assert get_user_model().objects.count() == 5
