"""The screen and print check (core.vision.texture): the MiniFASNetV2-SE model bundled in
resources/ loads, and a missing or damaged copy is a clear error when the door starts; real
captures of real attacks (a printed photo, a phone, both photographed by a camera) score "spoof"
and real faces "real"; a visit's verdict is the median of its last scores, computed off the frame
thread; and at the door, with the check required, the clip's genuine visit and the GRID talkers'
still unlock, while generated phone replays do not (their surroundings move inside a still room,
a room still often or, in a dim room, seldom). ``facegate
liveness-report`` gives the figures its own table shows."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import threading
from concurrent.futures import Future

import cv2
import numpy as np
import pytest

from core.door.decide import DoorDecider
from core.door.policy import DecisionSettings
from core.errors import ModelError
from core.paths import resource_path
from core.station.replay import replay
from core.vision import texture
from core.vision.detection import Detector
from core.vision.texture import MODEL, TextureModel, TextureScorer, TextureVotes, face_crop
from tests.support.data import CLIP, FOOTAGE, IMAGES, ROOT, clip_frames

PAD = FOOTAGE / "silent-face-pad"
GRID = FOOTAGE / "grid-talkers"
#: GRID's man A, enrolled from his other clip; everyone else from the first frame of their own
GRID_PEOPLE = {"A": "pwij3p", "B": "bbaf2n", "C": "brbk7n", "D": "lbax4n", "E": "lwbsza", "F": "swiz3n", "G": "sbwe5n"}
REQUIRED = DecisionSettings(screen_check="required")


@pytest.fixture(scope="module")
def model():
    return TextureModel()


def _faces(rgb):
    return [b for b in Detector("yunet", 40).detect(rgb) if b.width >= texture.MIN_FACE]


def test_the_model_loads_from_resources_with_its_licence_and_ships_in_the_bundle(model):
    assert model.path == resource_path(MODEL) and model.path.is_file()
    assert "Apache License" in model.path.with_name("LICENSE").read_text()
    spec = (ROOT / "packaging" / "facegate.spec").read_text()
    assert '"models" / "minifas"' in spec and "minifasnet_v2se_128.onnx" in spec  # beside YuNet, with LICENSE


def test_a_missing_or_damaged_model_is_a_clear_error_when_the_door_starts(tmp_path, monkeypatch, gallery):
    missing = tmp_path / "missing.onnx"
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(resource_path(MODEL).read_bytes()[:50_000])  # cut short, as a failed copy
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model\n" * 100)
    for path, said in ((missing, "is missing"), (damaged, "could not load"), (garbage, "could not load")):
        monkeypatch.setattr(texture, "texture_model_path", lambda path=path: path)
        with pytest.raises(ModelError, match=said) as caught:
            DoorDecider(gallery, None, REQUIRED)  # at start, not at the first face
        assert str(path) in str(caught.value) and "screen and print check" in str(caught.value)
    DoorDecider(gallery, None, DecisionSettings(screen_check="off")).close()  # off: the model is not needed


def test_real_attacks_score_spoof_and_real_faces_real(model):
    """Photographed attacks (Silent-Face's own samples) and live faces, the shared photos of
    tests/data/images with a face of 64 px or more (every one of them)."""
    scores = {}
    for name in ("image_F1.jpg", "image_F2.jpg", "image_T1.jpg"):
        rgb = cv2.cvtColor(cv2.imread(str(PAD / name)), cv2.COLOR_BGR2RGB)  # cv2 applies the EXIF rotation
        (box,) = _faces(rgb)
        scores[name] = model.score(rgb, box)
    assert scores["image_F1.jpg"] < -2 and scores["image_F2.jpg"] < -2 and scores["image_T1.jpg"] > 2, scores
    real = []
    for path in sorted(IMAGES.glob("*.jpg")):
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        real += [(path.name, model.score(rgb, b)) for b in _faces(rgb)]
    assert len(real) >= 12 and all(s > 0 for _, s in real), real


def test_the_crop_is_square_padded_by_reflection_and_batched_like_single_faces(model):
    rgb = cv2.cvtColor(cv2.imread(str(PAD / "image_T1.jpg")), cv2.COLOR_BGR2RGB)
    (box,) = _faces(rgb)
    crop = face_crop(rgb, box)
    assert crop.shape == (texture.SIZE, texture.SIZE, 3) and crop.dtype == np.uint8
    corner = face_crop(rgb, type(box)(-40, -40, 60, 60))  # mostly outside the picture: reflected, not black
    assert corner.shape == crop.shape and corner.mean() > 20
    both = model.scores([crop, corner])
    assert both[0] == pytest.approx(model.scores([crop])[0], abs=1e-3)


def test_a_visits_verdict_is_the_median_of_its_last_scores():
    votes = TextureVotes(frames=5)
    scorer_done = []
    f: Future
    for s in (4.0, -3.0, 5.0, -2.0):
        f = Future()
        f.set_result(s)
        votes.wait_on(f)
        scorer_done.append(votes.verdict())
    assert all(v.state == "waiting" for v in scorer_done)
    f = Future()
    f.set_result(1.0)
    votes.wait_on(f)
    v = votes.verdict()
    assert v.state == "real" and v.median == 1.0 and v.scored == 5  # two bad frames do not refuse
    for s in (-4.0, -5.0, -1.0):  # ...three of the last five do
        f = Future()
        f.set_result(s)
        votes.wait_on(f)
    assert votes.verdict().state == "spoof" and "a screen or print" in votes.verdict().words()


def test_waiting_at_the_door_does_not_pick_a_lucky_window():
    """A visit that read "spoof" for long does not pass on its first live window of 5: the person
    at the door chooses how long to stand there. A live face's early dips do not hold it back."""
    votes = TextureVotes(frames=5)
    for s in [-3.0] * 12 + [1.0] * 5:
        f: Future = Future()
        f.set_result(s)
        votes.wait_on(f)
    v = votes.verdict()
    assert v.median == 1.0 and v.visit == -3.0 and v.state == "spoof"
    assert "+1.0 of the latest, -3.0 over all 17" in v.words()
    for _ in range(8):  # most of the visit live now
        f = Future()
        f.set_result(1.0)
        votes.wait_on(f)
    assert votes.verdict().state == "real"
    soft = TextureVotes(frames=5)  # a soft camera's live face: a few early "spoof" frames
    for s in (-1.0, -0.5, 2.0, 3.0, 2.5, 1.5):
        f = Future()
        f.set_result(s)
        soft.wait_on(f)
    assert soft.verdict().state == "real"


def test_the_scorer_runs_off_the_frame_thread_and_never_queues(model):
    seen = []
    original = model.scores

    def noting(crops):
        seen.append(threading.current_thread().name)
        return original(crops)

    model.scores = noting
    scorer = TextureScorer(model, max_in_flight=1)
    try:
        crop = np.zeros((texture.SIZE, texture.SIZE, 3), np.uint8)
        first = scorer.submit(crop)
        refused = [scorer.submit(crop) for _ in range(20)]  # busy: skipped, not queued
        assert first is not None and isinstance(first.result(timeout=30), float)
        assert any(r is None for r in refused)
        assert seen and all(name.startswith("facegate-texture") for name in seen)
    finally:
        scorer.close()
        del model.scores


def test_required_refuses_a_real_phone_advisory_only_says_so(model, describer):
    """The check on its own (blink, turn and talking switched off, so only the texture decides): the
    photographed phone is refused when required and passed, with what is known said, when advisory;
    the live woman passes; faces under 64 px are not scored."""
    from core.vision.liveness import LivenessCheck, LivenessSettings

    scorer = TextureScorer(model, inline=True)

    def judge(name, mode, frames=12):
        rgb = cv2.cvtColor(cv2.imread(str(PAD / name)), cv2.COLOR_BGR2RGB)
        (box,) = _faces(rgb)
        check = LivenessCheck(describer, LivenessSettings(blink=False, head_turn=False, talk=False, texture=mode), scorer)
        return [check.observe(rgb, box, i / 30) for i in range(frames)][-1], check

    phone, _ = judge("image_F2.jpg", "required")
    assert not phone.passed and "a screen or print" in phone.reason, phone
    told, _ = judge("image_F2.jpg", "advisory")  # never waits: what is known when the cues pass is said
    assert told.passed and "screen and print check" in told.reason and told.reason.endswith("(advisory)"), told
    live, _ = judge("image_T1.jpg", "required")
    assert live.passed and "a live face" in live.reason, live
    waiting, _ = judge("image_T1.jpg", "required", frames=3)
    assert not waiting.passed and "3 face(s) scored so far" in waiting.reason, waiting
    small = cv2.resize(cv2.cvtColor(cv2.imread(str(PAD / "image_T1.jpg")), cv2.COLOR_BGR2RGB), None, fx=0.25, fy=0.25)
    (box,) = [b for b in Detector("yunet", 20).detect(small)]
    check = LivenessCheck(describer, LivenessSettings(blink=False, head_turn=False, talk=False, texture="required"), scorer)
    assert box.width < texture.MIN_FACE and not check.observe(small, box, 0.0).passed and not check.texture.scores


def _visits(video, gallery, settings):
    report = replay(video, gallery, decision=settings)
    return report, [v for v in report.visits if v.person]


def test_the_clips_genuine_visit_still_unlocks_with_the_check_required(lin_gallery):
    report, named = _visits(CLIP, lin_gallery, REQUIRED)
    assert report.unlocks >= 1, [v.line() for v in report.visits]
    granted = [v for v in named if v.unlocked]
    assert all("a live face" in v.liveness for v in granted), [v.liveness for v in granted]
    advisory, _ = _visits(CLIP, lin_gallery, DecisionSettings(screen_check="advisory"))
    assert report.unlocks == advisory.unlocks


@pytest.fixture(scope="module")
def grid_db(tmp_path_factory, describer):
    """The seven GRID talkers, each enrolled from the first frame of one clip."""
    from core.gallery.api import Gallery

    folder = tmp_path_factory.mktemp("grid")
    with Gallery(folder / "grid.db", describer=describer) as g:
        for name, clip in GRID_PEOPLE.items():
            still = folder / f"{name}.png"
            cv2.imwrite(str(still), cv2.cvtColor(clip_frames(GRID / f"{clip}.mpg")[0], cv2.COLOR_RGB2BGR))
            g.enroll(name, [str(still)])
    return folder / "grid.db"


def test_the_grid_talkers_still_unlock_with_the_check_required(grid_db, describer, tmp_path):
    """BPCER of the check on the GRID clips (real people at a cheap camera): its texture verdict
    is "a live face" on every one (0 of 8 refused, the 5 % asked for), and with the check
    required the door unlocks every clip it unlocks with the check off: all 8, 7 by talking or
    the blink and brbk7n by her shallow blink (test_talk.py)."""
    from tests.support.data import copy_gallery

    gallery = copy_gallery(grid_db, tmp_path, describer)
    try:
        unlocks, texture_said = {}, []
        for video in sorted(GRID.glob("*.mpg")):
            required, named = _visits(video, gallery, REQUIRED)
            off, _ = _visits(video, gallery, DecisionSettings(screen_check="off"))
            unlocks[video.name] = (required.unlocks, off.unlocks)
            assert named, f"{video.name}: nobody was named"
            texture_said += [(video.name, v.liveness) for v in named]
        refused = [(name, said) for name, said in texture_said if "a live face" not in said]
        assert not refused, refused
        assert all(req == off for req, off in unlocks.values()), unlocks
        assert all(off > 0 for _, off in unlocks.values()), unlocks  # the door did let them all in
    finally:
        gallery.close()


def test_liveness_report_gives_the_figures_its_table_shows(grid_db, describer, tmp_path):
    """Two GRID talkers as the genuine folder, Silent-Face's real phone-and-print GIF and a
    generated phone replay of one talker as two attack folders: the text and --json agree, the
    texture and the surroundings (a plain wall: no say) pass both genuine recordings, and the DET
    plot is written."""
    from core.cli.main import main
    from core.tools.attacks import replay_attack, write_video
    from tests.support.data import copy_gallery

    copy_gallery(grid_db, tmp_path, describer).close()
    genuine, attacks = tmp_path / "genuine", tmp_path / "attacks"
    genuine.mkdir()
    (attacks / "phone").mkdir(parents=True)
    (attacks / "real").mkdir()
    for name in ("bbaf2n.mpg", "brbk7n.mpg"):
        shutil.copy(GRID / name, genuine / name)
    shutil.copy(PAD / "demo.gif", attacks / "real" / "demo.gif")
    _, shown = replay_attack("phone", clip_frames(GRID / "bbaf2n.mpg"), describer, clip_frames(CLIP)[60], 0, frames=75)
    write_video((f.rgb for f in shown), attacks / "phone" / "bbaf2n.mp4", fps=25)
    db, plot = str(tmp_path / "grid.db"), tmp_path / "det.png"
    data, text = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(data):
        assert main(["liveness-report", str(genuine), str(attacks), "--db", db, "--json"]) == 0
    with contextlib.redirect_stdout(text):
        assert main(["liveness-report", str(genuine), str(attacks), "--db", db, "--plot", str(plot)]) == 0
    report = json.loads(data.getvalue())
    assert report["genuine"]["presentations"] == 2 and [g["name"] for g in report["attacks"]] == ["phone", "real"]
    assert report["genuine"]["pass_rates"]["texture"] == 1.0, report["genuine"]
    assert report["genuine"]["pass_rates"]["surroundings"] == 1.0, report["genuine"]  # a plain wall: no say
    shown_text = text.getvalue()
    assert f"BPCER {report['genuine']['bpcer']:6.1%} with the check required" in shown_text, shown_text
    for group in report["attacks"]:
        assert f"{group['name']:<24}" in shown_text and f"APCER {group['apcer']:6.1%}" in shown_text, shown_text
    assert report["attacks"][1]["apcer"] == 0.0  # the real GIF's woman is nobody here
    assert plot.read_bytes()[:4] == b"\x89PNG"


def _around(frames, detector=None):
    """core.vision.surround's verdict on the largest face of each frame (YuNet, as the door boxes it)."""
    from core.vision.surround import SurroundMotion

    detector = detector or Detector("yunet", 30)
    motion = SurroundMotion()
    for rgb in frames:
        boxes = detector.detect(rgb)
        if boxes:
            motion.observe(rgb, max(boxes, key=lambda b: b.area))
    return motion.verdict()


def test_the_surround_cue_tells_a_hand_held_replay_from_a_fixed_camera(clip, describer):
    """A generated phone replay of the clip and of a GRID talker moves inside the still room
    ("picture"); Lin-Manuel's own shot (a stage camera that pans, under a still logo) is not taken
    for one; a GRID talker at a plain wall and the film (a moving camera) give no say."""
    from core.tools.attacks import replay_attack

    for video in (clip[120:211], clip_frames(GRID / "bbaf2n.mpg")):
        _, shown = replay_attack("phone", video, describer, clip[60], 1, frames=75)
        replayed = _around([f.rgb for f in shown])
        assert replayed.state == "picture" and replayed.share >= 0.8, replayed
    lin = _around(clip[120:211])
    assert lin.state != "picture" and (lin.share or 0) < 0.3, lin
    wall = _around(clip_frames(GRID / "swiz3n.mpg"))
    assert wall.state == "no say" and wall.judged == 0, wall
    film = _around(clip_frames(FOOTAGE / "tears-of-steel-clip" / "clip_01_tears_of_steel.mp4")[:120])
    assert film.state != "picture", film


def test_a_generated_screen_replay_does_not_unlock_with_the_check_required(grid_db, describer, tmp_path, clip):
    """A GRID talker's own clip replayed on a phone held by hand (seed 0): the texture model
    takes these rendered screens for live faces, but with the check required the door stays shut
    because the surroundings moved inside a still room; with the check off the same recording
    opens the door (the blink and turn pass a replayed video)."""
    from core.tools.attacks import replay_attack, write_video
    from tests.support.data import copy_gallery
    from tests.support.presentations import background

    gallery = copy_gallery(grid_db, tmp_path, describer)
    _, shown = replay_attack("phone", clip_frames(GRID / "bbaf2n.mpg"), describer, background(clip, 0), 0, frames=90)
    path = write_video((f.rgb for f in shown), tmp_path / "phone.mp4", fps=25)
    try:
        required, named = _visits(path, gallery, REQUIRED)
        assert named, [v.line() for v in required.visits]  # recognised: only liveness stands in the way
        assert required.unlocks == 0, [v.line() for v in required.visits]
        said = [v.liveness for v in named]
        assert any("moves inside a still room" in s for s in said), said
        off, _ = _visits(path, gallery, DecisionSettings(screen_check="off"))
        assert off.unlocks >= 1, [v.line() for v in off.visits]
    finally:
        gallery.close()


def _lin_replay(seed, describer, tmp_path, clip, kind="phone"):
    """The clip's second shot on a ``kind`` of display held by hand (``seed``) at a door whose gallery holds
    Lin-Manuel from frames of the recording the attacker replays: (with the check required, the
    named visits), (with the check off)."""
    from core.gallery.api import Gallery
    from tests.support.presentations import lin_replay_video

    path, stills = lin_replay_video(kind, seed, describer, tmp_path, clip)
    with Gallery(tmp_path / "lin.db", describer=describer) as gallery:
        gallery.enroll("Lin-Manuel", stills)
        required, named = _visits(path, gallery, REQUIRED)
        off, _ = _visits(path, gallery, DecisionSettings(screen_check="off"))
    return required, named, off


def test_a_replay_whose_room_is_seldom_still_does_not_unlock_with_the_check_required(describer, tmp_path, clip):
    """The clip's second shot on a phone held by hand (seed 14, held out when the surroundings
    rule was first chosen): the texture model takes the rendered screen for a live face and the
    dim room's noisy corners leave it still in only about a quarter of the frame pairs, so the
    room gave no say and the door opened. A room seldom still still speaks when most of the pairs
    it was still in show the face's surroundings moving (core.vision.surround, ``seldom_share``):
    with the check required the door stays shut and says the surroundings refused it; with the
    check off the same recording opens the door."""
    required, named, off = _lin_replay(14, describer, tmp_path, clip)
    assert named and required.unlocks == 0, [v.line() for v in required.visits]
    said = [v.liveness for v in named]
    assert any("moves inside a still room" in s for s in said), said
    assert off.unlocks >= 1, [v.line() for v in off.visits]


def test_a_calmly_held_phone_does_not_unlock_with_the_check_required(describer, tmp_path, clip):
    """The clip's second shot on a phone held by a calm hand (seed 8, the one replay of the
    tuning seeds that opened the door with the check required): the phone covers only the part of
    the ring near the face, the room beyond it stays still, so on the whole ring fewer than half
    the corners of a side moved and the surroundings read "still around the face". A side also
    moved when its near part did (core.vision.surround, ``near``): the door stays shut and says
    the surroundings refused it; with the check off the same recording opens the door. (The
    margin is thin: bench/attack_bench.py's door, which enrolled him live, opened it at 34 % of
    41 judged pairs against the 35 % asked until a picture read over 20 pairs held for the visit:
    docs/liveness.md.)"""
    required, named, off = _lin_replay(8, describer, tmp_path, clip)
    assert named and required.unlocks == 0, [v.line() for v in required.visits]
    said = [v.liveness for v in named]
    assert any("moves inside a still room" in s for s in said), said
    assert off.unlocks >= 1, [v.line() for v in off.visits]


def test_a_monitor_in_a_dim_noisy_room_does_not_unlock_with_the_check_required(describer, tmp_path, clip):
    """The clip's second shot on a monitor held up close (held-out seed 19, the one replay of seeds
    18-22 that opened the door with the check required): the monitor reaches 0.7 face widths
    beside a 120 px face and the room around it, a dim audience through a grainy camera (noise
    4.2), has corners enough, but each shivers by 1-2 px, so under half its cells were still and
    the surroundings gave no say; the texture took the rendered screen for live. Judged where the
    room's cells hold steady (their corners' median displacement, where the noise cancels out:
    core.vision.surround, ``steady``), the monitor moves inside it: with the check required the
    door stays shut and says so; with the check off the same recording opens the door."""
    required, named, off = _lin_replay(19, describer, tmp_path, clip, kind="monitor")
    assert named and required.unlocks == 0, [v.line() for v in required.visits]
    said = [v.liveness for v in named]
    assert any("moves inside a still room" in s and "in a noisy room held steady" in s for s in said), said
    assert off.unlocks >= 1, [v.line() for v in off.visits]


def test_a_noisy_room_is_judged_where_it_holds_steady():
    """The arithmetic (core.vision.surround.measure) on a synthetic dim room through a grainy
    camera: every corner shivers by about 1.5 px, so no cell is still by its corners' own motion
    (the rule before judged nothing here: no say, and the door opened); their median displacement
    is near 0, so the room holds steady. A 'phone' around an 80 px face sliding 3 px shows a
    picture; the same phone held still (a real head in front of that room) shows none."""
    from core.records import Box
    from core.vision.surround import SurroundSettings, measure

    rng = np.random.default_rng(1)
    wall, screen = (cv2.GaussianBlur((rng.random((360, 640)) * 255).astype(np.uint8), (0, 0), 2.0) for _ in range(2))
    box = Box(280, 120, 360, 200)
    grid_y, grid_x = np.mgrid[0:360, 0:640].astype(np.float32)

    def frame(shift: int) -> np.ndarray:
        grey = wall.copy()
        grey[120 - 60 : 200 + 60, 280 - 60 + shift : 360 + 60 + shift] = screen[120 - 60 : 200 + 60, 280 - 60 : 360 + 60]
        # each place shifted its own small way (a shiver, not a motion): what noise does to tracked corners
        shiver = cv2.GaussianBlur(rng.normal(0, 20.0, (360, 640, 2)).astype(np.float32), (0, 0), 5.0)
        return cv2.remap(grey, grid_x + shiver[..., 0], grid_y + shiver[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    s = SurroundSettings()
    moved = measure(frame(0), box, frame(3), s)
    assert moved.judged and moved.steady and moved.picture, moved
    held = measure(frame(0), box, frame(0), s)
    assert held.judged and held.steady and not held.picture, held


def test_a_side_moved_when_its_near_part_did():
    """The ring's arithmetic (core.vision.surround.measure) on a synthetic room: a textured wall
    and, around an 80 px face, a 'phone' reaching 0.75 face widths out that slides 3 px while the
    wall keeps still. Its near part (0.45-0.8 widths) moved, the ring as a whole mostly did not
    (the wall beyond the phone): a picture with the near part counted, none without it; the same
    phone held still, or shivering under ``moving_px``, shows none."""
    from core.records import Box
    from core.vision.surround import SurroundSettings, measure

    rng = np.random.default_rng(0)
    wall, screen = (cv2.GaussianBlur((rng.random((360, 640)) * 255).astype(np.uint8), (0, 0), 2.0) for _ in range(2))
    box = Box(280, 120, 360, 200)

    def frame(shift: int) -> np.ndarray:
        grey = wall.copy()
        grey[120 - 60 : 200 + 60, 280 - 60 + shift : 360 + 60 + shift] = screen[120 - 60 : 200 + 60, 280 - 60 : 360 + 60]
        return grey

    moved = measure(frame(0), box, frame(3), SurroundSettings())
    assert moved.judged and moved.room_still == 1.0 and moved.picture and moved.ring_moved < 0.5, moved
    assert not measure(frame(0), box, frame(3), SurroundSettings(near=0.0)).picture  # the whole ring alone
    assert not measure(frame(0), box, frame(0), SurroundSettings()).picture
    assert not measure(frame(0), box, frame(1), SurroundSettings()).picture  # 1 px: under moving_px


def test_a_room_seldom_still_speaks_only_for_a_clear_picture():
    """The verdict's arithmetic (core.vision.surround): a room still in 9 of 37 pairs (held-out
    clip phone seed 14 at the door) reads "picture" when those pairs all showed one, and gives no
    say when they show one as seldom as the genuine videos' do (the clip's second shot: 4 of 10)."""
    from core.vision.surround import SurroundMotion, SurroundPair

    def verdict(judged: int, shown: int, pairs: int):
        motion = SurroundMotion()
        motion.pairs = [SurroundPair(i < judged, i < shown, 0.9, 0.7 if i < judged else 0.3) for i in range(pairs)]
        return motion.verdict()

    assert verdict(9, 9, 37).state == "picture" and "moves inside a still room" in verdict(9, 9, 37).words()
    assert verdict(10, 4, 55).state == "no say" and verdict(4, 4, 37).state == "no say"
    assert verdict(20, 6, 30).state == "still"  # a room often still: the usual share decides


def _motion_of(pairs: list[tuple[bool, bool]], frames: int | None = None):
    """A SurroundMotion that measured ``pairs`` (judged, picture) in order, over ``frames`` frames."""
    from core.vision.surround import SurroundMotion, SurroundPair

    motion = SurroundMotion()
    for judged, picture in pairs:
        motion.add(SurroundPair(judged, picture, 0.9 if picture else 0.1, 0.9 if judged else 0.3))
    motion.frames = frames if frames is not None else len(pairs) + motion.settings.gap
    return motion


def test_a_still_room_lets_the_door_open_only_over_enough_judged_pairs():
    """How many pairs the surroundings have judged when the blink or turn passes depends on the
    loop's pace (a loaded machine describes every 2nd or 3rd frame); a share over a dozen pairs is
    thin: clip phone seed 8 at the bench's door read "still around the face, 33 % of 12 pairs" at
    its 17th frame. A room often still lets the door open only over ``min_still`` judged pairs (it
    waits before); a room seldom still gives no say at once, as before (a plain wall, a moving
    camera: every genuine video of the shared data)."""
    need = _motion_of([]).settings.min_still
    thin = _motion_of([(True, i % 3 == 0) for i in range(12)])  # 4 of 12: 33 %, "still"
    assert thin.settled and thin.verdict().state == "still" and not thin.lets_in()
    enough = _motion_of([(True, i % 4 == 0) for i in range(need)])  # 25 % of min_still
    assert enough.verdict().state == "still" and enough.lets_in()
    seldom = _motion_of([(i < 3, False) for i in range(20)])  # a room still in 3 of 20 pairs
    assert seldom.verdict().state == "no say" and seldom.lets_in()
    early = _motion_of([(True, False)] * 3, frames=10)  # 2 of 5 pairs not measured: no say yet, still room
    assert early.settled and early.verdict().state == "no say" and not early.lets_in()


def test_a_picture_shown_over_enough_pairs_holds_for_the_visit():
    """Clip phone seed 8 at the bench's door (a Lin-Manuel enrolled live): its surroundings read
    "picture" on half of its first 20 judged pairs, then the hand calmed and the share fell to
    34 % of 41 and the door opened at that dip. A picture read over ``min_still`` judged pairs
    holds for the rest of the visit."""
    need = _motion_of([]).settings.min_still
    calmed = _motion_of([(True, i % 2 == 0) for i in range(need)] + [(True, False)] * 21)
    v = calmed.verdict()
    assert v.state == "picture" and v.judged == need and "moves inside a still room" in v.words(), v
    assert not calmed.lets_in()
