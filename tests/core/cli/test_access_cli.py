"""`facegate access`: a person's access mode and PINs set from the command line, the PINs read
from standard input or a 0600 file (never an argument) and stored only as slow hashes, bad
input refused with nothing changed."""

from __future__ import annotations

import json
import subprocess

from core.gallery.secret import matches
from core.gallery.store import Store
from tests.support.cli import facegate_command
from tests.support.data import ROOT, copy_db

LIN = "Lin-Manuel"


def _run(*args, stdin: str = ""):
    return subprocess.run(facegate_command(*args), input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_access_modes_and_pins_from_the_command_line(lin_db, tmp_path):
    db = copy_db(lin_db, tmp_path)
    shown = _run("access", LIN, "--db", db, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"name": LIN, "access": "face", "pin": False, "duress_pin": False, "card": False}

    no_pin = _run("access", LIN, "--mode", "face+pin", "--db", db)
    assert no_pin.returncode == 2 and "needs a PIN" in no_pin.stderr

    done = _run("access", LIN, "--mode", "face+pin", "--pin", "--duress", "--db", db, "--json", stdin="48213579\n91357246\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": LIN, "access": "face+pin", "pin": True, "duress_pin": True, "card": False}
    with Store(db, readonly=True) as store:
        person = store.person(LIN)
        pin, duress = store.pins(person.id)
    assert person.access == "face+pin" and matches(pin, "48213579") and matches(duress, "91357246")
    assert all(b"48213579" not in f.read_bytes() for f in tmp_path.glob(db.name + "*"))  # only the hash is kept

    same = _run("access", LIN, "--duress", "--db", db, stdin="48213579\n")
    assert same.returncode == 2 and "must differ" in same.stderr and "48213579" not in same.stderr
    letters = _run("access", LIN, "--pin", "--db", db, stdin="12ab\n")
    assert letters.returncode == 2 and "digits only" in letters.stderr
    with Store(db, readonly=True) as store:
        assert store.pins(person.id) == (pin, duress)  # refused: nothing changed

    loose = tmp_path / "pin.txt"
    loose.write_text("5555\n")
    loose.chmod(0o644)
    refused = _run("access", LIN, "--pin-file", loose, "--db", db)
    assert refused.returncode == 2 and "chmod 600" in refused.stderr
    loose.chmod(0o600)
    assert _run("access", LIN, "--pin-file", loose, "--no-duress", "--db", db).returncode == 0
    with Store(db, readonly=True) as store:
        new_pin, new_duress = store.pins(person.id)
    assert matches(new_pin, "5555") and new_duress is None

    listed = _run("people", "--db", db, "--json")
    assert [(p["name"], p["access"]) for p in json.loads(listed.stdout)] == [(LIN, "face+pin")]
    assert "face+pin" in _run("people", "--db", db).stdout
    face = _run("access", LIN, "--mode", "face", "--db", db)
    assert face.returncode == 0 and face.stdout.strip() == f"{LIN}: face"
    with Store(db, readonly=True) as store:
        assert store.pins(person.id) == (None, None)  # face alone keeps no PIN
