"""What an optimization pass did, as `dagshift plan` shows it. Every pass and the driver share it, so it
sits below both."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    pass_name: str
    message: str
    task: str | None = None
    warning: bool = False
    merged: tuple[str, ...] = ()  # the tasks `task` now stands for (deduplication, fusion)
