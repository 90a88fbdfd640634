"""``iea.admin_mixins.ReadOnlyTabularInline``: the one read-only inline of the admin. Every inline built on it
shows its fields and lets staff add, change or delete nothing, whichever app it belongs to."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from iea.admin_mixins import ReadOnlyTabularInline

READ_ONLY_INLINES = sorted(
    {(model_admin, inline) for model_admin in admin.site._registry.values() for inline in model_admin.inlines
     if issubclass(inline, ReadOnlyTabularInline)},
    key=lambda pair: pair[1].__qualname__,
)


def test_the_apps_use_the_one_read_only_inline():
    assert sorted({inline.__module__.split(".")[0] for _admin, inline in READ_ONLY_INLINES}) == [
        "calls", "funding", "proposals", "reviews"]


@pytest.mark.parametrize(("model_admin", "inline"), READ_ONLY_INLINES,
                         ids=[inline.__qualname__ for _admin, inline in READ_ONLY_INLINES])
def test_every_field_is_read_only_and_nothing_can_be_added_changed_or_deleted(model_admin, inline, staff):
    request = RequestFactory().get("/")
    request.user = staff
    shown = inline(model_admin.model, admin.site)

    assert tuple(shown.get_readonly_fields(request)) == tuple(shown.fields)
    assert (shown.has_add_permission(request), shown.has_change_permission(request),
            shown.has_delete_permission(request)) == (False, False, False)
    assert (shown.extra, shown.can_delete, shown.show_change_link) == (0, False, False)
