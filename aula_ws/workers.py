"""Pre-forked workers: `aula-ws serve --workers N` runs N processes, each a whole server
(waitress and its threads) accepting on the one listening socket the parent opened.

One process is capped by the GIL (about 700 one-user calls/s on 2 cores); N processes are not.
The parent only supervises, and holds no thread, so every fork is safe:
- SIGTERM or SIGINT: each worker is sent SIGTERM and waited for (a worker still there after
  STOP_GRACE seconds is killed); the exit code is EXIT_OK.
- a worker that dies is reported on stderr and started again; workers that keep dying at
  once (a broken start-up, not a crash under load) stop the server with EXIT_REJECTED.
- a worker whose parent was killed (SIGKILL: it could not stop them) stops by itself.
"""

import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable

from aula_ws.commands.exits import EXIT_OK, EXIT_REJECTED

STOP_GRACE = 20.0  # seconds a worker has to finish its requests once told to stop
QUICK_DEATH = 5.0  # a worker dead this soon after its start did not start
QUICK_DEATHS_ALLOWED = 5  # in a row: then the server stops
ORPHAN_CHECK = 1.0  # seconds between a worker's looks at its parent
_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}


def supervise(count: int, work: Callable[[int], int]) -> int:
    """Runs `work(slot)` in `count` forked processes, slots 0 to count-1, until told to stop."""
    previous_chld = signal.signal(signal.SIGCHLD, _ignore)  # a handler, so SIGCHLD stays pending for sigtimedwait
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    running: dict[int, tuple[int, float]] = {}  # pid: (slot, started)
    quick_deaths = 0
    try:
        for slot in range(count):
            running[_start(slot, work, previous_mask)] = (slot, time.monotonic())
        while True:
            received = signal.sigtimedwait(_SIGNALS, 1.0)
            if received is not None and received.si_signo != signal.SIGCHLD:
                break
            for pid, status in _reaped():
                if pid not in running:
                    continue
                slot, started = running.pop(pid)
                quick_deaths = quick_deaths + 1 if time.monotonic() - started < QUICK_DEATH else 0
                if quick_deaths >= QUICK_DEATHS_ALLOWED:
                    print(
                        f"aula-ws: worker {slot} (pid {pid}) {_describe(status)}; workers keep dying as they start: stopping",
                        file=sys.stderr,
                        flush=True,
                    )
                    return EXIT_REJECTED
                print(
                    f"aula-ws: worker {slot} (pid {pid}) {_describe(status)}; starting another",
                    file=sys.stderr,
                    flush=True,
                )
                running[_start(slot, work, previous_mask)] = (slot, time.monotonic())
    finally:
        _stop(running)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        signal.signal(signal.SIGCHLD, previous_chld)
    return EXIT_OK


def _start(slot: int, work: Callable[[int], int], mask: set[int | signal.Signals]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = EXIT_REJECTED
    try:  # the worker: never returns into the parent's code
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, interrupt)  # before the signals are let through
        signal.signal(signal.SIGINT, interrupt)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _stop_when_orphaned(os.getppid())
        code = work(slot)
    except KeyboardInterrupt:  # told to stop before its server ran
        code = EXIT_OK
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _stop_when_orphaned(parent: int) -> None:
    """A worker whose parent is gone (killed: it could not stop it) stops itself, so no
    worker is left serving unsupervised on the port."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="aula-ws-orphan-watch", daemon=True).start()


def interrupt(_signal: int, _frame: object) -> None:
    """SIGTERM and SIGINT as KeyboardInterrupt: waitress's loop stops, the finally clauses close."""
    raise KeyboardInterrupt


def _ignore(_signal: int, _frame: object) -> None:
    pass


def _reaped() -> list[tuple[int, int]]:
    """The workers that have ended since the last call, with their wait status."""
    ended: list[tuple[int, int]] = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended.append((pid, status))


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


def _stop(running: dict[int, tuple[int, float]]) -> None:
    """SIGTERM to every worker, then wait; whoever outlives STOP_GRACE is killed."""
    for pid in running:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while running and time.monotonic() < deadline:
        for pid, _ in _reaped():
            running.pop(pid, None)
        time.sleep(0.05)
    for pid in running:
        _signal(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _signal(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, number)
