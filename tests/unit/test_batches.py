"""Batches of a load, and the garbage collector's pace during it."""

import gc
import threading

import pytest

from aula_ws.csvkit import batches
from aula_ws.csvkit.batches import LOADING_GC_THRESHOLD, fewer_collections


def test_batches_cut_a_stream_in_lists_of_the_batch_size(monkeypatch):
    monkeypatch.setattr(batches, "BATCH_SIZE", 3)
    assert list(batches.batches(iter(range(7)))) == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_load_collects_less_often_and_puts_the_threshold_back_even_on_failure():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        assert gc.get_threshold() == LOADING_GC_THRESHOLD
        raise RuntimeError("a failed load")
    assert gc.get_threshold() == before


def test_overlapping_loads_keep_the_threshold_until_the_last_one_ends():
    before = gc.get_threshold()
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[tuple[int, int, int]] = []

    def other_load() -> None:
        first_in.wait()
        with fewer_collections():
            pass
        second_done.set()

    thread = threading.Thread(target=other_load)
    thread.start()
    with fewer_collections():
        first_in.set()
        second_done.wait()
        seen.append(gc.get_threshold())  # the other load ended inside this one: still raised
    thread.join()
    assert seen == [LOADING_GC_THRESHOLD]
    assert gc.get_threshold() == before
