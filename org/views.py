from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from . import workspaces


@login_required
def home(request):
    """Send each role to its workspace; with several (or none yet), say which exist."""
    available = workspaces.for_user(request.user)
    if len(available) == 1 and not request.GET.get("stay"):
        return redirect(available[0].url)
    return render(request, "org/home.html", {"workspaces": available})
