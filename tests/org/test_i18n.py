"""Every user-facing string is Chinese by default: no catalog may hold an untranslated or fuzzy entry
(compilemessages skips fuzzy ones, so they would show in English)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = sorted(p for p in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts and "node_modules" not in p.parts)


def test_there_are_catalogs():
    assert len(CATALOGS) >= 7


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
@pytest.mark.parametrize("flag", ["--untranslated", "--only-fuzzy"])
def test_catalog_is_complete(catalog, flag):
    result = subprocess.run(["msgattrib", flag, "--no-obsolete", str(catalog)], capture_output=True, text=True, check=True)
    # msgattrib keeps the header entry (msgid "") when it prints anything at all
    entries = [line for line in result.stdout.splitlines() if line.startswith("msgid ")]
    count = len(entries) - (1 if "Content-Type:" in result.stdout else 0)
    assert count == 0, f"{catalog.relative_to(ROOT)}: {count} {flag[2:]} entries:\n{result.stdout[-2000:]}"
