"""``manage.py createuser NAME --role ROLE``: add a person with one role."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from hfplatform.accounts.roles import Role
from hfplatform.accounts.services import user_create
from hfplatform.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a user with a role (reviewer, photographer, ml_engineer, auditor or admin)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password", default=None,
            help="Password to set. Without it: prompt on a terminal, else generate and print one.",
        )

    def handle(self, *args, username: str, role: str, email: str, password: str | None,
               **options) -> None:
        if password is None and options.get("interactive", True) and self.stdin_is_tty():
            password = getpass.getpass("Password (empty: generate one): ") or None
        try:
            user, password_used = user_create(
                username=username, role=role, email=email, password=password
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Created {user.username} with role {role}."))
        if password is None:
            self.stdout.write(f"Password (shown once): {password_used}")

    @staticmethod
    def stdin_is_tty() -> bool:
        import sys

        return sys.stdin is not None and sys.stdin.isatty()
