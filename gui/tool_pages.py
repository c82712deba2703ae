"""Adds the Search, Video scan and Evaluate pages to the window, and wires them to it.

When one of them changes the gallery (a person enrolled from a found face or a folder), the
People page reloads and the live recognizer re-identifies. Their job threads are stopped (and
waited for) when the window closes, through an event filter, so no thread outlives the window.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject

from gui.eval_page import EvalPage
from gui.scan_page import ScanPage
from gui.search_page import SearchPage


class ToolPages(QObject):
    # window: Any: a lookup table (getattr) until a Station replaces it (issue 25); MainWindow here would be an import cycle
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.search = SearchPage(window.gallery)
        self.scan = ScanPage(window.gallery)
        self.evaluate = EvalPage(window.gallery)
        window.add_page("Search", self.search)
        window.add_page("Video scan", self.scan)
        window.add_page("Evaluate", self.evaluate)
        for page in (self.scan, self.evaluate):
            page.gallery_changed.connect(window.people.reload)
            page.gallery_changed.connect(window.recognizer.refresh)
        window.installEventFilter(self)

    def shutdown(self) -> None:
        for page in (self.search, self.scan, self.evaluate):
            page.shutdown()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

