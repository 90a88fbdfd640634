"""Form widgets that render what Django's would, faster where a page pays for it."""

from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    # As django/forms/widgets/attrs.html: in order, True as a bare name, False left out.
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value))
        for name, value in attrs.items() if value is not False
    )


class LongSelect(forms.Select):
    """A ``<select>`` for long choice lists: the partner's country (250 options), the officer's lists of
    proposals and reviewers (over a thousand on a large panel). Django renders each option through its own
    template include; this writes the same HTML in Python (those pages spent more time on these fields than
    on the rest of their forms: docs/benchmarks.md)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', widget["name"]), _attrs(widget["attrs"]), ">"]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts.append(format_html('\n  <option value="{}"', str(option["value"])))
                parts.append(_attrs(option["attrs"]))
                parts.append(">" + conditional_escape(option["label"]) + "</option>\n")  # the include's newline
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 — every piece above is escaped
