"""The actors the project declares, by registered name. Imports no models, so models, the ledger and
`enqueue` can all use it."""

import importlib
from functools import cache

import dramatiq
from django.apps import apps
from django.utils.module_loading import module_has_submodule
from dramatiq.errors import ActorNotFound


@cache
def discover_actors() -> None:
    """Import every installed app's tasks module, as `rundramatiq` does, so every actor is declared."""
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "tasks"):
            importlib.import_module(f"{config.name}.tasks")


def get_actor(actor_name: str) -> dramatiq.Actor:
    """The actor registered under `actor_name`; ActorNotFound if there is none."""
    discover_actors()
    return dramatiq.get_broker().get_actor(actor_name)


def is_registered(actor_name: str) -> bool:
    try:
        get_actor(actor_name)
    except ActorNotFound:
        return False
    return True


def not_registered_message(actor_name: str) -> str:
    return f"actor {actor_name!r} is not registered (renamed or removed?)"


__all__ = ["ActorNotFound", "discover_actors", "get_actor", "is_registered", "not_registered_message"]
