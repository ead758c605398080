from rest_framework.permissions import BasePermission

from ircore.verbs import may


class ActionPermissions(BasePermission):
    """Each action is a verb of the one table (``ircore.verbs``, the incident verbs in
    ``incidents.permissions``), named by the view's ``action_verbs``; the user may use the
    action when they may do the verb, the same test the admin makes for its buttons.

    An action missing from the map is refused (a new action is closed until someone says
    which verb it is). A method the view does not route at all (PUT, DELETE on an incident)
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
        name = view.action_verbs.get(action)
        return name is not None and may(user, name)
