"""The OpenAPI schema is the contract: a property-based run of it (schemathesis) against a live server,
as each role, finds no server error and no difference between what the schema says and what the
server does.

Each role's run is the ``st`` command on the schema this server generates, with the path parameters'
examples pointing at a small real world (a rating campaign, its generator version, subject, job and
headshots) so that the examples phase reaches real objects, while the coverage, fuzzing and stateful
phases generate their own values. Every check of schemathesis runs, with one replaced
(``contract_checks.py``: a schema-valid request may be refused for a rule of the domain, with that
rule's code, never for its shape). The write rates are raised for the run (the 429 itself is tested in
``test_rate_limits.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.authtoken.models import Token

from hfplatform.accounts.roles import Role
from hfplatform.accounts.services import user_create
from tests.factories.review_concurrency import minimal_campaign

pytestmark = [pytest.mark.contract, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).with_name("st")
#: Each role's run: generated cases per operation (fuzzing) and the phases. The admin, who may call
#: every operation, also gets the coverage phase (boundary and type-changed values of every field);
#: the runs of all roles together make well over 1,000 cases.
RUNS = {Role.ADMIN: (15, "examples,coverage,fuzzing,stateful"),
        Role.ML_ENGINEER: (8, "examples,fuzzing,stateful"),
        Role.REVIEWER: (8, "examples,fuzzing,stateful"),
        Role.AUDITOR: (4, "examples,fuzzing"),
        Role.PHOTOGRAPHER: (4, "examples,fuzzing")}
SEED = 20261206


def _world() -> dict[str, object]:
    campaign, _ = minimal_campaign(items=6, overlap=2)
    headshot = campaign.assignments.select_related("item__headshot").first().item.headshot
    request = headshot.generation_job
    return {"campaign_id": campaign.pk, "generation_id": request.pk, "job_id": request.job_id,
            "headshot_id": headshot.pk, "subject_id": headshot.subject_id,
            "photo_id": headshot.source_photo_id, "name": headshot.generator_version.name}


def _schema_with_examples(path: Path, world: dict[str, object]) -> None:
    """This server's schema, each path parameter with an example from ``world`` where it has one."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for operations in schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in world:
                    parameter["example"] = world[parameter["name"]]
    path.write_bytes(OpenApiJsonRenderer().render(schema))


def _contract_run(schema: Path, url: str, token: str, examples: int, phases: str, report: Path) -> dict:
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.hfplatform.contract_checks",
           "PYTHONPATH": str(ROOT)}
    command = [str(ST), "run", str(schema), "--url", url, "-H", f"Authorization: Token {token}",
               "--max-examples", str(examples), "--phases", phases, "--seed", str(SEED), "--workers", "1",
               "--no-color",
               "--checks", "all", "--exclude-checks", "positive_data_acceptance",
               "--report", "json", "--report-json-path", str(report)]
    finished = subprocess.run(command, cwd=report.parent, env=env, capture_output=True, text=True,
                              timeout=600)
    assert report.exists(), finished.stdout[-4000:] + finished.stderr[-4000:]
    result = json.loads(report.read_text())
    result["output"] = finished.stdout
    return result


@pytest.mark.django_db(transaction=True)
def test_every_role_gets_what_the_schema_says(live_server, settings, tmp_path):
    settings.API_RATES = {"uploads": "100000/minute", "jobs": "100000/minute"}
    world = _world()
    schema = tmp_path / "schema.json"
    _schema_with_examples(schema, world)

    generated = 0
    for role, (examples, phases) in RUNS.items():
        user, _ = user_create(username=f"contract-{role}", role=role)
        token = Token.objects.create(user=user).key
        result = _contract_run(schema, live_server.url, token, examples, phases, tmp_path / f"{role}.json")
        failures = result["failures"]
        assert result["complete"], result["output"][-6000:]
        assert not result["errors"], result["output"][-6000:]
        assert not failures, f"as {role}:\n" + result["output"][-12000:]
        assert result["operations"]["tested"] == result["operations"]["total"] > 50
        generated += result["test_cases"]["generated"]
        print(f"{role}: {result['test_cases']['generated']} cases over {result['operations']['tested']} "
              f"operations in {result['running_time']:.0f} s, no failure")
    assert generated >= 1000
