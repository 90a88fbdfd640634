"""The template filters that know proposals: the site-wide library (``iea``) knows no app."""

from django import template

from proposals.models import BudgetCategory

register = template.Library()


@register.filter
def budget_category(value: str) -> str:
    """A budget line's category in words (``BudgetCategory``); an unknown code as it is."""
    try:
        return BudgetCategory(value).label
    except ValueError:
        return value
