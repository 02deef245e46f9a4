"""A stream of records cut into batches: each batch is looked up, planned and applied at once,
so memory stays bounded whatever the file's size."""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
BATCH_SIZE = 5000


def batches(records: Iterable[T]) -> Iterator[list[T]]:
    """Lists of up to BATCH_SIZE records (read at each call: tests make it small)."""
    records = iter(records)
    while batch := list(islice(records, BATCH_SIZE)):
        yield batch
