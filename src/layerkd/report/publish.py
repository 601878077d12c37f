"""What the aggregate notebooks write, and what they read, in one place.

The aggregate stage runs four notebooks in order (``notebooks/04_aggregate_*``:
main results, statistics, ablations, angles). Each gathers its tables,
figures and macros in a ``Part``; ``Part.save`` writes them to
``paper/parts/<part>.json`` and rebuilds ``paper/macros.tex`` and
``paper/README.md`` from every part saved so far, so after the last notebook
both hold everything, and a notebook run again alone (in JupyterLab)
refreshes its own share. Figures go to ``paper/figures`` at full resolution;
the notebook shows a smaller copy (``INLINE_WIDTH``) so that it stays a few
hundred kilobytes to open.

The loaders (``runs``, ``llm``, ``setting_ablation``, ``transfer``,
``angle_reports``) are the inputs every notebook shares: the finished runs
the current parameters define.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
from IPython.display import Image, Markdown, display

from .. import paths
from ..config import LLM_TASK, Params
from ..io import atomic_write_json, atomic_write_text
from . import collect, paper_text, tables
from . import llm as rl
from . import transfer as tr
from . import ablations as ar
from .verdict import wide_latex

PARTS = ("results", "statistics", "ablations", "angles")  # the notebooks' order
PARTS_DIR = paths.PAPER / "parts"
INLINE_WIDTH = 900  # pixels of a figure's copy inside a notebook


# --- inputs ---------------------------------------------------------------------

def runs(params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(teachers, students): the main runs the current parameters define (stale
    folders of removed tasks, inits, strategies or seeds are left out)."""
    teachers, students = collect.collect(paths.RESULTS)
    d = params.distill
    students = students[students["task"].isin(params.tasks) & students["init"].isin(d.inits)
                        & students["strategy"].isin(d.strategies) & students["seed"].isin(d.seeds)]
    return teachers[teachers["task"].isin(params.tasks)], students


def llm(params: Params) -> tuple[pd.Series, pd.DataFrame]:
    """(teacher, students) of the decoder-only task."""
    return rl.collect_llm(paths.RESULTS, params.llm)


def cell_runs(students: pd.DataFrame, llm_students: pd.DataFrame) -> pd.DataFrame:
    """Every (task, init) cell's runs; the decoder-only cell by its multiple-choice score."""
    return pd.concat([students, llm_students.assign(score=llm_students["test_mc"])],
                     ignore_index=True)


def setting_ablation(params: Params, students: pd.DataFrame, kind: str) -> pd.DataFrame | None:
    """The runs of the ``objective`` or ``a_hid`` ablation (None when it is off)."""
    if not params.ablations.sweep(kind).tasks:
        return None
    return ar.setting_runs(collect.collect_setting_ablation(paths.RESULTS, kind), students,
                           params, kind)


def transfer(params: Params, students: pd.DataFrame) -> pd.DataFrame:
    """The transfer-set ablation's runs (empty when it is off: every macro "n/a")."""
    if not params.ablations.transfer.tasks:
        return pd.DataFrame(columns=tr.COLUMNS)
    return tr.transfer_runs(collect.collect_setting_ablation(paths.RESULTS, "transfer"),
                            students, params)


def angle_reports(params: Params) -> dict[str, dict]:
    """The angle stage's report of every task, the decoder-only one included."""
    return {t: json.loads(paths.angles_file(t).read_text()) for t in [*params.tasks, LLM_TASK]}


# --- outputs --------------------------------------------------------------------

def inline_png(path: Path, width: int = INLINE_WIDTH) -> bytes:
    """A smaller copy of a figure for the notebook: at most ``width`` pixels wide,
    in an adaptive 256-colour palette (plots have few colours)."""
    from PIL import Image as PILImage

    with PILImage.open(path) as im:
        im = im.convert("RGB")
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)), PILImage.LANCZOS)
        out = io.BytesIO()
        im.quantize(colors=256).save(out, format="PNG", optimize=True)
    return out.getvalue()


class Part:
    """One notebook's tables, figures, macros and report sections."""

    def __init__(self, name: str):
        if name not in PARTS:
            raise ValueError(f"part {name!r} is not one of {PARTS}")
        self.name = name
        self.values: dict[str, str] = {}
        self.sections: list[tuple[str, str]] = []
        self.figures: list[tuple[str, str]] = []

    def table(self, name: str, table: pd.DataFrame, caption: str, widths=None,
              show: bool = True) -> None:
        """Markdown and LaTeX (``widths``: paragraph columns for tables of long text),
        strategies and inits by their labels; shown as a table in the notebook."""
        table = tables.display_labels(table)
        atomic_write_text(paths.TABLES / f"{name}.md", tables.to_markdown(table))
        atomic_write_text(paths.TABLES / f"{name}.tex",
                          wide_latex(table, caption, f"tab:{name}", widths) if widths
                          else tables.to_latex(table, caption, f"tab:{name}"))
        plain = caption.replace("\\%", "%").replace("$\\pm$", "±").replace("\\_", "_")
        self.sections.append((name, f"*{plain}*\n\n" + tables.to_markdown(table)))
        if show:
            display(Markdown(f"**{name}**: *{plain}*"), table)

    def figure(self, path: Path, caption: str, show: bool = True) -> None:
        self.figures.append((str(Path(path).relative_to(paths.PAPER)), caption))
        if show:
            display(Markdown(f"*{caption}*"), Image(data=inline_png(path)))

    def text(self, name: str, markdown: str) -> None:
        """A section of findings in words (the report and the notebook)."""
        self.sections.append((name, markdown))
        display(Markdown(markdown))

    def save(self) -> dict[str, str]:
        """Write this part, rebuild macros.tex and README.md from every part saved;
        returns the macros of all of them."""
        atomic_write_json(PARTS_DIR / f"{self.name}.json",
                          {"values": self.values, "sections": self.sections,
                           "figures": self.figures})
        return assemble()


def saved_parts() -> list[dict]:
    return [json.loads((PARTS_DIR / f"{p}.json").read_text()) for p in PARTS
            if (PARTS_DIR / f"{p}.json").exists()]


def assemble() -> dict[str, str]:
    """paper/macros.tex and paper/README.md from the saved parts, in ``PARTS`` order."""
    parts = saved_parts()
    values = {k: v for part in parts for k, v in part["values"].items()}
    sections = [tuple(s) for part in parts for s in part["sections"]]
    figures = [tuple(f) for part in parts for f in part["figures"]]
    machine = paper_text.machine()
    values |= {paper_text.macro_name("machine", k): str(v).replace("_", "\\_")
               for k, v in machine.items()}
    sections.insert(0, ("Machine", "\n".join(f"- {k}: {v}" for k, v in machine.items())))
    atomic_write_text(paths.MACROS, paper_text.macros_tex(values))
    atomic_write_text(paths.REPORT, paper_text.markdown_report(sections, figures))
    return values
