"""A self-contained HTML report: sections of prose, tables and PNG figures in one folder.

The page is written last and atomically, so a reader never opens a half-written report.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from thermolearn.storage import write_text_atomic


@dataclass
class Section:
    """One part of the report: a heading, paragraphs, figures (file names) and tables."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (file name, caption)
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)  # (header, rows)
    seconds: float | None = None

    def text(self, paragraph: str) -> Section:
        """Add a paragraph; returns the section."""
        self.paragraphs.append(paragraph)
        return self

    def figure(self, filename: str, caption: str) -> Section:
        """Add a figure (an image file in the report's directory) with its caption; returns the section."""
        self.figures.append((filename, caption))
        return self

    def table(self, header: list[str], rows: list[list[str]]) -> Section:
        """Add a table (header and rows of cells); returns the section."""
        self.tables.append((header, rows))
        return self


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-top: 0; }
section { border-top: 1px solid #ddd; margin-top: 2rem; padding-top: 0.5rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f4f4f4; } .time { color: #888; font-size: 0.85rem; }
nav ul { columns: 2; }
"""


class Report:
    """An HTML report written to ``folder/index.html`` with its figures beside it."""

    def __init__(self, folder: str | os.PathLike, title: str, intro: str = "") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.title = title
        self.intro = intro
        self.sections: list[Section] = []

    def section(self, title: str) -> Section:
        """A new section titled ``title``, appended to the report."""
        sec = Section(title)
        self.sections.append(sec)
        return sec

    def figure_path(self, filename: str) -> Path:
        """Where a figure named ``filename`` is saved (inside the report folder)."""
        return self.folder / filename

    def write(self) -> Path:
        """Write the report to ``folder/index.html`` (figures are files beside it); returns that path."""
        parts = [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{html.escape(self.title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
            f"<p class='meta'>Written {datetime.now(UTC):%Y-%m-%d %H:%M UTC}</p>",
        ]
        if self.intro:
            parts.append(f"<p>{self.intro}</p>")
        parts.append("<nav><ul>")
        for k, sec in enumerate(self.sections):
            parts.append(f"<li><a href='#s{k}'>{html.escape(sec.title)}</a></li>")
        parts.append("</ul></nav>")
        for k, sec in enumerate(self.sections):
            parts.append(f"<section id='s{k}'><h2>{html.escape(sec.title)}</h2>")
            for p in sec.paragraphs:
                parts.append(f"<p>{p}</p>")
            for header, rows in sec.tables:
                parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
                for row in rows:
                    parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
                parts.append("</table>")
            for filename, caption in sec.figures:
                parts.append(
                    f"<figure><img src='{html.escape(filename)}' alt='{html.escape(caption)}'>"
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
            if sec.seconds is not None:
                parts.append(f"<p class='time'>This section ran in {sec.seconds:.1f} s.</p>")
            parts.append("</section>")
        parts.append("</body></html>\n")
        return write_text_atomic(self.folder / "index.html", "\n".join(parts))
