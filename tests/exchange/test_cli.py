"""`distillguard hub ...`: admin commands and one-command `serve` on embedded defaults."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from distillguard.cli.main import app
from distillguard.exchange.server import free_port

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, ["hub", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_admin_commands_manage_members_tokens_and_collections(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path)]
    out = _run("member", "add", "lab-a", "--org", "Lab A", *d)
    assert "password (shown once)" in out
    # The identity id a member signs with (created_by_ref) is printed where it is created.
    assert re.search(r"member lab-a  identity identity--[0-9a-f-]{36}", out)
    listing = _run("member", "list", *d)
    assert "lab-a" in listing and "identity--" in listing
    created = _run("collection", "create", "intel", *d)
    assert "bootstrap admin" in created
    cid = created.strip().splitlines()[-1]
    assert cid in _run("collection", "list", *d)
    assert "write=True" in _run("collection", "grant", cid, "lab-a", "--write", "--org", *d)
    token_out = _run("token", "issue", "lab-a", *d)
    cred = re.search(r"credential (\w+)", token_out).group(1)
    assert "revoked" in _run("token", "revoke", cred, *d)
    assert "dgt_" in _run("token", "rotate", "lab-a", *d)
    assert "revoked" in _run("member", "revoke", "lab-a", *d)
    bad = runner.invoke(app, ["hub", "member", "revoke", "nobody", *d])
    assert bad.exit_code == 1 and "no member" in bad.output


def test_serve_starts_with_one_command_and_prints_a_working_credential(tmp_path: Path) -> None:
    port = free_port()
    exe = Path(sys.executable).with_name("distillguard")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(exe), "hub", "serve", "--data-dir", str(tmp_path / "hub"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        creds = None
        while creds is None and time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line)
            creds = re.search(r"user (\S+)\s+password (\S+)", line)
        assert creds, "".join(lines)
        assert any(f"http://127.0.0.1:{port}/taxii2/" in ln for ln in lines)
        auth = (creds.group(1), creds.group(2))
        while time.monotonic() < deadline:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/taxii2/", auth=auth, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert resp.status_code == 200
        cols = httpx.get(f"http://127.0.0.1:{port}/api/collections/", auth=auth).json()
        assert cols["collections"][0]["title"] == "distillation-forum"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout:
            proc.stdout.close()
