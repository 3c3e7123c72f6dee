"""Upload validation on crafted files: each bad input has its own tested outcome."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from generation.faces.uploads import UploadRejected, clean_upload
from hfplatform.demo import portrait_sketch

LIMITS = {"max_bytes": 5 * 1024 * 1024, "max_pixels": 4_000_000}


def encode(image: Image.Image, fmt: str, **kwargs) -> io.BytesIO:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    out.seek(0)
    return out


def rejected(data: bytes | io.BytesIO, **limits) -> UploadRejected:
    stream = data if isinstance(data, io.BytesIO) else io.BytesIO(data)
    with pytest.raises(UploadRejected) as caught:
        clean_upload(stream, **{**LIMITS, **limits})
    return caught.value


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats_come_back_rgb_without_metadata(fmt):
    clean = clean_upload(encode(portrait_sketch(1, 200), fmt), **LIMITS)
    assert clean.rgb.shape == (200, 200, 3)
    assert clean.rgb.dtype == np.uint8
    stored = Image.open(io.BytesIO(clean.content))
    assert not stored.getexif()
    assert stored.info.get("exif") is None


def test_exif_is_stripped_and_orientation_applied():
    image = portrait_sketch(2, 300).resize((300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x0131] = "SecretApp 1.0"
    clean = clean_upload(encode(image, "JPEG", exif=exif.tobytes()), **LIMITS)
    assert (clean.width, clean.height) == (200, 300)  # upright
    stored = Image.open(io.BytesIO(clean.content))
    assert not stored.getexif()
    assert b"PhoneMaker" not in clean.content
    assert b"SecretApp" not in clean.content


def test_zero_byte_file():
    assert rejected(b"").code == "not_an_image"
    assert "empty" in rejected(b"").detail


def test_truncated_jpeg():
    data = encode(portrait_sketch(3, 400), "JPEG").getvalue()
    refusal = rejected(data[: len(data) // 2])
    assert refusal.code == "not_an_image"
    assert "truncated" in refusal.detail


@pytest.mark.parametrize(
    "payload", [b"hello, this is text", b"%PDF-1.7\n1 0 obj", b"\x00" * 1000],
    ids=["text", "pdf", "zeros"],
)
def test_not_an_image(payload):
    assert rejected(payload).code == "not_an_image"


def test_other_image_formats_are_refused_by_content():
    refusal = rejected(encode(portrait_sketch(4, 64), "GIF"))
    assert refusal.code == "not_an_image"
    assert "GIF files are not accepted" in refusal.detail


def test_content_decides_not_the_name():
    png = encode(portrait_sketch(5, 64), "PNG")
    png.name = "selfie.jpg"
    assert clean_upload(png, **LIMITS).source_format == "PNG"


def test_too_many_bytes():
    refusal = rejected(encode(portrait_sketch(6, 300), "PNG"), max_bytes=1000)
    assert refusal.code == "too_large"


def test_too_many_pixels_refused_from_the_header():
    big = Image.new("RGB", (3000, 2000), (128, 128, 128))
    refusal = rejected(encode(big, "PNG"), max_pixels=5_000_000)
    assert refusal.code == "too_large"
    assert "3000×2000" in refusal.detail


def test_cmyk_jpeg_becomes_rgb():
    cmyk = portrait_sketch(7, 120).convert("CMYK")
    clean = clean_upload(encode(cmyk, "JPEG"), **LIMITS)
    assert clean.rgb.shape == (120, 120, 3)
    reference = np.asarray(portrait_sketch(7, 120), dtype=float)
    assert np.abs(clean.rgb.astype(float) - reference).mean() < 25


def test_16_bit_grey_png_is_scaled_not_clipped():
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (64, 1))
    image = Image.fromarray(ramp)
    assert image.mode.startswith("I;16")
    clean = clean_upload(encode(image, "PNG"), **LIMITS)
    row = clean.rgb[0, :, 0].astype(int)
    assert row[0] == 0
    assert row[-1] == 255
    assert 120 <= row[128] <= 135  # the middle of the ramp stays mid-grey


def test_transparent_png_is_composited_on_white():
    rgba = Image.new("RGBA", (32, 32), (255, 0, 0, 0))
    clean = clean_upload(encode(rgba, "PNG"), **LIMITS)
    assert tuple(clean.rgb[0, 0]) == (255, 255, 255)
