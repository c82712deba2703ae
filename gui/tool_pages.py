"""Adds the Search, Video scan and Evaluate pages to the window, and wires them to it.

When one of them changes the gallery (a person enrolled from a found face or a folder), the
window looks at once (MainWindow.poll_gallery: the live loop re-identifies, every page reloads).
With a site, Search gets its "whole site" switch. Their job threads are stopped (and waited for)
when the window shuts down, so no thread outlives the window.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from core.station import Station
from gui.eval_page import EvalPage
from gui.scan_page import ScanPage
from gui.search_page import SearchPage
from gui.shell import Shell


class ToolPages(QObject):
    def __init__(self, window: Shell, station: Station) -> None:
        super().__init__(window)
        self.search = SearchPage(station.gallery)
        self.scan = ScanPage(station.gallery)
        self.evaluate = EvalPage(station.gallery)
        window.add_page("Search", self.search)
        window.add_page("Video scan", self.scan)
        window.add_page("Evaluate", self.evaluate)
        for page in (self.scan, self.evaluate):
            page.gallery_changed.connect(window.poll_gallery)
        if station.site_config is not None:
            self.search.enable_site(station.site_config)

    def shutdown(self) -> None:
        for page in (self.search, self.scan, self.evaluate):
            page.shutdown()
