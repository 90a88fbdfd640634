"""The officer's panel table in a real browser (issue #18: its figures kept by the database; sort, filters and
pages in SQL), in French and in English, on a desktop and on a phone: sort by a column, page through, filter
the disagreements, rank a page, export what is shown, and find a review submitted meanwhile in its place."""

import io
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook
from playwright.sync_api import expect

from reviews.domain.scoring import review_submit
from reviews.models import PanelRecommendation, Review, ReviewState
from reviews.views import officer as officer_views
from tests.reviews.test_panel import NOW, World

from .conftest import CSP_REFUSALS
from .helpers import serious_accessibility_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
LOCALES = {"fr": "fr-FR", "en": "en-GB"}


def in_(language: str, text: str, **values) -> str:
    with translation.override(language):
        return gettext(text) % values if values else gettext(text)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("language", list(LOCALES))
def test_the_officer_sorts_pages_filters_ranks_and_exports_the_table(live_server, browser, monkeypatch, language,
                                                                     viewport):
    monkeypatch.setattr(officer_views, "TABLE_ROWS_PER_PAGE", 3)
    world = World()
    world.weigh(3, 1)  # weighted total = (3·c1 + c2) / 4
    p1, p2, p3, p4, p5 = world.proposals(5)
    a, b, c = world.reviewer("Alice Ames"), world.reviewer("Bruno Bell"), world.reviewer("Chloé Cole")
    world.reviews([(p1, a, [4, 2]), (p1, b, [2, 4]),  # means 3, 3 → 3.0; totals 3.5 and 2.5: spread 1
                   (p2, a, [5, 5]), (p2, b, [5, 4]),  # 4.875
                   (p3, a, [2, 2]), (p3, b, [4, 4]),  # 3.0; totals 2 and 4: spread 2, a disagreement
                   (p4, a, [1, 1])])                  # 1.0, one review of two
    world.reviews([(p5, c, [3, 3])], state=ReviewState.DRAFT)
    Review.objects.filter(state=ReviewState.DRAFT).update(comment_for_pi="Sound.", recommendation="fund")

    context = browser.new_context(locale=LOCALES[language], timezone_id="Europe/Paris", accept_downloads=True,
                                  viewport=VIEWPORTS[viewport])
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_REFUSALS)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    base = live_server.url
    sign_in(page, base, world.officer.email, code=True)
    page.goto(f"{base}/panels/{world.panel.pk}/")
    rows = page.locator("#panel-rows tbody tr")

    def shown():
        return [row.locator("th a").inner_text() for row in rows.all()]

    # Highest weighted total first, a page of three; the figures in the reader's language.
    expect(rows).to_have_count(3)
    assert shown() == [p2.reference, p1.reference, p3.reference]
    expect(rows.first).to_contain_text("4,88" if language == "fr" else "4.88")
    assert serious_accessibility_violations(page) == []

    # Lowest first: the proposal without a review stays last, on the second page.
    total = in_(language, "Weighted total")
    page.get_by_role("link", name=in_(language, "Sort by %(column)s, lowest first", column=total)).click()
    expect(rows.first).to_contain_text(p4.reference)
    assert shown() == [p4.reference, p1.reference, p3.reference]
    page.locator("a[rel=next]").click()
    expect(rows.first).to_contain_text(p2.reference)
    assert shown() == [p2.reference, p5.reference]

    # Disagreements only (the form swaps the table in place).
    page.goto(f"{base}/panels/{world.panel.pk}/")
    page.locator("input[name=disagreement]").check()
    expect(rows).to_have_count(1)
    assert shown() == [p3.reference]
    assert serious_accessibility_violations(page) == []

    # Rank the first page; the export writes every row, in the table's order.
    page.goto(f"{base}/panels/{world.panel.pk}/")
    page.fill(f"#rank-{p2.pk}", "1")
    page.fill(f"#rank-{p3.pk}", "2")
    page.locator("#ranking button[type=submit]").click()
    expect(page.locator(".messages")).to_be_visible()
    assert dict(PanelRecommendation.objects.exclude(rank=None).values_list("proposal_id", "rank")) == {
        p2.pk: 1, p3.pk: 2}
    page.goto(f"{base}/panels/{world.panel.pk}/")
    with page.expect_download() as download:
        page.locator(f"a[download][href^='/panels/{world.panel.pk}/export']").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        p2.reference, p1.reference, p3.reference, p4.reference, p5.reference]
    # The panel's proposals and teams as a workbook too, every proposal of the panel in it.
    with page.expect_download() as download:
        page.locator(f"a[download][href^='/panels/{world.panel.pk}/proposals']").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    references = {row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert references == {p1.reference, p2.reference, p3.reference, p4.reference, p5.reference}

    # A review submitted meanwhile: the next page the officer opens counts it (P5: 3.0, after P1 and P3).
    draft = Review.objects.get(proposal=p5, reviewer=c)
    review_submit(review_id=draft.pk, user=c.user, now=NOW)
    page.goto(f"{base}/panels/{world.panel.pk}/?page=2")
    expect(rows.first).to_contain_text(p5.reference)
    assert shown() == [p5.reference, p4.reference]
    expect(rows.first).to_contain_text("1 / 2")
    expect(rows.first).to_contain_text("3,00" if language == "fr" else "3.00")
    context.close()
    assert [error for error in errors if error.startswith("CSP violation")] == []
    assert Decimal(str(sheet.cell(row=2, column=8).value)) == Decimal("4.88")  # P2's weighted total, a number
