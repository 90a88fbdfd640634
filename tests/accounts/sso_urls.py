"""The site's URLs plus the test identity provider's sign-in page (``@override_settings(ROOT_URLCONF=…)``)."""

from django.urls import path

from iea.urls import urlpatterns as site_urlpatterns

from .saml_idp import idp_page

urlpatterns = [path("test-idp/sso/", idp_page, name="test_idp_sso"), *site_urlpatterns]
