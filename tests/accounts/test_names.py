"""A person has a first and a last name; ``display_name`` ("First Last") is how every page, mail, PDF and
export shows them, the e-mail address only when no name is known; the names of accounts made before the
two fields existed are split by the migration."""

import importlib

import pytest
from django.apps import apps as global_apps
from django.utils import translation

from iea.accounts.models import ERASED_NAME, User, join_names, split_full_name
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("whole", "parts"), [
    ("Claire Newcomer", ("Claire", "Newcomer")),
    ("Jean-Marc de La Fontaine", ("Jean-Marc", "de La Fontaine")),
    ("  Zoé   Lefèvre-Åkesson ", ("Zoé", "Lefèvre-Åkesson")),
    ("Madonna", ("", "Madonna")),
    ("", ("", "")),
])
def test_a_name_in_one_piece_splits_at_the_first_word_and_joins_back(whole, parts):
    assert split_full_name(whole) == parts
    assert join_names(*parts) == " ".join(whole.split())


def test_the_full_name_follows_the_first_and_last_name():
    person = UserFactory(email="claire@example.org", first_name=" Claire ", last_name="Newcomer")
    assert (person.first_name, person.last_name, person.full_name) == ("Claire", "Newcomer", "Claire Newcomer")
    person.last_name = "Nouvelle-Venue"
    person.save(update_fields=["last_name"])  # the derived name is saved with it
    person.refresh_from_db()
    assert (person.full_name, person.display_name, str(person), person.get_short_name()) == (
        "Claire Nouvelle-Venue", "Claire Nouvelle-Venue", "Claire Nouvelle-Venue", "Claire")


def test_a_name_given_in_one_piece_fills_first_and_last_name():
    person = User.objects.create_user("rita@example.org", full_name="Rita de Oliveira")
    assert (person.first_name, person.last_name, person.display_name) == ("Rita", "de Oliveira", "Rita de Oliveira")


def test_a_name_changed_in_one_piece_is_split_again():
    person = UserFactory(email="rita@example.org", first_name="Christy", last_name="Mills")
    person.full_name = "Rita  Reviewer"
    person.save(update_fields=["full_name"])
    person.refresh_from_db()
    assert (person.first_name, person.last_name, person.full_name) == ("Rita", "Reviewer", "Rita Reviewer")
    person.first_name = "Rosa"
    person.save()
    assert User.objects.get(pk=person.pk).full_name == "Rosa Reviewer"


def test_the_address_stands_for_the_name_only_when_no_name_is_known():
    nameless = UserFactory(email="nameless@example.org", full_name="")
    assert (nameless.has_name, nameless.display_name, nameless.get_full_name()) == (
        False, "nameless@example.org", "nameless@example.org")
    erased = UserFactory(email="erased-3@invalid", full_name=ERASED_NAME)
    with translation.override("en"):
        assert (erased.has_name, erased.display_name, erased.first_name) == (False, "erased person", "")


def test_the_migration_splits_the_names_already_stored():
    migration = importlib.import_module("iea.accounts.migrations.0006_user_first_and_last_name")
    kept = UserFactory(email="kept@example.org", full_name="Ada Lovelace")
    erased = UserFactory(email="erased-9@invalid", full_name=ERASED_NAME)
    nameless = UserFactory(email="nameless@example.org", full_name="")
    User.objects.filter(pk__in=[kept.pk, erased.pk, nameless.pk]).update(first_name="", last_name="")
    User.objects.filter(pk=kept.pk).update(full_name="Jean-Marc  de La Fontaine")

    migration.split_existing_names(global_apps, None)

    assert list(User.objects.order_by("email").values_list("email", "first_name", "last_name", "full_name")) == [
        ("erased-9@invalid", "", "", ERASED_NAME),
        ("kept@example.org", "Jean-Marc", "de La Fontaine", "Jean-Marc de La Fontaine"),
        ("nameless@example.org", "", "", ""),
    ]
