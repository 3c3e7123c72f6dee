"""Reviewer loop (next item + rating) over HTTP at 1/10/50 reviewers, beside a plain DRF create endpoint.

In one run, against a real gunicorn on PostgreSQL.

    .venv/bin/python bench/review_api.py                                 # --clients 1,10,50 --seconds 10
    .venv/bin/python bench/review_api.py --clients 50 --seconds 20 --workers 5 --threads 4 --keep-db

Ours: each client is its own reviewer with its own API token and a keep-alive connection; one loop is
``GET /api/review/next/?campaign=ID`` then ``POST /api/review/ratings/`` for the assignment it got
(three random 1–5 scores, 0–2 flags, time_spent_ms); with ``--one-trip`` the rating is sent with
``"next": true`` and its response carries the next assignment (one request per loop, as the work page
does). Every level gets a fresh rating campaign over the
same headshots (``--headshots``, overlap 3, no gold), made with ``review.services.campaign_create``.
Baseline: one ``POST /bench/ratings/`` per loop to a plain ``generics.CreateAPIView`` + ``ModelSerializer``
for the same Rating model (bench/review_baseline.py), for assignment rows made up front; same server,
same clients, same tokens. Both run ``--warmup`` s unmeasured, then ``--seconds`` s measured: loops/s
counts loops whose requests all succeeded and that ended in the window; latencies are per request.

Afterwards the database is checked for DUPLICATE ASSIGNMENTS: items with more ratings than the
campaign's overlap, a reviewer with two ratings of one item, a slot handed to two clients or twice
to one; and ratings stored = 201 responses seen. Then one in-process pass (``--profile-loops``) counts
the SQL queries of each request type (CaptureQueriesContext) on the last, partly answered campaign.

Setup: a dedicated database (``--db``, dropped at the end unless ``--keep-db``) on ``--pg``, migrated
with ``manage.py migrate``; media, secret key and the huey file in a temp folder; settings profile
``development`` with ``DEBUG=False``, ``DB_CONN_MAX_AGE=600`` and ROOT_URLCONF from
bench/review_bench_settings.py. Gunicorn: ``gthread`` worker class, ``--workers`` (default 2×cores+1)
× ``--threads``, at most ``--worker-connections`` per worker (default: max clients / workers + threads;
gunicorn's 1000 let one worker take 36 of 50 keep-alive clients). Clients (threads with ``http.client``)
run on the same machine as the server. CPU per loop is read from /proc for gunicorn's workers and the
PostgreSQL backends of the bench database, with the whole machine's use beside it (other processes
skew the rates, not the CPU per loop much). gunicorn is stopped, the database dropped and the temp
folder removed at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import http.client
import io
import itertools
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTINGS = "bench.review_bench_settings"
FLAGS = ("asymmetry", "eyes", "teeth", "hair", "skin", "background", "lighting", "colour")
PER_SUBJECT = 4
IMAGE_SIZE = 64
STOP = threading.Event()  # set on Ctrl-C: the client threads stop before gunicorn does


# --- Server and database ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_connect(pg: str):
    import psycopg

    return psycopg.connect(f"{pg}/postgres", autocommit=True)


def db_create(pg: str, name: str) -> None:
    from psycopg import sql

    with admin_connect(pg) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def db_drop(pg: str, name: str) -> None:
    from psycopg import sql

    with admin_connect(pg) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def gunicorn_start(args: argparse.Namespace, port: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", args.app, "--chdir", str(ROOT),
           "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--worker-class", "gthread",
           "--threads", str(args.threads), "--keep-alive", "30", "--backlog", "2048",
           "--graceful-timeout", "5", "--worker-connections", str(args.worker_connections),
           "--log-level", "warning", "--env", f"DJANGO_SETTINGS_MODULE={SETTINGS}"]
    with log.open("wb") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz/")
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer in 60 s:\n{log.read_text()[-3000:]}")


def gunicorn_stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)  # the session gunicorn_start made: master and its workers
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def cpu_ticks(server_pid: int, db: str) -> dict[tuple[str, int], int]:
    """CPU ticks (user + system) per process of gunicorn's workers (children of ``server_pid``) and of the
    PostgreSQL backends serving database ``db``, from /proc."""
    ticks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == server_pid:
                kind = "gunicorn"
            elif (entry / "cmdline").read_bytes().startswith(b"postgres: ") and \
                    f" {db} ".encode() in (entry / "cmdline").read_bytes():
                kind = "postgres"
            else:
                continue
        except OSError:
            continue
        ticks[(kind, int(entry.name))] = int(fields[11]) + int(fields[12])
    return ticks


def machine_busy() -> float:
    """CPU seconds all processes of the machine have used (not idle, not waiting on I/O), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def cpu_used(before: dict[tuple[str, int], int], after: dict[tuple[str, int], int], seconds: float,
             kind: str) -> float:
    """CPU seconds per second of ``kind`` processes alive at the second sample (one born in between
    counts whole; one that ended in between is missed: with persistent connections there are none)."""
    used = sum(ticks - before.get(key, 0) for key, ticks in after.items() if key[0] == kind)
    return used / os.sysconf("SC_CLK_TCK") / seconds


# --- Data ------------------------------------------------------------------------------------------


def _png(image) -> Any:
    from django.core.files.base import ContentFile

    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return ContentFile(out.getvalue())


@dataclass
class World:
    engineer: Any
    version: Any
    headshots: int


def world_build(headshots: int) -> World:
    """As tests/fixtures/review.py: subjects with an accepted photo (aligned crop), one generation job
    each, ``PER_SUBJECT`` headshots per job drawn with Pillow, all of one generator version."""
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from generation.models import (
        GenerationJob,
        GeneratorStatus,
        GeneratorVersion,
        Headshot,
        PhotoStatus,
        SourcePhoto,
        Subject,
    )
    from hfplatform.accounts.services import user_create
    from hfplatform.demo import portrait_sketch
    from hfplatform.jobs.models import Job

    engineer, _ = user_create(username="bench-engineer", role="ml_engineer")
    version = GeneratorVersion.objects.create(name="v-bench", files_dir="/nonexistent", image_size=IMAGE_SIZE,
                                              status=GeneratorStatus.CANDIDATE)
    for s in range(-(-headshots // PER_SUBJECT)):
        subject = Subject.objects.create(display_name=f"Person {s}", owner=engineer,
                                         consent_given_at=timezone.now(), consent_version="bench")
        photo = SourcePhoto.objects.create(subject=subject, uploaded_by=engineer, original_name=f"p{s}.png",
                                           status=PhotoStatus.ACCEPTED)
        image = portrait_sketch(s, 256)
        photo.image.save(f"photo-{s}.png", _png(image), save=False)
        crop = f"{subject.media_folder}/crops/crop-{s}-{IMAGE_SIZE}.png"
        photo.aligned_crops = {str(IMAGE_SIZE): default_storage.save(
            crop, _png(image.resize((IMAGE_SIZE, IMAGE_SIZE))))}
        photo.save()
        job = Job.objects.create(kind="generation", status="succeeded", started_by=engineer)
        request = GenerationJob.objects.create(subject=subject, source_photo=photo, generator_version=version,
                                               candidates=PER_SUBJECT, seed=s, steps=5, guidance=1.0, job=job)
        for c in range(min(PER_SUBJECT, headshots - s * PER_SUBJECT)):
            head = Headshot(generation_job=request, subject=subject, source_photo=photo,
                            generator_version=version, candidate_index=c, seed=s * 100 + c, steps=5,
                            guidance=1.0, sampler="ddim")
            head.image.save(f"h-{s}-{c}.png", _png(portrait_sketch(s * 100 + c, IMAGE_SIZE)), save=False)
            head.save()
    return World(engineer=engineer, version=version, headshots=headshots)


def reviewers_create(prefix: str, count: int) -> list[tuple[Any, str]]:
    from hfplatform.accounts.services import token_for, user_create

    users = []
    for i in range(count):
        user, _ = user_create(username=f"{prefix}-{i}", role="reviewer")
        users.append((user, token_for(user=user)))
    return users


def campaign_make(world: World, name: str, overlap: int):
    from review.services import campaign_create

    return campaign_create(created_by=world.engineer, name=name, task_kinds=["rating"], overlap=overlap,
                           gold_rate=0.0, generator_version=world.version)


def baseline_pool(campaign, size: int) -> list[dict[str, Any]]:
    """``size`` free assignment rows (no slot, no reviewer) spread over the baseline campaign's items,
    and the Rating body that goes with each."""
    from review.models import Assignment

    items = list(campaign.items.values("pk", "headshot_id"))
    rows = Assignment.objects.bulk_create(
        [Assignment(item_id=items[i % len(items)]["pk"], campaign=campaign) for i in range(size)],
        batch_size=5000)
    return [{"assignment": row.pk, "item": row.item_id, "campaign": campaign.pk,
             "headshot": items[i % len(items)]["headshot_id"], "reviewer_role": "reviewer"}
            for i, row in enumerate(rows)]


# --- Clients ---------------------------------------------------------------------------------------


class Conn:
    """One keep-alive HTTP/1.1 connection with a token; reconnects after a transport error."""

    def __init__(self, port: int, token: str):
        self.port, self.headers = port, {"Authorization": f"Token {token}", "Accept": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.reopen()
            return 0, f"{type(exc).__name__}: {exc}"
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw[:200].decode(errors="replace")

    def reopen(self) -> None:
        """A new connection from the next request on (the server may hand it to another worker)."""
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def close(self) -> None:
        self.conn.close()


@dataclass
class Result:
    """What the clients of one side at one level saw."""

    loops: int = 0  # ok loops ending in the measured window
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    created: int = 0  # 201 responses, whole run (warm-up included)
    handed: list[tuple[int, int]] = field(default_factory=list)  # (client, assignment id) from next
    exhausted: int = 0  # clients that got "no work left"
    window: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    pg_cpu: float = 0.0
    machine_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.loops / self.window if self.window else 0.0

    def ceiling(self, cpus: int) -> float:
        """Loops/s if this side had every CPU of the machine to itself (from the CPU it used per loop)."""
        used = self.client_cpu + self.server_cpu + self.pg_cpu
        return cpus * self.rate / used if used else 0.0

    def cpu(self) -> str:
        """CPU milliseconds per loop in gunicorn and in PostgreSQL."""
        if not self.loops:
            return "-"
        return f"{1000 * self.server_cpu / self.rate:.1f}+{1000 * self.pg_cpu / self.rate:.1f}"


def rating_body(rng: random.Random) -> dict[str, Any]:
    return {"professionalism": rng.randint(1, 5), "likeness": rng.randint(1, 5), "appeal": rng.randint(1, 5),
            "flags": rng.sample(FLAGS, rng.randint(0, 2)), "time_spent_ms": rng.randint(800, 9000)}


def drive(result: Result, *, port: int, tokens: list[str], loop, warmup: float, seconds: float,
          server_pid: int, db: str, reconnect_every: int = 0) -> Result:
    """Run ``loop(index, conn, rng, record)`` in one thread per token until the window closes."""
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens) + 1)
    times: dict[str, float] = {}

    def client(index: int, token: str) -> None:
        conn, rng = Conn(port, token), random.Random(index)
        local_lat: dict[str, list[float]] = defaultdict(list)
        local_err: Counter = Counter()
        samples: list[str] = []
        loops = created = 0

        def record(kind: str, start: float, status: int, expected: tuple[int, ...], body: Any) -> bool:
            nonlocal created
            end = time.perf_counter()
            ok = status in expected
            created += status == 201
            if not ok:
                local_err[f"{kind} {status}"] += 1
                if len(samples) < 3:
                    samples.append(f"{kind} {status}: {str(body)[:160]}")
            elif times["start"] <= end <= times["end"]:
                local_lat[kind].append(end - start)
            return ok

        barrier.wait()
        try:
            for done in itertools.count(1):
                if time.perf_counter() >= times["end"] or STOP.is_set():
                    break
                outcome = loop(index, conn, rng, record)
                if outcome == "stop":
                    break
                if reconnect_every and done % reconnect_every == 0:
                    conn.reopen()
                if outcome and times["start"] <= time.perf_counter() <= times["end"]:
                    loops += 1
        finally:
            conn.close()
            with lock:
                result.loops += loops
                result.created += created
                result.errors.update(local_err)
                result.error_samples += samples[: max(0, 5 - len(result.error_samples))]
                for kind, values in local_lat.items():
                    result.latencies[kind] += values

    threads = [threading.Thread(target=client, args=(i, t), daemon=True) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    times["start"], times["end"] = now + warmup, now + warmup + seconds
    barrier.wait()
    time.sleep(max(0.0, times["start"] - time.perf_counter()))
    cpu0, ticks0, busy0 = time.process_time(), cpu_ticks(server_pid, db), machine_busy()
    time.sleep(max(0.0, times["end"] - time.perf_counter()))
    ticks1, result.machine_cpu = cpu_ticks(server_pid, db), (machine_busy() - busy0) / seconds
    result.client_cpu = (time.process_time() - cpu0) / seconds
    result.server_cpu = cpu_used(ticks0, ticks1, seconds, "gunicorn")
    result.pg_cpu = cpu_used(ticks0, ticks1, seconds, "postgres")
    for thread in threads:
        thread.join()
    result.window = seconds
    return result


def _first_item(campaign_id: int, index: int, conn: Conn, result: Result, lock: threading.Lock,
                record) -> dict[str, Any] | bool | str:
    """``GET next``: the assignment handed out, False when the request failed, "stop" when none is left."""
    start = time.perf_counter()
    status, body = conn.call("GET", f"/api/review/next/?campaign={campaign_id}")
    if not record("next", start, status, (200,), body):
        return False
    assignment = body.get("assignment")
    with lock:
        if assignment is None:
            result.exhausted += 1
            return "stop"
        result.handed.append((index, assignment["id"]))
    return assignment


def ours_loop(campaign_id: int, result: Result, lock: threading.Lock):
    def loop(index: int, conn: Conn, rng: random.Random, record) -> bool | str:
        assignment = _first_item(campaign_id, index, conn, result, lock, record)
        if not isinstance(assignment, dict):
            return assignment
        start = time.perf_counter()
        status, body = conn.call("POST", "/api/review/ratings/", {"assignment": assignment["id"],
                                                                  **rating_body(rng)})
        return record("rating", start, status, (201,), body)

    return loop


def ours_one_trip_loop(campaign_id: int, result: Result, lock: threading.Lock):
    """``--one-trip``: each rating is sent with ``"next": true`` and its response carries the client's
    next assignment, so a loop is one request (a ``GET next`` only for a client's first item)."""
    pending: dict[int, dict[str, Any]] = {}

    def loop(index: int, conn: Conn, rng: random.Random, record) -> bool | str:
        assignment = pending.pop(index, None) or _first_item(campaign_id, index, conn, result, lock, record)
        if not isinstance(assignment, dict):
            return assignment
        start = time.perf_counter()
        answer = {"assignment": assignment["id"], "next": True, **rating_body(rng)}
        status, body = conn.call("POST", "/api/review/ratings/", answer)
        ok = record("rating", start, status, (201,), body)
        following = ((body or {}).get("next") or {}).get("assignment") if ok else None
        if following is not None:
            pending[index] = following
            with lock:
                result.handed.append((index, following["id"]))
        return ok

    return loop


def baseline_loop(pool: list[dict[str, Any]], state: dict[str, Any]):
    lock = threading.Lock()

    def loop(index: int, conn: Conn, rng: random.Random, record) -> bool | str:
        with lock:
            if not pool:
                state["empty"] = True
                return "stop"
            row = pool.pop()
        start = time.perf_counter()
        status, body = conn.call("POST", "/bench/ratings/", {**row, **rating_body(rng)})
        return record("create", start, status, (201,), body)

    return loop


# --- Checks ----------------------------------------------------------------------------------------


def duplicates(campaign, result: Result) -> dict[str, int]:
    """DUPLICATE ASSIGNMENTS of one campaign, from the database (and the ids the clients were handed)."""
    from django.db.models import Count, F, Sum

    from review.models import Assignment, Rating, ReviewItem

    ratings = Rating.objects.filter(campaign=campaign)
    over = (ratings.values("item").annotate(n=Count("id"), overlap=F("item__overlap"))
            .filter(n__gt=F("overlap")).count())
    held_over = (Assignment.objects.filter(campaign=campaign, reviewer__isnull=False).values("item")
                 .annotate(n=Count("id"), overlap=F("item__overlap")).filter(n__gt=F("overlap")).count())
    twice = ratings.values("item", "reviewer").annotate(n=Count("id")).filter(n__gt=1).count()
    handed = Counter(aid for _, aid in result.handed)
    to_clients = defaultdict(set)
    for client, aid in result.handed:
        to_clients[aid].add(client)
    stored = ratings.count()
    counter = ReviewItem.objects.filter(campaign=campaign).aggregate(s=Sum("answers"))["s"] or 0
    return {"over_overlap": over + held_over, "same_reviewer_twice": twice,
            "slot_handed_twice": sum(1 for n in handed.values() if n > 1),
            "slot_to_two_clients": sum(1 for c in to_clients.values() if len(c) > 1),
            "stored": stored, "created_201": result.created, "answers_counter": counter}


# --- In-process query profile ----------------------------------------------------------------------

_LITERALS = re.compile(r"'[^']*'|\b\d+(\.\d+)?\b|\b(true|false)\b")


def _shape(sql: str) -> str:
    return re.sub(r"\s+", " ", _LITERALS.sub("?", sql)).strip()


def _label(sql: str) -> str:
    """A short name for a statement: verb, main table, and what makes it special."""
    verb = sql.split(None, 1)[0].upper()
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql)
    label = f"{verb} {table.group(1) if table else ''}".strip()
    marks = ("FOR UPDATE", "SKIP LOCKED", "NOT (", "COUNT(", "JOIN", "LIMIT")
    extras = [word for word in marks if word in sql]
    return label + (f" [{', '.join(e.rstrip(' (') for e in extras)}]" if extras else "")


def profile(campaign_id: int, baseline_rows: list[dict[str, Any]], loops: int) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    users = reviewers_create("bench-profile", 1)
    client = APIClient(HTTP_HOST="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Token {users[0][1]}")
    rng = random.Random(7)
    stats: dict[str, dict[str, Any]] = {}

    def timed(kind: str, method: str, path: str, body: dict | None = None, keep: bool = True) -> Any:
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(path) if method == "GET" else client.post(path, body, format="json")
            wall = time.perf_counter() - start
        if response.status_code not in (200, 201):
            raise RuntimeError(f"profile {kind}: {response.status_code} {response.content[:300]!r}")
        if not keep:
            return response.json()
        entry = stats.setdefault(kind, {"n": 0, "wall": 0.0, "queries": 0, "sql": 0.0, "by": {}})
        entry["n"] += 1
        entry["wall"] += wall
        entry["queries"] += len(captured.captured_queries)
        for query in captured.captured_queries:
            entry["sql"] += float(query["time"])
            row = entry["by"].setdefault(_shape(query["sql"]), {"count": 0, "time": 0.0, "sql": query["sql"]})
            row["count"] += 1
            row["time"] += float(query["time"])
        return response.json()

    for i in range(loops + 2):  # the first two warm the process up and are not counted
        body = timed("next", "GET", f"/api/review/next/?campaign={campaign_id}", keep=i >= 2)
        if body["assignment"] is None:
            break
        timed("rating", "POST", "/api/review/ratings/", {"assignment": body["assignment"]["id"],
                                                         **rating_body(rng)}, keep=i >= 2)
    for i, row in enumerate(baseline_rows[:loops + 2]):
        timed("baseline create", "POST", "/bench/ratings/", {**row, **rating_body(rng)}, keep=i >= 2)

    print(f"\nSQL per request, in-process (APIClient on the same database, campaign {campaign_id} as the "
          f"last level left it, a new reviewer, {loops} loops; the request time includes the test client):")
    for kind, entry in stats.items():
        n = entry["n"]
        print(f"  {kind:16s} {entry['queries'] / n:5.1f} queries  SQL {1000 * entry['sql'] / n:6.2f} ms  "
              f"of {1000 * entry['wall'] / n:6.2f} ms per request")
        for row in sorted(entry["by"].values(), key=lambda r: -r["time"])[:10]:
            print(f"      {row['count'] / n:4.1f}×  {1000 * row['time'] / n:6.2f} ms  {_label(row['sql'])}")
    selects = [r for r in stats.get("next", {"by": {}})["by"].values() if r["sql"].startswith("SELECT")]
    if not selects:
        return
    slowest = max(selects, key=lambda r: r["time"])["sql"]
    print(f"  slowest SELECT of next (last run):\n    {slowest[:1600]}")
    with transaction.atomic(), connection.cursor() as cursor:  # rolled back: the plan's row locks go
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {slowest}")
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    print("  its plan now (EXPLAIN ANALYZE):")
    print("\n".join(f"    {line}" for line in plan))


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


# --- Main ------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def lat(values: list[float]) -> str:
    return f"{pct(values, 0.5):6.1f} {pct(values, 0.95):6.1f} {pct(values, 0.99):6.1f}" if values else \
        f"{'-':>6} {'-':>6} {'-':>6}"


@dataclass
class Level:
    clients: int
    campaign: Any
    ours: Result
    base: Result
    dup: dict[str, int]
    base_stored: int
    pool_empty: bool

    @property
    def dup_total(self) -> int:
        return sum(self.dup[k] for k in ("over_overlap", "same_reviewer_twice", "slot_handed_twice",
                                         "slot_to_two_clients"))


def run_level(args: argparse.Namespace, world: World, clients: int, tokens: list[str], baseline_campaign,
              port: int, server_pid: int, reserve: list[dict[str, Any]]) -> Level:
    """Ours then the baseline at one concurrency level; ``reserve`` gets rows for the profile."""
    from django.db import connection

    from review.models import Rating

    campaign = campaign_make(world, f"bench {clients} clients", overlap=args.overlap)
    connection.close()
    ours = Result()
    make_loop = ours_one_trip_loop if args.one_trip else ours_loop
    drive(ours, port=port, tokens=tokens, loop=make_loop(campaign.pk, ours, threading.Lock()),
          warmup=args.warmup, seconds=args.seconds, server_pid=server_pid, db=args.db,
          reconnect_every=args.reconnect_every)
    dup = duplicates(campaign, ours)

    spare = args.profile_loops + 2 if args.profile_loops else 0
    pool = baseline_pool(baseline_campaign, int((args.warmup + args.seconds) * 1500) + spare)
    reserve[:] = pool[len(pool) - spare:]
    del pool[len(pool) - spare:]
    stored_before = Rating.objects.filter(campaign=baseline_campaign).count()
    connection.close()
    state: dict[str, Any] = {}
    base = drive(Result(), port=port, tokens=tokens, loop=baseline_loop(pool, state), warmup=args.warmup,
                 seconds=args.seconds, server_pid=server_pid, db=args.db,
                 reconnect_every=args.reconnect_every)
    base_stored = Rating.objects.filter(campaign=baseline_campaign).count() - stored_before
    return Level(clients, campaign, ours, base, dup, base_stored, bool(state.get("empty")))


def report(levels: list[Level]) -> None:
    print(f"\n{'clients':>7}  {'side':8s} {'loops/s':>8}  {'next p50/p95/p99 ms':>20}  "
          f"{'write p50/p95/p99 ms':>20}  {'errors':>6}  {'dup':>4}  {'CPU ms/loop':>11}")
    ratios = []
    for lv in levels:
        o, b = lv.ours, lv.base
        o_rate, b_rate = o.rate, b.rate
        print(f"{lv.clients:>7}  {'ours':8s} {o_rate:8.1f}  {lat(o.latencies['next']):>20}  "
              f"{lat(o.latencies['rating']):>20}  {sum(o.errors.values()):>6}  {lv.dup_total:>4}  "
              f"{o.cpu():>11}")
        print(f"{'':>7}  {'baseline':8s} {b_rate:8.1f}  {lat([]):>20}  {lat(b.latencies['create']):>20}  "
              f"{sum(b.errors.values()):>6}  {'-':>4}  {b.cpu():>11}")
        ratios.append(f"{lv.clients} clients {o_rate / b_rate:.2f}" if b_rate else f"{lv.clients}: n/a")
    print("CPU ms/loop: CPU time per measured loop in gunicorn's workers + in the PostgreSQL backends of the "
          "bench database")
    print(f"CPU in use, CPU seconds per second of bench clients/gunicorn/PostgreSQL backends/whole machine "
          f"({os.cpu_count()} CPUs):")
    for lv in levels:
        print(f"  {lv.clients:>3} clients: " + ", ".join(
            f"{side} {r.client_cpu:.2f}/{r.server_cpu:.2f}/{r.pg_cpu:.2f}/{r.machine_cpu:.2f}"
            for side, r in (("ours", lv.ours), ("baseline", lv.base))))
    print("ratio ours/baseline (loops/s): " + ", ".join(ratios))
    cpus = os.cpu_count() or 1
    print(f"CPU ceiling, loops/s if these processes had all {cpus} CPUs and CPU were the only limit = "
          f"{cpus} / CPU seconds per loop of bench clients + gunicorn + PostgreSQL backends (an estimate for "
          "runs that shared the machine; one client is bound by round trips, not CPU): "
          + ", ".join(f"{lv.clients} clients ours {lv.ours.ceiling(cpus):.0f} / baseline "
                      f"{lv.base.ceiling(cpus):.0f}" for lv in levels))
    print("DUPLICATE ASSIGNMENTS (checked in the database after each level):")
    for lv in levels:
        d = lv.dup
        print(f"  {lv.clients:>3} clients, campaign {lv.campaign.pk}: items over overlap "
              f"{d['over_overlap']}, same reviewer twice {d['same_reviewer_twice']}, "
              f"slot handed twice {d['slot_handed_twice']}, "
              f"slot to two clients {d['slot_to_two_clients']}")
        print(f"      ratings stored {d['stored']} = 201s {d['created_201']} = answers counter "
              f"{d['answers_counter']}; baseline stored {lv.base_stored} = 201s {lv.base.created}")
        for side, res in (("ours", lv.ours), ("baseline", lv.base)):
            if res.errors:
                print(f"      {side} errors: {dict(res.errors)}; e.g. {res.error_samples}")
        if lv.ours.exhausted:
            print(f"      ours: {lv.ours.exhausted} client(s) ran out of work: raise --headshots")
        if lv.pool_empty:
            print("      baseline: the prepared assignment pool ran out: its rate is a lower bound")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,10,50", help="concurrency levels (default 1,10,50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per side and level")
    parser.add_argument("--one-trip", action="store_true",
                        help="ours: the rating's response brings the next item (one request per loop)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each window")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1,
                        help="gunicorn workers (default 2×cores+1)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--worker-connections", type=int, default=0,
                        help="gunicorn --worker-connections, connections one worker holds (default: max "
                             "clients / workers + threads, so keep-alive clients spread over the workers)")
    parser.add_argument("--reconnect-every", type=int, default=0,
                        help="clients open a new connection every N loops (default 0: keep one)")
    parser.add_argument("--headshots", type=int, default=1600,
                        help="headshots; every level's campaign rates all of them (default 1600)")
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--app", default="hfplatform.wsgi:application",
                        help="WSGI app gunicorn serves (a wrapper module lets you time a change first)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--db", default="hfplatform_bench", help="database made (and dropped) for the run")
    parser.add_argument("--keep-db", action="store_true", help="leave the database for inspection")
    parser.add_argument("--profile-loops", type=int, default=20,
                        help="in-process loops for the SQL profile (0: skip)")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    if not counts or min(counts) < 1 or not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db):
        parser.error("--clients must be positive integers; --db a lower-case identifier")

    if not args.worker_connections:
        args.worker_connections = -(-max(counts) // args.workers) + args.threads
    tmp = Path(tempfile.mkdtemp(prefix="review-bench-"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": SETTINGS, "DJANGO_PROFILE": "development", "DEBUG": "False",
        "DATABASE_URL": f"{args.pg}/{args.db}", "DB_CONN_MAX_AGE": "600", "VAR_DIR": str(tmp / "var"),
        "MEDIA_ROOT": str(tmp / "media"), "SECRET_KEY": secrets.token_urlsafe(40), "LOG_LEVEL": "WARNING",
        "HUEY_NAME": "hfplatform-bench",
    })
    os.environ.pop("REDIS_URL", None)  # huey on a SQLite file in the temp folder: nothing is enqueued here
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGINT too: a background job ignores it
        signal.signal(sig, _interrupt)
    server = None
    db_made = False
    try:
        db_create(args.pg, args.db)
        db_made = True
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
        import django
        import gunicorn

        django.setup()
        from django.db import connection

        start = time.perf_counter()
        world = world_build(args.headshots)
        reviewers = reviewers_create("bench-reviewer", max(counts))
        baseline_campaign = campaign_make(world, "bench baseline", overlap=1)
        setup_s = time.perf_counter() - start
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg_version = cursor.fetchone()[0]
        connection.close()
        port = free_port()
        server = gunicorn_start(args, port, tmp / "gunicorn.log")

        print(f"review API bench: {args.app} on PostgreSQL {pg_version}, gunicorn {gunicorn.__version__} "
              f"gthread {args.workers} workers × {args.threads} threads × {args.worker_connections} "
              f"connections, {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}; clients: threads (http.client, keep-alive) on this machine")
        print(f"load average (1/5/15 min) before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
              "other processes on this machine skew the figures")
        print(f"data: {args.headshots} headshots of {-(-args.headshots // PER_SUBJECT)} subjects (built in "
              f"{setup_s:.1f} s); each level: a fresh rating campaign, overlap {args.overlap}, no gold; "
              f"{args.warmup:g} s warm-up, then {args.seconds:g} s measured per side")
        ours = ("POST rating with next: true (its response brings the next item)" if args.one_trip
                else "GET next + POST rating")
        print(f"ours = {ours} per loop; baseline = one POST to a plain DRF CreateAPIView "
              "+ ModelSerializer (Rating) per loop", flush=True)
        levels: list[Level] = []
        reserve: list[dict[str, Any]] = []
        for clients in counts:
            tokens = [token for _, token in reviewers[:clients]]
            level = run_level(args, world, clients, tokens, baseline_campaign, port, server.pid, reserve)
            levels.append(level)
            print(f"  {clients} clients: ours {level.ours.rate:.1f} loops/s, baseline {level.base.rate:.1f} "
                  "loops/s", flush=True)
        report(levels)
        print(f"load average (1/5/15 min) after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        if args.profile_loops:
            profile(levels[-1].campaign.pk, reserve, args.profile_loops)
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a second Ctrl-C must not stop cleanup
            signal.signal(sig, signal.SIG_IGN)
        STOP.set()
        if server is not None:
            gunicorn_stop(server)
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if db_made and not args.keep_db:
            db_drop(args.pg, args.db)
        elif db_made:
            print(f"database kept: {args.pg}/{args.db}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
