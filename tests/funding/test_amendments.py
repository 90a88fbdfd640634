"""Amendments after the award (``funding.domain.amendments``): who asks, every rule and refusal, the unit's
opinion, the directorate's decision and what an approval changes (end date, report due date and its
reminders, tranches, budget plan, partner institution, a new version), the mails, and two approvals at once."""

from decimal import Decimal

import pytest
from django.utils import timezone

from funding.domain.amendments import (
    AmendmentError,
    amendment_decide,
    amendment_give_opinion,
    amendment_request,
    amendment_withdraw,
)
from funding.domain.awards import add_months, award_create, tranche_release
from funding.domain.reports import report_due
from funding.domain.versions import scale_to
from funding.models import (
    Amendment,
    AmendmentState,
    Award,
    AwardBudgetLine,
    AwardState,
    ReportPeriod,
    Tranche,
)
from funding.reminders import report_due_moment
from iea.audit.models import AuditEntry
from iea.notifications.models import Notification
from tests.factories import StaffFactory, UserFactory
from tests.proposals import test_concurrency as concurrency

from .factories import award_factory, make_unit_manager

pytestmark = pytest.mark.django_db
sqlite_file_copy = concurrency.sqlite_file_copy
NOW = timezone.now()


@pytest.fixture
def award():
    award = award_factory()
    make_unit_manager(award)
    return award


def fresh(award) -> Award:
    return Award.objects.select_related("proposal__call").get(pk=award.pk)


def plan(award) -> dict:
    return {(line.year, line.category): line.amount for line in AwardBudgetLine.objects.filter(award=award)}


def extension(award, months=3, **kw):
    return amendment_request(award_id=award.pk, user=award.proposal.pi, kind="extension", months=months,
                             reason=kw.pop("reason", "The field season moved to the next spring."), now=NOW, **kw)


def transfer(award, amount="500", from_year=1, from_category="mobility", to_year=1, to_category="field", **kw):
    return amendment_request(award_id=award.pk, user=award.proposal.pi, kind="transfer", amount=Decimal(amount),
                             from_year=from_year, from_category=from_category, to_year=to_year,
                             to_category=to_category, reason="A mission costs more.", now=NOW, **kw)


def institution(award, name="Université de Montréal", country="CA"):
    return amendment_request(award_id=award.pk, user=award.proposal.pi, kind="institution", new_institution=name,
                             new_country=country, reason="The partner moved.", now=NOW)


def approve(amendment, staff=None):
    return amendment_decide(amendment_id=amendment.pk, user=staff or StaffFactory(), approve=True, reason="", now=NOW)


# --- the budget plan and version 1 ----------------------------------------------------------------------


def test_a_new_award_has_its_budget_plan_and_version_one(award):
    assert plan(award) == {(1, "mobility"): Decimal(3000), (1, "meetings"): Decimal(3000),
                           (2, "mobility"): Decimal(3000), (2, "meetings"): Decimal(3000)}
    version = award.versions.get()
    assert (version.number, version.amendment) == (1, None)
    assert version.data["amount"] == "12000.00" and version.data["end_date"] == award.end_date.isoformat()
    assert [t["amount"] for t in version.data["tranches"]] == ["6000.00", "6000.00"]


def test_the_plan_is_scaled_to_the_award_exact_to_the_cent():
    award = award_factory(amount=Decimal("10000.01"))
    lines = plan(award)
    assert sum(lines.values()) == Decimal("10000.01")
    assert sorted(lines.values()) == [Decimal("2500.00")] * 3 + [Decimal("2500.01")]


def test_scale_to_keeps_proportions_and_the_total():
    scaled = scale_to({"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)}, Decimal(100))
    assert scaled == {"a": Decimal("33.34"), "b": Decimal("33.33"), "c": Decimal("33.33")}
    assert scale_to({"a": Decimal(0)}, Decimal(10)) == {}


# --- asking -----------------------------------------------------------------------------------------------


def test_the_pi_asks_an_extension_and_the_unit_managers_are_told(award):
    amendment = extension(award, months=4)
    assert (amendment.state, amendment.months, amendment.new_end_date) == (
        "requested", 4, add_months(award.end_date, 4))
    managers = set(award.unit.managers.values_list("email", flat=True))
    assert set(Notification.objects.filter(kind="amendment_requested").values_list("email", flat=True)) == managers
    entry = AuditEntry.objects.get(action="amendment.request")
    assert entry.reason == "The field season moved to the next spring."


@pytest.mark.parametrize("who", ["unit_manager", "staff", "stranger"])
def test_only_the_pi_asks(award, who):
    user = {"unit_manager": award.unit.managers.first(), "staff": StaffFactory(), "stranger": UserFactory()}[who]
    with pytest.raises(AmendmentError) as refused:
        amendment_request(award_id=award.pk, user=user, kind="extension", months=2, reason="x", now=NOW)
    assert refused.value.code == "forbidden"


def test_refusals_of_a_request(award):
    cases = [
        ({"kind": "nonsense", "reason": "x"}, "kind"),
        ({"kind": "extension", "months": 2, "reason": "  "}, "reason"),
        ({"kind": "extension", "months": 0, "reason": "x"}, "months"),
        ({"kind": "extension", "months": 7, "reason": "x"}, "months"),
        ({"kind": "transfer", "amount": Decimal(1), "from_year": 1, "from_category": "mobility", "to_year": 1,
              "to_category": "mobility", "reason": "x"}, "same_line"),
        ({"kind": "transfer", "amount": Decimal("3000.01"), "from_year": 1, "from_category": "mobility", "to_year": 1,
              "to_category": "field", "reason": "x"}, "amount"),
        ({"kind": "transfer", "amount": Decimal(-1), "from_year": 1, "from_category": "mobility", "to_year": 1,
              "to_category": "field", "reason": "x"}, "amount"),
        ({"kind": "transfer", "amount": Decimal(1), "from_year": 3, "from_category": "mobility", "to_year": 1,
              "to_category": "field", "reason": "x"}, "year"),
        ({"kind": "institution", "new_institution": "", "reason": "x"}, "institution"),
        ({"kind": "institution", "new_institution": "Sorbonne", "new_country": "FR", "reason": "x"}, "country"),
    ]
    codes = []
    for kwargs, _code in cases:
        with pytest.raises(AmendmentError) as refused:
            amendment_request(award_id=award.pk, user=award.proposal.pi, now=NOW, **kwargs)
        codes.append(refused.value.code)
    assert codes == [code for _kwargs, code in cases]
    assert Amendment.objects.count() == 0


def test_a_country_excluded_by_the_call_is_refused(award):
    call = award.proposal.call
    call.excluded_countries = ["RU"]
    call.save()
    with pytest.raises(AmendmentError) as refused:
        institution(award, country="RU")
    assert "Russia" in refused.value.messages[0]


def test_one_open_amendment_of_a_kind_at_a_time(award):
    first = extension(award)
    with pytest.raises(AmendmentError) as refused:
        extension(award)
    assert refused.value.code == "refused"
    transfer(award)  # another kind is fine
    amendment_withdraw(amendment_id=first.pk, user=award.proposal.pi, now=NOW)
    assert extension(award).state == "requested"


def test_only_on_an_active_award():
    award = award_factory(accepted=False)
    with pytest.raises(AmendmentError) as refused:
        extension(award)
    assert "active" in refused.value.messages[0]


def test_the_extension_never_beyond_the_calls_maximum_in_total(award):
    approve(extension(award, months=4))
    with pytest.raises(AmendmentError) as refused:
        extension(award, months=3)
    assert "2 months are left" in refused.value.messages[0]
    approve(extension(award, months=2))
    with pytest.raises(AmendmentError) as refused:
        extension(award, months=1)
    assert "already been extended" in refused.value.messages[0]


def test_a_call_with_no_extension(award):
    call = award.proposal.call
    call.max_extension_months = 0
    call.save()
    with pytest.raises(AmendmentError) as refused:
        extension(award)
    assert refused.value.messages == ["The awards of this call cannot be extended."]


# --- the opinion, the decision ----------------------------------------------------------------------------


def test_the_unit_gives_an_opinion_the_pi_is_told(award):
    amendment = extension(award)
    manager = award.unit.managers.first()
    with pytest.raises(AmendmentError) as refused:
        amendment_give_opinion(amendment_id=amendment.pk, user=manager, opinion="unfavourable", comment="", now=NOW)
    assert refused.value.code == "comment"
    with pytest.raises(AmendmentError) as refused:
        amendment_give_opinion(amendment_id=amendment.pk, user=award.proposal.pi, opinion="favourable",
                               comment="", now=NOW)
    assert refused.value.code == "forbidden"
    amendment = amendment_give_opinion(amendment_id=amendment.pk, user=manager, opinion="favourable",
                                       comment="", now=NOW)
    assert (amendment.state, amendment.opinion_by) == ("opinion", manager)
    assert list(Notification.objects.filter(kind="amendment_opinion").values_list("email", flat=True)) == [
        award.proposal.pi.email]
    with pytest.raises(AmendmentError) as refused:
        amendment_give_opinion(amendment_id=amendment.pk, user=manager, opinion="favourable", comment="", now=NOW)
    assert refused.value.code == "closed"


def test_staff_refuse_with_a_reason_and_nothing_changes(award):
    amendment = extension(award)
    staff = StaffFactory()
    with pytest.raises(AmendmentError) as refused:
        amendment_decide(amendment_id=amendment.pk, user=staff, approve=False, reason=" ", now=NOW)
    assert refused.value.code == "reason"
    with pytest.raises(AmendmentError) as refused:
        amendment_decide(amendment_id=amendment.pk, user=award.proposal.pi, approve=True, reason="", now=NOW)
    assert refused.value.code == "forbidden"
    amendment_decide(amendment_id=amendment.pk, user=staff, approve=False, reason="Not justified.", now=NOW)
    assert fresh(award).end_date == award.end_date and award.versions.count() == 1
    recipients = set(Notification.objects.filter(kind="amendment_decided").values_list("email", flat=True))
    assert recipients == {award.proposal.pi.email, *award.unit.managers.values_list("email", flat=True)}
    with pytest.raises(AmendmentError) as refused:
        approve(amendment)
    assert refused.value.code == "closed"


def test_an_approved_extension_moves_the_end_the_final_report_and_its_reminders(award):
    before = fresh(award)
    final = award.reports.get(period=ReportPeriod.FINAL)
    old_moment = report_due_moment(final)
    amendment = approve(extension(award, months=3))
    after = fresh(award)
    assert after.end_date == add_months(before.end_date, 3) == amendment.new_end_date
    assert report_due(after, ReportPeriod.FINAL) == after.end_date
    assert report_due(after, ReportPeriod.YEAR_1) == report_due(before, ReportPeriod.YEAR_1)
    final.refresh_from_db()
    assert report_due_moment(final).date() == after.end_date != old_moment.date()
    version = after.versions.get(number=2)
    assert (version.amendment, version.data["end_date"]) == (amendment, after.end_date.isoformat())
    assert AuditEntry.objects.get(action="amendment.approve").data["changes"]["end_date"] == [
        before.end_date.isoformat(), after.end_date.isoformat()]


def test_a_transfer_within_a_year_keeps_the_total_and_the_tranches(award):
    approve(transfer(award, amount="1200.50"))
    lines = plan(award)
    assert (lines[(1, "mobility")], lines[(1, "field")]) == (Decimal("1799.50"), Decimal("1200.50"))
    assert sum(lines.values()) == Decimal(12000)
    assert list(Tranche.objects.filter(award=award).values_list("amount", flat=True)) == [Decimal(6000)] * 2


def test_a_transfer_between_years_moves_the_tranches(award):
    approve(transfer(award, amount="1000", from_year=2, to_year=1, to_category="mobility"))
    assert list(Tranche.objects.filter(award=award).values_list("amount", flat=True)) == [
        Decimal(7000), Decimal(5000)]
    assert award.versions.get(number=2).data["tranches"][0]["amount"] == "7000.00"


def test_a_released_tranche_never_changes(award):
    tranche = award.tranches.get(number=1)
    tranche_release(tranche_id=tranche.pk, user=StaffFactory(), now=NOW)
    with pytest.raises(AmendmentError) as refused:
        transfer(award, from_year=2, to_year=1)
    assert refused.value.code == "tranche"
    transfer(award, from_year=1, to_year=1)  # within a year: the tranche stays


def test_a_transfer_is_checked_again_at_approval(award):
    amendment = transfer(award, amount="1000", from_year=1, to_year=2)
    tranche_release(tranche_id=award.tranches.get(number=1).pk, user=StaffFactory(), now=NOW)
    with pytest.raises(AmendmentError) as refused:
        approve(amendment)
    assert refused.value.code == "tranche"
    assert Amendment.objects.get(pk=amendment.pk).state == "requested" and award.versions.count() == 1
    assert plan(award)[(1, "mobility")] == Decimal(3000)


def test_a_change_of_institution_shows_on_the_award(award):
    approve(institution(award))
    after = fresh(award)
    assert (after.current_partner_institution, after.current_partner_country.code) == ("Université de Montréal", "CA")
    assert after.versions.get(number=2).data["partner_institution"] == "Université de Montréal"
    with pytest.raises(AmendmentError) as refused:
        institution(after)
    assert refused.value.code == "institution"


def test_approval_of_a_suspended_award_is_refused(award):
    amendment = extension(award)
    Award.objects.filter(pk=award.pk).update(state=AwardState.SUSPENDED)
    with pytest.raises(AmendmentError) as refused:
        approve(amendment)
    assert refused.value.code == "award_state"


def test_the_pi_withdraws_only_an_open_amendment(award):
    amendment = extension(award)
    with pytest.raises(AmendmentError):
        amendment_withdraw(amendment_id=amendment.pk, user=award.unit.managers.first(), now=NOW)
    assert amendment_withdraw(amendment_id=amendment.pk, user=award.proposal.pi, now=NOW).state == "withdrawn"
    with pytest.raises(AmendmentError) as refused:
        amendment_withdraw(amendment_id=amendment.pk, user=award.proposal.pi, now=NOW)
    assert refused.value.code == "closed"


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_apply_once_on_sqlite(sqlite_file_copy):
    award = award_factory()
    amendment = extension(award, months=2)
    staff = StaffFactory()
    path, copy = sqlite_file_copy
    copy()

    def decide():
        return amendment_decide(amendment_id=amendment.pk, user=staff, approve=True, reason="", now=NOW).state

    results, errors = concurrency.run_together(4, decide, database=path)
    assert results == [AmendmentState.APPROVED]
    assert [error.code for error in errors] == ["closed"] * 3
    with concurrency._using(concurrency._file_connection(path)):
        assert Award.objects.get(pk=award.pk).end_date == add_months(award.end_date, 2)
        assert list(award.versions.values_list("number", flat=True)) == [1, 2]
        assert AuditEntry.objects.filter(action="amendment.approve").count() == 1


def test_award_create_twice_keeps_one_version(award):
    decision = award.proposal.decision
    assert award_create(decision=decision, user=StaffFactory(), now=NOW) == award
    assert list(award.versions.values_list("number", flat=True)) == [1]
