"""Parsing kubectl's column output (tabwriter: every cell starts where its header does)."""

import re


def parse_table(text: str) -> list[dict[str, str]]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    rows = []
    for ln in lines[1:]:
        row = {}
        for i, name in enumerate(names):
            end = starts[i + 1] if i + 1 < len(starts) else None
            row[name] = ln[starts[i]:end].strip() if starts[i] < len(ln) else ""
        rows.append(row)
    return rows


def parse_list_cell(cell: str) -> list[str]:
    """`[get list watch]` or `get,list,watch` -> ['get', 'list', 'watch']; '', '[]', '<none>' -> []."""
    cell = cell.strip()
    if cell.startswith("[") and cell.endswith("]"):
        cell = cell[1:-1]
    if cell == "<none>":
        return []
    return cell.replace(",", " ").split()
