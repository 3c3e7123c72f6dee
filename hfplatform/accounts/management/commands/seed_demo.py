"""``manage.py seed_demo``: demo users (one per role) and demo media for a first look."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from hfplatform.accounts.roles import Role
from hfplatform.accounts.services import user_create
from hfplatform.demo import demo_photos_write

DEMO_USERS = [
    ("admin", Role.ADMIN),
    ("reviewer", Role.REVIEWER),
    ("photographer", Role.PHOTOGRAPHER),
    ("engineer", Role.ML_ENGINEER),
    ("auditor", Role.AUDITOR),
]


class Command(BaseCommand):
    help = "Create demo users (passwords printed once) and demo media. Safe to run again."

    def handle(self, *args, **options) -> None:
        user_model = get_user_model()
        created = []
        for username, role in DEMO_USERS:
            if user_model.objects.filter(username=username).exists():
                continue
            _, password = user_create(username=username, role=role)
            created.append((username, role, password))
        if created:
            self.stdout.write(self.style.SUCCESS("Demo users (passwords are shown only this once):"))
            for username, role, password in created:
                self.stdout.write(f"  {username:<13} {role.value:<13} {password}")
        else:
            self.stdout.write("Demo users already exist; their passwords were shown when created "
                              "(reset one with: python manage.py changepassword NAME).")
        written = demo_photos_write()
        self.stdout.write(f"Demo photos in media/demo/photos: {written} written.")
