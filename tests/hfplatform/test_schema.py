"""The schema documents what the API does: error responses by rule, request text constraints, strict
JSON types, pages and filters that refuse what the schema refuses. (The property-based run of the
whole schema is ``test_api_contract.py``.)"""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _statuses(schema, path, method):
    return set(schema["paths"][path][method]["responses"])


def test_error_responses_follow_the_rules(schema):
    # A read by id: the role, the id; no body and no query, so no 400.
    assert _statuses(schema, "/api/jobs/{job_id}/", "get") == {"200", "401", "403", "404"}
    # An answer: body (400, 413), the item it names (404), its state (409).
    assert _statuses(schema, "/api/review/ratings/", "post") >= {"400", "401", "403", "404", "409", "413"}
    # The upload: a per-user write rate.
    assert "429" in _statuses(schema, "/api/subjects/{subject_id}/photos/", "post")
    # Anyone may ask for a token: wrong credentials (401) and sign-in limits (429), no 403.
    assert _statuses(schema, "/api/auth/token/", "post") == {"200", "400", "401", "413", "429"}
    limited = schema["paths"]["/api/auth/token/"]["post"]["responses"]["429"]
    assert limited["headers"]["Retry-After"]["schema"]["type"] == "integer"
    # Every error names the one Error shape.
    response = schema["paths"]["/api/jobs/{job_id}/cancel/"]["post"]["responses"]["409"]
    assert response["content"]["application/json"]["schema"] == ERROR_REF
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"detail", "code"}


def test_request_text_says_what_the_server_refuses(schema):
    request = schema["components"]["schemas"]["PreferenceDatasetCreate"]["properties"]["name"]
    assert request["minLength"] == 1
    assert request["pattern"] == r"^[^\x00]*[^\s\x1c-\x1f\x00][^\x00]*$"
    # A response may hold "" (an audit row of the system has no actor).
    assert "minLength" not in schema["components"]["schemas"]["AuditEvent"]["properties"]["actor"]


def test_pages_say_their_ranges(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/jobs/"]["get"]["parameters"]}
    assert parameters["limit"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert parameters["offset"] == {"type": "integer", "minimum": 0}


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=1001", "offset=-1", "offset=1.5"])
def test_a_page_out_of_range_is_a_400_naming_it(api_client_for, query):
    response = api_client_for("ml_engineer").get(f"/api/jobs/?{query}")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [query.split("=")[0]]


@pytest.mark.parametrize("query", ["status=", "kind=", "status=running&status=nope"])
def test_an_empty_or_unknown_filter_is_a_400(api_client_for, query):
    assert api_client_for("ml_engineer").get(f"/api/jobs/?{query}").status_code == 400


def test_an_empty_filter_value_is_refused_where_the_schema_says_so(api_client_for):
    client = api_client_for("ml_engineer")
    assert client.get("/api/generation/jobs/?version=").status_code == 400
    assert client.get("/api/generation/jobs/?subject=7").status_code == 200  # text converts in a query
    audit = api_client_for("auditor")
    assert audit.get("/api/audit/?action=").status_code == 400
    assert audit.get("/api/audit/?action=campaign&since=2026-01-01").status_code == 200
    assert audit.get("/api/audit/?since=yesterday").json()["fields"]["since"]


@pytest.mark.parametrize("value", [True, "0.25", None])
def test_a_json_body_of_the_wrong_type_is_refused(api_client_for, value):
    response = api_client_for("ml_engineer").post(
        "/api/reward/datasets/", {"name": "d", "campaigns": [1], "test_share": value}, format="json")
    assert response.status_code == 400
    assert "test_share" in response.json()["fields"]


def test_booleans_are_json_booleans(api_client_for):
    response = api_client_for("ml_engineer").post(
        "/api/reward/datasets/", {"name": "d", "campaigns": [1], "keep_ties": 1}, format="json")
    assert response.status_code == 400
    assert "keep_ties" in response.json()["fields"]


def test_the_api_reads_json_bodies_only(api_client_for):
    response = api_client_for("ml_engineer").post("/api/reward/datasets/", {"name": "d", "campaigns": 1},
                                                   format="multipart")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_every_number_and_boolean_of_the_api_takes_json_types():
    """A serializer field added later with DRF's coercing FloatField/IntegerField/BooleanField would
    reopen the gap the contract run found (``true`` taken as 1.0): every such field declared by the
    project's API serializers comes from ``hfplatform.json_fields``."""
    from django.urls import get_resolver
    from rest_framework import serializers

    from hfplatform import json_fields
    from tests.factories.classes import subclasses

    get_resolver().url_patterns  # noqa: B018 - imports every API module
    coercing = (serializers.FloatField, serializers.IntegerField, serializers.BooleanField)
    apps = {"hfplatform", "generation", "review", "reward", "monitoring"}
    ours = [c for c in subclasses(serializers.Serializer) if c.__module__.split(".")[0] in apps]
    assert len(ours) > 50
    loose = []
    for cls in ours:
        for name, field in cls._declared_fields.items():
            for f in (field, getattr(field, "child", None)):
                if isinstance(f, coercing) and not isinstance(f, json_fields._JSONTyped):
                    loose.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    assert not loose, loose
