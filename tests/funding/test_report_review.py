"""The review of co-signed reports by the panel's officer or by staff: who gets in, the list of reports to
review (and its query count), approval opening the gate of tranche 2, changes requested and the new
co-signature link, and the final report closing the award."""

import pytest
from django.urls import reverse
from django.utils import timezone

from funding.domain.awards import tranche_gate, tranche_release
from funding.domain.reports import cosign_token
from funding.models import CosignInvitation, Report
from tests.factories import CallFactory, InstituteFactory, UnitFactory, UserFactory
from tests.reviews.staff_factories import panel_for

from .factories import award_factory, cast, make_panel_officer
from .test_pi_views import FILLED, report_of, submit

pytestmark = pytest.mark.django_db

MFA_SETUP = "/accounts/2fa/totp/activate/"


@pytest.fixture
def award(pi, staff):
    award = award_factory(pi=pi, staff=staff)
    tranche_release(tranche_id=award.tranches.get(number=1).pk, user=staff, now=timezone.now())
    return award


@pytest.fixture
def people(award, staff):
    return cast(award, staff=staff)


def cosign(client, token, name="Ana Souza"):
    client.logout()
    response = client.post(reverse("funding:cosign", args=[token]), {"signer_name": name})
    assert response.status_code == 302


@pytest.fixture
def cosigned(client, award):
    """The year-1 report, filled and submitted by the PI, co-signed by the partner."""
    cosign(client, submit(client, award))
    return report_of(award)


def review_url(report):
    return reverse("funding:report_review", args=[report.pk])


def tranche_2(award):
    return award.tranches.get(number=2)


# ---------------------------------------------------------------------------------------------------
# Who gets in
# ---------------------------------------------------------------------------------------------------

REVIEW_ALLOWED = {"pi": 404, "other_pi": 404, "reviewer": 404, "other_unit_manager": 404, "unit_manager": 404,
                  "officer": 200, "other_officer": 404, "staff": 200}


def test_anonymous_is_sent_to_sign_in(client, cosigned):
    for page in (reverse("funding:pending_reports"), review_url(cosigned)):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", list(REVIEW_ALLOWED))
def test_review_page_follows_can_review_reports(client, cosigned, people, who):
    client.force_login(people[who])
    assert client.get(review_url(cosigned)).status_code == REVIEW_ALLOWED[who]


@pytest.mark.parametrize("who", [w for w, status in REVIEW_ALLOWED.items() if status == 404])
def test_who_may_not_review_cannot_post_a_review(client, cosigned, people, who):
    client.force_login(people[who])
    response = client.post(review_url(cosigned), {"decision": "approve"})
    assert response.status_code == 404
    assert report_of(cosigned.award).state == "cosigned"


@pytest.mark.parametrize("who", list(REVIEW_ALLOWED))
def test_pending_reports_lists_what_the_user_may_review(client, cosigned, people, who):
    client.force_login(people[who])
    response = client.get(reverse("funding:pending_reports"))
    assert response.status_code == 200
    expected = [cosigned.pk] if REVIEW_ALLOWED[who] == 200 else []
    assert [r.pk for r in response.context["reports"]] == expected


def test_an_officer_without_two_factor_is_sent_to_set_it_up(client, award, cosigned):
    officer = UserFactory()
    panel_for(award.proposal.call, award.proposal.institute).officers.add(officer)
    client.force_login(officer)
    for page in (reverse("funding:pending_reports"), review_url(cosigned)):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(MFA_SETUP)


def test_pending_reports_shows_only_cosigned_reports(client, award, people):
    submit(client, award)  # waiting for the partner: not for the reviewer yet
    client.force_login(people["officer"])
    assert list(client.get(reverse("funding:pending_reports")).context["reports"]) == []


# ---------------------------------------------------------------------------------------------------
# The flow
# ---------------------------------------------------------------------------------------------------

def test_approval_of_the_year1_report_opens_the_gate_of_tranche_2(client, award, people, mailoutbox,
                                                                   django_capture_on_commit_callbacks):
    assert tranche_gate(tranche_2(award)) == (
        "Tranche 2 is released only after the year 1 reports are approved; they are: draft.")
    token = submit(client, award)
    assert tranche_gate(tranche_2(award)) == ("Tranche 2 is released only after the year 1 reports are approved; "
                                             "they are: waiting for the partner's co-signature.")
    cosign(client, token)
    report = report_of(award)
    assert tranche_gate(tranche_2(award)) == ("Tranche 2 is released only after the year 1 reports are approved; "
                                             "they are: co-signed, waiting for approval.")
    client.force_login(people["officer"])
    page = client.get(review_url(report))
    html = page.content.decode()
    assert FILLED["scientific_review"] in html and "Ana Souza &lt;ana@usp.example.br&gt;" in html
    assert page.context["gate"] == tranche_gate(tranche_2(award))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(review_url(report), {"decision": "approve", "comment": ""}, follow=True)
    report.refresh_from_db()
    assert (report.state, report.reviewed_by) == ("approved", people["officer"])
    assert tranche_gate(tranche_2(award)) == ""
    html = response.content.decode()
    assert [str(m) for m in response.context["messages"]] == ["The report is approved."]
    assert "Tranche 2 can now be released: directorate staff release it in the administration." in html
    assert 'name="decision"' not in html
    assert [m.to for m in mailoutbox] == [[award.proposal.pi.email]]
    assert list(client.get(reverse("funding:pending_reports")).context["reports"]) == []
    client.force_login(award.proposal.pi)
    assert client.get(reverse("funding:award", args=[award.pk])).context["gate"] == ""


def test_changes_requested_then_resubmitted_with_a_new_link(client, award, people):
    old_token = submit(client, award)
    cosign(client, old_token)
    report = report_of(award)
    client.force_login(people["staff"])
    refused = client.post(review_url(report), {"decision": "changes", "comment": "  "})
    assert refused.status_code == 400
    assert "Say what must change." in refused.content.decode()
    assert report_of(award).state == "cosigned"
    client.post(review_url(report), {"decision": "changes", "comment": "Detail the field missions."})
    assert report_of(award).state == "changes"
    # The old link says the partner already signed and that a new link will come.
    client.logout()
    stale = client.get(reverse("funding:cosign", args=[old_token]))
    assert stale.status_code == 403
    assert "the PI was since asked for changes" in stale.content.decode()
    # The PI reads the comment, edits and resubmits.
    client.force_login(award.proposal.pi)
    page = client.get(reverse("funding:report", args=[award.pk, "year1"]))
    assert "Detail the field missions." in page.content.decode()
    assert page.context["form"] is not None
    response = client.post(reverse("funding:report", args=[award.pk, "year1"]),
                           {**FILLED, "spending_field": "800", "action": "submit"})
    assert response.status_code == 302
    assert report_of(award).state == "submitted"
    new = CosignInvitation.objects.get(report=report, revoked_at__isnull=True)
    new_token = cosign_token(new)
    assert new_token != old_token
    client.logout()
    replaced = client.post(reverse("funding:cosign", args=[old_token]), {"signer_name": "Ana Souza"})
    assert replaced.status_code == 403
    assert "This link was replaced by a newer one. Use the link in the latest e-mail." in replaced.content.decode()
    assert report_of(award).state == "submitted"
    cosign(client, new_token)
    assert report_of(award).state == "cosigned"


def test_approving_the_final_report_closes_the_award(client, award, people):
    cosign(client, submit(client, award, "final"))
    report = report_of(award, "final")
    client.force_login(people["staff"])
    client.post(review_url(report), {"decision": "approve"})
    award.refresh_from_db()
    assert (report_of(award, "final").state, award.state) == ("approved", "closed")
    client.force_login(award.proposal.pi)
    page = client.get(reverse("funding:report", args=[award.pk, "year1"]))
    assert page.context["form"] is None  # a closed award takes no more reports


def test_a_report_not_cosigned_cannot_be_reviewed(client, award, people):
    submit(client, award)
    report = report_of(award)
    client.force_login(people["officer"])
    page = client.get(review_url(report))
    assert (page.status_code, page.context["form"]) == (200, None)
    response = client.post(review_url(report), {"decision": "approve"}, follow=True)
    assert report_of(award).state == "submitted"
    assert [str(m) for m in response.context["messages"]][-1] == (
        "Only a co-signed report can be reviewed; this one is waiting for the partner's co-signature.")


# ---------------------------------------------------------------------------------------------------
# Query count
# ---------------------------------------------------------------------------------------------------

def cosigned_awards(n, *, call, institute, staff):
    for _ in range(n):
        award = award_factory(call=call, unit=UnitFactory(main_institute=institute), staff=staff)
        Report.objects.filter(award=award, period="year1").update(state="cosigned", cosigned_at=timezone.now(),
                                                                  cosigned_by="Ana Souza <ana@usp.example.br>")
    return award


PENDING_REPORT_QUERIES = {"officer": (6, 6), "staff": (4, 4)}  # officer: +1 for the export link (reviews_reports)


@pytest.mark.parametrize("role", ["officer", "staff"])
def test_pending_reports_query_count_does_not_grow(client, staff, role, queries):
    institute, call = InstituteFactory(), CallFactory()
    first = cosigned_awards(1, call=call, institute=institute, staff=staff)
    user = make_panel_officer(first) if role == "officer" else staff
    client.force_login(user)
    hit = lambda: client.get(reverse("funding:pending_reports"))  # noqa: E731
    assert len(hit().context["reports"]) == 1
    assert queries.at_sizes(lambda n: n and cosigned_awards(n, call=call, institute=institute, staff=staff), hit,
                            sizes=(0, 14)) == PENDING_REPORT_QUERIES[role]
    assert len(hit().context["reports"]) == 15


def test_nobody_reviews_the_reports_of_their_own_award():
    from funding.rules import can_review_reports
    from tests.factories import activate_totp

    award = award_factory()
    pi = award.proposal.pi
    pi.is_staff = True
    pi.save(update_fields=["is_staff"])
    activate_totp(pi)
    assert can_review_reports(pi, award) is False


def test_the_pi_is_told_when_the_partner_cosigns(award, django_capture_on_commit_callbacks, mailoutbox):
    from funding.domain.reports import report_cosign

    report = report_of(award)
    report.state = "submitted"
    report.save(update_fields=["state"])
    from funding.models import CosignInvitation

    invitation = CosignInvitation.objects.create(report=report, email="ana@usp.example.br", created_at=timezone.now(),
                                                expires_at=timezone.now() + timezone.timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        report_cosign(invitation=invitation, signer_name="Ana Souza", now=timezone.now())
    told = [m for m in mailoutbox if m.to == [award.proposal.pi.email]]
    assert [m.subject for m in told] == [f"The partner co-signed the Year 1 report of {award.proposal.reference}"]
    assert "co-signed by Ana Souza <ana@usp.example.br>" in told[0].body
