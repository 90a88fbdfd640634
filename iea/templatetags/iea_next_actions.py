"""``{% next_actions_card "pi" %}``: the card of what the signed-in person should do now in one role
(``iea.next_actions``), on each role's home page; ``{% next_actions_module %}`` is the admin's version."""

from django import template
from django.utils import timezone

from iea.next_actions import STAFF, next_actions

register = template.Library()


def _actions(context, role: str) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"actions": next_actions(user, now=timezone.now(), role=role) if user is not None else []}


@register.inclusion_tag("components/next_actions.html", takes_context=True)
def next_actions_card(context, role: str) -> dict:
    return _actions(context, role)


@register.inclusion_tag("admin/next_actions.html", takes_context=True)
def next_actions_module(context, role: str = STAFF) -> dict:
    return _actions(context, role)
