"""The job kind the foundation ships: thumbnails of the images in a media folder.

It is the small real task that exercises the job machinery end to end (progress per image, a log,
a result, resume after a killed worker: thumbnails already written are skipped). The apps register
their own kinds (training, generation, metrics) the same way.
"""

from __future__ import annotations

import posixpath
from pathlib import PurePosixPath
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import UnidentifiedImageError

from hfplatform.errors import ApplicationError
from hfplatform.imaging import IMAGE_SUFFIXES, thumbnail_jpeg
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create

THUMBNAIL_SIZES = range(16, 1025)  # longest side in pixels
DEFAULT_THUMBNAIL_SIZE = 256


def _clean_folder(folder: str) -> str:
    folder = (folder or "").strip()
    if not folder or folder.startswith("/") or "\\" in folder or ".." in PurePosixPath(folder).parts:
        raise ApplicationError(
            "folder must be a relative path inside the media library, without '..'.",
            code="invalid_folder",
        )
    return posixpath.normpath(folder.rstrip("/"))


def _images_in(folder: str) -> list[str]:
    try:
        _, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        raise ApplicationError(f"No folder {folder!r} in the media library.", code="no_folder") from None
    return sorted(f for f in files if f.lower().endswith(IMAGE_SUFFIXES))


def thumbnails_job_start(*, folder: str, size: int, started_by: Any) -> Job:
    """Validate the request and enqueue a thumbnails job."""
    folder = _clean_folder(folder)
    if size not in THUMBNAIL_SIZES:
        raise ApplicationError(
            f"size must be between {THUMBNAIL_SIZES.start} and {THUMBNAIL_SIZES.stop - 1} pixels.",
            code="invalid_size",
        )
    if not _images_in(folder):
        raise ApplicationError(f"Folder {folder!r} holds no JPEG, PNG or WebP image.", code="no_images")
    return job_create(
        kind="thumbnails", started_by=started_by, params={"folder": folder, "size": size},
        title=f"Thumbnails of {folder} at {size}px",
    )


@job_kind("thumbnails", resumable=True, title="Make thumbnails")
def thumbnails_make(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    folder, size = job.params["folder"], int(job.params["size"])
    names = _images_in(folder)
    out_dir = f"thumbnails/job-{job.pk}"
    made, kept, unreadable = 0, 0, []
    progress.log(f"{len(names)} images in {folder}")
    for i, name in enumerate(names, start=1):
        target = f"{out_dir}/{PurePosixPath(name).stem}.jpg"
        if default_storage.exists(target):
            kept += 1  # written by an earlier attempt
        else:
            try:
                with default_storage.open(f"{folder}/{name}", "rb") as source:
                    data = thumbnail_jpeg(source, size)
            except (UnidentifiedImageError, OSError, ValueError) as exc:
                unreadable.append(name)
                progress.log(f"skipped {name}: not a readable image ({type(exc).__name__})")
            else:
                default_storage.save(target, ContentFile(data))
                made += 1
        progress.step(i, len(names), f"{i} of {len(names)} images")
    progress.log(f"made {made}, kept {kept} from an earlier attempt, unreadable {len(unreadable)}")
    return {"folder": out_dir, "made": made, "kept": kept, "unreadable": unreadable,
            "count": made + kept}
