"""The submissions of a class, as staff download them: Gradescope's "Download Submissions" export
(its zip, or unpacked: submission_metadata.yml beside a folder per submission) or a plain folder
of NAME.zip, one per student. Read, never run: what regrade.py grades, who submitted what, the
rows nobody can grade and why, and notes on how the export was read.
"""
import dataclasses
import datetime
import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile

import yaml

from hw2_data import atomic_write_text

METADATA = "submission_metadata.yml"
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")   # an id becomes a file name in DIR
EXPORT_MAX_BYTES = 64 * 2 ** 30                                  # unpacking an export zip stops there
# Gradescope writes e.g. "2020-03-20 21:56:47.123456000 -0400": nanoseconds, no colon in the offset
TIMESTAMP = re.compile(r"(?P<date>\d{4}-\d\d-\d\d)[ T](?P<time>\d\d:\d\d:\d\d)(?P<fraction>\.\d+)?"
                       r"\s*(?:Z|UTC|(?P<hours>[+-]\d\d):?(?P<minutes>\d\d))?")


class ClassError(Exception):
    """The class cannot be read or graded at all; the message names the problem and the fix."""


@dataclasses.dataclass(frozen=True)
class Submitter:
    name: str
    sid: str
    email: str


@dataclasses.dataclass
class Submission:
    """One upload to grade: `upload` a folder of the uploaded files or one zip (grade.py reads both)."""
    id: str
    upload: str
    submitters: list
    created_at: str = ""
    sha256: str = ""


@dataclasses.dataclass
class Class:
    """The class as read: what to grade, the rows nobody can grade (Submitter, submission id, reason),
    and notes for the staff (what was read in a way they should know)."""
    submissions: list
    ungraded: list
    notes: list


def read_class(export, work):
    """The Class of an export zip, an unpacked export or a folder of zips; work: where a zip is unpacked."""
    if not os.path.exists(export):
        raise ClassError(f"no such export: {export}")
    if os.path.isfile(export):
        if not zipfile.is_zipfile(export):
            raise ClassError(f"{export}: not a zip; give Gradescope's export (zip or folder) or a folder of zips")
        export = unpack_export(export, work)
    root = export_root(export, work)
    if os.path.isfile(os.path.join(root, METADATA)):
        return read_gradescope_export(root, work)
    return read_folder(root, work, [f"no {METADATA} in {export}: graded as a folder of submissions, each named by "
                              "its file or folder (submitters unknown: give the export with its metadata "
                              "for names, sids and emails)"] if looks_like_export(root) else [])


def unpack_export(zip_path, work):
    """Unpack Gradescope's export zip under work/ once (a marker holds the zip's sha256); refuses
    members that would land outside, links, and more than EXPORT_MAX_BYTES."""
    digest = file_sha256(zip_path)
    folder = os.path.join(work, "export")
    marker = os.path.join(work, "export.sha256")
    if os.path.isdir(folder) and os.path.isfile(marker) and open(marker).read().strip() == digest:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    partial = tempfile.mkdtemp(prefix="export.part", dir=work)
    total = 0
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for info in archive.infolist():
                parts = info.filename.replace("\\", "/").split("/")
                if info.filename.startswith("/") or ".." in parts or "\\" in info.filename:
                    raise ClassError(f"{zip_path}: member {info.filename!r} would land outside the export; "
                                     "download the export from Gradescope again")
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise ClassError(f"{zip_path}: member {info.filename!r} is a link; an export holds files")
                target = os.path.join(partial, *[part for part in parts if part not in ("", ".")])
                if info.is_dir():   # kept: an empty submission folder is a row of its own
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with archive.open(info) as source, open(target, "wb") as out:
                    while chunk := source.read(2 ** 20):
                        total += len(chunk)
                        if total > EXPORT_MAX_BYTES:
                            raise ClassError(f"{zip_path}: unpacks to more than {EXPORT_MAX_BYTES // 2 ** 30} GiB")
                        out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise ClassError(f"{zip_path}: cannot be unpacked ({error}); download the export again") from None
    except ClassError:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    os.rename(partial, folder)
    atomic_write_text(marker, digest + "\n")
    return folder


def entries_of(folder, work):
    """The names in folder but hidden ones and the regrade's own output folder (it may lie inside)."""
    return sorted(name for name in os.listdir(folder) if not name.startswith(".")
                  and not os.path.samefile(os.path.join(folder, name), work))


def export_root(folder, work):
    """The folder holding the submissions: the export's own top folder when it is the only entry."""
    entries = entries_of(folder, work)
    if len(entries) == 1 and os.path.isdir(os.path.join(folder, entries[0])) and not \
            os.path.isfile(os.path.join(folder, METADATA)):
        inner = os.path.join(folder, entries[0])
        if os.path.isfile(os.path.join(inner, METADATA)) or looks_like_export(inner):
            return inner
    return folder


def looks_like_export(folder):
    return any(name.startswith("submission_") and os.path.isdir(os.path.join(folder, name))
               for name in os.listdir(folder))


def read_folder(folder, work, notes):
    """A folder of NAME.zip (NAME the student) or of NAME/ folders of uploaded files."""
    submissions, ungraded = [], []
    for name in entries_of(folder, work):
        path = os.path.join(folder, name)
        if name == METADATA:
            continue
        student = name[:-len(".zip")] if name.lower().endswith(".zip") and os.path.isfile(path) else name
        if not (os.path.isdir(path) or name.lower().endswith(".zip")) or os.path.islink(path):
            notes.append(f"{name}: neither a zip nor a folder of uploaded files: skipped")
            continue
        who = Submitter(student, "", "")
        if any(submission.id == student for submission in submissions):
            ungraded.append((who, student, f"not graded: {name} has the name of another submission here "
                                            f"({student}); keep one of them"))
            continue
        if not SAFE_ID.match(student):
            ungraded.append((who, student, "not graded: the name must be letters, digits and _.@+- "
                                            "(it names the result files); rename the zip"))
            continue
        if os.path.isdir(path) and not os.listdir(path):
            ungraded.append((who, student, "not graded: the submission folder is empty (nothing uploaded)"))
            continue
        submissions.append(Submission(student, path, [who]))
    if not submissions and not ungraded:
        raise ClassError(f"{folder} holds no submissions: give Gradescope's export or a folder of NAME.zip")
    return Class(submissions, ungraded, notes)


def read_gradescope_export(root, work):
    """The Class of an unpacked Gradescope export (submission_metadata.yml beside a folder per submission)."""
    path = os.path.join(root, METADATA)
    try:
        with open(path, encoding="utf-8") as stream:
            metadata = yaml.safe_load(stream)   # plain data only: a tag that would build an object is refused
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ClassError(f"{path}: not plain YAML ({first_line(error)}); Gradescope's export metadata is a "
                         "mapping of submission folders to their submitters, without tags") from None
    if not isinstance(metadata, dict):
        raise ClassError(f"{path}: expected a mapping of submission folders (submission_123: ...), "
                         f"got {type(metadata).__name__}; download the export from Gradescope again")
    submissions, ungraded, notes = [], [], []
    for key, entry in metadata.items():
        submission_id = str(key)
        submitters, problem = metadata_submitters(entry)
        if problem:
            ungraded.append((Submitter("?", "", ""), submission_id, f"not graded: metadata entry {problem}"))
            continue
        folder = os.path.join(root, submission_id)
        if not SAFE_ID.match(submission_id):
            reason = "not graded: the metadata names an unsafe folder (letters, digits and _.@+- only)"
        elif not os.path.isdir(folder) or os.path.islink(folder):
            reason = f"not graded: the export has no folder {submission_id}/ (download the export again)"
        elif not os.listdir(folder):
            reason = "not graded: the submission folder is empty (nothing uploaded)"
        else:
            reason = ""
        if reason:
            ungraded += [(who, submission_id, reason) for who in submitters]
            continue
        submissions.append(Submission(submission_id, folder, submitters, created_at(entry.get(":created_at"))))
    listed = {str(key) for key in metadata}
    for name in entries_of(root, work):
        if os.path.isdir(os.path.join(root, name)) and name not in listed:
            notes.append(f"{name}/: in the export but not in {METADATA}: not graded")
    return keep_latest(Class(submissions, ungraded, notes))


def metadata_submitters(entry):
    """([Submitter], "") of one metadata entry, or ([], the problem)."""
    if not isinstance(entry, dict) or not isinstance(entry.get(":submitters"), list) or not entry[":submitters"]:
        return [], "without a list of :submitters:"
    submitters = []
    for person in entry[":submitters"]:
        if not isinstance(person, dict) or not person.get(":name") and not person.get(":sid"):
            return [], f"with a submitter that has no :name: or :sid: ({str(person)[:80]})"
        submitters.append(Submitter(*(str(person.get(key) or "").strip() for key in (":name", ":sid", ":email"))))
    return submitters, ""


def created_at(value):
    """An export's :created_at: (YAML may read it as a datetime or leave it text) as sortable UTC ISO text."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str):
        parts = TIMESTAMP.fullmatch(value.strip())
        if not parts:
            return ""
        text = f"{parts['date']}T{parts['time']}{(parts['fraction'] or '')[:7]}" + \
            (f"{parts['hours']}:{parts['minutes']}" if parts["hours"] else "+00:00")
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            return ""
    else:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).isoformat()


def keep_latest(klass):
    """One row per student: a sid (or email) in several submissions keeps the latest :created_at:
    (one without a date counts as the oldest; equal dates keep the larger id).

    A submission left with no submitters is not graded. Each such decision is a note."""
    latest = {}
    for submission in klass.submissions:
        for key in filter(None, (who.sid or who.email for who in submission.submitters)):
            if key not in latest or (submission.created_at, submission.id) > (latest[key].created_at, latest[key].id):
                latest[key] = submission
    kept = []
    for submission in klass.submissions:
        superseded = [who for who in submission.submitters
                      if (who.sid or who.email) and latest[who.sid or who.email] is not submission]
        for who in superseded:
            newer = latest[who.sid or who.email]
            klass.notes.append(f"{who.name} ({who.sid or who.email}) is in {submission.id} "
                               f"({submission.created_at or 'no date'}) and {newer.id} "
                               f"({newer.created_at or 'no date'}): kept the latest, {newer.id}")
        submission.submitters = [who for who in submission.submitters if who not in superseded]
        if submission.submitters:
            kept.append(submission)
        else:
            klass.notes.append(f"{submission.id}: every submitter has a later submission: not graded")
    klass.submissions = kept
    return klass


def first_line(error):
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(2 ** 20):
            digest.update(chunk)
    return digest.hexdigest()


def upload_sha256(upload):
    """The sha256 of an upload: a zip's bytes, or a folder's top-level files by name."""
    if os.path.isfile(upload):
        return file_sha256(upload)
    digest = hashlib.sha256()
    for name in sorted(os.listdir(upload)):
        path = os.path.join(upload, name)
        if os.path.isfile(path) and not os.path.islink(path):
            digest.update(name.encode() + b"\0" + file_sha256(path).encode())
    return digest.hexdigest()
