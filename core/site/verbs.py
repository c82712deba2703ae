"""The admin's verbs as words (``group open GROUP DOOR``): one table for the command line
(core/cli/site.py) and the Site page, so both speak the same grammar over SiteAdmin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verb:
    """One admin verb: its words after the noun, the SiteAdmin call, and what to say when done
    (formatted with the words; ``unchanged`` when the call answers False: nothing was to do)."""

    words: tuple[str, ...]
    call: Callable
    done: str
    unchanged: str = ""


VERBS: dict[tuple[str, str], Verb] = {
    ("group", "add"): Verb(("NAME",), lambda a, n: a.create_group(n), "created group {0!r}"),
    ("group", "remove"): Verb(("NAME",), lambda a, n: a.delete_group(n), "removed group {0!r} (its people stay)"),
    ("group", "open"): Verb(
        ("GROUP", "DOOR"),
        lambda a, g, d: a.open_door(g, d),
        "group {0!r} may now open door {1!r}",
        "group {0!r} could already open door {1!r}",
    ),
    ("group", "close"): Verb(
        ("GROUP", "DOOR"),
        lambda a, g, d: a.close_door(g, d),
        "group {0!r} may no longer open door {1!r}",
        "group {0!r} could not open door {1!r}",
    ),
    ("member", "add"): Verb(
        ("GROUP", "PERSON"),
        lambda a, g, p: a.add_to_group(g, p),
        "{1!r} is now in group {0!r}",
        "{1!r} was already in group {0!r}",
    ),
    ("member", "remove"): Verb(
        ("GROUP", "PERSON"),
        lambda a, g, p: a.remove_from_group(g, p),
        "{1!r} is no longer in group {0!r}",
        "{1!r} was not in group {0!r}",
    ),
    ("person", "rename"): Verb(("OLD", "NEW"), lambda a, old, new: a.rename(old, new), "renamed {0!r} to {1!r}"),
    ("person", "remove"): Verb(
        ("NAME",),
        lambda a, n: a.delete(n),
        "removed {0!r} from the site: online doors drop them within seconds, an offline door when it next syncs",
    ),
    ("person", "allow"): Verb(("NAME",), lambda a, n: a.set_allowed(n, True), "{0!r} may open their groups' doors"),
    ("person", "block"): Verb(("NAME",), lambda a, n: a.set_allowed(n, False), "{0!r} may open no door"),
    ("pass", "set"): Verb(
        ("NAME", "UNTIL"),
        lambda a, n, until: a.set_pass(n, until),
        "{0!r} holds a visitor pass until {result}: every door refuses them after it",
    ),
    ("pass", "clear"): Verb(
        ("NAME",), lambda a, n: a.clear_pass(n), "{0!r} no longer holds a visitor pass", "{0!r} held no visitor pass"
    ),
    ("pass", "purge"): Verb(
        ("DAYS",),
        lambda a, days: ", ".join(a.purge_passes(days)) or "nobody",
        "deleted everywhere, their visitor pass ended over {0} days ago: {result}",
    ),
    ("passback", "reset"): Verb(
        ("NAME",),
        lambda a, n: a.reset_passback(n),
        "{0!r} is neither in nor out: their next passage at any door is allowed",
        "the site held no in/out state for {0!r}",
    ),
    ("merge", ""): Verb(
        ("KEEP", "DROP"), lambda a, keep, drop: a.merge(keep, drop), "merged {1!r} into {0!r} ({result} samples moved)"
    ),
    ("door", "remove"): Verb(
        ("NAME",),
        lambda a, n: a.remove_door(n),
        "removed door {0!r}: its login no longer works",
        "door {0!r} was already removed",
    ),
    ("door", "enrolls"): Verb(
        ("DOOR", "GROUP|none"),
        lambda a, d, g: a.set_enroll_group(d, None if g.lower() == "none" else g),
        "people enrolled at door {0!r} now join: {1}",
    ),
    ("approve", ""): Verb(
        ("ID",),
        lambda a, i: a.approve(i).text(),
        "approved proposal {0}: {result}; it reaches every door its person's groups open",
    ),
    ("reject", ""): Verb(
        ("ID",),
        lambda a, i: a.reject(i).text(),
        "rejected proposal {0}: {result}; its samples are deleted at the site and at its door",
    ),
    ("snapshots", "on"): Verb((), lambda a: a.keep_snapshots(True), "the site now keeps the doors' snapshots"),
    ("snapshots", "off"): Verb((), lambda a: a.keep_snapshots(False), "the site keeps descriptors and text only, no snapshots"),
}


def grammar(key: tuple[str, str], verb: Verb) -> str:
    """``site group open GROUP DOOR``: how the verb is said."""
    return " ".join(w for w in ("site", *key, *verb.words) if w)


def say_done(verb: Verb, words: list[str], result: object) -> str:
    """What happened, in words (``unchanged`` when the call answered False)."""
    return (verb.unchanged if result is False and verb.unchanged else verb.done).format(*words, result=result)
