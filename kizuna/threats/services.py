"""Every write to the STIX store, as ``do_*`` functions: import objects (forms, MISP), import a bundle (streamed), and
run an import as a job of the queue (``kizuna worker``) with progress kept on an ``ImportJob``. Audit entries are
written per batch by the importer (one per stored batch, naming the objects written).

The label rules for imports are those of the spine: an object carries a Kizuna label (from its marking, or the
importer's default label for the source), the importer may not store an object under a label it could not see, and
only the originating organisation may issue new versions of a STIX id.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from django_tasks import task

from kizuna.core.access import check_label, label_display, may_subject_see
from kizuna.core.errors import ServiceError
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.jobs import queue
from kizuna.labels import TLP, Label, LabelError
from kizuna.threats import hooks, sniff
from kizuna.threats.importer import Importer, ImportSummary, ObjectError, max_bundle_bytes, run_objects, run_stream
from kizuna.threats.models import ImportJob, ImportStatus

__all__ = [
    "ImportSummary",
    "ObjectError",
    "do_import_bundle",
    "do_import_objects",
    "join_import_job",
    "run_import_job",
    "start_import_job",
]

logger = logging.getLogger("kizuna.threats.import")


def _importer(
    user: User, default_label: Label, source: str, progress: Callable[[ImportSummary], None] | None = None
) -> Importer:
    """Check the importer and the default label, and set up an import for them."""
    if not isinstance(user, User) or not user.is_active:
        raise ServiceError(gettext("an active user is required to import"))
    if not user.can_contribute:
        raise ServiceError(gettext("your role does not allow writing; ask a coordinator"))
    if user.organisation is None:
        raise ServiceError(gettext("your account has no organisation; ask an administrator"))
    code = user.organisation.code
    label = default_label
    if label.tlp is TLP.RED:
        label = label.with_recipient(f"org:{code}")
    try:
        check_label(label)
    except LabelError as exc:
        raise ServiceError(str(exc), "default_label") from None
    subject = subject_for(user)
    if not may_subject_see(subject, label):
        raise ServiceError(gettext("you could not see an item with the default label yourself; choose a label that "
                                   "includes you"), "default_label")
    return Importer(
        actor=user.username, subject=subject, originator_id=user.organisation.pk, originator_code=code,
        default_label=label, default_label_display=label_display(label), source=source, progress=progress,
    )


def do_import_objects(user: User, objects: Iterable[dict[str, Any]], default_label: Label,
                      source: str = "") -> ImportSummary:
    """Validate and store STIX objects given as dicts (forms, MISP import). Each rejected object is reported with its
    position in ``objects``; the valid ones are stored (atomically per batch of 5,000)."""
    importer = _importer(user, default_label, source)
    return _notify_watchers(run_objects(importer, objects))


def do_import_bundle(
    user: User,
    stream: BinaryIO,
    source: str,
    default_label: Label,
    job: ImportJob | None = None,
    progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import a STIX 2.1 bundle read from a binary stream, without holding it in memory. When ``job`` is given its
    progress and counts are updated as the import runs (at most every half second) and at the end."""
    total = job.total_bytes if job is not None else _size_of(stream)

    def report(summary: ImportSummary) -> None:
        if job is not None:
            _save_progress(job, summary)
        if progress is not None:
            progress(summary)
        if job is not None:  # run by a worker: stop here when it is stopping (what is not committed rolls back)
            queue.checkpoint()

    importer = _importer(user, default_label, source, report)
    return _notify_watchers(run_stream(importer, stream, total))


def _notify_watchers(summary: ImportSummary) -> ImportSummary:
    """Watch filters hear of the objects this import stored, once they are committed (``accepted_ids`` holds the
    first 10,000; a per-batch call in the importer would cover more)."""
    ids = list(summary.accepted_ids)
    if ids:
        for handler in hooks.on_objects_stored:  # kizuna.threats.watch registers its notifier
            transaction.on_commit(functools.partial(handler, ids))
    return summary


def _size_of(stream: BinaryIO) -> int:
    try:
        import os

        return os.fstat(stream.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        size = getattr(stream, "size", 0)
        return int(size) if isinstance(size, int) else 0


def _save_progress(job: ImportJob, summary: ImportSummary) -> None:
    job.read_bytes = summary.read_bytes
    job.accepted, job.unchanged, job.rejected = summary.accepted, summary.unchanged, summary.rejected
    job.rejected_by_reason = dict(summary.rejected_by_reason)
    job.errors = summary.as_errors_json()
    ImportJob.objects.filter(pk=job.pk).update(
        read_bytes=job.read_bytes, accepted=job.accepted, unchanged=job.unchanged, rejected=job.rejected,
        rejected_by_reason=job.rejected_by_reason, errors=job.errors,
    )


def start_import_job(user: User, path: Path, source: str, default_label: Label, fmt: str = "stix",
                     remove_when_done: bool = False) -> ImportJob:
    """Record an ImportJob and enqueue its import for ``kizuna worker``; the caller returns at once and polls the job
    (``ImportJob.status``, ``read_bytes`` of ``total_bytes``, counts). The user and label are checked here first, so
    a refusal is immediate rather than a failed job. With ``remove_when_done`` the file (an upload spooled under the
    data directory) is removed when the job ends, done or failed — also when it ends after a crash and a resume."""
    if fmt not in ("stix", "misp"):
        raise ServiceError(gettext("unknown import format %(fmt)s; use stix or misp") % {"fmt": repr(fmt)}, "fmt")
    _importer(user, default_label, source)
    path = Path(path)
    try:
        total = path.stat().st_size
    except OSError:
        raise ServiceError(gettext("the file to import cannot be read"), "file") from None
    limit = max_bundle_bytes()
    if total > limit:  # refused at once, not as a failed job (docs/security.md, "Input limits")
        raise ServiceError(gettext("the file is larger than this node accepts (%(limit)s bytes)")
                           % {"limit": f"{limit:,}"}, "file")
    with transaction.atomic():
        job = ImportJob.objects.create(
            user=user, source=source[:300], fmt=fmt, status=ImportStatus.QUEUED, default_label_key=default_label.key(),
            total_bytes=total,
        )
        job.task_id = queue.enqueue(import_file, job.pk, str(path.resolve()), remove_when_done)
        ImportJob.objects.filter(pk=job.pk).update(task_id=job.task_id)
    return job


def join_import_job(job_id: int, timeout: float | None = None) -> bool:
    """Wait for a background import (tests, the command line); when no worker has taken it yet it runs here. True
    when the job has ended."""
    task_id = ImportJob.objects.filter(pk=job_id).values_list("task_id", flat=True).first()
    return not task_id or queue.wait(task_id, timeout)


def run_import_job(job_id: int, path: Path, remove_when_done: bool) -> str:
    """The job's body (run by a worker): import the file into the store, keeping the ImportJob's progress; its final
    status. A run that resumes after its worker stopped or died reads the file again from the start: re-imports are
    idempotent (what the first run stored is met as unchanged, nothing is stored twice)."""
    job = ImportJob.objects.filter(pk=job_id).select_related("user__organisation").first()
    if job is None or job.status in (ImportStatus.DONE, ImportStatus.FAILED):  # ended already (a run lost its lease)
        if remove_when_done:
            path.unlink(missing_ok=True)
        return job.status if job is not None else "missing"
    ImportJob.objects.filter(pk=job_id).update(status=ImportStatus.RUNNING, attempts=F("attempts") + 1)
    status, message = ImportStatus.FAILED, ""
    try:
        default_label = Label.from_api_key(job.default_label_key)
        if job.fmt == "misp":
            summary = _import_misp(job.user, path, job.source, default_label)
        else:
            try:
                stream = path.open("rb")
            except OSError:
                raise ServiceError(gettext("the file to import cannot be read")) from None
            with stream:
                summary = do_import_bundle(job.user, stream, job.source, default_label, job=job)
        _save_progress(job, summary)
        status = (ImportStatus.FAILED if summary.stream_error and not summary.accepted + summary.unchanged
                  else ImportStatus.DONE)
        message = summary.stream_error
        ImportJob.objects.filter(pk=job_id).update(read_bytes=summary.read_bytes or job.total_bytes)
    except (ServiceError, LabelError) as exc:
        message = str(exc)
    except queue.Interrupted:  # the worker is stopping: the job goes back to the queue with its file, to be resumed
        with contextlib.suppress(DatabaseError):
            ImportJob.objects.filter(pk=job_id).update(
                status=ImportStatus.QUEUED, message=gettext("paused: its worker stopped; it resumes with the next worker"))
        raise
    except Exception:
        logger.exception("import job %s failed", job_id)
        message = gettext("the import failed unexpectedly; see the server log")
    ImportJob.objects.filter(pk=job_id).update(status=status, message=message, finished_at=timezone.now())
    if remove_when_done:
        path.unlink(missing_ok=True)
    return str(status)


@task(queue_name="imports")
def import_file(job_id: int, path: str, remove_when_done: bool) -> str:
    """The queue's import job: ``path`` into the store for ImportJob ``job_id``; its final status."""
    return run_import_job(job_id, Path(path), remove_when_done)


def _described(head: bytes) -> str:
    """What a file that is not a JSON object is, for the message that refuses it."""
    body = head.lstrip(sniff.UTF8_BOM).lstrip()
    if body[:1] == b"[":
        return gettext("a JSON array")
    if body[:1] in (b'"', b"-") or body[:1].isdigit() or body.startswith((b"true", b"false", b"null")):
        return gettext("a single JSON value")
    return sniff.what_it_is(head)


def _import_misp(user: User, path: Path, source: str, default_label: Label) -> ImportSummary:
    from kizuna.threats import misp  # owned by the MISP work; imported late so STIX import never depends on it

    try:
        with path.open("rb") as stream:
            head = stream.read(sniff.HEAD_BYTES)
            stream.seek(0)
            if not head.lstrip(sniff.UTF8_BOM).lstrip()[:1] == b"{":  # say what the file is, not the parser's error
                raise ServiceError(gettext("the file is not a MISP event (it is %(what)s): expected a MISP event "
                                           "exported as JSON, {\"Event\": {...}}")
                                   % {"what": _described(head)})
            data = json.loads(stream.read().decode("utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ServiceError(gettext("the MISP file is not valid JSON: %(detail)s") % {"detail": str(exc)[:200]}) from None
    except RecursionError:  # Python's json gives up about 1,000 levels down (at once: no cost to speak of)
        raise ServiceError(gettext("the MISP file is nested too deep to be read")) from None
    objects = misp.misp_event_to_stix_objects(data)
    return do_import_objects(user, objects, default_label, source)
