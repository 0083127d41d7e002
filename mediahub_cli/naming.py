"""The --name and --caption templates: "{stem}", "Holiday: {parent}", "{path} ({date})"."""

from __future__ import annotations

import string
from datetime import datetime

from mediahub_cli.files import LocalFile

FIELDS = {
    "name": "the file name, e.g. IMG_0042.jpg",
    "stem": "the file name without its extension, e.g. IMG_0042",
    "ext": "the extension without the dot, e.g. jpg",
    "parent": "the name of the folder the file is in, e.g. Rome",
    "path": "the path from the folder given on the command line, e.g. 2024/Rome/IMG_0042.jpg",
    "date": "the file's modification date, e.g. 2024-05-01",
}


def check(template: str) -> None:
    """ValueError naming the problem, for a template with an unknown field or a stray brace."""
    try:
        names = [name for _, name, spec, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"{template!r}: {exc} (write {{{{ or }}}} for a brace)") from None
    unknown = [name for name in names if name not in FIELDS]
    if unknown:
        raise ValueError(f"{template!r}: no field {{{unknown[0]}}}; the fields are {', '.join(FIELDS)}.")


def render(template: str, local: LocalFile) -> str:
    return template.format_map(fields(local))


def fields(local: LocalFile) -> dict[str, str]:
    path = local.path
    relative = path.relative_to(local.root) if local.root else path.name
    return {
        "name": path.name,
        "stem": path.stem,
        "ext": path.suffix.removeprefix("."),
        "parent": path.parent.name,
        "path": str(relative).replace("\\", "/"),
        "date": datetime.fromtimestamp(local.mtime_ns / 1e9).date().isoformat(),
    }
