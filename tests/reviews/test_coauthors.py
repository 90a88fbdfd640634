"""Co-author conflicts (#20): who co-published with the PI, a team member or the partner in the call's window, matched
on ORCID iD / idHAL first, else on names; the officer's dismissal of a false name match.

The publications come from real-format exports written for these tests (fixtures/coauthors/: a HAL BibTeX and an
ORCID works bulk JSON), as the Publication rows they give (publications.json, checked against the raw files)."""

import json
import random
import time

import bibtexparser
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

import reviews.domain.coauthors as coauthors_module
from iea.audit.models import AuditEntry
from proposals.models import Proposal, ProposalState, TeamMember
from reviews.domain.assignment import assignment_create
from reviews.domain.coauthors import (
    PeopleIndex,
    Person,
    coauthor_conflicts_find,
    coauthors_scan,
    name_readings,
    names_agree,
)
from reviews.domain.conflicts import (
    coauthor_conflicts_record_for_user,
    conflict_candidates,
    conflict_dismiss,
    conflicts_detect,
    conflicts_record_detected,
    conflicts_record_detected_all,
)
from reviews.models import (
    AssignmentState,
    Conflict,
    ConflictDismissal,
    Panel,
    Publication,
    Reviewer,
)
from tests.factories import CallFactory, ProposalFactory, StaffFactory, UserFactory, activate_totp

from .coauthor_fixtures import FIXTURES, IMPORTED_AT, fixture_rows, load_publications
from .factories import AssignmentFactory, PanelFactory, ReviewerFactory

NOW = IMPORTED_AT
CARBERRY = "0000-0002-1825-0097"
MARTIN = "0000-0003-4512-8860"


# --- Names ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("one", "other"), [
    ("J. Dupont", "Jean Dupont"),
    ("Dupont, Jean", "Jean Dupont"),
    ("Dupont, J.-P.", "Jean-Pierre Dupont"),
    ("J.P. Dupont", "Jean-Pierre Dupont"),
    ("DUPONT Jean", "Jean Dupont"),
    ("Éloïse Lefèvre", "LEFEVRE Eloise"),
    ("Ludwig van Beethoven", "van Beethoven, Ludwig"),
    ("Beethoven, Ludwig van", "Ludwig van Beethoven"),
    ("María García López", "García López, María"),
    ("John R. Smith", "Smith, John"),
])
def test_names_written_differently_agree(one, other):
    assert names_agree(name_readings(one), name_readings(other))


@pytest.mark.parametrize(("one", "other"), [
    ("Jean Dupont", "Jacques Dupont"),
    ("Jean Dupont", "Jean-Pierre Dupont"),  # a hyphenated first name is one name
    ("Jean Dupont", "Jean Dupond"),  # no similarity ratio: a letter apart is another name
    ("Dupont", "Jean Dupont"),  # a family name alone says too little
    ("J. Dupont", "P. Dupont"),
])
def test_other_names_do_not(one, other):
    assert not names_agree(name_readings(one), name_readings(other))


def test_a_users_own_first_and_last_name_are_read_as_given():
    assert names_agree(name_readings("Van Anh", family="Nguyen"), name_readings("Nguyen, V. A."))
    assert not names_agree(name_readings("Van Anh", family="Nguyen"), name_readings("Anh Nguyen, Van"))


# --- The fixtures -----------------------------------------------------------------------------------------


def test_the_fields_agree_with_the_raw_exports():
    """publications.json says what the raw exports hold: the same works, titles, years, DOIs and authors."""
    library = bibtexparser.parse_string((FIXTURES / "hal.bib").read_text(encoding="utf-8"))
    hal = [(e.fields_dict["HAL_ID"].value, e.fields_dict["TITLE"].value.strip("{}"), int(e.fields_dict["YEAR"].value),
            e.fields_dict["DOI"].value, len(e.fields_dict["AUTHOR"].value.split(" and "))) for e in library.entries]
    assert hal == [(r["key"], r["title"], r["year"], r["doi"], len(r["authors"])) for r in fixture_rows("hal.bib")]
    works = json.loads((FIXTURES / "orcid-works.json").read_text(encoding="utf-8"))["bulk"]
    orcid = [
        (str(w["work"]["put-code"]), w["work"]["title"]["title"]["value"],
         int(w["work"]["publication-date"]["year"]["value"]),
         w["work"]["external-ids"]["external-id"][0]["external-id-value"],
         [{"name": c["credit-name"]["value"], "orcid": (c["contributor-orcid"] or {}).get("path", ""), "hal_id": ""}
          for c in w["work"]["contributors"]["contributor"]])
        for w in works]
    assert orcid == [(r["key"], r["title"], r["year"], r["doi"], r["authors"]) for r in fixture_rows("orcid-works.json")]


# --- The setting: Claire Martin reviews; Jean Dupont is the PI of the 2027 call's proposal -----------------


@pytest.fixture
def call(db):
    return CallFactory(year=2027, coauthor_conflict_years=5, state="in_review")


@pytest.fixture
def proposal(call):
    pi = UserFactory(email="jean.dupont@cnrs.example.fr", full_name="Jean Dupont")
    proposal = ProposalFactory(call=call, pi=pi, complete=True, partner_name="Ana Souza",
                               partner_email="ana@usp.example.br")
    Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.ELIGIBLE)
    proposal.refresh_from_db()
    return proposal


@pytest.fixture
def martin(proposal):
    user = UserFactory(email="claire.martin@univ.example.fr", full_name="Claire Martin", orcid=MARTIN)
    return Reviewer.objects.create(user=user, institute=proposal.unit.main_institute)


def found(proposal, reviewer):
    return sorted((c.cause, c.detail) for c in conflicts_detect(proposal=proposal, reviewer=reviewer)
                  if c.cause.startswith("coauthor"))


def test_a_hal_paper_with_the_pi_three_years_before_the_call_is_a_name_match(proposal, martin):
    load_publications(martin.user, "hal.bib")
    assert found(proposal, martin) == [(
        "coauthor_name",
        "Jean Dupont = “Dupont, Jean” — “Storm-driven sediment transport on macrotidal beaches”, "
        "Journal of Coastal Research, 2024, doi:10.2112/JCOASTRES-D-23-00087.1",
    )]


def test_a_paper_outside_the_calls_window_does_not_count(proposal, martin, call):
    load_publications(martin.user, "hal.bib", only_years={2019})  # 8 years before the 2027 call
    assert found(proposal, martin) == []
    call.coauthor_conflict_years = 8
    call.save(update_fields=["coauthor_conflict_years"])
    proposal.refresh_from_db()
    assert [cause for cause, _ in found(proposal, martin)] == ["coauthor_name"]
    assert "Wave runup on gravel barriers" in found(proposal, martin)[0][1]


def test_an_orcid_match_with_a_team_member_is_certain(proposal, martin):
    TeamMember.objects.create(proposal=proposal, side="partner", name="Josiah Carberry", orcid=CARBERRY)
    load_publications(martin.user, "orcid-works.json")
    assert found(proposal, martin) == [(
        "coauthor",
        f"Josiah Carberry = ORCID {CARBERRY} — “Beach recovery after extreme storms in Brittany and Rio Grande do "
        "Sul”, Geomorphology, 2025, doi:10.1016/j.geomorph.2025.109612",
    )]


def test_different_orcids_are_different_people_whatever_their_names(proposal, martin):
    TeamMember.objects.create(proposal=proposal, side="partner", name="Ngozi Okafor", orcid="0000-0002-9079-593X")
    load_publications(martin.user, "orcid-works.json")  # Ngozi Okafor, 0000-0001-5109-3700
    assert found(proposal, martin) == []
    TeamMember.objects.filter(proposal=proposal).update(orcid="")  # no iD on the proposal's side: the name decides
    assert [cause for cause, _ in found(proposal, martin)] == ["coauthor_name"]


def test_an_idhal_match_when_no_orcid_on_both_sides(proposal, martin):
    type(proposal.pi).objects.filter(pk=proposal.pi_id).update(hal_id="jean-dupont")
    proposal.pi.refresh_from_db()
    Publication.objects.create(user=martin.user, source="hal_api", key="hal-1", title="Dunes", year=2026,
                               imported_at=NOW, authors=[{"name": "Jean-Baptiste Dupont-Moreau", "orcid": "",
                                                          "hal_id": "jean-dupont"}])
    assert [cause for cause, _ in found(proposal, martin)] == ["coauthor"]
    assert "idHAL jean-dupont" in found(proposal, martin)[0][1]


def test_the_partner_matches_on_their_name(proposal, martin):
    Publication.objects.create(user=martin.user, source="orcid_json", key="1", title="Sandbars", year=2025,
                               venue="Coastal Engineering", imported_at=NOW,
                               authors=[{"name": "Souza, A.", "orcid": "", "hal_id": ""}])
    assert found(proposal, martin) == [("coauthor_name", "Ana Souza = “Souza, A.” — “Sandbars”, Coastal Engineering, 2025")]


def test_the_reviewer_themself_among_the_authors_is_no_match(proposal, martin):
    # A team member with the reviewer's initial and name: on the reviewer's own paper, "Martin, C." is her.
    TeamMember.objects.create(proposal=proposal, side="cnrs", name="C. Martin")
    Publication.objects.create(user=martin.user, source="hal_bibtex", key="x", title="Alone", year=2026,
                               imported_at=NOW, authors=[{"name": "Martin, C.", "orcid": "", "hal_id": ""}])
    assert found(proposal, martin) == []


def test_the_panel_index_finds_the_pairs(proposal, martin):
    load_publications(martin.user, "hal.bib")
    assert (proposal.pk, martin.pk) in conflict_candidates([proposal], [martin])
    assert set(coauthor_conflicts_find(proposals=[proposal], reviewers=[martin])) == {(proposal.pk, martin.pk)}


# --- Recording ----------------------------------------------------------------------------------------------


def test_detection_withdraws_the_open_assignment_and_refuses_a_new_one(proposal, martin, call):
    panel = PanelFactory(call=call, institute=martin.institute)
    assignment = AssignmentFactory(proposal=proposal, panel=panel, reviewer=martin, state=AssignmentState.INVITED)
    load_publications(martin.user, "hal.bib")
    assert conflicts_record_detected_all(proposals=[proposal], reviewers=[martin], now=NOW) == 1
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.WITHDRAWN
    assert list(Conflict.objects.values_list("cause", "source")) == [("coauthor_name", "detected")]
    Conflict.objects.all().delete()
    assignment.delete()
    with pytest.raises(ValidationError) as refused:
        assignment_create(panel=panel, proposal=proposal, reviewer=martin, user=None, now=NOW)
    assert "co-published with someone of the same name" in refused.value.messages[0]


def test_an_import_rechecks_the_persons_panels(proposal, martin, call):
    PanelFactory(call=call, institute=martin.institute)
    load_publications(martin.user, "hal.bib")
    assert coauthor_conflicts_record_for_user(user=martin.user, now=NOW) == 1
    assert coauthor_conflicts_record_for_user(user=martin.user, now=NOW) == 0  # idempotent
    assert list(Conflict.objects.values_list("proposal", "reviewer", "cause")) == [(proposal.pk, martin.pk, "coauthor_name")]


def test_the_panel_matching_is_fast():
    """500 proposals × 5 people, 100 reviewers × 30 publications × 6 authors, the name caches cold: indexing and
    matching (the database aside) take well under a second of CPU. Half the authors share a family name with
    someone of the panel, far more than in life, so most of them are read in full."""
    rng = random.Random(20)
    given = ["Jean", "Marie", "Ana", "Li", "Paul", "Sofia", "Omar", "Ingrid", "Kenji", "Lucia", "J.-P.", "Éloïse"]
    family = [f"Family{n}" for n in range(3000)]
    people = [(proposal_id, f"{rng.choice(given)} {rng.choice(family)}") for proposal_id in range(500) for _ in range(5)]

    class Row:  # what coauthors_scan reads of a Publication
        def __init__(self, user_id):
            self.user_id, self.year, self.title, self.venue, self.doi = user_id, 2025, "T", "V", ""
            self.authors = [{"name": f"{rng.choice(family)}, {rng.choice(given)}", "orcid": "", "hal_id": ""}
                            for _ in range(6)]

    publications = [Row(user_id) for user_id in range(100) for _ in range(30)]
    name_readings.cache_clear()
    coauthors_module._person_of.cache_clear()
    started = time.process_time()  # CPU time: the test machine is shared
    index = PeopleIndex()
    for proposal_id, name in people:
        index.add(proposal_id, Person.of(name))
    selves = {user_id: Person.of(f"Reviewer {user_id}") for user_id in range(100)}
    found_pairs = coauthors_scan(index=index, publications=publications, selves=selves,
                                 starts=dict.fromkeys(range(500), 2022),
                                 reviewers_of_user={user_id: [user_id] for user_id in range(100)})
    seconds = time.process_time() - started
    print(f"\ncoauthors: 500 proposals × 100 reviewers × 30 publications in {seconds * 1000:.0f} ms of CPU, "
          f"{len(found_pairs)} pairs")
    assert len(found_pairs) > 100  # the random names meet often: the loop did compare
    assert seconds < 1


# --- Dismissal ----------------------------------------------------------------------------------------------


@pytest.fixture
def officer(call, martin):
    user = UserFactory(email="officer@cnrs.example.fr", full_name="Olga Officer")
    activate_totp(user)
    panel = PanelFactory(call=call, institute=martin.institute)
    panel.officers.add(user)
    return user


@pytest.fixture
def name_match(proposal, martin):
    load_publications(martin.user, "hal.bib")
    [conflict] = conflicts_record_detected(proposal=proposal, reviewer=martin, now=NOW)
    return conflict


def test_the_officer_dismisses_a_name_match(name_match, officer, proposal, martin):
    Panel.objects.update(figures_stale=False)
    dismissal = conflict_dismiss(conflict_id=name_match.pk, user=officer, reason="  Another Jean Dupont, a chemist.  ",
                                 now=NOW)
    assert not Conflict.objects.exists()
    assert (dismissal.proposal, dismissal.reviewer, dismissal.cause, dismissal.detail, dismissal.reason,
            dismissal.dismissed_by, dismissal.dismissed_at) == (
        proposal, martin, "coauthor_name", name_match.detail, "Another Jean Dupont, a chemist.", officer, NOW)
    entry = AuditEntry.objects.get(action="review.conflict_dismiss")
    assert (entry.actor, entry.object_id, entry.data) == (officer, str(proposal.pk), {
        "reviewer": martin.pk, "cause": "coauthor_name", "detail": name_match.detail,
        "reason": "Another Jean Dupont, a chemist."})
    assert list(Panel.objects.values_list("figures_stale", flat=True)) == [True]
    # Not detected again, whether pair by pair or for the whole panel.
    assert conflicts_record_detected(proposal=proposal, reviewer=martin, now=NOW) == []
    assert conflicts_record_detected_all(proposals=[proposal], reviewers=[martin], now=NOW) == 0
    # A second dismissal (another tab, another officer) is told.
    with pytest.raises(ValidationError, match="no longer exists"):
        conflict_dismiss(conflict_id=name_match.pk, user=officer, reason="Again.", now=NOW)


def test_a_second_dismissal_of_the_same_pair_is_refused_by_the_constraint(name_match, officer):
    ConflictDismissal.objects.create(proposal_id=name_match.proposal_id, reviewer_id=name_match.reviewer_id,
                                     cause="coauthor_name", reason="Raced.", dismissed_at=NOW)
    with pytest.raises(ValidationError, match="already dismissed"):
        conflict_dismiss(conflict_id=name_match.pk, user=officer, reason="Me too.", now=NOW)
    assert Conflict.objects.filter(pk=name_match.pk).exists()


def test_only_name_matches_can_be_dismissed(proposal, martin, officer):
    TeamMember.objects.create(proposal=proposal, side="partner", name="Josiah Carberry", orcid=CARBERRY)
    load_publications(martin.user, "orcid-works.json")
    [certain] = conflicts_record_detected(proposal=proposal, reviewer=martin, now=NOW)
    officer_set = Conflict.objects.create(proposal=proposal, reviewer=martin, source="officer", cause="officer",
                                          created_at=NOW)
    for conflict in (certain, officer_set):
        with pytest.raises(ValidationError, match="Only a co-author match on a name"):
            conflict_dismiss(conflict_id=conflict.pk, user=officer, reason="Not them.", now=NOW)
    assert Conflict.objects.count() == 2
    assert not ConflictDismissal.objects.exists()


def test_only_the_panels_officers_and_staff_may_dismiss_with_a_reason(name_match, martin, officer, call):
    other_officer = UserFactory()
    PanelFactory(call=call).officers.add(other_officer)
    for user in (martin.user, other_officer, UserFactory()):
        with pytest.raises(ValidationError, match="Only the panel's officers"):
            conflict_dismiss(conflict_id=name_match.pk, user=user, reason="Not them.", now=NOW)
    with pytest.raises(ValidationError, match="Say how you know"):
        conflict_dismiss(conflict_id=name_match.pk, user=officer, reason="   ", now=NOW)
    assert Conflict.objects.count() == 1
    conflict_dismiss(conflict_id=name_match.pk, user=StaffFactory(), reason="Checked with the PI.", now=NOW)
    assert ConflictDismissal.objects.count() == 1


# --- The pages ----------------------------------------------------------------------------------------------


def test_the_officer_sees_the_shared_publication_and_dismisses_the_match(client, name_match, officer, proposal):
    client.force_login(officer)
    panel = Panel.objects.get(officers=officer)
    page = client.get(reverse("panel:proposal", args=[panel.pk, proposal.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "Storm-driven sediment transport on macrotidal beaches" in text
    dismiss = reverse("panel:conflict_dismiss", args=[panel.pk, name_match.pk])
    assert f'href="{dismiss}"' in text
    assert client.get(dismiss).status_code == 200
    empty = client.post(dismiss, {"reason": ""})
    assert empty.status_code == 200 and Conflict.objects.exists()
    done = client.post(dismiss, {"reason": "A chemist in Lyon, not our PI."}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("panel:proposal", args=[panel.pk, proposal.pk])
    text = done.content.decode()
    assert "The match is dismissed" in text
    assert "A chemist in Lyon, not our PI." in text  # the dismissed matches, for the record
    assert f'href="{dismiss}"' not in text
    again = client.post(dismiss, {"reason": "Twice."}, follow=True)
    assert "no longer exists" in again.content.decode()


def test_a_certain_match_has_no_dismiss_button(client, proposal, martin, officer):
    TeamMember.objects.create(proposal=proposal, side="partner", name="Josiah Carberry", orcid=CARBERRY)
    load_publications(martin.user, "orcid-works.json")
    [certain] = conflicts_record_detected(proposal=proposal, reviewer=martin, now=NOW)
    client.force_login(officer)
    panel = Panel.objects.get(officers=officer)
    page = client.get(reverse("panel:proposal", args=[panel.pk, proposal.pk])).content.decode()
    assert f"ORCID {CARBERRY}" in page
    dismiss = reverse("panel:conflict_dismiss", args=[panel.pk, certain.pk])
    assert dismiss not in page
    assert client.post(dismiss, {"reason": "No."}).status_code == 302
    assert Conflict.objects.filter(pk=certain.pk).exists()


def test_the_proposal_pages_conflicts_cost_the_same_queries_at_two_sizes(client, proposal, officer, queries, call):
    client.force_login(officer)
    panel = Panel.objects.get(officers=officer)
    url = reverse("panel:proposal", args=[panel.pk, proposal.pk])
    made = []

    def grow(n):
        for _ in range(n):
            reviewer = ReviewerFactory(institute=panel.institute)
            made.append(reviewer)
            Publication.objects.create(user=reviewer.user, source="hal_bibtex", key="k", title=f"Paper {len(made)}",
                                       year=2026, imported_at=NOW, authors=[{"name": "Dupont, J.", "orcid": "",
                                                                             "hal_id": ""}])
            [conflict] = conflicts_record_detected(proposal=proposal, reviewer=reviewer, now=NOW)
            if len(made) % 2:
                conflict_dismiss(conflict_id=conflict.pk, user=officer, reason="Someone else.", now=NOW)

    assert queries.at_sizes(grow, lambda: client.get(url)) == (24, 24)  # 1 and 3 conflicts, dismissed or not; +1 the bids, +1 the best matches, +2 the conversations (#21)
    page = client.get(url).content.decode()
    assert page.count("Not the same person") >= 1 and "Paper 3" in page


def test_staff_read_the_dismissals_in_the_admin(client, name_match, officer):
    conflict_dismiss(conflict_id=name_match.pk, user=officer, reason="Someone else.", now=NOW)
    client.force_login(StaffFactory())
    listing = client.get(reverse("admin:reviews_conflictdismissal_changelist"))
    assert listing.status_code == 200 and "Someone else." not in listing.content.decode()
    dismissal = ConflictDismissal.objects.get()
    page = client.get(reverse("admin:reviews_conflictdismissal_change", args=[dismissal.pk]))
    assert "Someone else." in page.content.decode()
    assert client.get(reverse("admin:reviews_conflictdismissal_add")).status_code == 403


def test_the_call_admin_sets_the_coauthor_window(client, call):
    client.force_login(StaffFactory())
    page = client.get(reverse("admin:calls_call_change", args=[call.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert 'name="coauthor_conflict_years"' in text
    assert "co-published with the PI, a team member or the partner in this many past years" in text


# --- The real import -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("export", ["hal.bib", "orcid-works.json"])
def test_the_profile_parser_reads_the_fixtures_as_their_rows(export):
    """The raw exports, read by the parser reviewers' uploads go through, give the rows the tests load."""
    from reviews.domain.publication_formats import parse_publications  # noqa: PLC0415

    works = parse_publications((FIXTURES / export).read_bytes()).works
    expected = fixture_rows(export)
    assert sorted((w.title, w.year) for w in works) == sorted((row["title"], row["year"]) for row in expected)
    rows = {row["title"]: row for row in expected}
    for work in works:  # the parser writes "Given Family", the rows "Family, Given": the same people
        written = [a["name"] for a in rows[work.title]["authors"]]
        assert len(work.authors) == len(written)
        assert all(names_agree(name_readings(a), name_readings(b))
                   for a, b in zip((a["name"] for a in work.authors), written, strict=True))
    got_ids = sorted((a["orcid"], a["hal_id"]) for w in works for a in w.authors if a["orcid"] or a["hal_id"])
    want_ids = sorted((a["orcid"], a["hal_id"]) for row in expected for a in row["authors"] if a["orcid"] or a["hal_id"])
    assert got_ids == want_ids


def test_a_reviewer_importing_their_hal_export_is_found_in_conflict_at_once(proposal, martin, call):
    """The upload itself records the co-author conflict with the proposal of the closed call (the shared paper as
    detail), and audits the import."""
    from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: PLC0415

    from reviews.domain.publications import publications_import  # noqa: PLC0415

    PanelFactory(call=call, institute=martin.institute)
    upload = SimpleUploadedFile("hal.bib", (FIXTURES / "hal.bib").read_bytes())
    publications_import(user=martin.user, file=upload, imported_by=martin.user, now=NOW)
    conflict = Conflict.objects.get(proposal=proposal, reviewer=martin)
    assert conflict.cause == "coauthor_name"
    assert "Dupont" in conflict.detail
    assert AuditEntry.objects.filter(action="profile.publications_import").count() == 1
