"""Search by photo: every face against the enrolled samples, the comparison picture, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli.main import main as cli_main
from core.tools.search import comparison_size, result_json, save_comparison, search_photo
from core.vision.describe import face_distance
from tests.support.data import KNN


def test_obama1_finds_obama_first_at_the_documented_distance(knn_gallery, tmp_path):
    result = search_photo(knn_gallery, KNN / "test" / "obama1.jpg", top=5)
    (face,) = result.faces
    assert len(face.hits) == 5
    first = face.hits[0].candidate
    assert first.name == "obama"
    assert first.distance == pytest.approx(0.35, abs=0.02)
    distances = [h.candidate.distance for h in face.hits]
    assert distances == sorted(distances)
    assert all(h.thumbnail is not None and h.thumbnail.shape == (112, 112, 3) for h in face.hits)
    assert face.search_ms >= 0 and result.seconds > 0

    saved = save_comparison(result, tmp_path / "compare.png")
    assert saved.exists()
    with Image.open(saved) as img:
        assert img.format == "PNG"
        assert img.size == comparison_size(1, 6)
        assert img.size[0] > img.size[1]


def test_hit_distances_are_the_true_descriptor_distances(knn_gallery):
    result = search_photo(knn_gallery, KNN / "test" / "kit_with_rose.jpg", top=3)
    assert len(result.faces) == 2
    vectors = {s.id: s.descriptor for s in knn_gallery.store.samples()}
    faces = knn_gallery.faces(KNN / "test" / "kit_with_rose.jpg")
    for face, found in zip(faces, result.faces, strict=True):
        assert found.box == face.box
        ids = list(vectors)
        exact = face_distance(np.stack([vectors[i] for i in ids]), face.descriptor)
        order = np.argsort(exact)[:3]
        assert [h.candidate.sample_id for h in found.hits] == [ids[i] for i in order]
        assert [h.candidate.distance for h in found.hits] == pytest.approx(exact[order].tolist(), abs=1e-4)


def test_within_lists_everything_closer_than_d(knn_gallery, tmp_path):
    result = search_photo(knn_gallery, KNN / "test" / "obama_and_biden.jpg", top=10, within=0.5)
    assert len(result.faces) == 3
    names = [{h.candidate.name for h in f.hits} for f in result.faces]
    assert names == [{"biden"}, {"obama"}, set()]  # the third person is no one we know
    assert all(h.candidate.distance <= 0.5 for f in result.faces for h in f.hits)
    saved = save_comparison(result, tmp_path / "three.png")
    with Image.open(saved) as img:
        assert img.size == comparison_size(3, 1 + max(len(f.hits) for f in result.faces))


def test_cli_search_json_and_save(knn_gallery, tmp_path, capsys):
    db = knn_gallery.store.path
    knn_gallery.close()
    out_png = tmp_path / "cli.png"
    code = cli_main(["search", str(KNN / "test" / "obama1.jpg"), "--db", str(db), "--top", "2", "--save", str(out_png), "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    (face,) = data["faces"]
    assert [h["name"] for h in face["hits"]] == ["obama", "obama"]
    assert face["hits"][0]["distance"] == pytest.approx(0.35, abs=0.02)
    with Image.open(out_png) as img:
        assert img.size == comparison_size(1, 3)


def test_cli_search_refuses_a_bad_file_clearly(knn_gallery, tmp_path, capsys):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a picture")
    db = knn_gallery.store.path
    knn_gallery.close()
    assert cli_main(["search", str(bad), "--db", str(db)]) == 2
    assert "notes.jpg" in capsys.readouterr().err


def test_result_json_round_trips(knn_gallery):
    result = search_photo(knn_gallery, KNN / "test" / "obama1.jpg", top=1)
    data = json.loads(json.dumps(result_json(result)))
    assert data["faces"][0]["hits"][0]["name"] == "obama"
