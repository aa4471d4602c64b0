"""Build the fictional demo city 江海市. Running it again changes nothing."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from command_center.org import demo_city as dc
from command_center.org.models import Department, Region, Role
from grid.models import Grid


def _multi(bbox) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox(bbox), srid=4326)


class Command(BaseCommand):
    help = "Load the demo city 江海市: regions, grids, departments and one user per role (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=1, help="multiply the number of grids per community (1–99)")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, scale, quiet, **options):
        if not 1 <= scale <= 99:
            raise CommandError("--scale must be between 1 and 99")
        lat = dc.lattice_for_scale(scale)
        with transaction.atomic():
            counts = self._build(lat)
        # Each app may add its part of the city in `<app>/demo.py: load_demo(*, scale, stdout)`, in layer order.
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if config.name.startswith("command_center.org") or find_spec(module_name) is None:
                continue
            with transaction.atomic():
                import_module(module_name).load_demo(scale=scale, stdout=self.stdout if not quiet else None)
        if not quiet:
            self.stdout.write(self.style.SUCCESS(
                "江海市 ready: {regions} regions, {grids} grids, {departments} departments, {users} demo users "
                "(password {pw}).".format(pw=dc.DEMO_PASSWORD, **counts)
            ))

    def _region(self, code, name, level, parent, bbox):
        region, _ = Region.objects.update_or_create(
            code=code, defaults={"name": name, "level": level, "parent": parent, "boundary": _multi(bbox)}
        )
        return region

    def _build(self, lat: dc.Lattice) -> dict:
        city = self._region(dc.CITY[0], dc.CITY[1], Region.Level.CITY, None, lat.bbox(0, 0, lat.cols, lat.rows))
        dept_count = 0
        for code, name, kind in dc.CITY_DEPARTMENTS:
            Department.objects.update_or_create(code=f"{city.code[:6]}-{code}", defaults={"name": name, "kind": kind, "region": city})
            dept_count += 1

        cps, tps = lat.communities_per_town_side, lat.towns_per_district_side
        gcols, grows = lat.grid_cols_per_community, lat.grid_rows_per_community
        district_cols = tps * cps * gcols
        community_index = 0
        grid_count = 0
        existing_grids = set(Grid.objects.values_list("code", flat=True))
        new_grids = []
        towns = []
        for d_index, (d_code, d_name, town_specs) in enumerate(dc.DISTRICTS):
            c0 = d_index * district_cols
            district = self._region(f"{d_code}000000", d_name, Region.Level.DISTRICT, city, lat.bbox(c0, 0, c0 + district_cols, lat.rows))
            for code, name, kind in dc.DISTRICT_DEPARTMENTS:
                Department.objects.update_or_create(code=f"{d_code}-{code}", defaults={"name": d_name + name, "kind": kind, "region": district})
                dept_count += 1
            for t_index, (t_name, is_street) in enumerate(town_specs):
                tc0 = c0 + (t_index % tps) * cps * gcols
                tr0 = (t_index // tps) * cps * grows
                t_code = f"{d_code}{t_index + 1:03d}000"
                town = self._region(t_code, t_name, Region.Level.TOWN, district, lat.bbox(tc0, tr0, tc0 + cps * gcols, tr0 + cps * grows))
                towns.append(town)
                for code, name, kind in dc.TOWN_DEPARTMENTS:
                    Department.objects.update_or_create(code=f"{t_code[:9]}-{code}", defaults={"name": t_name + name, "kind": kind, "region": town})
                    dept_count += 1
                for c_index in range(cps * cps):
                    cc0 = tc0 + (c_index % cps) * gcols
                    cr0 = tr0 + (c_index // cps) * grows
                    base = dc.COMMUNITY_NAMES[community_index % len(dc.COMMUNITY_NAMES)]
                    c_name = base + ("社区" if is_street else "村")
                    c_code = f"{t_code[:9]}{c_index + 1 + (0 if is_street else 200):03d}"
                    community = self._region(c_code, c_name, Region.Level.COMMUNITY, town, lat.bbox(cc0, cr0, cc0 + gcols, cr0 + grows))
                    community_index += 1
                    serial = 0
                    for gr in range(grows):
                        for gc in range(gcols):
                            serial += 1
                            g_code = f"{c_code}{serial:03d}"
                            grid_count += 1
                            if g_code in existing_grids:
                                continue
                            bbox = lat.bbox(cc0 + gc, cr0 + gr, cc0 + gc + 1, cr0 + gr + 1)
                            households = 280 + (serial * 37 + community_index * 11) % 220
                            new_grids.append(Grid(
                                code=g_code,
                                name=f"{c_name}第{serial}网格",
                                community=community,
                                region_path=community.path,
                                boundary=_multi(bbox),
                                households=households,
                                population=int(households * 2.6),
                                station=Point((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, srid=4326),
                            ))
        Grid.objects.bulk_create(new_grids, batch_size=2000)
        users = self._users(city, towns)
        return {"regions": Region.objects.count(), "grids": grid_count, "departments": dept_count, "users": users}

    def _users(self, city, towns) -> int:
        User = get_user_model()
        district = Region.objects.get(code="329902000000")
        town = towns[0]
        community = Region.objects.filter(parent=town).order_by("code").first()
        dept = Department.objects.get
        specs = [
            ("admin", "系统管理员", Role.ADMIN, city, None, True),
            ("dispatcher", "市中心派遣员 王敏", Role.DISPATCHER, city, None, False),
            ("chief", "市中心值班长 陈刚", Role.DUTY_CHIEF, city, None, False),
            ("leader", "市领导 李华", Role.LEADER, city, None, False),
            ("agent", "12345接线员 张丽", Role.HOTLINE_AGENT, city, None, False),
            ("jc_dispatcher", "江城区派遣员 刘洋", Role.DISPATCHER, district, None, False),
            ("jc_leader", "江城区领导 周强", Role.LEADER, district, None, False),
            ("wj_dispatcher", "望江街道派遣员 吴芳", Role.DISPATCHER, town, None, False),
            ("dept_cg", "市城管局 赵磊", Role.DEPARTMENT_STAFF, None, dept(code="329900-CG"), False),
            ("dept_jt", "市交通局 钱进", Role.DEPARTMENT_STAFF, None, dept(code="329900-JT"), False),
            ("dept_jc_cg", "江城区城管局 孙涛", Role.DEPARTMENT_STAFF, None, dept(code="329902-CG"), False),
            ("dept_wj_zf", "望江街道执法队 郑伟", Role.DEPARTMENT_STAFF, None, dept(code=f"{town.code[:9]}-ZF"), False),
            ("gridworker", "网格员 马晓燕", Role.GRIDWORKER, community, None, False),
            ("data_officer", "大数据局 数据专员 何静", Role.DATA_OFFICER, None, dept(code="329900-DSJ"), False),
        ]
        for username, name, role, region, department, superuser in specs:
            user, created = User.objects.update_or_create(
                username=username,
                defaults={
                    "display_name": name, "role": role, "region": region, "department": department,
                    "is_staff": superuser, "is_superuser": superuser, "is_active": True,
                },
            )
            if created:
                user.set_password(dc.DEMO_PASSWORD)
                user.save(update_fields=["password"])
        return len(specs)
