"""After the apps have written the demo city's past: build its daily and monthly figures now, so the first
look at the statistics or the wall does not wait for a year of rollups."""

from . import rollup


def load_history(*, days: int, stdout=None) -> dict:
    last = rollup.refresh()
    if stdout:
        stdout.write(f"dashboard: daily and monthly figures rebuilt up to timeline row {last}")
    return {"last_event": last}
