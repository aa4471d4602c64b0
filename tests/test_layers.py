"""The apps keep the layers drawn in docs/architecture.md: import-linter's contracts (.importlinter) hold,
imports inside functions included, and nothing reaches Django's request handlers or the project package."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold():
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--config", str(ROOT / ".importlinter")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_nothing_subclasses_djangos_request_handlers():
    sources = [p for p in ROOT.glob("*/**/*.py") if ".venv" not in p.parts and "node_modules" not in p.parts and "tests" not in p.parts]
    offenders = [str(p.relative_to(ROOT)) for p in sources
                 if "ASGIHandler)" in p.read_text(encoding="utf-8") or "WSGIHandler)" in p.read_text(encoding="utf-8")]
    assert not offenders


def test_the_project_package_holds_only_settings_urls_and_entry_points():
    package = ROOT / "command_center"
    modules = {p.name for p in package.iterdir() if p.suffix == ".py"} | {p.name for p in package.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert modules == {"__init__.py", "asgi.py", "wsgi.py", "celery.py", "urls.py", "settings"}
