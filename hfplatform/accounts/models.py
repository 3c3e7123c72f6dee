"""What the accounts app stores besides Django's users and groups: failed sign-ins, for the limits."""

from __future__ import annotations

from django.db import models


class LoginFailure(models.Model):
    """One failed sign-in (login page or token API): the username tried (lowercased) and the address
    it came from. The limiter counts recent rows; a successful sign-in clears the account's."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["username", "created_at"]),
                   models.Index(fields=["address", "created_at"])]

    def __str__(self) -> str:
        return f"failed sign-in as {self.username!r} from {self.address}"
