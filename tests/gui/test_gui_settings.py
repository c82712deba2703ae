"""The settings dialog: threshold, detector, smallest face and the quality gates reach the
recognizer and are kept in the gallery (what `facegate settings` and `replay` read); the choices
an older FaceGate kept in QSettings move into the gallery once, bad ones left out."""

from __future__ import annotations

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from core.live.settings import QualityGates, RecognitionSettings
from core.station import StationSettings
from core.vision.quality import QualitySettings
from gui.settings_dialog import SettingsDialog, migrate_settings


def test_settings_reach_the_recognizer_and_the_gallery(qtbot, live_window):
    window, _ = live_window
    assert window.recognizer.settings.threshold == 0.4

    def choose():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SettingsDialog):
            QTimer.singleShot(20, choose)
            return
        assert dialog.threshold.value() == 0.4
        assert dialog.method.currentText() == "yunet" and dialog.method.itemText(0) == "yunet"
        assert dialog.min_size.value() == QualitySettings().min_size
        assert (dialog.min_size.minimum(), dialog.min_size.maximum()) == (20, 400)  # core.live.settings.RANGES
        dialog.threshold.setValue(0.45)
        dialog.method.setCurrentText("hog")
        dialog.min_face.setValue(60)
        dialog.min_size.setValue(80)
        dialog.max_yaw.setValue(30)
        dialog.accept()

    QTimer.singleShot(0, choose)
    window.open_settings()
    s = window.recognizer.settings
    assert (s.threshold, s.method, s.min_face) == (0.45, "hog", 60)
    assert (s.quality.min_size, s.quality.max_yaw) == (80, 30)
    assert window.recognizer.detector.settings.method == "hog"
    stored, problems = StationSettings.load(window.gallery.store)
    assert problems == [] and stored.recognition == RecognitionSettings("hog", 60, 0.45)
    assert stored.quality.gates() == s.quality
    assert not QSettings(window.settings.fileName(), QSettings.Format.IniFormat).contains("recognition/threshold")


def test_old_per_user_settings_move_into_the_gallery_once(tmp_path, gallery):
    qs = QSettings(str(tmp_path / "old.ini"), QSettings.Format.IniFormat)
    qs.setValue("recognition/threshold", "not a number")
    qs.setValue("recognition/method", "hog")
    qs.setValue("recognition/min_face", "80")
    qs.setValue("quality/min_sharpness", "sharp")
    qs.setValue("quality/max_pitch", "120")  # out of the form's range: left out
    qs.setValue("quality/min_size", "90")
    qs.setValue("source/last", "0")  # the sources stay per user
    moved = migrate_settings(qs, gallery.store)
    assert sorted(moved) == ["quality.min_size", "recognition.method", "recognition.min_face"]
    stored, _ = StationSettings.load(gallery.store)
    assert stored.recognition == RecognitionSettings("hog", 80, 0.4)
    assert stored.quality == QualityGates(min_size=90)
    assert qs.allKeys() == ["source/last"]

    qs.setValue("recognition/min_face", "120")  # a later stray value never overrides the gallery's
    assert migrate_settings(qs, gallery.store) == []
    assert StationSettings.load(gallery.store)[0].recognition.min_face == 80
