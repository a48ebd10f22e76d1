"""Build the API reference offline: pdoc over ``thermolearn`` plus the guide pages.

    python docs/build_docs.py [OUTPUT]            (``make docs``: OUTPUT = build/docs)
    python docs/build_docs.py OUTPUT MODULE ...   (only these modules: what the test builds)

Writes ``OUTPUT/index.html`` (docs/api.md: conventions and runnable examples, doctested by
tests/test_api_docs.py), ``OUTPUT/modules.html`` (every module), ``OUTPUT/guide/architecture.html`` (docs/architecture.md) and
``OUTPUT/guide/benchmarks.html``, and pdoc's pages of every module. Nothing is fetched when
the pages are viewed: pdoc's ``--math`` (KaTeX from a CDN) is off; the docstrings write maths
as plain text.
"""

from __future__ import annotations

import html
import re
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
GUIDE_PAGES = {"architecture": DOCS / "architecture.md", "benchmarks": DOCS / "benchmarks.md"}

# Markdown passes a "<" that is not an HTML tag through raw, and the browser then swallows the
# text up to the next ">": "sum_{i<j}", "<E>", "sum_<ij>". After conversion, every "<" that does
# not open one of the tags markdown writes is escaped.
_TAGS = (
    "a|abbr|b|blockquote|br|code|dd|del|details|div|dl|dt|em|h[1-6]|hr|i|img|input|kbd|li|ol|p|pre|s|"
    "small|span|strong|sub|summary|sup|table|tbody|td|th|thead|tr|u|ul"
)
_STRAY_LT = re.compile(rf"<(?!/?(?:{_TAGS})(?:\s[^<>]*)?/?>|!--)")


def escape_stray_lt(text: str) -> str:
    """``text`` (HTML) with every "<" that starts no tag or comment written as "&lt;"."""
    return _STRAY_LT.sub("&lt;", text)


def _markdown_to_html(text: str) -> str:
    from pdoc import render_helpers

    return escape_stray_lt(str(render_helpers.to_html(text)))


def _configure_pdoc(version: str) -> None:
    import markdown2
    import pdoc.render
    from pdoc import render_helpers

    pdoc.render.configure(
        docformat="restructuredtext",  # the docstrings use ``literals`` and :func: roles
        math=False,
        search=True,
        show_source=True,
        template_directory=DOCS / "pdoc-templates",
        footer_text=f"thermolearn {version}",
    )

    def to_html(docstring: str) -> str:
        out = render_helpers.to_html(docstring)
        fixed = escape_stray_lt(out)
        if fixed == out:
            return out
        # keep the table of contents that pdoc reads from markdown2's result
        keep = markdown2.UnicodeWithAttrs(fixed)
        keep.toc_html = getattr(out, "toc_html", None)
        keep.metadata = getattr(out, "metadata", None)
        return keep

    pdoc.render.env.filters["to_html"] = to_html


def _page(title: str, body: str, version: str, root: str) -> str:
    from pdoc.render import env

    styles = "".join(env.get_template(name).render() for name in ("theme.css", "content.css"))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{styles}\n"
        "body { max-width: 62rem; margin: 0 auto; padding: 1rem 2rem; font-family: system-ui, sans-serif; }\n"
        "nav.thermolearn-guide { margin-bottom: 1rem; }</style>\n</head>\n<body>\n"
        f'<nav class="thermolearn-guide"><a href="{root}index.html">Guide and examples</a> &middot; '
        f'<a href="{root}guide/architecture.html">Architecture</a> &middot; '
        f'<a href="{root}guide/benchmarks.html">Benchmarks</a> &middot; '
        f'<a href="{root}thermolearn.html">API reference</a> &middot; '
        f'<a href="{root}modules.html">All modules</a></nav>\n'
        f'<main class="pdoc">\n{body}\n</main>\n<footer>thermolearn {html.escape(version)}</footer>\n</body>\n</html>\n'
    )


def all_modules() -> list[str]:
    """Every public module of thermolearn. pdoc alone would document only the submodules a package
    lists in ``__all__`` (its lazily exported names are documented there, but the modules behind
    them, with names such as ``kaufman`` that no package exports, would be missing)."""
    import pkgutil

    import thermolearn

    names = ["thermolearn"]
    for info in pkgutil.walk_packages(thermolearn.__path__, "thermolearn."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _module_list(names: list[str]) -> str:
    rows = []
    for name in names:
        doc = (getattr(sys.modules.get(name), "__doc__", None) or "").strip()
        summary = html.escape(doc.splitlines()[0]) if doc else ""
        href = name.replace(".", "/") + ".html"
        rows.append(f'<tr><td><a href="{href}"><code>{name}</code></a></td><td>{escape_stray_lt(summary)}</td></tr>')
    return f"<h1>All modules ({len(names)})</h1>\n<table>\n" + "\n".join(rows) + "\n</table>"


def build(output: str | Path, modules: list[str] | None = None) -> list[Path]:
    """Render the guide pages and pdoc's pages of ``modules`` (default: :func:`all_modules`) into
    ``output``; ``modules.html`` lists every module page with its summary line."""
    import pdoc

    import thermolearn

    out = Path(output)
    version = thermolearn.__version__
    _configure_pdoc(version)
    with warnings.catch_warnings():
        # string annotations of lazily exported names ("np.ndarray" in a TYPE_CHECKING block)
        # cannot be resolved by pdoc; they are shown as written
        warnings.filterwarnings("ignore", message="Error parsing type annotation")
        # a package and its submodules named one by one: pdoc keeps one page of each
        warnings.filterwarnings("ignore", message="The module specification")
        pdoc.pdoc(*(modules or all_modules()), output_directory=out)
        names = sorted({m for m in sys.modules if m == "thermolearn" or m.startswith("thermolearn.")})
        names = [m for m in names if (out / (m.replace(".", "/") + ".html")).exists()]
    written = [out / "index.html", out / "modules.html"]
    written[1].write_text(_page("thermolearn: all modules", _module_list(names), version, ""))
    written[0].write_text(
        _page("thermolearn API reference", _markdown_to_html((DOCS / "api.md").read_text()), version, "")
    )
    (out / "guide").mkdir(exist_ok=True)
    for name, source in GUIDE_PAGES.items():
        target = out / "guide" / f"{name}.html"
        target.write_text(_page(f"thermolearn: {name}", _markdown_to_html(source.read_text()), version, "../"))
        written.append(target)
    return written


if __name__ == "__main__":
    pages = build(sys.argv[1] if len(sys.argv) > 1 else "build/docs", sys.argv[2:] or None)
    print(f"wrote the API reference: open {pages[0]}")
