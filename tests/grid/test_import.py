"""import_grids: checks every feature, writes all or nothing, and only with --commit."""

import json

import pytest
from django.core.management import CommandError, call_command

from grid.models import Grid

pytestmark = pytest.mark.django_db


def _square(x, y, size=0.001):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]}


def _feature(code, geometry, **props):
    return {"type": "Feature", "geometry": geometry, "properties": {"code": code, "name": f"测试网格{code[-3:]}", **props}}


def _write(tmp_path, features):
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_dry_run_writes_nothing_and_commit_writes(tmp_path, chunhui, capsys):
    path = _write(tmp_path, [
        _feature("329902001001901", _square(120.01, 31.81), kind="专属网格", households=120, population=300, station=[120.0105, 31.8105]),
        _feature("329902001001902", _square(120.012, 31.81)),
    ])
    call_command("import_grids", path)
    assert "dry run" in capsys.readouterr().out
    assert not Grid.objects.filter(code__in=["329902001001901", "329902001001902"]).exists()

    call_command("import_grids", path, "--commit")
    grid = Grid.objects.get(code="329902001001901")
    assert grid.kind == Grid.Kind.DEDICATED and grid.households == 120 and grid.community == chunhui
    assert grid.region_path == chunhui.path and grid.station.x == pytest.approx(120.0105)
    # Importing again updates in place.
    call_command("import_grids", path, "--commit")
    assert "0 new, 2 updated" in capsys.readouterr().out.splitlines()[-1]


def test_bad_geometry_is_rejected_and_nothing_is_written(tmp_path, chunhui, capsys):
    bowtie = {"type": "Polygon", "coordinates": [[[120.01, 31.81], [120.02, 31.82], [120.02, 31.81], [120.01, 31.82], [120.01, 31.81]]]}
    before = Grid.objects.count()
    path = _write(tmp_path, [
        _feature("329902001001911", _square(120.01, 31.81)),  # good, but must not be written either
        _feature("329902001001912", bowtie),
        _feature("329902001001913", {"type": "Point", "coordinates": [120.01, 31.81]}),
        _feature("329902001001914", {"type": "Polygon", "coordinates": [[[500, 31.8], [501, 31.8], [501, 32], [500, 31.8]]]}),
    ])
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_grids", path, "--commit")
    err = capsys.readouterr().err
    assert "329902001001912" in err and "无效" in err  # self-intersection, in Chinese
    assert "329902001001913" in err and "329902001001914" in err
    assert Grid.objects.count() == before


def test_bad_codes_are_rejected(tmp_path, city, capsys):
    path = _write(tmp_path, [
        _feature("12345", _square(120.01, 31.81)),
        _feature("999999999999001", _square(120.01, 31.81)),
        _feature("329902001001921", _square(120.01, 31.81)),
        _feature("329902001001921", _square(120.02, 31.81)),
    ])
    with pytest.raises(CommandError):
        call_command("import_grids", path, "--commit")
    err = capsys.readouterr().err
    assert "15" in err and "999999999999" in err and "两次" in err
    assert not Grid.objects.filter(code="329902001001921").exists()


def test_not_geojson_is_a_clear_error(tmp_path, city):
    path = tmp_path / "x.geojson"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_grids", str(path))
