"""Steps the browser tests share."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.factories.accounts import PASSWORD


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")


def task_shown(page: Page, kind: str, after: str | None = None) -> str:
    """Wait until the work page shows a ``kind`` task other than assignment ``after``; its id."""
    section = page.get_by_test_id(f"task-{kind}")
    if after is not None:
        expect(section).not_to_have_attribute("data-assignment", after)
    expect(section).to_have_attribute("data-assignment", re.compile(r"^\d+$"))
    expect(section).to_be_visible()
    return section.get_attribute("data-assignment")


def press(page: Page, *keys: str) -> None:
    """Press ``keys`` one after another."""
    for key in keys:
        page.keyboard.press(key)
