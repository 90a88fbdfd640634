"""Shared pieces of the funding admin: messages, the reason page, read-only inlines."""

from django import forms
from django.contrib import messages

from iea import formats
from iea.admin_confirm import PlannedChange, confirm_page
from iea.admin_mixins import error_text


def _money(value) -> str:
    return "—" if value is None else formats.money(value)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)

    def __init__(self, *args, label, help_text="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        self.fields["reason"].help_text = help_text


def _as_change(described) -> PlannedChange:
    """``describe`` gives a row of the confirmation, or just the object's label."""
    return described if isinstance(described, PlannedChange) else PlannedChange(str(described))


class ReasonPageMixin:
    """An action that asks for a reason first: Django's intermediate page, posted back to the list with
    the same selection and ``apply``; ``run(obj, reason)`` then goes through the domain for each object."""

    def _with_reason(self, request, queryset, *, action, title, intro, label, submit_label, run, describe=str):
        form = ReasonForm(request.POST if "apply" in request.POST else None, label=label)
        if form.is_bound and form.is_valid():
            for obj in queryset:
                run(obj, form.cleaned_data["reason"])
            return None
        objects = list(queryset)
        return confirm_page(
            self, request, objects, action=action, title=title, intro=intro,
            changes=[_as_change(describe(obj)) for obj in objects], submit_label=submit_label, form=form,
        )

    def _refused(self, request, label, error) -> None:
        self.message_user(request, f"{label}: {error_text(error)}", messages.ERROR)




# --- Awards ----------------------------------------------------------------------------------------------------
