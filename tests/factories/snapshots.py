"""A metric snapshot with figures of every kind a page shows, without running the metrics."""

from __future__ import annotations

from monitoring.models import MetricSnapshot, SnapshotStatus


def _figure(name, value, n=20, interval=None):
    return {"name": name, "value": value, "n": n, "extractor": "test", "unavailable": None,
            "interval": list(interval) if interval else None}



def snapshot_with_figures(version_name: str = "v-one"):
    """A finished snapshot of a new active version: FID, KID, identity (with intervals), an LPIPS figure
    that is unavailable, a human rating, and a skin-tone fairness report with one group far behind."""
    from generation.models import GeneratorVersion

    version = GeneratorVersion.objects.create(name=version_name, files_dir="/nonexistent", status="active")
    report = {"name": "identity_verified", "higher_is_better": True,
              "overall": {"value": 0.7, "n": 40, "interval": [0.6, 0.8]},
              "groups": {"dark": {"value": 0.45, "n": 20, "interval": [0.25, 0.65], "small_n": False},
                         "light": {"value": 0.9, "n": 20, "interval": [0.75, 1.0], "small_n": False}},
              "difference": 0.45, "ratio": 0.5, "worst_group": "dark", "min_n": 5, "method": "m",
              "unavailable": None}
    no_distance = {"name": "identity_distance", "higher_is_better": False, "groups": {},
                   "unavailable": "unavailable: no face found in any pair", "min_n": 5}
    return MetricSnapshot.objects.create(
        generator_version=version, status=SnapshotStatus.DONE,
        figures={"fid": _figure("fid", 82.4, interval=(75.1, 90.2)), "kid": _figure("kid", 0.032),
                 "identity_verification_rate": _figure("identity_verification_rate", 0.7,
                                                       interval=(0.55, 0.85)),
                 "lpips_likeness": {"name": "lpips_likeness", "value": None, "n": 0, "extractor": "x",
                                    "unavailable": "unavailable: LPIPS weights missing", "interval": None}},
        human={"rating_appeal": _figure("rating_appeal", 3.5, interval=(3.0, 4.0))},
        fairness={"skin_tone": {"identity_verified": report, "identity_distance": no_distance}},
        studio=studio_figures())


def _mean(mean, low, high, n):
    return {"mean": mean, "interval": [low, high], "n": n}


def _share(count, n, low, high):
    return {"share": count / n, "interval": [low, high], "count": count, "n": n}


def studio_figures():
    """Studio-stage figures shaped as ``all_stages_figures`` gives them, for the pages."""
    identity = {key: {"verified": _share(count, 40, low, high), "distance": _mean(d, d - 0.02, d + 0.02, 40),
                      "no_face": 0, "n": 40}
                for key, count, low, high, d in (("raw_64", 34, 0.7, 0.93, 0.52),
                                                 ("raw_256_bicubic", 33, 0.68, 0.91, 0.53),
                                                 ("staged", 33, 0.68, 0.91, 0.55))}
    return {"stages": ["super_resolution", "lighting", "colour"], "people": 20, "images": 40,
            "seconds": _mean(0.41, 0.38, 0.44, 60),
            "identity": {"threshold": 0.6, "portraits_without_face": 0, **identity},
            "groups": {"dark": {"abs_delta_ita": _mean(1.2, 0.8, 1.6, 8), "max_abs_delta_ita": 2.4,
                                "category_kept": _share(7, 8, 0.53, 0.98), "n": 8},
                       "light": {"abs_delta_ita": _mean(0.9, 0.6, 1.2, 12), "max_abs_delta_ita": 1.9,
                                 "category_kept": _share(11, 12, 0.65, 0.99), "n": 12}},
            "abs_delta_ita": _mean(1.0, 0.8, 1.3, 20), "category_kept": _share(18, 20, 0.7, 0.97),
            "records": {"super_resolution": {"applied": 60, "skipped": 0, "unavailable": 0, "reasons": []},
                        "lighting": {"applied": 58, "skipped": 2, "unavailable": 0,
                                     "reasons": ["no landmarks in the frame"]},
                        "colour": {"applied": 60, "skipped": 0, "unavailable": 0, "reasons": []}}}
