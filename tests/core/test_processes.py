"""Child processes: spawned with a pipe, stopped politely, terminated when they do not listen."""

from __future__ import annotations

import os
import signal
import time

import psutil

from core.processes import ChildProcess


def _echo(conn, prefix: str) -> None:
    while True:
        message = conn.recv()
        if message is None:
            return
        conn.send(f"{prefix}{message} {os.environ.get('FACEGATE_TEST_VALUE')}")


def _deaf(conn) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:  # never reads the pipe: only terminate() ends it
        time.sleep(0.1)


def test_a_child_answers_through_its_pipe_and_stops_when_asked(monkeypatch):
    monkeypatch.delenv("FACEGATE_TEST_VALUE", raising=False)
    child = ChildProcess(_echo, ("echo: ",), "facegate-test-echo", env={"FACEGATE_TEST_VALUE": "set for the child"})
    assert "FACEGATE_TEST_VALUE" not in os.environ  # only while the child started
    assert child.alive() and psutil.Process(child.pid).name()
    child.conn.send("hello")
    assert child.conn.poll(60) and child.conn.recv() == "echo: hello set for the child"
    started = time.monotonic()
    child.stop(timeout=5)
    assert not child.alive() and child.exitcode == 0 and time.monotonic() - started < 5
    assert child.conn.closed


def test_a_child_that_does_not_listen_is_terminated():
    child = ChildProcess(_deaf, (), "facegate-test-deaf")
    time.sleep(0.5)
    started = time.monotonic()
    child.stop(timeout=1)
    assert not child.alive() and child.exitcode == -signal.SIGTERM
    assert 1 <= time.monotonic() - started < 5
