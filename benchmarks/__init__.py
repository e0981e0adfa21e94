"""Benchmarks of fastmf (airspeed velocity suite) and the baselines every speed-up is measured against.

* ``baselines.py``: plain NumPy and straightforward Numba Ising samplers, and the timing harness;
* ``bench_lattice.py``: asv ``time_*``, ``track_*`` (flips/ns) and ``peakmem_*`` benchmarks;
* ``report.py``: runs every implementation in one process and prints the Markdown table quoted in the
  README (``python benchmarks/report.py --quick``; ``--json FILE`` saves the numbers).

asv setup
---------
``asv.conf.json`` uses ``"environment_type": "existing"``: asv benchmarks the fastmf already installed in
the Python that runs it (e.g. an editable install) instead of building one environment per commit, which
needs no network and keeps Numba's compilation cache. Typical use, from the repository root::

    pip install asv
    asv machine --yes
    asv run --python=same --quick        # or: asv run --python=same -b LatticeSweep
    asv check --python=same              # only import and list the benchmarks

Results go to ``.asv/`` (git-ignored). Set ``NUMBA_CACHE_DIR`` to reuse compiled kernels across runs.
"""
