from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy: every script and style comes from the app's own static files.

    No inline script or style anywhere (templates use classes and static/js), so this holds on every page.
    The Django admin needs inline styles in a few widgets, so it gets ``style-src 'self' 'unsafe-inline'``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        style = "'self'"
        if request.path.startswith("/admin/"):
            style += " 'unsafe-inline'"
        # Single sign-on: a sign-in button posts here and is redirected to the identity provider, which
        # browsers check against form-action too (settings.CSP_FORM_ACTION, from iea.sso).
        form_action = " ".join(["'self'", *getattr(settings, "CSP_FORM_ACTION", [])])
        policy = (
            "default-src 'self'; script-src 'self'; "
            f"style-src {style}; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
            f"object-src 'none'; base-uri 'self'; form-action {form_action}; frame-ancestors 'none'"
        )
        response.headers.setdefault("Content-Security-Policy", policy)
        if not settings.DEBUG:
            response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
