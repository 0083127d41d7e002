"""The shape of a record's written state machine: its transitions as data a reader checks against the code.

Each record type's own module (uploads/lifecycle.py for media items, profiles/lifecycle.py for avatars, ...)
declares a `Machine`: every transition, who may make it, and the condition its DynamoDB write carries. The
functions that perform the writes name their transition, `docs/state-machines.md` is rendered from the same
tables (`python manage.py statemachines` rewrites it), and tests drive every row, including the losing races.
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNCHANGED = "(unchanged)"  # a transition that writes to the record but leaves its state (an edit, a counter)
GONE = "(deleted)"  # a transition that deletes the record
REMEMBERED = "(the state it left)"  # a transition back to a state the record wrote down (a restore from the trash)


@dataclass(frozen=True)
class Transition:
    name: str
    source: tuple[str, ...]  # the states the write may start from; () means "no record yet"
    target: str  # a state, UNCHANGED or GONE
    actors: tuple[str, ...]  # who may make it: complete, event, task, sweep, owner, staff, ...
    condition: str  # the write's ConditionExpression, in words a reader checks against the code
    loser: str = ""  # what the caller whose condition failed does


@dataclass(frozen=True)
class Machine:
    record: str
    states: dict[str, str]  # state -> what it means
    transitions: tuple[Transition, ...]
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [t.name for t in self.transitions]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.record}: transition names must be unique")
        for t in self.transitions:
            unknown = {*t.source, t.target} - set(self.states) - {UNCHANGED, GONE, REMEMBERED}
            if unknown:
                raise ValueError(f"{self.record}.{t.name}: unknown states {sorted(unknown)}")

    def get(self, name: str) -> Transition:
        return next(t for t in self.transitions if t.name == name)

    def allows(self, name: str, state: str | None) -> bool:
        transition = self.get(name)
        return (state is None and not transition.source) or state in transition.source

    def markdown(self) -> str:
        lines = [f"## {self.record}", "", "| state | meaning |", "| --- | --- |"]
        lines += [f"| `{state}` | {meaning} |" for state, meaning in self.states.items()]
        lines += ["", "| transition | from | to | who | condition on the write | the loser |", *["| --- " * 6 + "|"]]
        for t in self.transitions:
            cells = [t.name, _states(t.source) or "(none)", _states((t.target,)), ", ".join(t.actors), t.condition]
            lines.append("| " + " | ".join([*cells, t.loser or "-"]) + " |")
        lines += ["", *[f"- {note}" for note in self.notes]] if self.notes else []
        return "\n".join(lines) + "\n"


# The modules that declare `MACHINES`, in the order the document shows them.
MODULES = ("uploads.lifecycle", "profiles.lifecycle", "albums.lifecycle", "exports.lifecycle")
DOCUMENT = "docs/state-machines.md"


def machines() -> list[Machine]:
    from importlib import import_module

    return [machine for module in MODULES for machine in import_module(module).MACHINES]


def document() -> str:
    """docs/state-machines.md: every machine's tables."""
    intro = (
        "# State machines\n\n"
        "Every record's life as its code declares it (rendered from the `MACHINES` tables by "
        "`python manage.py statemachines`; a test fails when this file and the code differ). Every write that "
        "moves a record carries the condition in its row, so of two racing callers exactly one wins and the "
        "other does what the last column says.\n\n"
    )
    return intro + "\n".join(machine.markdown() for machine in machines())


def _states(states: tuple[str, ...]) -> str:
    return ", ".join(s if s in (UNCHANGED, GONE, REMEMBERED) else f"`{s}`" for s in states)
