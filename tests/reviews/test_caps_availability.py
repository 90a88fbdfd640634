"""#20: the maximums of reviews (panel default, per reviewer) and the reviewers' absences — their domain functions
(rules, audit, race-safety), the rule "away for more than half of the review period", the officer's warnings when
assigning by hand, and their pages (pool row, default form, the reviewer's availability page, query counts)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from iea.audit.models import AuditEntry
from reviews.domain.assignment import assignment_create
from reviews.domain.availability import unavailability_add, unavailability_delete, users_away
from reviews.domain.caps import assignment_warnings, panel_default_cap_set, reviewer_cap_set
from reviews.models import Panel, ReviewerCap, Unavailability
from tests.factories import InstituteFactory, UserFactory, activate_totp
from tests.proposals import test_concurrency as concurrency

from .factories import AssignmentFactory, PanelFactory, ReviewerFactory, eligible_proposal

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)
TODAY = timezone.localdate(NOW)
sqlite_file_copy = concurrency.sqlite_file_copy


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def world():
    class World:
        institute = InstituteFactory()
        panel = PanelFactory(institute=institute)
        officer = UserFactory(full_name="Olga Officer")
        reviewer = ReviewerFactory(institute=institute, user__full_name="Rita Reviewer")
        other = ReviewerFactory(institute=institute)
    World.panel.officers.add(World.officer)
    activate_totp(World.officer)
    return World


def open_assignments(world, reviewer, n):
    for _ in range(n):
        AssignmentFactory(panel=world.panel, reviewer=reviewer,
                          proposal=eligible_proposal(call=world.panel.call, unit__main_institute=world.institute))


# --- Maximums ---------------------------------------------------------------------------------------------------

def test_the_panel_default_is_set_audited_and_warns_about_reviewers_already_above_it(world):
    open_assignments(world, world.reviewer, 3)
    result = panel_default_cap_set(panel_id=world.panel.pk, user=world.officer, max_reviews=2, now=NOW)
    assert (result.max_reviews, Panel.objects.get(pk=world.panel.pk).default_max_reviews) == (2, 2)
    assert result.warning == ("1 reviewer already has more open reviews than that: nothing is withdrawn, they just get "
                              "no more.")
    entry = AuditEntry.objects.get(action="panel.default_cap")
    assert (entry.actor_id, entry.data) == (world.officer.pk, {"from": None, "to": 2})
    # The same value again records nothing; None clears it.
    panel_default_cap_set(panel_id=world.panel.pk, user=world.officer, max_reviews=2, now=NOW)
    assert AuditEntry.objects.filter(action="panel.default_cap").count() == 1
    cleared = panel_default_cap_set(panel_id=world.panel.pk, user=world.officer, max_reviews=None, now=NOW)
    assert (cleared.max_reviews, cleared.warning, Panel.objects.get(pk=world.panel.pk).default_max_reviews) == (None, "", None)


@pytest.mark.parametrize("bad", [0, -1, 201])
def test_a_maximum_out_of_range_is_refused_in_the_readers_language_and_nothing_changes(world, bad):
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        reviewer_cap_set(panel_id=world.panel.pk, reviewer_id=world.reviewer.pk, user=world.officer, max_reviews=bad,
                         now=NOW)
    assert refused.value.messages == ["Un maximum d'évaluations est un nombre entier de 1 à 200\u00a0; laissez le "
                                      "champ vide pour n'en fixer aucun."]
    with pytest.raises(ValidationError):
        panel_default_cap_set(panel_id=world.panel.pk, user=world.officer, max_reviews=bad, now=NOW)
    assert (ReviewerCap.objects.count(), AuditEntry.objects.count()) == (0, 0)


def test_a_reviewers_maximum_overrides_the_default_and_goes_back_to_it(world):
    open_assignments(world, world.reviewer, 2)
    result = reviewer_cap_set(panel_id=world.panel.pk, reviewer_id=world.reviewer.pk, user=world.officer,
                              max_reviews=1, now=NOW)
    assert result.warning == "They already have 2 open reviews in this panel: nothing is withdrawn, they just get no more."
    assert list(ReviewerCap.objects.values_list("reviewer_id", "max_reviews")) == [(world.reviewer.pk, 1)]
    reviewer_cap_set(panel_id=world.panel.pk, reviewer_id=world.reviewer.pk, user=world.officer, max_reviews=4, now=NOW)
    reviewer_cap_set(panel_id=world.panel.pk, reviewer_id=world.reviewer.pk, user=world.officer, max_reviews=None, now=NOW)
    assert ReviewerCap.objects.count() == 0
    assert [e.data for e in AuditEntry.objects.filter(action="panel.reviewer_cap").order_by("pk")] == [
        {"panel": world.panel.pk, "from": None, "to": 1}, {"panel": world.panel.pk, "from": 1, "to": 4},
        {"panel": world.panel.pk, "from": 4, "to": None}]


def test_a_reviewer_of_another_institute_gets_no_maximum_here(world):
    stranger = ReviewerFactory()
    with pytest.raises(ValidationError, match="not in the institute's pool"):
        reviewer_cap_set(panel_id=world.panel.pk, reviewer_id=stranger.pk, user=world.officer, max_reviews=2, now=NOW)
    assert ReviewerCap.objects.count() == 0


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
def test_two_officers_setting_a_maximum_at_once_leave_one_row_and_two_audit_entries(sqlite_file_copy, world):
    path, copy = sqlite_file_copy
    copy()
    values = iter([2, 3])

    def set_cap():
        return reviewer_cap_set(panel_id=world.panel.pk, reviewer_id=world.reviewer.pk, user=world.officer,
                                max_reviews=next(values), now=NOW).max_reviews

    results, errors = concurrency.run_together(2, set_cap, database=path)
    assert (sorted(results), errors) == ([2, 3], [])
    with concurrency._using(concurrency._file_connection(path)):
        caps = list(ReviewerCap.objects.values_list("max_reviews", flat=True))
        trail = [e.data["to"] for e in AuditEntry.objects.filter(action="panel.reviewer_cap").order_by("pk")]
    assert len(caps) == 1 and trail[-1] == caps[0] and len(trail) == 2


def test_assigning_by_hand_above_the_maximum_or_to_someone_away_warns_and_still_assigns(world):
    panel_default_cap_set(panel_id=world.panel.pk, user=world.officer, max_reviews=1, now=NOW)
    open_assignments(world, world.reviewer, 1)
    Panel.objects.filter(pk=world.panel.pk).update(review_due_at=NOW + dt.timedelta(days=30))
    world.panel.refresh_from_db()
    unavailability_add(user=world.reviewer.user, starts_on=day(3), ends_on=day(20), now=NOW)
    proposal = eligible_proposal(call=world.panel.call, unit__main_institute=world.institute)
    assignment_create(panel=world.panel, proposal=proposal, reviewer=world.reviewer, user=world.officer, now=NOW)
    warnings = assignment_warnings(panel=world.panel, reviewer=world.reviewer, adding=0, now=NOW)
    assert len(warnings) == 2
    assert warnings[0] == "Rita Reviewer now has 2 open reviews in this panel, above their maximum of 1."
    assert warnings[1].startswith("Rita Reviewer told the officers they are away ")
    assert assignment_warnings(panel=world.panel, reviewer=world.other, adding=1, now=NOW) == []


# --- Absences -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "last", "message"), [
    (5, 4, "The last day comes before the first one."),
    (-10, -1, "This period is over: only dates from today on are useful."),
    (0, 400, "A period covers at most a year; add another one for the rest."),
])
def test_an_absence_that_makes_no_sense_is_refused(world, first, last, message):
    with pytest.raises(ValidationError) as refused:
        unavailability_add(user=world.reviewer.user, starts_on=day(first), ends_on=day(last), now=NOW)
    assert refused.value.messages == [message]
    assert Unavailability.objects.count() == 0


def test_an_absence_is_recorded_audited_refused_when_overlapping_and_deleted_only_by_its_owner(world):
    entry = unavailability_add(user=world.reviewer.user, starts_on=day(-2), ends_on=day(5), note=" field trip ", now=NOW)
    assert (entry.note, AuditEntry.objects.get(action="reviewer.unavailability_add").actor_id) == (
        "field trip", world.reviewer.user.pk)
    with pytest.raises(ValidationError, match="overlaps the period"):
        unavailability_add(user=world.reviewer.user, starts_on=day(5), ends_on=day(9), now=NOW)
    unavailability_add(user=world.other.user, starts_on=day(5), ends_on=day(9), now=NOW)  # someone else: fine
    with pytest.raises(ValidationError, match="no longer exists"):
        unavailability_delete(user=world.other.user, unavailability_id=entry.pk, now=NOW)
    unavailability_delete(user=world.reviewer.user, unavailability_id=entry.pk, now=NOW)
    assert list(Unavailability.objects.values_list("user_id", flat=True)) == [world.other.user.pk]
    assert AuditEntry.objects.filter(action="reviewer.unavailability_delete").count() == 1


def test_away_means_more_than_half_of_the_review_period_counting_each_day_once():
    users = [UserFactory() for _ in range(4)]
    start, end = day(0), day(9)  # ten days
    Unavailability.objects.create(user=users[0], starts_on=day(0), ends_on=day(4))  # five days: exactly half
    Unavailability.objects.create(user=users[1], starts_on=day(-5), ends_on=day(5))  # six days within the period
    Unavailability.objects.create(user=users[2], starts_on=day(0), ends_on=day(3))  # 0–3 and 2–5 overlap: 6 days
    Unavailability.objects.create(user=users[2], starts_on=day(4), ends_on=day(5))
    Unavailability.objects.create(user=users[3], starts_on=day(0), ends_on=day(3))  # 4 days + 4 days twice = 4
    Unavailability.objects.create(user=users[3], starts_on=day(20), ends_on=day(40))  # after the period
    assert users_away(user_ids=[u.pk for u in users], start=start, end=end) == {users[1].pk, users[2].pk}


# --- Pages --------------------------------------------------------------------------------------------------------

def test_the_reviewer_adds_and_deletes_an_absence_and_a_wrong_one_is_explained_in_french(client, world):
    client.force_login(world.reviewer.user)
    url = reverse("reviewer:availability")
    response = client.post(url, {"starts_on": day(3).isoformat(), "ends_on": day(12).isoformat(), "note": "Mission"},
                           follow=True)
    assert [str(m) for m in response.context["messages"]][0].startswith("Recorded: you are away ")
    assert "Mission" in response.content.decode()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    wrong = client.post(url, {"starts_on": day(9).isoformat(), "ends_on": day(2).isoformat(), "note": "Kept"},
                        HTTP_ACCEPT_LANGUAGE="fr")
    assert wrong.status_code == 400
    assert "Le dernier jour précède le premier." in wrong.content.decode()
    assert 'value="Kept"' in wrong.content.decode()  # what was typed is kept
    period = Unavailability.objects.get()
    client.post(reverse("reviewer:availability_delete", args=[period.pk]))
    assert Unavailability.objects.count() == 0


def test_the_officer_sets_a_default_and_a_maximum_from_the_pool_and_sees_who_is_away(client, world):
    client.force_login(world.officer)
    unavailability_add(user=world.reviewer.user, starts_on=day(3), ends_on=day(20), now=NOW)
    client.post(reverse("panel:default_cap", args=[world.panel.pk]), {"max_reviews": "5"})
    client.post(reverse("panel:reviewer_cap", args=[world.panel.pk, world.reviewer.pk]), {"max_reviews": "2"})
    refused = client.post(reverse("panel:reviewer_cap", args=[world.panel.pk, world.other.pk]), {"max_reviews": "0"},
                          follow=True)
    assert any("greater than or equal to 1" in str(m) for m in refused.context["messages"])
    page = client.get(reverse("panel:pool", args=[world.panel.pk]))
    rows = {r.pk: (r.own_cap, r.cap, bool(r.away)) for r in page.context["reviewers"]}
    assert rows == {world.reviewer.pk: (2, 2, True), world.other.pk: (None, 5, False)}
    html = page.content.decode()
    assert f'id="cap-{world.reviewer.pk}" min="1" max="200" class="input-narrow" value="2"' in html
    assert "panel default: 5" in html and "away " in html


def test_the_pool_and_the_availability_page_cost_the_same_queries_at_two_sizes(client, world, queries):
    def grow_pool(n):
        for _ in range(n):
            reviewer = ReviewerFactory(institute=world.institute)
            ReviewerCap.objects.create(panel=world.panel, reviewer=reviewer, max_reviews=3)
            Unavailability.objects.create(user=reviewer.user, starts_on=day(1), ends_on=day(4))
            Unavailability.objects.create(user=reviewer.user, starts_on=day(10), ends_on=day(14))

    def pool():
        client.force_login(world.officer)
        return client.get(reverse("panel:pool", args=[world.panel.pk]))

    assert queries.at_sizes(grow_pool, pool, sizes=(1, 3)) == (14, 14)  # +1 the open suggestions (#20 bids)

    def grow_periods(n):
        start = Unavailability.objects.filter(user=world.reviewer.user).count() * 10
        for k in range(n):
            Unavailability.objects.create(user=world.reviewer.user, starts_on=day(start + 10 * k),
                                          ends_on=day(start + 10 * k + 3))

    def periods():
        client.force_login(world.reviewer.user)
        return client.get(reverse("reviewer:availability"))

    assert queries.at_sizes(grow_periods, periods, sizes=(1, 3)) == (10, 10)


def test_the_batch_confirmation_warns_about_the_maximum_and_still_offers_to_assign(client, world):
    reviewer_cap_set(panel_id=world.panel.pk, reviewer_id=world.reviewer.pk, user=world.officer, max_reviews=1, now=NOW)
    proposals = [eligible_proposal(call=world.panel.call, unit__main_institute=world.institute) for _ in range(2)]
    client.force_login(world.officer)
    page = client.post(reverse("panel:assign_many", args=[world.panel.pk]),
                       {"many-reviewer": world.reviewer.pk, "many-proposals": [p.pk for p in proposals]})
    assert page.context["warnings"] == ["Rita Reviewer now has 2 open reviews in this panel, above their maximum of 1."]
    assert "You may still assign." in page.content.decode()
    applied = client.post(reverse("panel:assign_many", args=[world.panel.pk]),
                          {"many-reviewer": world.reviewer.pk, "many-proposals": [p.pk for p in proposals], "apply": "1"},
                          follow=True)
    assert [m.level_tag for m in applied.context["messages"]] == ["success", "warning"]
    assert world.reviewer.assignments.count() == 2


def test_the_officers_choice_of_a_reviewer_says_who_is_away(client, world):
    unavailability_add(user=world.reviewer.user, starts_on=day(3), ends_on=day(20), now=NOW)
    client.force_login(world.officer)
    page = client.get(reverse("panel:assignments", args=[world.panel.pk]))
    labels = dict(page.context["assign_form"].fields["reviewer"].choices)
    by_pk = {key.value: label for key, label in labels.items() if key}
    assert by_pk[world.reviewer.pk].startswith(f"Rita Reviewer <{world.reviewer.user.email}> — away ")
    assert " — " not in by_pk[world.other.pk]
