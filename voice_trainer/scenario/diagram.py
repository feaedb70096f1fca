"""The scenario's state diagram as a self-contained SVG (and an HTML page around it) that opens offline.

Drawn here from the scenario's rules, with no layout engine: the method's phases are columns in teaching
order, the endings the last column; each state shows its id and its description. One arrow per pair of
states, labelled with the moves that lead along it (the rules and their conditions are in its tooltip).
What leads to an ending from every state (the engine's hang-up and quit, and rules `from: "*"`) starts at
one box "any state" instead of from each state.
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field

from voice_trainer.scenario.schema import Conditions, ScenarioFile, names

ANY = "*"
NODE_WIDTH = 250
LINE_HEIGHT = 15
TITLE_HEIGHT = 22
COLUMN_GAP = 190
ROW_GAP = 34
MARGIN = 40
DESCRIPTION_CHARS = 32
DESCRIPTION_LINES = 4
LABEL_CHARS = 28
LABEL_HEIGHT = 14
CHAR_WIDTH = 6.2  # of an 11px label, on average: enough to keep labels apart


@dataclass
class _Node:
    id: str
    title: str
    lines: list[str]
    kind: str  # "state", "initial", "success", "failure", "any"
    column: int = 0
    x: float = 0
    y: float = 0

    @property
    def height(self) -> float:
        return TITLE_HEIGHT + LINE_HEIGHT * len(self.lines) + 10


@dataclass
class _Edge:
    source: str
    dest: str
    moves: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)


def svg(s: ScenarioFile) -> str:
    nodes = _nodes(s)
    edges = _edges(s)
    _place(s, nodes)
    width = max(n.x + NODE_WIDTH for n in nodes.values()) + MARGIN + 90  # room for loops within a column
    height = max(n.y + n.height for n in nodes.values()) + MARGIN + 60  # and for arrows back under the boxes
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12" role="img">',
        f"<title>{_esc(s.title)} ({_esc(s.scenario)}, {_esc(s.language)})</title>",
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
        "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>",
        _style(),
        *_phase_headers(s, nodes),
    ]
    placed: list[tuple[float, float, float, float]] = [(n.x, n.y, n.x + NODE_WIDTH, n.y + n.height)
                                                        for n in nodes.values()]
    for i, edge in enumerate(edges):
        out.append(_edge_svg(edge, nodes, i, placed))
    for node in nodes.values():
        out.append(_node_svg(node))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def html_page(s: ScenarioFile) -> str:
    """A page with the diagram inline and a table of the states: one file, no scripts, nothing fetched."""
    rows = "\n".join(
        f"<tr><td><code>{_esc(name)}</code></td><td>{_esc(_phase_title(s, st.phase))}</td>"
        f"<td>{_esc(st.description)}</td></tr>"
        for name, st in s.states.items()
    )
    endings = "\n".join(
        f"<tr><td><code>{_esc(name)}</code></td><td>{'success' if e.success else 'failure'}</td>"
        f"<td>{_esc(e.description)}</td></tr>"
        for name, e in s.endings.items()
    )
    return f"""<!doctype html>
<html lang="{_esc(s.language)}">
<head>
<meta charset="utf-8">
<title>{_esc(s.title)}: state diagram</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
.diagram {{ overflow-x: auto; border: 1px solid #ddd; padding: 0.5em; }}
table {{ border-collapse: collapse; margin-top: 1em; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
</style>
</head>
<body>
<h1>{_esc(s.title)}</h1>
<p><code>{_esc(s.scenario)}</code> ({_esc(s.language)}). {_esc(s.summary)}</p>
<p>Hover an arrow for the rules behind it and their conditions.</p>
<div class="diagram">
{svg(s)}</div>
<h2>States</h2>
<table><tr><th>state</th><th>phase</th><th>description</th></tr>
{rows}
</table>
<h2>Endings</h2>
<table><tr><th>ending</th><th>kind</th><th>description</th></tr>
{endings}
</table>
</body>
</html>
"""


# -- what is drawn ---------------------------------------------------------------------------------------


def _nodes(s: ScenarioFile) -> dict[str, _Node]:
    nodes: dict[str, _Node] = {}
    for name, st in s.states.items():
        nodes[name] = _Node(name, name, _wrap(st.description), "initial" if st.initial else "state")
    for name, ending in s.endings.items():
        nodes[name] = _Node(name, name, _wrap(ending.description), "success" if ending.success else "failure")
    nodes[ANY] = _Node(ANY, "any state", _wrap("the engine's hang-up and quit, and rules from \"*\""), "any")
    return nodes


def _edges(s: ScenarioFile) -> list[_Edge]:
    found: dict[tuple[str, str], _Edge] = {}

    def add(source: str, dest: str, move: str, rule: str) -> None:
        edge = found.setdefault((source, dest), _Edge(source, dest))
        if move not in edge.moves:
            edge.moves.append(move)
        edge.rules.append(rule)

    for i, rule in enumerate(s.rules):
        if rule.to is None:
            continue
        for move in names(rule.on):
            for source in _sources(s, rule.from_, rule.to):
                add(source, rule.to, move, f"rules[{i}]: {move}{_when(rule.when)}")
    for i, auto in enumerate(s.auto):
        for source in _sources(s, auto.from_, auto.to):
            add(source, auto.to, "(by himself)", f"auto[{i}]{_when(auto.when)}")
    for name, trigger in (("hang_up", "anger at max"), ("quit", "trainee left")):
        ending = getattr(s.reactions, name).ending
        if ending:
            add(ANY, ending, trigger, f"reactions.{name}")
    return [e for e in found.values() if e.source != e.dest]


def _sources(s: ScenarioFile, value: object, dest: str) -> list[str]:
    sources = names(value)  # type: ignore[arg-type]
    if ANY in sources and dest in s.endings:
        return [ANY]
    return list(s.states) if ANY in sources else sources


def _when(c: Conditions | None) -> str:
    if c is None:
        return ""
    given = c.model_dump(exclude_none=True, by_alias=True)
    return " when " + ", ".join(f"{k}: {v}" for k, v in given.items())


# -- layout ----------------------------------------------------------------------------------------------


def _place(s: ScenarioFile, nodes: dict[str, _Node]) -> None:
    """Columns: the phases that have states, in teaching order, then the endings with "any state" below them."""
    phases = [p.id for p in s.phases if any(st.phase == p.id for st in s.states.values())]
    columns: list[list[str]] = [[n for n, st in s.states.items() if st.phase == p] for p in phases]
    columns[-1].append(ANY)
    columns.append(list(s.endings))
    top = MARGIN + 30
    for c, members in enumerate(columns):
        y = top
        for name in members:
            node = nodes[name]
            node.column = c
            node.x = MARGIN + c * (NODE_WIDTH + COLUMN_GAP)
            node.y = y
            y += node.height + ROW_GAP


def _phase_headers(s: ScenarioFile, nodes: dict[str, _Node]) -> list[str]:
    out = []
    titles = {p.id: p.title for p in s.phases}
    seen: set[int] = set()
    for name, st in s.states.items():
        node = nodes[name]
        if node.column in seen:
            continue
        seen.add(node.column)
        out.append(_text(node.x, MARGIN + 6, _clip(titles.get(st.phase, st.phase), 40), "phase"))
    first_ending = nodes[next(iter(s.endings))]
    out.append(_text(first_ending.x, MARGIN + 6, "Endings", "phase"))
    return out


# -- drawing ---------------------------------------------------------------------------------------------


def _style() -> str:
    return """<style>
.state rect { fill: #f4f7fb; stroke: #4a6fa5; }
.initial rect { fill: #e6f0ff; stroke: #1f4f99; stroke-width: 2.5; }
.success rect { fill: #e8f6e8; stroke: #2e7d32; }
.failure rect { fill: #fdecea; stroke: #c62828; }
.any rect { fill: #f5f5f5; stroke: #888; stroke-dasharray: 5 3; }
.id { font-weight: bold; font-family: monospace; font-size: 13px; }
.phase { font-weight: bold; fill: #555; }
.edge path { fill: none; stroke: #555; stroke-width: 1.2; }
.edge.back path { stroke: #a05a00; stroke-dasharray: 4 3; }
.edge text { fill: #333; font-size: 11px; }
.label-bg { fill: #ffffff; fill-opacity: 0.85; }
</style>"""


def _node_svg(node: _Node) -> str:
    parts = [f'<g class="node {node.kind}" id="node-{_esc(_safe_id(node.id))}">',
             f"<title>{_esc(node.id)}</title>",
             f'<rect x="{node.x:.0f}" y="{node.y:.0f}" width="{NODE_WIDTH}" height="{node.height:.0f}" rx="8"/>',
             _text(node.x + 10, node.y + 17, node.title, "id")]
    for i, line in enumerate(node.lines):
        parts.append(_text(node.x + 10, node.y + TITLE_HEIGHT + 12 + i * LINE_HEIGHT, line, "description"))
    if node.kind == "initial":
        cx, cy = node.x - 22, node.y + node.height / 2
        parts.append(f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="6" fill="#1f4f99"/>')
        parts.append(f'<path d="M{cx + 6:.0f},{cy:.0f} L{node.x:.0f},{cy:.0f}" stroke="#1f4f99" '
                     'marker-end="url(#arrow)"/>')
    parts.append("</g>")
    return "\n".join(parts)


def _edge_svg(edge: _Edge, nodes: dict[str, _Node], index: int, placed: list[tuple[float, float, float, float]]) -> str:
    a, b = nodes[edge.source], nodes[edge.dest]
    forward = b.column > a.column
    spread = (index % 5 - 2) * 6  # arrows between the same boxes fan out a little
    if forward:
        x1, y1 = a.x + NODE_WIDTH, a.y + a.height / 2 + spread
        x2, y2 = b.x, b.y + b.height / 2 + spread / 2
        bend = max(40.0, (x2 - x1) / 2)
        curve = ((x1, y1), (x1 + bend, y1), (x2 - bend, y2), (x2, y2))
        at = _at_x(curve, x1 + COLUMN_GAP / 2)  # the label in the gap after the source: never on a box
    elif b.column == a.column:  # within a column: a loop out to the right
        x1, y1 = a.x + NODE_WIDTH, a.y + a.height * 0.7
        x2, y2 = b.x + NODE_WIDTH, b.y + b.height * 0.3
        reach = 50 + abs(y2 - y1) * 0.15
        curve = ((x1, y1), (x1 + reach, y1), (x2 + reach, y2), (x2, y2))
        at = _point(curve, 0.5)
    else:  # back to an earlier phase: under the boxes
        x1, y1 = a.x + NODE_WIDTH / 2 + spread, a.y + a.height
        x2, y2 = b.x + NODE_WIDTH / 2 + spread, b.y + b.height
        depth = 40 + 12 * (a.column - b.column)
        curve = ((x1, y1), (x1, y1 + depth), (x2, y2 + depth), (x2, y2))
        at = _point(curve, 0.5)
    (p0x, p0y), (c1x, c1y), (c2x, c2y), (p3x, p3y) = curve
    d = f"M{p0x:.0f},{p0y:.0f} C{c1x:.0f},{c1y:.0f} {c2x:.0f},{c2y:.0f} {p3x:.0f},{p3y:.0f}"
    label = _clip(", ".join(edge.moves), LABEL_CHARS)
    tooltip = f"{edge.source} → {edge.dest}\n" + "\n".join(edge.rules)
    width = CHAR_WIDTH * len(label) + 8
    lx, ly = _free_spot(at, width, placed)
    kind = "edge" if forward or b.column == a.column else "edge back"
    return "\n".join([
        f'<g class="{kind}"><title>{_esc(tooltip)}</title>',
        f'<path d="{d}" marker-end="url(#arrow)"/>',
        f'<rect class="label-bg" x="{lx - width / 2:.0f}" y="{ly - 10:.0f}" width="{width:.0f}" height="{LABEL_HEIGHT}" rx="3"/>',
        f'<text x="{lx:.0f}" y="{ly + 1:.0f}" text-anchor="middle">{_esc(label)}</text>',
        "</g>",
    ])


Point = tuple[float, float]


def _point(curve: tuple[Point, Point, Point, Point], t: float) -> Point:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = curve
    u = 1 - t
    return (u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3,
            u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3)


def _at_x(curve: tuple[Point, Point, Point, Point], x: float) -> Point:
    """The point of the curve whose x is closest to `x` (sampled; the curves run left to right)."""
    return min((_point(curve, i / 40) for i in range(41)), key=lambda p: abs(p[0] - x))


def _free_spot(at: Point, width: float, placed: list[tuple[float, float, float, float]]) -> Point:
    """Where the label's box overlaps no box and no label placed before it: at `at`, else nudged up or down."""
    x, y = at
    for step in range(0, 24):
        offset = (step + 1) // 2 * (LABEL_HEIGHT + 2) * (1 if step % 2 else -1)
        box = (x - width / 2, y + offset - 10, x + width / 2, y + offset - 10 + LABEL_HEIGHT)
        if not any(box[0] < r[2] and r[0] < box[2] and box[1] < r[3] and r[1] < box[3] for r in placed):
            placed.append(box)
            return x, y + offset
    placed.append((x - width / 2, y - 10, x + width / 2, y - 10 + LABEL_HEIGHT))
    return x, y


def _text(x: float, y: float, text: str, cls: str) -> str:
    return f'<text class="{cls}" x="{x:.0f}" y="{y:.0f}">{_esc(text)}</text>'


def _wrap(text: str) -> list[str]:
    lines = textwrap.wrap(" ".join(text.split()), DESCRIPTION_CHARS)
    if len(lines) > DESCRIPTION_LINES:
        lines = lines[:DESCRIPTION_LINES]
        lines[-1] = _clip(lines[-1] + " …", DESCRIPTION_CHARS)
    return lines


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _phase_title(s: ScenarioFile, phase: str) -> str:
    return next((p.title for p in s.phases if p.id == phase), phase)


def _safe_id(name: str) -> str:
    return "any" if name == ANY else name


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
