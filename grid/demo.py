"""Grid workers of the demo city: the demo user `gridworker` works the first grid of 春晖社区."""

from command_center.org.models import User

from .models import Grid, GridWorker


def load_demo(*, scale: int, stdout) -> None:
    user = User.objects.filter(username="gridworker").first()
    if user is None:
        return
    grid = Grid.objects.filter(community=user.region).order_by("code").first()
    if grid is not None and not GridWorker.objects.filter(user=user).exists():
        GridWorker.objects.create(user=user, grid=grid, kind=GridWorker.Kind.FULL_TIME)
