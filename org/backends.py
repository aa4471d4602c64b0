"""The authentication backend: Django's ModelBackend, loading each request's user with its scope."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ScopedModelBackend(ModelBackend):
    """Every scoped list and detail reads `user.region.path` or `user.department_id`. The user's row, its
    region (without the boundary, which no permission check needs) and its department are read fresh on
    every request in one query with two joins: a change of scope (a moved user, a renamed or deactivated
    department, even one made with QuerySet.update()) holds from the next request in every process, which a
    per-process copy could not promise."""

    def get_user(self, user_id):
        UserModel = get_user_model()
        try:
            user = (
                UserModel._default_manager.select_related("region", "department")
                .defer("region__boundary")
                .get(pk=user_id)
            )
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
