"""Where the crawl starts: every GET route of the URL resolver, filled with real object ids of the demo.

Run against the demo's database (``python -m tests.crawl.targets OUT.json`` with its ``DATABASE_URL``); it writes
one JSON object: the routes, each with the URLs to try (a few per route, in different states), the partner's
invitation links and the co-signature links, and the sign-in of each demo role. Which role may see which URL
is not decided here: the crawler asks the server, as each role, and keeps the pages it answers with.

Every route of the resolver is either filled here or listed in ``NOT_PAGES`` with the reason: a new route
that is neither stops the crawl (exit 2), so its test fails.
"""

import json
import sys
from collections.abc import Callable, Iterator

from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Routes that are not pages a person opens with GET, or that the demo cannot reach (no SSO configured).
NOT_PAGES = {
    "conversation:close": "POST only",
    "conversation:reopen": "POST only",
    "proposals:autosave": "POST only (htmx autosave)",
    "proposals:team_add": "POST only",
    "proposals:team_remove": "POST only",
    "proposals:letter_upload": "POST only",
    "proposals:invite": "POST only",
    "proposals:submit": "POST only",
    "proposals:withdraw": "POST only",
    "proposals:coapplicant_invite": "POST only (the proposal page's invitation form)",
    "proposals:coapplicant_revoke": "POST only (remove, cancel or leave buttons)",
    "proposals:create": "POST only (the call page's button)",
    "proposals:restart": "POST only (the button on My proposals, the proposal's page and the call's page)",
    "proposals:information_answer": "POST only (the PI's *Send the answer* under a request for information)",
    "reviewer:accept": "POST only",
    "reviewer:decline": "POST only",
    "reviewer:declare_conflict": "POST only",
    "reviewer:review_autosave": "POST only",
    "reviewer:download_all": "a ZIP download (its page when there is nothing: tests/reviews/test_offline_download.py)",
    "panel:rank": "POST only",
    "panel:assign": "POST only",
    "panel:assign_many": "POST only (its confirmation is the answer to the assignments page's form)",
    "panel:auto_assign": "POST only",
    "panel:auto_assign_state": "an htmx fragment (the automatic assignment's progress); without htmx, a redirect",
    "panel:affinities_compute": "POST only",
    "panel:affinity_state": "an htmx fragment (the affinities' state while computed); without htmx, a redirect",
    "panel:conflict": "POST only",
    "panel:reviewer_add": "POST only",
    "panel:reviewer_deactivate": "POST only",
    "panel:bidding": "POST only",
    "panel:suggestion_accept": "POST only",
    "panel:suggestion_dismiss": "POST only",
    "panel:reviewer_identifiers": "POST only",
    "panel:reviewer_import": "POST only (a file upload)",
    "panel:reviewer_fetch": "POST only (off in the demo: PUBLICATION_IMPORT_ONLINE)",
    "panel:default_cap": "POST only",
    "panel:reviewer_cap": "POST only",
    "reviewer:profile_identifiers": "POST only",
    "reviewer:profile_expertise": "POST only",
    "reviewer:profile_import": "POST only (a file upload)",
    "reviewer:profile_fetch": "POST only (off in the demo: PUBLICATION_IMPORT_ONLINE)",
    "reviewer:profile_publication_delete": "POST only",
    "reviewer:availability_delete": "POST only",
    "funding:spending_add": "POST only",
    "funding:tranche_received": "POST only",
    "funding:award_accept": "POST only",
    "funding:spending_delete": "POST only",
    "funding:amendment_withdraw": "POST only",
    "funding:amendment_opinion": "POST only",
    "calendar_reset": "POST only",
    "api_token_revoke": "POST only",
    "set_language": "POST only (the language switch)",
    "privacy:erasure": "POST only",
    "account_logout": "signs out",
    "admin:logout": "signs out",
    "javascript-catalog": "a script",
    "admin:jsi18n": "a script",
    "admin:autocomplete": "JSON for the admin's selects",
    "admin:view_on_site": "a redirect",
    "api:schema": "the OpenAPI schema (YAML)",
    "account_confirm_email": "needs a mailed key",
    "account_reset_password_from_key": "needs a mailed key",
    "account_confirm_login_code": "needs a mailed code",
    "mfa_download_recovery_codes": "a text download",
    "mfa_deactivate_totp": "reached from the two-factor page",
    "mfa_reauthenticate": "reached from a sensitive action",
    "account_reauthenticate": "reached from a sensitive action",
    "saml_acs": "no SAML configured in the demo",
    "saml_finish_acs": "no SAML configured in the demo",
    "saml_sls": "no SAML configured in the demo",
    "saml_metadata": "no SAML configured in the demo",
    "saml_login": "no SAML configured in the demo",
    "openid_connect_login": "no OpenID Connect configured in the demo",
    "openid_connect_callback": "no OpenID Connect configured in the demo",
    "socialaccount_signup": "reached from an SSO sign-in",
    "admin_login": "the admin's sign-in redirects to the site's",
    "admin:login": "the admin's sign-in redirects to the site's",
    "admin:password_change": "passwords change on the site's page",
    "admin_password_change": "redirects to the site's page",
}

MAX_PER_ROUTE = 3
# The routes with arguments that the functions below fill from the demo's objects.
FILLED = {
    "proposals:detail", "proposals:edit", "evaluation:summary", "proposals:letter", "proposals:receipt",
    "proposals:partner", "proposals:partner_letter", "proposals:coapplicant_accept", "reviewer:invitation", "reviewer:proposal", "reviewer:letter", "reviewer:review",
    "panel:table", "panel:export", "panel:proposals_export", "panel:reviews_export", "panel:assignments", "panel:pool",
    "panel:reviewer_statistics", "panel:proposal", "panel:reviewer_profile", "reviewer:bids", "funding:award",
    "funding:award_letter", "funding:unit_award", "funding:report", "funding:report_pdf", "funding:report_review",
    "funding:cosign", "funding:award_decline", "funding:spending_edit", "funding:amendment_new",
    "funding:award_letter_version", "admin:funding_amendment_decide", "conversation:thread", "conversation:attachment",
    "calls:detail", "call_figures", "calendar_feed", "announcements_unsubscribe",
}


def routes() -> Iterator[tuple[str, str]]:
    """(qualified name, pattern) of every named route, admin and API included."""

    def walk(patterns, prefix: str, namespace: str):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern) and entry.name:
                yield f"{namespace}{entry.name}", prefix + str(entry.pattern)

    yield from walk(get_resolver().url_patterns, "", "")


def _url(name: str, **kwargs) -> str:
    return reverse(name, kwargs=kwargs)


def _by_state(objects, state: Callable = lambda o: o.state) -> list:
    """One object per state first, then the others: the first URLs tried show every state."""
    seen, first, rest = set(), [], []
    for obj in objects:
        (rest if state(obj) in seen else first).append(obj)
        seen.add(state(obj))
    return first + rest


def _proposal_urls() -> dict[str, list[str]]:
    from proposals.models import Proposal

    proposals = _by_state(Proposal.objects.order_by("-call__year", "pk").prefetch_related("letters", "versions"))
    urls: dict[str, list[str]] = {}
    for proposal in proposals:
        urls.setdefault("proposals:detail", []).append(_url("proposals:detail", pk=proposal.pk))
        urls.setdefault("proposals:edit", []).append(_url("proposals:edit", pk=proposal.pk))
        urls.setdefault("evaluation:summary", []).append(_url("evaluation:summary", pk=proposal.pk))
        for letter in proposal.letters.all()[:1]:
            urls.setdefault("proposals:letter", []).append(_url("proposals:letter", pk=proposal.pk, letter_id=letter.pk))
        for version in proposal.versions.all()[:1]:
            urls.setdefault("proposals:receipt", []).append(
                _url("proposals:receipt", pk=proposal.pk, number=version.number))
    return urls


def _conversation_urls() -> dict[str, list[str]]:
    """The demo's conversations (#21): each page, and each message's PDF."""
    from proposals.models import Message, MessageThread

    urls: dict[str, list[str]] = {}
    for thread in MessageThread.objects.order_by("pk"):
        urls.setdefault("conversation:thread", []).append(
            _url("conversation:thread", pk=thread.proposal_id, topic=thread.topic))
    for message in Message.objects.exclude(attachment="").select_related("thread").order_by("pk"):
        urls.setdefault("conversation:attachment", []).append(_url(
            "conversation:attachment", pk=message.thread.proposal_id, topic=message.thread.topic, message_id=message.pk))
    return urls


def _partner_urls(name: str = "proposals:partner") -> list[str]:
    from proposals.domain.partner import invitation_token
    from proposals.models import PartnerInvitation

    invitations = _by_state(PartnerInvitation.objects.select_related("proposal").order_by("-pk"),
                            state=lambda i: i.proposal.state)
    return [_url(name, token=invitation_token(i)) for i in invitations]


def _coapplicant_urls() -> list[str]:
    """The co-applicants' invitation links (#21): the pending one opens for its invited account, the others
    say which address was invited."""
    from proposals.models import CoApplicant

    return [_url("proposals:coapplicant_accept", nonce=c.nonce) for c in CoApplicant.objects.order_by("accepted_at", "-pk")]


def _cosign_urls() -> list[str]:
    from funding.domain.reports import cosign_token
    from funding.models import CosignInvitation

    return [_url("funding:cosign", token=cosign_token(i)) for i in CosignInvitation.objects.order_by("-pk")]


def _review_urls() -> dict[str, list[str]]:
    from reviews.domain.coauthors import DISMISSIBLE_CAUSES
    from reviews.models import Assignment, Conflict, Panel, Reviewer

    urls: dict[str, list[str]] = {}
    for assignment in _by_state(Assignment.objects.order_by("-panel__call__year", "pk")):
        for name in ("invitation", "proposal", "letter", "review"):
            urls.setdefault(f"reviewer:{name}", []).append(_url(f"reviewer:{name}", pk=assignment.pk))
    for panel in Panel.objects.order_by("-call__year", "pk").select_related("call"):
        for name in ("table", "export", "proposals_export", "reviews_export", "assignments", "pool", "reviewer_statistics"):
            urls.setdefault(f"panel:{name}", []).append(_url(f"panel:{name}", panel_id=panel.pk))
        for proposal_id in panel.assignments.values_list("proposal_id", flat=True).distinct()[:2]:
            urls.setdefault("panel:proposal", []).append(
                _url("panel:proposal", panel_id=panel.pk, proposal_id=proposal_id))
        # A member of the pool with publications first (their profile as the officer sees it), and the bids page.
        for reviewer_id in (Reviewer.objects.filter(institute_id=panel.institute_id, active=True)
                            .order_by("-user__publications__year", "pk").values_list("pk", flat=True).distinct()[:2]):
            urls.setdefault("panel:reviewer_profile", []).append(
                _url("panel:reviewer_profile", panel_id=panel.pk, reviewer_id=reviewer_id))
        urls.setdefault("reviewer:bids", []).append(_url("reviewer:bids", panel_id=panel.pk))
    # The confirmation of "not the same person", for the co-author matches on a name the demo has (if any).
    urls.setdefault("panel:conflict_dismiss", [])
    for conflict in Conflict.objects.filter(cause__in=DISMISSIBLE_CAUSES).select_related("proposal", "reviewer")[:2]:
        panel = Panel.objects.filter(call_id=conflict.proposal.call_id, institute_id=conflict.reviewer.institute_id).first()
        if panel is not None:
            urls["panel:conflict_dismiss"].append(
                _url("panel:conflict_dismiss", panel_id=panel.pk, conflict_id=conflict.pk))
    assert Reviewer.objects.exists(), "the demo has reviewers"
    return urls


def _funding_urls() -> dict[str, list[str]]:
    from funding.models import Amendment, AmendmentKind, Award, AwardVersion, Report, SpendingLine

    urls: dict[str, list[str]] = {}
    for award in _by_state(Award.objects.order_by("pk")):
        for name in ("award", "award_letter", "unit_award", "award_decline"):
            urls.setdefault(f"funding:{name}", []).append(_url(f"funding:{name}", pk=award.pk))
    for report in _by_state(Report.objects.order_by("pk")):
        for name in ("report", "report_pdf"):
            urls.setdefault(f"funding:{name}", []).append(_url(f"funding:{name}", pk=report.award_id, period=report.period))
        urls.setdefault("funding:report_review", []).append(_url("funding:report_review", report_id=report.pk))
    for line_id in SpendingLine.objects.order_by("pk").values_list("pk", flat=True)[:MAX_PER_ROUTE]:
        urls.setdefault("funding:spending_edit", []).append(_url("funding:spending_edit", line_id=line_id))
    award_id = Amendment.objects.order_by("pk").values_list("award_id", flat=True).first()
    urls["funding:amendment_new"] = [_url("funding:amendment_new", pk=award_id, kind=kind)
                                     for kind in AmendmentKind.values]
    urls["funding:award_letter_version"] = [
        _url("funding:award_letter_version", pk=v.award_id, number=v.number)
        for v in AwardVersion.objects.order_by("-number", "pk")[:MAX_PER_ROUTE]]
    urls["admin:funding_amendment_decide"] = [
        reverse("admin:funding_amendment_decide", args=[pk, verb])
        for pk in Amendment.objects.filter(state="requested").values_list("pk", flat=True)[:1]
        for verb in ("approve", "refuse")]
    return urls


def _call_urls() -> dict[str, list[str]]:
    from calls.models import Call

    calls = _by_state(Call.objects.order_by("-year"))
    return {"calls:detail": [_url("calls:detail", year=c.year) for c in calls],
            # Public or not (a 404 to visitors, a preview to staff), each call's figures.
            "call_figures": [_url("call_figures", year=c.year) for c in calls]}


def _account_urls() -> dict[str, list[str]]:
    from iea.accounts.domain import announcements_token
    from iea.accounts.models import User

    users = User.objects.filter(email__endswith="@demo.iea.localhost").order_by("pk")
    return {
        "calendar_feed": [_url("calendar_feed", key=u.calendar_key) for u in users[:1]],
        "announcements_unsubscribe": [_url("announcements_unsubscribe", token=announcements_token(u)) for u in users[:1]],
    }


def _admin_urls() -> dict[str, list[str]]:
    """Each registered model's list, its add form and its first object's form; the custom pages come as links."""
    from django.contrib import admin

    urls: dict[str, list[str]] = {"admin:index": [reverse("admin:index")]}
    for model in admin.site._registry:
        meta = model._meta
        base = f"admin:{meta.app_label}_{meta.model_name}"
        urls.setdefault("admin:app_list", []).append(reverse("admin:app_list", kwargs={"app_label": meta.app_label}))
        urls[f"{base}_changelist"] = [reverse(f"{base}_changelist")]
        urls[f"{base}_add"] = [reverse(f"{base}_add")]
        first = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        if first is not None:
            urls[f"{base}_change"] = [reverse(f"{base}_change", args=[first])]
            urls[f"{base}_history"] = [reverse(f"{base}_history", args=[first])]
            urls[f"{base}_delete"] = [reverse(f"{base}_delete", args=[first])]
    urls["admin:app_list"] = sorted(set(urls["admin:app_list"]))
    # The statistics of every call, and of the latest call alone (the map, a call in progress).
    from calls.models import Call

    latest = Call.objects.order_by("-year").values_list("year", flat=True).first()
    urls["admin:statistics"] = [reverse("admin:statistics"),
                                *([f"{reverse('admin:statistics')}?call={latest}"] if latest else [])]
    urls["admin:reviewer_statistics"] = [reverse("admin:reviewer_statistics")]
    return urls


def seed_urls() -> dict[str, list[str]]:
    """Route name → the URLs to try for it (at most ``MAX_PER_ROUTE``, one per state first)."""
    urls: dict[str, list[str]] = {}
    for part in (_proposal_urls(), _conversation_urls(), _review_urls(), _funding_urls(), _call_urls(), _account_urls(), _admin_urls()):
        urls.update(part)
    urls["proposals:partner"] = _partner_urls()
    urls["proposals:partner_letter"] = _partner_urls("proposals:partner_letter")
    urls["funding:cosign"] = _cosign_urls()
    urls["proposals:coapplicant_accept"] = _coapplicant_urls()
    for name in FILLED:
        urls.setdefault(name, [])
    for name, pattern in routes():
        if name in urls or name in NOT_PAGES or name.startswith("admin:") or pattern.startswith("api/v1/"):
            continue
        try:
            urls[name] = [reverse(name)]
        except Exception:  # noqa: S112, BLE001 - a route with arguments: filled above or missing (the test says)
            continue
    # A route whose objects the demo lacks (no co-signature link before pi2 submits a report) keeps its key,
    # empty: it is known, only not visited.
    return {name: list(dict.fromkeys(found))[:MAX_PER_ROUTE] for name, found in urls.items()}


def missing_routes(urls: dict[str, list[str]]) -> list[str]:
    """Routes neither filled nor explained: a page the crawl would never see."""
    return sorted(name for name, pattern in routes()
                  if name not in urls and name not in NOT_PAGES
                  and not name.startswith("admin:") and not pattern.startswith("api/v1/"))


def roles() -> dict[str, dict]:
    """Each demo role's sign-in (``None`` for the visitors without an account) and its seed URLs' filter."""
    from iea.site.demo.management.commands._demo_data import PASSWORD, TOTP_ROLES, USERS

    signed_in = {key: {"email": email, "password": PASSWORD, "two_factor": key in TOTP_ROLES}
                 for key, email, *_ in USERS}
    return {"anonymous": None, **signed_in, "partner": None, "cosigner": None}


def cosign_prepare() -> None:
    """Submit pi2's year-1 report (the demo leaves it in draft for people to try), so that a co-signature link
    exists: the crawl's own throwaway demo only (``--with-cosign``)."""
    from django.utils import timezone

    from funding.domain.reports import report_submit
    from funding.models import Report, ReportPeriod, ReportState

    report = Report.objects.filter(state=ReportState.DRAFT, period=ReportPeriod.YEAR_1,
                                   award__proposal__pi__email="pi2@demo.iea.localhost").first()
    if report is not None:
        report_submit(report_id=report.pk, user=report.award.proposal.pi, now=timezone.now())


def targets() -> dict:
    urls = seed_urls()
    return {"urls": urls, "missing": missing_routes(urls), "roles": roles()}


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")
    django.setup()
    if "--with-cosign" in sys.argv:
        cosign_prepare()
    with open(sys.argv[1], "w") as out:  # not stdout: the console mail backend writes there
        json.dump(targets(), out)
