"""Files dragged from the desktop's file manager onto a page: the page gets their local paths.

An event filter rather than a drop handler per widget class, so any page accepts drops with one
call and the page's own widgets keep their behaviour."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QWidget


def local_paths(mime: QMimeData) -> list[str]:
    """The local files (or folders) in a drag; links to web pages are not files."""
    if not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]


class _FileDrops(QObject):
    def __init__(self, widget: QWidget, on_paths: Callable[[list[str]], None]) -> None:
        super().__init__(widget)
        self.on_paths = on_paths

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not isinstance(event, QDropEvent):  # drag-enter and drag-move events are drop events too
            return False
        paths = local_paths(event.mimeData())
        if not paths:
            return False
        event.acceptProposedAction()
        if event.type() == QEvent.Type.Drop:
            self.on_paths(paths)
        return True


def accept_file_drops(widget: QWidget, on_paths: Callable[[list[str]], None]) -> None:
    """Let ``widget`` take files dropped on it; ``on_paths`` gets their paths."""
    widget.setAcceptDrops(True)
    widget.installEventFilter(_FileDrops(widget, on_paths))
