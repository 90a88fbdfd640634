"""The roof: what spans every app, above calls < proposals < reviews < funding.

The floor (the rest of ``iea``) imports no app; what has to import every app lives here, where that is
allowed (the ``layers`` and ``floor`` contracts in pyproject.toml):

- ``privacy``: the personal-data app (export, erasure, retention), label ``privacy``;
- ``demo``: the demo seed (``manage.py seed_demo``, ``demo_totp``), label ``demo``;
- ``api_urls``: the API's route table, which registers every app's resources (``iea/urls.py`` includes it).

A plain package, not an app, and this module imports nothing: importing one piece does not load the others.
"""
