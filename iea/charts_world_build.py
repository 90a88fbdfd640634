"""Writes ``iea/charts_world.py`` (the world map's country shapes) from Natural Earth. A one-off converter,
kept for the next Natural Earth release; nothing imports it at run time.

Source: Natural Earth 1:110m admin-0 countries (public domain), as the TopoJSON ``countries-110m.json`` of the
npm package ``world-atlas`` (ISC; https://github.com/topojson/world-atlas), whose features are keyed by ISO 3166
numeric code. The numeric codes become alpha-2 through django-countries (``django_countries.data.ALT_CODES``);
the three features without a code are named here (Kosovo ``XK``; Northern Cyprus drawn with Cyprus,
Somaliland with Somalia, as ISO 3166 has them). Antarctica is left out: no partner works there, and the map
is shorter without it.

Projection: equirectangular, one unit a tenth of a degree (x = (longitude + 180) × 10, y = (84 − latitude)
× 10), so a shape is drawn to 0.1° and its path holds only integers, relative after the first point (``m`` and
``l``), repeated points dropped. The module stays under 150 KB (``tests/iea/test_charts.py`` checks).

    npm pack world-atlas && tar xzf world-atlas-*.tgz
    .venv/bin/python -m iea.charts_world_build package/countries-110m.json
"""

import json
import sys
from pathlib import Path

TOP, BOTTOM = 84, -57  # latitudes kept: Greenland's north cape to Cape Horn
HEIGHT = (TOP - BOTTOM) * 10
UNNAMED = {"Kosovo": "XK", "N. Cyprus": "CY", "Somaliland": "SO"}
LEFT_OUT = {"010"}  # Antarctica
TARGET = Path(__file__).with_name("charts_world.py")


def _alpha2_by_numeric() -> dict[str, str]:
    from django_countries.data import ALT_CODES  # noqa: PLC0415 -- a script's dependency

    return {f"{numeric:03d}": alpha2 for alpha2, (_alpha3, numeric) in ALT_CODES.items() if numeric}


def _arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """The arcs in longitude/latitude: TopoJSON stores them quantized and delta-encoded."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    decoded = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        decoded.append(points)
    return decoded


def _ring(indexes: list[int], arcs) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc[1:] if points else arc)
    return points


def _unwrapped(ring: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """A ring that crosses the antimeridian (Fiji, Chukotka) jumps 360° between two points, which would draw a
    line across the whole map: its longitudes are made continuous, and the ring drawn twice, once on each side
    (the map's frame clips what falls outside)."""
    points, shift = [], 0.0
    for index, (lon, lat) in enumerate(ring):
        if index:
            step = lon + shift - points[-1][0]
            if step > 180:
                shift -= 360
            elif step < -180:
                shift += 360
        points.append((lon + shift, lat))
    low, high = min(lon for lon, _ in points), max(lon for lon, _ in points)
    if low < -180:
        return [points, [(lon + 360, lat) for lon, lat in points]]
    if high > 180:
        return [points, [(lon - 360, lat) for lon, lat in points]]
    return [points]


def _path(rings: list[list[tuple[float, float]]]) -> str:
    parts = []
    for ring in (copy for original in rings for copy in _unwrapped(original)):
        grid = [(round((lon + 180) * 10), round((TOP - lat) * 10)) for lon, lat in ring]
        kept = [point for index, point in enumerate(grid) if index == 0 or point != grid[index - 1]]
        if len(kept) < 4:  # a ring smaller than a tenth of a degree: invisible at this scale
            continue
        x, y = kept[0]
        steps = []
        for nx, ny in kept[1:-1] if kept[-1] == kept[0] else kept[1:]:
            steps.append(f"{nx - x} {ny - y}")
            x, y = nx, ny
        parts.append(f"M{kept[0][0]} {kept[0][1]}l" + " ".join(steps).replace(" -", "-") + "z")
    return "".join(parts)


def build(source: Path) -> dict[str, str]:
    topology = json.loads(source.read_text())
    arcs = _arcs(topology)
    alpha2 = _alpha2_by_numeric()
    rings_by_code: dict[str, list] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        numeric = geometry.get("id")
        if numeric in LEFT_OUT:
            continue
        code = alpha2.get(numeric) if numeric else UNNAMED.get(geometry["properties"]["name"])
        if code is None:
            raise SystemExit(f"No alpha-2 code for {geometry['properties']['name']} ({numeric})")
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings_by_code.setdefault(code, []).extend(_ring(ring, arcs) for polygon in polygons for ring in polygon)
    return {code: _path(rings) for code, rings in sorted(rings_by_code.items())}


def main(argv: list[str]) -> None:
    import django  # noqa: PLC0415 -- django-countries reads the settings

    django.setup()
    shapes = build(Path(argv[0]))
    lines = [
        '"""Country shapes for ``iea.charts.world_map``, generated by ``iea/charts_world_build.py`` from Natural',
        "Earth 1:110m admin-0 countries (public domain): equirectangular, one unit a tenth of a degree, from",
        f"latitude {TOP} (y = 0) to {BOTTOM} (y = {HEIGHT}). Do not edit: run the converter again.\"\"\"",
        "",
        "WIDTH = 3600",
        f"HEIGHT = {HEIGHT}",
        "",
        "# fmt: off",
        "SHAPES = {",
        *(f'    "{code}": "{path}",' for code, path in shapes.items() if path),
        "}",
        "",
    ]
    TARGET.write_text("\n".join(lines))
    print(f"{len(shapes)} countries, {TARGET.stat().st_size:,} bytes → {TARGET}")


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iea.settings")
    main(sys.argv[1:])
