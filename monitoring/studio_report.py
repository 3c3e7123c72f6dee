"""The studio stages measured on a generator version's held-out people (``manage.py studio_report``).

``generation.ml.studio.evaluate`` does the measuring (its module doc says what every figure means
and where it stops meaning it); this module turns the version's held-out people into its cases and
stores the figures on the version, under ``version.report["studio"]`` (the other keys stay).

A case is one person's newest accepted photo (``heldout_photos``: people never seen in training):
the stored original aligned to 256 px with its stored landmarks carried into that frame, the native
128-px crop when the photo has one, and the measured skin-tone category. With ``generate``, one
headshot per person is sampled from the version exactly as the held-out evaluation samples its
first candidate (``monitoring.evaluation``: the person's casual input, seed rule
``candidate_seed``, the same batches), so it is the same image the generator report measured for
the same version, people and seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction

from generation.faces.selectors import photo_crop
from generation.generator.options import DEFAULT_GUIDANCE, DEFAULT_STEPS
from generation.generator.selectors import heldout_photos
from generation.models import GeneratorVersion, SourcePhoto
from hfplatform.errors import ApplicationError

CLEAN_SIDE, NATIVE_SIDE = 256, 128


def studio_case(photo: SourcePhoto) -> Any:
    """The ``StudioCase`` of one accepted photo (None when it has no landmarks)."""
    from generation.ml.align import aligned_face
    from generation.ml.studio.evaluate import StudioCase
    from hfplatform.imaging import stored_rgb

    if not photo.landmarks:
        return None
    landmarks = np.asarray(photo.landmarks, np.float64)
    rgb = stored_rgb(photo.image.name)
    clean, frame = aligned_face(rgb, landmarks, CLEAN_SIDE)
    return StudioCase(
        name=f"{photo.subject_id}:{photo.pk}",
        clean=clean,
        landmarks=frame,
        group=photo.skin_tone_measured or None,
        native128=photo_crop(photo, NATIVE_SIDE) if str(NATIVE_SIDE) in (photo.aligned_crops or {}) else None,
    )


def generated_headshots(version: GeneratorVersion, photos: list[SourcePhoto], *, seed: int, steps: int,
                        guidance: float, report: Callable[[str], None]) -> list[np.ndarray]:
    """One headshot per photo's person: the held-out evaluation's first candidate (same inputs,
    seeds and batches as ``heldout_evaluation`` with ``candidates=1``)."""
    from generation.generator.services import casual_input
    from monitoring.evaluation import sample_candidates

    casual = [casual_input(photo=p, size=version.image_size) for p in photos]
    sets, _ = sample_candidates(version, photos, casual, candidates=1, steps=steps, seed=seed,
                                guidance=guidance, baselines=False,
                                progress=lambda percent, message: report(message))
    return [images[0] for images in sets]


def studio_report(*, version: GeneratorVersion, people: int | None = None, seed: int = 0,
                  generate: bool = True, report: Callable[[str], None] | None = None,
                  steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
                  methods: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Measure every studio stage on (the first ``people`` of) the version's held-out people and store
    the figures in ``version.report["studio"]``; ``generate``: also sample one headshot per person
    (``steps``, ``guidance``) for identity before and after the stages. ``methods``: the
    super-resolution methods (default: all)."""
    from generation.ml.studio import superres
    from generation.ml.studio.evaluate import studio_figures

    say = report or (lambda message: None)
    photos = heldout_photos(version=version, limit=people)
    cases = [studio_case(p) for p in photos]
    kept = [(p, c) for p, c in zip(photos, cases, strict=True) if c is not None]
    if not kept:
        raise ApplicationError(f"{version.name} has no held-out person with an accepted, landmarked photo.",
                               code="too_few_heldout")
    photos, cases = [p for p, _ in kept], [c for _, c in kept]
    say(f"{len(cases)} held-out people of {version.name}")
    if generate:
        for case, image in zip(cases, generated_headshots(version, photos, seed=seed, steps=steps,
                                                          guidance=guidance, report=say), strict=True):
            case.generated = [image]
    figures = studio_figures(cases, seed=seed, methods=methods or superres.METHODS,
                             torch_home=settings.TORCH_HOME, progress=say)
    figures.update(version=version.name, image_size=version.image_size, generated=generate,
                   steps=steps if generate else None, guidance=guidance if generate else None,
                   people=len(cases), subjects=[p.subject_id for p in photos])
    with transaction.atomic():  # merge into the stored report as it is now, not as it was loaded
        row = GeneratorVersion.objects.select_for_update().get(pk=version.pk)
        row.report = {**(row.report or {}), "studio": figures}
        row.save(update_fields=["report"])
    version.report = row.report
    return figures


def evaluation_studio_figures(*, photos: list[SourcePhoto], candidates: list[list[np.ndarray]],
                              seed: int = 0) -> dict[str, Any]:
    """The configured default studio stages (``STUDIO_DEFAULT_STAGES``, what a generation job applies
    when it names none) on an evaluation's generated headshots (``candidates[i]``: those of
    ``photos[i]``'s person), as ``all_stages_figures`` measures them: identity against the person's
    portrait before the stages (at the generator's size and enlarged) and after them, the skin-tone
    (ITA) shift of the stages per measured group, and what each stage did. A person whose photo has no
    landmarks is left out; ``{"unavailable": reason}`` when nobody is left or no stage is configured."""
    from generation.generator.studio import default_stages
    from generation.ml.studio.evaluate import all_stages_figures

    stages = default_stages()
    if not stages:
        return {"unavailable": "unavailable: no default studio stages are configured (STUDIO_DEFAULT_STAGES)"}

    cases = []
    for photo, images in zip(photos, candidates, strict=True):
        case = studio_case(photo)
        if case is not None:
            case.generated = list(images)
            cases.append(case)
    if not cases:
        return {"unavailable": "unavailable: no held-out person has a photo with landmarks"}
    figures = all_stages_figures(cases, seed, stages=stages)
    figures.update(people=len(cases), images=sum(len(case.generated or []) for case in cases))
    return figures
