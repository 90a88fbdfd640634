from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .roles import user_roles


def navigation(request):
    # Lazy: only the full pages' header asks for the roles; htmx fragments (autosave, letter) never do,
    # and the roles cost a query.
    # The development mail viewer is linked from the footer only where it exists (DEBUG on).
    return {"roles": SimpleLazyObject(lambda: user_roles(request.user)), "organisation": settings.ORGANISATION_NAME,
            "dev_mail_viewer": settings.DEBUG}
