"""Build the fictional demo city 江海市. Running it again changes nothing."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from org import demo, demo_city as dc
from org.models import Department, Region, Role


def _multi(bbox) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox(bbox), srid=4326)


class Command(BaseCommand):
    help = "Load the demo city 江海市: regions, departments, one user per role, and every app's part (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=1, help="multiply the number of grids per community (1–99)")
        parser.add_argument("--history-days", type=int, default=365,
                            help="days of past tickets, contacts and visits before today (0: none; default a year)")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, scale, quiet, history_days=365, **options):
        if not 1 <= scale <= 99:
            raise CommandError("--scale must be between 1 and 99")
        if not 0 <= history_days <= 731:
            raise CommandError("--history-days must be between 0 and 731")
        if not settings.DEMO_USERS:
            raise CommandError(
                "The demo city comes with demo logins whose password is published; this installation does not allow "
                "them. Set DEMO_USERS=1 to load it anyway."
            )
        lat = dc.lattice_for_scale(scale)
        with transaction.atomic():
            counts = self._build(lat)
        # Each app adds its part of the city (org.demo.register), in layer order: grids, categories, the hotline …
        for load in demo.loaders():
            with transaction.atomic():
                load(scale=scale, stdout=self.stdout if not quiet else None)
        # … and then its part of the city's past.
        if history_days:
            for history in demo.history_loaders():
                history(days=history_days, stdout=self.stdout if not quiet else None)
        if not quiet:
            self.stdout.write(self.style.SUCCESS(
                "江海市 ready: {regions} regions, {departments} departments, {users} demo users "
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
        for c_code, c_name, cc0, cr0, _index in dc.community_cells(lat):
            town = Region.objects.get(code=f"{c_code[:9]}000")
            self._region(c_code, c_name, Region.Level.COMMUNITY, town, lat.bbox(cc0, cr0, cc0 + gcols, cr0 + grows))
        users = self._users(city, towns)
        return {"regions": Region.objects.count(), "departments": dept_count, "users": users}

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
