"""Schemathesis over the OpenAPI schema: every operation, as each role, with generated and deliberately
invalid data → never a server error, and every answer (status, content type, body, headers) as the schema
says. Half the cases aim at objects that exist and that the role may see, so the fuzzer gets past the 404s.

``API_FUZZ_EXAMPLES`` sets the examples per operation and role (CI: the default; raise it locally to dig).
"""

import os
import re

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework import throttling
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi import checks as openapi_checks

from iea.accounts.domain import api_token_create

from .world import ROLES, build_world

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))
# Business rules legitimately refuse data the schema calls well formed (a closed call, a missing letter),
# and the stateful checks assume a fresh object per request: they do not apply here.
EXCLUDED = [
    openapi_checks.positive_data_acceptance,
    openapi_checks.use_after_free,
    openapi_checks.ensure_resource_availability,
]


def _known_value(path: str, parameter: str, world: dict):
    """The value of a path parameter that names an object this role may reach, from the segment before it."""
    segments = [s for s in path.split("/") if s]
    place = segments.index("{" + parameter + "}")
    resource = segments[place - 1]
    if parameter == "member_id":
        return world.get("team_member")
    return world.get(resource)


@pytest.fixture
def wsgi_app():
    """The real WSGI application, as a server runs it, but keeping the test's database connection (and
    transaction) open between requests, like Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_the_schema_says_never_a_server_error(role, monkeypatch, wsgi_app):
    monkeypatch.setattr(throttling.SimpleRateThrottle, "THROTTLE_RATES", {"user": None, "anon": None})
    world = build_world(role)
    headers = {"Accept-Language": "en"}
    if world["user"] is not None:
        _token, secret = api_token_create(user=world["user"], name="fuzz", scopes="read write", days=30,
                                          now=timezone.now())
        headers["Authorization"] = f"Bearer {secret}"
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        known = {name: _known_value(operation.path, name, world) for name in re.findall(r"{(\w+)}", operation.path)}
        try:
            _fuzz(operation, known, headers)
        except Exception as error:  # noqa: BLE001 — gathered, so one run reports every operation that fails
            failures.append(f"{operation.label}: {error}")
    assert not failures, f"{len(failures)} operations failed as {role}:\n\n" + "\n\n".join(failures)


def _fuzz(operation, known: dict, headers: dict) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), aim=st.booleans())
    def run(case, aim):
        negative_path = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
        if aim and case.path_parameters and not negative_path:
            case.path_parameters = {k: (known.get(k) if known.get(k) is not None else v)
                                    for k, v in case.path_parameters.items()}
        case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

    run()
