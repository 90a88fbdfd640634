from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .roles import user_roles


def navigation(request):
    # Lazy: only the full pages' header asks for the roles; htmx fragments (autosave, letter) never do,
    # and the roles cost a query.
    return {"roles": SimpleLazyObject(lambda: user_roles(request.user)), "organisation": settings.ORGANISATION_NAME}
