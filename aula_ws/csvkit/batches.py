"""A stream of records cut into batches: each batch is looked up, planned and applied at once,
so memory stays bounded whatever the file's size."""

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
BATCH_SIZE = 5000


def batches(records: Iterable[T]) -> Iterator[list[T]]:
    """Lists of up to BATCH_SIZE records (read at each call: tests make it small)."""
    records = iter(records)
    while batch := list(islice(records, BATCH_SIZE)):
        yield batch


# (allocations before a young collection, young collections before a middle one, middle before a full one)
LOADING_GC_THRESHOLD = (100_000, 50, 100)
_loads = 0
_loads_lock = threading.Lock()
_saved_threshold = gc.get_threshold()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's garbage collector runs less often during a load: every record and line of a batch
    stays alive until the batch is applied, so the default threshold (a collection every 700
    allocations) walks them again and again for nothing: ~10% of a large import. Cycles are still
    collected, less often. The setting is the process's: the first of concurrent loads sets it,
    the last one to finish puts the previous one back."""
    global _loads, _saved_threshold
    with _loads_lock:
        if _loads == 0:
            _saved_threshold = gc.get_threshold()
            gc.set_threshold(*LOADING_GC_THRESHOLD)
        _loads += 1
    try:
        yield
    finally:
        with _loads_lock:
            _loads -= 1
            if _loads == 0:
                gc.set_threshold(*_saved_threshold)
