"""``manage.py createuser NAME --role ROLE [--password VALUE]``: add a person with one role."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from hfplatform.accounts.roles import Role
from hfplatform.accounts.services import user_create
from hfplatform.errors import ApplicationError

PASSWORD_OPTION = "--password"


def _password_taken(args: list[str]) -> tuple[list[str], str | None]:
    """The arguments without ``--password VALUE`` / ``--password=VALUE``, and that value: any value,
    also one that starts with a dash (argparse would read ``--password -x…`` as a flag without a
    value, and drops a value of ``--``). A ``--password`` with nothing after it is left to argparse."""
    rest: list[str] = []
    password = None
    items = iter(args)
    for arg in items:
        if arg == "--":  # the end of the options: the rest is positional
            rest += [arg, *items]
        elif arg == PASSWORD_OPTION:
            value = next(items, None)
            if value is None:
                rest.append(arg)
            else:
                password = value
        elif arg.startswith(PASSWORD_OPTION + "="):
            password = arg.removeprefix(PASSWORD_OPTION + "=")
        else:
            rest.append(arg)
    return rest, password


class Command(BaseCommand):
    help = "Create a user with a role (reviewer, photographer, ml_engineer, auditor or admin)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parse_known_args = parser.parse_known_args

        def parse_password_apart(args=None, namespace=None):
            if args is None:
                return parse_known_args(args, namespace)
            rest, password = _password_taken(list(args))
            options, extras = parse_known_args(rest, namespace)
            if password is not None:
                options.password = password
            return options, extras

        parser.parse_known_args = parse_password_apart  # what parse_args calls (shell and call_command)
        return parser

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password", default=None,
            help="Password to set (any value, also one starting with a dash). Without it: prompt on a "
                 "terminal, else generate and print one.",
        )

    def handle(self, *args, username: str, role: str, email: str, password: str | None,
               **options) -> None:
        password = password or None  # an empty --password= is no password: prompt or generate one
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
