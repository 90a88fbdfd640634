"""The labels of the audit trail: what each action code and each recorded state means, in words.

An entry stores codes (``proposal.decision_mail``, ``planned`` → ``released``) so that the API and
queries keep a stable vocabulary; people read labels. Each app declares the actions it records in
``<app>/audit_actions.py`` (``register_actions({...})``), next to the domain functions that write them;
the core knows no app. A state is labelled by the ``state`` field of the object the entry is about (its
choices are the states' names); an app registers ``register_states(Model, {...})`` for the few states that
are not a ``state`` field's (an account subscribed to announcements or not). The platform acting on its own
(a command, the mail dispatcher) is recorded in ``actor_label`` by a code too, labelled with
``register_actors({...})``. An object whose name reads linked records (a review: its reviewer and the
proposal's reference) declares them with ``register_names(Model, "reviewer__user", ...)``, so that the
admin loads them with the objects, not one row at a time.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.functional import Promise

ACTIONS: dict[str, str | Promise] = {}
STATES: dict[type[models.Model], dict[str, str | Promise]] = {}
ACTORS: dict[str, str | Promise] = {}
NAMED_WITH: dict[type[models.Model], tuple[str, ...]] = {}


def register_actions(labels: dict[str, str | Promise]) -> None:
    for code, label in labels.items():
        if ACTIONS.get(code, label) != label:
            raise ValueError(f"Two labels for the audit action {code!r}.")
        ACTIONS[code] = label


def register_states(model: type[models.Model], labels: dict[str, str | Promise]) -> None:
    STATES.setdefault(model, {}).update(labels)


def register_names(model: type[models.Model], *related: str) -> None:
    """The relations ``str(model_instance)`` reads (its ``select_related``)."""
    NAMED_WITH[model] = tuple(sorted({*NAMED_WITH.get(model, ()), *related}))


def target_querysets() -> list[models.QuerySet]:
    """The querysets that load the objects of the trail with what their names need (for a GenericPrefetch).
    Their content types are looked up together: one query while the process's cache is cold, not one per kind."""
    ContentType.objects.get_for_models(*NAMED_WITH, for_concrete_models=False)
    return [model._base_manager.select_related(*related) for model, related in NAMED_WITH.items()]


def register_actors(labels: dict[str, str | Promise]) -> None:
    ACTORS.update(labels)


def acting_as_label(actor_label: str) -> str:
    """Who acted without an account, in words: a registered code (``privacy_purge``) by its label, anything
    else (a partner's address and link) as it is."""
    label = ACTORS.get(actor_label)
    return str(label) if label is not None else actor_label


def action_label(code: str) -> str:
    """The action in words; an unknown code (an entry older than its label) shows as it is."""
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def state_label(model: type[models.Model] | None, value: str) -> str:
    """The state ``value`` of an object of ``model`` in words: a label registered for the model, else the
    choice of its ``state`` field, else the value as it is."""
    if not value or model is None:
        return value
    model = model._meta.concrete_model
    if value in STATES.get(model, {}):
        return str(STATES[model][value])
    try:
        choices = dict(model._meta.get_field("state").flatchoices)
    except FieldDoesNotExist:
        return value
    return str(choices.get(value, value))
