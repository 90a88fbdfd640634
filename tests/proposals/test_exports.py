"""The proposals list's *Export to Excel*: exactly the rows of the filtered list, two sheets (proposals and team)
with every kind of value typed as it should be, in the reader's language, the same queries at any size, and
only for those who may view the list."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.models import CallState
from iea.formats import XLSX_DATETIME, XLSX_MONEY
from proposals.models import (
    PartnerInvitation,
    Proposal,
    ProposalState,
    ProposalVersion,
    SupportLetter,
    TeamMember,
)
from reviews.models import Decision, DecisionOutcome
from tests.backoffice.workbooks import EXPECTED, cells, headers, opened, people, sheet_rows, statuses
from tests.factories import CallFactory, InstituteFactory, ProposalFactory, UnitFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:proposals_proposal_changelist"
EXPORT = "admin:proposals_proposal_export"


def letter(proposal, *, via=None, by_partner=False, cofunding=None):
    amount, currency = cofunding or (None, "")
    return SupportLetter.objects.create(
        proposal=proposal, file=f"letters/{proposal.pk}/x.pdf", original_name="support.pdf", size=1234,
        sha256="a" * 64, pages=1, uploaded_at=timezone.now(), uploaded_by=None if by_partner else proposal.pi,
        uploaded_by_partner=by_partner, uploaded_via=via, cofunding=amount is not None, cofunding_amount=amount,
        cofunding_currency=currency,
    )


def version(proposal, number, at):
    return ProposalVersion.objects.create(
        proposal=proposal, number=number, submitted_at=at, submitted_by=proposal.pi, content={},
        content_sha256="b" * 64, letter=proposal.letters.first())


def invitation(proposal, email):
    now = timezone.now()
    return PartnerInvitation.objects.create(proposal=proposal, email=email, created_at=now, created_by=proposal.pi,
                                            expires_at=now + dt.timedelta(days=30))


def in_state(proposal, state, **fields):
    Proposal.objects.filter(pk=proposal.pk).update(state=state, **fields)
    proposal.refresh_from_db()
    return proposal


@pytest.fixture
def world(staff):
    """A call with a proposal of every kind: submitted twice with its letter and co-funding, by a PI who was
    refused last year; a draft with nothing (no unit, no country, no letter); letters from the partner and from
    a former partner; and a proposal of another call."""
    insu = InstituteFactory(code="INSU")
    call = CallFactory(year=2031, state=CallState.CLOSED)
    submitted_at = dt.datetime(2031, 9, 30, 11, 0, tzinfo=dt.UTC)  # 13:00 in Paris
    full = ProposalFactory(call=call, complete=True, evaluating_institute=insu,
                           title='=HYPERLINK("http://evil.example")', acronym="X" * 30)
    letter(full, cofunding=(Decimal("5000.50"), "BRL"))
    version(full, 1, submitted_at - dt.timedelta(days=3))
    version(full, 2, submitted_at)
    in_state(full, ProposalState.ELIGIBLE, submitted_at=submitted_at)
    TeamMember.objects.create(proposal=full, side="cnrs", name="Jeune Chercheuse", email="jc@cnrs.example.fr",
                              position="PhD student", institution="LAB", early_career=True)
    refused = in_state(ProposalFactory(call=CallFactory(year=2030, state=CallState.DECIDED), pi=full.pi,
                                       complete=True), ProposalState.REJECTED, submitted_at=submitted_at)
    Decision.objects.create(proposal=refused, outcome=DecisionOutcome.REJECTED, decided_at=submitted_at,
                            decided_by=staff)
    empty = ProposalFactory(call=call)
    from_partner = ProposalFactory(call=call, complete=True)
    letter(from_partner, by_partner=True, via=invitation(from_partner, from_partner.partner_email.upper()))
    former = ProposalFactory(call=call, complete=True)
    letter(former, by_partner=True, via=invitation(former, "someone.else@example.org"))
    return {"call": call, "full": full, "empty": empty, "from_partner": from_partner, "former": former,
            "refused": refused, "insu": insu}


def export(client, **params):
    return client.get(reverse(EXPORT), params)


def test_the_workbook_holds_exactly_the_rows_of_the_filtered_list(signed_in, world):
    call, insu = world["call"], world["insu"]
    for params in ({}, {"call__id__exact": call.pk}, {"call__id__exact": call.pk, "state__exact": "draft"},
                   {"institute": insu.pk}, {"q": "COAST"}, {"q": world["full"].reference}, {"call__id__exact": 999}):
        listed = signed_in.get(reverse(CHANGELIST), params).context["cl"]
        rows = sheet_rows(export(signed_in, **params), "Proposals")
        assert len(rows) == listed.result_count, params
        assert sorted(row["Reference"] for row in rows) == sorted(p.reference for p in listed.result_list), params


def test_the_list_offers_the_export_of_what_it_shows(signed_in, world):
    call = world["call"]
    html = signed_in.get(reverse(CHANGELIST), {"call__id__exact": call.pk, "p": "1"}).content.decode()
    assert f'href="{reverse(EXPORT)}?call__id__exact={call.pk}"' in html
    assert "Export to Excel (4 rows)" in html
    one = signed_in.get(reverse(CHANGELIST), {"q": world["full"].reference}).content.decode()
    assert "Export to Excel (1 row)" in one
    assert "Export to Excel" not in signed_in.get(reverse(CHANGELIST), {"_popup": "1"}).content.decode()


def test_the_file_is_named_after_the_call_when_the_rows_are_of_one(signed_in, world):
    today = timezone.localdate()
    one = export(signed_in, call__id__exact=world["call"].pk)["Content-Disposition"]
    assert one == f'attachment; filename="proposals-2031-{today:%Y-%m-%d}.xlsx"'
    assert f'filename="proposals-all-{today:%Y-%m-%d}.xlsx"' in export(signed_in)["Content-Disposition"]


def test_every_kind_of_value_is_written_as_what_it_is(signed_in, world):
    full, empty = world["full"], world["empty"]
    response = export(signed_in)
    rows = {row["Reference"]: row for row in sheet_rows(response, "Proposals")}
    row = rows[full.reference]
    assert {key: row[key] for key in (
        "Title", "Acronym", "PI", "PI e-mail", "Unit", "Delegation", "Evaluating institute", "State", "Versions",
        "Partner", "Partner's institution", "Partner's country", "Country code", "CNRS team", "Partner team",
        "Early-career members", "Year 1: Mobility (€)", "Year 1: Working meetings (€)", "Year 2: Other (€)",
        "Budget in total (€)", "Support letter", "Co-funding", "Co-funding amount", "Currency", "Resubmission",
    )} == {
        "Title": '=HYPERLINK("http://evil.example")', "Acronym": "X" * 30, "PI": full.pi.get_full_name(),
        "PI e-mail": full.pi.email, "Unit": full.unit.code, "Delegation": full.unit.delegation.name,
        "Evaluating institute": "INSU", "State": "Eligible", "Versions": 2, "Partner": "Ana Souza",
        "Partner's institution": "Universidade de São Paulo", "Partner's country": "Brazil", "Country code": "BR",
        "CNRS team": 2, "Partner team": 1, "Early-career members": 2, "Year 1: Mobility (€)": 3000,
        "Year 1: Working meetings (€)": 3000, "Year 2: Other (€)": 0, "Budget in total (€)": 12000,
        "Support letter": "From the PI", "Co-funding": "yes", "Co-funding amount": 5000.5, "Currency": "BRL",
        "Resubmission": "yes",
    }
    # Dates on the Paris wall clock, typed; money as money; the PI's text as text, never a formula.
    typed = {cell_row["Reference"].value: cell_row for cell_row in cells(response, "Proposals")}[full.reference]
    assert typed["Last submitted at"].value == dt.datetime(2031, 9, 30, 13, 0)
    assert typed["Last submitted at"].number_format == XLSX_DATETIME
    assert typed["Budget in total (€)"].number_format == XLSX_MONEY
    assert typed["Year 1: Mobility (€)"].number_format == XLSX_MONEY
    assert (typed["Title"].data_type, typed["Versions"].data_type) == ("s", "n")

    nothing = rows[empty.reference]
    assert {key: nothing[key] for key in ("Title", "Unit", "Delegation", "Evaluating institute", "State",
                                          "Last submitted at", "Versions", "Partner's country", "Country code",
                                          "Support letter", "Co-funding", "Co-funding amount", "Resubmission",
                                          "Budget in total (€)")} == {
        "Title": None, "Unit": None, "Delegation": None, "Evaluating institute": None, "State": "Draft",
        "Last submitted at": None, "Versions": 0, "Partner's country": None, "Country code": None,
        "Support letter": "Missing", "Co-funding": None, "Co-funding amount": None, "Resubmission": "no",
        "Budget in total (€)": 0,
    }
    assert rows[world["from_partner"].reference]["Support letter"] == "From the partner"
    assert rows[world["former"].reference]["Support letter"] == "From the former partner"
    # Last year's refused proposal is the first: no resubmission.
    assert rows[world["refused"].reference]["Resubmission"] == "no"


def test_the_team_sheet_has_one_row_per_member(signed_in, world):
    full = world["full"]
    team = [row for row in sheet_rows(export(signed_in), "Team") if row["Reference"] == full.reference]
    assert team == [
        {"Reference": full.reference, "Side": "CNRS side", "Name": "Marie Curie", "E-mail": None, "Position": None,
         "Institution": None, "Early career": "no"},
        {"Reference": full.reference, "Side": "CNRS side", "Name": "Jeune Chercheuse", "E-mail": "jc@cnrs.example.fr",
         "Position": "PhD student", "Institution": "LAB", "Early career": "yes"},
        {"Reference": full.reference, "Side": "Partner side", "Name": "Ana Souza", "E-mail": None, "Position": None,
         "Institution": None, "Early career": "yes"},
    ]
    assert len(sheet_rows(export(signed_in), "Team")) == TeamMember.objects.count()


def test_the_headers_and_labels_are_in_the_readers_language(signed_in, world):
    signed_in.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    response = export(signed_in, q=world["full"].reference)
    assert opened(response).sheetnames == ["Propositions", "Équipe"]
    names = headers(response, "Propositions")
    assert names[:3] == ["Référence", "Acronyme", "Titre"]
    assert "Année 1\u00a0: Mobilité (€)" in names
    [row] = sheet_rows(response, "Propositions")
    assert (row["Statut"], row["Lettre de soutien"], row["Nouveau dépôt"]) == ("Recevable", "Du ou de la PI", "oui")


def test_the_export_costs_the_same_queries_for_few_and_many_proposals(signed_in, queries):
    call = CallFactory(year=2031)

    def grow(size):
        for _n in range(size):
            proposal = ProposalFactory(call=call, complete=True, unit=UnitFactory())
            letter(proposal, by_partner=True, via=invitation(proposal, "p@example.org"))
            version(proposal, 1, timezone.now())

    assert queries.at_sizes(grow, lambda: export(signed_in, call__id__exact=call.pk)) == (13, 13)


def test_who_may_download(client, world):
    # Any directorate member reads the proposals (proposals.rules), without a model permission too.
    assert statuses(client, reverse(EXPORT), people()) == {**EXPECTED, "staff_without_permission": 200}


def test_a_filter_the_list_does_not_know_sends_back_to_the_list_as_the_list_does(signed_in, world):
    response = signed_in.get(reverse(EXPORT), {"no_such_field__exact": "1"})
    assert (response.status_code, response["Location"]) == (302, reverse(CHANGELIST) + "?e=1")
    assert "Content-Disposition" not in response
