"""Solution markers: the starter is the reference with its solutions taken out (otter-grader's syntax).

In a reference file (Python, Makefile, shell, requirements: any file whose
comments start with `#`):

    # BEGIN SOLUTION [label]        a solution block, up to `# END SOLUTION`. In the starter it
    ...                             becomes one line at the marker's indentation,
    # END SOLUTION                  `raise NotImplementedError("<label> <function>: your code here")`,
                                    <function> being the Python function around it.
    # BEGIN SOLUTION NO PROMPT      a block the starter does not have at all.
    code  # SOLUTION [label]        a one-line block (same stub); `# SOLUTION NO PROMPT` drops the line.
    # BEGIN PROMPT                  inside a solution block: what the starter holds instead of the
    # text                          stub, each line uncommented ("# text" -> "text", "#" -> "").
    # END PROMPT

Two differences from otter: a block's stub raises NotImplementedError naming the
exercise (a student's half-done file then fails its own tests with a message
saying where, not with an Ellipsis somewhere later), and a `# SOLUTION` line
becomes that same stub, not `x = ...`.

`split` refuses what it cannot take out cleanly (MarkerError names the line):
unbalanced or nested blocks, a prompt outside a block, a stub outside a Python
function, and any line that looks like a marker but is not one (a typo would
otherwise leave solution code in the starter). `merge` puts the solutions back:
merge(*split(text)) == text, byte for byte.
"""
import ast
import collections
import re

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?: (?P<label>\S.*?))?[ \t]*$")
END = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")
BEGIN_PROMPT = re.compile(r"^(?P<indent>[ \t]*)# BEGIN PROMPT[ \t]*$")
END_PROMPT = re.compile(r"^[ \t]*# END PROMPT[ \t]*$")
SUFFIX = re.compile(r"^(?P<indent>[ \t]*)(?P<code>[^#\s].*?)[ \t]+# SOLUTION(?: (?P<label>\S.*?))?[ \t]*$")
# Anything a marker could be mistaken for: a line matching this and none of the above is refused.
LOOKS_LIKE_A_MARKER = re.compile(r"#\s*(BEGIN|END)\s*(SOLUTION|PROMPT)|#\s*SOLUTION\b", re.IGNORECASE)
NO_PROMPT = "NO PROMPT"
MISSPELLED_NO_PROMPT = re.compile(r"no[ _-]*prompts?", re.IGNORECASE)

# One solution taken out: the starter holds `stub` (lines) at line index `at`, the reference `original`.
Solution = collections.namedtuple("Solution", ["at", "stub", "original"])


class MarkerError(ValueError):
    """A reference file whose markers cannot be taken out cleanly; the message names the file and line."""


def stub_line(indent, label, function):
    """The line a prompt-less solution becomes: raise NotImplementedError naming the exercise."""
    what = " ".join(part for part in (label, function) if part)
    return f'{indent}raise NotImplementedError("{what}: your code here")\n'


def enclosing_functions(text):
    """line number (1-based) -> name of the innermost function whose body holds it (Python source)."""
    names = {}
    functions = [node for node in ast.walk(ast.parse(text))
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for node in sorted(functions, key=lambda node: node.lineno):   # inner functions come later and win
        for line in range(node.lineno, node.end_lineno + 1):
            names[line] = node.name
    return names


def split(text, name, python=None):
    """(starter text, [Solution]) of a reference file's text; `name` is for messages.

    python: whether stubs may raise (default: name ends in .py); a Python file
    must parse before and after.
    """
    python = name.endswith(".py") if python is None else python
    if python:
        try:
            functions = enclosing_functions(text)
        except SyntaxError as error:
            raise MarkerError(f"{name}:{error.lineno}: the reference does not parse ({error.msg})") from error
    lines = text.splitlines(keepends=True)
    starter, solutions = [], []
    block = None      # the open solution block: dict(start, indent, label, prompt, original)

    def fail(number, message):
        raise MarkerError(f"{name}:{number}: {message}")

    def checked_label(number, text):
        """A marker's label, refusing a misspelt NO PROMPT (it would silently become a stub's label)."""
        if text and text != NO_PROMPT and MISSPELLED_NO_PROMPT.fullmatch(text):
            fail(number, f"`{text}`: did you mean `{NO_PROMPT}`?")
        return text

    def stub(number, indent, label):
        if label == NO_PROMPT:
            return []
        if not python:
            fail(number, f"a solution here needs `{NO_PROMPT}` or a BEGIN PROMPT block: only Python gets a stub")
        if number not in functions:
            fail(number, f"a solution outside a function has no stub to leave; mark it `{NO_PROMPT}` "
                         "or give it a BEGIN PROMPT block")
        return [stub_line(indent, label, functions[number])]

    for number, line in enumerate(lines, start=1):
        bare = line.rstrip("\r\n")
        if block is None:
            if match := BEGIN.match(bare):
                block = dict(start=number, indent=match["indent"], label=checked_label(number, match["label"]),
                             prompt=None, original=[line])
            elif match := SUFFIX.match(bare):
                if LOOKS_LIKE_A_MARKER.search(match["code"]):
                    fail(number, "two markers on one line")
                replacement = stub(number, match["indent"], checked_label(number, match["label"]))
                solutions.append(Solution(len(starter), replacement, [line]))
                starter += replacement
            elif END.match(bare) or BEGIN_PROMPT.match(bare) or END_PROMPT.match(bare):
                fail(number, f"`{bare.strip()}` outside a solution block (no `# BEGIN SOLUTION` before it)")
            elif LOOKS_LIKE_A_MARKER.search(bare):
                fail(number, f"looks like a marker but is not one: {bare.strip()!r}; the markers are "
                             "`# BEGIN SOLUTION`, `# END SOLUTION`, `# SOLUTION`, `# BEGIN PROMPT`, `# END PROMPT`")
            else:
                starter.append(line)
            continue
        block["original"].append(line)
        prompt = block["prompt"]
        if prompt is not None and prompt["open"]:
            if END_PROMPT.match(bare):
                prompt["open"] = False
            elif LOOKS_LIKE_A_MARKER.search(bare):
                fail(number, f"a marker inside the prompt block opened at line {prompt['start']}: close it first "
                             "with `# END PROMPT`")
            elif not bare.startswith(prompt["indent"] + "#"):
                fail(number, f"a prompt line must be a comment at the indentation of its `# BEGIN PROMPT` "
                             f"(line {prompt['start']}), got {bare.strip()!r}")
            else:
                content = bare[len(prompt["indent"]) + 1:]             # after the "#"
                content = content[1:] if content.startswith(" ") else content
                prompt["lines"].append((prompt["indent"] + content if content else "") + line[len(bare):])
        elif END.match(bare):
            if prompt is None:
                replacement = stub(block["start"], block["indent"], block["label"])
            elif block["label"] == NO_PROMPT:
                fail(block["start"], f"a `{NO_PROMPT}` block cannot hold a prompt")
            else:
                replacement = prompt["lines"]
            solutions.append(Solution(len(starter), replacement, block["original"]))
            starter += replacement
            block = None
        elif match := BEGIN_PROMPT.match(bare):
            if prompt is not None:
                fail(number, f"a second prompt in the solution block opened at line {block['start']}")
            block["prompt"] = dict(start=number, indent=match["indent"], lines=[], open=True)
        elif BEGIN.match(bare):
            fail(number, f"nested: a solution block opens inside the one opened at line {block['start']}")
        elif SUFFIX.match(bare) or LOOKS_LIKE_A_MARKER.search(bare):
            fail(number, f"a marker inside the solution block opened at line {block['start']}: {bare.strip()!r}")
    if block is not None:
        where = (f"the prompt opened at line {block['prompt']['start']} has no `# END PROMPT`"
                 if block["prompt"] and block["prompt"]["open"] else "it has no `# END SOLUTION`")
        fail(block["start"], f"unbalanced: the solution block opened here is not closed ({where})")
    result = "".join(starter)
    if python:
        try:
            ast.parse(result)
        except SyntaxError as error:
            raise MarkerError(f"{name}: the starter made from it does not parse, line {error.lineno} of the "
                              f"starter ({error.msg}); a block must leave a whole statement") from error
    return result, solutions


def merge(starter_text, solutions, name="the file"):
    """The reference text: the starter with each Solution's stub replaced by its original lines.

    Raises MarkerError when the starter does not hold a stub where the solution says it is.
    """
    lines = starter_text.splitlines(keepends=True)
    merged, position = [], 0
    for solution in solutions:
        if solution.at < position or lines[solution.at:solution.at + len(solution.stub)] != solution.stub:
            raise MarkerError(f"{name}: the starter does not hold the stub expected at its line {solution.at + 1}")
        merged += lines[position:solution.at] + solution.original
        position = solution.at + len(solution.stub)
    return "".join(merged + lines[position:])
