"""The chart kit (``iea.charts``): every chart parses as XML, is an image labelled by its title and description,
carries no script or style, draws bars in proportion to their values and writes numbers in the page's language."""

import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from iea import charts, formats
from iea.charts_world import HEIGHT, SHAPES, WIDTH

SVG = "{http://www.w3.org/2000/svg}"
NBSP, NNBSP = "\u00a0", "\u202f"


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 — our own server-rendered SVG, not untrusted input


def svg_of(element: ET.Element) -> ET.Element:
    return element if element.tag == f"{SVG}svg" else element.find(f"{SVG}svg")


def assert_accessible_and_inert(text: str) -> ET.Element:
    """An image named by its own <title> and <desc>; nothing the Content-Security-Policy would refuse."""
    svg = svg_of(parse(text))
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{SVG}title").get("id") == title_id
    assert svg.find(f"{SVG}desc").get("id") == desc_id
    assert svg.find(f"{SVG}desc").text.strip()
    for element in parse(text).iter():
        assert element.tag.split("}")[-1] not in {"script", "style", "a", "foreignObject"}
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)
    return svg


def bar_widths(svg: ET.Element) -> list[float]:
    return [float(rect.get("width")) for rect in svg.iter(f"{SVG}rect") if "chart-bar" in rect.get("class", "")]


def values_written(svg: ET.Element) -> list[str]:
    return [text.text or "" for text in svg.iter(f"{SVG}text") if "chart-value" in text.get("class", "")]


def test_bars_are_proportional_to_their_values_with_the_value_beside_each():
    svg = assert_accessible_and_inert(charts.bars([("INSU", 40), ("INEE", 10), ("INSHS", 0), ("INC", 25)],
                                                  title="Selected by institute", description="Four institutes."))
    widths = bar_widths(svg)
    usable = charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_WIDTH
    assert widths == [usable, usable / 4, 0.0, pytest.approx(usable * 25 / 40, abs=0.1)]
    assert values_written(svg) == ["40", "10", "0", "25"]
    assert svg.find(f"{SVG}title").text == "Selected by institute"
    assert svg.find(f"{SVG}desc").text == "Four institutes. The table beside the chart gives the figures."


def test_a_given_maximum_scales_the_bars_and_a_rate_is_written_as_a_percentage():
    svg = parse(charts.bars([("A", Decimal("0.5")), ("B", Decimal("0.125"))], title="Success rate", max_value=1,
                            value_format=formats.percent))
    usable = charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_WIDTH
    assert bar_widths(svg) == [usable / 2, pytest.approx(usable / 8, abs=0.1)]
    assert values_written(svg) == ["50.0%", "12.5%"]


def test_numbers_follow_the_language_and_the_geometry_never_does():
    rows = [("Mobilité", Decimal("1234.5")), ("Réunions", 20000)]
    with translation.override("fr"):
        svg = parse(charts.bars(rows, title="Montants", value_format=formats.money))
        rates = parse(charts.bars([("A", Decimal("0.125"))], title="Taux", max_value=1, value_format=formats.percent))
    assert values_written(svg) == [f"1{NNBSP}234,50{NBSP}€", f"20{NNBSP}000,00{NBSP}€"]
    assert values_written(rates) == [f"12,5{NBSP}%"]
    for element in svg.iter():
        for name in ("x", "y", "width", "height"):
            if name in element.attrib and element is not svg:
                float(element.get(name))  # "61.7", never "61,7"
    assert svg.get("viewBox").split()[:3] == ["0", "0", str(charts.WIDTH)]
    float(svg.get("viewBox").split()[3])


def test_no_data_gives_a_chart_that_says_so():
    for text in (charts.bars([], title="Nothing"), charts.grouped_bars([], series=["a", "b"], title="Nothing")):
        svg = assert_accessible_and_inert(text)
        assert bar_widths(svg) == []
        assert "No data." in svg.find(f"{SVG}desc").text
        assert any("No data." in (t.text or "") for t in svg.iter(f"{SVG}text"))


def test_a_long_label_is_cut_in_the_chart_and_whole_in_its_title():
    long = "Institut national des sciences de l'Univers, des planètes et de l'espace lointain"
    svg = parse(charts.bars([(long, 3), ("Short", 1)], title="Long labels"))
    labels = [t for t in svg.iter(f"{SVG}text") if "chart-label" in t.get("class", "")]
    assert len(labels[0].text if labels[0].text else labels[0].find(f"{SVG}title").tail) <= charts.LABEL_CHARACTERS
    assert labels[0].find(f"{SVG}title").text == long
    assert "".join(labels[0].itertext()).endswith("…")
    assert labels[1].find(f"{SVG}title") is None and labels[1].text == "Short"


def test_grouped_bars_draw_one_bar_per_series_in_each_group_with_a_legend():
    svg = assert_accessible_and_inert(charts.grouped_bars(
        [("2029", [30, 12, 6]), ("2030", [60, 20, None])], series=["Submitted", "Eligible", "Selected"],
        title="By year", description="Two calls."))
    usable = charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_WIDTH
    assert bar_widths(svg) == [usable / 2, usable / 5, usable / 10, usable, pytest.approx(usable / 3, abs=0.1), 0.0]
    series = [rect.get("class").split()[-1] for rect in svg.iter(f"{SVG}rect") if "chart-bar" in rect.get("class")]
    assert series == ["chart-series-0", "chart-series-1", "chart-series-2"] * 2
    legend = [g.find(f"{SVG}text").text for g in svg.iter(f"{SVG}g") if g.get("class") == "chart-legend"]
    assert legend == ["Submitted", "Eligible", "Selected"]
    assert values_written(svg) == ["30", "12", "6", "60", "20", ""]
    # Every coloured shape has its class (charts.css, light and dark) and a fallback fill.
    for rect in svg.iter(f"{SVG}rect"):
        assert rect.get("fill").startswith("#") and "chart-series-" in rect.get("class")


def test_two_charts_on_a_page_have_their_own_ids():
    first, second = parse(charts.bars([("a", 1)], title="One")), parse(charts.bars([("a", 1)], title="Two"))
    assert first.get("aria-labelledby") != second.get("aria-labelledby")
    keyed = parse(charts.bars([("a", 1)], title="One", key="by-year"))
    assert keyed.get("aria-labelledby") == "by-year-title by-year-desc"


def test_the_stylesheet_styles_every_class_the_charts_use_in_both_themes():
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "charts.css").read_text()
    for name in [*(f"chart-series-{i}" for i in range(charts.SERIES)), *(f"chart-bin-{i}" for i in range(6))]:
        assert f".chart .{name} " in css
    for name in [*(f"chart-series-{i}" for i in range(charts.SERIES)), "chart-text", "chart-bin-0"]:
        assert f'html[data-theme="dark"] .chart .{name} ' in css
        assert f'html[data-theme="auto"] .chart .{name} ' in css


# The world map

def test_the_shapes_module_stays_small_and_covers_the_partner_countries():
    module = Path(charts.__file__).with_name("charts_world.py")
    assert module.stat().st_size <= 150 * 1024
    assert len(SHAPES) >= 170
    for code in ("FR", "BR", "US", "CN", "IN", "ZA", "NO", "XK", "SS", "JP", "AU", "RU", "CA"):
        assert SHAPES[code].startswith("M")
    assert "AQ" not in SHAPES
    assert (WIDTH, HEIGHT) == (3600, 1410)


def test_every_path_stays_inside_the_map():
    import re

    for code, path in SHAPES.items():
        for ring in re.findall(r"M(-?\d+) (-?\d+)l([^z]*)z", path):
            x, y = int(ring[0]), int(ring[1])
            numbers = [int(n) for n in re.findall(r"-?\d+", ring[2])]
            for dx, dy in zip(numbers[0::2], numbers[1::2], strict=True):
                x, y = x + dx, y + dy
                assert 0 <= x <= WIDTH and 0 <= y <= HEIGHT, code


def country_paths(element: ET.Element) -> dict[str, ET.Element]:
    return {path.find(f"{SVG}title").text: path for path in element.iter(f"{SVG}path")}


def test_the_map_puts_each_country_in_its_bin_with_its_name_and_value_in_its_title():
    values = {"FR": 1, "BR": 10, "JP": 5, "ZA": 6, "US": 0}
    figure = parse(charts.world_map(values, title="Selected by partner country", description="Four countries."))
    svg = assert_accessible_and_inert(charts.world_map(values, title="Selected by partner country"))
    assert len(list(svg.iter(f"{SVG}path"))) == len(SHAPES)
    paths = country_paths(figure)
    # Five bins of equal width over 1..10: 1–2, 3–4, 5–6, 7–8, 9–10.
    assert paths["France: 1"].get("class") == "chart-bin-1"
    assert paths["Japan: 5"].get("class") == "chart-bin-3"
    assert paths["South Africa: 6"].get("class") == "chart-bin-3"
    assert paths["Brazil: 10"].get("class") == "chart-bin-5"
    assert paths["United States of America"].get("class") == "chart-bin-0"
    legend = [t.text for t in svg.iter(f"{SVG}text")]
    assert legend == ["1–2", "3–4", "5–6", "7–8", "9–10"]
    assert figure.find("figcaption") is None
    for path in svg.iter(f"{SVG}path"):
        assert path.get("fill").startswith("#")


def test_the_map_names_countries_in_the_active_language_and_lists_those_it_cannot_draw():
    with translation.override("fr"):
        figure = parse(charts.world_map({"DE": 1200, "MU": 3, "SG": 2}, title="Carte"))
    paths = country_paths(figure)
    assert paths[f"Allemagne{NBSP}: 1{NNBSP}200"].get("class") == "chart-bin-5"
    caption = figure.find("figcaption").text
    assert caption.startswith("Non dessinés sur la carte")
    assert "Maurice (3)" in caption and "Singapour (2)" in caption


def test_an_empty_map_says_there_is_no_data():
    svg = assert_accessible_and_inert(charts.world_map({}, title="Nothing yet"))
    assert "No data." in svg.find(f"{SVG}desc").text
    assert {path.get("class") for path in svg.iter(f"{SVG}path")} == {"chart-bin-0"}
    assert list(svg.iter(f"{SVG}text")) == []
