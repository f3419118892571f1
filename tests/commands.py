"""A program's command line run in the test's process: so that mutmut, which records which tests call
which function, sees the code behind it (README, "Mutation testing"); what it starts still runs as
processes of their own."""
import contextlib
import io
import os
import signal
import subprocess
from unittest import mock


def run_main(main, *args, env=None):
    """main(argv) of a program, with env added to the environment meanwhile: its exit status and what it
    printed, as subprocess.run gives them (argparse's refusals included). The signal handlers a
    program installs (regrade's Ctrl-C) are put back afterwards."""
    argv = [str(arg) for arg in args]
    stdout, stderr = io.StringIO(), io.StringIO()
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        with mock.patch.dict(os.environ, env or {}), contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            returncode = main(argv)
    except SystemExit as stop:
        returncode = stop.code
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    return subprocess.CompletedProcess(argv, returncode, stdout.getvalue(), stderr.getvalue())
