"""The API's default permission: the caller's role (apps/billing/roles.py) must grant what the view asks."""

import threading
import time

from rest_framework import permissions


class RolePermission(permissions.BasePermission):
    """Each view says which Django permissions each method needs (`required_permissions`, by HTTP
    method, or a `permissions_for(request)` method); the role groups (apps/billing/roles.py) grant
    them. A view that says nothing is closed."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if not hasattr(view, request.method.lower()):
            return True  # no such operation here: let the view answer 405
        if hasattr(view, "permissions_for"):
            required = view.permissions_for(request)
        else:
            required = getattr(view, "required_permissions", {}).get(request.method)
        if required is None:
            self.message = f"{request.method} is not allowed for your role here."
            return False
        if request.user.is_superuser or set(required) <= role_permissions(request.user):
            return True
        self.message = f"Your role lacks: {', '.join(required)}."
        return False


PERMISSIONS_TTL = 30.0  # seconds a user's role permissions are reused by this process
_permissions: dict[int, tuple[float, frozenset[str]]] = {}
_permissions_lock = threading.Lock()


def role_permissions(user) -> frozenset[str]:
    """The user's permissions (own and through groups), reused for PERMISSIONS_TTL seconds: loading them
    costs two joined queries, on every API request otherwise. A role change applies within 30 s."""
    now = time.monotonic()
    with _permissions_lock:
        hit = _permissions.get(user.pk)
        if hit and now - hit[0] < PERMISSIONS_TTL:
            return hit[1]
    found = frozenset(user.get_all_permissions()) if user.is_active else frozenset()
    with _permissions_lock:
        if len(_permissions) > 10_000:
            _permissions.clear()
        _permissions[user.pk] = (now, found)
    return found


def clear_permission_cache() -> None:
    with _permissions_lock:
        _permissions.clear()
