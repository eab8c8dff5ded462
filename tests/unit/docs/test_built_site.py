"""The built documentation renders: math goes to KaTeX (shipped with the site), no raw Sphinx
role, no ``\\[`` outside the math KaTeX renders, no escaped HTML in headings, an explicit nav."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
RAW_ROLE = re.compile(r":(math|class|func|meth|attr|mod|data|exc|obj):`")


class _Text(HTMLParser):
    """Visible text outside rendered math, code and scripts; heading sources."""

    SKIP = {"script", "style", "code", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[tuple[str, bool]] = []
        self.text: list[str] = []
        self.headings: list[str] = []
        self._heading: list[str] | None = None

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "meta", "link", "input", "hr"):
            return
        cls = dict(attrs).get("class") or ""
        self.stack.append((tag, tag in self.SKIP or "arithmatex" in cls.split()))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = []

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append("".join(self._heading))
            self._heading = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)
        if not self._skipping():
            self.text.append(data)

    def handle_entityref(self, name):
        if self._heading is not None:
            self._heading.append(f"&{name};")

    def handle_charref(self, name):
        self.handle_entityref(f"#{name}")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d",
                           str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_nav_is_explicit_and_complete():
    cfg = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    listed: set[str] = set()

    def walk(node):
        if isinstance(node, str):
            listed.add(node)
        elif isinstance(node, list):
            for x in node:
                walk(x)
        elif isinstance(node, dict):
            for x in node.values():
                walk(x)

    walk(cfg["nav"])
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages == listed, (pages - listed, listed - pages)


@pytest.mark.slow
def test_built_pages_render(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 30
    assert (site / "assets/katex/katex.min.js").is_file()
    assert list((site / "assets/katex/fonts").glob("*.woff2"))
    problems = []
    math_pages = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for src in re.findall(r'<script[^>]+src="([^"]+)"', html):
            if src.startswith(("http:", "https:", "//")):
                problems.append(f"{page}: script from the network {src}")
        parser = _Text()
        parser.feed(html)
        text = "".join(parser.text)
        if RAW_ROLE.search(text):
            problems.append(f"{page}: raw role {RAW_ROLE.search(text).group(0)}")
        for token in ("\\[", "\\(", ".. math::"):
            if token in text:
                i = text.index(token)
                problems.append(f"{page}: {token!r} outside math: {text[max(0, i - 60):i + 60]!r}")
        for h in parser.headings:
            if re.search(r"&amp;(lt|gt|amp|quot|#\d+);", h):  # shows as a literal "&lt;"
                problems.append(f"{page}: escaped HTML in heading {h!r}")
        if 'class="arithmatex"' in html:
            math_pages += 1
            assert "katex.min.js" in html and "katex-init.js" in html, page
    assert not problems, "\n".join(problems[:20])
    assert math_pages >= 10
