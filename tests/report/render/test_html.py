"""The HTML report: self-contained, escaped, and it loads cleanly in a real browser."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

import pytest
from PIL import Image

from olscheck.report.render import render_plots, to_html, write_report, write_reports
from olscheck.report.render.view import LEVEL_LABEL
from tests.report.render.browser import find_chromium, inspect_page
from tests.report.render.conftest import HOSTILE, MARKUP

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH (Debian's 'chromium' package; .ci/run installs it when apt-get is available)",
)


class _Elements(HTMLParser):
    """Tags, attributes and text of a document, as the HTML parser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(document: str) -> _Elements:
    parser = _Elements()
    parser.feed(document)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def html(report, plots) -> str:
    return to_html(report, plots=plots, generated="2026-01-01 00:00 UTC")


def test_verdict_is_the_first_line_and_the_banner(html, report):
    parsed = parse(html)
    label = LEVEL_LABEL[report.verdict.level]
    first_heading = next(i for i, (tag, _) in enumerate(parsed.tags) if tag == "h1")
    assert first_heading == min(i for i, (tag, _) in enumerate(parsed.tags) if tag in ("h1", "h2", "p", "table"))
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    assert label.lower() in h1
    assert f"Verdict: {label}" in html
    assert re.search(r'<title>[^<]*' + re.escape(label) + '[^<]*</title>', html)


def test_self_contained_no_script_no_external_url(html):
    parsed = parse(html)
    assert not [tag for tag, _ in parsed.tags if tag in ("script", "iframe", "object", "embed", "link")]
    for tag, attributes in parsed.tags:
        for name, value in attributes.items():
            assert not name.startswith("on"), f"event handler attribute {name} on <{tag}>"
            if name in ("src", "href") and value is not None:
                assert value.startswith(("data:image/png;base64,", "#")), f"<{tag} {name}={value[:60]!r}>"
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", re.sub(r'src="data:[^"]*"', "", html))
    assert "url(" not in html  # no CSS resource either


def test_every_image_is_a_decodable_png(html, plots):
    sources = [attributes["src"] for tag, attributes in parse(html).tags if tag == "img"]
    assert len(sources) == len(plots)
    for source in sources:
        image = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1], validate=True)))
        assert image.format == "PNG"
        image.load()
        assert image.width > 100 and image.height > 100


def test_hostile_column_name_is_escaped_text(html):
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # a categorical level in a coefficient name
    text = "".join(parse(html).text)
    assert HOSTILE in text and MARKUP in text
    assert "<b>" not in html and "<script" not in html.lower()


def root_id(document: str) -> str:
    """The id of the report's root element (``<div class="olscheck" id=...>``)."""
    return next(attributes["id"] for tag, attributes in parse(document).tags
                if tag == "div" and attributes.get("class") == "olscheck")


def local_ids(document: str) -> set[str]:
    """The ids inside the report, without the root's prefix; every id must carry it."""
    root = root_id(document)
    ids = {attributes["id"] for _, attributes in parse(document).tags if attributes.get("id")} - {root}
    assert all(i.startswith(root + "-") for i in ids), sorted(ids)
    return {i[len(root) + 1:] for i in ids}


def section_html(document: str, key: str, until: str) -> str:
    root = root_id(document)
    return document.split(f'id="{root}-{key}"', 1)[1].split(f'id="{root}-{until}"', 1)[0]


def test_sections_tables_remedies_and_footer(html, report):
    parsed = parse(html)
    ids = local_ids(html)
    assert {"verdict", "findings", "linearity", "homoskedasticity", "model", "probe", "data-summary"} <= ids
    text = " ".join(parsed.text)
    for name in report.tests:
        assert name in text
    for remedy in report.verdict.remedies:
        assert remedy.title in text
        assert remedy.code.strip().splitlines()[-1].strip() in text
    assert "olscheck.check(df," in text  # reproducing call
    assert "seed = 0" in text and "statsmodels" in text and "numpy" in text
    assert "Generated" not in text or "2026-01-01" in text
    assert "2026-01-01 00:00 UTC" in text
    # internal links point at sections that exist
    every = {attributes.get("id") for _, attributes in parsed.tags}
    links = [attributes["href"] for tag, attributes in parsed.tags if tag == "a"]
    assert links
    for href in links:
        assert href[1:] in every and href.startswith("#" + root_id(html) + "-")


def test_probe_section_shows_learners_and_plot(html, report):
    probe = report.nonlinearity["probe"]
    assert probe["computed"]
    section = section_html(html, "probe", "data-summary")
    for name in probe["models"]:
        assert (name if name != "ols" else "OLS") in section
    assert 'alt="Out-of-sample comparison"' in section


def test_probe_not_run_says_why(linear_report):
    html = to_html(linear_report, plots=[])
    section = section_html(html, "probe", "data-summary")
    assert "Not run" in section and "probe=False" in section


def css_selectors(document: str) -> list[str]:
    css = document.split("<style>", 1)[1].split("</style>", 1)[0]
    css = re.sub(r"@media[^{]*\{", "", css)  # the rules inside a media query are checked like the others
    return [rule.split("{")[0].strip() for rule in re.findall(r"[^{}]+\{[^{}]*\}", css)]


def test_fragment_for_jupyter(report, plots):
    fragment = to_html(report, plots=plots, fragment=True)
    assert "<html" not in fragment and "<body" not in fragment
    assert fragment.lstrip().startswith("<style>")
    # every rule starts with the root's id: it outranks a notebook's class rules and reaches nothing outside
    root = root_id(fragment)
    selectors = css_selectors(fragment)
    assert len(selectors) > 30
    for selector in selectors:
        for part in selector.split(","):
            assert part.strip() == f"#{root}" or part.strip().startswith(f"#{root} "), selector


def test_the_page_scopes_its_rules_too(html):
    root = root_id(html)
    for selector in css_selectors(html):
        for part in selector.split(","):
            part = part.strip()
            assert part == f"#{root}" or part.startswith(f"#{root} ") or part.startswith("body.olscheck-page"), part


def test_ids_are_stable_per_report_and_differ_between_reports(report, linear_report, plots):
    first, again = to_html(report, plots=plots), to_html(report, plots=plots)
    assert root_id(first) == root_id(again)  # a file is reproducible
    other = to_html(linear_report, plots=[])
    assert root_id(other) != root_id(first)
    assert not {root_id(first) + "-" + i for i in local_ids(first)} & {root_id(other) + "-" + i for i in local_ids(other)}
    # the ids never sit on headings: JupyterLab rewrites the ids of headings in outputs
    assert not [tag for tag, attributes in parse(first).tags if tag in ("h1", "h2", "h3") and attributes.get("id")]


def test_repr_html_is_the_compact_fragment(linear_report):
    fragment = linear_report._repr_html_()
    assert 'class="olscheck"' in fragment and "<html" not in fragment
    # displayed twice in one notebook, each display keeps its own ids
    assert root_id(fragment) != root_id(linear_report._repr_html_())
    assert root_id(fragment).startswith("olscheck-")
    parsed = parse(fragment)
    folded = [attributes["id"] for tag, attributes in parsed.tags if tag == "details" and attributes.get("id")]
    assert {f"{root_id(fragment)}-{key}" for key in ("linearity", "model", "probe", "data-summary")} <= set(folded)
    # the verdict and the findings are not folded away
    assert f'id="{root_id(fragment)}-verdict"' in fragment.split("<details", 1)[0]
    # (the folded Columns table may come first; the findings follow it, outside any folded part)
    unfolded = fragment.split(f'id="{root_id(fragment)}-columns"', 1)[-1].split("</details>", 1)[-1]
    assert f'id="{root_id(fragment)}-findings"' in unfolded.split('class="section"', 1)[0]


def test_compact_findings_name_the_evidence_in_the_judgement_row(report, plots):
    from olscheck.report.render.view import build_view

    compact = to_html(report, plots=[], fragment=True, compact=True)
    table = compact.split('<table class="findings">', 1)[1].split("</table>", 1)[0]
    assert 'class="evidence"' not in table
    view = build_view(report, [])
    assert table.count('class="judgement"') == len(view.problems)
    for judgement in view.problems:
        if judgement.evidence:
            listed = " · ".join(f"{row.check} ({row.severity})" for row in judgement.evidence)
            assert f"Evidence: {listed}" in table
    # the page keeps one row per check
    page = to_html(report, plots=[])
    full = page.split('<table class="findings">', 1)[1].split("</table>", 1)[0]
    assert full.count('<tr class="judgement">') + full.count('<tr class="evidence">') == sum(
        len(j.rows) for j in view.problems)


def test_compact_view_shows_the_key_plots_once(report, plots):
    from olscheck.report.render.view import KEY_PLOTS

    compact = to_html(report, plots=plots, fragment=True, compact=True)
    alts = [attributes["alt"] for tag, attributes in parse(compact).tags if tag == "img"]
    assert sorted(alts) == sorted(plot.title for plot in plots)  # every plot, none twice
    up_front = compact.split('class="section"', 1)[0]
    for plot in plots:
        assert (f'alt="{plot.title}"' in up_front) == (plot.key in KEY_PLOTS), plot.key


def test_reproducible_with_source_date_epoch(linear_report, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    plots = render_plots(linear_report)
    first, second = to_html(linear_report, plots=plots), to_html(linear_report, plots=plots)
    assert first == second
    assert "2026-01-01 00:00 UTC" in first


def test_plots_rendered_once_for_several_formats(linear_report, tmp_path, monkeypatch):
    import olscheck.report.render.plots as plots_module

    calls = []
    original = plots_module.render_plots

    def counting(report, seed=None):
        calls.append(1)
        return original(report, seed)

    monkeypatch.setattr(plots_module, "render_plots", counting)
    write_reports(linear_report, [tmp_path / "a.html", tmp_path / "a.md", tmp_path / "a.json"])
    assert len(calls) == 1
    plots = original(linear_report)
    write_report(linear_report, tmp_path / "b.html", plots=plots)
    write_report(linear_report, tmp_path / "b.md", plots=plots)
    assert len(calls) == 1
    assert (tmp_path / "b_files" / "qq.png").read_bytes() == next(p.png for p in plots if p.key == "qq")


def test_unknown_suffix_is_a_clear_error(linear_report, tmp_path):
    from olscheck.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="report format"):
        write_report(linear_report, tmp_path / "report.pdf")
    assert write_report(linear_report, tmp_path / "report.txt", format="markdown").read_text().startswith("# ")


# ----------------------------------------------------------------------------- in a browser
INSPECT = r"""
(() => {
  const verdict = document.querySelector('[id$="verdict"]');  // the report's is "<root id>-verdict"
  const box = verdict ? verdict.getBoundingClientRect() : null;
  const style = verdict ? getComputedStyle(verdict) : null;
  const matches = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (walker.currentNode.nodeValue.includes('<script>alert(1)</script>')) {
      matches.push(walker.currentNode.parentElement.tagName);
    }
  }
  return JSON.stringify({
    images: Array.from(document.images).map(img => ({complete: img.complete, width: img.naturalWidth,
                                                     height: img.naturalHeight, alt: img.alt})),
    verdictText: verdict ? verdict.innerText : null,
    verdictVisible: !!box && box.width > 0 && box.height > 0 && style.display !== 'none'
                    && style.visibility === 'visible' && parseFloat(style.opacity) > 0
                    && box.top < window.innerHeight,
    headline: document.querySelector('h1') ? document.querySelector('h1').innerText : null,
    scripts: document.scripts.length,
    hostileTextIn: matches,
    bodyText: document.body.innerText.includes('<script>alert(1)</script>'),
    title: document.title,
  });
})()
"""


@needs_chromium
def test_report_loads_cleanly_in_headless_chromium(report, plots, tmp_path):
    path = write_report(report, tmp_path / "report.html", plots=plots)
    page = inspect_page(CHROMIUM, path, INSPECT)
    seen = page.evaluation
    assert page.console_errors == []
    assert len(seen["images"]) == len(plots) > 0
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    label = LEVEL_LABEL[report.verdict.level]
    assert seen["verdictVisible"]
    assert f"Verdict: {label}" in seen["verdictText"]
    assert label.lower() in seen["headline"]
    assert seen["scripts"] == 0
    assert seen["bodyText"] and seen["hostileTextIn"]
    assert all(tag != "SCRIPT" for tag in seen["hostileTextIn"])
    others = [url for url in page.requests if not url.startswith("data:")]
    assert others == [path.resolve().as_uri()]


@needs_chromium
def test_browser_check_catches_broken_images_and_console_errors(tmp_path):
    """The harness itself: a page with a broken image and a console error must not pass."""
    page_path = tmp_path / "broken.html"
    page_path.write_text(
        '<!DOCTYPE html><html><body><div id="verdict">Verdict: Linear</div><h1>x</h1>'
        '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB" alt="truncated">'
        '<script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )
    page = inspect_page(CHROMIUM, page_path, INSPECT)
    assert any("boom" in error for error in page.console_errors)
    assert page.evaluation["scripts"] == 1
    assert page.evaluation["images"][0]["width"] == 0
