"""Sphinx configuration of the fastmf documentation.

Build (offline, no network needed)::

    python -m sphinx -W -b html docs docs/_build

The API reference is generated at every build: ``api/index.rst`` names the two top-level packages (``fastmf`` and
``fastmf.kernels``, which lives in ``kernels/`` at the repository root), and every public module below them is
found by walking the packages (:func:`discover_modules`), so moved, renamed or new modules appear without editing
the docs. The stubs go to ``api/generated/`` (a build product, ignored by git). Deprecated alias modules (those
that raise a ``DeprecationWarning`` when imported) and private modules (leading underscore) are left out.
"""
import ast
import importlib
import importlib.util
import os
import pkgutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
try:  # fastmf is normally installed (pip install -e .); fall back to the checkout.
    importlib.import_module("fastmf")
except ImportError:  # pragma: no cover
    sys.path.insert(0, ROOT)

import fastmf  # noqa: E402

project = "fastmf"
author = "fastmf developers"
copyright = "fastmf developers"
release = fastmf.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
]

# The build must work offline: no intersphinx inventories are fetched.
intersphinx_mapping = {}

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
language = "en"

html_theme = "alabaster"
html_static_path = []
# the local table of contents lists a module page's classes and functions
html_sidebars = {"**": ["about.html", "navigation.html", "localtoc.html", "relations.html", "searchbox.html"]}
html_title = f"fastmf {release}"
html_theme_options = {"description": "Fast many-body spin simulation, lean VAEs and exact mean-field read-off",
                      "fixed_sidebar": False, "page_width": "1100px"}

# -- API reference ------------------------------------------------------------------------------------------------
autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = False
autosummary_ignore_module_all = False
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True,
                           "member-order": "bysource"}
autodoc_typehints = "none"
autodoc_inherit_docstrings = True
autoclass_content = "class"

# Optional dependencies that may be absent where the docs are built.
OPTIONAL = ("cupy", "torch", "dask", "distributed", "pyarrow", "cupyx")
autodoc_mock_imports = [m for m in OPTIONAL if importlib.util.find_spec(m) is None]

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

#: top-level packages of the reference; fastmf.kernels is listed because it lives outside fastmf/ (kernels/ at the
#: repository root, mapped by setuptools), where walking fastmf's own folder cannot see it.
API_ROOTS = ("fastmf", "fastmf.kernels")


def _find_spec(name):
    """The import spec of ``name``, or None when its parent package fails to import (autodoc reports that)."""
    try:
        return importlib.util.find_spec(name)
    except Exception:  # noqa: BLE001 - any import error of a parent package
        return None


def _is_deprecated_alias(name):
    """True when module ``name`` is a deprecated alias: a top-level ``warnings.warn(..., DeprecationWarning)``.

    Read from the source (nothing is imported), so a module that fails to import is still listed and autodoc
    reports the failure as a warning.
    """
    spec = _find_spec(name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return False
    with open(spec.origin, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            args = list(node.value.args) + [k.value for k in node.value.keywords]
            if any(isinstance(a, ast.Name) and a.id == "DeprecationWarning" for a in args):
                return True
    return False


def discover_modules(package):
    """Public submodules of ``package`` (full names, sorted): no private modules, no deprecated aliases.

    Parameters
    ----------
    package : str
        A package name such as ``"fastmf.exact"``.

    Returns
    -------
    list of str
        The public, non-deprecated direct submodules and subpackages of ``package``.
    """
    spec = _find_spec(package)
    found = []
    for info in pkgutil.iter_modules(spec.submodule_search_locations):
        if info.name.startswith("_"):
            continue
        name = f"{package}.{info.name}"
        if name in API_ROOTS or _is_deprecated_alias(name):
            continue
        found.append(name)
    return sorted(found)


def _submodule_table():
    table, todo = {}, list(API_ROOTS)
    while todo:
        name = todo.pop()
        spec = _find_spec(name)
        if spec is None or spec.submodule_search_locations is None:
            continue
        table[name] = discover_modules(name)
        todo.extend(table[name])
    table["fastmf"] = table["fastmf"] + ["fastmf.kernels"]
    return table


SUBMODULES = _submodule_table()
autosummary_context = {"submodules": SUBMODULES}

# Stubs left in api/generated/ by an earlier build for a module that has since moved are not sources any more
# (they would be documents outside every toctree).
_EXPECTED = set(API_ROOTS).union(*SUBMODULES.values())
_GENERATED = os.path.join(HERE, "api", "generated")
if os.path.isdir(_GENERATED):
    exclude_patterns += [f"api/generated/{f}" for f in sorted(os.listdir(_GENERATED))
                         if f.endswith(".rst") and f[:-4] not in _EXPECTED]
