"""An ML engineer creates a subject and uploads a batch of selfies in Chromium; a real consumer
analyses them; the page shows each file's outcome."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect

from generation.models import PhotoStatus, SourcePhoto
from tests.factories.browser import log_in
from tests.factories.consumer import Consumer

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_upload_batch_and_see_per_file_results(page, make_user, tmp_path):
    from generation.ml import corpus_photos, corpus_wheel

    engineer = make_user("ml_engineer")
    name, face = next(corpus_photos(corpus_wheel(settings.FACE_CORPUS_CACHE), limit=1))
    files = tmp_path / "upload"
    files.mkdir()
    (files / "selfie.jpg").write_bytes(face)
    blank = io.BytesIO()
    Image.new("RGB", (400, 400), (200, 180, 160)).save(blank, format="PNG")
    (files / "wall.png").write_bytes(blank.getvalue())
    (files / "notes.jpg").write_bytes(b"this is not a photo")

    log_in(page, engineer.username)
    page.goto("/subjects/")
    page.fill("#id_display_name", "Grace")
    page.click("button:has-text('Create subject')")
    expect(page.locator("form .form-error")).to_have_text(
        "The subject's consent is required before any photo is stored.")
    page.check("#id_consent_given")
    page.click("button:has-text('Create subject')")
    expect(page.locator("h1")).to_have_text("Grace")

    page.set_input_files("input[name=photos]", [str(p) for p in sorted(files.iterdir())])
    page.click("button:has-text('Upload')")
    expect(page.locator("[data-testid=analysis-status]")).to_be_visible()
    consumer = Consumer(tmp_path / "consumer.log")
    try:
        expect(page.locator("[data-testid=photo][data-status=pending]")).to_have_count(
            0, timeout=90_000)
    finally:
        consumer.stop()

    cards = page.locator("[data-testid=photo]")
    expect(cards).to_have_count(3)
    accepted = page.locator("[data-testid=photo][data-status=accepted]")
    expect(accepted).to_have_count(1)
    expect(accepted).to_contain_text("selfie.jpg")
    overlay = accepted.locator("img").first
    expect(overlay).to_have_attribute("alt", "selfie.jpg with the detected landmarks")
    assert overlay.evaluate("img => img.complete && img.naturalWidth > 0")
    wall = page.locator("[data-testid=photo]:has-text('wall.png')")
    expect(wall).to_have_attribute("data-status", "rejected")
    expect(wall.locator(".reasons")).to_contain_text("face")
    notes = page.locator("[data-testid=photo]:has-text('notes.jpg')")
    expect(notes).to_have_attribute("data-status", "rejected")
    assert SourcePhoto.objects.filter(status=PhotoStatus.ACCEPTED).get().aligned_crops.keys() == {
        "64", "128"}
    assert name.endswith(".jpg")
