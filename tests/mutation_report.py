"""The mutation score of the grading code, from mutmut's own records (`make mutation` runs this after
`mutmut run`): mutants/mutation-report.json (the figures) and mutants/mutation-report.md (each
surviving mutant with its diff), both written atomically.

    python tests/mutation_report.py          (in the project folder, after `mutmut run`)

A survivor is a planted bug no quick test caught; tests/mutants_equivalent.json names those that
change nothing a test could see (mutant name -> {"mutated": a piece of its changed line, "why"}),
and the score leaves them out: score = caught / (every mutant checked - equivalent). mutmut numbers
a function's mutants in order, so an edit renumbers them: an entry counts only while the mutant of
that name still changes that line, else it is listed as stale. Exit status 0 when the score
reaches --goal, else 1.
"""
import argparse
import collections
import datetime
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from hw2_data import atomic_write_text  # noqa: E402

EQUIVALENT = os.path.join(ROOT, "tests", "mutants_equivalent.json")
CAUGHT = {"killed", "segfault", "caught by type check"}   # a test failed or crashed
# Not run, or run without an answer: a mutant whose tests ran past mutmut's time limit. A real hang is
# a catch, but so looks a test that runs TensorFlow in mutmut's forked worker (TensorFlow's thread
# pools do not survive a fork: the worker waits forever), so timeouts are counted apart, not caught.
NOT_RUN = {"not checked", "skipped", "check was interrupted by user", "timeout"}


def mutant_statuses():
    """{file: {mutant name: status}} from mutmut's records under mutants/ (mutmut 3's own reader)."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files
    found = {}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        found[str(path)] = {name: status_by_exit_code[code] for name, code in data.exit_code_by_key.items()}
    return found


def summarize(statuses, equivalent):
    """The report's figures: per file and in all, counts by status, survivors, score."""
    def figures(by_name):
        counts = collections.Counter(by_name.values())
        judged = {name: status for name, status in by_name.items() if status not in NOT_RUN}
        caught = sum(1 for status in judged.values() if status in CAUGHT)
        survivors = sorted(name for name, status in judged.items() if status not in CAUGHT)
        real = [name for name in survivors if name not in equivalent]
        basis = len(judged) - (len(survivors) - len(real))
        return {"mutants": len(by_name), "by_status": dict(sorted(counts.items())), "caught": caught,
                "timed_out": counts["timeout"], "not_checked": len(by_name) - len(judged) - counts["timeout"],
                "equivalent": len(survivors) - len(real), "survivors": real,
                "score": round(caught / basis, 4) if basis else None}
    files = {path: figures(by_name) for path, by_name in sorted(statuses.items())}
    everything = figures({name: status for by_name in statuses.values() for name, status in by_name.items()})
    stale = sorted(set(equivalent) - {name for by_name in statuses.values() for name in by_name})
    return {"date": datetime.date.today().isoformat(), "files": files, "total": everything,
            "equivalent_not_found": stale}


def still_mutates(diff, mutated):
    """Whether a mutant's diff adds a line holding `mutated` (the entry was written for this mutant)."""
    return any(line.startswith("+") and not line.startswith("+++") and mutated in line for line in diff.splitlines())


def markdown(report, diff):
    lines = [f"# Mutation testing, {report['date']}", "",
             "| file | mutants | not checked | timed out | caught | equivalent | survivors | score |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for path, row in [*report["files"].items(), ("all", report["total"])]:
        score = "-" if row["score"] is None else f"{row['score']:.1%}"
        lines.append(f"| {path} | {row['mutants']} | {row['not_checked']} | {row['timed_out']} | {row['caught']} | "
                     f"{row['equivalent']} | {len(row['survivors'])} | {score} |")
    lines += ["", "## Survivors (no quick test fails with this bug)", ""]
    for name in report["total"]["survivors"]:
        lines += [f"### {name}", "", "```diff", diff(name).strip(), "```", ""]
    if report["equivalent_not_found"]:
        lines += ["## Explained in tests/mutants_equivalent.json but no longer this mutant (stale)", ""]
        lines += [f"- {name}" for name in report["equivalent_not_found"]]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goal", type=float, default=0.9, help="the score to reach (default 0.9)")
    args = parser.parse_args(argv)
    os.chdir(ROOT)   # mutmut's records and configuration are found from the project folder
    with open(EQUIVALENT) as stream:
        equivalent = json.load(stream)
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    statuses = mutant_statuses()
    generated = {name for by_name in statuses.values() for name in by_name}
    confirmed = {name: entry for name, entry in equivalent.items()
                 if name in generated and still_mutates(get_diff_for_mutant(name), entry["mutated"])}
    report = summarize(statuses, confirmed)
    report["equivalent_not_found"] = sorted(set(equivalent) - set(confirmed))
    atomic_write_text(os.path.join("mutants", "mutation-report.json"), json.dumps(report, indent=1) + "\n")
    atomic_write_text(os.path.join("mutants", "mutation-report.md"), markdown(report, get_diff_for_mutant))
    total = report["total"]
    print(f"mutation score {total['score']:.1%}: {total['caught']} caught, {len(total['survivors'])} survivors, "
          f"{total['equivalent']} equivalent of {total['mutants']} mutants (mutants/mutation-report.md)")
    return 0 if total["score"] is not None and total["score"] >= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
