"""Benchmarks of fastmf (airspeed velocity suite) and the baselines every speed-up is measured against.

* ``competent.py``: what a user who cares about speed writes in plain Numba (integer threshold tables, an inline
  xorshift64* generator, maintained order parameters): the denominator of every headline ratio;
* ``baselines.py``: the naive Numba and NumPy Ising samplers, and the lattice timing harness;
* ``bench_*.py``: asv ``time_*``, ``track_*`` and ``peakmem_*`` benchmarks (lattice, mean field, exact
  enumeration, VAE, refusals);
* ``report*.py``: run every implementation in one process (interleaved rounds, best of k) and print the tables
  quoted in the docs, with the targets met or MISSED (``python benchmarks/report.py --quick``).

asv setup
---------
``asv.conf.json`` uses ``"environment_type": "existing"``: asv benchmarks the fastmf already installed in
the Python that runs it (e.g. an editable install) instead of building one environment per commit, which
needs no network and keeps Numba's compilation cache. Typical use, from the repository root::

    pip install -e ".[bench]"
    asv machine --yes
    asv check --python=same              # import and list the benchmarks (tests/test_asv.py runs this)
    asv run --python=same --quick        # or: asv run --python=same -b LatticeSweep

Results go to ``.asv/`` (git-ignored), and only with ``--set-commit-hash HASH``: compare two checkouts with
``asv compare HASH1 HASH2`` (``asv continuous`` refuses existing environments). Set ``NUMBA_CACHE_DIR`` to reuse
compiled kernels across runs.

asv imports every module here and instantiates every public class in a module's namespace that has a method
named ``time_*``, ``track_*``, ``mem_*`` or ``peakmem_*``: import fastmf classes inside functions (or under a
private name) in scripts that are not benchmarks.
"""
