"""The evaluation of a proposal, for pages of the apps below reviews (#21, restart from last year).

The editor of a draft restarted from an unfunded proposal (``templates/proposals/edit.html``) shows that
proposal's evaluation beside the form. The editor's view lives in ``proposals``, which comes before reviews
and cannot import it; the template loads this library by name, at render time, as it already names reviews'
URLs (``evaluation:summary``): the page is composed above the apps, and what it shows is reviews' one
selector, ``previous_evaluation``, the same content as the evaluation summary the PI was mailed."""

from django import template

from ..domain.evaluation import previous_evaluation

register = template.Library()


@register.inclusion_tag("reviews/_previous_evaluation.html", takes_context=True)
def previous_evaluation_panel(context, proposal):
    """The panel beside the editor of ``proposal``: the evaluation of the proposal it restarted from."""
    source = proposal.restarted_from
    if source is None:
        return {"evaluation": None}
    return {"evaluation": previous_evaluation(source=source, user=context["request"].user)}
