"""What people read is words in their language, never a code or an untranslated label: the platform's brand
line at the top of mail and PDFs, "universal time" rather than "(UTC)", an erased account as "erased person",
the platform acting on its own by a label ("privacy_purge" is a command's name), and the admin's buttons
("Ajouter : appel", never "Ajouter appel")."""

from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from iea.accounts.models import ERASED_NAME
from iea.audit.domain import audit_record
from tests.factories import CallFactory, UserFactory

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_no_template_shows_the_old_header_or_a_bare_utc():
    found = [(path.relative_to(TEMPLATES).as_posix(), text) for path in sorted(TEMPLATES.rglob("*"))
             if path.suffix in (".html", ".txt")
             for text in ("International Emerging Actions —", "— International Emerging Actions", "(UTC)")
             if text in path.read_text(encoding="utf-8")]
    assert found == []


@pytest.mark.parametrize(("language", "line"), [
    ("fr", "CNRS · Actions internationales émergentes (IEA)"),
    ("en", "CNRS · International Emerging Actions (IEA)"),
])
def test_mail_header_is_the_brand_line_in_the_language_of_the_mail(language, line):
    with translation.override(language):
        html = render_to_string("mail/_base.html", {"organisation": "CNRS"})
    assert f'<p style="color:#0b3d91; font-weight:bold;">{line}</p>' in html


@pytest.mark.django_db
def test_an_erased_account_reads_erased_person():
    person = UserFactory(full_name=ERASED_NAME, email="erased-7@invalid")
    with translation.override("fr"):
        assert (str(person), person.get_full_name(), person.get_short_name()) == ("personne effacée",) * 3
    with translation.override("en"):
        assert person.display_name == "erased person"
    assert UserFactory(full_name="Ada Lovelace").get_short_name() == "Ada"


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "label"), [("fr", "purge automatique (durées de conservation)"),
                                                 ("en", "automatic purge (retention periods)")])
def test_audit_admin_names_the_platform_acting_on_its_own(client, staff, language, label):
    audit_record(actor=None, actor_label="privacy_purge", target=CallFactory(), action="call.close",
                 now=timezone.now())
    client.force_login(staff)
    body = client.get(reverse("admin:audit_auditentry_changelist"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<td class="field-acting_as">{label}</td>' in body
    assert "privacy_purge" not in body


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "button"), [("fr", "Ajouter\u00a0: appel"), ("en", "Add call")])
def test_admin_add_button_reads_right(client, staff, language, button):
    client.force_login(staff)
    body = client.get(reverse("admin:calls_call_changelist"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert button in body
    assert "Ajouter appel" not in body
