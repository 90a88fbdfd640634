"""The review part of the API: being written (issue 6)."""


def register(router):
    pass
