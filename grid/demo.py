"""Grid workers of the demo city: the demo user `gridworker` works the first grid of 春晖社区 full-time,
with a grid head, a grid instructor and "1+N" helpers, and a patrol checklist for every grid of 春晖社区."""

from command_center.org.demo_city import DEMO_PASSWORD
from command_center.org.models import Role, User

from . import services
from .models import Grid, GridWorker, PatrolChecklistItem

CHECKLIST = [
    "消防通道是否畅通",
    "井盖、路灯、护栏等部件是否完好",
    "有无暴露垃圾、乱堆物料",
    "有无占道经营、违规停车",
    "有无违法搭建、私拉电线",
    "独居老人、困难群众走访",
]

# (username, display name, kind) of the people attached to the demo grid.
HELPERS = [
    ("gw_head", "周网格长", GridWorker.Kind.GRID_HEAD),
    ("gw_instructor", "吴指导员", GridWorker.Kind.INSTRUCTOR),
    ("gw_police", "郑民警", GridWorker.Kind.POLICE),
    ("gw_doctor", "王医生", GridWorker.Kind.MEDICAL),
    ("gw_building", "冯楼栋长", GridWorker.Kind.BUILDING_HEAD),
    ("gw_volunteer", "陈志愿者", GridWorker.Kind.VOLUNTEER),
]


def load_demo(*, scale: int, stdout) -> None:
    user = User.objects.filter(username="gridworker").first()
    if user is None or user.region is None:
        return
    grids = list(Grid.objects.filter(community=user.region).order_by("code"))
    if not grids:
        return
    grid = grids[0]
    if not GridWorker.objects.filter(user=user).exists():
        services.gridworker_assign(user=user, grid=grid, kind=GridWorker.Kind.FULL_TIME, note="demo")
    for username, name, kind in HELPERS:
        helper = User.objects.filter(username=username).first()
        if helper is None:
            helper = User.objects.create_user(
                username=username, password=DEMO_PASSWORD, role=Role.GRIDWORKER, region=user.region, display_name=name
            )
        if not GridWorker.objects.filter(user=helper).exists():
            services.gridworker_assign(user=helper, grid=grid, kind=kind, note="demo")
    for g in grids:
        for position, title in enumerate(CHECKLIST):
            PatrolChecklistItem.objects.get_or_create(grid=g, title=title, defaults={"position": position})
    if stdout is not None:
        stdout.write(f"grid: {user} works {grid.name} with {len(HELPERS)} helpers; checklists for {len(grids)} grids")
