"""Backup and restore round trip: a backup restored into an empty database (a second SQLite
file, or a scratch PostgreSQL database) has the same rows, history heads and intact chains."""

import io
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from citygrid.security.backups import MANIFEST, MEDIA_TAR, read_manifest

CITYGRID = str(Path(sys.executable).with_name("citygrid"))


def load_demo():
    from citygrid.calendars.demo import load_demo as calendars
    from citygrid.catalog.demo import load_demo as catalog
    from citygrid.org.demo import load_demo as org
    from citygrid.space.demo import load_city
    from citygrid.space.geocoding import invalidate_index

    invalidate_index()
    load_city("small")
    calendars(io.StringIO())
    catalog(io.StringIO())
    org(io.StringIO(), size="small")


def png(color: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (200, 150), color).save(buffer, format="PNG")
    return buffer.getvalue()


def report_cases() -> list[str]:
    from django.contrib.auth.models import User

    from citygrid.cases import actions
    from citygrid.space.models import Area, UnitGrid

    inspector = User.objects.get(username="city_inspector_1")
    area = Area.objects.filter(code__startswith="510104002", level="community").order_by("code").first()
    grid = UnitGrid.objects.filter(community=area, valid_to__isnull=True).order_by("code").first()
    point = grid.shape.representative_point()
    numbers = []
    for color in ("red", "green", "blue"):
        case = actions.report_case(inspector, source="city_inspector", kind="event",
                                   category_code="06002", lon=float(point.x), lat=float(point.y),
                                   description=f"{color} 垃圾", photos=[png(color)])
        numbers.append(case.number)
    return numbers


@pytest.fixture
def city_with_cases(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_demo()
    return report_cases()


def run(args, **env):
    return subprocess.run([CITYGRID, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=600)


def heads() -> dict[str, str]:
    from citygrid.cases.models import Case

    return dict(Case.objects.values_list("number", "history_head"))


def test_backup_restore_round_trip(city_with_cases, tmp_path):
    from citygrid.cases.models import Case, CaseEvent, Photo

    backup = tmp_path / "backup"
    out = io.StringIO()
    call_command("backup", str(backup), stdout=out)
    assert "OK: backup" in out.getvalue()
    manifest = read_manifest(backup)
    assert manifest["counts"]["cases_case"] == 3 == manifest["cases"]
    assert manifest["counts"]["cases_photo"] == Photo.objects.count() == 3
    assert manifest["media_files"] == 3
    assert set(manifest["files"]) == {manifest["database"], MEDIA_TAR}
    expected = {"cases": heads(), "events": CaseEvent.objects.count()}

    restored_media = tmp_path / "media-restored"
    if connection.vendor == "sqlite":
        target = tmp_path / "restored.sqlite3"
        done = run(["restore", str(backup)], DATABASE_URL=f"sqlite:///{target}",
                   MEDIA_ROOT=str(restored_media))
        assert done.returncode == 0, done.stderr
        with sqlite3.connect(target) as db:
            found = dict(db.execute("SELECT number, history_head FROM cases_case").fetchall())
            events = db.execute("SELECT COUNT(*) FROM cases_caseevent").fetchone()[0]
        db.close()
    else:
        found, events, done = restore_into_scratch_postgres(backup, restored_media)
    assert "3 case(s), every history chain intact" in done.stdout
    assert (found, events) == (expected["cases"], expected["events"])
    photo = Photo.objects.order_by("id").first()
    assert (restored_media / photo.file.name).read_bytes() == photo.file.read()
    assert Case.objects.count() == 3


def restore_into_scratch_postgres(backup, media):
    import psycopg

    settings = connection.settings_dict
    name = f"cg_hardening_restore_{uuid.uuid4().hex[:8]}"
    params = {"host": settings["HOST"] or "127.0.0.1", "port": settings["PORT"] or 5432,
              "user": settings["USER"], "password": settings["PASSWORD"] or None}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
        url = f"postgres://{settings['USER']}{password}@{params['host']}:{params['port']}/{name}"
        done = run(["restore", str(backup)], DATABASE_URL=url, MEDIA_ROOT=str(media))
        assert done.returncode == 0, done.stderr
        with psycopg.connect(dbname=name, **params) as db:
            found = dict(db.execute("SELECT number, history_head FROM cases_case").fetchall())
            events = db.execute("SELECT COUNT(*) FROM cases_caseevent").fetchone()[0]
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return found, events, done


def test_restore_refuses_a_database_with_data(city_with_cases, tmp_path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup), stdout=io.StringIO())
    with pytest.raises(CommandError, match="not empty") as caught:
        call_command("restore", str(backup), stdout=io.StringIO())
    assert caught.value.returncode == 2


def test_verify_finds_a_damaged_or_incomplete_backup(city_with_cases, tmp_path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup), stdout=io.StringIO())
    ok = io.StringIO()
    call_command("backup", str(backup), "--verify", stdout=ok)
    assert ok.getvalue().strip().endswith("matches its manifest.")
    data = bytearray((backup / MEDIA_TAR).read_bytes())
    data[600] ^= 0xFF
    (backup / MEDIA_TAR).write_bytes(bytes(data))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("backup", str(backup), "--verify", stdout=io.StringIO(), stderr=err)
    assert exit_.value.code == 1
    assert "media.tar: SHA-256 differs" in err.getvalue()
    manifest = json.loads((backup / MANIFEST).read_text())
    (backup / manifest["database"]).unlink()
    with pytest.raises(SystemExit):
        call_command("backup", str(backup), "--verify", stdout=io.StringIO(), stderr=io.StringIO())


def test_bad_arguments_exit_2(db, tmp_path):
    with pytest.raises(CommandError) as caught:
        call_command("backup", str(tmp_path / "nothing"), "--verify")
    assert caught.value.returncode == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(CommandError, match="not an empty directory") as caught:
        call_command("backup", str(tmp_path / "full"))
    assert caught.value.returncode == 2
