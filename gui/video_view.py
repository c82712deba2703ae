"""The live picture: the frame scaled to fit, each face's box with its name (or "Unknown") and
distance, and a message with buttons in place of the picture when there is no video."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.live.loop import FrameResult, TrackView

if TYPE_CHECKING:
    from PySide6.QtGui import QMouseEvent, QPaintEvent, QResizeEvent

#: Box colours by what core decided about the face.
COLOURS = {
    "known": QColor(40, 200, 80),
    "unknown": QColor(230, 60, 50),
    "unsure": QColor(240, 170, 30),
    "pending": QColor(200, 200, 200),
    "poor": QColor(120, 160, 230),
}  # failed the quality gates: not judged, the label says why


def caption(track: TrackView) -> str:
    """The text over a box: the label core chose and, once there is one, the distance."""
    return track.label if track.distance is None else f"{track.label}  {track.distance:.2f}"


class VideoView(QWidget):
    """Shows ShownFrames; a click on a face box emits face_clicked with frame coordinates."""

    face_clicked = Signal(float, float)  # x, y in the frame's pixels
    open_file_clicked = Signal()
    open_url_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 180)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.image: QImage | None = None
        self.result: FrameResult | None = None
        self.min_label_px = 12  # the smallest name tag; the kiosk raises it (set_text_size)
        self._notice = QWidget(self)
        self._message = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self._message.setStyleSheet("color: white; font-size: 15px;")
        self.open_file_button = QPushButton("Open a video file…")
        self.open_url_button = QPushButton("Open a URL…")
        self.open_file_button.clicked.connect(self.open_file_clicked)
        self.open_url_button.clicked.connect(self.open_url_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.open_file_button)
        buttons.addWidget(self.open_url_button)
        buttons.addStretch()
        box = QVBoxLayout(self._notice)
        box.addStretch()
        box.addWidget(self._message)
        box.addLayout(buttons)
        box.addStretch()
        self._notice.hide()

    # -- what to show -------------------------------------------------------------------------
    def show_frame(self, image: QImage, result: FrameResult) -> None:
        self.image, self.result = image, result
        self._notice.hide()
        self.update()

    def show_message(self, text: str, offer_sources: bool = False, keep_picture: bool = False) -> None:
        """A message over (or instead of) the picture; with offer_sources, one-click buttons to
        open a file or a URL (there is no camera, or the chosen one is gone)."""
        if not keep_picture:
            self.image, self.result = None, None
        self._message.setText(text)
        self.open_file_button.setVisible(offer_sources)
        self.open_url_button.setVisible(offer_sources)
        self._notice.setGeometry(self.rect())
        self._notice.show()
        self._notice.raise_()
        self.update()

    def set_text_size(self, px: int) -> None:
        """Names and messages at least ``px`` pixels high (the kiosk: readable from two metres)."""
        self.min_label_px = px
        self._message.setStyleSheet(f"color: white; font-size: {px}px;")

    def message(self) -> str:
        return self._message.text() if self._notice.isVisible() else ""

    # -- geometry -----------------------------------------------------------------------------
    def _picture_rect(self) -> QRectF:
        """Where the frame is drawn: scaled to fit, centred, aspect kept."""
        if self.image is None:
            return QRectF()
        iw, ih = self.image.width(), self.image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def _scale(self, rect: QRectF) -> float:
        """Widget pixels per frame pixel where the frame is drawn in ``rect`` (0 with no frame)."""
        return rect.width() / self.image.width() if self.image is not None and self.image.width() else 0.0

    def to_frame(self, pos: QPointF) -> tuple[float, float] | None:
        rect = self._picture_rect()
        scale = self._scale(rect)
        if rect.isEmpty() or not rect.contains(pos) or not scale:
            return None
        return (pos.x() - rect.left()) / scale, (pos.y() - rect.top()) / scale

    def to_widget(self, x: float, y: float) -> QPointF:
        rect = self._picture_rect()
        scale = self._scale(rect)
        return QPointF(rect.left() + x * scale, rect.top() + y * scale)

    # -- Qt events ----------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        self._notice.setGeometry(self.rect())
        super().resizeEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        at = self.to_frame(event.position())
        if at is not None and event.button() == Qt.MouseButton.LeftButton:
            self.face_clicked.emit(*at)
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 20, 20))
        if self.image is not None:
            rect = self._picture_rect()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(rect, self.image)
            if self.result is not None:
                self._draw_tracks(painter, rect, self.result)
        painter.end()

    def _draw_tracks(self, painter: QPainter, rect: QRectF, result: FrameResult) -> None:
        scale = self._scale(rect)
        font = QFont(self.font())
        font.setPixelSize(max(self.min_label_px, int(14 * scale)))
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        for track in result.tracks:
            colour = COLOURS.get(track.state, COLOURS["pending"])
            b = track.box
            box = QRectF(rect.left() + b.left * scale, rect.top() + b.top * scale, b.width * scale, b.height * scale)
            painter.setPen(QPen(colour, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(box)
            text = caption(track)
            tw, th = metrics.horizontalAdvance(text) + 8, metrics.height() + 4
            tag = QRectF(box.left() - 1, box.bottom() + 1, max(tw, box.width() + 2), th)
            painter.fillRect(tag, colour)
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)
