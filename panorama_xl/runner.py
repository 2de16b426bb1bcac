"""Check many files in worker processes, each file under a time and memory limit.

A hostile or broken file can make a parser loop, allocate without bound or
crash. Each file is therefore checked in a worker process: when a file takes
longer than ``Limits.seconds`` the worker is killed and replaced, and the file
is reported as timed out; when a worker dies (out of memory under its
address-space cap, or a crash in a native reader) the file is reported as
failed. Either way the other files are still checked.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from panorama_xl.annotate import write_annotated
from panorama_xl.check import Checker, FileReport
from panorama_xl.problems import Problem
from panorama_xl.safety import Limits
from panorama_xl.survey import Survey
from panorama_xl.template import QuestionnaireWriter

#: Address-space cap of a worker process, in bytes; a questionnaire needs far less.
WORKER_MEMORY_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Task:
    """One file to check, the body it is expected to come from, and where to annotate it.

    When ``annotated`` is set, the worker writes the annotated copy there if
    the file was read and has errors, or any problem when
    ``annotate_warnings`` is set. Writing it in the worker keeps the main
    process free and spreads the work over the workers.
    """

    path: Path
    expected_respondent: str | None = None
    annotated: Path | None = None
    annotate_warnings: bool = False


def _limit_memory(limit: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass  # not available on this platform: the time limit still applies


def _serve(
    connection: Connection, survey: Survey, year: int, limits: Limits, memory: int
) -> None:
    _limit_memory(memory)
    checker = Checker(survey, year, limits)
    writer: QuestionnaireWriter | None = None
    while True:
        try:
            task = connection.recv()
        except EOFError:
            return
        if task is None:
            return
        report = checker.check(task.path, task.expected_respondent)
        wanted = report.problems if task.annotate_warnings else report.errors
        if task.annotated is not None and wanted and not report.unreadable:
            writer = writer or QuestionnaireWriter(survey, year)
            written = write_annotated(report, writer, task.annotated)
            report.annotated = str(written) if written else ""
        connection.send(report)


class _Worker:
    def __init__(self, context, survey: Survey, year: int, limits: Limits, memory: int):
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, survey, year, limits, memory), daemon=True
        )
        self.process.start()
        child.close()
        self.task: Task | None = None
        self.deadline = 0.0

    def submit(self, task: Task, seconds: float) -> None:
        self.task = task
        self.deadline = time.monotonic() + seconds
        self.connection.send(task)

    def stop(self) -> None:
        try:
            self.connection.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.process.join(timeout=2)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.connection.close()


def check_many(
    tasks: Iterable[Task],
    survey: Survey,
    year: int,
    *,
    workers: int | None = None,
    limits: Limits | None = None,
    memory: int = WORKER_MEMORY_BYTES,
) -> Iterator[FileReport]:
    """Check every task and yield one report per file, in completion order.

    Args:
        tasks: files to check.
        survey: the survey the files answer.
        year: the campaign year.
        workers: worker processes (default: one per CPU, at most the number of files).
        limits: size, cell and time limits; ``limits.seconds`` is the time
            allowed for one file.
        memory: address-space cap of each worker, in bytes.
    """
    limits = limits or Limits()
    # Largest files first, taken from the end of the list: a large file left for
    # last would keep one worker busy while the others sit idle.
    pending = sorted(tasks, key=_size)
    count = min(workers or os.cpu_count() or 1, max(len(pending), 1))
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    pool = [_Worker(context, survey, year, limits, memory) for _ in range(count)]
    try:
        for worker in pool:
            if pending:
                worker.submit(pending.pop(), limits.seconds)
        while any(worker.task is not None for worker in pool):
            busy = [worker for worker in pool if worker.task is not None]
            timeout = max(
                0.0, min(worker.deadline for worker in busy) - time.monotonic()
            )
            ready = wait([worker.connection for worker in busy], timeout=timeout)
            for index, worker in enumerate(pool):
                if worker.task is None:
                    continue
                task = worker.task
                if worker.connection in ready:
                    try:
                        report = worker.connection.recv()
                    except (EOFError, OSError):
                        report = _failed(
                            task,
                            "le processus de lecture s'est arrêté (mémoire insuffisante ou lecteur en échec)",
                        )
                        pool[index] = worker = _replace(
                            worker, context, survey, year, limits, memory
                        )
                elif time.monotonic() >= worker.deadline:
                    report = _failed(task, None, limits)
                    pool[index] = worker = _replace(
                        worker, context, survey, year, limits, memory
                    )
                else:
                    continue
                worker.task = None
                # Give the worker its next file before the caller handles this report,
                # so that storing or annotating it overlaps the next check.
                if pending:
                    worker.submit(pending.pop(), limits.seconds)
                yield report
    finally:
        for worker in pool:
            worker.stop()


def _size(task: Task) -> int:
    try:
        return task.path.stat().st_size
    except OSError:
        return 0


def _replace(
    worker: _Worker, context, survey: Survey, year: int, limits: Limits, memory: int
) -> _Worker:
    worker.kill()
    return _Worker(context, survey, year, limits, memory)


def _failed(task: Task, detail: str | None, limits: Limits | None = None) -> FileReport:
    """Build the report of a file whose worker timed out (``detail`` None) or died."""
    report = FileReport(str(task.path), unreadable=True)
    # Only stat the file: reading it again here could hang or crash this process too.
    try:
        stat = task.path.stat()
        report.size = stat.st_size
        report.modified = dt.datetime.fromtimestamp(
            stat.st_mtime, dt.timezone.utc
        ).isoformat(timespec="seconds")
    except OSError:
        pass
    if detail is None:
        assert limits is not None
        report.problems.append(Problem.of("file-timeout", seconds=int(limits.seconds)))
        report.seconds = limits.seconds
    else:
        report.problems.append(Problem.of("file-reader-failed", detail=detail))
    return report
