"""Settings come from the environment, in a fresh interpreter each time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "from huey.contrib.djhuey import HUEY; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    " 'host': s.DATABASES['default'].get('HOST', ''), 'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS,"
    " 'media': str(s.MEDIA_ROOT), 'key': s.SECRET_KEY, 'huey': type(HUEY).__name__,"
    " 'immediate': HUEY.immediate, 'profile': s.PROFILE}))"
)
CLEARED = ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS",
           "DJANGO_PROFILE", "HUEY_IMMEDIATE", "VAR_DIR", "DJANGO_ALLOW_ASYNC_UNSAFE")


def run_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update({"DJANGO_SETTINGS_MODULE": "hfplatform.settings",
                        "VAR_DIR": str(tmp_path / "var"), "DJANGO_PROFILE": "development"})
    environment.update(env)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def read(tmp_path: Path, **env: str) -> dict:
    done = run_settings(tmp_path, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_zero_setup_defaults(tmp_path):
    s = read(tmp_path)
    assert s["db"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "var" / "db.sqlite3")
    assert s["huey"] == "SqliteHuey"
    assert s["immediate"] is False
    assert s["debug"] is True
    assert s["media"] == str(tmp_path / "var" / "media")


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = read(tmp_path)["key"]
    second = read(tmp_path)["key"]
    assert first == second
    assert len(first) >= 50
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0


def test_everything_from_the_environment(tmp_path):
    s = read(
        tmp_path,
        DATABASE_URL="postgres://someone@db.internal:5433/platform",
        REDIS_URL="redis://127.0.0.1:6379/3",
        MEDIA_ROOT=str(tmp_path / "m"),
        SECRET_KEY="k" * 60,
        DEBUG="false",
        ALLOWED_HOSTS="a.example,b.example",
    )
    assert s["db"] == "django.db.backends.postgresql"
    assert (s["name"], s["host"]) == ("platform", "db.internal")
    assert s["huey"] == "RedisHuey"
    assert s["media"] == str(tmp_path / "m")
    assert s["key"] == "k" * 60
    assert s["debug"] is False
    assert s["hosts"] == ["a.example", "b.example"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    done = run_settings(tmp_path, DJANGO_PROFILE="production", ALLOWED_HOSTS="x.example")
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


def test_unknown_profile_is_a_clear_error(tmp_path):
    done = run_settings(tmp_path, DJANGO_PROFILE="staging")
    assert done.returncode != 0
    assert "expected one of development, test, production" in done.stderr


def test_production_profile_passes_check_deploy(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update(
        DJANGO_PROFILE="production", VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY="a-long-random-production-secret-" + "x9Q!z" * 10,
        ALLOWED_HOSTS="headshots.example.com",
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}"),
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
