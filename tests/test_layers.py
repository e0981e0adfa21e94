"""The package obeys its layer order (issue 15).

A static check, by parsing (``ast``) every ``.py`` file under ``fastmf/`` and ``kernels/`` (the subpackage
``fastmf.kernels``); nothing of fastmf is imported. It reports

* every import from a higher layer (imports inside functions included, relative imports resolved);
* every import of another module's private name: ``from m import _x``, and the attribute access ``alias._x``
  where ``alias`` is bound to another fastmf module or to a name imported from one (a private *module*, a file
  whose name starts with ``_``, may be imported by its sibling modules of the same package);
* every import of a deprecated alias module from inside fastmf;
* every module over 500 lines.

The power companion plants one upward import and one private import in a copy of the package and checks that
exactly those two are reported; a second one plants one violation of every other kind.
"""
import ast
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Layers, lowest first (the table of issue 15). A module may import only from its own layer or lower ones.
#: Keys are module names (a package stands for itself and everything under it); the longest matching key wins.
LAYERS = {
    "fastmf.kernels": 0,
    "fastmf.io": 1,
    "fastmf.stats": 1,
    "fastmf.backends": 1,
    "fastmf._version": 1,
    "fastmf.models": 2,
    "fastmf.sampling": 3,
    "fastmf.exact": 4,
    "fastmf.vae": 5,
    "fastmf.decode": 6,
    "fastmf.neural": 7,
    "fastmf.experiments": 8,
    "fastmf.cli": 9,
    "fastmf.__main__": 9,
    "fastmf.demo": 9,
    "fastmf.verify": 9,
    "fastmf.grid": 9,
    # the package facade (lazy re-exports of the entry points), and any root module not named above (the
    # applications' private helpers), sit on top of everything
    "fastmf": 9,
}

#: Deprecated alias modules: they re-export the new paths with a DeprecationWarning, nothing inside fastmf
#: may import them. They sit on top (they import the new paths).
DEPRECATED = {"fastmf.lattice", "fastmf.simulate", "fastmf.meanfield", "fastmf.meanfield_sampling",
              "fastmf.latent", "fastmf.driven_glass", "fastmf.sweep", "fastmf.neural.stats"}

#: Names the facade re-exports from a lower module without importing anything else.
FACADE_REEXPORTS = {("fastmf", "__version__"): "fastmf._version"}

#: Private modules that any module may import: ``_version`` is private by the packaging convention only (it is
#: layer 1 of the table and holds ``__version__``).
SHARED_PRIVATE_MODULES = {"fastmf._version"}

MAX_LINES = 500

_IGNORE = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc")


def _is_private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_files(root):
    """``{module name: path}`` of every ``.py`` file under ``root/fastmf`` and ``root/kernels``."""
    out = {}
    for top, prefix in (("fastmf", ("fastmf",)), ("kernels", ("fastmf", "kernels"))):
        base = root / top
        for path in sorted(base.rglob("*.py")):
            parts = prefix + path.relative_to(base).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def layer_of(module):
    """Layer of a fastmf module name (None for a third-party module)."""
    if module in DEPRECATED or any(module.startswith(d + ".") for d in DEPRECATED):
        return max(LAYERS.values())
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        key = ".".join(parts[:k])
        if key in LAYERS:
            return LAYERS[key]
    return None


def _resolve(current, is_package, level, module):
    """Absolute module name of ``from <level dots><module> import ...`` written in ``current``."""
    if level == 0:
        return module
    parts = current.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[:len(parts) - (level - 1)]
    return ".".join(parts + (module.split(".") if module else []))


class _Visitor(ast.NodeVisitor):
    def __init__(self, module, is_package, modules):
        self.module = module
        self.is_package = is_package
        self.modules = modules
        self.imports = []         # (lineno, target module, imported name or None)
        self.aliases = {}         # local name -> (owning module, is the name a module)
        self.attributes = []      # (lineno, owning module, written name, attribute)

    def _bind(self, local, owner, is_module):
        self.aliases[local] = (owner, is_module)

    def visit_Import(self, node):
        for a in node.names:
            if not a.name.startswith("fastmf"):
                continue
            self.imports.append((node.lineno, a.name, None))
            if a.asname:
                self._bind(a.asname, a.name, True)
            else:
                self._bind(a.name.split(".")[0], a.name.split(".")[0], True)
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        base = _resolve(self.module, self.is_package, node.level, node.module or "")
        if base.split(".")[0] != "fastmf":
            return
        for a in node.names:
            local = a.asname or a.name
            sub = f"{base}.{a.name}"
            if sub in self.modules:                       # a submodule
                self.imports.append((node.lineno, sub, None))
                self._bind(local, sub, True)
            else:
                target = FACADE_REEXPORTS.get((base, a.name), base)
                self.imports.append((node.lineno, target, a.name))
                self._bind(local, target, False)
        self.generic_visit(node)

    def visit_Attribute(self, node):
        chain = []
        value = node
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in self.aliases and _is_private(node.attr):
            owner, is_module = self.aliases[value.id]
            if is_module:                 # walk down submodules: fastmf.sampling.latent._x
                for part in reversed(chain[1:]):
                    if f"{owner}.{part}" in self.modules:
                        owner = f"{owner}.{part}"
                    else:
                        break
            self.attributes.append((node.lineno, owner, ".".join([value.id] + chain[::-1]), node.attr))
        self.generic_visit(node)


def _private_module(current, is_package, target):
    """The private module in ``target`` (``pkg._m`` or below it) that ``current`` may not import, or None.

    A private module may be imported by the modules of its own package (its siblings, and the package's
    ``__init__``) and by the private module's own submodules."""
    parts = target.split(".")
    home = current if is_package else current.rpartition(".")[0]
    for k in range(1, len(parts)):
        if _is_private(parts[k]):
            private = ".".join(parts[:k + 1])
            pkg = ".".join(parts[:k])
            if private in SHARED_PRIVATE_MODULES or home == pkg or (home + ".").startswith(private + "."):
                continue
            return private
    return None


def check_package(root):
    """Every violation under ``root`` (a directory holding ``fastmf/`` and ``kernels/``), as sorted strings
    ``"<relative path>:<line>: <kind>: <detail>"``."""
    root = Path(root)
    modules = _module_files(root)
    found = []
    for module, path in modules.items():
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        n_lines = text.count("\n")
        if n_lines > MAX_LINES:
            found.append(f"{rel}:{n_lines}: too long: {n_lines} lines > {MAX_LINES}")
        is_package = path.name == "__init__.py"
        visitor = _Visitor(module, is_package, modules)
        visitor.visit(ast.parse(text, filename=str(path)))
        own = layer_of(module)
        for lineno, target, name in visitor.imports:
            if target in DEPRECATED:
                found.append(f"{rel}:{lineno}: deprecated alias: {target}")
                continue
            tl = layer_of(target)
            if tl is not None and own is not None and tl > own and module not in DEPRECATED:
                what = f"{target}.{name}" if name else target
                found.append(f"{rel}:{lineno}: upward import: {what} (layer {tl}) from layer {own}")
            private = _private_module(module, is_package, target)
            if private is not None:
                found.append(f"{rel}:{lineno}: private import: module {private}")
            if name is not None and _is_private(name) and target != module:
                found.append(f"{rel}:{lineno}: private import: {target}.{name}")
        for lineno, owner, written, attr in visitor.attributes:
            if owner != module:
                found.append(f"{rel}:{lineno}: private access: {written} (from {owner})")
    return sorted(found)


def test_layers_imports_privacy_and_size():
    found = check_package(ROOT)
    assert not found, f"{len(found)} layer violation(s):\n" + "\n".join(found)


def _plant(path, code):
    """Append ``code`` to ``path``; return the line number of its last line."""
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    text += code
    path.write_text(text, encoding="utf-8")
    return text.count("\n")


def test_checker_finds_planted_violations(tmp_path):
    for top in ("fastmf", "kernels"):
        shutil.copytree(ROOT / top, tmp_path / top, ignore=_IGNORE)
    before = set(check_package(tmp_path))
    n = _plant(tmp_path / "fastmf" / "models" / "__init__.py",
               "\n\ndef _planted():\n    from ..experiments import report\n")
    m = _plant(tmp_path / "fastmf" / "io" / "__init__.py", "from ..backends import _planted_private\n")
    planted = {f"fastmf/models/__init__.py:{n}: upward import: fastmf.experiments.report (layer 8) "
               "from layer 2",
               f"fastmf/io/__init__.py:{m}: private import: fastmf.backends._planted_private"}
    after = set(check_package(tmp_path))
    assert after - before == planted, sorted(after ^ before)
    assert after == before | planted


def test_checker_finds_every_kind(tmp_path):
    """Private attribute access through a module alias and through an imported class, a private module of
    another package, a deprecated alias, and a module over 500 lines."""
    for top in ("fastmf", "kernels"):
        shutil.copytree(ROOT / top, tmp_path / top, ignore=_IGNORE)
    before = set(check_package(tmp_path))
    target = tmp_path / "fastmf" / "exact" / "__init__.py"
    a = _plant(target, "from ..models import meanfield as _mf_planted\n")
    b = _plant(target, "_x_planted = _mf_planted.GraphSpinGlass._planted\n")
    c = _plant(target, "from ..models.meanfield import GraphSpinGlass as _G_planted\n")
    d = _plant(target, "_y_planted = _G_planted._planted\n")
    e = _plant(target, "from ..kernels import _checks as _c_planted\n")
    f = _plant(target, "from .. import lattice as _lattice_planted\n")
    long_module = tmp_path / "fastmf" / "io" / "planted_long.py"
    long_module.write_text("x = 0\n" * (MAX_LINES + 1), encoding="utf-8")
    planted = {f"fastmf/exact/__init__.py:{b}: private access: _mf_planted.GraphSpinGlass._planted "
               "(from fastmf.models.meanfield)",
               f"fastmf/exact/__init__.py:{d}: private access: _G_planted._planted "
               "(from fastmf.models.meanfield)",
               f"fastmf/exact/__init__.py:{e}: private import: module fastmf.kernels._checks",
               f"fastmf/exact/__init__.py:{f}: deprecated alias: fastmf.lattice",
               f"fastmf/io/planted_long.py:{MAX_LINES + 1}: too long: {MAX_LINES + 1} lines > {MAX_LINES}"}
    after = set(check_package(tmp_path))
    assert after - before == planted, sorted(after ^ before)
    assert a and c


@pytest.mark.parametrize("module, layer", [("fastmf.kernels.philox", 0), ("fastmf.io.raster", 1),
                                           ("fastmf.models.counting", 2), ("fastmf.sampling.latent", 3),
                                           ("fastmf.exact.crosscheck", 4), ("fastmf.grid", 9),
                                           ("numpy", None)])
def test_layer_table(module, layer):
    assert layer_of(module) == layer
