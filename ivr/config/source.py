"""Reading sip.conf: where each setting was written, what was wrong, what is in force.

The section parsers ask for settings by name; whatever they never asked for
is a misspelling, so the names they ask for are the one list of valid names
and an unknown one is reported with the nearest of them. Problems are
collected rather than raised one by one, so that an operator fixes the whole
file in one pass.
"""

from __future__ import annotations

import ast
import configparser
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

T = TypeVar("T")

# A ";" or "#" after a space starts a comment, as in the rest of the file.
INLINE_COMMENTS = (";", "#")
SECRET_FILE_SUFFIX = "_file"
MASK = "********"


@dataclass(frozen=True)
class Problem:
    """One mistake, located so that an operator can go straight to it."""

    file: Path
    line: int | None  # None or 0: not on a line (a setting from the environment)
    setting: str  # "[general] max_calls", "[gaurd]", or "" for the file as a whole
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return (
            f"{where}: {self.setting}: {self.message}"
            if self.setting
            else f"{where}: {self.message}"
        )


class ConfigError(ValueError):
    """The configuration cannot be used; every problem found is listed, one a line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class Invalid(ValueError):
    """A value parser's refusal; the reader adds the file, line and setting."""


class Setting(NamedTuple):
    """One setting in force, as `ivr config check` shows it (secrets masked)."""

    section: str
    key: str
    value: str
    origin: str  # "line 12", "default", "$IVR_TRUNK_PASSWORD", "file /etc/ivr/pw (line 14)"


def resolve_path(base: Path, raw: str) -> Path:
    """A path from sip.conf: a relative one is relative to `base`, never to the cwd."""
    path = Path(raw).expanduser()
    return path if path.is_absolute() else base / path


_SECTION_LINE = re.compile(r"\[(?P<name>[^]]+)\]")
_KEY_LINE = re.compile(r"(?P<key>[^=:\s][^=:]*?)\s*[=:]")


def _locate(text: str) -> dict[tuple[str, str | None], int]:
    """The line of each section header and key, as configparser will read them.

    configparser keeps no line numbers, so the file is scanned the same way:
    an indented line after a key continues its value.
    """
    where: dict[tuple[str, str | None], int] = {}
    section: str | None = None
    in_value = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in INLINE_COMMENTS:
            continue
        if line[0].isspace() and in_value:
            continue
        header = _SECTION_LINE.match(stripped)
        if header:
            section, in_value = header["name"], False
            where.setdefault((section, None), number)
            continue
        key = _KEY_LINE.match(stripped)
        if key and section is not None:
            where.setdefault((section, key["key"].strip().lower()), number)
            in_value = True
    return where


def _nearest(name: str, valid: list[str], brackets: bool = False) -> str:
    def show(candidate: str) -> str:
        return f"[{candidate}]" if brackets else candidate

    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    if close:
        return f"did you mean {show(close[0])}?"
    return f"expected one of {', '.join(show(candidate) for candidate in sorted(valid))}"


class Source:
    """One sip.conf being read: its text, the environment, and the reader's findings."""

    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self.path = path
        self.base = path.resolve().parent
        self.environ = environ
        self.problems: list[Problem] = []
        self.settings: list[Setting] = []
        self.parser = configparser.ConfigParser(
            interpolation=None, inline_comment_prefixes=INLINE_COMMENTS
        )
        self._lines: dict[tuple[str, str | None], int] = {}
        self._asked: dict[str, tuple[str, set[str]]] = {}
        self._read()

    def _read(self) -> None:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            self.problems.append(Problem(self.path, None, "", f"cannot read it: {exc.strerror}"))
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.problems.append(
                Problem(
                    self.path,
                    line,
                    "",
                    f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
                )
            )
            return
        try:
            self.parser.read_string(text, source=str(self.path))
        except configparser.Error as exc:
            self.problems.append(Problem(self.path, *_syntax(exc)))
            return
        self._lines = _locate(text)

    def line(self, section: str, key: str | None = None) -> int | None:
        return self._lines.get((section, key))

    def section(self, name: str, what: str = "setting") -> Section:
        """The section `name` (empty if the file lacks it); `what` names its keys in messages."""
        self._asked.setdefault(name, (what, set()))
        return Section(self, name)

    def problem(self, section: str, key: str | None, message: str, line: int | None = None) -> None:
        setting = f"[{section}] {key}" if key else f"[{section}]"
        found = line if line is not None else self.line(section, key) or self.line(section)
        self.problems.append(Problem(self.path, found, setting, message))

    def asked(self, section: str, key: str) -> None:
        self._asked[section][1].add(key)

    def unknown_names(self) -> None:
        """Report every section and key no parser asked for, with the nearest valid name."""
        if self.parser.defaults():
            self.problem(
                "DEFAULT", None, "sip.conf has no DEFAULT section; give each setting its section"
            )
        valid_sections = list(self._asked)
        for name in self.parser.sections():
            if name not in self._asked:
                self.problem(name, None, f"unknown section; {_nearest(name, valid_sections, True)}")
                continue
            what, valid_keys = self._asked[name]
            for key in self.parser.options(name):
                if key not in valid_keys and key not in self.parser.defaults():
                    self.problem(name, key, f"unknown {what}; {_nearest(key, sorted(valid_keys))}")


def _syntax(exc: configparser.Error) -> tuple[int | None, str, str]:
    """Where configparser stopped and why, in this module's words."""
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return exc.lineno, "", "a setting before any [SECTION]"
    if isinstance(exc, configparser.ParsingError):
        line, shown = exc.errors[0]  # the line as repr() shows it
        written = ast.literal_eval(shown).strip()
        return line, "", f"cannot read {written!r}; expected KEY = VALUE or [SECTION]"
    if isinstance(exc, configparser.DuplicateOptionError):
        return exc.lineno, f"[{exc.section}] {exc.option}", "given twice in this section"
    if isinstance(exc, configparser.DuplicateSectionError):
        return exc.lineno, f"[{exc.section}]", "this section is given twice"
    return None, "", exc.message.splitlines()[0]


class Section:
    """Reads one section's settings; every read also marks the name as valid."""

    def __init__(self, source: Source, name: str) -> None:
        self.source = source
        self.name = name
        self._values = source.parser[name] if source.parser.has_section(name) else {}
        self._failed: set[str] = set()

    def raw(self, key: str) -> str | None:
        """The text written for `key`, or None when it is absent or empty."""
        self.source.asked(self.name, key)
        value = self._values.get(key)
        return value.strip() if value is not None and value.strip() else None

    def written(self, key: str) -> str | None:
        """The text written for `key`, "" when it is empty, None when it is absent."""
        self.source.asked(self.name, key)
        value = self._values.get(key)
        return None if value is None else value.strip()

    def problem(self, key: str | None, message: str) -> None:
        if key is not None:
            self._failed.add(key)
        self.source.problem(self.name, key, message)

    def ok(self, *keys: str) -> bool:
        """Whether these settings were read without a problem (to skip checks across them)."""
        return not self._failed.intersection(keys)

    def get(
        self,
        key: str,
        default: str,
        parse: Callable[[str], T],
        show: Callable[[T], str] | None = None,
        secret_env: str | None = None,
        keep_empty: bool = False,
    ) -> T:
        """Parse the setting, or `default` when it is absent or wrong (the mistake is recorded).

        A secret (`secret_env` names its environment variable) may instead
        come from that variable or from `KEY_file = PATH`; it is shown masked.
        With `keep_empty`, an empty value is parsed rather than defaulted.
        """
        origin = f"line {self.source.line(self.name, key)}"
        line: int | None = None
        if keep_empty:
            raw = self.written(key)
        elif secret_env is None:
            raw = self.raw(key)
        else:
            raw, origin, line = self._secret(key, secret_env)
        text = raw if raw is not None else default
        if raw is None:
            origin = "default"
        try:
            value = parse(text)
        except Invalid as exc:
            where = "" if secret_env is None or origin.startswith("line") else f"from {origin}: "
            self._failed.add(key)
            self.source.problem(self.name, key, f"{where}{exc}", line)
            value = parse(default)
        if show is not None:
            shown = show(value)
        elif secret_env is not None:
            shown = MASK if raw else ""
        else:
            shown = text
        self.source.settings.append(Setting(self.name, key, shown, origin))
        return value

    def _secret(self, key: str, env: str) -> tuple[str | None, str, int | None]:
        """The secret's text, where it came from, and the line to blame for it."""
        inline = self.raw(key)
        file_key = key + SECRET_FILE_SUFFIX
        file_name = self.raw(file_key)
        line = self.source.line(self.name, key)
        if inline is not None and file_name is not None:
            self.problem(file_key, f"give {key} or {file_key}, not both")
        from_env = self.source.environ.get(env, "").strip()
        if from_env:
            return from_env, f"${env}", 0
        if file_name is None:
            return inline, f"line {line}", line
        path = resolve_path(self.source.base, file_name)
        file_line = self.source.line(self.name, file_key)
        try:
            value = path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            self.problem(file_key, f"cannot read {path}: {reason}")
            return None, "default", file_line
        if not value:
            self.problem(file_key, f"{path} is empty")
            return None, "default", file_line
        return value, f"file {path} (line {file_line})", file_line
