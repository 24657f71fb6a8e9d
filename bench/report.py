"""Write the million-ticket section of bench/RESULTS.md (and its chart) from measured results.

    python -m bench report --dir /var/tmp/wb-archive-sqlite --dir /var/tmp/wb-archive-pg

Reads ``results-<database>.json`` written by ``python -m bench pages`` and ``python -m bench
verify`` in each directory; replaces the section between its markers in RESULTS.md, leaving the
other sections (such as the Request Tracker comparison) as they are; draws bench/results.svg.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path
from typing import Any

from bench.pages import TARGETS_MS

HERE = Path(__file__).resolve().parent
BEGIN = "<!-- million-tickets: begin (python -m bench report) -->"
END = "<!-- million-tickets: end -->"


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    return f"{model}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}"


def verdict(value: float, target: float, higher_is_better: bool = False) -> str:
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "**missed**"


def table(results: list[dict[str, Any]]) -> list[str]:
    names = [f["name"] for f in results[0]["figures"]]
    header = "| operation | target p95 |"
    rule = "| --- | ---: |"
    for r in results:
        header += f" {r['database']} median | {r['database']} p95 | |"
        rule += " ---: | ---: | --- |"
    lines = [header, rule]
    for name in names:
        target = TARGETS_MS.get(name)
        row = f"| {name} | {f'{target} ms' if target else ''} |"
        for r in results:
            figure = next(f for f in r["figures"] if f["name"] == name)
            mark = verdict(figure["p95_ms"], target) if target else ""
            row += f" {figure['median_ms']:.1f} ms | {figure['p95_ms']:.1f} ms | {mark} |"
        lines.append(row)
    row = "| citation checking, entries/s | ≥ 2,000 |"
    for r in results:
        rate = r["citations_per_second"]
        row += f" {rate:,} | | {verdict(rate, 2000, higher_is_better=True)} |"
    lines.append(row)
    row = "| web worker peak memory | ≤ 200 MB |"
    for r in results:
        row += f" {r['web_peak_rss_mb']} MB | | {verdict(r['web_peak_rss_mb'], 200)} |"
    lines.append(row)
    if all("verify_load" in r for r in results):
        row = "| verify API under wrk, 2 workers | ≥ 1,000/s, p99 ≤ 50 ms |"
        for r in results:
            v = r["verify_load"]
            ok = v["requests_per_second"] >= 1000 and v.get("p99_ms", 1e9) <= 50
            row += (
                f" {v['requests_per_second']:,.0f}/s | p99 {v.get('p99_ms')} ms |"
                f" {'met' if ok else '**missed**'} |"
            )
        lines.append(row)
    return lines


def chart(results: list[dict[str, Any]], path: Path) -> None:
    """A horizontal bar chart of p95 per operation and database, with the target marked."""
    names = [f["name"] for f in results[0]["figures"] if f["name"] in TARGETS_MS]
    bar, gap, left, width = 12, 10, 190, 420
    top = max(
        max(f["p95_ms"] for r in results for f in r["figures"] if f["name"] in TARGETS_MS),
        max(TARGETS_MS.values()),
    )
    scale = width / top
    colours = ["#36c", "#d33", "#fc3"]
    height = len(names) * (len(results) * bar + gap) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" '
        f'height="{height}" font-family="sans-serif" font-size="11">'
    ]
    y = 10
    for name in names:
        parts.append(f'<text x="{left - 6}" y="{y + bar}" text-anchor="end">{name}</text>')
        for i, r in enumerate(results):
            figure = next(f for f in r["figures"] if f["name"] == name)
            w = max(1.0, figure["p95_ms"] * scale)
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" '
                f'fill="{colours[i % 3]}"/>'
                f'<text x="{left + w + 4:.1f}" y="{y + bar - 3}">{figure["p95_ms"]:.0f} ms</text>'
            )
            y += bar
        tx = left + TARGETS_MS[name] * scale
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y - len(results) * bar}" y2="{y}" '
            'stroke="#000" stroke-dasharray="3,2"/>'
        )
        y += gap
    for i, r in enumerate(results):
        parts.append(
            f'<rect x="{left + i * 120}" y="{y + 6}" width="10" height="10" '
            f'fill="{colours[i % 3]}"/><text x="{left + i * 120 + 14}" y="{y + 15}">'
            f"{r['database']} p95</text>"
        )
    parts.append(f'<text x="{left + len(results) * 120}" y="{y + 15}">dashed: target</text></svg>')
    path.write_text("\n".join(parts) + "\n")


def section(results: list[dict[str, Any]]) -> str:
    first = results[0]
    lines = [
        BEGIN,
        "## At a million tickets",
        "",
        f"`python -m bench archive` generated {first['tickets']:,} tickets and "
        f"{first['articles']:,} articles (40 queues in a tree, 400 volunteers, Zipf-distributed "
        "queues, senders and words, threads up to 200 articles, an attachment on one article in "
        "twenty) into each database; `python -m bench pages` timed each operation through the "
        "Flask app in-process (the store's real queries, views and templates), as a volunteer "
        "with every queue (dashboard, queue and ticket pages) or with exactly five (searches); "
        "`python -m bench verify` ran gunicorn with 2 workers under wrk on loopback.",
        "",
        f"Machine: {machine()}. Runs: "
        + ", ".join(f"{r['database']} {r['when']}" for r in results)
        + ". The machine was shared with other work during these runs; p95 on a shared "
        "2-core machine is noisy.",
        "",
        *table(results),
        "",
        "![p95 per operation and target](results.svg)",
        END,
    ]
    return "\n".join(lines)


def write(results: list[dict[str, Any]], out: Path) -> None:
    text = out.read_text() if out.exists() else "# Benchmark results\n"
    block = section(results)
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        head, _, tail = text.partition("\n")
        text = f"{head}\n\n{block}\n{tail}"
    out.write_text(text)
    chart(results, out.parent / "results.svg")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench report", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--dir", action="append", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    results = []
    for directory in args.dir:
        found = sorted(directory.glob("results-*.json"))
        if not found:
            raise SystemExit(f"no results in {directory}: run python -m bench pages first")
        results.extend(json.loads(p.read_text()) for p in found)
    write(results, args.out)
    print(f"written: {args.out}")
