"""The back office's Content-Security-Policy: no ``'unsafe-inline'`` for styles, only the hash of the one inline
``<style>`` Django's admin writes (``admin/change_list.html``, on a list without actions), so any other inline
style or style attribute is refused by the browser (the crawl records every refusal)."""

import base64
import hashlib
import re

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _style_src(response) -> list[str]:
    policy = response["Content-Security-Policy"]
    [directive] = [part.strip() for part in policy.split(";") if part.strip().startswith("style-src")]
    return directive.split()[1:]


def test_no_admin_page_allows_every_inline_style(client):
    client.force_login(StaffFactory())
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    sources = _style_src(response)
    assert "'unsafe-inline'" not in sources
    assert sources[0] == "'self'" and all(source.startswith("'sha256-") for source in sources[1:])


def test_the_inline_style_of_a_list_without_action_bars_is_allowed_by_its_hash(client, monkeypatch):
    """No admin of ours turns the action bars off today; one that did would print Django's block."""
    from iea.audit.models import AuditEntry

    model_admin = admin.site._registry[AuditEntry]
    monkeypatch.setattr(model_admin, "actions_on_top", False)
    monkeypatch.setattr(model_admin, "actions_on_bottom", False)
    client.force_login(StaffFactory())
    response = client.get(reverse("admin:audit_auditentry_changelist"))
    assert response.status_code == 200
    blocks = re.findall(r"<style>(.*?)</style>", response.content.decode(), flags=re.S)
    assert blocks, "the list printed no inline style: the hash is not exercised"
    for block in blocks:
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in _style_src(response)


def test_the_site_allows_no_inline_style_at_all(client):
    assert _style_src(client.get("/")) == ["'self'"]
