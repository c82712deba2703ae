"""Evaluation: seeded probe/gallery splits, precision@k, open-set FAR, GAR, the plot, the CLI.

The numbers are recomputed here with plain loops from the descriptors, not with core's code.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from core.cli.main import main as cli_main
from core.gallery.store import Store
from core.tools.evaluate import (
    TABLE_COLUMNS,
    Cancelled,
    collect,
    describe_folder,
    evaluate,
    evaluate_gallery,
    report_json,
    save_table,
)
from core.tools.plots import FAR_COLOUR, FRR_COLOUR, SIZE, save_plot
from core.vision.detection import Detector
from tests.support.data import IMAGES, KNN


@pytest.fixture(scope="module")
def knn_photos(describer):
    return describe_folder(KNN / "train", describer, Detector())  # as enrollment and `facegate eval` detect


def recompute(photos, probe_rounds, thresholds):
    """p@k, GAR(t) and open-set FAR(t) from first principles."""
    images = [(img.person, img.source, img.descriptor) for img in photos.images]
    ranks, nearest = [], []
    for probes in probe_rounds:
        for probe in probes:
            person, _, vec = next(i for i in images if i[1] == probe)
            best = {}
            for other, source, g in images:
                if source in probes or g is None:
                    continue
                d = float(np.sqrt(sum((float(a) - float(b)) ** 2 for a, b in zip(vec, g, strict=True))))
                best[other] = min(best.get(other, 9.0), d)
            order = sorted(best, key=best.get)
            ranks.append(order.index(person) + 1 if person in order else 99)
            nearest.append((order[0] == person, best[order[0]]))
    impostor = []
    for person, _, vec in images:
        impostor.append(min(float(np.linalg.norm(vec - g)) for other, _, g in images if other != person))
    p_at = {k: sum(r <= k for r in ranks) / len(ranks) for k in (1, 2, 5)}
    rows = {
        t: (sum(d <= t for d in impostor) / len(impostor), sum(ok and d <= t for ok, d in nearest) / len(nearest))
        for t in thresholds
    }
    return p_at, rows, len(impostor)


def test_knn_train_report_matches_an_independent_recomputation(knn_photos, knn_db):
    assert knn_photos.skipped == [] and len(knn_photos.images) == 9
    # the descriptors are the ones enrollment computes for the same photos
    enrolled = {s.source: s.descriptor for s in Store(knn_db, readonly=True).samples()}
    for img in knn_photos.images:
        assert np.allclose(img.descriptor, enrolled[img.source], atol=1e-5)

    report = evaluate(knn_photos, rounds=3, seed=7)
    assert report.not_splittable == ["alex_lacamoire"]
    assert report.people == 5 and report.probes == 12 and report.no_face == 0.0
    assert all(len(r) == 4 for r in report.probe_rounds)  # one probe for each splittable person
    assert not any("alex_lacamoire" in p for r in report.probe_rounds for p in r)

    p_at, rows, attempts = recompute(knn_photos, report.probe_rounds, [r.threshold for r in report.thresholds])
    assert report.p_at == pytest.approx(p_at)
    assert report.impostor_attempts == attempts == 9
    for row in report.thresholds:
        far, gar = rows[row.threshold]
        assert row.false_accept_rate == pytest.approx(far) and row.genuine_accept_rate == pytest.approx(gar)
    # the README's facts: every person is nearest to themselves; no stranger is within 0.6
    assert report.p_at[1] == 1.0 and report.row(0.6).false_accept_rate == 0.0
    assert report.row(0.3).genuine_accept_rate < report.row(0.5).genuine_accept_rate == 1.0
    ok = [r.threshold for r in report.thresholds if r.false_accept_rate <= report.target_far]
    assert report.recommended == max(ok) and report.caution  # 9 attempts cannot show a 1% FAR
    # NIST 1:N terms: FNIR at the recommended threshold, where FPIR (the FAR) meets the target
    assert report.fnir_at_target == pytest.approx(1 - rows[report.recommended][1], abs=1e-4)


def test_splits_are_seeded_and_repeatable(knn_photos):
    a = evaluate(knn_photos, rounds=4, seed=3)
    assert evaluate(knn_photos, rounds=4, seed=3).probe_rounds == a.probe_rounds
    assert evaluate(knn_photos, rounds=4, seed=4).probe_rounds != a.probe_rounds
    assert len({tuple(r) for r in a.probe_rounds}) > 1  # rounds differ from each other


def test_own_gallery_leave_one_sample_out(knn_gallery, knn_photos):
    report = evaluate_gallery(knn_gallery.store)
    assert report.mode == "leave-one-out" and report.probes == 8 and report.not_splittable == ["alex_lacamoire"]
    by_source = {img.source: img for img in knn_photos.images}
    p_at, rows, _ = recompute(knn_photos, [[s] for s in by_source if "alex" not in s], [0.35, 0.4, 0.8])
    assert report.p_at == pytest.approx(p_at)
    for t, (far, gar) in rows.items():
        assert report.row(t).false_accept_rate == pytest.approx(far)
        assert report.row(t).genuine_accept_rate == pytest.approx(gar)


def test_plot_is_a_png_with_both_curves(knn_photos, tmp_path):
    report = evaluate(knn_photos, rounds=2, seed=0)
    path = save_plot(report, tmp_path / "far_frr.png", current=0.4)
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == SIZE
        colours = {tuple(c) for c in np.asarray(img.convert("RGB")).reshape(-1, 3)}
    assert FAR_COLOUR in colours and FRR_COLOUR in colours


@pytest.fixture
def flat_folder(tmp_path):
    """Files named person.anything, one without an extension, one with no face, one not an image."""
    d = tmp_path / "flat"
    d.mkdir()
    shutil.copy(IMAGES / "obama-240p.jpg", d / "obama.1")
    shutil.copy(IMAGES / "obama_small.jpg", d / "obama.2.jpg")
    shutil.copy(IMAGES / "alex-lacamoire.png", d / "alex.png")
    shutil.copy(IMAGES / "lin-manuel-miranda.png", d / "lin.a")
    Image.new("RGB", (200, 200), (128, 128, 128)).save(d / "lin.b.png")
    (d / "notes.txt").write_text("not a photo")
    return d


def test_flat_folder_names_people_and_reports_skips_and_no_face(flat_folder, describer):
    assert sorted({p for p, _ in collect(flat_folder)}) == ["alex", "lin", "notes", "obama"]
    seen = []
    photos = describe_folder(
        flat_folder, describer, Detector("hog", min_face=40), on_progress=lambda i, n, f: seen.append((i, n))
    )
    assert seen[-1] == (6, 6)
    ((skipped, reason),) = photos.skipped
    assert skipped.endswith("notes.txt") and "not an image" in reason
    report = evaluate(photos, rounds=6, seed=1)
    assert report.not_splittable == ["alex"] and report.people == 3
    blank_probes = sum(p.endswith("lin.b.png") for r in report.probe_rounds for p in r)
    assert 0 < blank_probes < 6  # the seed draws the faceless photo in some rounds
    assert report.no_face == pytest.approx(blank_probes / report.probes)
    # lin.a as a probe has no lin left in the gallery (lin.b holds no face): a miss; obama is always found
    described = report.probes - blank_probes
    assert report.p_at[1] == pytest.approx((described - (6 - blank_probes)) / described)


def test_cancel_stops_describing(flat_folder, describer):
    with pytest.raises(Cancelled):
        describe_folder(flat_folder, describer, Detector("hog"), should_stop=lambda: True)


def test_cli_eval_json_and_plot(flat_folder, tmp_path, capsys):
    plot = tmp_path / "plot.png"
    assert cli_main(["eval", str(flat_folder), "--json", "--rounds", "3", "--seed", "2", "--plot", str(plot)]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("p_at_1", "p_at_2", "p_at_5", "no_face"):
        assert 0.0 <= data[key] <= 1.0
    assert data["not_splittable"] == ["alex"]
    assert data["thresholds"] and set(data["thresholds"][0]) >= {"threshold", "false_accept_rate", "genuine_accept_rate"}
    assert [r["threshold"] for r in data["thresholds"]] == sorted(r["threshold"] for r in data["thresholds"])
    assert data["skipped"][0]["file"].endswith("notes.txt")
    assert plot.exists() and data["plot"] == str(plot)


def test_cli_eval_refuses_a_missing_folder(tmp_path, capsys):
    assert cli_main(["eval", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_report_json_is_plain(knn_photos):
    data = json.loads(json.dumps(report_json(evaluate(knn_photos, rounds=1))))
    assert data["p_at_1"] == 1.0 and len(data["thresholds"]) == 61
    assert data["gallery_size"] == 5 and data["fpir_target"] == 0.01 and 0 <= data["fnir_at_target"] <= 1


def test_cli_eval_prints_a_table_people_can_read(flat_folder, capsys):
    assert cli_main(["eval", str(flat_folder), "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "not splittable (a single photo): alex" in out
    assert "recommended threshold for FAR <= 0.01" in out and "caution:" in out
    assert "1:N (N = 3 people, each searched against the other 2): FNIR " in out and " at FPIR " in out
    assert "\n     0.40  " in out and "skipped" in out and "notes.txt" in out


def test_folder_enroll_uses_the_same_layout_and_stops_between_people(flat_folder, gallery):
    from core.tools.folder_enroll import enroll_folder

    seen = []
    result = enroll_folder(gallery, flat_folder, on_progress=lambda i, n, f: seen.append(f), should_stop=lambda: len(seen) >= 1)
    assert result.cancelled and result.enrolled == ["alex"] and result.samples - result.views == 1  # one photo (and its views)
    assert [p.name for p in gallery.people()] == ["alex"]  # whole people only
    result = enroll_folder(gallery, flat_folder)
    assert sorted(result.enrolled) == ["alex", "lin", "obama"]
    reasons = dict(result.skipped)
    assert any("lin.b.png" in f and "no face" in r for f, r in result.skipped)
    assert "notes" in reasons  # the text file's 'person' had nothing usable


def test_nothing_to_evaluate_is_said_plainly(tmp_path, describer, gallery):
    from core.errors import FaceGateError

    folder = tmp_path / "people"
    (folder / "solo").mkdir(parents=True)
    shutil.copy(IMAGES / "obama_small.jpg", folder / "solo" / "a.jpg")
    (folder / "readme.txt").write_text("hello")
    photos = describe_folder(folder, describer, Detector("hog"))
    with pytest.raises(FaceGateError, match=r"two usable photos \(a single photo: solo\); skipped 1 file.*readme.txt"):
        evaluate(photos)
    with pytest.raises(FaceGateError, match="no person has two usable photos"):
        evaluate_gallery(gallery.store)


def test_the_threshold_table_as_csv(knn_photos, tmp_path):
    report = evaluate(knn_photos, rounds=2)
    path = save_table(report, tmp_path / "out" / "table.csv")
    rows = path.read_text().splitlines()
    assert tuple(rows[0].split(",")) == TABLE_COLUMNS and len(rows) == 1 + len(report.thresholds) == 62
    at = report.row(0.4)
    assert f"0.40,{at.false_accept_rate:.4f},{at.genuine_accept_rate:.4f},{at.false_reject_rate:.4f}" in rows


def test_cli_eval_saves_the_table(knn_gallery, tmp_path, capsys):
    db = str(knn_gallery.store.path)
    knn_gallery.close()
    table = tmp_path / "table.csv"
    assert cli_main(["eval", "--db", db, "--json", "--csv", str(table)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["csv"] == str(table) and data["mode"] == "leave-one-out"
    rows = table.read_text().splitlines()
    assert rows[0] == ",".join(TABLE_COLUMNS) and len(rows) == 1 + len(data["thresholds"])
    assert cli_main(["eval", "--db", db, "--csv", str(table)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"table saved to {table}")
    assert cli_main(["eval", "--db", db]) == 0
    assert "table saved" not in capsys.readouterr().out
    assert cli_main(["eval", "--db", db, "--csv", str(tmp_path)]) == 2  # a folder: cannot be written
    assert f"{tmp_path}: cannot be saved" in capsys.readouterr().err
