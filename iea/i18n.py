"""Fields kept in French and English side by side (``title_fr`` / ``title_en``) and read in the active language."""

from django.utils import translation


class Localized:
    """A read-only attribute that returns ``<name>_<lang>`` for the active language, falling back to French.

    ``title = Localized()`` on a model with ``title_fr`` and ``title_en`` makes ``obj.title`` follow the
    language of the request (or of the mail being rendered).
    """

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        lang = (translation.get_language() or "fr")[:2]
        value = getattr(obj, f"{self.name}_{lang}", "") if lang in ("fr", "en") else ""
        return value or getattr(obj, f"{self.name}_fr", "") or getattr(obj, f"{self.name}_en", "")
