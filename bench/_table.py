"""Rewrite the figures table of bench/README.md from the last run of each bench (var/bench/<name>.json)."""

import json
import re
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def flat(prefix: str, value, out: dict) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            flat(f"{prefix}.{key}" if prefix else key, inner, out)
    elif isinstance(value, (int, float, bool)) or (isinstance(value, str) and len(value) < 40):
        out[prefix] = value


def main() -> None:
    rows = []
    for path in sorted((ROOT / "var" / "bench").glob("*.json")):
        lines = [line for line in path.read_text().splitlines() if line.startswith("{")]
        if not lines:
            continue
        figures: dict = {}
        flat("", json.loads(lines[-1]), figures)
        loop = figures.pop("machine.python_loop_us", "?")
        figures.pop("machine.cores", None)
        for key, value in figures.items():
            rows.append(f"| `{path.stem}` | {key} | {value} | {loop} |")
    table = "\n".join([f"{date.fromtimestamp(max((p.stat().st_mtime for p in (ROOT / 'var' / 'bench').glob('*.json')), default=0)).isoformat()}:", "",
                       "| bench | figure | value | python_loop_us |", "|---|---|---|---|", *rows])
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text()
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), f"{START}\n{table}\n{END}", text, flags=re.S)
    readme.write_text(text)


if __name__ == "__main__":
    main()
