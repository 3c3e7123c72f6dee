"""Fixtures for the generation app: photo files as a browser would upload them."""

from __future__ import annotations

import io
from pathlib import Path

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
    from generation.faces.services import subject_create

    return subject_create(owner=engineer, display_name="Ada", consent_given=True)


@pytest.fixture
def sketch_upload():
    return lambda name="sketch.jpg", seed=1: upload_of(portrait_sketch(seed, 256), name)


def tiny_generator(folder: Path, seed: int = 0) -> Path:
    import torch

    from generation.ml.generator import GeneratorConfig, build_unet, save_generator

    torch.manual_seed(seed)
    config = GeneratorConfig(image_size=64, block_out_channels=(16, 32), layers_per_block=1,
                             attention_resolutions=(), norm_num_groups=8)
    return save_generator(build_unet(config), config, folder, {"fingerprint": f"tiny-{seed}"})


@pytest.fixture(scope="session")
def corpus_face() -> bytes:
    from django.conf import settings

    from generation.ml import corpus_photos, corpus_wheel

    return next(corpus_photos(corpus_wheel(settings.FACE_CORPUS_CACHE), limit=1))[1]


@pytest.fixture
def ready_subject(subject, engineer, corpus_face):
    from generation.faces.services import photos_analyze, photos_upload

    photos, _ = photos_upload(subject=subject, uploaded_by=engineer,
                              files=[SimpleUploadedFile("me.jpg", corpus_face)])
    photos_analyze(photo_ids=[photos[0].pk])
    return subject
