"""The admin as a screen reader and a French reader meet it: every control has a name (inline cells, split
date-times, permissions), changelists scroll inside a labelled region, long-text inlines are stacked, every
relation is named in the reader's language, a mail's own words carry their language, and the social-account
tables show only when single sign-on is configured."""

import re

import pytest
from allauth.socialaccount.admin import SocialAppAdmin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.test import RequestFactory
from django.utils import translation
from django.utils.functional import Promise
from lxml import html

from iea.accounts.admin import PermissionChoiceField, adopt_library_admins
from iea.admin_mixins import LabelledWidgetsMixin
from iea.notifications.models import Notification
from tests.factories import UnitFactory

from .test_notifications_admin import change_url, on_record

pytestmark = pytest.mark.django_db

OUR_APPS = ("calls", "proposals", "reviews", "funding", "iea")
CONTROLS = ".//input[not(@type='hidden')] | .//select | .//textarea"


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _controls(fragment: str) -> list:
    return html.fragment_fromstring(f"<div>{fragment}</div>").xpath(CONTROLS)


def test_every_admin_names_its_controls():
    assert [model._meta.label for model, model_admin in admin.site._registry.items()
            if not isinstance(model_admin, LabelledWidgetsMixin)] == []


def test_every_inline_row_names_each_control_with_its_row(staff):
    request = _request(staff)
    unnamed, checked = [], 0
    with translation.override("en"):
        for model, model_admin in admin.site._registry.items():
            for formset_class, inline in model_admin.get_formsets_with_inlines(request, None):
                formset = formset_class(instance=model(), prefix="rows")
                for form, suffix in ((formset._construct_form(0), ", row 1"), (formset.empty_form, "")):
                    for field in form.visible_fields():
                        checked += 1
                        for control in _controls(str(field)):
                            label = control.get("aria-label") or ""
                            if not label.startswith(str(field.label)) or suffix not in label:
                                unnamed.append(f"{type(inline).__name__}.{field.name}: {label!r}")
    assert checked > 10  # the inlines were found
    assert unnamed == []


def test_a_split_date_time_names_its_date_and_its_time(staff):
    form = admin.site._registry[apps.get_model("calls", "Call")].get_form(_request(staff), None)()
    with translation.override("en"):
        controls = _controls(str(form["opens_at"]))
    assert [(c.get("id"), c.get("aria-label")) for c in controls] == [
        ("id_opens_at_0", "Opens at (date)"), ("id_opens_at_1", "Opens at (time)")]


def test_every_split_date_time_of_every_admin_form_is_named(staff):
    request = _request(staff)
    unnamed = []
    for model, model_admin in admin.site._registry.items():
        form = model_admin.get_form(request, None)()
        for field in form.visible_fields():
            if isinstance(getattr(field.field.widget, "widget", field.field.widget), forms.MultiWidget):
                unnamed += [f"{model._meta.label}.{field.name}" for c in _controls(str(field)) if not c.get("aria-label")]
    assert unnamed == []


def test_no_editable_tabular_inline_has_a_text_area(staff):
    """A tabular row of text areas is wider than any window: long texts go in a stacked inline."""
    request = _request(staff)
    wide = [f"{type(inline).__name__}.{name}"
            for model_admin in admin.site._registry.values()
            for formset_class, inline in model_admin.get_formsets_with_inlines(request, None)
            if isinstance(inline, admin.TabularInline)
            for name, field in formset_class.form.base_fields.items() if isinstance(field.widget, forms.Textarea)]
    assert wide == []


def test_a_changelist_scrolls_inside_a_labelled_region(client, staff):
    UnitFactory()
    client.force_login(staff)
    with translation.override("en"):
        page = html.fromstring(client.get("/admin/calls/unit/", HTTP_ACCEPT_LANGUAGE="en").content)
    (results,) = page.xpath("//div[contains(@class, 'results')]")
    assert dict(results.attrib) == {"class": "results table-wrap", "role": "region", "aria-label": "Units",
                                    "tabindex": "0"}
    assert results.xpath("./table/@id") == ["result_list"]


def test_ten_institutes_are_checkboxes_not_a_search(staff):
    form = admin.site._registry[apps.get_model("calls", "Unit")].get_form(_request(staff), None)()
    assert type(form.fields["secondary_institutes"].widget.widget) is forms.CheckboxSelectMultiple


def test_every_relation_has_a_translatable_name():
    """Without one, Django names the field after its attribute: "Proposal" on the French admin."""
    unnamed = [f"{model._meta.label}.{field.name}"
               for model in apps.get_models() if model.__module__.split(".")[0] in OUR_APPS
               for field in model._meta.get_fields()
               if isinstance(field, models.ForeignKey | models.ManyToManyField) and field.concrete
               and not isinstance(field.verbose_name, Promise)]
    assert unnamed == []


def test_permissions_are_named_in_the_readers_language():
    field = PermissionChoiceField(queryset=Permission.objects.select_related("content_type"))
    permission = Permission.objects.get(codename="add_conflict")
    with translation.override("fr"):
        assert field.label_from_instance(permission) == "Évaluation par les pairs | Conflit d'intérêts | Peut ajouter"
    with translation.override("en"):
        assert field.label_from_instance(permission) == "Peer review | Conflict of interest | Can add"


@pytest.mark.parametrize("url", ["/admin/auth/group/add/", "/admin/accounts/user/{staff}/change/"])
def test_the_permission_lists_speak_french(client, staff, url):
    client.force_login(staff)
    content = client.get(url.format(staff=staff.pk), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Peut ajouter" in content
    assert "Can add" not in content


def test_a_mails_own_words_carry_its_language(client, staff, draft):
    row = on_record("withdrawn", draft, language="en", subject="Proposal withdrawn", body="Your proposal was withdrawn.")
    client.force_login(staff)
    page = html.fromstring(client.get(change_url(row), HTTP_ACCEPT_LANGUAGE="fr").content)
    assert page.xpath("//html/@lang") == ["fr"]
    # The language switch names each language in itself ("English"): not the mail's words.
    assert page.xpath("//*[@lang='en'][not(ancestor::form[contains(@class, 'lang-switch')])]/text()") == [
        "Proposal withdrawn", "Your proposal was withdrawn."]
    assert Notification.objects.count() == 1


def test_the_social_account_tables_show_only_with_single_sign_on():
    assert [admin.site.is_registered(model) for model in (SocialApp, SocialToken, SocialAccount)] == [False] * 3
    site = admin.AdminSite(name="sso-test")
    site.register(SocialApp, SocialAppAdmin)
    site.register(Group)
    adopt_library_admins(site, providers={"openid_connect": {"APPS": [{"provider_id": "oidc"}]}})
    assert site.is_registered(SocialApp)
    assert isinstance(site._registry[SocialApp], SocialAppAdmin) and isinstance(site._registry[SocialApp],
                                                                                 LabelledWidgetsMixin)
    adopt_library_admins(site, providers={})
    assert (site.is_registered(SocialApp), site.is_registered(Group)) == (False, True)


def test_the_breadcrumbs_are_underlined():
    from django.conf import settings

    css = (settings.BASE_DIR / "static" / "css" / "admin.css").read_text()
    assert re.search(r"\.breadcrumbs a \{\s*text-decoration: underline;", css)


def test_a_tabular_inline_scrolls_inside_a_labelled_region(client, staff, call):
    client.force_login(staff)
    page = html.fromstring(client.get(f"/admin/calls/call/{call.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content)
    (group,) = page.xpath("//div[@id='deadline_changes-group']")
    assert {key: group.get(key) for key in ("role", "aria-label", "tabindex")} == {
        "role": "region", "aria-label": "Deadline changes", "tabindex": "0"}
    assert "table-wrap" in group.get("class").split()
