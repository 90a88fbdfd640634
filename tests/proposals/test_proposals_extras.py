"""The proposals' template library (proposals_extras): the filters that need the proposals' models, kept out of
the core's ``iea`` library."""

from django.template import Context, Template
from django.utils import translation


def test_a_budget_category_is_shown_in_words_and_an_unknown_code_as_it_is():
    template = Template("{% load proposals_extras %}{{ known|budget_category }}|{{ unknown|budget_category }}")
    with translation.override("en"):
        assert template.render(Context({"known": "meetings", "unknown": "catering"})) == "Working meetings|catering"
