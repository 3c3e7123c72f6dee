"""The studio-stage figures on real corpus faces the shipped generator held out: every section is there
with its n, and each stage does what it is for (relight evens a known side light, harmonise undoes a
known cast, the network beats Lanczos, the background stage leaves the face alone, skin tone stays).
No database, no Django."""

from __future__ import annotations

import json

import numpy as np
import pytest

from generation.ml.align import align_face, alignment_matrix, transform_points
from generation.ml.skin_tone import measure_skin_tone
from generation.ml.studio import evaluate, superres, superres_net
from generation.ml.studio.base import StageUnavailable, heldout_refs
from generation.ml.studio.evaluate import StudioCase, format_table, studio_figures
from tests.factories.images import TORCH_HOME

PEOPLE = 4


@pytest.fixture(scope="module")
def cases(corpus_images_by_name, analyzer) -> list[StudioCase]:
    """The first held-out people among the first 30 corpus photos: 256-px crop, landmarks in it, the
    native 128-px crop and the measured skin tone; the first also 'generated' as its own clean crop
    at 64 px (a perfect generator)."""
    out = []
    for name in [n for n in heldout_refs() if n in corpus_images_by_name][:PEOPLE]:
        rgb = corpus_images_by_name[name]
        landmarks = analyzer.analyze(rgb).landmarks
        clean = align_face(rgb, landmarks, 256)
        points = transform_points(alignment_matrix(landmarks, 256), landmarks)
        out.append(StudioCase(name=name, clean=clean, landmarks=points,
                              group=measure_skin_tone(clean, points)[1],
                              native128=align_face(rgb, landmarks, 128)))
    out[0].generated = [superres_net.shrink(out[0].clean[None], 4)[0]]
    assert len(out) == PEOPLE
    return out


@pytest.fixture(scope="module")
def figures(cases) -> dict:
    return studio_figures(cases, seed=0, methods=("network", "lanczos"), torch_home=TORCH_HOME)


@pytest.mark.slow
def test_every_section_is_there_with_n_and_is_json(figures):
    assert set(evaluate.SECTIONS) <= set(figures)
    assert figures["cases"] == PEOPLE
    for section in evaluate.SECTIONS:
        assert figures[section]["n"] == PEOPLE, section
    json.dumps(figures)  # stored in a JSONField as it is


@pytest.mark.slow
def test_the_network_beats_lanczos_at_128_against_the_native_crop(figures):
    methods = figures["super_resolution"]["methods"]
    assert set(methods) == {"network", "lanczos"}
    network, lanczos = methods["network"]["to_128"], methods["lanczos"]["to_128"]
    assert network["psnr_y"]["mean"] > lanczos["psnr_y"]["mean"]
    assert network["psnr_rgb"]["mean"] > lanczos["psnr_rgb"]["mean"]
    assert network["lpips"]["mean"] < lanczos["lpips"]["mean"]
    assert network["psnr_y"]["n"] == PEOPLE
    low, high = network["psnr_y"]["interval"]
    assert low <= network["psnr_y"]["mean"] <= high
    assert methods["network"]["to_256"]["seconds"]["mean"] > 0


@pytest.mark.slow
def test_relight_evens_a_known_side_light_and_keeps_skin_tone(figures):
    lighting = figures["lighting"]
    for kind in ("lambertian", "gradient"):
        asymmetry = lighting[kind]["asymmetry"]
        assert asymmetry["lit"]["mean"] > asymmetry["clean"]["mean"], kind
        assert asymmetry["relit"]["mean"] < asymmetry["lit"]["mean"], kind
        assert lighting[kind]["side_correct"]["n"] == PEOPLE
    assert lighting["lambertian"]["direction_error"]["mean"] < 45
    assert lighting["lambertian"]["side_correct"]["share"] >= 0.75
    assert abs(lighting["delta_ita_clean"]["mean"]) < 5


@pytest.mark.slow
def test_harmonise_undoes_a_known_cast(figures):
    delta_e = figures["colour"]["delta_e"]
    for region in ("image", "face"):
        assert delta_e[f"after_{region}"]["mean"] < delta_e[f"before_{region}"]["mean"], region
        assert delta_e[f"on_clean_{region}"]["n"] == PEOPLE


@pytest.mark.slow
def test_the_background_stage_leaves_the_face_and_flattens_the_rest(figures):
    background = figures["background"]
    assert background["face_core_changed_max"] == 0
    assert background["face_core_changed_share"]["mean"] == 0
    assert background["flatness_after"]["mean"] < background["flatness_before"]["mean"]


@pytest.mark.slow
def test_all_stages_report_skin_tone_per_group_and_identity(figures, cases):
    stages = figures["all_stages"]
    assert stages["stages"] == ["super_resolution", "lighting", "colour"]  # the default set
    groups = stages["groups"]
    assert set(groups) == {c.group for c in cases}
    assert sum(g["n"] for g in groups.values()) == PEOPLE
    for g in groups.values():
        assert g["abs_delta_ita"]["n"] == g["n"] == g["category_kept"]["n"]
        assert g["max_abs_delta_ita"] >= g["abs_delta_ita"]["mean"] >= 0
    assert stages["abs_delta_ita"]["mean"] < 8
    for record in stages["records"].values():  # the 4 crops and the generated headshot
        assert record["applied"] + record["skipped"] + record["unavailable"] == PEOPLE + 1
    identity = stages["identity"]
    for key in ("raw_64", "raw_256_bicubic", "staged"):
        assert identity[key]["n"] == identity[key]["verified"]["n"] == 1
    # The portrait's own 64-px copy, staged to 256: dlib finds the face and knows the person.
    assert identity["staged"]["no_face"] == 0
    assert identity["staged"]["verified"]["share"] == 1.0


@pytest.mark.slow
def test_the_table_has_a_section_per_stage(figures):
    text = format_table(figures)
    for heading in ("Super-resolution", "Lighting", "Colour", "Background", "All default stages"):
        assert heading in text
    assert "network" in text
    assert "lanczos" in text
    assert "must be 0" in text
    assert "generated headshot" in text


def test_a_method_that_cannot_run_is_reported_unavailable(cases, monkeypatch):
    def missing(rgb):
        raise StageUnavailable("realesrgan: libvulkan.so.1 missing")

    monkeypatch.setattr(superres, "realesrgan_x4", missing)
    figures = studio_figures(cases[:1], stages=["super_resolution"], methods=("lanczos", "realesrgan"))
    methods = figures["super_resolution"]["methods"]
    assert methods["realesrgan"] == "unavailable: realesrgan: libvulkan.so.1 missing"
    assert methods["lanczos"]["to_256"]["lpips"] is None  # no torch_home given
    assert figures["super_resolution"]["lpips"].startswith("unavailable")
    assert set(figures) & set(evaluate.SECTIONS) == {"super_resolution"}
    text = format_table(figures)
    assert "unavailable: realesrgan: libvulkan.so.1 missing" in text
    assert "Lighting" not in text


def test_unknown_sections_and_bad_cases_are_refused(cases):
    with pytest.raises(ValueError, match="unknown sections"):
        studio_figures(cases[:1], stages=["sharpen"])
    with pytest.raises(ValueError, match="256"):
        studio_figures([StudioCase("x", np.zeros((64, 64, 3), np.uint8), cases[0].landmarks)])


def test_a_case_a_stage_cannot_measure_is_listed_with_its_reason(cases):
    tiny = StudioCase("tiny", cases[0].clean, cases[0].landmarks * 0.01)  # a face of 2 px in the corner
    figures = studio_figures([tiny], stages=["lighting", "background"])
    for section in ("lighting", "background"):
        assert figures[section]["n"] == 0
        assert figures[section]["failed"][0]["case"] == "tiny"
    assert "skin pixels" in figures["lighting"]["failed"][0]["reason"]
    assert "background needs" in figures["background"]["failed"][0]["reason"]
    assert figures["lighting"]["lambertian"]["direction_error"]["mean"] is None
    assert "not measured (1): tiny: " in format_table(figures)


def test_the_known_lights_and_cast_do_what_they_say(cases):
    case = cases[0]
    clean = case.clean.astype(float)
    middle = int(case.landmarks[:, 0].mean())
    from_right = evaluate.lambertian_side_light(case.clean, case.landmarks, 45.0).astype(float)
    right = from_right[:, middle:].mean() / clean[:, middle:].mean()
    left = from_right[:, :middle].mean() / clean[:, :middle].mean()
    assert right - left > 0.2
    gradient = evaluate.gradient_side_light(case.clean, 0.0, 0.5).astype(float)  # brighter to the right
    assert gradient[:, -20:].mean() > clean[:, -20:].mean() + 5
    assert gradient[:, :20].mean() < clean[:, :20].mean() - 5
    warm = evaluate.colour_cast(case.clean, 0.15, 0.0).astype(float)
    assert warm[..., 0].mean() > clean[..., 0].mean() + 5
    assert warm[..., 2].mean() < clean[..., 2].mean() - 5
