"""Authentication backend: Django's ModelBackend, except that a signed-in request reads its
user together with the user's active memberships, their organisations and the reach of each
(`active_memberships_of`) in one query, instead of three."""

from django.contrib.auth.backends import ModelBackend

from koto.accounts.selectors import active_memberships_of


class MembershipModelBackend(ModelBackend):
    def get_user(self, user_id):
        memberships = active_memberships_of(user_id=user_id)  # they share one user object
        if memberships:
            user = memberships[0].user
        else:  # no active membership: the user alone (signs in, sees nothing)
            user = super().get_user(user_id)
            if user is None:
                return None
        if not self.user_can_authenticate(user):
            return None
        user.active_memberships = memberships
        return user
