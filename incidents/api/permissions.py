from rest_framework.permissions import BasePermission


class ActionPermissions(BasePermission):
    """Each action needs the model permissions the view lists for it in ``action_perms``,
    the same ones the role groups hold for the admin.

    An action missing from the map is refused (a new action is closed until someone says
    who may use it). A method the view does not route at all (PUT, DELETE on an incident)
    has no action; it is let through so that the handler answers 405 rather than 403.
    Anonymous requests are refused, which DRF turns into 401 with the token challenge.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action = getattr(view, "action", None)
        if action is None:
            return True
        perms = view.action_perms.get(action)
        return perms is not None and user.has_perms(perms)
