"""Admin pieces shared by the apps."""


class ReadOnlyAdmin:
    """For a ModelAdmin of rows only code writes (audit logs, spend records): listed and shown, never
    added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
