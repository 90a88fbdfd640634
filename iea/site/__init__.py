"""The roof: what spans every app, above calls < proposals < reviews < funding (README, "How it is built").

The floor (the rest of ``iea``) imports no app; what must read and write every app's models lives here,
where importing them is allowed (the ``layers`` and ``floor`` contracts in pyproject.toml):

- ``privacy``: the personal-data app (export, erasure, retention), label ``privacy``;
- ``demo``: the demo seed (``manage.py seed_demo``, ``demo_totp``), label ``demo``.

A plain package, not an app, and this module imports nothing: importing one piece does not load the others.
"""
