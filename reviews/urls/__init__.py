"""The review's URLs, one module per audience, each included by ``iea.urls``: the officer's panel pages
(``officer``, ``panel:``), the reviewer's (``reviewer``, ``reviewer:``) and the PI's evaluation summary
(``pi``, ``evaluation:``)."""
