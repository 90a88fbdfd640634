"""Form widgets that render what Django's would, faster where a page pays for it.

``FormRenderer`` (settings.FORM_RENDERER) is Django's own, except that the handful of templates every form
renders dozens of times (an input, a textarea, a select and its options, a label, an error list) are written
in Python, byte for byte what the templates write: the PI's editor renders some 50 fields, labels and
error lists, and spent more time in these tiny templates than in the rest of the page. Each is used only
while the template Django would load is the one it copies (its source is compared, once per process): an
app that overrides one, or a Django version that changes one, gets the template again, never a difference.

Measured against Django's own faster path, its ``Jinja2`` renderer (``benchmarks/form_renderers.py``): the
editor's form takes 21 ms with the default renderer, 9 ms with Jinja2 (and slightly different HTML), 5 ms
with this one (benchmarks/notes.md).
"""

from django import forms
from django.forms.renderers import DjangoTemplates
from django.template import TemplateDoesNotExist
from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe


class _Unusual(Exception):
    """A value the Python copy does not write as the template would (a number where text is printed…): the
    template renders it."""


def _text(value) -> str:
    """``{{ value }}`` for text (the template would localize anything else: left to it)."""
    if not isinstance(value, (str, Promise)):
        raise _Unusual
    return conditional_escape(value)


def _string(value) -> str:
    """``{{ value|stringformat:'s' }}``: the filter is safe for safe input, its output escaped otherwise."""
    if isinstance(value, tuple):
        raise _Unusual
    text = "%s" % value  # noqa: UP031 — what the filter does
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs) -> str:
    """django/forms/widgets/attrs.html and django/forms/attrs.html: in order, True as a bare name, False left out."""
    if not attrs:
        return ""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_string(value)}"'
        for name, value in attrs.items() if value is not False
    )


def _input(context) -> str:
    widget = context["widget"]
    value = widget.get("value")
    return (f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"'
            + (f' value="{_string(value)}"' if value is not None else "") + _attrs(widget["attrs"]) + ">\n")


def _textarea(context) -> str:
    widget = context["widget"]
    value = widget.get("value")
    return (f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n'
            + (_text(value) if value else "") + "</textarea>\n")


OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _select(context) -> str:
    widget = context["widget"]
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                raise _Unusual
            # The include keeps the option template's final newline.
            parts.append(f'\n  <option value="{_string(option["value"])}"{_attrs(option["attrs"])}>'
                         f'{_text(option["label"])}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


def _label(context) -> str:
    if context["use_tag"]:
        tag = _text(context["tag"])
        return f"<{tag}{_attrs(context['attrs'])}>{_text(context['label'])}</{tag}>\n"
    return _text(context["label"]) + "\n"


def _errors(context) -> str:
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    return (f'<ul class="{_text(context["error_class"])}"' + (f' id="{_text(field_id)}_error"' if field_id else "")
            + ">" + "".join(f"<li>{_text(error)}</li>" for error in errors) + "</ul>")


# The sources the Python copies were written from (Django 5.2), by template name.
_ATTRS = ("{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}{% if value is not True %}"
          "=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}{% endfor %}")
_INPUT = ('<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %} '
          "value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}{% include \"django/forms/widgets/attrs.html\" %}>\n")
_INCLUDES_INPUT = '{% include "django/forms/widgets/input.html" %}\n'
SOURCES = {
    "django/forms/widgets/attrs.html": _ATTRS,
    "django/forms/widgets/input.html": _INPUT,
    "django/forms/widgets/textarea.html": ('<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n'
                                           "{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n"),
    "django/forms/widgets/select.html": (
        '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>{% for group_name, group_choices, '
        "group_index in widget.optgroups %}{% if group_name %}\n  <optgroup label=\"{{ group_name }}\">{% endif %}"
        "{% for option in group_choices %}\n  {% include option.template_name with widget=option %}{% endfor %}"
        "{% if group_name %}\n  </optgroup>{% endif %}{% endfor %}\n</select>\n"),
    OPTION_TEMPLATE: ("<option value=\"{{ widget.value|stringformat:'s' }}\"{% include \"django/forms/widgets/attrs.html\" %}>"
                      "{{ widget.label }}</option>\n"),
    "django/forms/label.html": ("{% if use_tag %}<{{ tag }}{% include 'django/forms/attrs.html' %}>{{ label }}</{{ tag }}>"
                                "{% else %}{{ label }}{% endif %}\n"),
    "django/forms/attrs.html": _ATTRS.replace("widget.attrs.items", "attrs.items"),
    "django/forms/errors/list/default.html": '{% include "django/forms/errors/list/ul.html" %}',
    "django/forms/errors/list/ul.html": (
        '{% if errors %}<ul class="{{ error_class }}"{% if errors.field_id %} id="{{ errors.field_id }}_error"{% endif %}>'
        "{% for error in errors %}<li>{{ error }}</li>{% endfor %}</ul>{% endif %}"),
}
INPUT_TYPES = ("text", "number", "email", "url", "password", "hidden", "checkbox", "date", "datetime", "time",
               "file", "search", "tel", "color")
for _type in INPUT_TYPES:
    SOURCES[f"django/forms/widgets/{_type}.html"] = _INCLUDES_INPUT
ATTRS = ("django/forms/widgets/attrs.html",)
INPUT = ("django/forms/widgets/input.html", *ATTRS)
# Template name → (its Python copy, the templates it is copied from).
WRITERS = {
    "django/forms/widgets/input.html": (_input, INPUT),
    **{f"django/forms/widgets/{_type}.html": (_input, (f"django/forms/widgets/{_type}.html", *INPUT))
       for _type in INPUT_TYPES},
    "django/forms/widgets/textarea.html": (_textarea, ("django/forms/widgets/textarea.html", *ATTRS)),
    "django/forms/widgets/select.html": (_select, ("django/forms/widgets/select.html", OPTION_TEMPLATE, *ATTRS)),
    "django/forms/label.html": (_label, ("django/forms/label.html", "django/forms/attrs.html")),
    "django/forms/errors/list/default.html": (_errors, ("django/forms/errors/list/default.html",
                                                        "django/forms/errors/list/ul.html")),
    "django/forms/errors/list/ul.html": (_errors, ("django/forms/errors/list/ul.html",)),
}


class BoundField(forms.BoundField):
    """Django's, its label translated once: labels are lazy text, which ``label_tag`` translated again at each
    of the half-dozen times it reads it (a catalogue lookup each). A field is bound in the language of the
    request that renders it."""

    def __init__(self, form, field, name):
        super().__init__(form, field, name)
        if isinstance(self.label, Promise):
            self.label = str(self.label)


class FormRenderer(DjangoTemplates):
    """Django's default form renderer, with the templates of ``WRITERS`` written in Python while the templates
    it would load are the ones copied (see the module's docstring), and fields bound as ``BoundField``."""

    bound_field_class = BoundField

    def __init__(self):
        super().__init__()
        self._writers = {}

    def writer(self, template_name: str):
        """The Python copy of ``template_name``, or None when the template must render."""
        if template_name not in self._writers:
            write, sources = WRITERS.get(template_name, (None, ()))
            if write is not None and not all(self._source(name) == SOURCES[name] for name in sources):
                write = None
            self._writers[template_name] = write
        return self._writers[template_name]

    def _source(self, template_name: str) -> str | None:
        try:
            return self.get_template(template_name).template.source
        except (TemplateDoesNotExist, AttributeError):
            return None

    def render(self, template_name, context, request=None):
        write = self.writer(template_name)
        if write is not None:
            try:
                return write(context).strip()
            except _Unusual:
                pass
        return super().render(template_name, context, request)


class LongSelect(forms.Select):
    """A ``<select>`` for long choice lists: the partner's country (250 options), the officer's lists of
    proposals and reviewers (over a thousand on a large panel), written in Python whatever the form
    renderer (Django renders each option through its own template include).

    Choices that name a ``cache_key`` (the countries in one language) have their options written once per
    process and key; each render then only marks the selected one."""

    def render(self, name, value, attrs=None, renderer=None):
        key = getattr(self.choices, "cache_key", None)
        try:
            if key is not None and not self.allow_multiple_selected:
                return self._render_cached(key, name, value, attrs)
            return mark_safe(_select(self.get_context(name, value, attrs)).strip())  # noqa: S308 — every piece is escaped
        except _Unusual:
            return super().render(name, value, attrs, renderer)

    def _render_cached(self, key, name, value, attrs):
        options = _cached_options(key, self.choices)
        chosen = self.format_value(value)
        selected = next((index for index, (option_value, _start, _end) in enumerate(options) if option_value in chosen), None)
        parts = [f'<select name="{_text(name)}"{_attrs(self.build_attrs(self.attrs, attrs))}>']
        for index, (_value, start, end) in enumerate(options):
            parts.append(start + (" selected" if index == selected else "") + end)
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 — every piece is escaped


_OPTIONS: dict = {}  # cache_key → options: keys name fixed lists (the countries in one language)


def _cached_options(key, choices) -> tuple[tuple[str, str, str], ...]:
    """Each option of ``choices`` (flat, no groups) as (its value, its HTML up to its attributes, the rest),
    written the first time ``key`` is asked for."""
    options = _OPTIONS.get(key)
    if options is None:
        written = []
        for value, label in choices:
            if isinstance(label, (list, tuple)):
                raise _Unusual  # a group: the general path writes it
            written.append((str(value), f'\n  <option value="{_string(value)}"', f">{_text(label)}</option>\n"))
        options = _OPTIONS[key] = tuple(written)
    return options
