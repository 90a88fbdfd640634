"""The one formatter for money, numbers and dates (``iea.formats``) and its template filters."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from iea import formats

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize(("amount", "french", "english"), [
    (Decimal("10000"), f"10{NNBSP}000,00{NBSP}€", "€10,000.00"),
    (Decimal("2500.5"), f"2{NNBSP}500,50{NBSP}€", "€2,500.50"),
    (Decimal("250.50"), f"250,50{NBSP}€", "€250.50"),
    (Decimal("0"), f"0,00{NBSP}€", "€0.00"),
    (Decimal("-1250.5"), f"-1{NNBSP}250,50{NBSP}€", "-€1,250.50"),
    (Decimal("123456789.99"), f"123{NNBSP}456{NNBSP}789,99{NBSP}€", "€123,456,789.99"),
    (Decimal("0.005"), f"0,01{NBSP}€", "€0.01"),
    (12000, f"12{NNBSP}000,00{NBSP}€", "€12,000.00"),
    ("14000.00", f"14{NNBSP}000,00{NBSP}€", "€14,000.00"),
])
def test_money_has_two_decimals_and_each_language_s_typography(amount, french, english):
    assert (formats.money(amount, language="fr"), formats.money(amount, language="en")) == (french, english)


@pytest.mark.parametrize("empty", [None, ""])
def test_nothing_to_show_gives_an_empty_text(empty):
    assert [formats.money(empty), formats.number(empty), formats.date(empty), formats.datetime(empty),
            formats.time(empty)] == ["", "", "", "", ""]


@pytest.mark.parametrize(("value", "decimals", "french", "english"), [
    (Decimal("10000"), None, f"10{NNBSP}000", "10,000"),
    (Decimal("10000.00"), None, f"10{NNBSP}000", "10,000"),
    (Decimal("7.50"), None, "7,5", "7.5"),
    (Decimal("3.456"), None, "3,46", "3.46"),
    (Decimal("3.456"), 1, "3,5", "3.5"),
    (4.0, 2, "4,00", "4.00"),
    (-0.8, 2, "-0,80", "-0.80"),
    (0, None, "0", "0"),
    (1234567, 0, f"1{NNBSP}234{NNBSP}567", "1,234,567"),
])
def test_number_writes_whole_numbers_as_integers_or_the_places_asked(value, decimals, french, english):
    assert formats.number(value, decimals=decimals, language="fr") == french
    assert formats.number(value, decimals=decimals, language="en") == english


def test_the_active_language_chooses_when_none_is_given():
    with translation.override("fr"):
        french = formats.money(Decimal("10000"))
    with translation.override("en-gb"):
        english = formats.money(Decimal("10000"))
    with translation.override("de"):
        other = formats.money(Decimal("10000"))
    assert (french, english, other) == (f"10{NNBSP}000,00{NBSP}€", "€10,000.00", "€10,000.00")


@pytest.mark.parametrize(("day", "french", "english"), [
    (dt.date(2027, 6, 1), f"1er{NBSP}juin{NBSP}2027", f"1{NBSP}June 2027"),
    (dt.date(2027, 6, 2), f"2{NBSP}juin{NBSP}2027", f"2{NBSP}June 2027"),
    (dt.date(2027, 8, 31), f"31{NBSP}août{NBSP}2027", f"31{NBSP}August 2027"),
    (dt.date(2028, 2, 29), f"29{NBSP}février{NBSP}2028", f"29{NBSP}February 2028"),
])
def test_a_date_in_words_with_1er_for_the_first_of_the_month_in_french(day, french, english):
    assert (formats.date(day, language="fr"), formats.date(day, language="en")) == (french, english)


def test_a_date_of_an_instant_is_the_paris_date():
    # 23:30 UTC on 31 May is already 1 June in Paris (summer time, UTC+2).
    moment = dt.datetime(2027, 5, 31, 23, 30, tzinfo=dt.UTC)
    assert formats.date(moment, language="fr") == f"1er{NBSP}juin{NBSP}2027"


@pytest.mark.parametrize(("moment", "french", "english"), [
    # Summer time (UTC+2) and winter time (UTC+1): the same 13:00 on the Paris clock.
    (dt.datetime(2027, 6, 1, 11, 0, tzinfo=dt.UTC),
     f"1er{NBSP}juin{NBSP}2027 à 13:00 (heure de Paris)", f"1{NBSP}June 2027, 13:00 (Paris time)"),
    (dt.datetime(2027, 12, 1, 12, 0, tzinfo=dt.UTC),
     f"1er{NBSP}décembre{NBSP}2027 à 13:00 (heure de Paris)", f"1{NBSP}December 2027, 13:00 (Paris time)"),
    # Midnight in Paris is 22:00 UTC the day before in summer.
    (dt.datetime(2027, 6, 14, 22, 0, tzinfo=dt.UTC),
     f"15{NBSP}juin{NBSP}2027 à 00:00 (heure de Paris)", f"15{NBSP}June 2027, 00:00 (Paris time)"),
])
def test_an_instant_on_the_paris_clock_with_the_zone_in_words(moment, french, english):
    assert (formats.datetime(moment, language="fr"), formats.datetime(moment, language="en")) == (french, english)


def test_the_clocks_going_forward_and_back_in_paris():
    # 28 March 2027: 02:00 CET becomes 03:00 CEST; 31 October 2027: 03:00 CEST becomes 02:00 CET.
    spring = [dt.datetime(2027, 3, 28, hour, 30, tzinfo=dt.UTC) for hour in (0, 1)]
    autumn = [dt.datetime(2027, 10, 31, hour, 30, tzinfo=dt.UTC) for hour in (0, 1)]
    assert [formats.time(moment) for moment in spring + autumn] == ["01:30", "03:30", "02:30", "02:30"]
    assert formats.datetime(spring[1], language="en") == f"28{NBSP}March 2027, 03:30 (Paris time)"


def test_the_zone_can_be_left_to_the_sentence_and_seconds_shown_for_a_receipt():
    moment = dt.datetime(2027, 6, 1, 11, 0, 5, tzinfo=dt.UTC)
    assert formats.datetime(moment, zone=False, language="fr") == f"1er{NBSP}juin{NBSP}2027 à 13:00"
    assert formats.datetime(moment, seconds=True, language="en") == f"1{NBSP}June 2027, 13:00:05 (Paris time)"


def test_nothing_a_person_reads_carries_an_offset_or_an_iso_stamp():
    moment = dt.datetime(2027, 6, 1, 11, 0, tzinfo=dt.UTC)
    texts = [formats.datetime(moment, language=language) for language in ("fr", "en")]
    assert [("UTC" in text, "+02" in text, "2027-06-01" in text) for text in texts] == [(False,) * 3] * 2


def _render(source: str, **context) -> str:
    return Template("{% load iea %}" + source).render(Context(context))


def test_the_template_filters_are_the_same_functions():
    moment = dt.datetime(2027, 6, 1, 11, 0, tzinfo=dt.UTC)
    source = ("{{ amount|money }}|{{ score|number }}|{{ mean|number:2 }}|{{ day|long_date }}|{{ moment|paris }}|"
              "{{ moment|paris_bare }}|{{ moment|clock }}|{{ missing|money|default:'—' }}")
    context = {"amount": Decimal("250.5"), "score": Decimal("7.50"), "mean": 3, "day": dt.date(2027, 6, 1),
               "moment": moment, "missing": None}
    with translation.override("fr"):
        french = _render(source, **context)
    with translation.override("en"):
        english = _render(source, **context)
    assert french == (f"250,50{NBSP}€|7,5|3,00|1er{NBSP}juin{NBSP}2027|1er{NBSP}juin{NBSP}2027 à 13:00 (heure de Paris)|"
                      f"1er{NBSP}juin{NBSP}2027 à 13:00|13:00|—")
    assert english == (f"€250.50|7.5|3.00|1{NBSP}June 2027|1{NBSP}June 2027, 13:00 (Paris time)|"
                       f"1{NBSP}June 2027, 13:00|13:00|—")


@pytest.mark.parametrize(("ratio", "french", "english"), [
    (Decimal("0.125"), f"12,5{NBSP}%", "12.5%"),
    (Decimal(1), f"100,0{NBSP}%", "100.0%"),
    (0, f"0,0{NBSP}%", "0.0%"),
    (Decimal("0.33333"), f"33,3{NBSP}%", "33.3%"),
])
def test_a_percentage_has_one_decimal_and_each_language_s_typography(ratio, french, english):
    assert (formats.percent(ratio, language="fr"), formats.percent(ratio, language="en")) == (french, english)


def test_no_ratio_gives_no_percentage():
    assert formats.percent(None) == ""
