"""What the postmortem admin pages share: a service's refusal shown on the field it names,
with what was typed kept, and adopting the row a service created."""

from ircore.errors import RuleError


class ServiceErrorsInForm:
    """``save_model`` / ``save_formset`` call the services inside the admin's transaction. A
    refusal (``RuleError``) rolls the save back; the same POST is then shown again with the
    refusal as the error of the field it names (or of the form), so nothing typed is lost."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, "_service_refusal", None)
        if error is None:
            return form

        class Refused(form):
            def clean(self):
                data = super().clean()
                field = error.field if error.field in self.fields else None
                self.add_error(field, error.message)
                return data

        return Refused

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RuleError as error:
            request._service_refusal = error
            return super().changeform_view(request, object_id, form_url, extra_context)


def saved_as(obj, created) -> None:
    """Make the admin's unsaved ``obj`` the row a service created, so inlines attach to it."""
    obj.pk = created.pk
    obj._state.adding = False
    obj._state.db = created._state.db
