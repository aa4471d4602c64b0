"""The fictional demo city 江海市, built deterministically on an integer lattice.

Every boundary is computed from lattice indices with one formula, so neighbours share edges to
the bit and the grids tile their community exactly. Codes follow GB/T 2260: 6 digits for the
county, 3 for the town, 3 for the community; a grid appends a 3-digit serial.
"""

from dataclasses import dataclass

LON0, LAT0 = 120.0, 31.8  # south-west corner
WIDTH, HEIGHT = 0.6, 0.4  # degrees
CITY = ("329900000000", "江海市")

# district code, name, towns (name, is_street)
DISTRICTS = [
    ("329902", "江城区", [("望江街道", True), ("滨江街道", True), ("长桥镇", False), ("青石镇", False)]),
    ("329903", "海港区", [("港口街道", True), ("海星街道", True), ("盐田镇", False), ("东滩镇", False)]),
    ("329904", "新湖区", [("湖滨街道", True), ("新城街道", True), ("柳溪镇", False), ("白鹭镇", False)]),
]
COMMUNITY_NAMES = [
    "春晖", "秋实", "和平", "文昌", "锦绣", "向阳", "东风", "丰乐", "柳荫", "永安", "兴隆", "翠竹",
    "金桥", "银湖", "新华", "民主", "红旗", "幸福", "朝阳", "长青", "光明", "团结", "胜利", "前进",
    "曙光", "育才", "惠民", "安康", "瑞丰", "泰和", "永宁", "富源", "清风", "明月", "桃源", "杏林",
    "梅园", "兰亭", "竹溪", "菊香", "海韵", "江帆", "星河", "云台", "凤鸣", "龙湾", "鹤岭", "鹿鸣",
]

CITY_DEPARTMENTS = [
    ("CG", "市城市管理局", "functional"),
    ("JT", "市交通运输局", "functional"),
    ("ZJ", "市住房和城乡建设局", "functional"),
    ("SW", "市水务局", "functional"),
    ("HB", "市生态环境局", "functional"),
    ("SJ", "市市场监督管理局", "functional"),
    ("GA", "市公安局", "functional"),
    ("YJ", "市应急管理局", "functional"),
    ("WJ", "市卫生健康委员会", "functional"),
    ("MZ", "市民政局", "functional"),
    ("YL", "市园林绿化局", "functional"),
    ("ZR", "市自然资源和规划局", "functional"),
    ("DSJ", "市大数据管理局", "functional"),
    ("GD", "国网江海供电公司", "utility"),
    ("RQ", "江海港华燃气公司", "utility"),
    ("ZLS", "江海自来水公司", "utility"),
]
DISTRICT_DEPARTMENTS = [
    ("CG", "城市管理局", "functional"),
    ("ZJ", "住房和城乡建设局", "functional"),
    ("SJ", "市场监督管理局", "functional"),
    ("HB", "生态环境分局", "functional"),
]
TOWN_DEPARTMENTS = [
    ("ZF", "综合行政执法队", "town_office"),
    ("SQ", "社区事务办公室", "town_office"),
]

DEMO_PASSWORD = "Jianghai@2026"


@dataclass(frozen=True)
class Lattice:
    """Columns/rows of the finest cells (grids); every boundary is a rectangle of whole cells."""

    grid_cols_per_community: int
    grid_rows_per_community: int = 5
    communities_per_town_side: int = 2
    towns_per_district_side: int = 2
    districts: int = 3

    @property
    def cols(self) -> int:
        return self.districts * self.towns_per_district_side * self.communities_per_town_side * self.grid_cols_per_community

    @property
    def rows(self) -> int:
        return self.towns_per_district_side * self.communities_per_town_side * self.grid_rows_per_community

    def lon(self, col: int) -> float:
        return LON0 + col * WIDTH / self.cols

    def lat(self, row: int) -> float:
        return LAT0 + row * HEIGHT / self.rows

    def bbox(self, col0: int, row0: int, col1: int, row1: int) -> tuple[float, float, float, float]:
        return (self.lon(col0), self.lat(row0), self.lon(col1), self.lat(row1))


def lattice_for_scale(scale: int) -> Lattice:
    return Lattice(grid_cols_per_community=2 * scale)


def community_cells(lat: Lattice):
    """(community code, community name, first column, first row, index) of every community, in the order the
    regions are built; a community holds lat.grid_cols_per_community × lat.grid_rows_per_community grid cells."""
    cps, tps = lat.communities_per_town_side, lat.towns_per_district_side
    gcols, grows = lat.grid_cols_per_community, lat.grid_rows_per_community
    district_cols = tps * cps * gcols
    index = 0
    for d_index, (d_code, _d_name, town_specs) in enumerate(DISTRICTS):
        c0 = d_index * district_cols
        for t_index, (_t_name, is_street) in enumerate(town_specs):
            tc0 = c0 + (t_index % tps) * cps * gcols
            tr0 = (t_index // tps) * cps * grows
            t_code = f"{d_code}{t_index + 1:03d}000"
            for c_index in range(cps * cps):
                base = COMMUNITY_NAMES[index % len(COMMUNITY_NAMES)]
                yield (f"{t_code[:9]}{c_index + 1 + (0 if is_street else 200):03d}", base + ("社区" if is_street else "村"),
                       tc0 + (c_index % cps) * gcols, tr0 + (c_index // cps) * grows, index)
                index += 1
