"""Reviewers keep answering while the job worker dies and a web worker is killed: nothing lost, nothing twice.

    .venv/bin/python bench/review_faults.py                       # 50 clients, 30 s, the default faults
    .venv/bin/python bench/review_faults.py --clients 50 --seconds 40 --photos 400

One run against a real gunicorn (gthread) on PostgreSQL, with a real huey consumer on Redis:

* ``--clients`` reviewer clients (threads, keep-alive ``http.client``, one reviewer and token each) answer
  a rating campaign in the work page's loop: each rating is sent with ``"next": true`` and its response
  brings the next item. A request that fails in transport (connection reset, no response) or with a 5xx
  is sent again, the same answer, until it is acknowledged (answers are idempotent: the same answer twice
  is stored once); a 4xx is final (e.g. a lease that ran out: the client asks for its next item).
* Meanwhile an ML engineer starts a thumbnails job over ``--photos`` large PNGs through the API; at
  ``--kill-consumer-at`` s the consumer is SIGKILLed mid-job, at ``--restart-consumer-at`` s a new one
  starts (it must resume the job), and at ``--kill-worker-at`` s one gunicorn worker is SIGKILLed (the
  master starts another; the requests it held in flight fail in transport and are retried).

Afterwards, from the database: answers sent (distinct items a client sent an answer for),
acknowledged (a 200/201 seen), stored (ratings rows); LOST = acknowledged but not stored;
DUPLICATED = two ratings of one assignment, a reviewer rating one item twice, an item over its
overlap; failed requests by kind and second, those within ``--fault-window`` s after the worker kill
counted apart. The job must end succeeded, resumed (attempt 2), each thumbnail written once.

Setup as ``bench/review_api.py`` (its helpers): a dedicated database ``--db`` on ``--pg`` (dropped at
the end), media and huey in a temp folder and Redis db ``--redis-db``; settings profile
``development``, ``DEBUG=False``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import shutil
import signal
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

from bench.review_api import (  # noqa: E402
    SETTINGS,
    Conn,
    campaign_make,
    db_create,
    db_drop,
    free_port,
    gunicorn_start,
    gunicorn_stop,
    rating_body,
    reviewers_create,
    world_build,
)

STOP = threading.Event()
RETRIES = 20


@dataclass
class Ledger:
    """What every client sent and saw (appended under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: dict[int, int] = field(default_factory=dict)  # assignment id -> client
    acked: dict[int, int] = field(default_factory=dict)  # assignment id -> status of the ack
    failures: list[tuple[float, str]] = field(default_factory=list)  # (seconds into the run, kind)
    refused: Counter = field(default_factory=Counter)  # final 4xx answers by status and code
    gave_up: int = 0
    loops: int = 0


def client(index: int, token: str, port: int, campaign_id: int, t0: float, end: float,
           ledger: Ledger) -> None:
    conn, rng = Conn(port, token), random.Random(index)
    following: dict[str, Any] | None = None

    def call(method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        """The request until it is answered without a transport error or a 5xx (or RETRIES run out)."""
        for _ in range(RETRIES):
            status, reply = conn.call(method, path, body)
            if status and status < 500:
                return status, reply
            with ledger.lock:
                kind = f"{method} {status or 'transport'}"
                ledger.failures.append((time.monotonic() - t0, kind))
            time.sleep(0.2)
        return 0, None

    try:
        while time.monotonic() < end and not STOP.is_set():
            if following is None:
                status, reply = call("GET", f"/api/review/next/?campaign={campaign_id}")
                if status != 200:
                    with ledger.lock:
                        ledger.gave_up += status == 0
                        ledger.refused[f"next {status}"] += status != 0
                    return
                following = reply["assignment"]
                if following is None:
                    return  # no work left
            aid = following["id"]
            with ledger.lock:
                ledger.sent[aid] = index
            status, reply = call("POST", "/api/review/ratings/", {"assignment": aid, "next": True,
                                                                   **rating_body(rng)})
            with ledger.lock:
                if status in (200, 201):
                    ledger.acked[aid] = status
                    ledger.loops += 1
                elif status == 0:
                    ledger.gave_up += 1
                else:
                    ledger.refused[f"rating {status} {(reply or {}).get('code', '')}"] += 1
            following = ((reply or {}).get("next") or {}).get("assignment") if status in (200, 201) else None
    finally:
        conn.close()


def write_photos(folder: Path, count: int, size: int) -> None:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(folder / f"p{i:04d}.png")


class ConsumerProcess:
    def __init__(self, log: Path) -> None:
        self._log = log.open("ab")
        self.process = subprocess.Popen([sys.executable, "manage.py", "run_huey", "--workers", "1"], cwd=ROOT,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def gunicorn_workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def checks(campaign, ledger: Ledger) -> dict[str, int]:
    from django.db.models import Count, F

    from review.models import Assignment, Rating

    ratings = Rating.objects.filter(campaign=campaign)
    stored = set(ratings.values_list("assignment_id", flat=True))
    per_assignment = ratings.values("assignment").annotate(n=Count("id")).filter(n__gt=1).count()
    twice = ratings.values("item", "reviewer").annotate(n=Count("id")).filter(n__gt=1).count()
    over = (ratings.values("item").annotate(n=Count("id"), overlap=F("item__overlap"))
            .filter(n__gt=F("overlap")).count())
    held_over = (Assignment.objects.filter(campaign=campaign, reviewer__isnull=False).values("item")
                 .annotate(n=Count("id"), overlap=F("item__overlap")).filter(n__gt=F("overlap")).count())
    acked, sent = set(ledger.acked), set(ledger.sent)
    return {"sent": len(sent), "acknowledged": len(acked), "stored": len(stored),
            "lost (acknowledged, not stored)": len(acked - stored),
            "stored without an acknowledgement": len(stored - acked),
            "stored that no client sent": len(stored - sent),
            "two ratings of one assignment": per_assignment, "a reviewer twice on one item": twice,
            "items over their overlap": over + held_over}


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the clients answer")
    parser.add_argument("--kill-consumer-at", type=float, default=6.0)
    parser.add_argument("--restart-consumer-at", type=float, default=10.0)
    parser.add_argument("--kill-worker-at", type=float, default=14.0)
    parser.add_argument("--fault-window", type=float, default=3.0,
                        help="seconds after the worker kill whose failed requests are the kill's")
    parser.add_argument("--photos", type=int, default=300, help="PNGs the thumbnails job reads")
    parser.add_argument("--photo-size", type=int, default=1024)
    parser.add_argument("--headshots", type=int, default=800)
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="hfplatform_faults")
    parser.add_argument("--redis-db", type=int, default=7)
    args = parser.parse_args()
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.db):
        parser.error("--db must be a lower-case identifier")
    args.app = "hfplatform.wsgi:application"
    args.worker_connections = -(-args.clients // args.workers) + args.threads

    tmp = Path(tempfile.mkdtemp(prefix="review-faults-"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": SETTINGS, "DJANGO_PROFILE": "development", "DEBUG": "False",
        "DATABASE_URL": f"{args.pg}/{args.db}", "DB_CONN_MAX_AGE": "600", "VAR_DIR": str(tmp / "var"),
        "MEDIA_ROOT": str(tmp / "media"), "SECRET_KEY": secrets.token_urlsafe(40), "LOG_LEVEL": "WARNING",
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}", "HUEY_NAME": "hfplatform-faults",
        "HUEY_WORKERS": "1", "API_RATE_JOBS": "",
    })
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    server = consumer = None
    db_made = False
    try:
        subprocess.run(["redis-cli", "-n", str(args.redis_db), "flushdb"], check=True, capture_output=True)
        db_create(args.pg, args.db)
        db_made = True
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
        import django

        django.setup()
        from django.db import connection

        from hfplatform.accounts.services import token_for
        from hfplatform.jobs.models import Job

        world = world_build(args.headshots)
        campaign = campaign_make(world, "faults", overlap=args.overlap)
        tokens = [token for _, token in reviewers_create("faults-reviewer", args.clients)]
        engineer_token = token_for(user=world.engineer)
        write_photos(tmp / "media" / "big", args.photos, args.photo_size)
        connection.close()
        port = free_port()
        server = gunicorn_start(args, port, tmp / "gunicorn.log")
        consumer = ConsumerProcess(tmp / "consumer-1.log")
        print(f"review faults bench: {args.clients} clients for {args.seconds:g} s on gunicorn gthread "
              f"{args.workers}×{args.threads}, PostgreSQL, huey on Redis; campaign of {args.headshots} "
              f"headshots × overlap {args.overlap}; thumbnails job over {args.photos} PNGs of "
              f"{args.photo_size} px; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}", flush=True)

        status, job = Conn(port, engineer_token).call("POST", "/api/jobs/thumbnails/",
                                                      {"folder": "big", "size": 64})
        if status != 202:
            raise SystemExit(f"the thumbnails job did not start: {status} {job}")
        ledger = Ledger()
        t0 = time.monotonic()
        end = t0 + args.seconds
        threads = [threading.Thread(target=client, daemon=True,
                                    args=(i, t, port, campaign.pk, t0, end, ledger))
                   for i, t in enumerate(tokens)]
        for thread in threads:
            thread.start()
        events: list[str] = []
        plan = sorted([(args.kill_consumer_at, "kill consumer"), (args.kill_worker_at, "kill web worker"),
                       (args.restart_consumer_at, "restart consumer")])
        for at, what in plan:
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            row = Job.objects.get(pk=job["id"])
            if what == "kill consumer":
                consumer.kill()
                events.append(f"{at:5.1f} s  consumer SIGKILLed; the job {row.status} at {row.progress}%")
            elif what == "restart consumer":
                consumer.stop()
                consumer = ConsumerProcess(tmp / "consumer-2.log")
                events.append(f"{at:5.1f} s  a new consumer started")
            else:
                workers = gunicorn_workers(server.pid)
                victim = random.Random(0).choice(workers)
                os.kill(victim, signal.SIGKILL)
                events.append(f"{at:5.1f} s  gunicorn worker {victim} SIGKILLed (of {len(workers)})")
            connection.close()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - t0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not Job.objects.get(pk=job["id"]).is_finished:
            time.sleep(0.5)
        row = Job.objects.get(pk=job["id"])
        thumbs = len(list((tmp / "media" / f"thumbnails/job-{row.pk}").glob("*.jpg")))

        print("\nfaults:")
        for line in events:
            print(f"  {line}")
        counts = checks(campaign, ledger)
        print(f"\nanswers ({ledger.loops / elapsed:.1f} acknowledged answers/s over {elapsed:.0f} s):")
        for name, value in counts.items():
            print(f"  {name:<36} {value}")
        kill_at = args.kill_worker_at
        by_kind = Counter(kind for _, kind in ledger.failures)
        in_window = Counter(kind for at, kind in ledger.failures
                            if kill_at <= at <= kill_at + args.fault_window)
        print("\nfailed requests, each retried with the same answer:")
        print(f"  in all: {dict(by_kind) or 'none'}")
        print(f"  within {args.fault_window:g} s of the web worker kill: {dict(in_window) or 'none'}")
        print(f"  elsewhere: {dict(by_kind - in_window) or 'none'}")
        seconds = defaultdict(int)
        for at, _ in ledger.failures:
            seconds[int(at)] += 1
        if seconds:
            print(f"  by second of the run: {dict(sorted(seconds.items()))}")
        print(f"  given up after {RETRIES} tries: {ledger.gave_up}; "
              f"final 4xx: {dict(ledger.refused) or 'none'}")
        print(f"\nthe job: {row.status}, attempt {row.attempts}, progress {row.progress}%, made "
              f"{row.result.get('made')}, kept {row.result.get('kept')}, thumbnails on disk {thumbs} of "
              f"{args.photos}, started by {row.started_by.username}")
        problems = [name for name in ("lost (acknowledged, not stored)", "two ratings of one assignment",
                                      "a reviewer twice on one item", "items over their overlap",
                                      "stored that no client sent") if counts[name]]
        if by_kind - in_window:
            problems.append("failed requests outside the worker kill")
        if row.status != "succeeded" or row.attempts < 2 or thumbs != args.photos:
            problems.append("the job did not resume and finish exactly once")
        print("\nverdict: " + ("OK: zero lost, zero duplicated, the job resumed" if not problems
                               else "FAILED: " + "; ".join(problems)))
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        STOP.set()
        if consumer is not None:
            consumer.stop()
        if server is not None:
            gunicorn_stop(server)
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if db_made:
            db_drop(args.pg, args.db)
        subprocess.run(["redis-cli", "-n", str(args.redis_db), "flushdb"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
