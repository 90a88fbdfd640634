"""The amendment pages: the PI asks (one form per kind, refusals on their field, nothing typed lost) and
withdraws; the unit manager gives the opinion on the unit's award page; staff approve or refuse in the admin on a
confirmation page; the award letter is re-issued at the new version (FR and EN, money, long and empty texts),
the earlier version's letter stays reachable; the mails in both languages; query counts at two sizes."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from funding.domain.amendments import amendment_decide, amendment_give_opinion, amendment_request
from funding.domain.awards import add_months
from funding.models import Amendment, Award
from tests.factories import StaffFactory, UserFactory
from tests.pdfs import pdf_text

from .factories import award_factory, make_unit_manager

pytestmark = pytest.mark.django_db
LONG = "Le terrain au Québec a été déplacé à cause des délais de visa ; " * 40


@pytest.fixture
def award():
    award = award_factory(amount=Decimal("12500.50"))
    make_unit_manager(award, UserFactory(language="fr"))
    return award


def ask(award, kind="extension", reason="La saison de terrain a été déplacée.", **kw):
    kw = kw or {"months": 3}
    return amendment_request(award_id=award.pk, user=award.proposal.pi, kind=kind, reason=reason,
                             now=timezone.now(), **kw)


def text(response) -> str:
    return " ".join(pdf_text(response.content).split()).replace("\N{NO-BREAK SPACE}", " ")


# --- the PI ------------------------------------------------------------------------------------------------


def test_the_pi_asks_an_extension_through_the_form(client, award):
    client.force_login(award.proposal.pi)
    page = client.get(reverse("funding:award", args=[award.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert reverse("funding:amendment_new", args=[award.pk, "extension"]) in page.content.decode()
    response = client.post(reverse("funding:amendment_new", args=[award.pk, "extension"]),
                           {"months": "2", "reason": "Visa delays."}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    amendment = Amendment.objects.get()
    assert (amendment.kind, amendment.months, amendment.reason) == ("extension", 2, "Visa delays.")


def test_a_refused_request_keeps_what_was_typed(client, award):
    client.force_login(award.proposal.pi)
    response = client.post(reverse("funding:amendment_new", args=[award.pk, "transfer"]), {
        "from_year": "1", "from_category": "mobility", "to_year": "1", "to_category": "field",
        "amount": "99999", "reason": "Une mission de terrain plus longue."}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Une mission de terrain plus longue." in body and 'value="99999"' in body
    assert "the transfer cannot take €99,999.00 from it" in body
    assert Amendment.objects.count() == 0


def test_too_many_months_are_refused_on_the_field(client, award):
    client.force_login(award.proposal.pi)
    response = client.post(reverse("funding:amendment_new", args=[award.pk, "extension"]),
                           {"months": "9", "reason": "Long."}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "6 months are left for this award" in response.content.decode()


def test_the_pi_withdraws(client, award):
    amendment = ask(award)
    client.force_login(award.proposal.pi)
    client.post(reverse("funding:amendment_withdraw", args=[amendment.pk]))
    assert Amendment.objects.get().state == "withdrawn"


# --- the unit manager ---------------------------------------------------------------------------------------


def test_the_unit_manager_gives_the_opinion_and_a_refusal_keeps_the_comment(client, award):
    amendment = ask(award)
    manager = award.unit.managers.first()
    client.force_login(manager)
    page = client.get(reverse("funding:unit_award", args=[award.pk]), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Donner l'avis de l'unité" in page.content.decode()
    url = reverse("funding:amendment_opinion", args=[amendment.pk])
    refused = client.post(url, {f"a{amendment.pk}-opinion": "unfavourable", f"a{amendment.pk}-comment": ""},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400 and "Say why the unit&#x27;s opinion is unfavourable." in refused.content.decode()
    client.post(url, {f"a{amendment.pk}-opinion": "favourable", f"a{amendment.pk}-comment": "D’accord."})
    assert Amendment.objects.get().opinion == "favourable"


# --- staff, in the admin -------------------------------------------------------------------------------------


def test_staff_approve_on_the_confirmation_page(client, award):
    amendment = ask(award, months=4)
    staff = StaffFactory()
    client.force_login(staff)
    url = reverse("admin:funding_amendment_decide", args=[amendment.pk, "approve"])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "The unit has not given its opinion yet." in page.content.decode()
    change = client.get(reverse("admin:funding_award_change", args=[award.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert url in change.content.decode()
    response = client.post(url, {"apply": "1", "action": "approve", "reason": ""})
    assert response.status_code == 302
    assert Award.objects.get(pk=award.pk).end_date == add_months(award.end_date, 4)


def test_staff_must_give_a_reason_to_refuse(client, award):
    amendment = ask(award)
    client.force_login(StaffFactory())
    url = reverse("admin:funding_amendment_decide", args=[amendment.pk, "refuse"])
    assert client.post(url, {"apply": "1", "action": "refuse", "reason": ""}).status_code == 200
    assert Amendment.objects.get().state == "requested"
    client.post(url, {"apply": "1", "action": "refuse", "reason": "Pas justifié."})
    assert Amendment.objects.get().state == "refused"


def test_the_admin_list_filters_by_kind_state_and_call(client, award):
    ask(award)
    ask(award, kind="institution", new_institution="McGill", new_country="CA")
    client.force_login(StaffFactory())
    listing = client.get(reverse("admin:funding_amendment_changelist") + "?kind__exact=institution",
                         HTTP_ACCEPT_LANGUAGE="en")
    assert listing.context["cl"].result_count == 1


# --- the letter ------------------------------------------------------------------------------------------------


def test_the_letter_is_reissued_with_the_amendments_in_english_and_french(client, award):
    staff = StaffFactory()
    for amendment in (
        ask(award, months=2, reason=LONG),
        ask(award, kind="transfer", from_year=2, from_category="mobility", to_year=1, to_category="field",
            amount=Decimal("1000.25")),
        ask(award, kind="institution", new_institution="Université Laval", new_country="CA"),
    ):
        amendment_decide(amendment_id=amendment.pk, user=staff, approve=True, reason="", now=timezone.now())
    award.refresh_from_db()
    client.force_login(award.proposal.pi)
    english = client.get(reverse("funding:award_letter", args=[award.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert english["Content-Disposition"].endswith(f'award-letter-{award.proposal.reference}-v4.pdf"')
    words = text(english)
    assert "Version 4: this letter replaces the earlier ones" in words
    assert "a no-cost extension of 2 months, to" in words
    assert "a transfer of €1,000.25 from year 2, mobility, to year 1, field missions" in words
    assert "the partner's institution changed to Université Laval (Canada)" in words
    assert "1 January 2027 7,250.50" in words or "7,250.50" in words.split("Total")[0]  # tranche 1: 6,250.25 + 1,000.25
    assert "€12,500.50" in words
    assert "déplacé à cause des délais de visa" in words  # the long reason, whole
    french = text(client.get(reverse("funding:award_letter", args=[award.pk]), HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Avenants" in french and "prolongation sans coût supplémentaire de 2 mois" in french
    assert "7 250,50" in french
    first = client.get(reverse("funding:award_letter_version", args=[award.pk, 1]), HTTP_ACCEPT_LANGUAGE="en")
    first_words = text(first)
    assert "Version 4" not in first_words and "6,250.25" in first_words and "Amendments" not in first_words


def test_the_letter_of_an_unknown_version_is_404(client, award):
    client.force_login(award.proposal.pi)
    assert client.get(reverse("funding:award_letter_version", args=[award.pk, 2])).status_code == 404


# --- the mails -------------------------------------------------------------------------------------------------


def test_the_mails_in_each_recipients_language_with_every_kind_of_value(award, django_capture_on_commit_callbacks):
    award.proposal.pi.language = "en"
    award.proposal.pi.save()
    manager = award.unit.managers.first()
    with django_capture_on_commit_callbacks(execute=True):
        amendment = ask(award, kind="transfer", reason=LONG, from_year=1, from_category="mobility", to_year=2,
                        to_category="other", amount=Decimal("1234.56"))
        amendment_give_opinion(amendment_id=amendment.pk, user=manager, opinion="unfavourable",
                               comment="Trop tôt dans l’année.", now=timezone.now())
        amendment_decide(amendment_id=amendment.pk, user=StaffFactory(), approve=False,
                         reason="Le budget de l’année 2 est engagé.", now=timezone.now())
    by_subject = {message.subject: message for message in mail.outbox}
    request = next(m for s, m in by_subject.items() if "Avenant demandé" in s)
    assert request.to == [manager.email]
    body = request.body.replace("\N{NO-BREAK SPACE}", " ").replace("\N{NARROW NO-BREAK SPACE}", " ")
    assert "un virement de 1 234,56 € de l'année 1, mobilité, vers l'année 2, autres." in body
    assert LONG.strip() in request.body
    opinion = next(m for s, m in by_subject.items() if "the unit gave its opinion" in s)
    assert "gave its opinion on your request (unfavourable):" in opinion.body
    assert "Trop tôt dans l’année." in opinion.body
    decided = [m for s, m in by_subject.items() if "refused" in s or "refusé" in s]
    assert sorted(m.to[0] for m in decided) == sorted([award.proposal.pi.email, manager.email])
    assert all("Le budget de l’année 2 est engagé." in m.body for m in decided)


# --- query counts --------------------------------------------------------------------------------------------


def _more_amendments(award):
    kinds = iter([("extension", {"months": 1}),
                  ("transfer", {"from_year": 1, "from_category": "mobility", "to_year": 1, "to_category": "other",
                                "amount": Decimal(10)}),
                  ("institution", {"new_institution": "Institution {}", "new_country": "CA"})] * 5)
    staff = StaffFactory()
    count = iter(range(100))

    def grow(n):
        for _ in range(n):
            kind, kw = next(kinds)
            if kind == "institution":
                kw = {**kw, "new_institution": kw["new_institution"].format(next(count))}
            amendment = ask(award, kind=kind, **kw)
            amendment_give_opinion(amendment_id=amendment.pk, user=award.unit.managers.first(), opinion="favourable",
                                   comment="", now=timezone.now())
            amendment_decide(amendment_id=amendment.pk, user=staff, approve=True, reason="", now=timezone.now())
    return grow


def test_the_pi_award_page_at_two_sizes(client, award, queries):
    client.force_login(award.proposal.pi)
    hit = lambda: client.get(reverse("funding:award", args=[award.pk]))  # noqa: E731
    assert queries.at_sizes(_more_amendments(award), hit, sizes=(1, 3)) == (17, 17)  # and the unread messages of its conversation (#21 messages)


def test_the_unit_award_page_at_two_sizes(client, award, queries):
    client.force_login(award.unit.managers.first())
    hit = lambda: client.get(reverse("funding:unit_award", args=[award.pk]))  # noqa: E731
    assert queries.at_sizes(_more_amendments(award), hit, sizes=(1, 3)) == (11, 11)


def test_the_admin_list_at_two_sizes(client, award, queries):
    client.force_login(StaffFactory())
    hit = lambda: client.get(reverse("admin:funding_amendment_changelist"))  # noqa: E731
    assert queries.at_sizes(_more_amendments(award), hit, sizes=(1, 3)) == (7, 7)
