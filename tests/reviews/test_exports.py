"""The panel table workbook: numbers are numbers with a number format, translated labels are text, in both
languages (a lazy label once crashed openpyxl: "Cannot convert 'Financer' to Excel")."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from iea.formats import XLSX_MONEY, XLSX_NUMBER
from proposals.models import Proposal
from reviews.models import PanelRecommendation

from .test_panel import World

pytestmark = pytest.mark.django_db

LONG_TITLE = ("Érosion côtière " * 20)[:250]  # the longest title a proposal holds


@pytest.fixture
def world():
    world = World()
    world.weigh(3, 1)
    world.p1, world.p2, world.p3 = world.proposals(3)
    world.a, world.b = world.reviewer("Alice Ames"), world.reviewer("Bruno Bell")
    world.reviews([(world.p1, world.a, [4, 2]), (world.p1, world.b, [2, 4])])
    PanelRecommendation.objects.create(proposal=world.p1, panel=world.panel, recommendation="fund", rank=1,
                                       proposed_amount=Decimal("12500.50"), updated_at=timezone.now())
    Proposal.objects.filter(pk=world.p3.pk).update(title=LONG_TITLE)
    return world


@pytest.mark.parametrize(("language", "fund"), [("fr", "Financer"), ("en", "Fund")])
def test_the_panel_workbook_holds_numbers_with_a_format_and_labels_as_text(client, world, language, fund):
    client.force_login(world.officer)
    response = client.get(reverse("panel:export", args=[world.panel.pk]), {"sort": "reference"},
                          HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    recommended, unreviewed, long_text = rows[1:]
    amount, label, total = recommended[-1], recommended[-2], recommended[5]
    assert (amount.value, amount.data_type, amount.number_format) == (12500.5, "n", XLSX_MONEY)
    assert (label.value, label.data_type) == (fund, "s")
    assert (total.value, total.data_type, total.number_format) == (3.0, "n", XLSX_NUMBER)
    # A proposal without reviews nor recommendation: empty cells, not "None" nor 0.
    assert [unreviewed[index].value for index in (5, 6, len(header) - 2, len(header) - 1)] == [None, None, None, None]
    assert (long_text[2].value, long_text[2].data_type) == (LONG_TITLE, "s")
