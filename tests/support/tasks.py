"""Counting the asyncio tasks code starts, for tests that a hot path starts none."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def tasks_started() -> Iterator[list[str]]:
    """Within the block, record the coroutine name of every task started on the running loop."""
    loop = asyncio.get_running_loop()
    started: list[str] = []
    default_factory = loop.get_task_factory()

    def counting_factory(loop, coro, **kwargs):
        started.append(getattr(coro, "__qualname__", repr(coro)))
        if default_factory is not None:
            return default_factory(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting_factory)
    try:
        yield started
    finally:
        loop.set_task_factory(default_factory)
