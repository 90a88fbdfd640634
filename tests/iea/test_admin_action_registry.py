"""Actions an app offers on another app's model (iea.admin_mixins): privacy's anonymisation past retention is
registered on calls.Call by label, so the calls' admin lists it without importing the roof."""

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from calls.models import Call
from iea import admin_mixins
from iea.site.privacy.admin_actions import anonymise_past_retention
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def registered() -> dict:
    return admin_mixins.ACTIONS


def actions_for(user, path="/admin/calls/call/"):
    request = RequestFactory().get(path)
    request.user = user
    return site._registry[Call].get_actions(request)


def test_the_calls_admin_lists_its_own_actions_then_those_registered_on_calls():
    actions = actions_for(StaffFactory())
    assert list(actions) == ["delete_selected", "publish_calls", "open_calls", "close_call", "extend_call",
                             "clone_call", "start_review", "mark_decided", "anonymise_past_retention"]
    assert actions["anonymise_past_retention"][0] is anonymise_past_retention
    assert registered() == {"calls.Call": [anonymise_past_retention]}


def test_a_registered_action_follows_the_admin_rules_permissions_and_popups():
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_call"))
    assert "anonymise_past_retention" not in actions_for(viewer)  # it needs the change permission
    assert actions_for(StaffFactory(), "/admin/calls/call/?_popup=1") == {}


def test_a_label_that_names_no_model_is_refused_at_registration():
    with pytest.raises(LookupError):
        admin_mixins.register_action("calls.Cal", anonymise_past_retention)
    assert registered() == {"calls.Call": [anonymise_past_retention]}
