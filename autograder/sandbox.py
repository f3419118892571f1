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
  sandbox identity runs nothing else), the largest file it may write, no core dumps;
- when the grader is root: an unprivileged sandbox identity no other program uses (by
  default a uid of its own from SANDBOX_UIDS, reserved for the grading's lifetime under a
  file lock, as the isolate sandbox does with its box ids: two gradings on one machine never
  share one, and killing what an identity owns kills nothing else), no supplementary
  groups, and, where the kernel lets us create namespaces (it does
  for root on a normal Linux host; a container without CAP_SYS_ADMIN does not,
  see `namespaces_available`), a network namespace of its own with no
  interfaces up (`unshare(CLONE_NEWNET)`: it can reach no address at all, the
  machine's loopback included) and a mount namespace in which the folders every
  user may write (/tmp, /var/tmp, /dev/shm, /run/lock) are fresh, small, private
  tmpfs that vanish with the task: it can write its scratch folder and nothing
  that outlives it;
- a minimal environment (no inherited variables that could carry secrets), the
  scratch folder as its working and home folder, umask 077.
What it prints is kept (bounded, for the staff's eyes) but never parsed: the one
answer is SCRATCH/result.json, read without following links, refused when it is
not a regular file or is larger than `Limits.result_bytes`, and parsed as JSON.
Without root there is no user switch and no namespaces (`isolated` says so);
the limits still apply.
"""
import ctypes
import dataclasses
import fcntl
import functools
import json
import os
import pwd
import resource
import signal
import stat
import subprocess
import tempfile
import time

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
WRITABLE_BY_ALL = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")   # each replaced by a private tmpfs
PRIVATE_TMPFS_OPTIONS = b"size=64m,mode=1777"
_libc = ctypes.CDLL(None, use_errno=True)
_unshare, _mount = _libc.unshare, _libc.mount   # resolved here: the child only calls them
_mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)


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
    killed_from_outside: bool = False   # the grading machine's doing, not the task's: the grader's failure


def is_root():
    return os.geteuid() == 0


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who boxed code runs as (when the grader is root): uid, gid, and a name for messages."""
    uid: int
    gid: int
    name: str


# Uids no distribution, systemd or container runtime hands out: above systemd's range for
# containers (524288-1879048191) and below 2^31 (tools that read uids as signed ints). A uid
# needs no passwd entry to run as. One a grading, reserved under a lock file in RESERVATIONS.
SANDBOX_UIDS = range(1_990_000_000, 1_990_000_064)
RESERVATIONS = "/run/lock/hw2-sandbox" if os.path.isdir("/run/lock") else os.path.join(tempfile.gettempdir(),
                                                                                        "hw2-sandbox-locks")


class IdentityError(RuntimeError):
    """No sandbox identity can be had; the message says why and what to do."""


def named_identity(user):
    """The Identity of an existing user (e.g. the one setup.sh makes on Gradescope); KeyError if none."""
    entry = pwd.getpwnam(user)
    return Identity(entry.pw_uid, entry.pw_gid, user)


_held_reservations = []   # the lock files' descriptors: open for as long as this process lives


def reserve_identity(uids=SANDBOX_UIDS, folder=None):
    """A uid of `uids` that no other grading holds and no other program uses, reserved for as long as
    this process lives (an exclusive lock on folder/UID.lock, which the kernel drops when the process
    dies, however it dies). What a dead holder left running under it is killed first."""
    folder = folder or RESERVATIONS
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for uid in uids:
        try:
            pwd.getpwuid(uid)
            continue   # a user of this machine has it: not ours to take
        except KeyError:
            pass
        descriptor = os.open(os.path.join(folder, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        _held_reservations.append(descriptor)
        kill_user_processes(uid)               # a grading that died before cleaning up
        return Identity(uid, uid, f"uid {uid}")
    raise IdentityError(f"all {len(uids)} sandbox uids ({uids[0]}-{uids[-1]}) are held by other gradings or "
                        f"users (locks in {folder}); run fewer at once")


@functools.lru_cache(maxsize=None)
def default_identity():
    """This process's sandbox identity, reserved on first use (`reserve_identity`)."""
    return reserve_identity()


def make_scratch(parent=None, identity=None):
    """A fresh folder for one task, writable by the sandbox identity only (and root); returns its path.
    identity: default `default_identity()`."""
    scratch = tempfile.mkdtemp(prefix="hw2-box-", dir=parent)
    if is_root():
        identity = identity or default_identity()
        os.chown(scratch, identity.uid, identity.gid)
    os.chmod(scratch, 0o700)
    return scratch


def _isolate(keep):
    """In the child, as root: new network and mount namespaces, private tmpfs over the folders every
    user may write, and each folder of `keep` (the scratch folder, the interpreter, the data) that
    lay in one of them bound back in place. True when all of it took."""
    if _unshare(CLONE_NEWNET | CLONE_NEWNS) != 0 or _mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    handles = [(path, os.open(path, os.O_PATH)) for path in keep]   # the originals, before they are covered
    replaced = [folder for folder in WRITABLE_BY_ALL if os.path.isdir(folder) and not os.path.islink(folder)]
    for folder in replaced:
        if _mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, PRIVATE_TMPFS_OPTIONS) != 0:
            return False
    for path, handle in handles:
        if any(path == folder or path.startswith(folder + "/") for folder in replaced):
            os.makedirs(path, exist_ok=True)
            if _mount(f"/proc/self/fd/{handle}".encode(), path.encode(), None, MS_BIND | MS_REC, None) != 0:
                return False
        os.close(handle)
    os.chdir(keep[0])
    return True


@functools.lru_cache(maxsize=None)
def namespaces_available():
    """True when this process may create network and mount namespaces (root on a normal Linux host;
    not in a container without CAP_SYS_ADMIN). Tried in a throwaway child."""
    if not is_root():
        return False
    pid = os.fork()
    if pid == 0:
        os._exit(0 if _unshare(CLONE_NEWNET | CLONE_NEWNS) == 0 else 1)
    return os.waitpid(pid, 0)[1] == 0


def _child_setup(limits, ids, keep, isolate):
    """Runs in the child between fork and exec: session, limits, then, as root, the namespaces (when
    `isolate`, keeping the folders of `keep` visible, the first being the scratch folder) and the user."""
    def setup():
        os.setsid()
        for limit, value in ((resource.RLIMIT_CPU, limits.cpu_seconds), (resource.RLIMIT_AS, limits.memory_bytes),
                             (resource.RLIMIT_FSIZE, limits.file_bytes), (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(limit, (value, value))
        if ids is not None:
            if isolate and not _isolate(keep):
                os._exit(125)   # never run with less isolation than was asked for
            os.setgroups([])
            os.setgid(ids[1])
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
            os.setuid(ids[0])
        os.umask(0o077)
    return setup


def process_table():
    """pid -> (parent pid, owner uid, state letter, resident pages) of every process, read from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stream:
                    fields = stream.read().rsplit(b")", 1)[1].split()   # the fields after the command name
                table[int(entry)] = (int(fields[1]), os.stat(f"/proc/{entry}").st_uid, fields[0].decode(),
                                     int(fields[21]))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
    return table


def _processes(uid):
    """(pid, parent pid, state letter) of every process owned by uid, zombies included."""
    return [(pid, parent, state) for pid, (parent, owner, state, _) in process_table().items() if owner == uid]


def user_processes(uid):
    """Pids of the live processes owned by uid (not zombies: those are dead, waiting to be reaped)."""
    return [pid for pid, _, state in _processes(uid) if state != "Z"]


PR_SET_CHILD_SUBREAPER = 36


@functools.lru_cache(maxsize=None)
def _adopt_orphans():
    """Make this process the reaper of its orphaned descendants (Linux prctl), so that what a task
    forked and left behind dies here, not under a PID 1 that may never reap it: zombies count
    toward the sandbox user's process limit until someone does."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def stop_adopting_orphans():
    """Undo `_adopt_orphans` in this process and reap the sandbox identities' dead it adopted. For a
    process that goes on to fork workers of its own after boxes ran in it (a test session's end,
    under mutmut): what a worker's boxes leave behind must not end up as this process's children,
    which a worker pool's wait() would take for one of its workers. The next box adopts again."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    _adopt_orphans.cache_clear()
    me = os.getuid()
    for pid, (parent, owner, state, _) in process_table().items():
        if parent == os.getpid() and owner != me and state == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def kill_user_processes(uid, seconds=10.0):
    """SIGKILL every process owned by uid and reap those orphaned to us, until none is left, zombies
    included (a fork bomb may still be forking while we kill), for `seconds` at most."""
    deadline = time.monotonic() + seconds
    while (found := _processes(uid)) and time.monotonic() < deadline:
        for pid, parent, state in found:
            try:
                if state != "Z":
                    os.kill(pid, signal.SIGKILL)
                elif parent == os.getpid():
                    os.waitpid(pid, os.WNOHANG)
            except (ProcessLookupError, ChildProcessError):
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


def run_boxed(argv, scratch, *, limits=Limits(), env=None, identity=None, result_name="result.json", isolate=None,
              visible=()):
    """Run argv in the box with `scratch` (from `make_scratch`) as its folder; returns an Outcome.

    env: the child's whole environment besides PATH, HOME (= scratch) and LANG;
    pass what it needs (PYTHONPATH, ...) and nothing secret. isolate: use network
    and mount namespaces (root only; default: when `namespaces_available()`).
    visible: folders the task reads besides its scratch folder (the interpreter's,
    the data), kept in sight when they lie in a folder the namespace replaces.
    identity: who the child runs as when we are root (default `default_identity()`).
    Outcome.isolated says whether they were used. Never raises for anything the child does;
    IdentityError when the identity runs processes that are not this grader's.
    """
    if is_root():
        identity = identity or default_identity()
        ids = identity.uid, identity.gid
        foreign = user_processes(identity.uid)
        if foreign:   # not ours: this grading's tasks are all dead by now (killed after each)
            raise IdentityError(f"{identity.name} runs processes this grader did not start ({foreign[:5]}): another "
                                "program uses the sandbox identity; give this grading another (--user)")
    else:
        ids = None
    isolate = ids is not None and (namespaces_available() if isolate is None else isolate)
    scratch = os.path.abspath(scratch)
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch, "LANG": "C.UTF-8", **(env or {})}
    if ids is not None:
        _adopt_orphans()
    with tempfile.TemporaryDirectory(prefix="hw2-box-output-") as outputs:
        out_path, err_path = os.path.join(outputs, "stdout"), os.path.join(outputs, "stderr")
        start = time.monotonic()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                process = subprocess.Popen(argv, cwd=scratch, env=environment, stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=err, preexec_fn=_child_setup(
                                               limits, ids, [scratch, *map(os.path.abspath, visible)], isolate),
                                           close_fds=True)
            except (OSError, subprocess.SubprocessError) as error:   # e.g. the user may not run argv[0]
                return Outcome(-1, False, 0.0, "", "", None, f"could not start {argv[0]}: {error}", isolate)
            timed_out, cpu_seconds = True, None
            try:
                timed_out, usage = wait_with_usage(process, start + limits.wall_seconds)
                cpu_seconds = None if usage is None else usage.ru_utime + usage.ru_stime
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
    if process.returncode == 125 and isolate and not stdout and not stderr:
        return Outcome(125, False, seconds, "", "", None, "the box could not create its namespaces; nothing ran", True)
    # SIGKILL before the wall clock and under the CPU limit: none of the box's limits sent it (a full
    # address space fails allocations, too many processes fail forks), so something outside did.
    if process.returncode == -signal.SIGKILL and not timed_out and cpu_seconds is not None \
            and cpu_seconds < limits.cpu_seconds - 1:
        return Outcome(process.returncode, False, seconds, stdout, stderr, None,
                       f"killed from outside the box after {seconds:.0f} s (SIGKILL, no limit reached)", isolate,
                       killed_from_outside=True)
    result, problem = (None, f"stopped at the {limits.wall_seconds:.0f} s wall-clock limit") if timed_out else \
        read_result(scratch, result_name, limits.result_bytes)
    return Outcome(process.returncode, timed_out, seconds, stdout, stderr, result, problem, isolate)


def wait_with_usage(process, deadline):
    """(timed out, the child's resource usage or None) of waiting for `process` (a Popen) until
    `deadline` (time.monotonic()); reaps it with its usage (its CPU time, and as peak memory the
    largest of it and the processes it waited for) and sets process.returncode."""
    pause = 0.002
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return False, usage
        if time.monotonic() >= deadline:
            return True, None
        time.sleep(pause)
        pause = min(2 * pause, 0.05)
