"""Every page and API answer carries the Content-Security-Policy (no inline script) and the other
security headers; no template holds an inline script or event-handler attribute the policy would
block. The browser side (no violation reported while the pages run) is in
tests/e2e/test_accessibility.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hfplatform.accounts.roles import Role
from tests.factories.access import API, PAGES

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _script_src(policy: str) -> str:
    return next(part for part in policy.split(";") if part.strip().startswith("script-src"))


@pytest.mark.django_db
def test_every_page_and_endpoint_carries_the_headers(client_for, api_client_for):
    pages = sorted({path for method, path, *_ in PAGES if method == "get"})
    endpoints = sorted({path for method, path, *_ in API if method == "get"})
    page_client, api_client = client_for(Role.ADMIN), api_client_for(Role.ADMIN)
    answers = [page_client.get(path) for path in [*pages, "/accounts/login/", "/no-such-page/"]]
    answers += [api_client.get(path) for path in endpoints]
    for response in answers:
        where = f"{response.request['PATH_INFO']} ({response.status_code})"
        policy = response["Content-Security-Policy"]
        assert "'unsafe-inline'" not in _script_src(policy), where
        assert "'unsafe-eval'" not in _script_src(policy), where
        assert "frame-ancestors 'none'" in policy, where
        assert "object-src 'none'" in policy, where
        assert response["X-Content-Type-Options"] == "nosniff", where
        assert response["X-Frame-Options"] == "DENY", where
        assert response["Referrer-Policy"] == "same-origin", where
        assert "camera=()" in response["Permissions-Policy"], where


def test_no_template_has_an_inline_script_or_event_handler():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)
    problems = []
    for path in TEMPLATES.rglob("*.html"):
        text, name = path.read_text(), path.relative_to(TEMPLATES)
        problems += [f"{name}: inline script" for _ in inline_script.findall(text)]
        problems += [f"{name}: event handler {m.strip()}" for m in handler.findall(text)]
    assert not problems, problems
