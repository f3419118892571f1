"""The student release: the reference with its solutions taken out (`make starter`).

    python staff/starter.py [--out release]   -> release/hw2-starter/ and release/hw2-starter.zip

What the starter holds is derived, never listed twice: the exercise files and
the own-model script (hw2_submission.EXERCISE_FILES, OWN_MODEL), the public test
scripts (hw2_submission.LOGS), every module those import once their solutions
are out (followed through the imports, so reference-only helpers drop out by
themselves), and what the student Makefile runs (RELEASE_EXTRAS). Every file
goes through the markers (staff/markers.py); the student README is
staff/starter_README.md. The folder and the zip are replaced only once the
whole starter has been made and checked: a marker error leaves the last
release as it was.
"""
import argparse
import os
import shutil
import stat
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import hw2_submission  # noqa: E402  (the reference's: which files a submission holds)
from hw2_data import atomic_write  # noqa: E402
from staff import markers  # noqa: E402

NAME = "hw2-starter"
# What the student Makefile runs besides Python: the data step and the venv's pins.
RELEASE_EXTRAS = ("Makefile", "requirements.txt", "get_dataset.sh")
README = os.path.join("staff", "starter_README.md")   # -> README.md in the starter
# A fixed time stamp for the zip's members: the same reference gives the same zip, byte for byte.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def read_reference(name):
    with open(os.path.join(ROOT, name), "rb") as stream:
        return stream.read().decode("utf-8")


def local_modules(name, text):
    """Project files that Python file `name` (its text) imports: a sibling module, else one at the root."""
    found = []
    for module in sorted(hw2_submission.imported_modules(text)):
        for candidate in (os.path.join(os.path.dirname(name), f"{module}.py"), f"{module}.py"):
            if os.path.isfile(os.path.join(ROOT, candidate)):
                found.append(os.path.normpath(candidate))
                break
    return found


def starter_files():
    """starter name -> (text, solutions) of every file the starter holds, markers applied.

    Raises markers.MarkerError (naming file and line) for a file whose markers are wrong.
    """
    roots = list(hw2_submission.EXERCISE_FILES) + [hw2_submission.OWN_MODEL] + list(hw2_submission.LOGS.values())
    files, pending = {}, roots + list(RELEASE_EXTRAS)
    while pending:
        name = pending.pop(0)
        if name in files:
            continue
        files[name] = markers.split(read_reference(name), name)
        if name.endswith(".py"):
            pending += local_modules(name, files[name][0])
    readme = read_reference(README)
    files["README.md"] = markers.split(readme, "README.md")
    if files["README.md"][1]:
        raise markers.MarkerError(f"{README}: the student README is written for students; it holds no solutions")
    return files


def file_mode(name):
    """The permission bits of a starter file: its reference's (get_dataset.sh stays executable)."""
    return stat.S_IMODE(os.stat(os.path.join(ROOT, README if name == "README.md" else name)).st_mode)


def write_tree(folder, files):
    """Write the starter's files under folder (created)."""
    for name, (text, _) in files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(path, file_mode(name))


def write_zip(path, files):
    """The starter as a zip of one folder, NAME/, with fixed time stamps (reproducible)."""
    def write(tmp_path):
        with zipfile.ZipFile(tmp_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(files):
                info = zipfile.ZipInfo(f"{NAME}/{name}", ZIP_TIME)
                info.external_attr = (file_mode(name) | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, files[name][0].encode("utf-8"))
    atomic_write(path, write)


def replace_folder(built, destination):
    """Move the folder `built` to `destination`, replacing a previous release only at the last step."""
    old = None
    if os.path.exists(destination):
        old = tempfile.mkdtemp(prefix=".old-", dir=os.path.dirname(destination))
        os.rename(destination, os.path.join(old, NAME))
    os.rename(built, destination)
    if old:
        shutil.rmtree(old)


def release(out_dir):
    """Make out_dir/NAME/ and out_dir/NAME.zip; returns the starter's file names."""
    files = starter_files()
    os.makedirs(out_dir, exist_ok=True)
    building = tempfile.mkdtemp(prefix=f".{NAME}-", dir=out_dir)
    try:
        write_tree(os.path.join(building, NAME), files)
        write_zip(os.path.join(out_dir, f"{NAME}.zip"), files)
        replace_folder(os.path.join(building, NAME), os.path.join(out_dir, NAME))
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return sorted(files)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write the student starter from the reference.")
    parser.add_argument("--out", default=os.path.join(ROOT, "release"), help="folder for hw2-starter/ and its zip")
    args = parser.parse_args(argv)
    try:
        names = release(args.out)
    except markers.MarkerError as error:
        print(f"error: {error}; nothing written", file=sys.stderr)
        return 1
    print(f"{os.path.join(args.out, NAME)}/ and {NAME}.zip: {len(names)} files: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
