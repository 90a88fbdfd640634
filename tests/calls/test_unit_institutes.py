"""``Unit.evaluating_institutes`` and ``Unit.may_be_evaluated_by``: the one answer to "which institutes may
evaluate a proposal of this unit" (its main institute and its secondary ones), for the editor's choices, the
form's check and the eligibility checklist."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.models import Unit
from tests.factories import InstituteFactory, UnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit():
    unit = UnitFactory()
    unit.secondary_institutes.add(InstituteFactory(code="INSHS"), InstituteFactory(code="INEE"))
    return unit


def test_the_evaluating_institutes_are_the_main_one_and_the_secondary_ones(unit):
    InstituteFactory(code="INP")  # another unit's concern

    assert sorted(unit.evaluating_institutes().values_list("code", flat=True)) == sorted(
        [unit.main_institute.code, "INEE", "INSHS"])


def test_a_main_institute_also_listed_as_secondary_is_offered_once(unit):
    unit.secondary_institutes.add(unit.main_institute)

    assert unit.evaluating_institutes().count() == 3


def test_each_institute_may_evaluate_or_not_as_the_list_says(unit):
    outsider = InstituteFactory(code="INP")
    listed = set(unit.evaluating_institutes().values_list("pk", flat=True))

    assert {pk: unit.may_be_evaluated_by(pk) for pk in [*listed, outsider.pk]} == {
        **dict.fromkeys(listed, True), outsider.pk: False}


def test_with_the_secondary_institutes_prefetched_the_check_reads_no_database(unit):
    secondary = unit.secondary_institutes.first()
    outsider = InstituteFactory(code="INP")
    unit = Unit.objects.prefetch_related("secondary_institutes").get(pk=unit.pk)

    with CaptureQueriesContext(connection) as queries:
        answers = (unit.may_be_evaluated_by(secondary.pk), unit.may_be_evaluated_by(outsider.pk))
    assert (answers, len(queries)) == ((True, False), 0)
