"""`enqueue`: the one way the project starts background work.

Actors are named by their registered name, so an earlier stage starts a later one without importing
it. The message is sent when the caller's transaction commits (never for work that rolled back).
The jobs issue adds the durable ledger row written here, in the same transaction.
"""

import importlib
from datetime import timedelta
from functools import cache

import dramatiq
from django.apps import apps
from django.db import transaction
from django.utils.module_loading import module_has_submodule


@cache
def discover_actors() -> None:
    """Import every installed app's tasks module, as `rundramatiq` does, so every actor is declared."""
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "tasks"):
            importlib.import_module(f"{config.name}.tasks")


def get_actor(actor_name: str) -> dramatiq.Actor:
    discover_actors()
    return dramatiq.get_broker().get_actor(actor_name)


def enqueue(actor_name: str, *args, delay: timedelta | None = None, **kwargs) -> str:
    """Send `actor_name(*args, **kwargs)` once the current transaction commits. Returns the message id."""
    actor = get_actor(actor_name)
    message = actor.message_with_options(args=args, kwargs=kwargs)
    delay_ms = int(delay.total_seconds() * 1000) if delay else None
    transaction.on_commit(lambda: actor.broker.enqueue(message, delay=delay_ms))
    return message.message_id
