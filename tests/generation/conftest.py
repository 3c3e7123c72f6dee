"""Fixtures for the generation app: photo files as a browser would upload them."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from hfplatform.demo import portrait_sketch


def upload_of(image: Image.Image, name: str, fmt: str = "JPEG") -> SimpleUploadedFile:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def engineer(make_user):
    return make_user("ml_engineer")


@pytest.fixture
def subject(engineer):
    from generation.services import subject_create

    return subject_create(owner=engineer, display_name="Ada", consent_given=True)


@pytest.fixture
def sketch_upload():
    return lambda name="sketch.jpg", seed=1: upload_of(portrait_sketch(seed, 256), name)
