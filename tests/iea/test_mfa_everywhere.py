"""Two-factor authentication is asked of reviewers, officers and staff on every request (``iea.mfa``).

The proof walks every URL pattern of the project, fills its parameters with the ids and tokens of a small
world (a call, a submitted proposal with its letter and receipt, its reviewer, its panel, the decision
mailed with its evaluation summary, the award with its letter and reports) and requests each URL, with GET
and with POST, as a staff member, an officer and a reviewer who have no authenticator. Every answer must be
the way to the set-up (a redirect; the API's JSON 403) or a page of the short allow-list; the offenders are
listed by URL, so a failure names every page that leaks.
"""

import json
import re
from decimal import Decimal

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.messages import get_messages
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils import timezone

from funding.domain.acceptance import award_accept
from funding.domain.awards import award_create
from funding.models import ReportSpending
from iea.mfa import API_REFUSAL, CONTINUE_SESSION_KEY
from iea.middleware import ALLOWED_WITHOUT_MFA
from proposals.domain import invitation_token
from proposals.models import PartnerInvitation, Proposal, ProposalState
from reviews.models import Conflict, Decision, DecisionOutcome
from tests.api.conftest import client_for
from tests.factories import PASSWORD, StaffFactory, UnitFactory, UserFactory, activate_totp
from tests.funding.factories import award_factory, make_unit_manager
from tests.reviews.factories import AssignmentFactory, PanelFactory, ReviewerFactory, eligible_proposal

pytestmark = pytest.mark.django_db

SETUP = "/accounts/2fa/totp/activate/"
# The project has about 250 URL patterns (the admin's included): a walk that finds far fewer is broken.
AT_LEAST = 200


# --- The world ----------------------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    """One proposal that went the whole way: submitted with its letter (receipt 1), reviewed, on a panel,
    decided and mailed (evaluation summary), awarded and accepted (award letter, reports)."""
    now = timezone.now()
    proposal = eligible_proposal()
    panel = PanelFactory(call=proposal.call, institute=proposal.institute)
    assignment = AssignmentFactory(proposal=proposal, panel=panel,
                                   reviewer=ReviewerFactory(institute=proposal.institute, mfa=False))
    staff_with_mfa = StaffFactory()
    Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.SELECTED)
    decision = Decision.objects.create(proposal=proposal, outcome=DecisionOutcome.SELECTED, amount=Decimal(12000),
                                       decided_at=now, decided_by=staff_with_mfa, notified_at=now)
    award = award_create(decision=decision, user=staff_with_mfa, now=now)
    award = award_accept(award_id=award.pk, user=proposal.pi, now=now)
    report = award.reports.order_by("pk").first()
    invitation = PartnerInvitation.objects.filter(proposal=proposal).first()
    officer = UserFactory()
    panel.officers.add(officer)
    return {
        "call": proposal.call, "proposal": proposal, "panel": panel, "assignment": assignment, "award": award,
        "report": report, "tranche": award.tranches.order_by("pk").first(),
        "spending": ReportSpending.objects.filter(report=report).first(),
        "partner_token": invitation_token(invitation) if invitation else "no-such-token",
        "staff": StaffFactory(mfa=False), "officer": officer, "reviewer": assignment.reviewer.user,
        # A co-author match on a name, which the officer may dismiss (panel:conflict_dismiss).
        "coauthor_conflict": Conflict.objects.create(
            proposal=proposal, reviewer=ReviewerFactory(institute=panel.institute), source="detected",
            cause="coauthor_name", detail="Jean Dupont = “Dupont, J.” — “Dunes”, 2025", created_at=timezone.now()),
    }


def _values(world) -> dict:
    """What each URL parameter is, by the URL's namespace (or name) and the parameter's name; ``None`` as the
    namespace is the fallback for any URL."""
    proposal, award, report, panel = world["proposal"], world["award"], world["report"], world["panel"]
    spending = world["spending"]
    return {
        (None, "year"): world["call"].year,
        (None, "reference"): proposal.reference,
        (None, "format"): "json",
        ("proposals", "pk"): proposal.pk,
        ("proposals", "letter_id"): proposal.letters.get().pk,
        ("proposals", "number"): proposal.versions.get().number,
        ("proposals", "member_id"): proposal.team.first().pk,
        ("proposals", "token"): world["partner_token"],
        ("reviewer", "pk"): world["assignment"].pk,
        ("panel", "panel_id"): panel.pk,
        ("panel", "proposal_id"): proposal.pk,
        ("panel", "reviewer_id"): world["assignment"].reviewer_id,
        ("panel", "conflict_id"): world["coauthor_conflict"].pk,
        ("funding", "pk"): award.pk,
        ("funding", "period"): report.period,
        ("funding", "line_id"): spending.pk if spending else 1,
        ("funding", "tranche_id"): world["tranche"].pk,
        ("funding", "report_id"): report.pk,
        ("api:assignment", "pk"): world["assignment"].pk,
        ("api:panel", "pk"): panel.pk,
        ("api:award", "pk"): award.pk,
        ("api:tranche", "pk"): world["tranche"].pk,
        ("api:report", "pk"): report.pk,
        ("api:proposal", "member_id"): proposal.team.first().pk,
        ("api:institute", "pk"): proposal.institute.pk,
        ("api:unit", "pk"): proposal.unit.pk,
    }


# --- The walk -----------------------------------------------------------------------------------------------


def _walk(patterns, prefix=(), namespace=None):
    """Every URL pattern of the project, as (its chain of patterns, its full name)."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part) or None
            yield from _walk(pattern.url_patterns, (*prefix, pattern), inner)
        else:
            name = ":".join(part for part in (namespace, pattern.name) if part) if pattern.name else ""
            yield (*prefix, pattern), name


GROUP = re.compile(r"\(\?P<(?P<name>\w+)>")
CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _group_end(regex: str, start: int) -> int:
    """The index just after the parenthesis closing the group that opens at ``start``."""
    depth, index, in_class = 0, start, False
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise ValueError(regex)


def _value(values, name, parameter, model, check):
    """A real id or token where the world has one, else the first dummy the pattern accepts."""
    candidates = []
    for scope in (name.rsplit("-", 1)[0], name.split(":")[0] if ":" in name else name, None):
        if (scope, parameter) in values:
            candidates.append(values[(scope, parameter)])
    if model is not None and parameter == "object_id":
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            candidates.append(first.pk)
    candidates += ["1", "dummy", ".json"]  # the last: DRF's format suffix
    for candidate in candidates:
        if check(str(candidate)):
            return str(candidate)
    raise ValueError(f"{name}: nothing fits {parameter}")


def _path(chain, name, values) -> str:
    callback = chain[-1].callback
    model = getattr(getattr(callback, "model_admin", None), "model", None)
    path = "/"
    for level in chain:
        pattern = level.pattern
        if hasattr(pattern, "_route"):
            converters = pattern.converters

            def fill(match, converters=converters):
                converter = converters[match["name"]]
                return _value(values, name, match["name"], model,
                              lambda text, c=converter: re.fullmatch(c.regex, text) is not None)

            path += CONVERTER.sub(fill, pattern._route)
        else:
            regex = pattern._regex
            while (found := GROUP.search(regex)) is not None:
                end = _group_end(regex, found.start())
                body = regex[found.end():end - 1]
                if "|" in body and re.fullmatch(r"[\w|]+", body):
                    filled = body.split("|")[0]  # the admin's app labels
                else:
                    filled = _value(values, name, found["name"], model,
                                    lambda text, b=body: re.fullmatch(b, text) is not None)
                regex = regex[:found.start()] + filled + regex[end:]
            path += regex.lstrip("^").rstrip("$").replace("/?", "/").replace("\\.", ".")
    return path


def _urls(values):
    """(name, path) for every pattern, and the patterns no path that resolves could be built for."""
    urls, unbuilt = [], []
    for chain, name in _walk(get_resolver().url_patterns):
        path = _path(chain, name, values)
        try:
            resolved = resolve(path)
        except Resolver404:
            unbuilt.append((name, path))
            continue
        # A pattern shadowed by an earlier one (the admin's own login, under the project's) is requested all
        # the same: its URL is the earlier pattern's, which is what a visitor reaches.
        if (resolved.view_name, path) not in urls:
            urls.append((resolved.view_name, path))
    return urls, unbuilt


def _refused(response, path) -> bool:
    """The way to the set-up: a redirect for a page, the API's JSON 403 for the API."""
    if path.startswith("/api/"):
        return response.status_code == 403 and json.loads(response.content) == {"error": {
            "status": 403, "code": "permission_denied", "message": str(API_REFUSAL)}}
    return response.status_code == 302 and (response["Location"] == SETUP or response["Location"].startswith(f"{SETUP}?next="))


@pytest.mark.parametrize("role", ["staff", "officer", "reviewer"])
def test_every_url_sends_a_confidential_role_without_two_factor_to_its_set_up(client, world, role):
    urls, unbuilt = _urls(_values(world))
    assert unbuilt == []
    assert len(urls) >= AT_LEAST
    user = world[role]
    offenders = []
    for name, path in urls:
        if name in ALLOWED_WITHOUT_MFA:
            continue  # signing out and setting two-factor up: their own tests below
        for method in ("get", "post"):
            client.force_login(user)
            response = getattr(client, method)(path)
            if not _refused(response, path):
                offenders.append(f"{method.upper()} {path} ({name}): {response.status_code}")
    assert offenders == []


def test_the_walk_covers_the_pages_the_probe_read(world):
    urls, _unbuilt = _urls(_values(world))
    names = {name for name, _path in urls}
    assert {"proposals:detail", "proposals:letter", "proposals:receipt", "evaluation:summary",
            "funding:award", "funding:award_letter", "funding:report", "funding:report_pdf",
            "admin:index", "api:proposal-list"} <= names


@pytest.mark.parametrize(("role", "page"), [
    ("staff", lambda w: reverse("proposals:detail", args=[w["proposal"].pk])),
    ("staff", lambda w: reverse("evaluation:summary", args=[w["proposal"].pk])),
    ("officer", lambda w: reverse("funding:award", args=[w["award"].pk])),
    ("officer", lambda w: reverse("panel:proposal", args=[w["panel"].pk, w["proposal"].pk])),
    ("reviewer", lambda w: reverse("reviewer:assignments")),
])
def test_with_two_factor_the_same_people_reach_their_pages(client, world, role, page):
    user = world[role]
    activate_totp(user)
    client.force_login(user)
    response = client.get(page(world))
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["staff", "officer", "reviewer"])
def test_without_two_factor_the_set_up_and_the_sign_out_stay_open(client, world, role):
    """Long after the sign-in allauth asks for the password again before the activation: that page is open too."""
    client.force_login(world[role])  # no recent authentication recorded, as hours after signing in
    response = client.get(reverse("mfa_activate_totp"), follow=True)
    assert response.redirect_chain == [("/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F", 302)]
    assert response.status_code == 200
    response = client.post(response.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    assert response.redirect_chain == [(SETUP, 302)]
    assert response.status_code == 200
    assert b'name="code"' in response.content
    assert client.get(reverse("javascript-catalog")).status_code == 200
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_redirect_says_why_and_where_it_returns(client, world):
    client.force_login(world["staff"])
    url = reverse("proposals:detail", args=[world["proposal"].pk]) + "?tab=letters&x=1"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fproposals%2F{world['proposal'].pk}%2F%3Ftab%3Dletters%26x%3D1"
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Set up two-factor authentication first: reviewers, officers and staff handle confidential proposals."]


def test_an_htmx_request_is_sent_to_the_set_up_with_hx_redirect(client, world):
    client.force_login(world["reviewer"])
    url = reverse("reviewer:review_autosave", args=[world["assignment"].pk])
    page = f"/review/{world['assignment'].pk}/review/"
    response = client.post(url, {}, headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"})
    assert response.status_code == 200
    # Back to the page the fragment was on, not to the fragment's address.
    assert response["HX-Redirect"] == f"{SETUP}?next=%2Freview%2F{world['assignment'].pk}%2Freview%2F"
    assert response.content == b""


def test_a_form_posted_without_two_factor_comes_back_to_no_page(client, world):
    client.force_login(world["staff"])
    response = client.post(reverse("proposals:detail", args=[world["proposal"].pk]))
    assert response["Location"] == SETUP
    assert CONTINUE_SESSION_KEY not in client.session


def test_once_set_up_the_page_asked_for_is_offered_once(client, world):
    staff, proposal_url = world["staff"], reverse("proposals:detail", args=[world["proposal"].pk])
    client.force_login(staff)
    # allauth shows the codes only after the password was typed again, as it is just before an activation.
    assert client.post(reverse("account_reauthenticate"), {"password": PASSWORD}).status_code == 302
    client.get("/admin/")
    client.get(proposal_url + "?tab=letters")
    activate_totp(staff)
    RecoveryCodes.activate(staff)  # as allauth does at the first activation
    response = client.get(reverse("mfa_view_recovery_codes"))
    page = response.content.decode()
    assert response.status_code == 200, response.get("Location")
    assert f'href="{proposal_url}?tab=letters"' in page and "Continue to the page you asked for" in page
    assert "Continue to the page you asked for" not in client.get(reverse("mfa_index")).content.decode()


def test_the_way_back_is_offered_only_once_two_factor_is_set_up(client, world):
    client.force_login(world["staff"])
    client.get(reverse("proposals:detail", args=[world["proposal"].pk]))
    assert "Continue to the page you asked for" not in client.get(reverse("mfa_index")).content.decode()
    assert CONTINUE_SESSION_KEY in client.session


def test_a_link_from_elsewhere_is_never_offered_as_the_way_back(client, world):
    client.force_login(world["staff"])
    client.get("/admin/", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"})
    assert CONTINUE_SESSION_KEY not in client.session


def test_the_api_refuses_a_session_as_it_refuses_a_token(client, world):
    """One answer for both ways in: the session is refused by the middleware, the token by the permission class
    (a token authenticates inside DRF)."""
    staff = world["staff"]
    client.force_login(staff)
    by_session = client.get("/api/v1/proposals/")
    by_token = client_for(staff).get("/api/v1/proposals/")
    assert (by_session.status_code, by_token.status_code) == (403, 403)
    assert json.loads(by_session.content) == json.loads(by_token.content) == {"error": {
        "status": 403, "code": "permission_denied", "message": str(API_REFUSAL)}}


def test_a_reviewer_with_a_token_reads_the_proposals_api_only_with_two_factor(world):
    reviewer = world["reviewer"]
    script = client_for(reviewer)
    assert script.get("/api/v1/proposals/").status_code == 403
    activate_totp(reviewer)
    assert script.get("/api/v1/proposals/").status_code == 200


# --- The people two-factor is not asked of -----------------------------------------------------------------


def test_a_pi_and_a_unit_manager_without_two_factor_keep_working(client, db):
    award = award_factory(unit=UnitFactory())
    pi = award.proposal.pi
    client.force_login(pi)
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("proposals:detail", args=[award.proposal.pk])).status_code == 200
    assert client.get(reverse("funding:award", args=[award.pk])).status_code == 200
    assert client.get("/api/v1/proposals/").status_code == 200
    manager = make_unit_manager(award)
    client.force_login(manager)
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("funding:unit_award", args=[award.pk])).status_code == 200


def test_signing_in_without_two_factor_leads_to_its_set_up(client, world):
    """The officer's landing page sends them to the set-up, where allauth confirms the password first."""
    response = client.post(reverse("account_login"), {"login": world["officer"].email, "password": PASSWORD},
                           follow=True)
    assert response.redirect_chain[:2] == [("/panels/", 302), (f"{SETUP}?next=%2Fpanels%2F", 302)]
    assert response.status_code == 200


def test_the_roles_and_two_factor_are_one_query(django_assert_num_queries, world):
    from iea.mfa import has_mfa, needs_mfa  # noqa: PLC0415 -- next to what it measures

    user = type(world["staff"]).objects.get(pk=world["staff"].pk)
    with django_assert_num_queries(1):
        assert (needs_mfa(user), has_mfa(user), needs_mfa(user), has_mfa(user)) == (True, False, True, False)


