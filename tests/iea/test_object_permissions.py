"""The object permissions registered with django-rules: only those something reads. The platform asks its
predicates directly (``proposals.rules``, ``reviews.rules``, ``funding.rules``…); the admin reads two rules
because they bear the name of a model's view permission."""

from rules.permissions import permissions


def test_only_the_permissions_the_admin_reads_are_registered():
    assert sorted(permissions) == ["funding.view_award", "proposals.view_proposal"]
