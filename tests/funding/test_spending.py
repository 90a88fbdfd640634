"""Spending and receipts through the unit manager's forms: each spending rule refuses with its message on
its field, keeps what was typed and stores nothing; a tranche's receipt is confirmed once, for a released
tranche only, with its audit entry; the consumption chart draws a planned and a spent bar per category."""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from funding.charts import consumption_svg
from funding.domain.awards import tranche_withhold
from funding.domain.spending import CategoryConsumption, award_consumption, spending_record
from funding.models import SpendingLine, TrancheState
from iea import formats
from iea.audit.models import AuditEntry

from .unit_factories import unit_award

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def ua():
    ua = unit_award()
    ua.release(1)
    return ua


def post_spending(client, ua, **fields):
    data = {"date": ua.award.start_date.isoformat(), "category": "mobility", "amount": "250.40",
            "description": "Train Paris–Lyon"}
    data.update(fields)
    client.force_login(ua.manager)
    return client.post(reverse("funding:spending_add", args=[ua.award.pk]), data)


def field_errors(response, name):
    html = response.content.decode()
    block = re.search(rf'<div id="err-{name}">(.*?)</div>', html, re.S).group(1)
    return re.findall(r"<li>(.*?)</li>", block)


# --- recording spending --------------------------------------------------------------------------------


def test_a_valid_expense_is_recorded_with_its_audit_entry(client, ua):
    response = post_spending(client, ua)
    assert (response.status_code, response.url) == (
        302, reverse("funding:unit_award", args=[ua.award.pk]) + "#spending")
    line = SpendingLine.objects.get()
    assert (line.award_id, line.date, line.category, line.amount, line.description, line.recorded_by_id) == (
        ua.award.pk, ua.award.start_date, "mobility", Decimal("250.40"), "Train Paris–Lyon", ua.manager.pk)
    entry = AuditEntry.objects.get(action="spending.record")
    assert (entry.actor_id, entry.object_id, entry.data["line"]) == (ua.manager.pk, str(ua.award.pk), line.pk)
    page = client.get(response.url)
    assert [str(m) for m in page.context["messages"]] == ["Expense of €250.40 recorded under Mobility."]


def test_the_last_day_of_the_award_is_accepted_once_it_has_passed(client):
    ua = unit_award(now=timezone.now() - dt.timedelta(days=800))
    assert post_spending(client, ua, date=ua.award.end_date.isoformat()).status_code == 302
    assert SpendingLine.objects.get().date == ua.award.end_date


def test_a_day_after_the_award_ended_is_refused(client):
    ua = unit_award(now=timezone.now() - dt.timedelta(days=800))
    response = post_spending(client, ua, date=(ua.award.end_date + dt.timedelta(days=1)).isoformat())
    assert response.status_code == 400
    assert field_errors(response, "date") == [
        f"The date must fall within the award, from {formats.date(ua.award.start_date)} to "
        f"{formats.date(ua.award.end_date)}."]
    assert SpendingLine.objects.count() == 0


def _dates(ua):
    return {"before": (ua.award.start_date - dt.timedelta(days=1)).isoformat(),
            "tomorrow": (timezone.localdate() + dt.timedelta(days=1)).isoformat()}


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"amount": "0"}, "amount", "The amount must be more than zero."),
    ({"amount": "-12"}, "amount", "The amount must be more than zero."),
    ({"amount": ""}, "amount", "The amount must be more than zero."),
    ({"amount": "douze"}, "amount", "Enter a number."),
    ({"date": "before"}, "date", "The date must fall within the award, from {start} to {end}."),
    ({"date": "tomorrow"}, "date", "The date {tomorrow} is in the future: record an expense once it is paid."),
    ({"date": ""}, "date", "Give the date of the expense."),
    ({"date": "31/02/2027"}, "date", "Enter a date such as 2027-03-31."),
    ({"category": ""}, "category", "Choose a spending category."),
    ({"category": "champagne"}, "category", "Choose a spending category."),
    ({"description": ""}, "description", "Describe the expense."),
    ({"description": "   "}, "description", "Describe the expense."),
])
def test_each_spending_rule_refuses_with_its_message_and_keeps_the_input(client, ua, fields, field, message):
    if fields.get("date") in ("before", "tomorrow"):
        fields = {"date": _dates(ua)[fields["date"]]}
    response = post_spending(client, ua, **fields)
    assert response.status_code == 400
    expected = message.format(start=formats.date(ua.award.start_date), end=formats.date(ua.award.end_date),
                              tomorrow=formats.date(timezone.localdate() + dt.timedelta(days=1)))
    assert field_errors(response, field) == [expected]
    assert SpendingLine.objects.count() == 0
    assert not AuditEntry.objects.filter(action="spending.record").exists()
    # Nothing typed is lost: the page comes back with every value as sent.
    sent = {"date": ua.award.start_date.isoformat(), "category": "mobility", "amount": "250.40",
            "description": "Train Paris–Lyon", **fields}
    form = response.context["form"]
    assert {name: form[name].value() for name in sent} == sent
    html = response.content.decode()
    for name in ("date", "amount", "description"):
        if sent[name].strip():
            assert f'name="{name}" value="{sent[name]}"' in html
    assert "The expense was not recorded: correct the fields marked below." in html


def test_a_description_over_300_characters_is_refused(client, ua):
    response = post_spending(client, ua, description="x" * 301)
    assert response.status_code == 400
    assert field_errors(response, "description") == ["Ensure this value has at most 300 characters (it has 301)."]
    assert SpendingLine.objects.count() == 0


# --- receipt of a tranche ---------------------------------------------------------------------------------


def confirm(client, ua, number):
    client.force_login(ua.manager)
    return client.post(reverse("funding:tranche_received", args=[ua.tranche(number).pk]))


def test_the_receipt_of_a_released_tranche_is_confirmed_once_with_its_audit_entry(client, ua):
    response = confirm(client, ua, 1)
    assert (response.status_code, response.url) == (
        302, reverse("funding:unit_award", args=[ua.award.pk]) + "#tranches")
    tranche = ua.tranche(1)
    assert (tranche.received_by_id, tranche.received_at is not None) == (ua.manager.pk, True)
    entries = AuditEntry.objects.filter(action="tranche.receipt")
    assert [(e.actor_id, e.object_id) for e in entries] == [(ua.manager.pk, str(tranche.pk))]
    assert [str(m) for m in client.get(response.url).context["messages"]] == ["Receipt of tranche 1 (€6,000.00) confirmed."]

    again = confirm(client, ua, 1)
    assert again.status_code == 302
    assert ua.tranche(1).received_at == tranche.received_at
    assert AuditEntry.objects.filter(action="tranche.receipt").count() == 1
    assert [str(m) for m in client.get(again.url).context["messages"]] == [
        "The receipt of tranche 1 was already confirmed."]


def test_a_planned_tranche_cannot_be_received(client, ua):
    response = confirm(client, ua, 2)
    assert ua.tranche(2).received_at is None
    assert not AuditEntry.objects.filter(action="tranche.receipt").exists()
    assert [str(m) for m in client.get(response.url).context["messages"]] == ["Only a released tranche can be received."]


def test_a_withheld_tranche_cannot_be_received(client):
    ua = unit_award()
    tranche_withhold(tranche_id=ua.tranche(1).pk, user=ua.staff, reason="Missing report", now=timezone.now())
    assert ua.tranche(1).state == TrancheState.WITHHELD
    response = confirm(client, ua, 1)
    assert ua.tranche(1).received_at is None
    assert [str(m) for m in client.get(response.url).context["messages"]] == ["Only a released tranche can be received."]


# --- the consumption chart ----------------------------------------------------------------------------------


def parse_svg(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 — our own server-rendered SVG, not untrusted input


def chart_of(html: str) -> ET.Element:
    return parse_svg(re.search(r"<svg.*?</svg>", html, re.S).group(0))


def bars(svg: ET.Element):
    """(planned bar, spent bar) per category: the planned bar is the outlined one, drawn first."""
    rects = svg.findall(f"{SVG}rect")
    return list(zip(rects[0::2], rects[1::2], strict=True))


def test_the_award_page_draws_one_planned_and_one_spent_bar_per_category(client, ua):
    spending_record(award_id=ua.award.pk, user=ua.manager, date=ua.award.start_date, category="mobility",
                    amount=Decimal(1500), description="Flights", now=timezone.now())
    spending_record(award_id=ua.award.pk, user=ua.manager, date=ua.award.start_date, category="field",
                    amount=Decimal(80), description="Car hire", now=timezone.now())
    client.force_login(ua.manager)
    svg = chart_of(client.get(reverse("funding:unit_award", args=[ua.award.pk])).content.decode())
    pairs = bars(svg)
    assert len(pairs) == 4
    assert [(p.get("stroke") is not None, s.get("stroke") is None) for p, s in pairs] == [(True, True)] * 4
    # Planned 6000 / 6000 / 0 / 0; spent 1500 / 0 / 80 / 0: only the field missions are over the plan.
    assert [s.get("fill") for _p, s in pairs] == ["#0b3d91", "#0b3d91", "#b42318", "#0b3d91"]
    planned_widths = [float(p.get("width")) for p, _s in pairs]
    spent_widths = [float(s.get("width")) for _p, s in pairs]
    assert planned_widths[0] == planned_widths[1] > 0 == planned_widths[2] == planned_widths[3]
    assert spent_widths[0] == pytest.approx(planned_widths[0] / 4, abs=0.1)
    labels = [t.text for t in svg.findall(f"{SVG}text")[0::2]]
    assert labels == ["Mobility", "Working meetings", "Field missions", "Other"]
    # Accessible: a title and a description that says the numbers, both referenced by the image.
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "consumption-title consumption-desc"
    assert svg.find(f"{SVG}title").text == "Budget consumed per category, against the award"
    desc = svg.find(f"{SVG}desc").text
    assert "Mobility: €1,500.00 spent of €6,000.00 planned." in desc
    assert "Field missions: €80.00 spent of €0.00 planned." in desc


def test_the_chart_follows_award_consumption(ua):
    rows = award_consumption(ua.award)
    assert [(r.category, r.planned, r.spent) for r in rows] == [
        ("mobility", Decimal("6000.00"), Decimal(0)), ("meetings", Decimal("6000.00"), Decimal(0)),
        ("field", Decimal("0.00"), Decimal(0)), ("other", Decimal("0.00"), Decimal(0))]
    svg = parse_svg(consumption_svg(rows))
    assert [s.get("width") for _p, s in bars(svg)] == ["0.0"] * 4


def test_the_chart_geometry_is_not_localised():
    rows = [CategoryConsumption(category="mobility", label="Mobilité", planned=Decimal(6000), spent=Decimal("1234.5"))]
    with translation.override("fr"):
        svg = parse_svg(consumption_svg(rows))
    planned, spent = bars(svg)[0]
    assert (float(planned.get("width")), float(spent.get("width"))) == (320.0, pytest.approx(65.8, abs=0.1))
