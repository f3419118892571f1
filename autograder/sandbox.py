"""Run untrusted student code in a box: a child process with limits, handing back only a JSON file.

    outcome = run_boxed([python, "task.py"], scratch, limits=Limits(wall_seconds=60))
    outcome.result      # the validated content of SCRATCH/result.json, or None (outcome.problem says why)

The grading process never imports student code; every student task runs through
`run_boxed`, which gives the child:
- its own session (process group), killed whole at the wall-clock limit, and, when
  the grader is root, every process of the sandbox user killed after it, so that
  nothing it started outlives the task;
- resource limits: CPU seconds, address space (a 20 GB allocation fails inside the
  child), processes (a fork bomb stops at the limit; counted per user, so the
  sandbox user runs nothing else), the largest file it may write, no core dumps;
- when the grader is root: the unprivileged sandbox user (default `nobody`), no
  supplementary groups, and a network namespace of its own with no interfaces
  up (Linux `unshare(CLONE_NEWNET)`), so it can reach no address at all, the
  loopback of the grader's machine included;
- a minimal environment (no inherited variables that could carry secrets), the
  scratch folder as its working and home folder, umask 077.
What it prints is kept (bounded, for the staff's eyes) but never parsed: the one
answer is SCRATCH/result.json, read without following links, refused when it is
not a regular file or is larger than `Limits.result_bytes`, and parsed as JSON.
Without root there is no user switch and no network isolation (`isolated` says
so); the limits still apply.
"""
import ctypes
import dataclasses
import json
import os
import pwd
import resource
import signal
import stat
import subprocess
import tempfile
import time

CLONE_NEWNET = 0x40000000
_unshare = ctypes.CDLL(None, use_errno=True).unshare   # resolved here: the child only calls it


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one boxed task may use. Sizes in bytes, times in seconds."""
    wall_seconds: float = 120.0
    cpu_seconds: int = 600
    memory_bytes: int = 4 * 2 ** 30     # address space of each process
    processes: int = 256                # processes and threads of the sandbox user at once
    file_bytes: int = 64 * 2 ** 20      # the largest file it may write
    output_bytes: int = 256 * 2 ** 10   # of stdout and of stderr, kept for the staff (the tail)
    result_bytes: int = 4 * 2 ** 20     # the largest result.json accepted


@dataclasses.dataclass
class Outcome:
    """What a boxed task left: exit status, whether the wall clock stopped it, its output's tails,
    and its result (the parsed result.json) or the problem that kept it from counting."""
    returncode: int
    timed_out: bool
    seconds: float
    stdout: str
    stderr: str
    result: object
    problem: str
    isolated: bool


def is_root():
    return os.geteuid() == 0


def sandbox_ids(user):
    """(uid, gid) of the sandbox user; KeyError names a missing user."""
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def make_scratch(parent=None, user="nobody"):
    """A fresh folder for one task, writable by the sandbox user only (and root); returns its path."""
    scratch = tempfile.mkdtemp(prefix="hw2-box-", dir=parent)
    if is_root():
        uid, gid = sandbox_ids(user)
        os.chown(scratch, uid, gid)
    os.chmod(scratch, 0o700)
    return scratch


def _child_setup(limits, ids):
    """Runs in the child between fork and exec: session, limits, then (as root) no network and the user."""
    def setup():
        os.setsid()
        for limit, value in ((resource.RLIMIT_CPU, limits.cpu_seconds), (resource.RLIMIT_AS, limits.memory_bytes),
                             (resource.RLIMIT_FSIZE, limits.file_bytes), (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(limit, (value, value))
        if ids is not None:
            if _unshare(CLONE_NEWNET) != 0:
                os._exit(125)   # never run without the isolation we promised
            os.setgroups([])
            os.setgid(ids[1])
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
            os.setuid(ids[0])
        os.umask(0o077)
    return setup


def user_processes(uid):
    """Pids of the live processes owned by uid (zombies, already dead, are left to their reaper)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stream:
                    state = stream.read().rsplit(b")", 1)[1].split()[0]
                if os.stat(f"/proc/{entry}").st_uid == uid and state != b"Z":
                    pids.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return pids


def kill_user_processes(uid, seconds=10.0):
    """SIGKILL every live process owned by uid (as root, after a task: nothing it started survives).

    Repeats until none is left (a fork bomb may still be forking while we kill), for `seconds` at most.
    """
    deadline = time.monotonic() + seconds
    while (pids := user_processes(uid)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


def _tail(path, limit):
    with open(path, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        stream.seek(max(0, size - limit))
        data = stream.read(limit)
    prefix = f"[... {size - limit} bytes cut ...]\n" if size > limit else ""
    return prefix + data.decode("utf-8", "replace")


def read_result(scratch, name, limit):
    """(parsed JSON, problem) of SCRATCH/name, opened without following links (neither the folder nor
    the file: the task owns both and could have swapped either for a link), a regular file, bounded."""
    try:
        folder = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as error:
        return None, f"the task's folder is gone or replaced ({error.strerror})"
    try:
        descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except FileNotFoundError:
        return None, f"the task wrote no {name}"
    except OSError as error:
        return None, f"{name} is not a plain file the task wrote ({error.strerror})"
    finally:
        os.close(folder)
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None, f"{name} is not a regular file"
        data = stream.read(limit + 1)
    if len(data) > limit:
        return None, f"{name} is larger than {limit} bytes"
    try:
        return json.loads(data.decode("utf-8")), ""
    except (UnicodeDecodeError, ValueError) as error:
        return None, f"{name} is not JSON ({error})"


def run_boxed(argv, scratch, *, limits=Limits(), env=None, user="nobody", result_name="result.json"):
    """Run argv in the box with `scratch` (from `make_scratch`) as its folder; returns an Outcome.

    env: the child's whole environment besides PATH, HOME (= scratch) and LANG;
    pass what it needs (PYTHONPATH, ...) and nothing secret. Never raises for
    anything the child does.
    """
    ids = sandbox_ids(user) if is_root() else None
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "LANG": "C.UTF-8", **(env or {})}
    with tempfile.TemporaryDirectory(prefix="hw2-box-output-") as outputs:
        out_path, err_path = os.path.join(outputs, "stdout"), os.path.join(outputs, "stderr")
        start = time.monotonic()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                process = subprocess.Popen(argv, cwd=scratch, env=environment, stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=err, preexec_fn=_child_setup(limits, ids), close_fds=True)
            except (OSError, subprocess.SubprocessError) as error:   # e.g. the user may not run argv[0]
                return Outcome(-1, False, 0.0, "", "", None, f"could not start {argv[0]}: {error}", ids is not None)
            try:
                process.wait(timeout=limits.wall_seconds)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:
                    os.killpg(process.pid, signal.SIGKILL)   # the whole session, finished or not
                except ProcessLookupError:
                    pass
                process.wait()
                if ids is not None:
                    kill_user_processes(ids[0])
        seconds = time.monotonic() - start
        stdout, stderr = _tail(out_path, limits.output_bytes), _tail(err_path, limits.output_bytes)
    if process.returncode == 125 and ids is not None and not stdout and not stderr:
        return Outcome(125, False, seconds, "", "", None, "the box could not isolate the network; nothing ran", True)
    result, problem = (None, f"stopped at the {limits.wall_seconds:.0f} s wall-clock limit") if timed_out else \
        read_result(scratch, result_name, limits.result_bytes)
    return Outcome(process.returncode, timed_out, seconds, stdout, stderr, result, problem, ids is not None)
