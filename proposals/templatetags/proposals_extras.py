"""The template filters that know proposals: the site-wide library (``iea``) knows no app."""

from django import template
from django.utils import timezone

from proposals.domain import restart_sources
from proposals.domain.common import information_item_labels
from proposals.models import BudgetCategory

register = template.Library()


@register.filter
def budget_category(value: str) -> str:
    """A budget line's category in words (``BudgetCategory``); an unknown code as it is."""
    try:
        return BudgetCategory(value).label
    except ValueError:
        return value


@register.filter
def rfi_items(items) -> str:
    """What a request for information lets change, in the reader's language (``information_item_label``)."""
    return information_item_labels(items or [])


@register.filter
def rfi_state(request, now) -> str:
    """Where a request for information stands at ``now`` (``InformationRequest.state_at``)."""
    return request.state_at(now)
@register.simple_tag(takes_context=True)
def restart_choices(context, call):
    """The signed-in PI's proposals from which a draft may start in ``call`` (#21, restart from last year):
    the call's page (``calls``, below proposals) offers them beside "start from scratch". One query."""
    return restart_sources(user=context["request"].user, call=call, now=timezone.now())
