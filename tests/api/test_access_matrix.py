"""Who may reach every operation of the API, as a table: one row per operation of the OpenAPI schema (a
new operation without a row fails the first test), one column per role, on objects of the same small world
(``tests.api.world``): the PI's own draft and award, the reviewer's assignment and review, the panel the
officer runs, the unit the manager manages.

``ok`` means the request passed the access rules: 2xx, or 400/409 for the empty body it is sent (access is
what this table is about; each resource's own tests cover what the body does). Every request runs in a
savepoint that is rolled back, so one cell never changes the next.
"""

import re

import pytest
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework import throttling

from .conftest import client_for
from .world import ROLES, build_world

pytestmark = pytest.mark.django_db

MATRIX = """
operation                                       anonymous  pi   reviewer  officer  staff  manager
GET /api/v1/calls/                              200        200  200       200      200    200
GET /api/v1/calls/{year}/                       200        200  200       200      200    200
GET /api/v1/institutes/                         200        200  200       200      200    200
GET /api/v1/institutes/{id}/                    200        200  200       200      200    200
GET /api/v1/units/                              401        200  200       200      200    200
GET /api/v1/units/{id}/                         401        200  200       200      200    200
GET /api/v1/proposals/                          401        200  200       200      200    200
POST /api/v1/proposals/                         401        ok   ok        ok       ok     ok
GET /api/v1/proposals/{reference}/              401        200  404       404      200    404
PATCH /api/v1/proposals/{reference}/            401        ok   404       404      403    404
POST /api/v1/proposals/{reference}/invite/      401        ok   404       404      403    404
POST /api/v1/proposals/{reference}/letter/      401        ok   404       404      403    404
POST /api/v1/proposals/{reference}/submit/      401        ok   404       404      403    404
POST /api/v1/proposals/{reference}/team/        401        ok   404       404      403    404
DELETE /api/v1/proposals/{reference}/team/{member_id}/ 401 ok   404       404      403    404
POST /api/v1/proposals/{reference}/withdraw/    401        ok   404       404      403    404
GET /api/v1/assignments/                        401        200  200       200      200    200
GET /api/v1/assignments/{id}/                   401        404  200       404      404    404
POST /api/v1/assignments/{id}/accept/           401        404  ok        404      404    404
POST /api/v1/assignments/{id}/conflict/         401        404  ok        404      404    404
POST /api/v1/assignments/{id}/decline/          401        404  ok        404      404    404
POST /api/v1/assignments/{id}/review/           401        404  ok        404      404    404
GET /api/v1/reviews/                            401        200  200       200      200    200
GET /api/v1/reviews/{id}/                       401        404  200       404      404    404
PATCH /api/v1/reviews/{id}/                     401        404  ok        404      404    404
POST /api/v1/reviews/{id}/submit/               401        404  ok        404      404    404
GET /api/v1/panels/                             401        200  200       200      200    200
GET /api/v1/panels/{id}/                        401        404  404       200      200    404
GET /api/v1/panels/{id}/results/                401        404  404       200      200    404
GET /api/v1/awards/                             401        200  200       200      200    200
GET /api/v1/awards/{id}/                        401        200  404       200      200    200
GET /api/v1/tranches/                           401        200  200       200      200    200
GET /api/v1/tranches/{id}/                      401        200  404       200      200    200
POST /api/v1/tranches/{id}/confirm-receipt/     401        403  404       403      403    ok
GET /api/v1/reports/                            401        200  200       200      200    200
GET /api/v1/reports/{id}/                       401        200  404       200      200    200
PATCH /api/v1/reports/{id}/                     401        ok   404       403      403    403
POST /api/v1/reports/{id}/submit/               401        ok   404       403      403    403
POST /api/v1/reports/{id}/review/               401        403  404       ok       ok     403
GET /api/v1/audit/                              401        403  403       403      ok     403
"""


def _rows():
    lines = [line.split() for line in MATRIX.strip().splitlines()[1:]]
    return {f"{line[0]} {line[1]}": dict(zip(ROLES, line[2:], strict=True)) for line in lines}


ROWS = _rows()


def test_every_operation_of_the_schema_has_a_row_and_every_row_an_operation():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {f"{method.upper()} {path}" for path, methods in schema["paths"].items() for method in methods}
    assert operations - set(ROWS) == set(), "operations without a row in the access matrix"
    assert set(ROWS) - operations == set(), "rows naming no operation"


def _path(template: str, world: dict) -> str:
    def value(match):
        name = match.group(1)
        segments = [s for s in template.split("/") if s]
        resource = segments[segments.index("{" + name + "}") - 1]
        return str(world["team_member"] if name == "member_id" else world[resource])

    return re.sub(r"{(\w+)}", value, template)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_what_the_matrix_says(role, monkeypatch):
    monkeypatch.setattr(throttling.SimpleRateThrottle, "THROTTLE_RATES", {"user": None, "anon": None})
    world = build_world(role)
    client = client_for(world["user"])
    wrong = []
    for operation, expected in ROWS.items():
        method, template = operation.split(" ", 1)
        with transaction.atomic():
            body_format = "multipart" if template.endswith("/letter/") else "json"
            response = getattr(client, method.lower())(_path(template, world), {}, format=body_format)
            transaction.set_rollback(True)
        status = response.status_code
        if expected[role] == "ok":
            passed = 200 <= status < 300 or status in (400, 409)
        else:
            passed = status == int(expected[role])
        if not passed:
            wrong.append(f"{operation}: expected {expected[role]}, got {status} {response.content[:200]!r}")
    assert wrong == [], f"as {role}:\n" + "\n".join(wrong)
