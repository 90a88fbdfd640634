"""Texts of Django's admin that read wrong in French with the platform's names, translated in our catalogue.

Django titles a page "Ajout de %s", "Modification de %s", "Affichage de %s", which gives "Modification de
appel" and "Ajout de expert·e" before a vowel; its buttons read "Ajouter appel" and "Ajouter un objet expert·e
supplémentaire". Listing the texts here puts them in our catalogue (``make
messages`` finds them); its translation wins over Django's, LOCALE_PATHS coming first. Nothing imports this.
"""

from django.utils.translation import gettext_noop

ADMIN_TITLES = (gettext_noop("Add %s"), gettext_noop("Change %s"), gettext_noop("View %s"))
ADMIN_BUTTONS = (gettext_noop("Add %(name)s"), gettext_noop("Add another %(verbose_name)s"))
