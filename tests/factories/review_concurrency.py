"""Many reviewers asking for work at the same instant, each on its own thread and connection.

Used in-process by the PostgreSQL test and, for SQLite, run as a script in a fresh interpreter
on a fresh database file: ``python -m tests.factories.review_concurrency <threads> <items>`` prints JSON.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any


def minimal_campaign(items: int, overlap: int = 1) -> tuple[Any, Any]:
    """A rating campaign over ``items`` headshot rows (no image files: nothing here reads them)."""
    from django.utils import timezone

    from generation.models import GenerationJob, GeneratorVersion, Headshot, SourcePhoto, Subject
    from hfplatform.accounts.services import user_create
    from hfplatform.jobs.models import Job
    from review.services import campaign_create

    engineer, _ = user_create(username=f"engineer-{os.getpid()}-{threading.get_ident()}", role="ml_engineer")
    version = GeneratorVersion.objects.create(name=f"v-{engineer.pk}", files_dir="/nonexistent")
    subject = Subject.objects.create(display_name="P", owner=engineer, consent_given_at=timezone.now(),
                                     consent_version="test")
    photo = SourcePhoto.objects.create(subject=subject, original_name="p.png")
    job = Job.objects.create(kind="generation", status="succeeded")
    request = GenerationJob.objects.create(subject=subject, source_photo=photo, generator_version=version,
                                           candidates=items, seed=0, steps=1, guidance=1.0, job=job)
    Headshot.objects.bulk_create(
        Headshot(generation_job=request, subject=subject, source_photo=photo, generator_version=version,
                 image=f"h{i}.png", candidate_index=i, seed=i, steps=1, guidance=1.0, sampler="ddim")
        for i in range(items))
    campaign = campaign_create(created_by=engineer, name="race", task_kinds=["rating"], overlap=overlap,
                               gold_rate=0.0, generator_version=version)
    return campaign, engineer


def claim_concurrently(campaign_id: int, reviewer_ids: list[int]) -> list[int | None]:
    """Every reviewer asks for their next item at once; returns the item each got (None: no work)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from review.models import Campaign
    from review.services import assignment_next

    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=reviewer_ids)}
    barrier = threading.Barrier(len(reviewer_ids))
    results: list[int | None] = [None] * len(reviewer_ids)
    errors: list[BaseException] = []

    def ask(index: int, reviewer_id: int) -> None:
        try:
            campaign = Campaign.objects.get(pk=campaign_id)
            reviewer = users[reviewer_id]
            barrier.wait(timeout=30)
            assignment = assignment_next(campaign=campaign, reviewer=reviewer)
            results[index] = assignment.item_id if assignment else None
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(i, r)) for i, r in enumerate(reviewer_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def reviewers(count: int) -> list[int]:
    import uuid

    from hfplatform.accounts.services import user_create

    batch = uuid.uuid4().hex[:8]
    return [user_create(username=f"race-{batch}-{i}", role="reviewer")[0].pk for i in range(count)]


def main(threads: int, items: int) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    campaign, _ = minimal_campaign(items)
    got = claim_concurrently(campaign.pk, reviewers(threads))
    from django.db import connection

    print(json.dumps({"vendor": connection.vendor, "items": got}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
