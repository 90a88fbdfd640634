"""Fields kept in French and English side by side (``title_fr`` / ``title_en``) and read in the active language;
the language a person's own text was written in."""

from django.conf import settings
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


def written_language(code: str | None) -> str:
    """The language a person's text was written in, as stored beside it: the primary subtag of ``code`` (the
    language of the page they wrote on) when it is one of the site's languages, else "" (not known)."""
    primary = (code or "").split("-")[0].lower()
    return primary if primary in {language for language, _name in settings.LANGUAGES} else ""
