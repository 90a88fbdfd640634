from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo seed: ``manage.py seed_demo`` (``make run``) builds a demo a newcomer can sign in to, and
    ``manage.py demo_totp`` (``make totp``) prints the two-factor codes of its users. It drives every app's
    domain functions, so it lives in the roof; it has no models, no URLs and no admin."""

    name = "iea.site.demo"
    label = "demo"
