"""The statements of the reviewer loop, written as SQL.

Every item handed to a reviewer runs these (``assignment_next`` and ``reviewer_progress``). Through
the ORM the same queries spent more time being compiled than being run, so they are kept here as
plain SQL that PostgreSQL and SQLite (3.35 or later: ``UPDATE … RETURNING``) both accept, with the
table names read from the models. Parameters are named (``%(campaign)s``, ``%(reviewer)s``, …);
datetimes go in through ``connection.ops.adapt_datetimefield_value``.
"""

from __future__ import annotations

import functools

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
    slot is still free, which is what makes the claim atomic on SQLite (no row locks, one writer)."""
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
        RETURNING {columns}"""


#: The reviewer's assignments in the campaign by (task kind, gold, still open).
OWN_COUNTS_SQL = f"""
        SELECT t.kind, t.is_gold, a.submitted_at IS NULL, COUNT(*)
        FROM {A} a JOIN {ITEM} t ON t.id = a.item_id
        WHERE a.campaign_id = %(campaign)s AND a.reviewer_id = %(reviewer)s
        GROUP BY t.kind, t.is_gold, a.submitted_at IS NULL"""

# One row: the reviewer's answered and open assignments, the regular items still short of answers that
# are new to them, and their skips. The third is the campaign's open regular items less those the
# reviewer holds, answered or skipped (a reviewer has one row per item: the unique constraint; a skip
# gave the slot back), so no statement walks the free slots of the campaign.
_MINE = f"{A} WHERE campaign_id = %(campaign)s AND reviewer_id = %(reviewer)s"
_OPEN_ITEM = "NOT t.is_gold AND t.answers < t.overlap"
PROGRESS_SQL = f"""
        SELECT (SELECT COUNT(*) FROM {_MINE} AND submitted_at IS NOT NULL),
               (SELECT COUNT(*) FROM {_MINE} AND submitted_at IS NULL),
               (SELECT COUNT(*) FROM {ITEM} t WHERE t.campaign_id = %(campaign)s AND {_OPEN_ITEM})
               - (SELECT COUNT(*) FROM {A} a JOIN {ITEM} t ON t.id = a.item_id
                  WHERE a.campaign_id = %(campaign)s AND a.reviewer_id = %(reviewer)s AND {_OPEN_ITEM})
               - (SELECT COUNT(*) FROM {SKIP} s JOIN {ITEM} t ON t.id = s.item_id
                  WHERE s.campaign_id = %(campaign)s AND s.reviewer_id = %(reviewer)s AND {_OPEN_ITEM}),
               (SELECT COUNT(*) FROM {SKIP}
                WHERE campaign_id = %(campaign)s AND reviewer_id = %(reviewer)s)"""

#: The reviewer's last 20 answers in the campaign: id, leased_at, submitted_at.
RECENT_SPANS_SQL = f"""
        SELECT id, leased_at, submitted_at FROM {A}
        WHERE campaign_id = %(campaign)s AND reviewer_id = %(reviewer)s
          AND submitted_at IS NOT NULL AND leased_at IS NOT NULL
        ORDER BY submitted_at DESC LIMIT 20"""
