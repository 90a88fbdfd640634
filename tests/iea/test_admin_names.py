"""The admin speaks the platform's words: its name (not "Django administration"), every app and model named in
French and in English (allauth's "MFA", "authenticator" too), and page titles that read right in French
before a vowel ("Modification : appel", never "Modification de appel")."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from iea.audit.domain import audit_record
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "header", "index"), [
    ("en", "IEA · CNRS administration", "Directorate&#x27;s back office"),
    ("fr", "Administration IEA · CNRS", "Gestion de la plateforme par la direction"),
])
def test_admin_index_bears_the_platforms_name(client, staff, language, header, index):
    client.force_login(staff)
    body = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<a href="{reverse("admin:index")}">{header}</a>' in body
    assert f"<title>{index} | {header}</title>" in body
    assert "Django" not in body
    assert "MFA" not in body and "Authenticator" not in body and "Social Accounts" not in body


def _names(language: str) -> dict[str, tuple[str, str, str]]:
    with translation.override(language):
        return {model._meta.label: (str(apps.get_app_config(model._meta.app_label).verbose_name),
                                    str(model._meta.verbose_name), str(model._meta.verbose_name_plural))
                for model in admin.site._registry}


def test_every_app_and_model_of_the_admin_is_named_in_both_languages():
    english, french = _names("en"), _names("fr")
    # Words that are the same in both languages.
    same = {"Notifications", "notification", "notifications", "tranche", "tranches", "Financement", "publication",
                "publications", "conversation", "conversations"}
    untranslated = [(label, en, fr) for label in english for en, fr in zip(english[label], french[label], strict=True)
                    if en == fr and en not in same]
    assert untranslated == []
    assert english["mfa.Authenticator"] == ("Two-factor authentication", "second factor", "second factors")
    assert french["mfa.Authenticator"] == ("Authentification à deux facteurs", "second facteur", "seconds facteurs")
    assert french["account.EmailAddress"] == ("Adresses e-mail des comptes", "adresse e-mail", "adresses e-mail")


def test_library_names_ask_for_no_migration():
    """The names of allauth's models are set on ``_meta``, not in their Meta: nothing for makemigrations."""
    from django.apps import apps as global_apps
    from django.db.migrations.state import ModelState

    options = ModelState.from_model(global_apps.get_model("mfa", "Authenticator")).options
    assert "verbose_name" not in options


@pytest.mark.parametrize(("language", "title"), [("fr", "Consultation\u00a0: entrée du journal d"),
                                                 ("en", "View audit entry")])
def test_change_page_title_reads_right_before_a_vowel(client, staff, language, title):
    entry = audit_record(actor=staff, target=CallFactory(), action="call.open", now=staff.date_joined)
    client.force_login(staff)
    body = client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]),
                      HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{title}" in body
    assert " de entrée" not in body and " de appel" not in body
    # The detail shows the action's label, the object as a link, no content type or object id.
    assert ("Appel ouvert" if language == "fr" else "Call opened") in body
    assert "call.open" not in body


@pytest.mark.parametrize(("language", "title"), [("fr", "Modification\u00a0: appel"), ("en", "Change call")])
def test_call_change_page_title(client, staff, language, title):
    call = CallFactory()
    client.force_login(staff)
    body = client.get(reverse("admin:calls_call_change", args=[call.pk]), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{title}</h1>" in body
