import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.domain import default_window
from calls.models import Call, CallDeadlineChange, CallState, Criterion, InstitutePriority
from iea.audit.models import AuditEntry
from iea.notifications.kinds import parse_offsets
from tests.factories import CallFactory, InstituteFactory, UnitFactory, UserFactory, activate_totp

PARIS = ZoneInfo("Europe/Paris")
pytestmark = pytest.mark.django_db


def changelist():
    return reverse("admin:calls_call_changelist")


def change(call):
    return reverse("admin:calls_call_change", args=[call.pk])


def page(name, call):
    return reverse(f"admin:calls_call_{name}", args=[call.pk])


def run_action(client, action, *calls):
    return client.post(
        changelist(), {"action": action, "index": "0", "_selected_action": [str(c.pk) for c in calls]}
    )


def snapshot():
    """Everything a call action could change."""
    return (
        list(Call.objects.order_by("pk").values_list("pk", "year", "state", "closes_at", "grace_minutes")),
        CallDeadlineChange.objects.count(),
        AuditEntry.objects.count(),
        Criterion.objects.count(),
    )


@pytest.fixture
def draft_call():
    return CallFactory(state=CallState.DRAFT)


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# Access ---------------------------------------------------------------------------------------------


def _requests(call):
    post_data = {"reason": "because", "new_closes_at": "2099-01-01T10:00", "year": "2099"}
    return [
        ("get", changelist(), None),
        ("get", reverse("admin:calls_call_add"), None),
        ("get", change(call), None),
        ("get", reverse("admin:calls_unit_changelist"), None),
        ("get", reverse("admin:calls_institute_changelist"), None),
        ("get", reverse("admin:calls_delegation_changelist"), None),
        ("get", page("close", call), None),
        ("get", page("extend", call), None),
        ("get", page("clone", call), None),
        ("post", page("close", call), post_data),
        ("post", page("extend", call), post_data),
        ("post", page("clone", call), post_data),
        ("post", changelist(), {"action": "publish_calls", "index": "0", "_selected_action": [str(call.pk)]}),
        ("post", changelist(), {"action": "open_calls", "index": "0", "_selected_action": [str(call.pk)]}),
        ("post", changelist(), {"action": "close_call", "index": "0", "_selected_action": [str(call.pk)]}),
        ("post", change(call), {"title_fr": "Changed", "title_en": "Changed", "year": "2099"}),
    ]


@pytest.mark.parametrize("who", ["anonymous", "signed_in"])
def test_non_staff_are_sent_to_the_admin_login_and_nothing_changes(client, pi, who):
    call = CallFactory(state=CallState.DRAFT)
    if who == "signed_in":
        client.force_login(pi)
    before = snapshot()
    for method, url, data in _requests(call):
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
    assert snapshot() == before


def test_staff_without_change_permission_cannot_use_the_call_pages(client):
    clerk = UserFactory(email="clerk@cnrs.example.fr", is_staff=True)
    activate_totp(clerk)
    client.force_login(clerk)
    call = CallFactory()
    before = snapshot()
    for name in ("close", "extend", "clone"):
        assert client.get(page(name, call)).status_code == 403
        assert client.post(page(name, call), {"reason": "x", "new_closes_at": "2099-01-01T10:00", "year": "2099"}).status_code == 403
    assert snapshot() == before


def test_the_pages_of_a_call_that_does_not_exist_are_refused(client, staff):
    client.force_login(staff)
    assert client.get(reverse("admin:calls_call_extend", args=[999999])).status_code == 403


# Lists and forms --------------------------------------------------------------------------------------


def test_call_list_shows_paris_times_and_proposal_counts(client, staff):
    from tests.factories import ProposalFactory

    call = CallFactory(
        opens_at=dt.datetime(2031, 5, 31, 22, 0, tzinfo=dt.UTC), closes_at=dt.datetime(2031, 9, 30, 11, 0, tzinfo=dt.UTC)
    )
    ProposalFactory.create_batch(3, call=call)
    client.force_login(staff)
    response = client.get(changelist(), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    html = response.content.decode()
    assert "1er\N{NO-BREAK SPACE}juin\N{NO-BREAK SPACE}2031 à 00:00 (heure de Paris)" in html
    assert "30\N{NO-BREAK SPACE}septembre\N{NO-BREAK SPACE}2031 à 13:00 (heure de Paris)" in html
    assert [row.proposal_count for row in response.context["cl"].result_list] == [3]


def test_call_list_query_count_does_not_grow_with_calls(client, staff, queries):
    from tests.factories import ProposalFactory

    client.force_login(staff)
    assert queries.at_sizes(lambda n: [ProposalFactory(call=CallFactory()) for _ in range(n)],
                            lambda: client.get(changelist()), sizes=(1, 5)) == (6, 6)
    assert len(client.get(changelist()).context["cl"].result_list) == 5


def test_add_form_proposes_next_years_default_window(client, staff):
    client.force_login(staff)
    response = client.get(reverse("admin:calls_call_add"))
    form = response.context["adminform"].form
    year = timezone.localtime(timezone.now(), PARIS).year + 1
    assert (form.initial["opens_at"], form.initial["closes_at"]) == default_window(year)
    assert form.initial["year"] == year
    assert "state" not in form.fields


def _management(prefix, total=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def _add_data(**extra):
    return {
        "year": "2040", "title_fr": "IEA 2040", "title_en": "IEA 2040",
        "opens_at_0": "2040-06-01", "opens_at_1": "00:00", "closes_at_0": "2040-09-28", "closes_at_1": "13:00",
        "grace_minutes": "0", "budget_min": "10000", "budget_max": "14000", "duration_months": "24",
        "award_acceptance_days": "30", "max_extension_months": "6", "max_active_proposals_per_pi": "1", "retention_years": "5", "coauthor_conflict_years": "5", "draft_reminder_days": "-14,-7,-1", "letter_reminder_days": "-7",
        "review_reminder_days": "-7,-2,1", "review_escalation_days": "3", "report_reminder_days": "-30,-7,1",
        **_management("criteria"), **_management("priorities"), **_management("deadline_changes"),
        **extra,
    }


def test_a_call_created_without_criteria_gets_the_six(client, staff):
    client.force_login(staff)
    response = client.post(reverse("admin:calls_call_add"), _add_data())
    assert response.status_code == 302, response.context["adminform"].form.errors
    call = Call.objects.get(year=2040)
    assert call.state == CallState.DRAFT
    assert call.opens_at == dt.datetime(2040, 6, 1, 0, 0, tzinfo=PARIS)
    assert call.closes_at == dt.datetime(2040, 9, 28, 13, 0, tzinfo=PARIS)
    assert list(call.criteria.values_list("position", "label_en")) == [
        (1, "Scientific quality of the project"),
        (2, "Value of the international collaboration"),
        (3, "Scientific quality and complementarity of the teams"),
        (4, "Participation of early-career researchers"),
        (5, "Ethics"),
        (6, "Financial justification"),
    ]


def test_a_call_created_with_its_own_criteria_keeps_them(client, staff):
    client.force_login(staff)
    data = _add_data(**{
        **_management("criteria", total=1),
        "criteria-0-position": "1", "criteria-0-label_fr": "Seul critère", "criteria-0-label_en": "Only criterion",
        "criteria-0-scale_max": "5", "criteria-0-step": "0.5", "criteria-0-weight": "1",
    })
    assert client.post(reverse("admin:calls_call_add"), data).status_code == 302
    assert list(Call.objects.get(year=2040).criteria.values_list("label_en", flat=True)) == ["Only criterion"]


def test_change_form_state_is_read_only_and_public_deadline_moves_only_through_actions(client, staff, call):
    client.force_login(staff)
    response = client.get(change(call))
    form = response.context["adminform"].form
    assert "state" not in form.fields
    assert "closes_at" not in form.fields
    html = response.content.decode()
    assert page("close", call) in html
    assert page("extend", call) in html
    assert page("clone", call) in html


def test_a_draft_call_keeps_its_window_editable(client, staff, draft_call):
    client.force_login(staff)
    form = client.get(change(draft_call)).context["adminform"].form
    assert {"opens_at", "closes_at", "grace_minutes"} <= set(form.fields)
    assert "state" not in form.fields


# Publish and open ------------------------------------------------------------------------------------


def test_staff_publish_then_open(client, staff, draft_call):
    client.force_login(staff)
    response = run_action(client, "publish_calls", draft_call)
    assert response.status_code == 302
    draft_call.refresh_from_db()
    assert draft_call.state == CallState.PUBLISHED
    response = run_action(client, "open_calls", draft_call)
    draft_call.refresh_from_db()
    assert draft_call.state == CallState.OPEN
    entries = AuditEntry.objects.filter(object_id=str(draft_call.pk)).order_by("id")
    assert [(e.action, e.from_state, e.to_state, e.actor) for e in entries] == [
        ("call.publish", "draft", "published", staff),
        ("call.open", "published", "open", staff),
    ]


def test_publishing_an_open_call_shows_the_domain_error(english, staff, call):
    english.force_login(staff)
    before = snapshot()
    response = run_action(english, "publish_calls", call)
    response = english.get(response["Location"])
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert messages == [("error", f"The call “{call}” is open; it cannot be published from that state.")]
    assert snapshot() == before


# Close -----------------------------------------------------------------------------------------------


def test_close_action_leads_to_the_close_page(client, staff, call):
    client.force_login(staff)
    response = run_action(client, "close_call", call)
    assert response.status_code == 302
    assert response["Location"] == page("close", call)


def test_single_call_actions_refuse_several_calls(english, staff):
    english.force_login(staff)
    calls = CallFactory.create_batch(2)
    for action in ("close_call", "extend_call", "clone_call"):
        response = run_action(english, action, *calls)
        assert response.status_code == 302
        response = english.get(response["Location"])
        assert [str(m) for m in response.context["messages"]] == ["Select exactly one call for this action."]


def test_closing_early_requires_a_reason(client, staff, call):
    client.force_login(staff)
    before = snapshot()
    response = client.get(page("close", call))
    assert response.status_code == 200
    assert response.context["form"].fields["reason"].required
    response = client.post(page("close", call), {"reason": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert snapshot() == before


def test_closing_early_with_a_reason_logs_it(client, staff, call):
    client.force_login(staff)
    old_closes_at = call.closes_at
    response = client.post(page("close", call), {"reason": "Budget exhausted"})
    assert response.status_code == 302
    assert response["Location"] == change(call)
    call.refresh_from_db()
    assert call.state == CallState.CLOSED
    assert call.closes_at < old_closes_at
    change_row = CallDeadlineChange.objects.get(call=call)
    assert (change_row.old_closes_at, change_row.new_closes_at, change_row.reason, change_row.changed_by) == (
        old_closes_at, call.closes_at, "Budget exhausted", staff
    )
    entry = AuditEntry.objects.get(action="call.close", object_id=str(call.pk))
    assert (entry.actor, entry.reason, entry.from_state, entry.to_state) == (staff, "Budget exhausted", "open", "closed")


def test_closing_after_the_deadline_needs_no_reason(client, staff):
    call = CallFactory(closes_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(staff)
    assert not client.get(page("close", call)).context["form"].fields["reason"].required
    assert client.post(page("close", call), {"reason": ""}).status_code == 302
    call.refresh_from_db()
    assert call.state == CallState.CLOSED
    assert CallDeadlineChange.objects.filter(call=call).count() == 0


def test_closing_a_draft_shows_the_domain_error(english, staff, draft_call):
    english.force_login(staff)
    before = snapshot()
    response = english.post(page("close", draft_call), {"reason": "x"})
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        f"The call “{draft_call}” is draft; it cannot be closed from that state."
    ]
    assert snapshot() == before


# Extend ----------------------------------------------------------------------------------------------


def test_extend_page_shows_the_current_closing_time_in_paris(client, staff):
    call = CallFactory(closes_at=dt.datetime(2099, 9, 30, 11, 0, tzinfo=dt.UTC))
    client.force_login(staff)
    response = client.get(page("extend", call))
    assert response.status_code == 200
    assert 'value="2099-09-30T13:00"' in response.content.decode()


def test_extend_with_a_reason_logs_the_change(client, staff):
    call = CallFactory(closes_at=dt.datetime(2099, 9, 30, 11, 0, tzinfo=dt.UTC))
    client.force_login(staff)
    response = client.post(page("extend", call), {"new_closes_at": "2099-10-07T13:00", "reason": "Network outage"})
    assert response.status_code == 302
    assert response["Location"] == change(call)
    call.refresh_from_db()
    new = dt.datetime(2099, 10, 7, 13, 0, tzinfo=PARIS)
    assert call.closes_at == new
    assert call.state == CallState.OPEN
    row = CallDeadlineChange.objects.get(call=call)
    assert (row.old_closes_at, row.new_closes_at, row.reason, row.changed_by) == (
        dt.datetime(2099, 9, 30, 11, 0, tzinfo=dt.UTC), new, "Network outage", staff
    )
    entry = AuditEntry.objects.get(action="call.extend", object_id=str(call.pk))
    assert (entry.actor, entry.reason) == (staff, "Network outage")
    assert entry.data["new_closes_at"] == new.isoformat()


def test_extend_without_a_reason_changes_nothing(client, staff, call):
    client.force_login(staff)
    before = snapshot()
    response = client.post(page("extend", call), {"new_closes_at": "2099-10-07T13:00", "reason": ""})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["reason"]
    assert snapshot() == before


def test_extend_to_an_earlier_time_shows_the_error_and_changes_nothing(english, staff):
    call = CallFactory(closes_at=dt.datetime(2099, 9, 30, 11, 0, tzinfo=dt.UTC))
    english.force_login(staff)
    before = snapshot()
    response = english.post(page("extend", call), {"new_closes_at": "2099-09-30T12:00", "reason": "Typo"})
    assert response.status_code == 200
    assert [(m.level_tag, str(m)) for m in response.context["messages"]] == [
        ("error", "The new closing time must be later than the current one.")
    ]
    assert "The new closing time must be later than the current one." in response.content.decode()
    assert snapshot() == before


# Clone -----------------------------------------------------------------------------------------------


def test_clone_page_proposes_the_next_year(client, staff, call):
    client.force_login(staff)
    response = client.get(page("clone", call))
    assert response.status_code == 200
    assert response.context["form"]["year"].value() == call.year + 1


def test_clone_copies_criteria_and_priorities_as_a_draft(client, staff):
    source = CallFactory(year=2036, title_fr="IEA 2036", title_en="IEA 2036", state=CallState.CLOSED,
                         draft_reminder_days="-10,-3", review_escalation_days=5, award_acceptance_days=21,
                         coauthor_conflict_years=7)
    Criterion.objects.filter(call=source, position=1).update(weight=2)
    InstitutePriority.objects.create(call=source, institute=InstituteFactory(code="INSU"), themes_en="Oceans",
                                     priority_countries=["BR", "CL"])
    client.force_login(staff)
    response = client.post(page("clone", source), {"year": "2037"})
    new = Call.objects.get(year=2037)
    assert response.status_code == 302
    assert response["Location"] == change(new)
    assert (new.state, new.title_en) == (CallState.DRAFT, "IEA 2037")
    assert (new.opens_at, new.closes_at) == default_window(2037)
    assert list(new.criteria.values_list("position", "label_en", "weight")) == list(
        source.criteria.values_list("position", "label_en", "weight")
    )
    assert new.criteria.count() == 6
    assert (new.draft_reminder_days, new.letter_reminder_days, new.review_escalation_days) == ("-10,-3", "-7", 5)
    assert new.award_acceptance_days == 21
    assert new.coauthor_conflict_years == 7
    priority = new.priorities.get()
    assert (priority.institute.code, priority.themes_en, [c.code for c in priority.priority_countries]) == (
        "INSU", "Oceans", ["BR", "CL"]
    )
    entry = AuditEntry.objects.get(action="call.clone", object_id=str(new.pk))
    assert (entry.actor, entry.data["source_call"]) == (staff, source.pk)


def test_clone_into_a_taken_year_shows_the_error(english, staff):
    source = CallFactory(year=2036)
    CallFactory(year=2037)
    english.force_login(staff)
    before = snapshot()
    response = english.post(page("clone", source), {"year": "2037"})
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["There is already a call for 2037."]
    assert snapshot() == before


# Units -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["umr5558", "UMR 5558", "umr 5558", "UMR5558", "umr-5558", " UMR  5558 "])
def test_unit_search_finds_the_code_in_any_spelling(client, staff, term):
    wanted = UnitFactory(unit_type="UMR", number="5558", acronym="LBBE")
    UnitFactory(unit_type="UMR", number="5559")
    UnitFactory(unit_type="UPR", number="5558")
    client.force_login(staff)
    response = client.get(reverse("admin:calls_unit_changelist"), {"q": term})
    assert list(response.context["cl"].result_list) == [wanted]


def test_unit_search_still_finds_acronym_and_city(client, staff):
    lbbe = UnitFactory(acronym="LBBE", city="Villeurbanne")
    UnitFactory(acronym="OTHER", city="Paris")
    client.force_login(staff)
    url = reverse("admin:calls_unit_changelist")
    assert list(client.get(url, {"q": "lbbe"}).context["cl"].result_list) == [lbbe]
    assert list(client.get(url, {"q": "villeurbanne"}).context["cl"].result_list) == [lbbe]


def test_unit_code_search_respects_the_other_filters(client, staff):
    unit = UnitFactory(unit_type="UMR", number="5558")
    other_institute = InstituteFactory()
    client.force_login(staff)
    url = reverse("admin:calls_unit_changelist")
    response = client.get(url, {"q": "umr5558", "main_institute__id__exact": other_institute.pk})
    assert list(response.context["cl"].result_list) == []
    response = client.get(url, {"q": "umr5558", "main_institute__id__exact": unit.main_institute_id})
    assert list(response.context["cl"].result_list) == [unit]


def test_unit_and_institute_change_pages_render(client, staff):
    unit = UnitFactory()
    client.force_login(staff)
    assert client.get(reverse("admin:calls_unit_change", args=[unit.pk])).status_code == 200
    assert client.get(reverse("admin:calls_institute_change", args=[unit.main_institute.pk])).status_code == 200
    assert client.get(reverse("admin:calls_delegation_change", args=[unit.delegation.pk])).status_code == 200


def test_admin_index_renders_and_an_apps_page_leads_to_its_section(client, staff, call):
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:app_list", args=["calls"]))["Location"] == "/admin/#section-calls"
    assert client.get(reverse("admin:app_list", args=["proposals"]))["Location"] == "/admin/#section-screening"


def test_staff_put_a_closed_call_in_review_then_mark_it_decided(client, staff):
    from calls.models import CallState
    from iea.audit.models import AuditEntry

    call = CallFactory(state=CallState.CLOSED)
    client.force_login(staff)
    client.post("/admin/calls/call/", {"action": "start_review", "_selected_action": [call.pk]})
    call.refresh_from_db()
    assert call.state == CallState.IN_REVIEW
    client.post("/admin/calls/call/", {"action": "start_review", "_selected_action": [call.pk]})  # refused, stays
    call.refresh_from_db()
    assert call.state == CallState.IN_REVIEW
    client.post("/admin/calls/call/", {"action": "mark_decided", "_selected_action": [call.pk]})
    call.refresh_from_db()
    assert call.state == CallState.DECIDED
    assert list(AuditEntry.objects.filter(object_id=str(call.pk)).order_by("created_at", "id")
                .values_list("action", flat=True)) == ["call.start_review", "call.mark_decided"]


def test_staff_set_a_calls_reminders_and_bad_offsets_are_refused(english, staff):
    english.force_login(staff)
    response = english.post(reverse("admin:calls_call_add"), _add_data(draft_reminder_days="-14, seven"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["draft_reminder_days"]
    assert "Enter whole numbers of days" in str(errors["draft_reminder_days"])
    assert not Call.objects.filter(year=2040).exists()
    response = english.post(reverse("admin:calls_call_add"), _add_data(draft_reminder_days="-21, -7, -2"))
    assert response.status_code == 302
    assert parse_offsets(Call.objects.get(year=2040).draft_reminder_days) == [-21, -7, -2]


def test_unit_search_ignores_case_and_accents_like_the_editors_picker(client, staff):
    cefe = UnitFactory(acronym="CEFE", name="Centre d'Écologie Fonctionnelle et Évolutive", city="Montpellier")
    UnitFactory(acronym="OTHER", name="Centre de calcul", city="Orléans")
    client.force_login(staff)
    url = reverse("admin:calls_unit_changelist")
    assert list(client.get(url, {"q": "ecologie evolutive"}).context["cl"].result_list) == [cefe]
    assert [u.acronym for u in client.get(url, {"q": "ORLEANS"}).context["cl"].result_list] == ["OTHER"]


def test_a_reviewers_unit_is_searched_in_the_admin_not_listed(client, staff):
    from tests.reviews.factories import ReviewerFactory

    cefe = UnitFactory(acronym="CEFE", name="Centre d'Écologie Fonctionnelle et Évolutive")
    units = UnitFactory.create_batch(5)
    reviewer = ReviewerFactory(unit=units[0])
    client.force_login(staff)
    html = client.get(reverse("admin:reviews_reviewer_change", args=[reviewer.pk])).content.decode()
    unit_select = re.search(r'<select name="unit".*?</select>', html, re.S).group()
    assert "admin-autocomplete" in unit_select
    # The empty choice and the reviewer's own unit only: the others come as staff type.
    assert re.findall(r'<option value="(\d*)"', unit_select) == ["", str(units[0].pk)]
    response = client.get(reverse("admin:autocomplete"), {
        "app_label": "reviews", "model_name": "reviewer", "field_name": "unit", "term": "écologie"})
    assert [result["id"] for result in response.json()["results"]] == [str(cefe.pk)]


def test_staff_set_the_co_author_window_of_a_call(english, staff):
    """#20: the years back from the call's year in which a shared publication puts a reviewer in conflict."""
    english.force_login(staff)
    refused = english.post(reverse("admin:calls_call_add"), _add_data(coauthor_conflict_years="0"))
    assert list(refused.context["adminform"].form.errors) == ["coauthor_conflict_years"]
    assert not Call.objects.filter(year=2040).exists()
    saved = english.post(reverse("admin:calls_call_add"), _add_data(coauthor_conflict_years="3"))
    assert saved.status_code == 302
    assert Call.objects.get(year=2040).coauthor_conflict_years == 3
