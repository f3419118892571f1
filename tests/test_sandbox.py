"""autograder.sandbox: untrusted code really stays in its box. Each test is an attack that must fail.

The isolation that needs root (another user, no network) is tested when the tests run as root,
as CI and the autograder do; otherwise those tests skip and say so.
"""
import ctypes
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import pytest

from autograder import sandbox



def python_the_sandbox_user_can_run():
    """This interpreter if the sandbox user may run it, else the system's (the snippets need only the
    standard library); pyenv's, for one, can live in root's private home."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        folder = sandbox.make_scratch()
        try:
            if sandbox.run_boxed([candidate, "-c", "pass"], folder).returncode == 0:
                return candidate
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    pytest.skip("no Python interpreter the sandbox user may run")


PYTHON = python_the_sandbox_user_can_run()
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching to the sandbox user and isolating the "
                                "network need root (CI and the autograder run as root)")
# Written out, not read from the sandbox: the folders every user may write on a Linux host.
EVERY_USERS_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
SHORT = sandbox.Limits(wall_seconds=20, cpu_seconds=20, memory_bytes=2 * 2 ** 30, processes=64)


@pytest.fixture
def scratch():
    folder = sandbox.make_scratch()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def boxed(scratch, code, limits=SHORT, visible=()):
    return sandbox.run_boxed([PYTHON, "-c", textwrap.dedent(code)], scratch, limits=limits, visible=visible)


def test_an_honest_task_hands_back_its_json(scratch):
    outcome = boxed(scratch, """
        import json
        print("working")
        json.dump({"passed": 3, "of": 4}, open("result.json", "w"))
    """)
    assert outcome.returncode == 0 and outcome.result == {"passed": 3, "of": 4} and outcome.problem == ""
    assert "working" in outcome.stdout and outcome.isolated == (os.geteuid() == 0)


def test_the_task_runs_under_exactly_the_limits_asked_for(scratch):
    """What the task itself sees: CPU time, address space, file size, no core dumps, its user's
    processes (as root), files created private to it (umask 077), in its own session, in its scratch folder."""
    limits = sandbox.Limits(wall_seconds=20, cpu_seconds=17, memory_bytes=3 * 2 ** 30, processes=61,
                            file_bytes=5 * 2 ** 20)
    outcome = boxed(scratch, """
        import json, os, resource
        names = ["RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_NPROC"]
        json.dump({"limits": {name: resource.getrlimit(getattr(resource, name)) for name in names},
                   "umask": os.umask(0), "leads_its_session": os.getsid(0) == os.getpid(), "cwd": os.getcwd(),
                   "home": os.environ["HOME"]}, open("result.json", "w"))
    """, limits=limits)
    seen = outcome.result
    processes = [61, 61] if os.geteuid() == 0 else list(resource.getrlimit(resource.RLIMIT_NPROC))
    assert seen["limits"] == {"RLIMIT_CPU": [17, 17], "RLIMIT_AS": [3 * 2 ** 30] * 2, "RLIMIT_FSIZE": [5 * 2 ** 20] * 2,
                              "RLIMIT_CORE": [0, 0], "RLIMIT_NPROC": processes}
    assert seen["umask"] == 0o077 and seen["leads_its_session"]
    assert seen["cwd"] == seen["home"] == os.path.realpath(scratch)


def test_printed_results_count_for_nothing(scratch):
    outcome = boxed(scratch, """
        print('{"passed": 4, "of": 4}')
        print("=== BEGIN test_relu ===\\nOK\\n=== END test_relu ===")
    """)
    assert outcome.result is None and "wrote no result.json" in outcome.problem


@pytest.mark.parametrize("exit_call", ["sys.exit(0)", "os._exit(0)"])
def test_exiting_early_gives_no_result(scratch, exit_call):
    outcome = boxed(scratch, f"import os, sys\n{exit_call}\nopen('result.json', 'w').write('{{}}')")
    assert outcome.returncode == 0 and outcome.result is None


def test_an_endless_loop_is_stopped_at_the_wall_clock(scratch):
    limits = sandbox.Limits(wall_seconds=3, cpu_seconds=60, memory_bytes=2 * 2 ** 30, processes=64)
    outcome = boxed(scratch, "while True: pass", limits)
    assert outcome.timed_out and outcome.result is None and "wall-clock" in outcome.problem
    assert outcome.seconds < 10


def test_a_sleeping_child_that_escapes_the_session_is_killed_too(scratch):
    """A grandchild in a session of its own (a daemon) must not outlive the task."""
    marker = os.path.join(scratch, "alive")
    outcome = boxed(scratch, f"""
        import os, subprocess, sys
        subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(1); open({marker!r}, 'w')"],
                         start_new_session=True)
    """)
    assert outcome.returncode == 0
    time.sleep(2)   # the grandchild would have written by now
    assert not os.path.exists(marker) or os.geteuid() != 0


def test_a_huge_allocation_fails_inside_the_child(scratch):
    outcome = boxed(scratch, """
        import json
        try:
            block = bytearray(20 * 2 ** 30)
            json.dump("allocated", open("result.json", "w"))
        except MemoryError:
            json.dump("refused", open("result.json", "w"))
    """)
    assert outcome.result == "refused"


@needs_root
def test_a_fork_bomb_stops_at_the_process_limit_and_leaves_nothing(scratch):
    limits = sandbox.Limits(wall_seconds=3, cpu_seconds=30, memory_bytes=2 * 2 ** 30, processes=32)
    outcome = boxed(scratch, """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """, limits)
    assert outcome.result is None
    assert sandbox.user_processes(sandbox.default_identity().uid) == []


@needs_root
def test_no_network_not_even_the_graders_loopback(scratch):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted = []
    listener = threading.Thread(target=lambda: accepted.append(_accept(server)))
    listener.start()
    outcome = boxed(scratch, f"""
        import json, socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"labels")
            json.dump("connected", open("result.json", "w"))
        except OSError as error:
            json.dump(str(error), open("result.json", "w"))
    """)
    listener.join()
    server.close()
    assert outcome.result != "connected" and accepted == [None]


def _accept(server):
    try:
        connection, _ = server.accept()
        connection.close()
        return "accepted"
    except socket.timeout:
        return None


@needs_root
def test_the_graders_files_are_out_of_reach(scratch):
    """Labels readable by root only (by path) and a grader folder: neither readable nor writable."""
    secrets = tempfile.mkdtemp(prefix="hw2-grader-")
    try:
        labels = os.path.join(secrets, "private_test_y.npy")
        with open(labels, "w") as stream:
            stream.write("SECRET-LABELS")
        os.chmod(labels, 0o600)
        os.chmod(secrets, 0o755)
        # Kept in sight (under /tmp the box would otherwise see its own empty /tmp): the permissions
        # must deny it, not its absence.
        outcome = boxed(scratch, f"""
            import json, os
            found = []
            for attempt in (lambda: open({labels!r}).read(), lambda: open({labels!r}, "a").write("x"),
                            lambda: os.remove({labels!r}), lambda: open(os.path.join({secrets!r}, "new"), "w")):
                try:
                    found.append(str(attempt()))
                except OSError as error:
                    found.append(type(error).__name__)
            json.dump(found, open("result.json", "w"))
        """, visible=[secrets])
        assert outcome.result == ["PermissionError"] * 4
        with open(labels) as stream:
            assert stream.read() == "SECRET-LABELS"
        assert sorted(os.listdir(secrets)) == ["private_test_y.npy"]
        assert "SECRET-LABELS" not in outcome.stdout + outcome.stderr
    finally:
        shutil.rmtree(secrets)


@needs_root
def test_a_result_that_links_to_a_secret_is_refused_unread(scratch):
    """The grader reads result.json as root: a link to the labels must not make it read them."""
    secret = tempfile.NamedTemporaryFile("w", delete=False, prefix="hw2-secret-")
    secret.write('"SECRET-LABELS"')
    secret.close()
    os.chmod(secret.name, 0o600)
    try:
        outcome = boxed(scratch, f"import os\nos.symlink({secret.name!r}, 'result.json')")
        assert outcome.result is None and "not a plain file" in outcome.problem
        assert "SECRET" not in json.dumps(outcome.result) + outcome.problem
    finally:
        os.remove(secret.name)


def test_an_oversized_or_broken_result_is_refused(scratch):
    limits = sandbox.Limits(wall_seconds=20, result_bytes=1000, memory_bytes=2 * 2 ** 30, processes=64)
    big = boxed(scratch, "open('result.json', 'w').write('[' + '1,' * 5000 + '1]')", limits)
    assert big.result is None and "larger than 1000 bytes" in big.problem
    broken = boxed(scratch, "open('result.json', 'w').write('{not json')")
    assert broken.result is None and "not JSON" in broken.problem


def test_the_environment_carries_nothing_of_the_graders(scratch, monkeypatch):
    monkeypatch.setenv("HW2_GRADER_SECRET", "hidden-seed-1234")
    outcome = boxed(scratch, "import json, os\njson.dump(dict(os.environ), open('result.json', 'w'))")
    assert "HW2_GRADER_SECRET" not in outcome.result and outcome.result["HOME"] == scratch


def test_output_is_kept_bounded(scratch):
    limits = sandbox.Limits(wall_seconds=20, output_bytes=1000, memory_bytes=2 * 2 ** 30, processes=64)
    outcome = boxed(scratch, "print('x' * 10 ** 6)\nprint('the end')", limits)
    assert len(outcome.stdout) < 1100 and outcome.stdout.rstrip().endswith("the end") and "cut" in outcome.stdout


def test_a_file_larger_than_the_limit_cannot_be_written(scratch):
    limits = sandbox.Limits(wall_seconds=20, file_bytes=10 ** 6, memory_bytes=2 * 2 ** 30, processes=64)
    boxed(scratch, "open('big', 'wb').write(b'x' * 10 ** 7)", limits)
    assert os.path.getsize(os.path.join(scratch, "big")) <= 10 ** 6


@needs_root
def test_the_scratch_folder_is_the_sandbox_users_alone(scratch):
    info = os.stat(scratch)
    assert info.st_uid == sandbox.default_identity().uid and info.st_mode & 0o777 == 0o700
    # The grader may hold supplementary groups (root here holds none, a TA's shell often does): give
    # it some, so that a box that kept them would show them.
    groups = os.getgroups()
    os.setgroups([0, 4, 27, 100])
    try:
        outcome = boxed(scratch, "import json, os\njson.dump([os.getuid(), os.getgid(), os.getgroups()], "
                                 "open('result.json', 'w'))")
    finally:
        os.setgroups(groups)
    assert outcome.result == [sandbox.default_identity().uid, sandbox.default_identity().gid, []]
    probe = subprocess.run(["setpriv", "--reuid=65533", "--regid=65533", "--clear-groups", "ls", scratch],
                           capture_output=True, text=True)
    assert probe.returncode != 0   # another unprivileged user cannot look in


@needs_root
def test_what_the_box_writes_outside_its_scratch_folder_vanishes_with_it(scratch):
    """/tmp, /var/tmp, /dev/shm and /run/lock are the box's own, empty and thrown away after it."""
    if not sandbox.namespaces_available():
        pytest.skip("this kernel or container does not let root create mount namespaces")
    for folder in EVERY_USERS_FOLDERS:   # what an earlier run that failed here left
        if os.path.exists(os.path.join(folder, "hw2-attack-left-behind")):
            os.remove(os.path.join(folder, "hw2-attack-left-behind"))
    planted = tempfile.NamedTemporaryFile(prefix="hw2-grader-planted-", delete=False)
    planted.close()
    try:
        outcome = boxed(scratch, f"""
            import json, os
            written = []
            for folder in {list(EVERY_USERS_FOLDERS)!r}:
                if os.path.isdir(folder):
                    open(os.path.join(folder, "hw2-attack-left-behind"), "w").write("x")
                    written.append(folder)
            json.dump({{"written": written, "sees_planted": os.path.exists({planted.name!r})}},
                      open("result.json", "w"))
        """)
        assert outcome.isolated and outcome.result["written"] and outcome.result["sees_planted"] is False
        assert sorted(outcome.result["written"]) == sorted(folder for folder in EVERY_USERS_FOLDERS
                                                            if os.path.isdir(folder) and not os.path.islink(folder))
        for folder in EVERY_USERS_FOLDERS:
            assert not os.path.exists(os.path.join(folder, "hw2-attack-left-behind"))
    finally:
        os.remove(planted.name)


# --------------------------------------------------------------------------- identities: one per grading

HOLD_A_RESERVATION = """
import sys, time
sys.path.insert(0, {root!r})
from autograder import sandbox
identity = sandbox.reserve_identity(range({first}, {first} + 3), {folder!r})
print(identity.uid, flush=True)
time.sleep(60)
"""


def test_each_process_reserves_an_identity_no_other_holds(tmp_path):
    """Reservations in one process differ; another process's (alive) is skipped; a dead one's lock
    is free again."""
    first = sandbox.SANDBOX_UIDS.start + 40
    code = HOLD_A_RESERVATION.format(root=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                     first=first, folder=str(tmp_path))
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert int(holder.stdout.readline()) == first
        mine = [sandbox.reserve_identity(range(first, first + 3), str(tmp_path)) for _ in range(2)]
        assert [identity.uid for identity in mine] == [first + 1, first + 2]
        assert all(identity.gid == identity.uid for identity in mine)
        assert [identity.name for identity in mine] == [f"uid {first + 1}", f"uid {first + 2}"]
        assert sorted(os.listdir(tmp_path)) == [f"{uid}.lock" for uid in range(first, first + 3)]   # there, not here
        with pytest.raises(sandbox.IdentityError) as refused:
            sandbox.reserve_identity(range(first, first + 3), str(tmp_path))
        assert str(refused.value) == (f"all 3 sandbox uids ({first}-{first + 2}) are held by other gradings or "
                                      f"users (locks in {tmp_path}); run fewer at once")
    finally:
        holder.kill()
        holder.wait()
    assert sandbox.reserve_identity(range(first, first + 3), str(tmp_path)).uid == first   # its holder died


def test_a_uid_a_user_of_this_machine_has_is_never_taken(tmp_path):
    # A user of this machine that runs nothing now (a grader that took its uid would kill what runs
    # under it: never ours, never root's).
    import pwd
    idle = [entry.pw_uid for entry in pwd.getpwall()
            if entry.pw_uid not in (0, os.getuid()) and not sandbox.user_processes(entry.pw_uid)]
    if not idle:
        pytest.skip("every user of this machine runs something")
    taken = idle[0]
    identity = sandbox.reserve_identity([taken, sandbox.SANDBOX_UIDS.start + 50], str(tmp_path))
    assert identity.uid == sandbox.SANDBOX_UIDS.start + 50


def test_a_named_user_is_its_uid_and_its_own_group():
    import pwd
    entry = pwd.getpwnam("nobody")
    assert sandbox.named_identity("nobody") == sandbox.Identity(entry.pw_uid, entry.pw_gid, "nobody")
    with pytest.raises(KeyError):
        sandbox.named_identity("no-such-user-hw2")


@needs_root
def test_a_box_kills_only_what_its_own_identity_runs(scratch, tmp_path):
    """Another grading's box (another reserved uid) and a daemon of the machine's (nobody) live on
    through this box's end, when everything of this box's identity is killed."""
    other = sandbox.reserve_identity(range(sandbox.SANDBOX_UIDS.start + 60, sandbox.SANDBOX_UIDS.stop),
                                     str(tmp_path))
    sleepers = [subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "sleep", "60"])
                for uid in (other.uid, sandbox.named_identity("nobody").uid)]
    try:
        outcome = boxed(scratch, "import subprocess\nsubprocess.Popen(['sleep', '60'], start_new_session=True)")
        assert outcome.returncode == 0
        assert sandbox.user_processes(sandbox.default_identity().uid) == []
        assert [sleeper.poll() for sleeper in sleepers] == [None, None]   # still running
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()


@needs_root
def test_a_process_of_another_program_under_the_identity_stops_the_box(scratch):
    identity = sandbox.default_identity()
    squatter = subprocess.Popen(["setpriv", f"--reuid={identity.uid}", f"--regid={identity.gid}", "--clear-groups",
                                 "sleep", "60"])
    try:
        time.sleep(0.2)
        with pytest.raises(sandbox.IdentityError, match="another program uses the sandbox identity"):
            boxed(scratch, "pass")
    finally:
        squatter.kill()
        squatter.wait()


@needs_root
def test_a_box_killed_from_outside_says_so(scratch):
    """SIGKILL from outside before any limit: not the task's doing (the grader makes it its own failure)."""
    identity = sandbox.default_identity()

    def kill_the_box():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for pid in sandbox.user_processes(identity.uid):
                os.kill(pid, 9)
                return
            time.sleep(0.05)
    killer = threading.Thread(target=kill_the_box)
    killer.start()
    outcome = boxed(scratch, "import time\ntime.sleep(30)")
    killer.join()
    assert outcome.killed_from_outside and "killed from outside" in outcome.problem and outcome.result is None
    hog = boxed(scratch, "while True: pass", sandbox.Limits(wall_seconds=20, cpu_seconds=2,
                                                           memory_bytes=2 * 2 ** 30, processes=64))
    assert not hog.killed_from_outside and hog.result is None   # its own CPU limit


PR_GET_CHILD_SUBREAPER = 37
ORPHAN_A_SLEEPER = "import subprocess, sys; print(subprocess.Popen(['sleep', '1']).pid)"   # exits at once


def adopts_orphans():
    flag = ctypes.c_int(-1)
    ctypes.CDLL(None).prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
    return flag.value == 1


def orphan_parent():
    """The parent of a process whose own parent exited right after starting it (then reaped here)."""
    orphan = int(subprocess.run([sys.executable, "-c", ORPHAN_A_SLEEPER], capture_output=True, text=True).stdout)
    parent = sandbox.process_table()[orphan][0]
    if parent == os.getpid():
        os.waitpid(orphan, 0)
    return parent


@needs_root
def test_a_process_that_ran_boxes_gives_back_the_orphans_when_asked(scratch):
    """While boxes run here this process reaps what their tasks leave; once told to stop (a test session's end,
    before mutmut forks its workers from it) orphans go elsewhere, and the next box adopts again."""
    assert boxed(scratch, "open('result.json', 'w').write('1')").result == 1
    assert adopts_orphans() and orphan_parent() == os.getpid()
    # A sandbox identity's process left to us and dead is reaped; a child of our own is its owner's to wait for.
    uid = sandbox.default_identity().uid
    subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "sh", "-c", "sleep 0.1 & exit 0"],
                   check=True)
    own = subprocess.Popen(["true"])

    def zombies():
        return {pid: owner for pid, (parent, owner, state, _) in sandbox.process_table().items()
                if parent == os.getpid() and state == "Z"}
    deadline = time.monotonic() + 10
    while sorted(zombies().values()) != sorted([uid, os.getuid()]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(zombies().values()) == sorted([uid, os.getuid()])
    sandbox.stop_adopting_orphans()
    assert zombies() == {own.pid: os.getuid()}
    assert own.wait() == 0
    assert not adopts_orphans() and orphan_parent() != os.getpid()
    assert boxed(scratch, "open('result.json', 'w').write('2')").result == 2
    assert adopts_orphans()
