"""Steps the browser tests share."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.factories.accounts import PASSWORD


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")
