"""`mapapp channels`, `mapapp intake`, `mapapp gazetteer` and `mapapp connector` (registered by mapapp.cli)."""

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from mapapp.intake.models import CHANNEL_KINDS

channels_app = typer.Typer(help="Channels that post messages in (twitter, kakao, call_centre…).", no_args_is_help=True)
intake_app = typer.Typer(help="Channel messages: import, and triage decisions exported.", no_args_is_help=True)
gazetteer_app = typer.Typer(help="Landmarks, stations and roads that messages name.", no_args_is_help=True)
DEMO_GAZETTEER = Path(__file__).parent / "data" / "seoul_gazetteer.csv"
IMPORT_CHUNK = 200  # messages per transaction while importing a file


def register(app: typer.Typer) -> None:
    """Add the intake commands to the `mapapp` command."""
    app.add_typer(channels_app, name="channels")
    app.add_typer(intake_app, name="intake")
    app.add_typer(gazetteer_app, name="gazetteer")
    app.command("connector")(connector)


@channels_app.command("create")
def channels_create(
    name: Annotated[str, typer.Argument(help="The channel, e.g. twitter, kakao, call_centre")],
    kind: Annotated[str, typer.Option(help=f"Filed as this report channel: {', '.join(CHANNEL_KINDS)}")] = "social",
    public_handles: Annotated[
        bool, typer.Option(help="Its posts are public anyway: show the author's handle with the report")
    ] = False,
    reply_url: Annotated[str | None, typer.Option(help="Where the connector takes signed replies")] = None,
) -> None:
    """Create a channel; its API key is printed once (only its hash is kept), with its reply secret."""
    from mapapp.cli import _command, console
    from mapapp.core.db import transaction
    from mapapp.intake import service
    from mapapp.notify.replies import channel_reply_secret

    with _command(), transaction() as session:
        key = service.create_channel(session, name=name, kind=kind, public_handles=public_handles, reply_url=reply_url)
    console.print(f"API key for channel {name}: {key}", highlight=False)
    console.print(f"reply secret (checks X-Mapapp-Signature of replies): {channel_reply_secret(name)}", highlight=False)


@channels_app.command("list")
def channels_list() -> None:
    """The channels, their kind, whether handles are public, and their reply URL."""
    from sqlalchemy import select

    from mapapp.cli import _command, console
    from mapapp.core.db import transaction
    from mapapp.intake.models import Channel

    with _command(), transaction() as session:
        for c in session.scalars(select(Channel).order_by(Channel.name)):
            state = "revoked" if c.revoked_at else "active"
            handles = "public handles" if c.public_handles else "private handles"
            console.print(f"{c.name}\t{c.kind}\t{state}\t{handles}\t{c.reply_url or '-'}", highlight=False)


@gazetteer_app.command("import")
def gazetteer_import(
    file: Annotated[
        Path, typer.Argument(help="CSV: name, aliases (|-separated), geometry WKT or lon/lat")
    ] = DEMO_GAZETTEER,
) -> None:
    """Replace the gazetteer with a CSV file's places (default: the demo's Seoul landmarks)."""
    from mapapp.cli import _command, console
    from mapapp.core.db import transaction
    from mapapp.intake import gazetteer

    with _command():
        rows = gazetteer.read_csv(file)
        with transaction() as session:
            count = gazetteer.import_gazetteer(session, rows)
    console.print(f"gazetteer: {count} places from {file}", highlight=False)


@intake_app.command("import")
def intake_import(
    file: Annotated[
        Path, typer.Argument(help="JSON lines, one message per line (the POST /api/intake/messages shape)")
    ],
    channel: Annotated[str, typer.Option(help="The channel the messages came from")],
) -> None:
    """Stream a JSON-lines file of one channel's messages in, a chunk per transaction, with a progress bar.

    A malformed line stops the import at that line (its chunk is not stored); running it again skips
    what is in already (messages are kept once per channel and external id).
    """
    from collections import Counter

    from mapapp.cli import _command, _progress, console
    from mapapp.core.db import transaction
    from mapapp.core.errors import InvalidInput
    from mapapp.intake import service

    total = sum(1 for line in file.open(encoding="utf-8") if line.strip())
    outcomes: Counter[str] = Counter()
    started = time.perf_counter()
    with _command(), _progress(f"importing {file.name}") as advance, file.open(encoding="utf-8") as lines:
        done = 0
        chunk: list[tuple[int, object]] = []

        def flush() -> None:
            nonlocal done
            with transaction() as session:
                found = service.get_channel_or_raise(session, name=channel)
                service.take_batch_turn(session)
                messages = []
                for number, raw in chunk:
                    try:
                        messages.append(service.read_message(raw, number, channel=channel))
                    except InvalidInput as exc:
                        exc.message = f"line {number}: {exc.message.split(': ', 1)[-1]}"
                        raise
                for accepted in service.ingest_messages(session, channel=found, messages=messages):
                    outcomes["replayed" if accepted.replayed else accepted.outcome] += 1
            done += len(chunk)
            chunk.clear()
            advance(done, total)

        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except ValueError:
                raise service.InvalidMessage(f"line {number}: not valid JSON", index=number) from None
            chunk.append((number, raw))
            if len(chunk) >= IMPORT_CHUNK:
                flush()
        if chunk:
            flush()
    seconds = time.perf_counter() - started
    summary = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
    console.print(f"imported {done} messages in {seconds:.1f} s: {summary}", highlight=False)


@intake_app.command("export-decisions")
def intake_export_decisions(
    file: Annotated[
        Path, typer.Argument(help="Where to write the JSON lines (put them in MAPAPP_INTAKE_EXAMPLES_DIR)")
    ],
) -> None:
    """Write each triage decision as a labelled example (text, category or null, district) for the classifier."""
    from mapapp.cli import _command, console
    from mapapp.core.db import transaction
    from mapapp.intake import staff

    with _command(), transaction() as session, file.open("w", encoding="utf-8") as out:
        count = 0
        for line in staff.export_decisions(session):
            out.write(line + "\n")
            count += 1
    console.print(f"{count} decisions written to {file}", highlight=False)


@intake_app.command("evaluate")
def intake_evaluate(
    file: Annotated[
        Path | None,
        typer.Argument(help="Labelled JSON lines (text, category or null, district); default: the shipped set"),
    ] = None,
    split: Annotated[str | None, typer.Option(help="Only rows of this split ('test', 'train')")] = "test",
    threshold: Annotated[float | None, typer.Option(min=0, max=1, help="Instead of MAPAPP_INTAKE_THRESHOLD")] = None,
) -> None:
    """Precision and recall of the classifier and locator on labelled messages, with the current keywords."""
    from mapapp.cli import _command, console
    from mapapp.core.db import transaction
    from mapapp.intake import classify, evaluate

    with _command(), transaction() as session:
        rows = classify.read_examples(file) if file else evaluate.labelled()
        rows = [r for r in rows if split is None or r.get("split", split) == split]
        figures = evaluate.evaluate(session, rows, threshold=threshold)
    for name, value in figures.as_dict().items():
        console.print(f"{name}\t{value}", highlight=False)


def connector(
    source: Annotated[str, typer.Argument(help="A JSON-lines file, or a local http(s) endpoint answering JSON lines")],
    key: Annotated[str, typer.Option(envvar="MAPAPP_CONNECTOR_KEY", help="The channel's API key")],
    url: Annotated[str, typer.Option(help="mapapp's base URL")] = "http://127.0.0.1:8000",
    secret: Annotated[
        str | None,
        typer.Option(envvar="MAPAPP_CONNECTOR_SECRET", help="The channel's reply secret: listen for replies"),
    ] = None,
    listen: Annotated[str, typer.Option(help="host:port to take replies on")] = "127.0.0.1:8700",
    replies: Annotated[Path | None, typer.Option(help="Append each reply here as a JSON line")] = None,
    batch: Annotated[int, typer.Option(min=1, max=5000)] = 200,
) -> None:
    """The reference connector: post messages in, then (with --secret) take the signed replies until Ctrl-C."""
    from mapapp.cli import console
    from mapapp.intake import connector as reference

    results = reference.post_messages(url, key, reference.read_lines(source), batch=batch)
    for r in results:
        report = r["report"]["id"] if r["report"] else "-"
        console.print(f"{r['external_id']}\t{r['outcome']}\t{report}\t{r['category'] or '-'}\t{r['precision']}")
    if secret is None:
        return
    host, _, port = listen.rpartition(":")
    out = replies.open("a", encoding="utf-8") if replies else None
    receiver = reference.ReplyReceiver(secret, host or "127.0.0.1", int(port), out).start()
    console.print(f"taking replies on {receiver.url} (set it as the channel's --reply-url); Ctrl-C stops")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
        if out is not None:
            out.close()
