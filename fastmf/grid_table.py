"""The table and the figure of a grid (see :mod:`fastmf.grid`): CSV or Parquet, written atomically, and
``grid.png``, the results against the first grid parameter.

The figure has one panel per result column (default: every numeric column but the ``_se`` ones), or the panels
the config's ``plot`` names: a column, or a list of columns drawn together (e.g. a VAE's rate and the data's
mutual information against the KL weight). In each panel one line per combination of the other grid parameters
except ``seed``; a point is the mean over seeds, its error bar the standard error over seeds, or, with one seed,
the column's own standard error (``<column>_se``) when the results have one. The x axis is logarithmic when its
values are positive and span a factor of 20 or more, the y axis when its means are positive and span a factor of 50
or more. The columns of one panel share the colour of each line (one per combination of the other parameters)
and differ in their line style.
"""
import itertools
import math
import pathlib

import numpy as np

from .io import atomic_write

__all__ = ["INSTALL_EXTRA", "MissingExtraError", "draw_figure", "read_table", "write_columns", "write_table"]

#: How to install what ``fastmf grid`` needs beyond fastmf (Dask and pyarrow); ``sweep`` is the extra's old name.
INSTALL_EXTRA = 'pip install "fastmf[grid]"'


class MissingExtraError(ImportError, RuntimeError):
    """An optional dependency of ``fastmf grid`` (Dask, or pyarrow for a Parquet table) is not installed; the
    message names the extra to install (:data:`INSTALL_EXTRA`). Both an ImportError and a RuntimeError."""


def pyarrow_modules():
    """Import pyarrow for a Parquet table.

    Returns
    -------
    tuple
        ``(pyarrow, pyarrow.parquet)``.

    Raises
    ------
    MissingExtraError
        pyarrow is not installed (the message names the extra to install).
    """
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise MissingExtraError(f"a .parquet table needs pyarrow, which is not installed ({exc}): {INSTALL_EXTRA} "
                                "(or pip install pyarrow), or use a .csv table") from None
    return pyarrow, pyarrow.parquet


def write_table(path, rows):
    """Write rows to a CSV or Parquet table (by suffix), atomically.

    Parameters
    ----------
    path : str or path
        ``.csv`` or ``.parquet`` (needs pyarrow) file.
    rows : list of dict
        Flat dicts with the same keys (the columns, in the first row's order).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return write_columns(path, {c: [r[c] for r in rows] for c in (rows[0] if rows else ())})


def write_columns(path, columns):
    """Write ``{column: values}`` (in the dict's order; None is an empty cell) as CSV or Parquet, atomically.

    Parameters
    ----------
    path : str or path
        ``.csv`` or ``.parquet`` (needs pyarrow) file.
    columns : dict
        Column name -> list of values, all of one length.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = pathlib.Path(path)
    if path.suffix == ".parquet":
        pa, pq = pyarrow_modules()
        table = pa.table(columns)
        return atomic_write(path, lambda fh: pq.write_table(table, fh))
    import csv
    import io
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(columns))
    for row in zip(*columns.values()):
        writer.writerow([repr(v) if isinstance(v, float) else v for v in row])
    return atomic_write(path, lambda fh: fh.write(buf.getvalue().encode()))


def read_table(path):
    """Read a table written by :func:`write_table`.

    Parameters
    ----------
    path : str or path
        ``.csv`` or ``.parquet`` file.

    Returns
    -------
    dict
        Column name -> list of values (numbers parsed from CSV).
    """
    path = pathlib.Path(path)
    if path.suffix == ".parquet":
        return pyarrow_modules()[1].read_table(path).to_pydict()
    import csv
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    out = {c: [] for c in rows[0]}
    for row in rows[1:]:
        for c, v in zip(rows[0], row):
            try:
                v = int(v)
            except ValueError:
                try:
                    v = float(v)
                except ValueError:
                    pass
            out[c].append(v)
    return out


def _numeric(values):
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)


def _panels(columns, params, plot):
    """The panels: tuples of result columns, the config's ``plot`` (columns present) or every numeric one."""
    if plot:
        panels = [tuple(c for c in (p if isinstance(p, tuple) else (p,)) if c in columns) for p in plot]
    else:
        panels = [(c,) for c in columns if c not in params and not c.endswith("_se")]
    return [p for p in panels if p and all(_numeric(columns[c]) for c in p)]


def draw_figure(path, columns, grid, params, plot=()):
    """Draw the results against the first grid parameter (see the module docstring) into ``path``.

    Parameters
    ----------
    path : str or path
        The PNG file (written atomically).
    columns : dict
        The table's columns.
    grid : dict
        The config's grid (its first parameter is the x axis).
    params : iterable of str
        The parameter columns (grid and fixed): not results.
    plot : tuple
        The config's ``plot`` (empty: every numeric result column but the ``_se`` ones).

    Returns
    -------
    bool
        Whether a figure was drawn (not when the x axis or every result is not numeric).
    """
    from .experiments.report import pyplot, save_png
    x_name = next(iter(grid))
    xcol = columns[x_name]
    panels = _panels(columns, set(params), plot)
    if not _numeric(xcol) or not panels:
        return False
    groups = [g for g in grid if g not in (x_name, "seed")]
    row_keys = list(zip(*(columns[g] for g in groups))) if groups else [()] * len(xcol)
    keys = sorted(set(row_keys), key=lambda k: [(0, v, "") if _numeric([v]) else (1, 0, repr(v)) for v in k])
    xs_all = [x for x in xcol if x is not None]
    log_x = min(xs_all) > 0 and max(xs_all) >= 20 * min(xs_all)
    plt = pyplot()
    n = len(panels)
    cols = min(4, n)
    fig, axs = plt.subplots(-(-n // cols), cols, figsize=(4.2 * cols, 3.4 * -(-n // cols)), squeeze=False)
    for ax in axs.ravel()[n:]:
        ax.set_visible(False)
    colours = [c["color"] for c in plt.rcParams["axes.prop_cycle"]]
    for ax, panel in zip(axs.ravel(), panels):
        ys = []
        for style, col in zip(itertools.cycle(("-", "--", ":", "-.")), panel):
            se_col = columns.get(col + "_se")
            by_key = {}                                   # key -> x -> [(value, its own SE)], in grid order
            for i, (key, x, v) in enumerate(zip(row_keys, xcol, columns[col])):
                if v is not None:
                    by_key.setdefault(key, {}).setdefault(x, []).append((v, se_col[i] if se_col else None))
            for n_key, key in enumerate(keys):
                sel = by_key.get(key, {})
                xs = sorted(sel)
                mean = [float(np.mean([v for v, _ in sel[x]])) for x in xs]
                se = [float(np.std([v for v, _ in sel[x]], ddof=1) / math.sqrt(len(sel[x]))) if len(sel[x]) > 1
                      else float(sel[x][0][1] or 0.0) for x in xs]
                label = ", ".join(([col] if len(panel) > 1 else []) + [f"{g} = {k}" for g, k in zip(groups, key)])
                ax.errorbar(xs, mean, yerr=se, fmt="o", ls=style, ms=3, color=colours[n_key % len(colours)],
                            label=label or None)
                ys += mean
        ax.set_xlabel(x_name)
        ax.set_ylabel(" / ".join(panel))
        if log_x:
            ax.set_xscale("log")
        if ys and min(ys) > 0 and max(ys) >= 50 * min(ys):
            ax.set_yscale("log")
        if groups or len(panel) > 1:
            ax.legend(fontsize=7)
    fig.tight_layout()
    save_png(fig, path, dpi=100)
    return True
