"""The authentication backend: Django's ModelBackend, loading each request's user with its scope."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ScopedModelBackend(ModelBackend):
    """Every scoped list and detail reads `user.region.path` or `user.department_id`: the region and
    department come in the user's own query (one query per request, not two), and the region without
    its boundary, which no permission check needs and which is the largest value in the table."""

    def get_user(self, user_id):
        UserModel = get_user_model()
        try:
            user = UserModel._default_manager.select_related("region", "department").defer("region__boundary").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
