"""The offline base map: the TopoJSON decoder, the projection, and the SVG drawn from the vendored countries."""

from __future__ import annotations

import re
from itertools import pairwise

from kizuna.threats.geo import basemap

# Two squares sharing an edge (arc 0), quantised and delta-encoded like world-atlas.
TOPOLOGY = {
    "type": "Topology",
    "transform": {"scale": [0.5, 0.5], "translate": [100.0, 10.0]},
    "arcs": [
        [[2, 0], [0, 2]],  # (101,10) -> (101,11): shared edge
        [[2, 2], [-2, 0], [0, -2], [2, 0]],  # (101,11) -> (100,11) -> (100,10) -> (101,10)
        [[2, 0], [2, 0], [0, 2], [-2, 0]],  # (101,10) -> (102,10) -> (102,11) -> (101,11)
    ],
    "objects": {"countries": {"type": "GeometryCollection", "geometries": [
        {"type": "Polygon", "arcs": [[0, 1]], "properties": {"name": "West"}},
        {"type": "MultiPolygon", "arcs": [[[2, -1]]], "properties": {"name": "East"}},
        {"type": "Point", "coordinates": [0, 0]},
    ]}},
}


def test_decoder_follows_arcs_and_reversed_arcs() -> None:
    decoded = dict(basemap.decode_topology(TOPOLOGY))
    assert decoded["West"] == [[(101.0, 10.0), (101.0, 11.0), (100.0, 11.0), (100.0, 10.0), (101.0, 10.0)]]
    # ~0 is arc 0 reversed; the joining point is not repeated.
    assert decoded["East"] == [[(101.0, 10.0), (102.0, 10.0), (102.0, 11.0), (101.0, 11.0), (101.0, 10.0)]]
    assert set(decoded) == {"West", "East"}  # points are not countries


def test_projection_puts_the_corners_at_the_corners_and_north_up() -> None:
    view = basemap.VIEWS["indo-pacific"]
    assert view.project(view.west, view.north) == (0.0, 0.0)
    assert view.project(view.east, view.south) == (basemap.WIDTH, view.height)
    tokyo, manila = view.project(139.7, 35.7), view.project(121.0, 14.6)
    assert tokyo[0] > manila[0] and tokyo[1] < manila[1]
    assert view.contains(139.7, 35.7) and not view.contains(-30.0, 10.0)


def test_base_map_draws_the_partners_and_nothing_external() -> None:
    svg = basemap.base_svg("east-asia")
    for name in ("Japan", "South Korea", "North Korea", "China", "Philippines"):
        assert f"<title>{name}</title>" in svg, name
    assert "Brazil" not in svg  # outside the window: not drawn at all
    assert "http" not in svg and "style=" not in svg
    path = re.search(r'd="([^"]+)"', svg)
    assert path and re.fullmatch(r"(M-?\d+,-?\d+l[-\d ,]*z)+", path.group(1))


def test_unknown_view_falls_back_to_the_whole_theatre() -> None:
    assert basemap.view_for("atlantic").key == basemap.DEFAULT_VIEW
    assert basemap.view_for(None).key == basemap.DEFAULT_VIEW


def test_rings_across_the_antimeridian_are_not_drawn_across_the_map() -> None:
    view = basemap.VIEWS["indo-pacific"]
    # A Fiji-like ring: 177E .. 180 .. 178W and back.
    ring = [(177.0, -17.0), (179.9, -17.0), (-179.9, -17.5), (-178.0, -18.0), (179.0, -18.5), (177.0, -17.0)]
    unwrapped = basemap._unwrap(view, ring)
    assert max(abs(b[0] - a[0]) for a, b in pairwise(unwrapped)) < 5
    assert min(p[0] for p in unwrapped) == 177.0
    # A ring wholly west of the window (the Aleutians beyond 180 seen from the west) is moved into it.
    assert basemap._unwrap(view, [(-186.0, 52.0), (-185.0, 52.5), (-186.0, 52.0)])[0][0] == 174.0
    # No subpath of the drawn map spans more than the map's width in one step.
    for d in re.findall(r'class="geo-land" d="([^"]+)"', basemap.base_svg("indo-pacific")):
        for subpath in d.split("M")[1:]:
            steps = [int(n) for n in re.findall(r"-?\d+", subpath.split("l", 1)[1])]
            assert max((abs(dx) for dx in steps[0::2]), default=0) < 500
