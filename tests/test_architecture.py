"""The layout's rules, read from the code itself.

* Apps depend one way: each of ``hfplatform``, ``generation``, ``review``, ``reward``, ``monitoring``
  imports only itself and the apps before it (nothing imports monitoring).
* ``ml/`` packages import no Django and no app code outside ``ml/`` packages, and follow the same
  order among themselves.
* Model relations point the same way as imports (a foreign key never reaches an app above).

The import rules are checked by reading every import statement (module level and inside functions)
with ``ast``; a mutation test adds an upward import to a copy of the tree and checks it is caught.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("hfplatform", "generation", "review", "reward", "monitoring")
SKIPPED_PARTS = {"migrations", "__pycache__"}


def _python_files(root: Path, app: str) -> list[Path]:
    return sorted(p for p in (root / app).rglob("*.py") if not SKIPPED_PARTS & set(p.parts))


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in ``path``, at any depth of the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def upward_imports(root: Path) -> list[str]:
    """Every import of an app that comes later in ``LAYERS`` than the importing app."""
    problems = []
    for rank, app in enumerate(LAYERS):
        for path in _python_files(root, app):
            for line, module in _imported_modules(path):
                target = module.split(".")[0]
                if target in LAYERS and LAYERS.index(target) > rank:
                    problems.append(f"{path.relative_to(root)}:{line} imports {module} ({app} < {target})")
    return problems


def ml_package_violations(root: Path) -> list[str]:
    """Imports of Django, of app code outside ``ml/`` packages, or of a later app's ``ml/``, made
    by a module of an ``ml/`` package."""
    problems = []
    for rank, app in enumerate(LAYERS):
        for path in sorted((root / app / "ml").rglob("*.py")) if (root / app / "ml").is_dir() else []:
            for line, module in _imported_modules(path):
                parts = module.split(".")
                where = f"{path.relative_to(root)}:{line} imports {module}"
                if parts[0] in ("django", "rest_framework", "huey"):
                    problems.append(f"{where}: ml/ packages import no Django")
                elif parts[0] in LAYERS:
                    if len(parts) < 2 or parts[1] != "ml":
                        problems.append(f"{where}: ml/ packages import only ml/ packages")
                    elif LAYERS.index(parts[0]) > rank:
                        problems.append(f"{where}: {app} comes before {parts[0]}")
    return problems


def test_apps_import_only_themselves_and_the_apps_before_them():
    assert upward_imports(REPO) == []


def _copy_apps(to: Path) -> None:
    for app in LAYERS:
        shutil.copytree(REPO / app, to / app, ignore=shutil.ignore_patterns("checkpoints", "__pycache__"))


def test_an_added_upward_import_is_caught(tmp_path):
    _copy_apps(tmp_path)
    target = tmp_path / "generation" / "faces" / "services.py"
    late_import = "\n\ndef _late():\n    from reward.services import candidates_rank\n"
    target.write_text(target.read_text() + late_import)
    problems = upward_imports(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("generation/faces/services.py:")
    assert "imports reward.services (generation < reward)" in problems[0]
    (tmp_path / "hfplatform" / "urls.py").write_text("from monitoring import views\n")
    assert len(upward_imports(tmp_path)) == 2


def test_ml_packages_import_no_django_and_follow_the_order():
    assert ml_package_violations(REPO) == []


def test_an_ml_package_importing_django_or_services_is_caught(tmp_path):
    _copy_apps(tmp_path)
    (tmp_path / "generation" / "ml" / "leak.py").write_text(
        "from django.conf import settings\nfrom generation.faces import services\n"
        "from reward.ml import model\n")
    problems = ml_package_violations(tmp_path)
    assert [p.split(": ")[-1] for p in problems] == [
        "ml/ packages import no Django", "ml/ packages import only ml/ packages",
        "generation comes before reward"]


@pytest.mark.slow
def test_every_ml_module_imports_without_loading_django(tmp_path):
    modules = sorted(
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for app in LAYERS if (REPO / app / "ml").is_dir() for path in (REPO / app / "ml").rglob("*.py"))
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
            "print(len(loaded), loaded[:5])\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("0 []"), result.stdout
    assert len(modules) > 20  # every app's ml modules were imported, not an empty list


@pytest.mark.django_db
def test_model_relations_point_to_the_same_app_or_one_before_it():
    from django.apps import apps

    upward = []
    for model in apps.get_models():
        app = model._meta.app_label
        home = model.__module__.split(".")[0]
        if home not in LAYERS:
            continue
        for field in model._meta.get_fields():
            related = getattr(field, "related_model", None)
            if not field.is_relation or field.auto_created or related is None:
                continue
            other = related.__module__.split(".")[0]
            if other in LAYERS and LAYERS.index(other) > LAYERS.index(home):
                upward.append(f"{app}.{model.__name__}.{field.name} -> {related._meta.label}")
    assert upward == []
