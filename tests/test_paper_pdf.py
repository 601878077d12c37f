"""The paper builds: no table or figure runs off the page, every reference and
citation resolves; and read as printed (poppler's ``pdftotext -bbox``: every
word with its box), no text is set below a legible size or outside the
margins, no name has lost its underscore, and the body ends within its page
budget. Skipped where LaTeX or poppler-utils is not installed (make latex-deps)."""

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PAPER = Path(__file__).resolve().parents[1] / "paper"
MAX_OVERFULL_PT = 10.0  # a few points of overfull line are invisible; a table is not
# pdftotext's word box is about 0.89 of the type size in Times (11 pt text: 9.8 pt,
# \scriptsize 8 pt: 7.1, a subscript of it 6.3): below 6 pt of box the type is under
# about 6.7 pt, what a table shrunk to the line width comes out at.
MIN_WORD_HEIGHT_PT = 6.0
MARGIN_PT = 2.2 / 2.54 * 72  # geometry's margin in main.tex (2.2 cm)
MARGIN_SLACK_PT = 3.0        # a line a few points overfull is invisible
BODY_PAGES = 14              # the paper's body, references included; the appendix follows
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                  r"([^<]*)</word>")
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


def overfull_boxes(log: str, limit: float = MAX_OVERFULL_PT) -> list[str]:
    """'Overfull \\hbox (Xpt too wide)' / '\\vbox (Xpt too high)' lines with X > limit."""
    found = re.findall(r"Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too (?:wide|high)\)[^\n]*", log)
    lines = re.findall(r"Overfull \\[hv]box \(\d+(?:\.\d+)?pt too (?:wide|high)\)[^\n]*", log)
    return [line for pt, line in zip(found, lines) if float(pt) > limit]


def unresolved(log: str) -> list[str]:
    return re.findall(r"LaTeX Warning: (?:Reference|Citation) `[^']+' [^\n]*undefined", log)


def test_overfull_and_unresolved_parsers_on_a_known_log():
    log = ("Overfull \\hbox (3.1pt too wide) in paragraph at lines 1--2\n"
           "Overfull \\hbox (250.7pt too wide) in alignment at lines 5--90\n"
           "Overfull \\vbox (400.0pt too high) has occurred while \\output is active\n"
           "LaTeX Warning: Reference `tab:x' on page 3 undefined on input line 7.\n"
           "LaTeX Warning: Citation `yu2025layer' on page 1 undefined on input line 9.\n")
    assert len(overfull_boxes(log)) == 2 and len(unresolved(log)) == 2


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("latexmk") is None, reason="LaTeX not installed")
def test_paper_builds_without_overflow_and_with_every_reference(tmp_path):
    if not (PAPER / "macros.tex").exists():
        pytest.skip("paper/macros.tex not generated yet (dvc repro)")
    build(PAPER, tmp_path / "paper")
    log = (tmp_path / "paper" / "main.log").read_text(errors="replace")
    assert overfull_boxes(log) == []
    assert unresolved(log) == []
    assert "There were undefined references" not in log


# --- the PDF as printed -------------------------------------------------------

def pdf_pages(bbox_html: str) -> list[dict]:
    """``pdftotext -bbox`` output as pages: width, height and words (x0, y0, x1, y1, text)."""
    return [{"width": float(w), "height": float(h),
             "words": [(float(a), float(b), float(c), float(d), html.unescape(t))
                       for a, b, c, d, t in WORD.findall(body)]}
            for w, h, body in PAGE.findall(bbox_html)]


def small_words(pages, min_height: float = MIN_WORD_HEIGHT_PT) -> list[str]:
    return [f"page {i}: {t!r} ({y1 - y0:.1f} pt)" for i, p in enumerate(pages, 1)
            for x0, y0, x1, y1, t in p["words"] if y1 - y0 < min_height]


def words_outside_margins(pages, margin: float = MARGIN_PT,
                          slack: float = MARGIN_SLACK_PT) -> list[str]:
    """Words left or right of the text block (by more than ``slack``), or off the page."""
    return [f"page {i}: {t!r} at x {x0:.0f}-{x1:.0f}" for i, p in enumerate(pages, 1)
            for x0, y0, x1, y1, t in p["words"]
            if x0 < margin - slack or x1 > p["width"] - margin + slack
            or y0 < 0 or y1 > p["height"]]


def underscore_names(tex_sources) -> set[str]:
    """Names the sources write with an escaped underscore (numbers\\_ro, a\\_hid,
    p\\_t\\_holm), less those whose spaced form the sources also mean as words
    ("forward above reverse") or as a subscript ($a_{hid}$): only a space that
    stands for an underscore is a lost one."""
    text = " ".join(tex_sources)
    words = re.sub(r"\s+", " ", re.sub(r"_\{([^}]*)\}", r" \1", text))
    names = {m.replace("\\_", "_") for m in
             re.findall(r"[A-Za-z0-9]+(?:\\_[A-Za-z0-9]+)+", text)}
    return {n for n in names
            if not re.search(rf"(?<![\w-]){re.escape(n.replace('_', ' '))}(?![\w-])", words)}


def lost_underscores(text: str, names) -> list[str]:
    """Names that the PDF's text shows with a space where the underscore was."""
    return sorted(n for n in names
                  if re.search(rf"(?<![\w-]){re.escape(n.replace('_', ' '))}(?![\w-])", text))


def appendix_page(pages) -> int | None:
    """The page whose first line is the appendix's heading."""
    for i, p in enumerate(pages, 1):
        if p["words"] and p["words"][0][4] == "Appendix":
            return i
    return None


PLANTED = r"""<page width="612.000000" height="792.000000">
<word xMin="62.4" yMin="80" xMax="100" yMax="89.8">Appendix</word>
<word xMin="62.4" yMin="100" xMax="120" yMax="109.8">numbers ro</word>
<word xMin="300" yMin="120" xMax="330" yMax="124.2">tiny</word>
<word xMin="500" yMin="140" xMax="620" yMax="149.8">overflowing</word>
</page>"""


def test_layout_checks_on_a_known_page():
    pages = pdf_pages(PLANTED)
    assert len(pages) == 1 and appendix_page(pages) == 1
    assert small_words(pages) == ["page 1: 'tiny' (4.2 pt)"]
    assert [w.split(":")[1].split(" at")[0] for w in words_outside_margins(pages)] == [
        " 'overflowing'"]
    names = underscore_names([r"\texttt{numbers\_ro}, a\_hid 3, p\_t\_holm, a\_b",
                              r"$x_{y}$ and x\_y; a b as words"])
    assert names == {"numbers_ro", "a_hid", "p_t_holm"}
    assert lost_underscores("on numbers ro the a_hid", names) == ["numbers_ro"]
    assert lost_underscores("numbers_ro, a_hid and p_t_holm", names) == []


def pdftotext_bbox(pdf: Path) -> str:
    out = pdf.with_suffix(".html")
    subprocess.run(["pdftotext", "-bbox", str(pdf), str(out)], check=True, timeout=120)
    return out.read_text(errors="replace")


def build(paper: Path, into: Path) -> Path:
    """latexmk in a copy of ``paper`` (its generated files, without earlier builds)."""
    shutil.copytree(paper, into, ignore=shutil.ignore_patterns(
        "main.pdf", "*.aux", "*.fls", "*.fdb_latexmk", "*.log", "*.bbl", "*.blg", "*.out"))
    run = subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
                          "main.tex"], cwd=into, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, (into / "main.log").read_text(errors="replace")[-3000:]
    return into / "main.pdf"


def layout_problems(paper_dir: Path, pdf: Path) -> dict[str, list]:
    pages = pdf_pages(pdftotext_bbox(pdf))
    text = " ".join(w[4] for p in pages for w in p["words"])
    sources = [f.read_text(errors="replace") for f in
               [paper_dir / "main.tex", paper_dir / "macros.tex",
                *sorted((paper_dir / "tables").glob("*.tex"))] if f.exists()]
    start = appendix_page(pages)
    return {"small": small_words(pages), "outside margins": words_outside_margins(pages),
            "lost underscores": lost_underscores(text, underscore_names(sources)),
            "body pages": [] if start is not None and start - 1 <= BODY_PAGES
            else [f"appendix starts on page {start} (body at most {BODY_PAGES} pages)"]}


needs_tools = pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext")
                                 is None, reason="LaTeX or poppler-utils not installed")


@pytest.mark.slow
@needs_tools
def test_paper_reads_at_print_size(tmp_path):
    """Every word of the built paper legible, inside the margins, with its underscores."""
    if not (PAPER / "macros.tex").exists():
        pytest.skip("paper/macros.tex not generated yet (dvc repro)")
    problems = layout_problems(PAPER, build(PAPER, tmp_path / "paper"))
    assert not any(problems.values()), {k: v[:10] for k, v in problems.items() if v}


@pytest.mark.slow
@needs_tools
def test_layout_check_fails_on_a_planted_overflowing_table(tmp_path):
    """The check above catches a table shrunk to the line width and one that runs
    into the margin, in a document with the paper's own preamble."""
    main = (PAPER / "main.tex").read_text()
    preamble = main[:main.index(r"\input{macros.tex}")]
    doc = tmp_path / "doc"
    (doc / "tables").mkdir(parents=True)
    row = " & ".join(["numbers\\_ro"] + [f"column {i} of a wide table" for i in range(9)])
    table = rf"\begin{{tabular}}{{{'l' * 10}}}{row}\\\end{{tabular}}"
    (doc / "main.tex").write_text(
        preamble + r"\begin{document}" + "\n" + "Text.\n\n"
        + r"\noindent\resizebox{\linewidth}{!}{" + table + "}\n\n"  # shrunk: tiny type
        + r"\noindent" + table + "\n\n"                             # runs off the page
        + r"\end{document}" + "\n")
    problems = layout_problems(doc, build(doc, tmp_path / "built"))
    assert problems["small"] and problems["outside margins"]
