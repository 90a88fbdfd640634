"""The demo's conversations (#21) on pi2's ANTSEED proposal and award: a short exchange in French about the
proposal (the support letter, at screening) with the directorate, and one in English about the award (moving a
field mission) with the INEE officer, whose answer pi2 has not read yet; each written in its language, which marks
it on the pages of the other. Through the domain, so they are audited
and their mails recorded like any other."""

from django.core.files.uploadedfile import SimpleUploadedFile

from proposals.letters import check_pdf
from proposals.models import Proposal
from reviews.domain.messages import message_post, thread_close

from ._demo_data import letter_pdf


def seed_conversations(*, proposal: Proposal, users: dict, at) -> int:
    """Write the two exchanges; return the number of messages."""
    pi, staff, officer = users["pi2"], users["staff"], users["officer"]
    exchange = [
        ("proposal", pi, at(2025, 9, 22, 16, 5), "Bonjour, la lettre de soutien de l'Universidad de Chile sera signée "
         "par le doyen à son retour, le 26 septembre. Puis-je déposer le projet avec la version non signée, "
         "jointe ici, et la remplacer ensuite ?", True, "fr"),
        ("proposal", staff, at(2025, 9, 23, 9, 40), "Bonjour Madame Thompson, oui : déposez le projet avant la "
         "clôture avec cette version, puis remplacez la lettre par la version signée et déposez de nouveau. "
         "Seule la dernière version déposée compte.", False, "fr"),
        ("proposal", pi, at(2025, 9, 26, 17, 12), "Merci, c'est fait : la lettre signée est déposée.", False, "fr"),
        ("award", pi, at(2026, 3, 9, 11, 20), "Dear officer, the February field campaign in the matorral near Santiago was "
         "cancelled because of the wildfires. Could the mission budget planned for it (about €2,400) move to a campaign in "
         "May, within year 1?", False, "en"),
        ("award", officer, at(2026, 3, 10, 14, 0), "Dear Dr Thompson, yes: moving a mission within the same year and "
         "category needs no amendment. Mention it in the year-1 financial report.", False, "en"),
    ]
    for topic, author, when, text, with_pdf, language in exchange:
        pdf = check_pdf(SimpleUploadedFile("lettre-de-soutien-non-signee.pdf", letter_pdf([
            "Universidad de Chile — Facultad de Ciencias", "Letter of support (draft, to be signed)",
            "We support the ANTSEED project and co-fund the field campaigns."]),
            content_type="application/pdf")) if with_pdf else None
        message_post(proposal_id=proposal.pk, topic=topic, user=author, text=text, now=when, pdf=pdf,
                     language=language)
    thread_close(thread_id=proposal.threads.get(topic="proposal").pk, user=staff, now=at(2025, 9, 29, 9))
    return len(exchange)
