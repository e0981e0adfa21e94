"""Reports of ``fastmf reproduce``: ``report.md`` (numbers, what was expected, what was found), ``summary.json``
and PNG figures, all written atomically into one directory.
"""
import json
import pathlib

import numpy as np

from ..io.samples import atomic_write, json_default

__all__ = ["Report", "save_png", "strict_json"]


def _atomic_write(path, data):
    atomic_write(path, lambda fh: fh.write(data))


def save_png(fig, path, dpi=110):
    """Write a matplotlib figure to ``path`` as PNG (atomically) and close it."""
    import io

    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    _atomic_write(path, buf.getvalue())


class Report:
    """Collects sections, tables, checks and figures; :meth:`write` puts them in ``out``."""

    def __init__(self, out, title):
        self.out = pathlib.Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.title = title
        self.lines = [f"# {title}", ""]
        self.summary = {"experiment": title, "checks": {}}
        self.figures = []

    def text(self, *lines):
        self.lines.extend(lines)
        self.lines.append("")

    def table(self, header, rows):
        self.lines.append("| " + " | ".join(header) + " |")
        self.lines.append("|" + "---|" * len(header))
        for row in rows:
            self.lines.append("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) + " |")
        self.lines.append("")

    def check(self, name, passed, expected, found):
        """A pass/fail line: what was expected, what was found."""
        self.summary["checks"][name] = {"passed": bool(passed), "expected": expected, "found": found}
        self.lines.append(f"- **{name}**: {'PASS' if passed else 'FAIL'} — expected {expected}; found {found}")

    def figure(self, name, fig, caption):
        """Save a matplotlib figure as ``name.png`` (atomically) and reference it."""
        save_png(fig, self.out / f"{name}.png")
        self.figures.append(f"{name}.png")
        self.lines.extend([f"![{caption}]({name}.png)", "", f"*{caption}*", ""])

    @property
    def passed(self):
        return all(c["passed"] for c in self.summary["checks"].values())

    def write(self, **summary):
        self.summary.update(summary, figures=self.figures, passed=self.passed)
        _atomic_write(self.out / "report.md", ("\n".join(self.lines) + "\n").encode())
        _atomic_write(self.out / "summary.json",
                      json.dumps(strict_json(self.summary), indent=2, default=json_default, allow_nan=False).encode())
        return self.out / "report.md"


def strict_json(obj):
    """``obj`` with every NaN or infinite number (Python or NumPy, also inside arrays) replaced by None: JSON has no
    NaN, and strict parsers (jq, JavaScript, ``json.loads(parse_constant=...)``) refuse Python's ``NaN`` token. An
    undefined statistic (e.g. the correlation between two constant vectors) is reported as null."""
    if isinstance(obj, dict):
        return {k: strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return strict_json(obj.tolist())
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def pyplot():
    """matplotlib.pyplot with a non-interactive backend (figures are files)."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt
