"""Address → place with tolerant matching, and then grid and community."""

import pytest

from hotline import gazetteer


@pytest.mark.parametrize("raw, expected", [
    ("江海市江城区春晖路１２号", "江海市江城区春晖路12号"),
    ("春晖路 十二号", "春晖路12号"),
    ("春晖花园3号楼2单元", "春晖花园3栋2单元"),
    ("滨江路200弄", "滨江路200号"),
])
def test_normalise(raw, expected):
    assert gazetteer.normalise(raw) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("address, label, kind", [
    ("江城区春晖路12号", "江城区春晖路12号", "house_number"),
    ("春辉路12号", "江城区春晖路12号", "house_number"),  # one wrong character, no district
    ("春晖路十二号", "江城区春晖路12号", "house_number"),
    ("望江街道春晖花园3号楼", "江城区春晖花园3栋", "building"),
    ("火车站", "海港区江海火车站", "landmark"),
    ("滨江路200弄", "江城区滨江大道200号", "house_number"),  # alias and 弄
])
def test_tolerant_matching(hotline_data, address, label, kind):
    best = gazetteer.geocode(address)[0]
    assert (best.label, best.kind) == (label, kind)


@pytest.mark.django_db
def test_odd_and_even_numbers_lie_on_opposite_sides(hotline_data):
    odd = gazetteer.geocode("春晖路101号")[0]
    even = gazetteer.geocode("春晖路102号")[0]
    assert odd.lat > even.lat  # an east-west road: odd numbers on the north side


@pytest.mark.django_db
def test_geocode_endpoint_gives_grid_and_community(client, agent):
    client.force_login(agent)
    r = client.get("/api/hotline/geocode/", {"q": "春晖路12号"})
    best = r.json()["results"][0]
    assert best["community"] and best["grid"]
    assert client.get("/api/hotline/geocode/", {"q": "   "}).status_code == 400
    assert client.get("/api/hotline/geocode/", {"q": "完全不存在的地方"}).json()["results"] == []
    r = client.get("/api/hotline/locate/", {"lon": best["lon"], "lat": best["lat"]})
    assert r.json()["grid_code"] == best["grid_code"]
