"""`python -m mediahub_cli upload PATH...`: the command line, parsed and handed to mediahub_cli.upload."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from mediahub_cli import api, naming, state, upload

OK, SOME_FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130

TEMPLATE_HELP = "Fields: " + "; ".join(f"{{{name}}} {meaning}" for name, meaning in naming.FIELDS.items()) + "."


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mediahub", description="Bulk uploads into a mediahub library.")
    commands = top.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "upload",
        help="upload files and folders (recursively)",
        description="Upload files and folders (recursively; hidden files inside folders are left out). Files "
        "already in your library (same SHA-256) are skipped; an interrupted run continues when run again. "
        "Exit status: 0 everything is in the library, 1 some files were not uploaded, 2 usage error.",
        epilog=TEMPLATE_HELP,
    )
    up.add_argument("paths", nargs="+", metavar="PATH", help="files and folders to upload")
    up.add_argument(
        "--url",
        default=os.environ.get("MEDIAHUB_URL"),
        help="the site, e.g. https://media.example.org (env MEDIAHUB_URL)",
    )
    up.add_argument(
        "--token",
        default=os.environ.get("MEDIAHUB_TOKEN"),
        help="a read-write API token from your profile page (env MEDIAHUB_TOKEN)",
    )
    up.add_argument("--name", default="{stem}", help='template of each item\'s name (default "{stem}")')
    up.add_argument("--caption", default="", help="template of each item's caption (default empty)")
    up.add_argument("--jobs", type=positive, default=4, help="files uploaded at once (default 4)")
    up.add_argument("--parts", type=positive, default=4, help="parts of one big file uploaded at once (default 4)")
    up.add_argument(
        "--state", type=Path, help="the file remembering what was sent (default: one per site in ~/.cache/mediahub/)"
    )
    up.add_argument("--no-progress", action="store_true", help="no progress bars (they show on a terminal only anyway)")
    return top


def positive(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number from 1 to 64")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        site, options = settings(args)
        client = api.Api(site, args.token)
        api.probe(client)
        outcomes = upload.run(client, state.State(args.state or state.default_path(site), site), args.paths, options)
    except UsageError as exc:
        print(f"mediahub: {exc}", file=sys.stderr)
        return USAGE
    except api.Unusable as exc:
        print(f"mediahub: {exc}", file=sys.stderr)
        return USAGE
    except (KeyboardInterrupt, upload.Stopped):
        print("\nInterrupted: what was sent is kept. Run the same command again to continue.", file=sys.stderr)
        return INTERRUPTED
    return summary(outcomes)


class UsageError(Exception):
    pass


def settings(args: argparse.Namespace) -> tuple[str, upload.Options]:
    """The site's origin and the run's options, or UsageError saying what to fix."""
    if not args.url:
        raise UsageError("give the site with --url (or MEDIAHUB_URL), e.g. --url https://media.example.org")
    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{args.url!r} is not a site address: give http(s)://host[:port][/path]")
    if not args.token:
        raise UsageError("give an API token with --token (or MEDIAHUB_TOKEN): make one on your profile page")
    for template in (args.name, args.caption):
        try:
            naming.check(template)
        except ValueError as exc:
            raise UsageError(f"bad template {exc}") from None
    options = upload.Options(
        name=args.name,
        caption=args.caption,
        jobs=args.jobs,
        part_jobs=args.parts,
        progress=False if args.no_progress else None,
    )
    return args.url.rstrip("/"), options  # a path is kept: a Zappa stage is served under /<stage>


def summary(outcomes: list[upload.Outcome]) -> int:
    counts = Counter(outcome.result for outcome in outcomes)
    print(
        f"{counts[upload.UPLOADED]} uploaded, {counts[upload.PRESENT]} already in the library, "
        f"{counts[upload.FAILED]} not uploaded (of {len(outcomes)} files)."
    )
    if counts[upload.FAILED]:
        print("Files not uploaded are listed above with the reason; fix them and run the same command again.")
        return SOME_FAILED
    return OK


def main_exit() -> None:
    """The `mediahub` command that `pip install` makes."""
    sys.exit(main())
