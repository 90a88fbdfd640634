"""The submission receipt holds the whole proposal as the server froze it: every field's text, in French and
English, the budget in the editor's order, the time with its offset; a typical proposal fits on one page."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.utils import translation
from pypdf import PdfReader

from iea.site.demo.management.commands._demo_data import POLLIDRY_FORM
from proposals.domain import letter_attach, proposal_submit
from proposals.letters import check_pdf
from proposals.models import BudgetLine, TeamMember, TeamSide
from proposals.receipts import render_receipt
from tests.factories import CallFactory, ProposalFactory, UnitFactory, UserFactory
from tests.pdfs import pdf_upload

pytestmark = pytest.mark.django_db

# 5 December 2026, 14:03 in Paris (UTC+01:00, winter time).
SUBMITTED = dt.datetime(2026, 12, 5, 13, 3, 27, tzinfo=dt.UTC)

LONG_ABSTRACT = " ".join(
    f"Paragraphe {n} : les écosystèmes côtiers du Nordeste brésilien évoluent sous l'effet des tempêtes, "
    f"de l'érosion et de la montée des eaux ; nous étudierons leur résilience à São Luís et à Île-d'Yeu."
    for n in range(1, 15)
)
LONG_ACTIVITIES = "\n".join(
    f"Année {n} : mission de terrain à Fortaleza (Ceará), atelier commun à Montpellier, séminaire « Œuvres "
    f"et façons de faire » pour les doctorantes et doctorants."
    for n in (1, 2)
) * 4
LONG_ETHICS = (
    "Les prélèvements se font sous autorisation SISBIO et arrêté préfectoral ; aucune espèce protégée n'est "
    "collectée. Les données d'entretiens sont pseudonymisées avant tout échange, conformément au RGPD. "
) * 6


def _text(pdf: bytes) -> str:
    """The PDF's text with every run of whitespace (line breaks, no-break spaces) reduced to one space, less
    the page numbers ("1 / 2") at the foot of each page, so a text cut by a page break reads whole."""
    pages = [re.sub(r"\s*\d+ / \d+\s*$", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]
    return " ".join(" ".join(pages).split())


def _pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _submitted(*, fields: dict, members: list[dict], budget: dict, cofunding: dict | None = None):
    call = CallFactory(opens_at=SUBMITTED - dt.timedelta(days=30), closes_at=SUBMITTED + dt.timedelta(days=30))
    pi = UserFactory(email="camille.lefevre@cnrs.example.fr", full_name="Camille Lefèvre")
    unit = UnitFactory(name="Laboratoire d'écologie des hydrosystèmes", number="5023")
    proposal = ProposalFactory(call=call, pi=pi, unit=unit, budget={}, **fields)
    for member in members:
        TeamMember.objects.create(proposal=proposal, **member)
    for (year, category), amount in budget.items():
        BudgetLine.objects.update_or_create(
            proposal=proposal, year=year, category=category, defaults={"amount": Decimal(amount)})
    letter_attach(proposal_id=proposal.pk, pdf=check_pdf(pdf_upload("Lettre de soutien – Université.pdf")),
                  now=SUBMITTED, user=pi, **(cofunding or {}))
    return proposal_submit(proposal_id=proposal.pk, user=pi, now=SUBMITTED).version


@pytest.fixture
def everything():
    """A proposal with every field filled, long texts with accents, and the optional fields left empty."""
    return _submitted(
        fields={
            "title": "Résilience des écosystèmes côtiers face aux tempêtes : une comparaison franco-brésilienne",
            "acronym": "CÔTES-Ré",
            "abstract": LONG_ABSTRACT,
            "keywords": "érosion, littoral, tempêtes, Nordeste, résilience",
            "partner_name": "João Gonçalves",
            "partner_email": "joao.goncalves@ufc.example.br",
            "partner_institution": "Universidade Federal do Ceará",
            "partner_country": "BR",
            "activities": LONG_ACTIVITIES,
            "ethics_statement": LONG_ETHICS,
        },
        members=[
            {"side": TeamSide.CNRS, "name": "Camille Lefèvre", "email": "camille.lefevre@cnrs.example.fr",
             "position": "Chargée de recherche", "institution": "UMR 5023 LEHNA", "early_career": False},
            {"side": TeamSide.CNRS, "name": "Zoé Àlvarez", "email": "", "position": "", "institution": "",
             "early_career": True},
            {"side": TeamSide.PARTNER, "name": "João Gonçalves", "email": "joao.goncalves@ufc.example.br",
             "position": "Professor associado", "institution": "Universidade Federal do Ceará",
             "early_career": False},
        ],
        budget={(1, "mobility"): "5100", (1, "field"): "730.50", (2, "meetings"): "4250", (2, "other"): "360"},
        cofunding={"cofunding": True, "cofunding_amount": Decimal("15000"), "cofunding_currency": "BRL"},
    )


@pytest.mark.parametrize(("language", "labels"), [
    ("en", ["Submission receipt", "Abstract", "Keywords:", "Planned missions and meetings", "Ethics statement",
            "CNRS side", "Partner side", "Checklist at submission", "Co-funding stated", "Brazil"]),
    ("fr", ["Accusé de réception", "Résumé", "Mots-clés :", "Missions et réunions prévues", "Déclaration éthique",
            "Côté CNRS", "Côté partenaire", "Liste de contrôle au dépôt", "Cofinancement déclaré", "Brésil"]),
])
def test_the_receipt_holds_every_field_of_the_version(everything, language, labels):
    version = everything
    content = version.content
    with translation.override(language):
        text = _text(render_receipt(version))

    expected = [
        content["reference"], str(version.proposal.call.title), content["title"], content["acronym"],
        content["abstract"], content["keywords"], content["unit"], content["unit_name"], content["institute"],
        "Camille Lefèvre", "camille.lefevre@cnrs.example.fr",
        content["partner"]["name"], content["partner"]["email"], content["partner"]["institution"],
        *(value for member in content["team"] for value in (member["name"], member["email"], member["position"],
                                                             member["institution"]) if value),
        *content["activities"].splitlines(), content["ethics_statement"],
        content["letter"]["name"], content["letter"]["sha256"], str(content["letter"]["size"]), "BRL",
        version.content_sha256, *labels,
    ]
    missing = [value for value in expected if _flat(value) not in text]
    assert missing == []


@pytest.mark.parametrize(("language", "moment"), [
    ("en", "5 December 2026, 14:03:27 (Paris time, UTC+01:00)"),
    ("fr", "5 décembre 2026 à 14:03:27 (heure de Paris, UTC+01:00)"),
])
def test_the_receipt_gives_the_paris_time_with_its_offset(everything, language, moment):
    with translation.override(language):
        assert moment in _text(render_receipt(everything))


@pytest.mark.parametrize(("language", "rows"), [
    ("en", ["Mobility €5,100.00 €0.00 €5,100.00", "Working meetings €0.00 €4,250.00 €4,250.00",
            "Field missions €730.50 €0.00 €730.50", "Other €0.00 €360.00 €360.00",
            "Total €5,830.50 €4,610.00 €10,440.50"]),
    ("fr", ["Mobilité 5 100,00 € 0,00 € 5 100,00 €", "Réunions de travail 0,00 € 4 250,00 € 4 250,00 €",
            "Missions de terrain 730,50 € 0,00 € 730,50 €", "Autres 0,00 € 360,00 € 360,00 €",
            "Total 5 830,50 € 4 610,00 € 10 440,50 €"]),
])
def test_the_budget_reads_as_in_the_editor(everything, language, rows):
    # One row per category in the editor's order (not the stored, alphabetical one), one column per year.
    with translation.override(language):
        text = _text(render_receipt(everything))
    positions = [text.find(row) for row in rows]
    assert -1 not in positions, (rows, text)
    assert positions == sorted(positions)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_typical_proposal_fits_on_one_page(language):
    # The demo's POLLIDRY: four team members, three budget categories over two years, a co-funded letter.
    version = _submitted(
        fields=dict(POLLIDRY_FORM),
        members=[
            {"side": TeamSide.CNRS, "name": "Sarah Thompson", "email": "pi2@demo.iea.localhost",
             "position": "Research scientist (CR)", "institution": "UMR 5175 CEFE", "early_career": False},
            {"side": TeamSide.CNRS, "name": "Lucas Petit", "position": "PhD student",
             "institution": "UMR 5175 CEFE", "early_career": True},
            {"side": TeamSide.PARTNER, "name": "Ana Beatriz Souza", "email": "ana.souza@unb.example.br",
             "position": "Associate professor", "institution": "Universidade de Brasília", "early_career": False},
            {"side": TeamSide.PARTNER, "name": "Rafael Lima", "position": "Post-doctoral researcher",
             "institution": "Universidade de Brasília", "early_career": True},
        ],
        budget={(1, "mobility"): "4000", (1, "meetings"): "1500", (1, "field"): "500",
                (2, "mobility"): "3500", (2, "meetings"): "1500", (2, "field"): "1000"},
        cofunding={"cofunding": True, "cofunding_amount": Decimal("20000"), "cofunding_currency": "BRL"},
    )
    with translation.override(language):
        pdf = render_receipt(version)
    assert _pages(pdf) == 1
    assert _flat(POLLIDRY_FORM["ethics_statement"]) in _text(pdf)


def test_a_long_proposal_flows_onto_more_pages_and_loses_nothing(everything):
    with translation.override("fr"):
        pdf = render_receipt(everything)
    assert _pages(pdf) >= 2
    assert _flat(LONG_ETHICS) in _text(pdf)
