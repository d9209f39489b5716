"""``distillguard share``: publish campaigns, pull partners' indicators, match, sight.

Exit codes: 0 ok; 1 a sharing error (policy, keyring, hub refused); 3 the leak guard
refused to send (nothing left the lab).
"""

from __future__ import annotations

from pathlib import Path

import typer

from distillguard.cli.main import app

share_app = typer.Typer(help="Share campaigns with peer labs through a TAXII hub, and use "
                        "theirs.", no_args_is_help=True)
app.add_typer(share_app, name="share")

HubUrl = typer.Option("", "--hub", envvar="DISTILLGUARD_HUB_URL",
                      help="Hub base URL, e.g. http://127.0.0.1:8000")
HubUser = typer.Option("", "--user", envvar="DISTILLGUARD_HUB_USER", help="Member name.")
HubPassword = typer.Option("", "--password", envvar="DISTILLGUARD_HUB_PASSWORD",
                           help="Member password (prefer the env var).")
HubToken = typer.Option("", "--token", envvar="DISTILLGUARD_HUB_TOKEN",
                        help="Bearer token dgt_... (instead of user/password).")
Keyring = typer.Option(..., "--keyring", envvar="DISTILLGUARD_KEYRING",
                       help="Consortium keyring YAML (key_id + epoch keys).")
Identity = typer.Option("", "--identity", envvar="DISTILLGUARD_IDENTITY",
                        help="This lab's STIX identity id (its own indicators are ignored).")
StorePath = typer.Option(Path("distillguard-share/indicators.db"), "--store",
                         help="Local SQLite store of partner indicators.")


def _link(hub: str, user: str, password: str, token: str):  # type: ignore[no-untyped-def]
    from distillguard.share.client import HubLink

    if not hub:
        raise typer.BadParameter("--hub (or DISTILLGUARD_HUB_URL) is required")
    return HubLink(hub, user=user, password=password, token=token)


def _fail(exc: Exception, code: int = 1) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code)


@share_app.command()
def keygen(
    out: Path = typer.Option(..., "--out", help="Where to write the keyring YAML (mode 600)."),
    key_id: str = typer.Option(..., "--key-id", help="Consortium key id."),
    epoch: list[str] = typer.Option(..., "--epoch", help="Epoch name(s), e.g. 2026-11."),
) -> None:
    """Create a keyring with fresh random epoch keys (consortium admin)."""
    from distillguard.share.keys import new_keyring, save_keyring

    ring = new_keyring(key_id, epoch)
    save_keyring(ring, out)
    typer.echo(f"keyring {key_id} with epochs {', '.join(sorted(ring.epochs))} -> {out}")


@share_app.command()
def publish(
    input_dir: Path = typer.Option(..., "--input", "-i", help="Dataset directory."),
    scan_dir: Path = typer.Option(..., "--scan", help="Output directory of `scan`."),
    policy: Path | None = typer.Option(None, "--policy", help="Sharing policy YAML."),
    keyring: Path = Keyring,
    identity: str = Identity,
    dry_run: bool = typer.Option(False, "--dry-run", help="Show exactly what would leave; "
                                 "send nothing."),
    bundle_out: Path | None = typer.Option(None, "--bundle-out",
                                           help="Also write the STIX bundle JSON here."),
    collection: str = typer.Option("", "--collection", help="Override the policy's collection."),
    hub: str = HubUrl, user: str = HubUser, password: str = HubPassword, token: str = HubToken,
) -> None:
    """Turn a scan's campaigns into leak-guarded STIX indicators and post them."""
    import dataclasses

    import orjson
    import polars as pl

    from distillguard.share.errors import LeakError, ShareError
    from distillguard.share.inputs import load_campaigns, load_lab
    from distillguard.share.keys import load_keyring
    from distillguard.share.leakguard import LeakGuard
    from distillguard.share.policy import load_policy
    from distillguard.share.publish import build_publication, render_dry_run, send_publication
    from distillguard.share.sketch import family_skeletons

    try:
        pol = load_policy(policy)
        if collection:
            pol = dataclasses.replace(pol, collection=collection)
        ring = load_keyring(keyring)
        camps = load_campaigns(scan_dir)
        lab = load_lab(input_dir, with_prompts=True)
        members = pl.Series([a for c in camps for a in c.get("accounts", [])], dtype=pl.String)
        sk = family_skeletons(lab.prompts.filter(pl.col("account_id").is_in(members.implode())),
                              lab.events.get_column("template_id").drop_nulls())
        pub = build_publication(camps, lab.accounts, lab.events, policy=pol, keyring=ring,
                                identity=identity or None, skeletons=sk)
        guard = LeakGuard.from_frames(lab.accounts, lab.events, pol,
                                      prompts=lab.prompts.get_column("prompt"))
        bundle = pub.bundle()
        findings = guard.scan(bundle)
        if bundle_out is not None:
            bundle_out.parent.mkdir(parents=True, exist_ok=True)
            bundle_out.write_bytes(orjson.dumps(bundle, option=orjson.OPT_INDENT_2))
        typer.echo(render_dry_run(pub))
        if findings:
            raise LeakError(f"leak guard: {len(findings)} raw value(s) in the bundle",
                            tuple(findings))
        typer.echo("leak guard: no raw customer value in the bundle")
        if dry_run or not pub.outbound:
            typer.echo("dry run: nothing sent" if dry_run else "nothing to send")
            return
        statuses = send_publication(pub, _link(hub, user, password, token), guard)
        ok = sum(int(s.get("success_count", 0)) for s in statuses)
        typer.echo(f"sent: {ok} object(s) accepted by the hub")
    except LeakError as exc:
        for f in exc.findings[:20]:
            typer.echo(f"  leak: {f}", err=True)
        _fail(exc, 3)
    except ShareError as exc:
        _fail(exc)


@share_app.command()
def pull(
    collection: list[str] = typer.Option(..., "--collection", help="Collection id(s)."),
    store: Path = StorePath,
    follow: bool = typer.Option(False, "--follow", help="Then stay subscribed to the push "
                                "channel of the first collection."),
    max_objects: int | None = typer.Option(None, "--max", help="With --follow: stop after N."),
    match_input: Path | None = typer.Option(
        None, "--match", help="With --follow: match every pushed batch against this "
        "dataset at once and append newly flagged accounts to --flags."),
    scan_dir: Path | None = typer.Option(None, "--scan", help="With --match: the dataset's "
                                         "scan output (accounts.csv: scores, flags)."),
    keyring: Path | None = typer.Option(None, "--keyring", envvar="DISTILLGUARD_KEYRING",
                                        help="With --match: consortium keyring YAML."),
    identity: str = Identity,
    flags_out: Path = typer.Option(Path("distillguard-share/flags.jsonl"), "--flags",
                                   help="With --match: JSON lines of newly flagged accounts "
                                   "(local file)."),
    sight: bool = typer.Option(True, "--sight/--no-sight", help="With --match: report the "
                               "matches of flagged accounts to the hub as sightings (counts "
                               "and time ranges only, leak-guarded)."),
    sight_window: float = typer.Option(60.0, "--sight-window", min=0.0,
                                       help="With --sight: at most one sighting per "
                                       "indicator per this many seconds."),
    hub: str = HubUrl, user: str = HubUser, password: str = HubPassword, token: str = HubToken,
) -> None:
    """Fetch partners' new indicators and sightings into the local store; with --follow,
    stay on the hub's push channel (and with --match, flag as indicators arrive and
    report matches back as debounced sightings)."""
    from distillguard.share.errors import LeakError, ShareError
    from distillguard.share.pull import follow as follow_fn
    from distillguard.share.pull import pull as pull_fn
    from distillguard.share.store import IndicatorStore

    if match_input is not None and (not follow or scan_dir is None or keyring is None):
        raise typer.BadParameter("--match needs --follow, --scan and --keyring")
    st = IndicatorStore(store)
    try:
        link = _link(hub, user, password, token)
        for r in pull_fn(link, collection, st):
            typer.echo(f"{r.collection}: {r.received} received, {r.stored} stored "
                       f"(checkpoint {r.added_after})")
        if follow and match_input is not None:
            assert scan_dir is not None and keyring is not None
            _follow_and_match(link, collection[0], st, match_input, scan_dir, keyring,
                              identity or None, flags_out, max_objects,
                              sight_window if sight else None)
        elif follow:
            typer.echo(f"following {collection[0]} ... (Ctrl-C to stop)")
            n = follow_fn(link, collection[0], st, max_objects=max_objects)
            typer.echo(f"{n} pushed object(s) stored")
    except LeakError as exc:
        _fail(exc, 3)
    except ShareError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        pass
    finally:
        typer.echo(f"store: {st.counts()}")
        st.close()


def _follow_and_match(link, collection: str, st, dataset: Path, scan_dir: Path,  # type: ignore[no-untyped-def]
                      keyring: Path, identity: str | None, flags_out: Path,
                      max_objects: int | None, sight_window: float | None) -> None:
    """The live sensor: push channel -> store -> match -> flags (distillguard.sensor),
    and with ``sight_window`` debounced sightings back to the hub."""
    import threading
    import time

    import polars as pl

    from distillguard.sensor.follower import Follower
    from distillguard.sensor.live import LiveMatcher
    from distillguard.sensor.sightings import LiveSightings
    from distillguard.share.errors import ShareError
    from distillguard.share.inputs import load_lab
    from distillguard.share.keys import load_keyring
    from distillguard.share.leakguard import LeakGuard
    from distillguard.share.policy import Policy

    lab = load_lab(dataset)
    csv = scan_dir / "accounts.csv"
    if not csv.exists():
        raise ShareError(f"{csv}: no scan output (run `distillguard scan` first)")
    lock = threading.RLock()
    sightings = None if sight_window is None else LiveSightings(
        link, st, LeakGuard.from_frames(lab.accounts, lab.events, Policy()),
        identity=identity, collection=collection, window_s=sight_window, lock=lock)
    matcher = LiveMatcher(lab.events, lab.accounts, pl.read_csv(csv, infer_schema_length=0),
                          keyring=load_keyring(keyring), identity=identity,
                          flags_path=flags_out, sightings=sightings)
    matcher.prime(st)  # what the pull stored: matched once, before the first push

    def on_batch(store, delivery):  # type: ignore[no-untyped-def]
        r = matcher(store, delivery)
        typer.echo(f"event {r.last_event_id}: {r.objects} object(s), {r.boosted} account(s) "
                   f"matched, {r.new_flags} newly flagged -> {flags_out} "
                   f"({r.written - r.received:.2f} s after arrival)")

    typer.echo(f"following {collection} and matching against {dataset} ... (Ctrl-C to stop)")
    f = Follower(link, collection, st, on_batch=on_batch, lock=lock).start()
    try:
        while f.error is None:
            if max_objects is not None and f.wait_received(max_objects, timeout=1.0):
                break
            if max_objects is None:
                time.sleep(1.0)
    finally:
        f.stop()
        if sightings is not None:
            sightings.stop()  # what the window still held goes now
    if isinstance(f.error, ShareError):  # e.g. the leak guard refused a sighting
        raise f.error
    if f.error is not None:
        raise ShareError(f"follow stopped: {f.error}")
    sent = f", {len(sightings.sent)} sighting(s) sent" if sightings is not None else ""
    typer.echo(f"{f.received} pushed object(s) stored, {len(matcher.flagged)} account(s) "
               f"flagged (by the scan or by sharing){sent}")


@share_app.command()
def match(
    input_dir: Path = typer.Option(..., "--input", "-i", help="Dataset directory."),
    scan_dir: Path = typer.Option(..., "--scan", help="Output directory of `scan`."),
    store: Path = StorePath,
    keyring: Path = Keyring,
    identity: str = Identity,
    output: Path | None = typer.Option(None, "--output", "-o",
                                       help="Where to write the updated accounts.csv "
                                       "(default: the scan directory)."),
    sketches: bool = typer.Option(True, "--sketches/--no-sketches",
                                  help="Also match template sketches (fuzzy; re-reads "
                                  "prompt text to rebuild skeletons)."),
) -> None:
    """Apply partners' indicators to a scan: boosts scores, adds reasons, rewrites
    accounts.csv (with share_boost and share_reasons columns)."""
    import polars as pl

    from distillguard.share.errors import ShareError
    from distillguard.share.inputs import load_lab
    from distillguard.share.keys import load_keyring
    from distillguard.share.match import apply_boosts, match_indicators
    from distillguard.share.store import IndicatorStore

    try:
        ring = load_keyring(keyring)
        lab = load_lab(input_dir, with_prompts=sketches)
        st = IndicatorStore(store)
        sk = None
        if sketches:
            from distillguard.share.sketch import family_skeletons

            sk = family_skeletons(lab.prompts, lab.events.get_column("template_id").drop_nulls())
        boosts = match_indicators(lab.events, lab.accounts, st, keyring=ring,
                                  identity=identity or None, skeletons=sk)
        scan = pl.read_csv(scan_dir / "accounts.csv", infer_schema_length=0)
        updated = apply_boosts(scan, boosts)
        out = (output or scan_dir) / "accounts.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        updated.write_csv(out)
        n_boost = int((boosts.get_column("share_boost") > 0).sum())
        before = int(scan.get_column("flagged").str.to_lowercase().is_in(["true", "1"]).sum())
        n_new = int(updated.get_column("flagged").sum()) - before
        typer.echo(f"{n_boost} account(s) matched partner indicators; {n_new} newly flagged "
                   f"-> {out}")
    except ShareError as exc:
        _fail(exc)


@share_app.command()
def sight(
    input_dir: Path = typer.Option(..., "--input", "-i", help="Dataset directory."),
    store: Path = StorePath,
    keyring: Path = Keyring,
    identity: str = Identity,
    false_positive: list[str] = typer.Option([], "--false-positive",
                                             help="Indicator id(s) to report as false "
                                             "positives instead."),
    anonymous: bool = typer.Option(False, "--anonymous", help="Do not name this lab."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the sightings; send nothing."),
    hub: str = HubUrl, user: str = HubUser, password: str = HubPassword, token: str = HubToken,
) -> None:
    """Report matches (counts and time ranges only) or false positives to the hub."""
    import orjson

    from distillguard.share.errors import LeakError, ShareError
    from distillguard.share.inputs import load_lab
    from distillguard.share.keys import load_keyring
    from distillguard.share.leakguard import LeakGuard
    from distillguard.share.match import matched_indicators
    from distillguard.share.policy import Policy
    from distillguard.share.sightings import build_sightings, send_sightings
    from distillguard.share.sightings import false_positive as fp_obj
    from distillguard.share.store import IndicatorStore

    try:
        st = IndicatorStore(store)
        lab = load_lab(input_dir)
        if false_positive:
            objs = [fp_obj(i, identity=identity or None, anonymous=anonymous)
                    for i in false_positive]
        else:
            ring = load_keyring(keyring)
            hits = matched_indicators(lab.events, lab.accounts, st, keyring=ring,
                                      identity=identity or None)
            objs = build_sightings(hits, identity=identity or None, anonymous=anonymous)
        guard = LeakGuard.from_frames(lab.accounts, lab.events, Policy())
        guard.enforce(orjson.dumps({"objects": objs}))
        typer.echo(f"{len(objs)} sighting(s)")
        if dry_run:
            typer.echo(orjson.dumps(objs, option=orjson.OPT_INDENT_2).decode())
            return
        send_sightings(_link(hub, user, password, token), objs, st, guard)
        typer.echo("sent")
    except LeakError as exc:
        _fail(exc, 3)
    except ShareError as exc:
        _fail(exc)


@share_app.command()
def story(
    world: Path = typer.Option(..., "--world", help="A `simulate --labs 3` world directory."),
    out: Path = typer.Option(Path("distillguard-story"), "--out", help="Output directory."),
    days: str = typer.Option("3,7,14,21,28", "--days",
                             help="Checkpoints, in days since the world's first event."),
    fine_hours: float = typer.Option(0.0, "--fine-hours", hidden=True,
                                     help="Ignored (matching between scans is event-driven "
                                     "now); kept so older command lines still run."),
) -> None:
    """Three labs + a local hub with live followers on its push channel: time-to-detect,
    publication-to-flag delay and recall with vs without sharing, the live path's
    latency, and a leak-guard scan of every byte that crossed the wire."""
    from distillguard.share.story import run_story

    del fine_hours
    res = run_story(world, out, days=[float(d) for d in days.split(",") if d.strip()])
    typer.echo(res.markdown())
    typer.echo(f"-> {out / 'story.md'}")
    if res.wire_findings:
        raise typer.Exit(3)
