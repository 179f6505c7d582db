"""A bounded pool of worker processes with backpressure.

At most ``processes`` analyses run at once (one per process, one thread each) and at most
``queue_size`` wait; past that, :class:`OverloadedError` tells the caller when to retry
(HTTP 429 + Retry-After). Processes are spawned, not forked: the HTTP front runs threads.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from inference_worker import engine
from inference_worker.settings import WorkerSettings
from ponte.domain.analysis import AnalyzeRequest
from ponte.domain.campaigns.rewrite import RewriteRequest

logger = logging.getLogger(__name__)

T = TypeVar("T")


class OverloadedError(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"queue full, retry after {retry_after}s")
        self.retry_after = retry_after


class PoolUnavailableError(Exception):
    """The analysis did not finish in time, or its process died."""


class AnalysisPool:
    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.capacity = settings.processes + settings.queue_size
        self.in_flight = 0
        self.ready = False
        self._executor = self._new_executor()
        # a moving estimate of one analysis' duration, for Retry-After
        self._mean_seconds = 1.0

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.settings.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=engine.init_process,
            initargs=(self.settings.model_dump_json(),),
        )

    @property
    def waiting(self) -> int:
        return max(0, self.in_flight - self.settings.processes)

    def retry_after(self) -> int:
        return max(1, math.ceil((self.waiting + 1) * self._mean_seconds / self.settings.processes))

    async def warm_up(self) -> None:
        """Start every process and load its models, so the first request does not pay for it."""
        loop = asyncio.get_running_loop()
        try:
            pids = await asyncio.gather(
                *(loop.run_in_executor(self._executor, engine.warm_up) for _ in range(self.settings.processes))
            )
            logger.info("worker processes ready: %s", sorted(set(pids)))
        except BrokenProcessPool:
            logger.exception("a worker process died during warm-up; starting a new pool")
            self._replace_executor()
            return
        except Exception:
            logger.exception("warm-up failed")
            return
        self.ready = True

    def _replace_executor(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()

    async def analyze(self, request: AnalyzeRequest) -> engine.Outcome:
        started = asyncio.get_running_loop().time()
        outcome: engine.Outcome = await self._run(engine.analyze, request.model_dump_json())
        self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * (asyncio.get_running_loop().time() - started)
        self.ready = True
        return outcome

    async def rewrite(self, request: RewriteRequest) -> str | None:
        """A campaign rewrite in a worker process (same capacity and timeout as an analysis)."""
        text: str | None = await self._run(engine.rewrite, request.model_dump_json())
        return text

    async def _run(self, job: Callable[[str], T], payload: str) -> T:
        """``job(payload)`` in a worker process, within the pool's capacity and timeout; a dead
        process replaces the pool (the request fails, the next one gets fresh processes)."""
        if self.in_flight >= self.capacity:
            raise OverloadedError(self.retry_after())
        self.in_flight += 1
        try:
            future = asyncio.get_running_loop().run_in_executor(self._executor, job, payload)
            return await asyncio.wait_for(future, self.settings.request_timeout_seconds)
        except TimeoutError as exc:
            raise PoolUnavailableError("timeout") from exc
        except BrokenProcessPool as exc:
            logger.error("a worker process died; starting a new pool")
            self._replace_executor()
            raise PoolUnavailableError("process died") from exc
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
