from django.core.exceptions import ValidationError


class DomainError(ValidationError):
    """A business rule refused the request. The message is for the user, in their language; ``code`` says
    which rule, and is kept even when the message is a list (Django's ValidationError drops it then)."""

    def __init__(self, message, code=None, params=None):
        super().__init__(message, code=code, params=params)
        self.code = code
