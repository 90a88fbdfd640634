from django.conf import settings

from .roles import user_roles


def navigation(request):
    return {"roles": user_roles(request.user), "organisation": settings.ORGANISATION_NAME}
