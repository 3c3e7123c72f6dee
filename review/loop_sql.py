"""The statements of the reviewer loop, written as SQL.

Every item handed to a reviewer runs these: where the reviewer stands (their counts and, with the
next item, their progress) in one statement, then the claim in one statement
(``assignment_next_with_progress``); an answer marks its slot and counts itself on the item in one
statement on PostgreSQL. Through the ORM the same queries spent more time being compiled than being
run, so they are kept here as plain SQL that PostgreSQL and SQLite (3.35 or later: ``UPDATE …
RETURNING``) both accept, apart from the few vendor-specific pieces named below, with the table
names read from the models. Parameters are named (``%(campaign)s``, ``%(reviewer)s``, …); datetimes
go in through ``connection.ops.adapt_datetimefield_value``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connection

from generation.models import Subject
from review.models import Assignment, ReviewItem, Skip

A, ITEM, SKIP, SUBJECT = (Assignment._meta.db_table, ReviewItem._meta.db_table, Skip._meta.db_table,
                          Subject._meta.db_table)

#: The slot ``c``'s item is new to the reviewer: never handed to them (any slot) and never skipped.
NEW_TO_REVIEWER = f"""
    NOT EXISTS (SELECT 1 FROM {A} m WHERE m.item_id = c.item_id AND m.reviewer_id = %(reviewer)s)
    AND NOT EXISTS (SELECT 1 FROM {SKIP} s WHERE s.item_id = c.item_id AND s.reviewer_id = %(reviewer)s)"""


@functools.cache
def claim_sql(skip_locked: bool) -> str:
    """Pick a slot the reviewer may claim and take it, in one statement; returns the claimed row.

    Candidates are the campaign's regular slots (gold items have none) whose item is new to the
    reviewer and not about their own subject. Lapsed leases come first (rare, found through the lease
    index), then never-claimed slots walked in id order through the partial index
    ``assignment_free_slot``; slot ids follow (item position, slot) because ``campaign_create``
    inserts them in that order, so there is no join and no sort of every free slot. With
    ``skip_locked`` (PostgreSQL) each pick is ``FOR UPDATE SKIP LOCKED``: concurrent claims spread
    over different slots instead of queueing on the first one. The outer WHERE re-checks that the
    slot is still free, which is what makes the claim atomic on SQLite (no row locks, one writer).
    The row comes back with its item's task kind (``item_kind``), all the reviewer's view needs."""
    lock = "FOR UPDATE OF c SKIP LOCKED" if skip_locked else ""

    def pick(free: str) -> str:
        return f"""
            SELECT c.id FROM {A} c
            WHERE c.campaign_id = %(campaign)s AND c.slot IS NOT NULL AND {free} AND {NEW_TO_REVIEWER}
              AND NOT EXISTS (SELECT 1 FROM {ITEM} t JOIN {SUBJECT} p ON p.id = t.subject_id
                              WHERE t.id = c.item_id AND p.owner_id = %(reviewer)s)
            ORDER BY c.id LIMIT 1 {lock}"""

    lapsed = pick("c.reviewer_id IS NOT NULL AND c.submitted_at IS NULL AND c.lease_expires_at < %(now)s")
    columns = ", ".join(field.column for field in Assignment._meta.concrete_fields)
    return f"""
        UPDATE {A} SET reviewer_id = %(reviewer)s, submitted_at = NULL, swapped = %(swapped)s,
                       leased_at = %(now)s, lease_expires_at = %(expires)s, claims = claims + 1
        WHERE id = COALESCE(({lapsed}), ({pick("c.reviewer_id IS NULL")}))
          AND (reviewer_id IS NULL OR (submitted_at IS NULL AND lease_expires_at < %(now)s))
        RETURNING {columns}, (SELECT t.kind FROM {ITEM} t WHERE t.id = {A}.item_id) AS item_kind"""


#: The seconds from lease to answer of a recent answer ``r``, by database vendor.
_SPAN_SECONDS = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM (r.submitted_at - r.leased_at)) AS DOUBLE PRECISION)",
    "sqlite": "(julianday(r.submitted_at) - julianday(r.leased_at)) * 86400.0",
}
_MINE = f"{A} WHERE campaign_id = %(campaign)s AND reviewer_id = %(reviewer)s"
_OPEN_ITEM = "NOT t.is_gold AND t.answers < t.overlap"


@functools.cache
def loop_state_sql(vendor: str, progress: bool) -> str:
    """Where the reviewer stands in the campaign, in one statement, as rows of
    (row kind, task kind, gold, still open, count, value):

    * ``"k"``: their assignments counted by (task kind, gold, still open): whether they hold an item,
      which gold they are due, how many they answered;
    * with ``progress``, ``"o"``: the campaign's regular items still short of answers that are new to
      them (the open items less those they hold, answered or skipped: a reviewer has one row per item,
      the unique constraint, and a skip gave the slot back, so nothing walks the free slots) with
      their skips as the value; and ``"s"``: the lease-to-answer seconds of their last 20 answers."""
    counts = f"""
        SELECT 'k', t.kind, t.is_gold, a.submitted_at IS NULL, COUNT(*), NULL
        FROM {A} a JOIN {ITEM} t ON t.id = a.item_id
        WHERE a.campaign_id = %(campaign)s AND a.reviewer_id = %(reviewer)s
        GROUP BY t.kind, t.is_gold, a.submitted_at IS NULL"""
    if not progress:
        return counts
    return f"""{counts}
        UNION ALL
        SELECT 'o', NULL, NULL, NULL,
               (SELECT COUNT(*) FROM {ITEM} t WHERE t.campaign_id = %(campaign)s AND {_OPEN_ITEM})
               - (SELECT COUNT(*) FROM {A} a JOIN {ITEM} t ON t.id = a.item_id
                  WHERE a.campaign_id = %(campaign)s AND a.reviewer_id = %(reviewer)s AND {_OPEN_ITEM})
               - (SELECT COUNT(*) FROM {SKIP} s JOIN {ITEM} t ON t.id = s.item_id
                  WHERE s.campaign_id = %(campaign)s AND s.reviewer_id = %(reviewer)s AND {_OPEN_ITEM}),
               (SELECT COUNT(*) FROM {SKIP} WHERE campaign_id = %(campaign)s AND reviewer_id = %(reviewer)s)
        UNION ALL
        SELECT 's', NULL, NULL, NULL, NULL, {_SPAN_SECONDS[vendor]}
        FROM (SELECT leased_at, submitted_at FROM {_MINE}
              AND submitted_at IS NOT NULL AND leased_at IS NOT NULL
              ORDER BY submitted_at DESC LIMIT 20) r"""


@dataclass(frozen=True)
class LoopState:
    """A reviewer's standing in a campaign (``loop_state``); ``available`` and ``skipped`` are 0 and
    ``spans`` empty when it was read without progress."""

    counts: dict[tuple[str, bool, bool], int]  # (task kind, gold, still open) -> assignments
    available: int = 0
    skipped: int = 0
    spans: tuple[float, ...] = ()

    @property
    def done(self) -> int:
        return sum(n for (_, _, still_open), n in self.counts.items() if not still_open)

    @property
    def held(self) -> int:
        return sum(n for (_, _, still_open), n in self.counts.items() if still_open)


def loop_state(*, campaign_id: int, reviewer_id: int, progress: bool) -> LoopState:
    """Run ``loop_state_sql`` for the reviewer: one statement."""
    counts: dict[tuple[str, bool, bool], int] = {}
    available = skipped = 0
    spans = []
    with connection.cursor() as cursor:
        cursor.execute(loop_state_sql(connection.vendor, progress),
                       {"campaign": campaign_id, "reviewer": reviewer_id})
        for row_kind, kind, gold, still_open, n, value in cursor.fetchall():
            if row_kind == "k":
                counts[(kind, bool(gold), bool(still_open))] = int(n)
            elif row_kind == "o":
                available, skipped = int(n), int(value)
            else:
                spans.append(float(value))
    return LoopState(counts=counts, available=available, skipped=skipped, spans=tuple(spans))


#: Mark an answered slot and count the answer on its item: one statement on PostgreSQL (a
#: data-modifying WITH); SQLite has none, so there it is two (``review.services``).
ANSWERED_SQL = f"""
        WITH answered AS (UPDATE {A} SET submitted_at = %(now)s WHERE id = %(assignment)s RETURNING item_id)
        UPDATE {ITEM} SET answers = answers + 1 WHERE id IN (SELECT item_id FROM answered)"""
