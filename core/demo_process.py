"""The second process of a big demo: it makes the orders' batches (generation and their insert
parameters, :func:`dadan.core.demo._batches`) and their free-text index while the demo's own
process writes them (:func:`dadan.core.demo.write_demo`)."""

from __future__ import annotations

import gc
import os
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.orders import fts_scratch


def serve_batches() -> None:
    """The second process of a big demo (``python -c``): read the arguments of
    :func:`dadan.core.demo._batches` and the file to index the orders' text in (or None) pickled
    on stdin, write the batches pickled to stdout, then None; then index the orders' text (see
    :class:`MadeElsewhere`). A thread writes the batches out, up to :data:`_SENT_AHEAD` behind,
    so that making them goes on while the writing process reads at its own pace; when nobody
    reads any more, the process ends."""
    from dadan.core.demo import _batches  # (it imports this module)

    gc.disable()  # a short life of many small containers and no cycles
    parent = os.getppid()
    args, index = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    outbox: queue.Queue = queue.Queue(maxsize=_SENT_AHEAD)

    def send() -> None:
        try:
            while (data := outbox.get()) is not None:
                out.write(data)
                out.flush()
        except OSError:  # the reader has gone (stopped, or killed): so does this process
            os._exit(1)

    sender = threading.Thread(target=send, name="demo-send", daemon=True)
    sender.start()
    texts: list[str] = []  # the orders' search texts, in the order their rows are written
    for batch in _batches(*args):
        outbox.put(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
        if index:
            texts += batch[1].search_texts()
    outbox.put(pickle.dumps(None))
    outbox.put(None)
    if index:  # while the writing process builds the order table's indexes
        scratch = fts_scratch.ScratchIndex(Path(index))
        scratch.add(FIRST_ID, texts)
        scratch.finish()
        if os.getppid() != parent:  # the writing process was killed meanwhile: nobody will remove it
            Path(index).unlink(missing_ok=True)
    sender.join()


_SENT_AHEAD = 4
FIRST_ID = 1  # the id an empty order table gives its first row: the index numbers the orders from it


class MadeElsewhere:
    """:func:`dadan.core.demo._batches`, made by a second process (a fresh interpreter: nothing
    of this one's open database goes with it); the pipe holds it back while this one writes. A
    thread here unpickles the next batch when told (:meth:`read_ahead`): while this one fills a
    batch's SKU pairs, SQL that lets go of the interpreter's lock, so that neither waits for the
    other (at 1,000,000 orders some 3 s of unpickling off the writer's path).

    ``index``: a file in which that process, once it has sent the last batch, indexes the text of
    the orders it made (:class:`dadan.core.orders.fts_scratch.ScratchIndex`), numbered from
    :data:`FIRST_ID` as an empty order table numbers them; :meth:`index_made` waits until it is
    finished. A context
    manager: leaving it stops the process and removes the file."""

    def __init__(self, *args, index: Path | None = None):
        self.args = args
        self.index = index
        self._asked = self._taken = 0  # batches asked for (to be read), batches handed out
        self._cv = threading.Condition()
        self._stop = False
        self._ready: queue.Queue = queue.Queue()
        self._proc: subprocess.Popen | None = None
        self._reader = threading.Thread(target=self._read, name="demo-batches", daemon=True)

    def _ask(self, batches: int) -> None:
        with self._cv:
            if batches > self._asked:
                self._asked = batches
                self._cv.notify()

    def read_ahead(self) -> None:
        """Unpickle the next batch now (else when it is asked for)."""
        self._ask(self._taken + 1)

    def __enter__(self) -> "MadeElsewhere":
        self._proc = subprocess.Popen([sys.executable, "-c", "from dadan.core.demo_process import serve_batches; serve_batches()"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            pickle.dump((self.args, self.index and str(self.index)), self._proc.stdin)
            self._proc.stdin.close()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self._reader.start()
        return self

    def _read(self) -> None:
        loaded = 0
        try:
            while True:
                with self._cv:
                    self._cv.wait_for(lambda n=loaded: self._stop or self._asked > n)
                    if self._stop:
                        return
                item = pickle.load(self._proc.stdout)
                loaded += 1
                self._ready.put(item)
                if item is None:
                    return
        except Exception as e:  # noqa: BLE001 - EOF, a torn pickle: the process stopped
            self._ready.put(e)

    def __iter__(self) -> Iterator[tuple]:
        while True:
            self._ask(self._taken + 1)  # (read ahead already, or now)
            batch = self._ready.get()
            if batch is None:
                return
            if isinstance(batch, Exception):
                raise _stopped() from None
            self._taken += 1
            yield batch

    def index_made(self) -> Path:
        """The index file, once the process has finished it and ended."""
        if self._proc.wait() != 0:
            raise _stopped()
        return self.index

    def __exit__(self, *exc) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        if self._reader.is_alive():
            self._reader.join(timeout=5)
        if self.index is not None:
            self.index.unlink(missing_ok=True)


def _stopped() -> DadanError:
    return DadanError(tr("the process making the demo orders stopped", "生成演示订单的进程已停止"))
