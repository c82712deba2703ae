"""Click-to-enroll in the real window: click Lin-Manuel Miranda's face box while the clip plays as
the camera, enroll him, replay the clip: his frames carry his name, the audience's do not."""

from __future__ import annotations

from PySide6.QtCore import Qt

from core.live.loop import EnrollmentProgress
from core.station.replay import NextFrame
from core.vision.quality import BLURRED, TOO_FAR, TURNED, UNCLEAR
from gui.enroll_dialog import pose_checklist
from tests.support.data import CLIP
from tests.support.window import LIN, LIN_FRAMES, OTHER_FRAMES, play


def _big_face_on_screen(window) -> bool:
    last = window.last
    return (
        last is not None and last.source_index >= 125 and len(last.result.tracks) == 1 and last.result.tracks[0].box.width >= 60
    )


def _big_face_labels(recording, frames: range) -> list[str]:
    """Labels of his face alone (YuNet also boxes the odd blur it half takes for a face, labelled
    'not clearly a face')."""
    return [label for i in frames for _, label, _, box in recording.frames.get(i, []) if box.width >= 70]


def test_click_a_face_enroll_it_and_it_is_named_live(qtbot, live_window):
    window, recording = live_window
    # The 10 s to collect samples is wall-clock; a loaded CI machine may process the clip at a
    # few frames per second, and this test is about the workflow, not the speed.
    window.recognizer.update_settings(enroll_timeout=60.0)
    window.open_source(str(CLIP))
    qtbot.waitUntil(lambda: _big_face_on_screen(window), timeout=60_000)
    box = window.last.result.tracks[0].box
    qtbot.mouseClick(window.video, Qt.MouseButton.LeftButton, pos=window.video.to_widget(*box.center).toPoint())
    dialog = window.enroll_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.name.setCurrentText(LIN)
    assert dialog.allowed.isChecked()
    dialog.start()
    # it saves by itself once the poses he shows are in, or - if he leaves first - offers to save
    # what it took, and the operator does
    qtbot.waitUntil(lambda: dialog.saved_name is not None or not dialog.started or dialog.save.isVisible(), timeout=60_000)
    if dialog.saved_name is None and dialog.started:
        dialog.save.click()
    assert dialog.saved_name == LIN, dialog.status.text()
    person = window.gallery.store.person(LIN)
    assert person.sample_count >= window.recognizer.settings.enroll_min_keep and person.allowed
    assert any("(straight)" in s.source for s in window.gallery.store.samples(LIN))  # the required pose
    shown = pose_checklist(EnrollmentProgress(LIN, 1, 3, 5, poses={"straight": 2, "left": 1}))
    assert shown == "Poses:  straight ✓2   left ✓1   right –   up –   down –"  # what the operator sees
    assert window.people.names() == [LIN]  # the people panel shows him at once
    with qtbot.waitSignal(window.worker.finished_source, timeout=120_000):
        pass

    play(qtbot, window, recording)
    his = _big_face_labels(recording, LIN_FRAMES)
    assert len(his) >= 0.9 * len(LIN_FRAMES)  # a box on (nearly) every frame of his
    # The samples come from frames ~130-175; from frame 150 to the end of his shot he is named
    # on nearly every frame. Earlier he turns his head: at the strict 0.4 threshold some of those
    # frames sit at 0.41-0.45 and are rightly called Unknown or Unsure rather than a guess, and
    # past the quality gates' 45 degrees he is asked to turn towards the camera.
    late = _big_face_labels(recording, range(150, 211))
    assert late.count(LIN) >= 0.9 * len(late), late
    assert his.count(LIN) >= 0.4 * len(his), his
    assert set(his) <= {LIN, "Unknown", "Unsure", "…", TURNED, BLURRED}
    others = recording.tracks_starting_in(OTHER_FRAMES)
    other = recording.labels(OTHER_FRAMES, others)
    assert other, "the other person was never boxed"
    assert LIN not in other
    # the audience around him: Unknown where sharp, big and frontal enough, else told why
    assert "Unknown" in other and set(other) <= {"Unknown", "Unsure", "…", TOO_FAR, TURNED, BLURRED, UNCLEAR}, other


def test_e_key_enrolls_the_only_face_and_says_why_not_otherwise(qtbot, live_window):
    window, _ = live_window
    window.enroll_single_face()  # nothing on screen yet
    assert "exactly one" in window.statusBar().currentMessage()
    assert window.enroll_dialog is None
    window.open_source(str(CLIP))
    qtbot.waitUntil(lambda: _big_face_on_screen(window), timeout=60_000)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_E)
    dialog = window.enroll_dialog
    assert dialog is not None and dialog.track_id == window.last.result.tracks[0].id
    dialog.reject()
    assert window.enroll_dialog is None


def test_enroll_panel_sits_beside_the_face_and_offers_to_save_when_he_leaves(qtbot, live_window):
    from PySide6.QtCore import QRect

    window, _ = live_window
    # on the frames' clock, whatever the machine's load: every frame is processed, timed by the
    # video's clock, each descriptor back on the next frame (as `facegate replay` does), and the
    # click below lands before the next frame is processed
    window.lockstep = True
    window.recognizer.descriptor_worker = NextFrame(window.recognizer.descriptor_worker)
    window.open_source(str(CLIP))
    worker = window.worker
    clicked = []

    def click_him_late(shown) -> None:
        # late in his shot (he leaves the picture at frame ~211, before 5 samples)
        big = [t for t in shown.result.tracks if t.box.width >= 70]
        if not clicked and 186 <= shown.source_index <= 198 and big:
            clicked.append(big[0].box)
            window.face_clicked(*big[0].box.center)
            window.enroll_dialog.name.setCurrentText(LIN)
            window.enroll_dialog.start()

    window.frame_shown.connect(click_him_late)
    with qtbot.waitSignal(worker.finished_source, timeout=600_000):  # the clip's end: 2 s after he left
        pass
    assert clicked
    box = clicked[0]
    dialog = window.enroll_dialog
    assert dialog is not None and dialog.isVisible() and dialog.started
    face = window.video.to_widget(box.left, box.top), window.video.to_widget(box.right, box.bottom)
    face_on_screen = QRect(window.video.mapToGlobal(face[0].toPoint()), window.video.mapToGlobal(face[1].toPoint()))
    panel = QRect(dialog.mapToGlobal(dialog.rect().topLeft()), dialog.size())
    assert not panel.intersects(face_on_screen) and not panel.intersects(
        QRect(window.video.mapToGlobal(window.video.rect().topLeft()), window.video.size())
    )  # docked beside the video
    assert dialog.save.isVisible(), dialog.status.text()
    assert "left the picture" in dialog.status.text() and "Save them now" in dialog.status.text()
    taken = dialog.progress.value()
    assert 3 <= taken < 5
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    assert window.gallery.store.person(LIN).sample_count == taken
    qtbot.waitUntil(lambda: window.enroll_dialog is None, timeout=5_000)
    assert window.people.names() == [LIN]


def test_the_status_bar_counts_frames_over_time():
    """Two queued frames drawn back to back made 1/gap say 1000 then 15 (the status bar jumped
    between 31 and 199 while the heartbeat said 29.7); counted over time, 30 fps stays 30."""
    from gui.main_window import FrameRate

    rate = FrameRate(span=2.0)
    shown = [rate.shown(t) for i in range(0, 180, 2) for t in (i / 30, i / 30 + 0.001)]
    assert all(29 <= fps <= 31.5 for fps in shown[70:]), shown[70:]
