"""The HTML report of a demo run: each demo's verdict, summary, checks, tables and figures.

One self-contained page (figures linked by relative path, so the folder can be moved or zipped).

>>> write_report(results, "demo-output")      # -> demo-output/report.html
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from deepnum.demos.context import _cell, columns

_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
.passed { color: #1a7f37; } .failed, .error { color: #cf222e; } .unavailable { color: #9a6700; }
table { border-collapse: collapse; margin: .5em 0; font-size: 90%; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
th { background: #f6f8fa; } td.left, th.left { text-align: left; }
figure { display: inline-block; margin: .5em; vertical-align: top; }
figure img { max-width: 100%; } figcaption { font-size: 85%; max-width: 900px; }
pre { background: #f6f8fa; padding: .5em; overflow-x: auto; font-size: 85%; }
"""

_MAX_ROWS = 40  # long tables (e.g. per-epoch curves) are cut in the page; the CSV has them all


def _e(text) -> str:
    return html.escape(str(text))


def _table(rows: list[dict]) -> str:
    if not rows:
        return ""
    names = columns(rows)
    head = "".join(f"<th>{_e(c)}</th>" for c in names)
    body = "".join("<tr>" + "".join(f"<td>{_e(_cell(row.get(c, '')))}</td>" for c in names)
                   + "</tr>" for row in rows[:_MAX_ROWS])
    more = (f"<tr><td colspan='{len(names)}' class='left'>... {len(rows) - _MAX_ROWS} more rows "
            f"in the CSV</td></tr>" if len(rows) > _MAX_ROWS else "")
    return f"<table><tr>{head}</tr>{body}{more}</table>"


def _section(result) -> str:
    parts = [f"<h2 id='{_e(result.name)}'>{_e(result.name)} "
             f"<span class='{result.status}'>[{result.status}]</span></h2>",
             f"<p><em>{_e(result.title)}</em> ({result.seconds:.1f} s)</p>"]
    if result.summary:
        parts.append(f"<p>{_e(result.summary)}</p>")
    if result.message:
        parts.append(f"<pre>{_e(result.message)}</pre>")
    if result.checks:
        rows = "".join(f"<tr><td class='left {'passed' if c.passed else 'failed'}'>"
                       f"{'ok' if c.passed else 'FAIL'}</td><td class='left'>{_e(c.name)}</td>"
                       f"<td class='left'>{_e(c.detail)}</td></tr>" for c in result.checks)
        parts.append(f"<table><tr><th class='left'></th><th class='left'>check</th>"
                     f"<th class='left'>measured</th></tr>{rows}</table>")
    for file, caption, rows in result.tables:
        parts.append(f"<p>{_e(caption)} (<a href='{_e(result.name)}/{_e(file)}'>{_e(file)}</a>)"
                     f"</p>{_table(rows)}")
    for file, caption in result.figures:
        src = f"{result.name}/{file}"
        parts.append(f"<figure><img src='{_e(src)}' alt='{_e(caption)}'>"
                     f"<figcaption>{_e(caption)}</figcaption></figure>")
    return "\n".join(parts)


def write_report(results, out_dir, fast: bool = False) -> Path:
    """Write ``out_dir/report.html`` for ``results`` (each demo's files in ``out_dir/NAME``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {s: sum(r.status == s for r in results)
              for s in ("passed", "failed", "error", "unavailable")}
    overview = "".join(
        f"<tr><td class='left'><a href='#{_e(r.name)}'>{_e(r.name)}</a></td>"
        f"<td class='left {r.status}'>{r.status}</td><td class='left'>{_e(r.title)}</td>"
        f"<td>{r.seconds:.1f}</td></tr>" for r in results)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>deepnum demos</title>
<style>{_STYLE}</style></head><body>
<h1>deepnum demos: the lectures' claims, run and checked</h1>
<p>{time.strftime('%Y-%m-%d %H:%M')}, {'fast' if fast else 'full'} mode.
{', '.join(f'{n} {s}' for s, n in counts.items() if n)}.</p>
<table><tr><th class='left'>demo</th><th class='left'>verdict</th><th class='left'>claim</th>
<th>seconds</th></tr>{overview}</table>
{''.join(_section(r) for r in results)}
</body></html>
"""
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
