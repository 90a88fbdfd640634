"""The object permissions registered with django-rules: only those something reads. The platform asks its
predicates directly (``proposals.rules``, ``reviews.rules``, ``funding.rules``…); the admin reads three rules
because they bear the name of a model's view permission, and the proposals' pages ask ``proposals.converse``
by name: who takes part in a conversation is a rule of reviews (the panel's officer), above proposals (#21)."""

from rules.permissions import permissions


def test_only_the_permissions_the_admin_reads_are_registered():
    assert sorted(permissions) == [
        "funding.view_award", "proposals.converse", "proposals.view_messagethread", "proposals.view_proposal"]
