"""The offline base map: the vendored Natural Earth countries (world-atlas TopoJSON) decoded here, projected with a
simple Mercator over a window of the Indo-Pacific, and drawn as SVG path data on the server.

No tiles and no requests to anyone: the page carries its own map. Decoding and projecting 1:50m countries takes a
fraction of a second, so the SVG of each view is built once per process and cached. Markers are placed with
``MapView.project``; points outside the window are reported as such (the page lists them instead of drawing them).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from django.utils.html import escape

TOPOJSON = Path(__file__).resolve().parent / "static" / "geo" / "vendor" / "countries-50m.json"
WIDTH = 1000.0

Point = tuple[float, float]
Ring = list[Point]


@dataclass(frozen=True)
class MapView:
    """A rectangular window in longitude/latitude, drawn WIDTH wide with a Mercator projection."""

    key: str
    west: float
    east: float
    south: float
    north: float
    graticule_step: int

    @staticmethod
    def _merc(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    @property
    def height(self) -> float:
        span_x = math.radians(self.east - self.west)
        return round(WIDTH * (self._merc(self.north) - self._merc(self.south)) / span_x, 1)

    def project(self, lon: float, lat: float) -> Point:
        x = (lon - self.west) / (self.east - self.west) * WIDTH
        top, bottom = self._merc(self.north), self._merc(self.south)
        y = (top - self._merc(lat)) / (top - bottom) * self.height
        return round(x, 1), round(y, 1)

    def contains(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north


VIEWS: dict[str, MapView] = {
    # The whole theatre: from the western Indian Ocean to the antimeridian, from New Zealand to the Sea of Okhotsk.
    "indo-pacific": MapView("indo-pacific", 40.0, 180.0, -47.0, 56.0, 20),
    # Where most maritime reports of the partners fall: Korean Peninsula, East and South China Seas, Japan.
    "east-asia": MapView("east-asia", 100.0, 160.0, 0.0, 50.0, 10),
}
DEFAULT_VIEW = "indo-pacific"


def decode_topology(topology: dict[str, Any], object_name: str = "countries") -> list[tuple[str, list[Ring]]]:
    """TopoJSON to (name, rings) per geometry: the arcs are delta-encoded and quantised; a negative arc index ``~i``
    means arc ``i`` reversed; consecutive arcs of a ring share their joining point."""
    transform = topology.get("transform")
    scale_x, scale_y = transform["scale"] if transform else (1.0, 1.0)
    move_x, move_y = transform["translate"] if transform else (0.0, 0.0)
    arcs: list[list[Point]] = []
    for arc in topology["arcs"]:
        x = y = 0.0
        points: list[Point] = []
        for position in arc:
            if transform:
                x += position[0]
                y += position[1]
                points.append((x * scale_x + move_x, y * scale_y + move_y))
            else:
                points.append((float(position[0]), float(position[1])))
        arcs.append(points)

    def ring_of(indexes: list[int]) -> Ring:
        ring: Ring = []
        for index in indexes:
            points = arcs[index] if index >= 0 else arcs[~index][::-1]
            ring.extend(points[1:] if ring else points)
        return ring

    result: list[tuple[str, list[Ring]]] = []
    for geometry in topology["objects"][object_name]["geometries"]:
        name = str((geometry.get("properties") or {}).get("name", ""))
        kind = geometry.get("type")
        if kind == "Polygon":
            polygons = [geometry["arcs"]]
        elif kind == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue
        result.append((name, [ring_of(ring) for polygon in polygons for ring in polygon]))
    return result


@lru_cache(maxsize=1)
def _countries() -> list[tuple[str, list[Ring]]]:
    return decode_topology(json.loads(TOPOJSON.read_text(encoding="utf-8")))


def _path_of(view: MapView, ring: Ring) -> str:
    """One closed SVG subpath in whole map units, relative after the first point (a third of the absolute form's
    size); points that round to the previous one are dropped, which is most of 1:50m at this scale."""
    points: list[tuple[int, int]] = []
    for lon, lat in ring:
        x, y = view.project(lon, lat)
        point = (round(x), round(y))
        if not points or point != points[-1]:
            points.append(point)
    if len(points) < 4:
        return ""
    out = [f"M{points[0][0]},{points[0][1]}l"]
    for (x0, y0), (x1, y1) in pairwise(points):
        dx, dy = x1 - x0, y1 - y0
        out.append(f"{'' if dx < 0 or len(out) == 1 else ' '}{dx}{'' if dy < 0 else ','}{dy}")
    return "".join(out) + "z"


def _unwrap(view: MapView, ring: Ring) -> Ring:
    """world-atlas keeps rings whole across the antimeridian (Russia, Fiji): a step of more than 180 degrees is a
    crossing, not a line across the map; the ring is made continuous, then moved by 360 degrees if that brings it into
    the window (the Aleutians beyond 180 degrees)."""
    out: Ring = []
    shift = 0.0
    previous: float | None = None
    for lon, lat in ring:
        if previous is not None and abs(lon - previous) > 180:
            shift += 360.0 if lon < previous else -360.0
        previous = lon
        out.append((lon + shift, lat))
    lons = [p[0] for p in out]
    if lons and max(lons) < view.west:
        out = [(lon + 360.0, lat) for lon, lat in out]
    elif lons and min(lons) > view.east:
        out = [(lon - 360.0, lat) for lon, lat in out]
    return out


def _visible(view: MapView, ring: Ring) -> bool:
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return max(lons) >= view.west and min(lons) <= view.east and max(lats) >= view.south and min(lats) <= view.north


def _graticule(view: MapView) -> str:
    step = view.graticule_step
    lines: list[str] = []
    labels: list[str] = []
    lon = math.ceil(view.west / step) * step
    while lon <= view.east:
        x, _y = view.project(lon, view.north)
        lines.append(f"M{x:g},0V{view.height:g}")
        hemisphere = "E" if lon >= 0 else "W"
        labels.append(f'<text class="geo-graticule-label" x="{x + 2:g}" y="{view.height - 4:g}">{abs(lon)}°{hemisphere}</text>')
        lon += step
    lat = math.ceil(view.south / step) * step
    while lat <= view.north:
        _x, y = view.project(view.west, lat)
        lines.append(f"M0,{y:g}H{WIDTH:g}")
        hemisphere = "N" if lat > 0 else ("S" if lat < 0 else "")
        labels.append(f'<text class="geo-graticule-label" x="4" y="{y - 3:g}">{abs(lat)}°{hemisphere}</text>')
        lat += step
    return f'<path class="geo-graticule" d="{"".join(lines)}"/>' + "".join(labels)


@lru_cache(maxsize=len(VIEWS))
def base_svg(view_key: str) -> str:
    """The inner SVG of the base map (sea, countries with their names as tooltips, graticule) for one view.

    Built from the vendored file only; country names are escaped. The caller wraps it in its ``<svg>``."""
    view = VIEWS[view_key]
    shapes = [f'<rect class="geo-sea" x="0" y="0" width="{WIDTH:g}" height="{view.height:g}"/>']
    for name, rings in _countries():
        unwrapped = (_unwrap(view, ring) for ring in rings)
        d = "".join(_path_of(view, ring) for ring in unwrapped if ring and _visible(view, ring))
        if d:
            shapes.append(f'<path class="geo-land" d="{d}"><title>{escape(name)}</title></path>')
    shapes.append(_graticule(view))
    return "".join(shapes)


def view_for(key: str | None) -> MapView:
    return VIEWS.get(key or "", VIEWS[DEFAULT_VIEW])
