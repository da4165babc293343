"""Exports from the home screen: the export dialog, then the file written in a thread worker.

One export runs at a time (a second ``e`` while one is being written rings the bell). The
dialog opens with the last export's kind and format, and the folder the last file went to.
A file that cannot be written is reported in words and the desk goes on; anything unexpected
goes to the app's error modal (the worker runs on the app).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dadan.core.errors import DadanError
from dadan.core.i18n import tr
from dadan.core.orders.selection import Selection


class ExportRunner:
    """The exports of one screen (``node``); dialogs and the worker belong to its app."""

    def __init__(self, node) -> None:
        self.node = node
        self.running = False
        self.last: tuple[str, str, Path | None] = ("orders", "xlsx", None)  # kind, format, folder

    @property
    def app(self):
        return self.node.app

    def open(self, selection: Selection, *, selected: bool, now: dt.datetime) -> None:
        """The export dialog for ``selection`` (``selected``: the operator chose these orders)."""
        from dadan.tui.screens.export_dialog import ExportDialog

        if self.running:
            self.app.bell()
            self.app.notify(tr("The last export is still being written.", "上一个导出仍在写入。"), severity="warning")
            return
        kind, fmt, folder = self.last
        dialog = ExportDialog(selection, selected=selected, now=now, kind=kind, fmt=fmt, folder=folder)
        self.app.push_screen(dialog, self._chosen)

    def _chosen(self, request) -> None:
        if request is None:
            return
        self.last = (request.kind, request.fmt, self.last[2])
        self.running = True
        # (a year of orders takes minutes to write: say it has begun; the desk goes on meanwhile)
        self.app.notify(tr("Writing {p}… the desk goes on; you are told when it is done.",
                           "正在写入 {p}…… 可继续操作，完成后会提示。", p=request.path), timeout=6, markup=False)
        self.app.run_worker(lambda: self._write(request), thread=True, exclusive=True, exit_on_error=False,
                            group="export", description="export")

    def _write(self, request) -> None:
        from dadan.tui.screens.export_dialog import write_export

        try:
            res = write_export(request)
        except DadanError as exc:  # a path that cannot be written...: in words, the desk goes on
            self.app.call_from_thread(self._done, request.kind, None, exc)
            return
        except BaseException:  # the app's error modal shows it; the next export may start
            self.app.call_from_thread(self._done, request.kind, None, None)
            raise
        self.app.call_from_thread(self._done, request.kind, res, None)

    def _done(self, kind: str, res, error) -> None:
        from dadan.tui.screens.export_dialog import result_text

        self.running = False
        if error is not None:
            self.app.bell()
            self.app.notify(error.message, title=tr("Export failed", "导出失败"), severity="error", timeout=10,
                            markup=False)
            return
        if res is None:
            return
        self.last = (*self.last[:2], Path(res.path).parent)  # the next export goes there too
        self.app.notify(result_text(kind, res), title=tr("Exported", "已导出"), timeout=10, markup=False)
