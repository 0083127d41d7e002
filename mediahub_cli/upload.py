"""One run of `upload`: find the files, leave out those already in the library, send the others in parallel
(a big file's parts in parallel too), and say what became of each."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field

from tqdm import tqdm

from mediahub_cli import api, naming, transfer
from mediahub_cli.api import Api, ApiError
from mediahub_cli.files import LocalFile, Unsendable, discover, inspect, part_checksum, sha256_hex, shown
from mediahub_cli.state import State

UPLOADED, PRESENT, FAILED = "uploaded", "present", "failed"
IN_LIBRARY = ("pending", "uploaded", "ready")  # an earlier run's item still on its way or there


class Stopped(BaseException):
    """The run is being interrupted: work not yet started is dropped (BaseException: no `except Exception`
    reports it as a failed file)."""


@dataclass(frozen=True)
class Options:
    name: str = "{stem}"
    caption: str = ""
    jobs: int = 4  # files at once
    part_jobs: int = 4  # parts of one big file at once
    backoff: float = 1.0
    progress: bool | None = None  # None: bars on a terminal only


@dataclass(frozen=True)
class Outcome:
    shown: str
    result: str  # UPLOADED, PRESENT or FAILED
    detail: str


@dataclass
class Run:
    api: Api
    state: State
    options: Options
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    bar: tqdm | None = None

    def report(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        tqdm.write(f"{outcome.result:<8}  {outcome.shown}: {outcome.detail}")

    def result_of(self, local: LocalFile) -> str | None:
        return next((o.result for o in self.outcomes if o.shown == local.shown), None)

    def bars(self, desc: str, total: int) -> tqdm:
        disable = None if self.options.progress is None else not self.options.progress
        self.bar = tqdm(desc=desc, total=total, unit="B", unit_scale=True, unit_divisor=1024, disable=disable)
        return self.bar

    @contextmanager
    def file_bar(self, local: LocalFile) -> Iterator[Callable[[int], None]]:
        """A bar for one file under the overall one; yields the function that advances both."""
        disable = self.bar.disable if self.bar is not None else True
        bar = tqdm(
            desc=local.path.name[:30],
            total=local.size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            leave=False,
            disable=disable,
        )

        def advance(n: int) -> None:
            with self.lock:
                bar.update(n)
                if self.bar is not None:
                    self.bar.update(n)

        try:
            yield advance
        finally:
            bar.close()


def run(api_: Api, state: State, paths: list[str], options: Options) -> list[Outcome]:
    """Every file under `paths` into the library, or reported; the outcomes, one per file."""
    run = Run(api_, state, options)
    candidates = gather(paths, run)
    hashed = checksums(candidates, run)
    todo, duplicates = leave_out_known(hashed, run)
    send_all(todo, run)
    for local, original in duplicates:
        went_in = run.result_of(original) in (UPLOADED, PRESENT)
        detail = f"the same file as {original.shown}" + ("" if went_in else ", which did not go in")
        run.report(Outcome(local.shown, PRESENT if went_in else FAILED, detail))
    return run.outcomes


def gather(paths: list[str], run: Run) -> list[LocalFile]:
    candidates = []
    for path, root in discover(paths):
        if isinstance(root, str):  # a path that is not a file or folder, and why
            run.report(Outcome(str(path), FAILED, root))
            continue
        try:
            candidates.append(inspect(path, root))
        except Unsendable as exc:
            run.report(Outcome(shown(path), FAILED, str(exc)))
    return candidates


def checksums(candidates: list[LocalFile], run: Run) -> list[tuple[LocalFile, str]]:
    """Each file's SHA-256, read in parallel (or from the state, for a file unchanged since it was read)."""
    bar = run.bars("checking", sum(local.size for local in candidates))

    def one(local: LocalFile) -> tuple[LocalFile, str]:
        entry = run.state.entry(local)
        if entry and entry.get("sha256"):
            bar.update(local.size)
            return local, entry["sha256"]
        digest = sha256_hex(local.path, bar.update)
        run.state.remember(local, sha256=digest, save=False)
        return local, digest

    try:
        with ThreadPoolExecutor(run.options.jobs) as pool:
            hashed = []
            for local, digest in pool.map(lambda local: guarded(one, local, run), candidates):
                if digest is not None:
                    hashed.append((local, digest))
        return hashed
    finally:
        bar.close()
        run.state.save()


def guarded(read: Callable, local: LocalFile, run: Run) -> tuple[LocalFile, str | None]:
    try:
        return read(local)
    except OSError as exc:
        run.report(Outcome(local.shown, FAILED, f"Cannot read it: {exc.strerror or exc}."))
        return local, None


def leave_out_known(hashed: list[tuple[LocalFile, str]], run: Run):
    """(files to send with their checksums, [(a duplicate, the file it duplicates)]): a file already in the
    library (one lookup per 50) or sent by an earlier run is reported, the same content twice is sent once."""
    first: dict[str, LocalFile] = {}
    duplicates = []
    for local, digest in hashed:
        if digest in first:
            duplicates.append((local, first[digest]))
        else:
            first[digest] = local
    found = api.lookup(run.api, list(first))
    todo = []
    for digest, local in first.items():
        if digest in found:
            item = found[digest]
            run.report(Outcome(local.shown, PRESENT, f"already in your library as {item['name']!r} ({item['id']})"))
        elif not earlier_upload(local, run):
            todo.append((local, digest))
    return todo, duplicates


def earlier_upload(local: LocalFile, run: Run) -> bool:
    """True (and reported) if an earlier run completed this file and its item is still there."""
    entry = run.state.entry(local)
    if not (entry and entry.get("done") and entry.get("id")):
        return False
    item = api.get_item(run.api, entry["id"])
    if item is None or item["status"] == "deleting":
        run.state.forget(local, "id", "inParts", "done")  # deleted since: it goes in again
        return False
    if item["status"] in IN_LIBRARY:
        run.report(Outcome(local.shown, PRESENT, f"uploaded by an earlier run ({item['id']}, {item['status']})"))
    else:
        run.report(Outcome(local.shown, FAILED, f"refused after upload ({item['id']}): {item['reason']}"))
    return True


def send_all(todo: list[tuple[LocalFile, str]], run: Run) -> None:
    """The files, `jobs` at a time. Ctrl-C (or any interruption) stops starting new work and lets the parts in
    flight finish; what was sent stays, and the same command continues."""
    bar = run.bars("uploading", sum(local.size for local, _ in todo))
    pool = ThreadPoolExecutor(run.options.jobs)
    try:
        futures = [pool.submit(send_one, local, run) for local, _ in todo]
        for future in as_completed(futures):
            run.report(future.result())
    except BaseException:
        run.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
        bar.close()


def send_one(local: LocalFile, run: Run) -> Outcome:
    if run.stop.is_set():
        raise Stopped
    try:
        media_id = resume(local, run) or start(local, run)
        return finish(local, media_id, run)
    except ApiError as exc:
        return Outcome(local.shown, FAILED, exc.message)
    except OSError as exc:
        return Outcome(local.shown, FAILED, f"Cannot read it: {exc.strerror or exc}.")


def start(local: LocalFile, run: Run) -> str:
    """Create the item, then send the bytes the way the server chose: one presigned POST, or parts."""
    ticket = api.create(
        run.api,
        fileName=local.path.name,
        contentType=local.content_type,
        size=local.size,
        name=naming.render(run.options.name, local),
        caption=naming.render(run.options.caption, local),
    )
    run.state.remember(local, id=ticket["id"], inParts="multipart" in ticket, done=False)
    with run.file_bar(local) as advance:
        if "upload" in ticket:
            transfer.post_file(ticket["upload"], local.path, local.size, advance, run.options.backoff)
        else:
            count = ticket["multipart"]["partCount"]
            send_parts(local, ticket["id"], ticket["multipart"]["partSize"], list(range(1, count + 1)), advance, run)
    return ticket["id"]


def resume(local: LocalFile, run: Run) -> str | None:
    """Continue an earlier run's upload of this file: the parts S3 does not hold yet; None to start afresh."""
    entry = run.state.entry(local)
    if not (entry and entry.get("id")) or entry.get("done"):
        return None
    media_id = entry["id"]
    if not entry.get("inParts"):  # a presigned POST lasts a minute: send the (small) file again, to a new item
        api.delete_item(run.api, media_id)
        run.state.forget(local, "id", "inParts", "done")
        return None
    try:
        listing = api.list_parts(run.api, media_id)
    except ApiError as exc:
        if exc.status == 404:  # cancelled, or abandoned and swept
            run.state.forget(local, "id", "inParts", "done")
            return None
        if exc.status == 409:  # the upload is over (a complete whose answer was lost): complete says how it ended
            return media_id
        raise
    stored = {part["partNumber"] for part in listing["parts"]}
    missing = [n for n in range(1, listing["partCount"] + 1) if n not in stored]
    with run.file_bar(local) as advance:
        advance(sum(part["size"] for part in listing["parts"]))
        send_parts(local, media_id, listing["partSize"], missing, advance, run)
    return media_id


def send_parts(local: LocalFile, media_id: str, part_size: int, numbers: list[int], advance, run: Run) -> None:
    """The parts `numbers`, `part_jobs` at a time: each one's SHA-256 read, its URL signed, its bytes PUT."""

    def one(number: int) -> None:
        if run.stop.is_set():
            raise Stopped
        offset = (number - 1) * part_size
        length = min(part_size, local.size - offset)
        checksum = part_checksum(local.path, offset, length)
        [signed] = api.sign_parts(run.api, media_id, [number], [checksum])
        transfer.put_part(signed, local.path, offset, length, advance, run.options.backoff)

    with ThreadPoolExecutor(run.options.part_jobs) as pool:
        futures = [pool.submit(one, number) for number in numbers]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def finish(local: LocalFile, media_id: str, run: Run) -> Outcome:
    response = api.complete(run.api, media_id)
    if response.status_code == 422:  # refused at arrival: that item is over; a new run would try anew
        run.state.forget(local, "id", "inParts", "done")
        return Outcome(local.shown, FAILED, api.message_of(response))
    if response.status_code == 409:  # parts missing: nothing is lost, the same command sends them
        return Outcome(local.shown, FAILED, f"{api.message_of(response)} Run the same command again to continue.")
    item = response.json()
    run.state.remember(local, id=media_id, done=True)
    return Outcome(local.shown, UPLOADED, f"as {item['name']!r} ({media_id}, {item['status']})")
