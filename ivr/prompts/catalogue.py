"""The prompt catalogue and the words dynamic speech is built from (pure, no audio).

`prompts/<language>.toml` maps prompt ids to text. Dynamic speech (a
reference read in pairs of digits, an opening time said naturally) is put
together from short pieces -- "four", "tomorrow", "on Tuesday", "oh five",
"a.m." -- which are generated here and rendered once like any prompt. The
functions that choose pieces (`digit_pairs`, `moment_pieces`) are pure, so
the phrasing is tested without audio.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ivr.config import SupportConfig

ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
PLACEHOLDERS = ("ticket", "email")


class PromptError(RuntimeError):
    """A prompt cannot be loaded, rendered or played; the message names it."""


# ---- the prompts the code plays ---------------------------------------------------

# Every catalogue id the fault line plays, by who plays it. A catalogue
# without one of them would fail in the middle of a call, so the library
# refuses to build it. tests/unit/test_prompts.py reads the ids the source
# passes to Prompt(...) and checks them against these lists both ways.
CALL_FLOW_PROMPTS = (
    "greeting",
    "announcement",
    "menu",
    "after_hours_closed",
    "office_opens",
    "after_hours_menu",
    "after_hours_not_taken",
    "after_hours_other_ways",
    "after_hours_logged",
    "invalid_choice",
    "you_chose",
    "priority_standard",
    "priority_high",
    "priority_critical",
    "confirm",
    "unknown_caller",
    "unknown_caller_pin",
    "enter_account",
    "enter_pin",
    "details_not_recognised",
    "details_goodbye",
    "no_choice",
    "fault_logged",
    "describe_fault",
    "recent_fault",
    "recent_fault_options",
    "status_open_fault",
    "status_standard",
    "status_high",
    "status_critical",
    "status_acknowledged",
    "status_due_acknowledge",
    "status_due_respond",
    "status_due_resolve",
    "status_overdue",
    "status_one_other",
    "status_and",
    "status_others",
    "status_repeat",
    "description_added",
    "engineer_paged",
    "no_engineer_now",
    "acknowledge_by",
    "reference_again",
    "goodbye",
    "record_failed",
)
PAGE_FLOW_PROMPTS = (
    "page_intro",
    "page_reminder_intro",
    "page_response_due_in",
    "page_response_overdue",
    "page_customer",
    "page_reference",
    "page_reported",
    "page_caller",
    "page_verified_by_pin",
    "page_options",
    "page_description_option",
    "page_still_describing",
    "page_acknowledged",
    "page_passed",
    "page_goodbye",
    "page_callback_option",
    "page_callback_calling",
    "page_callback_busy",
    "page_callback_no_answer",
    "page_callback_failed",
)
OTHER_PROMPTS = (
    "shutting_down",  # ivr/session.py: a call cut short by the service stopping
    "please_hold",  # ivr/session.py: a commit waiting for the database to come back
    "page_test",  # `ivr page test`
    "callback_about",  # ivr/pager/callback.py: what the customer hears on answering
    "callback_connecting",
)
PLAYED_PROMPT_IDS = frozenset(CALL_FLOW_PROMPTS + PAGE_FLOW_PROMPTS + OTHER_PROMPTS)


# ---- the pieces of dynamic speech -----------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ONES = _words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty"}
_ORDINALS = _words(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
)
_TENS_ORDINALS = {2: "twentieth", 3: "thirtieth"}
SPOKEN_DAYS = _words("monday tuesday wednesday thursday friday saturday sunday")
MONTHS = _words(
    "January February March April May June July August September October November December"
)

DIGIT_ZERO_WORD = "zero"  # clearer than "oh" on a noisy line; reworded in [pieces]


def number_words(n: int) -> str:
    """0-59 in words: 25 -> "twenty five"."""
    if not 0 <= n < 60:
        raise ValueError(f"number_words takes 0-59, got {n}")
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")


def minute_words(minute: int) -> str:
    """Minutes past the hour as said in a time: 5 -> "oh five", 30 -> "thirty"."""
    if not 1 <= minute < 60:
        raise ValueError(f"minute_words takes 1-59, got {minute}")
    return f"oh {_ONES[minute]}" if minute < 10 else number_words(minute)


def ordinal_words(n: int) -> str:
    """1-31 as an ordinal: 23 -> "twenty third"."""
    if not 1 <= n <= 31:
        raise ValueError(f"ordinal_words takes 1-31, got {n}")
    if n < 20:
        return _ORDINALS[n - 1]
    tens, ones = divmod(n, 10)
    return f"{_TENS[tens]} {_ORDINALS[ones - 1]}" if ones else _TENS_ORDINALS[tens]


def default_pieces() -> dict[str, str]:
    """Every piece id dynamic speech may use, with its English text."""
    pieces = {f"digit_{d}": _ONES[d] for d in range(10)}
    pieces["digit_0"] = DIGIT_ZERO_WORD
    pieces |= {
        "today": "today",
        "tomorrow": "tomorrow",
        "at": "at",
        "am": "a.m.",
        "pm": "p.m.",
        "noon": "noon",
        "midnight": "midnight",
    }
    pieces |= {f"on_{day}": f"on {day.capitalize()}" for day in SPOKEN_DAYS}
    pieces |= {f"hour_{h}": number_words(h) for h in range(1, 13)}
    pieces |= {f"minute_{m}": minute_words(m) for m in range(1, 60)}
    pieces |= {f"day_{d}": f"the {ordinal_words(d)}" for d in range(1, 32)}
    pieces |= {f"month_{m}": f"of {name}" for m, name in enumerate(MONTHS, start=1)}
    pieces |= {f"count_{n}": number_words(n) for n in range(1, 60)}
    pieces |= {"minute": "minute", "minutes": "minutes", "hour": "hour", "hours": "hours"}
    pieces["and"] = "and"
    return pieces


# ---- choosing pieces ----------------------------------------------------------------


def digit_pairs(digits: str) -> list[list[str]]:
    """Piece ids for digits read in pairs: "47120" -> [[4, 7], [1, 2], [0]]."""
    if not digits.isdigit():
        raise ValueError(f"digits only, got {digits!r}")
    ids = [f"digit_{d}" for d in digits]
    return [ids[i : i + 2] for i in range(0, len(ids), 2)]


def time_pieces(hour: int, minute: int) -> list[str]:
    """A clock time, 12-hour: 9:00 -> nine a.m., 17:05 -> five oh five p.m., 12:00 -> noon."""
    if minute == 0 and hour == 12:
        return ["noon"]
    if minute == 0 and hour == 0:
        return ["midnight"]
    words = [f"hour_{(hour - 1) % 12 + 1}"]
    if minute:
        words.append(f"minute_{minute}")
    words.append("am" if hour < 12 else "pm")
    return words


def minutes_pieces(minutes: int) -> list[str]:
    """Piece ids for a span: 15 -> fifteen minutes, 125 -> two hours and five minutes."""
    if not 1 <= minutes < 60 * 60:
        raise ValueError(f"minutes_pieces takes 1 to 3599, got {minutes}")
    hours, rest = divmod(minutes, 60)
    words: list[str] = []
    if hours:
        words += [f"count_{hours}", "hour" if hours == 1 else "hours"]
    if hours and rest:
        words.append("and")
    if rest:
        words += [f"count_{rest}", "minute" if rest == 1 else "minutes"]
    return words


def moment_pieces(at: datetime, now: datetime) -> list[str]:
    """Piece ids saying `at` relative to `now` as a caller would expect.

    "today at nine a.m.", "tomorrow at nine thirty a.m.", "on Tuesday at
    nine a.m." within six days; beyond that (or in the past) the date too:
    "on Monday the third of June at nine a.m.".
    """
    if at.tzinfo is not None and now.tzinfo is not None:
        at = at.astimezone(now.tzinfo)
    days = (at.date() - now.date()).days
    weekday = f"on_{SPOKEN_DAYS[at.weekday()]}"
    if days == 0:
        day = ["today"]
    elif days == 1:
        day = ["tomorrow"]
    elif 1 < days <= 6:
        day = [weekday]
    else:
        day = [weekday, f"day_{at.day}", f"month_{at.month}"]
    return [*day, "at", *time_pieces(at.hour, at.minute)]


def moment_text(at: datetime, now: datetime, pieces: Mapping[str, str] | None = None) -> str:
    """The words `moment_pieces` chose, as text ("tomorrow at nine a.m.")."""
    words = pieces if pieces is not None else default_pieces()
    return " ".join(words[piece] for piece in moment_pieces(at, now))


# ---- the catalogue file -------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """A language's prompts (placeholders filled) and the pieces of dynamic speech."""

    path: Path
    prompts: Mapping[str, str]
    pieces: Mapping[str, str]

    def entries(self) -> dict[str, str]:
        """Every id that is rendered, prompts first: id -> text."""
        return {**self.prompts, **self.pieces}

    def missing(self, ids: Collection[str] = PLAYED_PROMPT_IDS) -> list[str]:
        """The ids in `ids` this catalogue has no prompt for, sorted."""
        return sorted(set(ids) - set(self.prompts))

    def require(self, ids: Collection[str] = PLAYED_PROMPT_IDS) -> None:
        """Refuse a catalogue that lacks a prompt the code plays, naming every missing id."""
        missing = self.missing(ids)
        if missing:
            raise PromptError(
                f"{self.path}: missing prompt(s) {', '.join(missing)};"
                " the fault line plays them, so add them to [prompts]"
            )


def _fill(path: Path, prompt_id: str, text: str, support: SupportConfig) -> str:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise PromptError(f"{path}: prompt {prompt_id!r}: {exc} (write {{{{ for a brace)") from None
    for name in fields:
        if name not in PLACEHOLDERS:
            raise PromptError(
                f"{path}: prompt {prompt_id!r} uses unknown placeholder {{{name}}};"
                " only {ticket} and {email} are filled"
            )
    return text.format(ticket=support.ticket, email=support.email).strip()


def _table(path: Path, data: dict[str, object], name: str) -> dict[str, str]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise PromptError(f'{path}: [{name}] must be a table of id = "text"')
    result: dict[str, str] = {}
    for key, value in table.items():
        if not ID_PATTERN.match(key):
            raise PromptError(f"{path}: [{name}] {key!r} is not a valid id (a-z, 0-9, _)")
        if not isinstance(value, str) or not value.strip():
            raise PromptError(f"{path}: [{name}] {key}: expected non-empty text")
        result[key] = value
    return result


def load_catalogue(directory: Path, language: str, support: SupportConfig) -> Catalogue:
    """Read `<directory>/<language>.toml` and fill its placeholders."""
    path = Path(directory) / f"{language}.toml"
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise PromptError(f"no prompt catalogue {path} for language {language!r}") from None
    except OSError as exc:
        raise PromptError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PromptError(f"{path}: {exc}") from None
    raw_prompts = _table(path, data, "prompts")
    if not raw_prompts:
        raise PromptError(f"{path}: no [prompts] table")
    prompts = {key: _fill(path, key, text, support) for key, text in raw_prompts.items()}
    pieces = default_pieces()
    for key, text in _table(path, data, "pieces").items():
        if key not in pieces:
            raise PromptError(f"{path}: [pieces] {key!r} is not a piece of dynamic speech")
        pieces[key] = text.strip()
    clash = sorted(set(prompts) & set(pieces))
    if clash:
        raise PromptError(
            f"{path}: prompt id {clash[0]!r} is also a piece of dynamic speech; rename the prompt"
        )
    return Catalogue(path=path, prompts=prompts, pieces=pieces)
