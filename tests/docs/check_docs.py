"""Keeps the README and the manual (docs/) true to the repository:
- every relative link in README.md, docs/*.md and perf/results/README.md resolves to a file;
- the usage text quoted in docs/cli.md is what `mlpot --help` prints;
- every `mlpot VERB --option` written in their code (inline or in code blocks) names a verb that
  exists and options that `mlpot VERB --help` lists, and the command accepts each of those options;
- every command in the README's shell code blocks is one the repository provides (a script or a
  binary its build makes) or a standard tool.
Run first on a small broken copy (--self-test is implied), so that each check is seen to fail."""
import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# Standard tools a README command may start with (everything else must be in the repository).
TOOLS = {"export", "cd", "mpirun", "cmake", "pip", "python3", "git", "ls", "cat", "mkdir", "cp", "echo", "source"}
# Files the build makes, each with the file of the repository that makes it.
BUILT = {"build/bin/mlpot": "CMakeLists.txt", "build/bin/lmp": "scripts/build.sh",
         "build-cuda/bin/mlpot": "scripts/build.sh"}

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```(\w*)\s*$")
INLINE = re.compile(r"`([^`\n]+)`")
MLPOT_CMD = re.compile(r"(?:^|[\s/(])mlpot\s+([a-z][a-z/-]*)(.*)")
OPTION = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")


def doc_files(root):
    files = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    extra = root / "perf" / "results" / "README.md"
    return files + ([extra] if extra.exists() else [])


def code_spans(text):
    """(line number, code, is_block, language) for each fenced code line and inline code span."""
    out, lang, in_block = [], "", False
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line.strip())
        if m:
            in_block, lang = (not in_block), (m.group(1) if not in_block else "")
            continue
        if in_block:
            out.append((n, line, True, lang))
        else:
            out += [(n, s, False, "") for s in INLINE.findall(line)]
    return out


class Checker:
    _help = {}  # (mlpot, verb) -> its --help text, shared by every Checker: each call starts LibTorch

    def __init__(self, root, mlpot):
        self.root, self.mlpot, self.failures = root, mlpot, []

    def fail(self, where, what):
        self.failures.append(f"{where}: {what}")

    def help(self, verb=None):
        key = (self.mlpot, verb)
        if key not in self._help:
            r = subprocess.run([self.mlpot] + ([verb] if verb else []) + ["--help"], capture_output=True, text=True)
            if r.returncode != 0:
                self.fail(f"mlpot {verb or ''} --help", f"exit {r.returncode}: {r.stderr.strip()}")
            self._help[key] = r.stdout
        return self._help[key]

    def options(self, verb):
        return set(OPTION.findall(self.help(verb)))

    def verbs(self):
        """The commands `mlpot --help` lists (its `commands:` block, a line `  VERB ...` each)."""
        block = self.help().split("\ncommands:\n", 1)[-1].split("\n\n", 1)[0]
        return set(re.findall(r"^  ([a-z][a-z-]*)(?:\s|$)", block, re.M))

    def check_links(self, path):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for target in LINK.findall(line):
                if re.match(r"[a-z]+:", target) or target.startswith("#"):
                    continue
                file = target.split("#")[0]
                if not (path.parent / file).exists():
                    self.fail(f"{path.relative_to(self.root)}:{n}", f"link to '{target}' does not resolve")

    def check_usage_quote(self):
        cli = self.root / "docs" / "cli.md"
        if not cli.exists():
            self.fail("docs/cli.md", "missing")
            return
        text = cli.read_text()
        m = re.search(r"^## Usage text\s*\n.*?^```\w*\n(.*?)^```", text, re.S | re.M)
        if not m:
            self.fail("docs/cli.md", "no '## Usage text' section with a code block")
        elif m.group(1) != self.help():
            self.fail("docs/cli.md", "the quoted usage text differs from `mlpot --help`")
        # Standalone options written in the CLI page must be options of some command.
        known = set().union(*(self.options(v) for v in self.verbs()))
        for n, code, _, _ in code_spans(text):
            for opt in OPTION.findall(code) if code.startswith("--") else []:
                if opt not in known:
                    self.fail(f"docs/cli.md:{n}", f"option --{opt} is no mlpot option")

    def check_commands(self, path):
        for n, code, _, _ in code_spans(path.read_text()):
            for m in MLPOT_CMD.finditer(code):
                verbs, rest = m.group(1).split("/"), m.group(2)
                rest = re.split(r"\s#|\||;|&&", rest)[0]
                for verb in verbs:
                    if verb not in self.verbs():
                        self.fail(f"{path.relative_to(self.root)}:{n}", f"'mlpot {verb}' is no mlpot command")
                        continue
                    for opt in OPTION.findall(rest):
                        if opt not in self.options(verb) and opt != "help":
                            self.fail(f"{path.relative_to(self.root)}:{n}", f"'mlpot {verb}' has no option --{opt}")

    def check_accepted(self):
        """Each option a command's usage lists is accepted by it (not refused as unknown): all of
        them in one call per command (the first unknown one would be named). A command whose
        usage lines name a subcommand (`  build li2co3 --cells ...`) is called once per
        subcommand with the options of its line."""
        for verb in sorted(self.verbs()):
            subcommands = re.findall(rf"^  {verb} ([a-z][a-z0-9]*)(\s.*)$", self.help(verb), re.M)
            groups = [(f"{verb} {sub}", set(OPTION.findall(line))) for sub, line in subcommands] \
                or [(verb, self.options(verb))]
            for command, opts in groups:
                args = command.split() + [a for o in sorted(opts) for a in (f"--{o}", "x")]
                r = subprocess.run([self.mlpot] + args, capture_output=True, text=True)
                if "unknown option" in r.stderr or "unexpected argument" in r.stderr:
                    self.fail(f"mlpot {verb} --help", f"lists an option {command} refuses: {r.stderr.strip()}")

    def check_readme_commands(self):
        readme = self.root / "README.md"
        for n, code, block, lang in code_spans(readme.read_text()):
            if not block or lang not in ("sh", "bash", "shell", "console"):
                continue
            for command in re.split(r"&&|;|\|", code.split(" #")[0]):
                words = [w for w in command.split() if not re.match(r"^[A-Z_][A-Z0-9_]*=", w)]
                if not words:
                    continue
                first = words[0]
                if first in TOOLS:
                    continue
                if first in BUILT:
                    maker = self.root / BUILT[first]
                    if not maker.exists():
                        self.fail(f"README.md:{n}", f"'{first}' is made by {BUILT[first]}, which is missing")
                    continue
                if "/" in first and (self.root / first).is_file():
                    continue
                self.fail(f"README.md:{n}", f"'{first}' is neither in the repository nor a standard tool")

    def run(self, with_binary_checks=True):
        for path in doc_files(self.root):
            self.check_links(path)
            if path.parent.name == "docs" or path.name == "README.md" and path.parent == self.root:
                self.check_commands(path)
        self.check_usage_quote()
        if with_binary_checks:
            self.check_accepted()
        self.check_readme_commands()
        return self.failures


def self_test(mlpot):
    """A copy with one fault of each kind must give exactly those failures."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "docs").mkdir()
        (root / "scripts").mkdir()
        (root / "scripts" / "test.sh").write_text("")
        (root / "CMakeLists.txt").write_text("")
        help_text = subprocess.run([mlpot, "--help"], capture_output=True, text=True).stdout
        (root / "docs" / "cli.md").write_text("## Usage text\n```text\n" + help_text + "```\n\n`--bogus-flag`\n")
        (root / "README.md").write_text(
            "[ok](docs/cli.md) [broken](docs/nope.md)\n\n```sh\nscripts/test.sh\nscripts/nope.sh\n"
            "build/bin/mlpot eval --model m.mtp --input in.cfg --bogus 1\nbuild/bin/mlpot frobnicate\n```\n")
        got = Checker(root, mlpot).run(with_binary_checks=False)
        want = ["nope.md", "--bogus-flag", "scripts/nope.sh", "no option --bogus", "'mlpot frobnicate'"]
        missing = [w for w in want if not any(w in f for f in got)]
        if missing or len(got) != len(want):
            print("self-test FAILED: expected one failure for each of", want, "got:", *got, sep="\n  ")
            return False
        # And the usage quote must be compared: change one character.
        (root / "docs" / "cli.md").write_text("## Usage text\n```text\n" + help_text.replace("usage", "Usage", 1) + "```\n")
        got = Checker(root, mlpot).run(with_binary_checks=False)
        if not any("differs from `mlpot --help`" in f for f in got):
            print("self-test FAILED: a changed usage quote was not noticed:", got)
            return False
    print("self-test: each kind of fault is found")
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlpot", required=True)
    ap.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    args = ap.parse_args()
    ok = self_test(args.mlpot)
    failures = Checker(Path(args.root), args.mlpot).run()
    for f in failures:
        print("FAIL", f)
    n_files = len(doc_files(Path(args.root)))
    print(f"checked {n_files} files: {len(failures)} problem(s)")
    print(f"{int(ok) + int(not failures)} passed, {int(not ok) + int(bool(failures))} failed")
    return 0 if ok and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
