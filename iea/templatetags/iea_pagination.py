"""``{% page_links page as links %}``: ``iea.pagination.page_links`` for the request being rendered, so a view
that paginates passes its page and nothing else."""

from django import template

from iea import pagination

register = template.Library()


@register.simple_tag(takes_context=True)
def page_links(context, page) -> dict[str, str]:
    return pagination.page_links(context["request"], page)
