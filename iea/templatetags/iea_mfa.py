"""``{% continue_after_two_factor %}``: on the pages allauth shows once two-factor authentication is set up
(the recovery codes, the overview), a link back to the page the person had asked for (``iea.mfa``)."""

from django import template

from iea.mfa import continue_after_setup

register = template.Library()


@register.inclusion_tag("mfa/_continue.html", takes_context=True)
def continue_after_two_factor(context) -> dict:
    request = context.get("request")
    return {"url": continue_after_setup(request) if request is not None else None}
