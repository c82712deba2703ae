"""An admin's review of what doors proposed: new people and samples that reach other doors only
once approved (the site's schema, migration 'proposals', says why).

    >>> with SiteAdmin.from_config(config) as admin:
    ...     for p in admin.proposals(): print(p.id, p.text())
    ...     admin.approve(7); admin.reject(8)

Each proposal is one door's open additions to one person. It carries what an admin needs to
judge it without opening the pictures: how the samples were taken and by whom, and how far the
farthest of them lies from the person's approved samples (a stranger added to someone sits far
beyond the match threshold), or, for a new person, how near the nearest other person is (a
likely duplicate, or someone enrolled twice under another name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.site.config import SiteError, one_row

if TYPE_CHECKING:
    import psycopg


@dataclass
class Proposal:
    id: int
    door: str
    person: str
    new_person: bool
    samples: int
    how: list[str]
    added_by: list[str]
    created: str
    farthest: float | None  # the farthest proposed sample from the person's approved ones
    nearest_other: float | None  # the nearest approved sample of anybody else
    nearest_other_name: str | None

    def text(self, threshold: float = 0.4) -> str:
        what = "new person" if self.new_person else "samples for"
        line = (
            f"#{self.id} {what} {self.person!r} from door {self.door!r}: {self.samples} sample(s) "
            f"({', '.join(self.how) or 'how unknown'}; by {', '.join(self.added_by) or 'unknown'}) at {self.created}"
        )
        if self.farthest is not None:
            line += f"; farthest {self.farthest:.2f} from their approved samples"
            if self.farthest > threshold:
                line += f" (over the match threshold {threshold:g}: look before approving)"
        if self.nearest_other is not None:
            line += f"; nearest other person {self.nearest_other_name!r} at {self.nearest_other:.2f}"
        return line

    def as_json(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(self).items()}


def list_proposals(conn: psycopg.Connection) -> list[Proposal]:
    """Every open proposal, oldest first."""
    rows = conn.execute("""
        SELECT pr.id, d.name, coalesce(p.name, pr.name), pr.new_person, count(s.id),
               coalesce(array_agg(DISTINCT s.how) FILTER (WHERE s.how <> ''), '{}'),
               coalesce(array_agg(DISTINCT s.added_by) FILTER (WHERE s.added_by <> ''), '{}'),
               pr.created::text,
               (SELECT max(near.d) FROM facegate.samples mine CROSS JOIN LATERAL (
                    SELECT min(a.descriptor <-> mine.descriptor) AS d FROM facegate.samples a
                    WHERE a.person_id = pr.person_id AND a.status = 'approved') near
                WHERE mine.proposal = pr.id),
               other.d, other.name
        FROM facegate.proposals pr
        JOIN facegate.doors d ON d.id = pr.door_id
        LEFT JOIN facegate.people p ON p.id = pr.person_id
        LEFT JOIN facegate.samples s ON s.proposal = pr.id
        LEFT JOIN LATERAL (
            SELECT o.descriptor <-> mine.descriptor AS d, op.name FROM facegate.samples mine
            CROSS JOIN LATERAL (SELECT x.descriptor, x.person_id FROM facegate.samples x
                                WHERE x.person_id <> pr.person_id AND x.status = 'approved'
                                ORDER BY x.descriptor <-> mine.descriptor LIMIT 1) o
            JOIN facegate.people op ON op.id = o.person_id
            WHERE mine.proposal = pr.id ORDER BY 1 LIMIT 1) other ON true
        WHERE pr.decided IS NULL
        GROUP BY pr.id, d.name, p.name, other.d, other.name
        ORDER BY pr.id""").fetchall()
    return [Proposal(r[0], r[1], r[2], r[3], r[4], sorted(r[5]), sorted(r[6]), r[7], r[8], r[9], r[10]) for r in rows]


def decide(conn: psycopg.Connection, proposal_id: int, approve: bool, by: str) -> Proposal:
    """Approve (the samples, and a new person, reach every door that may see them) or reject
    (they are deleted at the site, so the proposing door drops them too) one open proposal."""
    found = {p.id: p for p in list_proposals(conn)}
    if proposal_id not in found:
        raise SiteError(f"no open proposal #{proposal_id} (facegate site proposals lists them)")
    with conn.transaction():  # a proposal's samples are one push's (migration proposal-per-push): what was listed
        person, new_person, decided = one_row(
            conn, "SELECT person_id, new_person, decided FROM facegate.proposals WHERE id = %s FOR UPDATE", (proposal_id,)
        )
        if decided is not None:
            raise SiteError(f"proposal #{proposal_id} was decided meanwhile (facegate site proposals lists the open ones)")
        if approve:
            conn.execute(
                "UPDATE facegate.samples SET status = 'approved', approved_by = %s, approved = now() "
                "WHERE proposal = %s AND status = 'proposed'",
                (by, proposal_id),
            )
            conn.execute("UPDATE facegate.people SET status = 'approved' WHERE id = %s AND status = 'proposed'", (person,))
        elif new_person:  # the person goes, and with them any later push's samples of them
            conn.execute("DELETE FROM facegate.people WHERE id = %s AND status = 'proposed'", (person,))
            conn.execute(
                "UPDATE facegate.proposals SET decided = now(), decision = 'rejected', decided_by = %s "
                "WHERE person_id = %s AND decided IS NULL AND id <> %s AND NOT EXISTS "
                "(SELECT 1 FROM facegate.people WHERE id = %s)",
                (by, person, proposal_id, person),
            )
        else:
            conn.execute("DELETE FROM facegate.samples WHERE proposal = %s AND status = 'proposed'", (proposal_id,))
        conn.execute(
            "UPDATE facegate.proposals SET decided = now(), decision = %s, decided_by = %s WHERE id = %s AND decided IS NULL",
            ("approved" if approve else "rejected", by, proposal_id),
        )
    return found[proposal_id]


def approve_from_door(conn: psycopg.Connection, door_id: str, by: str) -> int:
    """Approve every open proposal of one door in one transaction (an admin PC's own
    enrollments: its operator is the admin); how many."""
    with conn.transaction():
        opened = "SELECT id FROM facegate.proposals WHERE door_id = %s AND decided IS NULL"
        conn.execute(
            "UPDATE facegate.samples SET status = 'approved', approved_by = %s, approved = now() "
            f"WHERE status = 'proposed' AND proposal IN ({opened})",
            (by, door_id),
        )
        conn.execute(
            "UPDATE facegate.people SET status = 'approved' WHERE status = 'proposed' AND id IN "
            "(SELECT person_id FROM facegate.proposals WHERE door_id = %s AND decided IS NULL AND new_person)",
            (door_id,),
        )
        return conn.execute(
            "UPDATE facegate.proposals SET decided = now(), decision = 'approved', decided_by = %s "
            "WHERE door_id = %s AND decided IS NULL",
            (by, door_id),
        ).rowcount
