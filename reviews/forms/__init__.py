"""The review's forms, one module per audience: the officer's panel pages (``officer``), the reviewer's
(``reviewer``)."""
