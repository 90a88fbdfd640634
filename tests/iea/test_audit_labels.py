"""The audit trail in words: every action code the code base records has a label in French and English, every
state it records too, and the admin shows them with the object as a link (not codes, content types and ids)."""

import ast
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from calls.domain import TRANSITIONS
from funding.models import TrancheState
from iea.audit.actions import ACTIONS, action_label, state_label
from iea.audit.domain import audit_record
from tests.factories import CallFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ["iea", "calls", "proposals", "reviews", "funding"]
# The one code built from a variable: calls.domain._transition records ``f"call.{action}"``.
BUILT = {f"call.{action}" for action in TRANSITIONS}


def _codes_in(expression: ast.expr, where: str) -> set[str]:
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return {expression.value}
    if isinstance(expression, ast.IfExp):
        return _codes_in(expression.body, where) | _codes_in(expression.orelse, where)
    if isinstance(expression, ast.JoinedStr) and where.startswith("calls/domain.py:"):
        return BUILT
    if isinstance(expression, ast.Name) and expression.id == "action":
        return set()  # passed on: the callers' constants are collected where they pass them
    raise AssertionError(f"{where}: an audit action that is not a literal code ({ast.unparse(expression)}); "
                         "write the code out so that it gets a label")


def recorded_codes() -> set[str]:
    """Every ``action=`` of the code base that names an audit action ("<thing>.<verb>"): ``audit_record``, or
    ``audit_entry`` for the entries written many at once."""
    codes = set()
    for name in APPS:
        for path in sorted((ROOT / name).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                callee = ast.unparse(node.func)
                for keyword in node.keywords:
                    if keyword.arg != "action":
                        continue
                    if callee.endswith(("audit_record", "audit_entry")) or callee == "_refuse":
                        codes |= _codes_in(keyword.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return codes


def test_the_scan_finds_the_codes():
    codes = recorded_codes()
    assert {"proposal.decision_mail", "call.close", "privacy.erasure_refuse_retention",
            "account.announcements_unsubscribe", "panel.update"} <= codes
    assert len(codes) >= 60


def test_every_recorded_action_has_a_label_and_every_label_an_action():
    codes = recorded_codes()
    assert sorted(codes - set(ACTIONS)) == [], "actions without a label: add them to <app>/audit_actions.py"
    assert sorted(set(ACTIONS) - codes) == [], "labels of actions nothing records"


@pytest.mark.parametrize("code", sorted(ACTIONS))
def test_each_action_reads_in_french_and_in_english(code):
    with translation.override("en"):
        english = action_label(code)
    with translation.override("fr"):
        french = action_label(code)
    assert english != code and french != code
    assert french != english, f"{code!r} is not translated into French"


def test_states_read_in_words():
    from django.contrib.auth import get_user_model

    from calls.models import Call, CallState
    from funding.models import Tranche

    with translation.override("fr"):
        assert state_label(Tranche, TrancheState.PLANNED) == "Prévue"
        assert state_label(Call, CallState.CLOSED) == str(CallState.CLOSED.label)
        assert state_label(get_user_model(), "subscribed") == "abonné·e"
        assert state_label(Call, "") == ""
    with translation.override("en"):
        assert state_label(get_user_model(), "unsubscribed") == "not subscribed"
        assert state_label(Call, "no-such-state") == "no-such-state"


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "words", "codes"), [
    ("en", ["Call closed", "Open → Closed", "Call · "], [">call.close<", ">open<", "Content type", "Object id"]),
    ("fr", ["Appel clôturé", "Ouvert → Clôturé", "Appel · "], [">call.close<", ">open<", "Type de contenu"]),
])
def test_admin_shows_labels_and_a_link(client, staff, language, words, codes):
    call = CallFactory()
    audit_record(actor=staff, target=call, action="call.close", now=timezone.now(), from_state="open",
                 to_state="closed")
    client.force_login(staff)
    body = client.get(reverse("admin:audit_auditentry_changelist"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for word in words:
        assert word in body
    for code in codes:
        assert code not in body
    assert f'href="{reverse("admin:calls_call_change", args=[call.pk])}"' in body
