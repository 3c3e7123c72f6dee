"""The password every test user gets (``make_user`` in tests/conftest.py), for logins by form."""

PASSWORD = "correct-horse-battery-staple"
