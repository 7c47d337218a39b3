"""Backup and restore of the database and the media files (docs/backup.md).

A backup is a directory:
- `database.sqlite3` (SQLite, by the online backup API: a consistent copy even while the site
  writes, WAL included) or `database.pgdump` (PostgreSQL, `pg_dump -Fc` in an exported snapshot);
- `media.tar` (the files under MEDIA_ROOT: case photos and other uploads);
- `manifest.json`: row counts per table and the digest of every case's history head, both
  taken from the same snapshot as the dump, and the size and SHA-256 of each file.

`verify_backup` re-reads every file against the manifest; `restore_backup` loads a backup into an
empty database, then checks the counts, the history heads and every case's hash chain.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_TAR = "media.tar"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
CASE_TABLE = "cases_case"
# Rows that `migrate` itself writes: a database holding only these counts as empty.
SCHEMA_TABLES = {"django_migrations", "django_content_type", "auth_permission"}
CHUNK = 1024 * 1024

Say = Callable[[str], None]


class BackupError(Exception):
    """The backup cannot be made, read or restored; `status` is the command's exit code."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Facts:
    counts: dict[str, int]
    cases: int
    heads_sha256: str


def _quiet(_: str) -> None:
    return None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


# --- Facts from one snapshot ---------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def snapshot_facts(cursor: Any, tables: Iterable[str]) -> Facts:
    """Row counts and the history-head digest, read through `cursor` (a DB-API cursor inside the
    snapshot to describe)."""
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")
        counts[table] = int(cursor.fetchone()[0])
    digest = hashlib.sha256()
    cases = 0
    if CASE_TABLE in counts:
        cursor.execute(f"SELECT number, history_head FROM {CASE_TABLE} ORDER BY number")
        while rows := cursor.fetchmany(5000):
            for number, head in rows:
                digest.update(f"{number}\t{head or ''}\n".encode())
                cases += 1
    return Facts(counts, cases, digest.hexdigest())


def _sqlite_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [row[0] for row in cursor.fetchall()]


def _live_tables() -> list[str]:
    with connection.cursor() as cursor:
        return list(connection.introspection.table_names(cursor))


# --- Making a backup ----------------------------------------------------------------------------


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                     ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):
        if db.get(key):
            env[var] = str(db[key])
    options = db.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return env


def _run(args: Sequence[str], env: dict[str, str], what: str) -> None:
    tool = shutil.which(args[0])
    if tool is None:
        raise BackupError(f"{args[0]} is not installed (apt-get install postgresql-client)")
    done = subprocess.run([tool, *args[1:]], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}", status=1)


def _backup_sqlite(target: Path, say: Say) -> Facts:
    connection.ensure_connection()
    source = connection.connection
    say("database: copying (SQLite online backup)…")
    started = time.monotonic()
    with sqlite3.connect(target) as copy:
        source.backup(copy)  # one step: a consistent snapshot, never restarted by writers
        copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    copy.close()
    say(f"database: {_size(target.stat().st_size)} in {time.monotonic() - started:.1f} s")
    with sqlite3.connect(f"file:{target}?mode=ro", uri=True) as snap:
        cursor = snap.cursor()
        facts = snapshot_facts(cursor, _sqlite_tables(cursor))
    snap.close()
    return facts


def _backup_postgres(target: Path, say: Say) -> Facts:
    """pg_dump inside a snapshot this connection exports, and the counts from the same snapshot."""
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        say("database: dumping (pg_dump -Fc)…")
        _run(["pg_dump", "-Fc", "--no-owner", "--no-acl", f"--snapshot={snapshot}",
              "-f", str(target)], _pg_env(), "pg_dump")
        say(f"database: {_size(target.stat().st_size)} in {time.monotonic() - started:.1f} s")
        facts = snapshot_facts(cursor, connection.introspection.table_names(cursor))
    return facts


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _local_media() -> bool:
    backend = settings.STORAGES.get("default", {}).get("BACKEND", "")
    return backend == "django.core.files.storage.FileSystemStorage"


def _tar_media(target: Path, say: Say) -> int:
    root = _media_root()
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
    total = len(files)
    with tarfile.open(target, "w") as tar:
        for index, path in enumerate(files, 1):
            tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
            if index % 1000 == 0:
                say(f"media: {index}/{total} files")
    say(f"media: {total} file(s), {_size(target.stat().st_size)}")
    return total


def make_backup(out_dir: Path, *, say: Say = _quiet) -> dict[str, Any]:
    """Write a backup into `out_dir` (new or empty); returns the manifest."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise BackupError(f"{out_dir} exists and is not an empty directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    if vendor == "sqlite":
        db_file = SQLITE_FILE
        facts = _backup_sqlite(out_dir / db_file, say)
    elif vendor == "postgresql":
        db_file = PG_FILE
        facts = _backup_postgres(out_dir / db_file, say)
    else:
        raise BackupError(f"backing up a {vendor} database is not supported")
    media_files: int | None = None
    if _local_media():
        media_files = _tar_media(out_dir / MEDIA_TAR, say)
    else:
        say("media: skipped (the storage is not the local disk: back it up with its own tools)")
    files = {}
    for name in (db_file, MEDIA_TAR):
        path = out_dir / name
        if path.exists():
            say(f"checksum: {name}")
            files[name] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    manifest = {
        "format": FORMAT, "created_at": timezone.now().isoformat(), "vendor": vendor,
        "database": db_file, "media_files": media_files, "files": files,
        "counts": facts.counts, "cases": facts.cases, "history_heads_sha256": facts.heads_sha256,
        "migrations": _migrations(),
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    say(f"backup written to {out_dir}: {sum(facts.counts.values())} row(s) in "
        f"{len(facts.counts)} table(s), {facts.cases} case(s)")
    return manifest


def _migrations() -> dict[str, str]:
    """The last applied migration of each app (what the restored code must at least know)."""
    from django.db.migrations.recorder import MigrationRecorder

    last: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        last[app] = max(last.get(app, ""), name)
    return dict(sorted(last.items()))


# --- Verifying ---------------------------------------------------------------------------------


def read_manifest(backup_dir: Path) -> dict[str, Any]:
    path = backup_dir / MANIFEST
    if not path.is_file():
        raise BackupError(f"{backup_dir} is not a backup: it has no {MANIFEST}")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise BackupError(f"{path} is not valid JSON: {exc}", status=1) from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r}")
    return manifest


def verify_backup(backup_dir: Path, *, say: Say = _quiet) -> list[str]:
    """Problems found (empty: the backup is intact): every file's size and SHA-256, and the
    database file readable (SQLite: integrity check and the counts; PostgreSQL: its table of
    contents)."""
    manifest = read_manifest(backup_dir)
    problems = []
    for name, expected in sorted(manifest["files"].items()):
        path = backup_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        say(f"checking {name} ({_size(path.stat().st_size)})…")
        if path.stat().st_size != expected["bytes"]:
            problems.append(f"{name}: {path.stat().st_size} bytes, the manifest says {expected['bytes']}")
        elif sha256_file(path) != expected["sha256"]:
            problems.append(f"{name}: SHA-256 differs from the manifest")
    if problems:
        return problems
    database = backup_dir / manifest["database"]
    if manifest["vendor"] == "sqlite":
        problems += _check_sqlite_copy(database, manifest)
    elif manifest["vendor"] == "postgresql":
        tool = shutil.which("pg_restore")
        if tool is not None:
            listed = subprocess.run([tool, "--list", str(database)], capture_output=True, text=True)
            if listed.returncode != 0:
                problems.append(f"{database.name}: pg_restore cannot read it: {listed.stderr.strip()}")
    media = backup_dir / MEDIA_TAR
    if media.exists():
        try:
            with tarfile.open(media) as tar:
                count = sum(1 for m in tar.getmembers() if m.isfile())
        except tarfile.TarError as exc:
            problems.append(f"{MEDIA_TAR}: unreadable: {exc}")
        else:
            if count != manifest.get("media_files"):
                problems.append(f"{MEDIA_TAR}: {count} files, the manifest says {manifest.get('media_files')}")
    return problems


def _check_sqlite_copy(database: Path, manifest: dict[str, Any]) -> list[str]:
    with tempfile.TemporaryDirectory() as scratch:  # never open the backup itself for writing
        copy = Path(scratch) / database.name
        shutil.copyfile(database, copy)
        with sqlite3.connect(copy) as db:
            cursor = db.cursor()
            cursor.execute("PRAGMA integrity_check")
            result = cursor.fetchone()[0]
            if result != "ok":
                db.close()
                return [f"{database.name}: integrity check: {result}"]
            facts = snapshot_facts(cursor, _sqlite_tables(cursor))
        db.close()
    return compare_facts(manifest, facts)


def compare_facts(manifest: dict[str, Any], facts: Facts) -> list[str]:
    problems = []
    expected: dict[str, int] = manifest["counts"]
    for table, count in sorted(expected.items()):
        found = facts.counts.get(table)
        if found is None:
            problems.append(f"table {table}: missing")
        elif found != count:
            problems.append(f"table {table}: {found} row(s), the backup had {count}")
    if facts.heads_sha256 != manifest["history_heads_sha256"] or facts.cases != manifest["cases"]:
        problems.append(f"case history heads differ from the backup ({facts.cases} case(s), "
                        f"the backup had {manifest['cases']})")
    return problems


# --- Restoring ----------------------------------------------------------------------------------


def database_rows() -> dict[str, int]:
    """Tables of the configured database that hold rows, beyond migrate's own."""
    tables = [t for t in _live_tables() if t not in SCHEMA_TABLES]
    with connection.cursor() as cursor:
        facts = snapshot_facts(cursor, tables)
    return {t: n for t, n in facts.counts.items() if n}


def restore_backup(backup_dir: Path, *, force: bool = False, say: Say = _quiet) -> list[str]:
    """Load the backup into the configured database and MEDIA_ROOT, which must be empty unless
    `force`; returns the problems the checks afterwards found (empty: all well)."""
    manifest = read_manifest(backup_dir)
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"this is a {manifest['vendor']} backup; the database is {connection.vendor}")
    problems = verify_backup(backup_dir, say=say)
    if problems:
        raise BackupError("the backup is damaged: " + "; ".join(problems), status=1)
    if not force:
        holding = database_rows()
        if holding:
            sample = ", ".join(f"{t} ({n})" for t, n in list(holding.items())[:5])
            raise BackupError(f"the database is not empty: {sample}; restore into an empty "
                              "database, or pass --force to replace its contents")
        media = _media_root()
        if (backup_dir / MEDIA_TAR).exists() and media.is_dir() and any(media.iterdir()):
            raise BackupError(f"MEDIA_ROOT {media} is not empty; pass --force to restore over it")
    database = backup_dir / manifest["database"]
    if manifest["vendor"] == "sqlite":
        _restore_sqlite(database, say)
    else:
        _restore_postgres(database, say)
    if (backup_dir / MEDIA_TAR).exists():
        _untar_media(backup_dir / MEDIA_TAR, say)
    say("checking the restored counts and history heads…")
    with connection.cursor() as cursor:
        facts = snapshot_facts(cursor, _live_tables())
    return compare_facts(manifest, facts)


def _restore_sqlite(database: Path, say: Say) -> None:
    name = str(connection.settings_dict["NAME"])
    connection.close()
    say(f"database: restoring into {name}…")
    with sqlite3.connect(database) as source:
        connection.ensure_connection()
        source.backup(connection.connection)  # replaces every page of the target
    source.close()
    connection.close()


def _restore_postgres(dump: Path, say: Say) -> None:
    connection.close()
    say("database: restoring (pg_restore)…")
    args = ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
            "--dbname", str(connection.settings_dict["NAME"])]
    if _live_tables():
        args[1:1] = ["--clean", "--if-exists"]
    connection.close()
    _run([*args, str(dump)], _pg_env(), "pg_restore")


def _untar_media(archive: Path, say: Say) -> None:
    root = _media_root()
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        for index, member in enumerate(members, 1):
            tar.extract(member, root, filter="data")  # no absolute paths, no "..", no links out
            if index % 1000 == 0:
                say(f"media: {index}/{len(members)} files")
    say(f"media: {len(members)} file(s) restored into {root}")
