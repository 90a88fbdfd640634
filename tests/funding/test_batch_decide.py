"""Deciding several proposals at once with their panel's recommendation: ``decisions_set_many`` (one
transaction, the call locked, the envelope checked once, each decision through ``decision_set``'s rules,
all or nothing, an audit entry each) and the decisions page's ticks and confirmation."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from funding.domain.decisions import DecisionItem, decision_set, decisions_announce, decisions_set_many
from iea.audit.models import AuditEntry
from proposals.models import Proposal, ProposalState
from reviews.models import Decision
from tests.factories import InstituteFactory, StaffFactory, UserFactory, activate_totp
from tests.proposals import test_concurrency as concurrency
from tests.reviews.factories import PanelFactory, ReviewerFactory
from tests.reviews.staff_factories import closed_call, ranked_proposal

pytestmark = pytest.mark.django_db

sqlite_file_copy = concurrency.sqlite_file_copy


def decisions() -> list[tuple[str, str, Decimal | None, str]]:
    return list(Decision.objects.order_by("proposal__reference").values_list(
        "proposal__reference", "outcome", "amount", "override_reason"))


def writes():
    return (decisions(), list(Proposal.objects.order_by("pk").values_list("pk", "state")),
            AuditEntry.objects.count())


@pytest.fixture
def call():
    return closed_call(total_envelope=Decimal(30000))


@pytest.fixture
def three(call):
    """Fund, reserve and reject (each proposing €12,000: a reserve keeps it, as the page suggests), all of one
    institute, each with two reviews."""
    institute = InstituteFactory(code="INSU")
    return [ranked_proposal(call, institute=institute, rank=rank, recommendation=recommendation, acronym=acronym)
            for rank, recommendation, acronym in ((1, "fund", "ALPHA"), (2, "reserve", "BETA"), (3, "reject", "GAMMA"))]


# The domain -----------------------------------------------------------------------------------------------------


def items(*rows) -> list[DecisionItem]:
    return [DecisionItem(proposal_id=p.pk, outcome=outcome, amount=amount) for p, outcome, amount in rows]


def test_every_decision_is_taken_and_audited(call, three, staff):
    fund, reserve, reject = three
    taken = decisions_set_many(call_id=call.pk, user=staff, now=timezone.now(), items=items(
        (fund, "selected", Decimal(12000)), (reserve, "reserve", None), (reject, "rejected", None)))
    assert sorted(d.outcome for d in taken) == ["rejected", "reserve", "selected"]
    assert [Proposal.objects.get(pk=p.pk).state for p in three] == [
        ProposalState.SELECTED, ProposalState.RESERVE, ProposalState.REJECTED]
    assert sorted(AuditEntry.objects.filter(action="proposal.decide").values_list("object_id", "to_state")) == sorted(
        [(str(fund.pk), "selected"), (str(reserve.pk), "reserve"), (str(reject.pk), "rejected")])


def test_one_refusal_and_nothing_is_taken(call, three, staff):
    fund, reserve, reject = three
    decision_set(proposal_id=reject.pk, user=staff, outcome="rejected", amount=None, now=timezone.now())
    decisions_announce(call_id=call.pk, user=staff, now=timezone.now())
    before = writes()
    with pytest.raises(ValidationError, match="can no longer be changed"):
        decisions_set_many(call_id=call.pk, user=staff, now=timezone.now(), items=items(
            (fund, "selected", Decimal(12000)), (reserve, "reserve", None), (reject, "reserve", None)))
    assert writes() == before


def test_the_envelope_is_checked_once_on_the_total_the_batch_leaves(call, three, staff):
    fund, reserve, reject = three
    decision_set(proposal_id=reject.pk, user=staff, outcome="selected", amount=Decimal(14000), now=timezone.now(),
                 override_reason="")
    decision_set(proposal_id=reserve.pk, user=staff, outcome="selected", amount=Decimal(14000), now=timezone.now())
    # €28,000 selected: selecting one more for €12,000 passes the €30,000 envelope, unless the batch frees
    # money at the same time — decided one by one in pk order, the first selection would have been refused.
    before = writes()
    with pytest.raises(ValidationError, match="over the call's envelope of €30,000.00"):
        decisions_set_many(call_id=call.pk, user=staff, now=timezone.now(),
                           items=items((fund, "selected", Decimal(12000))))
    assert writes() == before
    decisions_set_many(call_id=call.pk, user=staff, now=timezone.now(), items=items(
        (fund, "selected", Decimal(12000)), (reserve, "reserve", None), (reject, "rejected", None)))
    assert [(ref, outcome, amount) for ref, outcome, amount, _reason in decisions()] == [
        (fund.reference, "selected", Decimal(12000)), (reserve.reference, "reserve", None),
        (reject.reference, "rejected", None)]


def test_a_decision_that_lacks_reviews_needs_the_reason_and_keeps_it(call, staff):
    bare = ranked_proposal(call, reviews=0)
    with pytest.raises(ValidationError, match="give a reason to decide anyway"):
        decisions_set_many(call_id=call.pk, user=staff, now=timezone.now(), items=items((bare, "reserve", None)))
    decisions_set_many(call_id=call.pk, user=staff, now=timezone.now(), items=items((bare, "reserve", None)),
                       override_reason="The panel met without them.")
    assert decisions() == [(bare.reference, "reserve", None, "The panel met without them.")]


def test_a_proposal_of_another_call_and_a_non_staff_user_are_refused(call, three, staff):
    other = ranked_proposal(closed_call())
    with pytest.raises(ValidationError, match="another call"):
        decisions_set_many(call_id=call.pk, user=staff, now=timezone.now(), items=items((other, "reserve", None)))
    with pytest.raises(ValidationError, match="Only directorate staff"):
        decisions_set_many(call_id=call.pk, user=three[0].pi, now=timezone.now(),
                           items=items((three[0], "reserve", None)))
    assert Decision.objects.count() == 0


def batch_selecting(call, staff, proposal):
    now = timezone.now()
    return lambda: decisions_set_many(call_id=call.pk, user=staff, now=now,
                                      items=items((proposal, "selected", Decimal(12000))))


def assert_envelope_held(results, errors):
    """Two batches each selecting €12,000 into the €18,000 left: one is taken, the other refused."""
    assert len(results) == 1 and len(errors) == 1
    assert "over the call's envelope" in str(errors[0])
    assert Decision.objects.filter(outcome="selected").count() == 2


def race_world(staff):
    call = closed_call(total_envelope=Decimal(24000))
    taken, first, second = (ranked_proposal(call, rank=n) for n in (1, 2, 3))
    decision_set(proposal_id=taken.pk, user=staff, outcome="selected", amount=Decimal(12000), now=timezone.now())
    return call, first, second


def two_batches(call, staff, first, second, database=None):
    import itertools
    import threading

    turns, lock = itertools.count(), threading.Lock()

    def work():
        with lock:
            turn = next(turns)
        return batch_selecting(call, staff, first if turn == 0 else second)()

    return concurrency.run_together(2, work, database=database)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_cannot_pass_the_envelope_together_on_postgresql(require_postgres, staff):
    call, first, second = race_world(staff)
    results, errors = two_batches(call, staff, first, second)
    assert_envelope_held(results, errors)


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_cannot_pass_the_envelope_together_on_sqlite(sqlite_file_copy, staff):
    call, first, second = race_world(staff)
    path, copy = sqlite_file_copy
    copy()
    results, errors = two_batches(call, staff, first, second, database=path)
    with concurrency._using(concurrency._file_connection(path)):
        assert_envelope_held(results, errors)


# The page ---------------------------------------------------------------------------------------------------------


def page_url(call) -> str:
    return reverse("admin:reviews_decisions", args=[call.pk])


def tick(client, call, proposals, **data):
    return client.post(page_url(call), {"action": "apply_recommendation",
                                        "_selected_action": [p.pk for p in proposals], **data})


def table(response, table_id="action-objects") -> list[list[str]]:
    html = response.content.decode().split(f'id="{table_id}"')[1].split("</table>")[0]
    return [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html.split("<tbody>")[-1], re.S)]


def test_the_page_has_a_tick_per_undecided_row_tied_to_the_batch_form(signed_in, call, three):
    content = signed_in.get(page_url(call)).content.decode()
    assert '<form id="batch-decide" method="post"' in content
    for proposal in three:
        assert (f'<input type="checkbox" name="_selected_action" value="{proposal.pk}" form="batch-decide" '
                f'aria-label="Tick {proposal.reference}">') in content


def test_the_confirmation_lists_each_decision_and_the_totals_and_writes_nothing(signed_in, call, three, staff):
    fund, reserve, reject = three
    bare = ranked_proposal(call, rank=4, reviews=0, recommendation="reserve", acronym="")
    unranked = ranked_proposal(call, rank=5, recommendation="", acronym="DELTA")
    decision_set(proposal_id=reserve.pk, user=staff, outcome="selected", amount=Decimal(11000), now=timezone.now())
    before = writes()
    page = tick(signed_in, call, [fund, reserve, reject, bare, unranked])
    assert page.status_code == 200
    assert table(page) == [
        [f"{fund.reference} — ALPHA", "not decided", "Selected, €12,000.00"],
        [f"{reserve.reference} — BETA", "Selected, €11,000.00", "Reserve list, €12,000.00"],
        [f"{reject.reference} — GAMMA", "not decided", "Rejected"],
        [bare.reference, "not decided", "Reserve list, €12,000.00 — missing: 2 of 2 reviews are missing"],
        [f"{unranked.reference} — DELTA", "not decided", "refused: the panel has not recommended it"],
    ]
    assert table(page, "action-totals") == [
        ["Selected in the call now", "€11,000.00"], ["Selected in the call after", "€12,000.00"],
        ["Envelope of the call", "€30,000.00"], ["Remaining after", "€18,000.00"]]
    assert 'name="override_reason"' in page.content.decode()
    assert writes() == before


def test_confirming_takes_exactly_the_decisions_not_refused(signed_in, call, three, staff):
    fund, reserve, reject = three
    unranked = ranked_proposal(call, rank=5, recommendation="")
    response = tick(signed_in, call, [fund, reserve, reject, unranked], apply="1")
    assert (response.status_code, response["Location"]) == (302, page_url(call))
    assert [(ref, outcome, amount) for ref, outcome, amount, _reason in decisions()] == [
        (fund.reference, "selected", Decimal(12000)), (reserve.reference, "reserve", Decimal(12000)),
        (reject.reference, "rejected", None)]
    assert AuditEntry.objects.filter(action="proposal.decide", actor=staff).count() == 3
    assert Proposal.objects.get(pk=unranked.pk).state == ProposalState.RANKED


def test_a_missing_reason_keeps_the_page_and_a_given_one_is_kept(signed_in, call):
    bare = ranked_proposal(call, reviews=0, recommendation="reserve")
    page = tick(signed_in, call, [bare], apply="1")
    assert page.status_code == 200
    assert "Some decisions lack something (see the table): give a reason." in page.content.decode()
    assert Decision.objects.count() == 0
    tick(signed_in, call, [bare], apply="1", override_reason="Urgent.")
    assert decisions() == [(bare.reference, "reserve", Decimal(12000), "Urgent.")]


def test_a_refusal_from_the_domain_takes_none_and_says_why(signed_in, call, staff):
    fund = [ranked_proposal(call, rank=n, proposed_amount=Decimal(14000)) for n in (1, 2, 3)]
    response = tick(signed_in, call, fund, apply="1")
    assert response.status_code == 302
    messages = [str(m) for m in signed_in.get(page_url(call)).context["messages"]]
    assert messages == ["These decisions would bring the selected total to €42,000.00, over the call's envelope "
                        "of €30,000.00; nothing was changed."]
    assert Decision.objects.count() == 0


def test_only_refused_proposals_take_nothing(signed_in, call):
    unranked = ranked_proposal(call, rank=None, recommendation="")
    response = tick(signed_in, call, [unranked], apply="1")
    assert response.status_code == 302
    messages = [str(m) for m in signed_in.get(page_url(call)).context["messages"]]
    assert messages == ["No ticked proposal can take its panel's recommendation; nothing was changed."]
    assert Decision.objects.count() == 0


def test_nothing_ticked_says_so(signed_in, call, three):
    response = tick(signed_in, call, [])
    assert (response.status_code, response["Location"]) == (302, page_url(call))
    assert Decision.objects.count() == 0


def test_the_confirmation_query_count_does_not_grow(signed_in, call, queries):
    ticked = []

    def grow(n):
        for _ in range(n):
            ticked.append(ranked_proposal(call, rank=len(ticked) + 1, reviews=1))

    assert queries.at_sizes(grow, lambda: tick(signed_in, call, ticked)) == (9, 9)


def test_who_may_tick_and_confirm(client, call, three):
    fund = three[0]
    officer = UserFactory()
    activate_totp(officer)
    PanelFactory(call=call, institute=fund.institute).officers.add(officer)
    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_decision"))
    before = writes()
    for user in (None, fund.pi, ReviewerFactory(institute=fund.institute).user, officer):
        client.logout()
        if user is not None:
            client.force_login(user)
        for data in ({}, {"apply": "1"}):
            response = tick(client, call, [fund], **data)
            assert (response.status_code, response["Location"].split("?")[0]) == (302, "/admin/login/")
    client.force_login(viewer)
    assert b"batch-decide" not in client.get(page_url(call)).content
    assert tick(client, call, [fund]).status_code == 403
    assert tick(client, call, [fund], apply="1").status_code == 403
    assert writes() == before


def test_the_confirmation_in_french_with_a_long_title_and_no_amount(client, staff, call):
    long_title = ("Océans " * 60)[:250]  # the longest title the field holds
    reject = ranked_proposal(call, rank=1, recommendation="reject", proposed_amount=None, acronym="",
                             title=long_title.strip())
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    client.force_login(staff)
    page = tick(client, call, [reject])
    assert table(page) == [[reject.reference, "non décidé", "Non retenue"]]
    content = page.content.decode()
    assert "Appliquer la recommandation du comité" in content and "Prendre les décisions" in content
    assert "Retenu dans l'appel après" in content.replace("&#x27;", "'")
