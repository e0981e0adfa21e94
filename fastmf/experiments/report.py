"""Reports of ``fastmf reproduce``: ``report.md`` (numbers, what was expected, what was found), ``summary.json``
and PNG figures, all written atomically into one directory.
"""
import json
import pathlib

from ..io.samples import atomic_write, json_default

__all__ = ["Report", "save_png"]


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
                      json.dumps(self.summary, indent=2, default=json_default).encode())
        return self.out / "report.md"


def pyplot():
    """matplotlib.pyplot with a non-interactive backend (figures are files)."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt
