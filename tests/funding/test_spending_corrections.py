"""Correcting a spending line (``spending_update``, ``spending_delete``): only the unit manager who recorded
it, under the same rules as recording it (no date in the future, none outside the award), never once a
submitted report covers it; each correction audited with what the line was; the pages refuse everyone
else with a 404 and keep what was typed on a refusal."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.awards import FundingError
from funding.domain.spending import spending_delete, spending_record, spending_update
from funding.models import Report, ReportPeriod, ReportState, SpendingLine
from iea import formats
from iea.audit.models import AuditEntry
from tests.factories import StaffFactory, UserFactory

from .factories import make_panel_officer, make_reviewer_user, make_unit_manager
from .unit_factories import unit_award

pytestmark = pytest.mark.django_db


@pytest.fixture
def ua():
    return unit_award()


@pytest.fixture
def line(ua):
    return spending_record(award_id=ua.award.pk, user=ua.manager, date=ua.award.start_date, category="mobility",
                           amount=Decimal("250.40"), description="Train Paris–Lyon", now=timezone.now())


def correct(line, user, **changes):
    fields = {"date": line.date, "category": line.category, "amount": line.amount, "description": line.description}
    fields.update(changes)
    return spending_update(line_id=line.pk, user=user, now=timezone.now(), **fields)


def fresh(line):
    return SpendingLine.objects.get(pk=line.pk)


# --- the domain ---------------------------------------------------------------------------------------


def test_the_recorder_corrects_a_line_and_the_audit_keeps_what_it_was(ua, line):
    day = ua.award.start_date + dt.timedelta(days=3)
    correct(line, ua.manager, date=day, category="meetings", amount=Decimal("199.99"), description=" Workshop ")
    assert (fresh(line).date, fresh(line).category, fresh(line).amount, fresh(line).description) == (
        day, "meetings", Decimal("199.99"), "Workshop")
    entry = AuditEntry.objects.get(action="spending.update")
    assert (entry.actor_id, entry.object_id) == (ua.manager.pk, str(ua.award.pk))
    assert entry.data["before"] == {"date": ua.award.start_date.isoformat(), "category": "mobility",
                                    "amount": "250.40", "description": "Train Paris–Lyon"}
    assert entry.data["after"]["amount"] == "199.99"


def test_a_future_date_is_refused_on_correction(ua, line):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(FundingError) as refused:
        correct(line, ua.manager, date=tomorrow)
    assert refused.value.messages == [
        f"The date {formats.date(tomorrow)} is in the future: record an expense once it is paid."]
    assert fresh(line).date == ua.award.start_date


def test_a_date_before_the_award_is_refused_on_correction(ua, line):
    with pytest.raises(FundingError) as refused:
        correct(line, ua.manager, date=ua.award.start_date - dt.timedelta(days=1))
    assert refused.value.code == "date"
    assert not AuditEntry.objects.filter(action="spending.update").exists()


def test_another_manager_of_the_unit_does_not_correct_a_line_they_did_not_record(ua, line):
    colleague = make_unit_manager(ua.award)
    with pytest.raises(FundingError) as refused:
        correct(line, colleague, amount=Decimal(1))
    assert refused.value.messages == ["Only the unit manager who recorded this expense can correct it."]
    with pytest.raises(FundingError):
        spending_delete(line_id=line.pk, user=colleague, now=timezone.now())
    assert fresh(line).amount == Decimal("250.40")


@pytest.mark.parametrize("state", [ReportState.SUBMITTED, ReportState.COSIGNED, ReportState.APPROVED])
def test_a_line_covered_by_a_submitted_report_no_longer_changes(ua, line, state):
    Report.objects.filter(award=ua.award, period=ReportPeriod.YEAR_1).update(state=state)
    with pytest.raises(FundingError) as refused:
        correct(line, ua.manager, amount=Decimal(1))
    assert refused.value.code == "reported"
    assert refused.value.messages[0].startswith("This expense is covered by the year 1 report, which is ")
    with pytest.raises(FundingError):
        spending_delete(line_id=line.pk, user=ua.manager, now=timezone.now())
    assert SpendingLine.objects.filter(pk=line.pk).exists()


def test_a_report_sent_back_for_changes_lets_the_line_change(ua, line):
    Report.objects.filter(award=ua.award, period=ReportPeriod.YEAR_1).update(state=ReportState.CHANGES_REQUESTED)
    assert correct(line, ua.manager, amount=Decimal(1)).amount == Decimal(1)


def test_the_recorder_deletes_a_line_and_the_audit_keeps_it(ua, line):
    spending_delete(line_id=line.pk, user=ua.manager, now=timezone.now())
    assert not SpendingLine.objects.filter(pk=line.pk).exists()
    entry = AuditEntry.objects.get(action="spending.delete")
    assert (entry.data["amount"], entry.data["description"], entry.data["line"]) == (
        "250.40", "Train Paris–Lyon", line.pk)


# --- the pages ---------------------------------------------------------------------------------------


def test_the_award_page_links_each_line_its_viewer_recorded(client, ua, line):
    colleague = make_unit_manager(ua.award)
    other = spending_record(award_id=ua.award.pk, user=colleague, date=ua.award.start_date, category="other",
                            amount=Decimal(10), description="Stamps", now=timezone.now())
    client.force_login(ua.manager)
    html = client.get(reverse("funding:unit_award", args=[ua.award.pk])).content.decode()
    assert reverse("funding:spending_edit", args=[line.pk]) in html
    assert reverse("funding:spending_edit", args=[other.pk]) not in html


def test_the_manager_edits_a_line_from_its_page(client, ua, line):
    client.force_login(ua.manager)
    url = reverse("funding:spending_edit", args=[line.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'value="250.40"' in page.content.decode()
    response = client.post(url, {"date": ua.award.start_date.isoformat(), "category": "field", "amount": "300",
                                 "description": "Field trip"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("funding:unit_award", args=[ua.award.pk]) + "#spending"
    assert (fresh(line).category, fresh(line).amount) == ("field", Decimal(300))
    assert [str(m) for m in response.context["messages"]] == [
        f"The expense of {formats.date(ua.award.start_date)} was corrected."]


def test_a_refused_correction_keeps_what_was_typed_and_changes_nothing(client, ua, line):
    client.force_login(ua.manager)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post(reverse("funding:spending_edit", args=[line.pk]),
                           {"date": tomorrow, "category": "field", "amount": "300", "description": "Typed"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "is in the future: record an expense once it is paid." in html
    assert f'value="{tomorrow}"' in html and 'value="Typed"' in html
    assert fresh(line).amount == Decimal("250.40")


def test_the_manager_deletes_a_line(client, ua, line):
    client.force_login(ua.manager)
    response = client.post(reverse("funding:spending_delete", args=[line.pk]), follow=True)
    assert not SpendingLine.objects.filter(pk=line.pk).exists()
    assert [str(m) for m in response.context["messages"]] == [
        f"The expense of €250.40 on {formats.date(ua.award.start_date)} was deleted."]


def test_a_refused_deletion_is_said_on_the_line_page(client, ua, line):
    Report.objects.filter(award=ua.award, period=ReportPeriod.YEAR_1).update(state=ReportState.APPROVED)
    client.force_login(ua.manager)
    response = client.post(reverse("funding:spending_delete", args=[line.pk]), follow=True)
    assert SpendingLine.objects.filter(pk=line.pk).exists()
    assert str(list(response.context["messages"])[-1]).startswith("This expense is covered by the year 1 report")


def _others(ua):
    return {
        "pi": ua.pi,
        "other_pi": unit_award(staff=ua.staff).pi,
        "colleague": make_unit_manager(ua.award),
        "other_unit_manager": make_unit_manager(None),
        "reviewer": make_reviewer_user(ua.award),
        "officer": make_panel_officer(ua.award),
        "staff": StaffFactory(),
        "stranger": UserFactory(),
    }


def test_nobody_else_reaches_the_correction_pages(client, ua, line):
    edit, delete = reverse("funding:spending_edit", args=[line.pk]), reverse("funding:spending_delete", args=[line.pk])
    for who, user in _others(ua).items():
        client.force_login(user)
        assert client.get(edit).status_code == 404, who
        assert client.post(edit, {"date": ua.award.start_date.isoformat(), "category": "other", "amount": "1",
                                  "description": "x"}).status_code == 404, who
        assert client.post(delete).status_code == 404, who
    client.logout()
    for url in (edit, delete):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert fresh(line).amount == Decimal("250.40")
    assert client.get(reverse("funding:spending_edit", args=[999999])).status_code == 302


def test_no_spending_on_a_declined_award():
    from funding.domain.acceptance import award_decline

    from .factories import award_factory

    award = award_factory(accepted=False, now=timezone.now() - dt.timedelta(days=120))
    manager = make_unit_manager(award)
    award_decline(award_id=award.pk, user=award.proposal.pi, reason="No.", now=timezone.now())
    with pytest.raises(FundingError) as refused:
        spending_record(award_id=award.pk, user=manager, date=award.start_date, category="other",
                        amount=Decimal(10), description="Stamps", now=timezone.now())
    assert refused.value.messages == [
        "The award was declined or cancelled: nothing is paid on it, so no spending is recorded."]
