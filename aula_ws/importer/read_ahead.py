"""A large file read and checked in a second process while this one writes.

The driver's writes leave one core idle (~4 s of 14 for a 1,000,000-line lessons file is
reading and checking lines): a forked child runs the same reading generator and sends each
batch through a pipe, one batch ahead (the pipe's buffer bounds memory). The usual batch goes
column by column (a third of the cost of pickling its tuples). Only the child reads the file;
the parent only writes, so the import stays one transaction, atomic as before."""

import multiprocessing
import threading
from collections.abc import Iterator
from itertools import repeat
from multiprocessing.connection import Connection
from typing import Any

from aula_ws.csvkit.reader import Record

Batch = tuple[list[Record], list[Any]]  # the records and what was read of them


def can_read_ahead() -> bool:
    # fork is safe only without other threads (a server's would leave their locks held in the child)
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and (multiprocessing.cpu_count() or 1) > 1
    )


def read_ahead(batches: Iterator[Batch]) -> Iterator[Batch]:
    """The same batches as `batches` (not started yet), read in a forked child."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_send_all, args=(batches, sending), daemon=True)
    child.start()
    sending.close()
    try:
        while (message := receiving.recv())[0] != "done":
            if message[0] == "error":
                raise message[1]
            yield _unpacked(message)
    finally:
        receiving.close()  # a child still sending stops at its next send
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()
            child.join()


def _send_all(batches: Iterator[Batch], sending: Connection) -> None:
    try:
        for batch in batches:
            sending.send(_packed(batch))
        sending.send(("done",))
    except BrokenPipeError:
        pass  # the parent stopped reading (it failed): nothing to say
    except BaseException as error:  # whatever it is, the parent raises it
        try:
            sending.send(("error", error))
        except Exception:  # an exception that cannot be pickled
            sending.send(("error", RuntimeError(f"reading the file failed: {error!r}")))


def _packed(batch: Batch) -> tuple[Any, ...]:
    records, lines = batch
    kinds = set(map(type, lines))
    if len(kinds) == 1 and (kind := kinds.pop()) is not None and hasattr(kind, "_fields"):
        # the usual batch: columns of plain values; fields are not read after this point
        columns = list(zip(*lines, strict=True))
        return ("columns", kind, [r.line for r in records], [r.raw for r in records], columns)
    return ("rows", records, lines)


def _unpacked(message: tuple[Any, ...]) -> Batch:
    if message[0] == "rows":
        return message[1], message[2]
    _, kind, numbers, raws, columns = message
    records = list(map(_new_tuple, repeat(Record), zip(numbers, raws, repeat(None))))
    return records, list(map(_new_tuple, repeat(kind), zip(*columns, strict=True)))


_new_tuple = tuple.__new__  # no Python-level __new__ per line
