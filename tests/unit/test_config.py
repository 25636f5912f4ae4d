"""sip.conf: defaults, and mistakes reported at start-up with their section and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.config import MAX_INBOUND_CALLS, ConfigError, load_config
from ivr.domain import AfterHours, UnknownCallers

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_loads_and_stays_on_loopback() -> None:
    config = load_config(REPO / "sip.conf.example")
    assert config.listen_host == "127.0.0.1"
    assert config.trunk.registrar is None
    assert config.max_calls <= MAX_INBOUND_CALLS
    assert config.public_number == "+442033551151"


def test_relative_sqlite_path_is_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[general]\ndatabase = sqlite:///var/x.db\n"))
    assert config.database_url == f"sqlite:///{tmp_path}/var/x.db"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[general]\nmax_calls = 300\n", "[general] max_calls"),
        ("[general]\nlisten = nowhere\n", "[general] listen"),
        ("[general]\ntimezone = Mars/Olympus\n", "[general] timezone"),
        ("[trunk]\ntrusted_addresses = 999.0.0.1\n", "[trunk] trusted_addresses"),
        ("[menu]\ntries = 0\n", "[menu] tries"),
        ("[hours]\nopen = 17:00\nclose = 09:00\n", "[hours]"),
    ],
)
def test_mistakes_name_their_key(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace("[", r"\[").replace("]", r"\]")):
        load_config(write(tmp_path, text))


# ---- issue 18: every mistake refused at load, by file, line and name -----------------------


def problems(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={} if environ is None else environ)
    return [str(problem) for problem in caught.value.problems]


def test_percent_is_a_character_not_interpolation(tmp_path: Path) -> None:
    url = "postgresql+psycopg://ivr:50%25off@db.internal/faultline"
    config = load_config(
        write(tmp_path, f"[general]\ndatabase = {url}\n[trunk]\npassword = 100%sure%(x)s\n"),
        environ={},
    )
    assert config.trunk.password == "100%sure%(x)s"
    assert config.database_url == url


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "sip.conf"
    path.write_bytes(b"[support]\nticket = caf\xe9 desk\n")
    assert problems(path) == [f"{path}:2: not UTF-8 text (byte 0xe9); save the file as UTF-8"]


def test_an_unknown_section_names_the_nearest(tmp_path: Path) -> None:
    path = write(tmp_path, "[general]\n\n[gaurd]\nenabled = no\n")
    assert problems(path) == [f"{path}:3: [gaurd]: unknown section; did you mean [guard]?"]


def test_an_unknown_key_names_the_nearest(tmp_path: Path) -> None:
    path = write(tmp_path, "[general]\nmax_cals = 20\n[trunk]\nrequire_trusted_sourse = yes\n")
    assert problems(path) == [
        f"{path}:2: [general] max_cals: unknown setting; did you mean max_calls?",
        f"{path}:4: [trunk] require_trusted_sourse: unknown setting; "
        "did you mean require_trusted_source?",
    ]


def test_an_unknown_key_with_no_near_name_lists_the_valid_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "[support]\nphone = 0800\n")
    assert problems(path) == [
        f"{path}:2: [support] phone: unknown setting; expected one of email, ticket"
    ]


def test_an_unknown_holiday_region_is_refused_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "[hours]\nholidays = XX-YY\n")
    assert problems(path) == [
        f"{path}:2: [hours] holidays: unknown holiday region 'XX-YY': Country XX not available"
    ]


def test_an_unknown_kind_of_database_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[general]\ndatabase = bogus://\n")
    assert problems(path) == [
        f"{path}:2: [general] database: unknown kind of database 'bogus'; "
        "expected sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/NAME"
    ]


def test_a_database_url_that_does_not_parse_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = write(tmp_path, "[general]\ndatabase = secret-password-here\n")
    [message] = problems(path)
    assert message.startswith(f"{path}:2: [general] database: cannot read it as a database URL")
    assert "secret-password-here" not in message


def test_a_sqlite_file_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, f"[general]\ndatabase = sqlite:///{tmp_path}/typo/faultline.db\n")
    assert problems(path) == [
        f"{path}:2: [general] database: the directory {tmp_path}/typo does not exist; "
        "create it or correct the path (a new, empty database there would turn every "
        "caller away)"
    ]
    assert not (tmp_path / "typo").exists()


def test_a_sqlite_file_in_the_data_directory_may_come_first(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "[general]\ndata_dir = run\ndatabase = sqlite:///run/x.db\n")
    )
    assert config.database_url == f"sqlite:///{tmp_path}/run/x.db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[general]\nlisten = 127.0.0.1:99999", "[general] listen: must be from 1 to 65535"),
        ("[general]\nrtp_timeout = -5", "[general] rtp_timeout: must be from 0 to 3600 seconds"),
        (
            "[general]\nlog_level = loud",
            "[general] log_level: expected debug or info or warning or error, got 'loud'",
        ),
        ("[prompts]\nvolume = 1.5", "[prompts] volume: must be from 0 to 1, got 1.5"),
        ("[prompts]\nrate = 9000", "[prompts] rate: must be from 80 to 450 words a minute"),
        ("[menu]\nfirst_digit_timeout = nan", "[menu] first_digit_timeout: must be from 1 to"),
        ("[recording]\nmax_seconds = 1e9", "[recording] max_seconds: must be from 1 to 3600"),
        ("[guard]\nban_seconds = 99999999999999", "[guard] ban_seconds: must be from 1 to"),
        ("[web]\nsession_hours = 0", "[web] session_hours: must be from 0.1 to 720 hours"),
        ("[hours]\nopen = 9am", "[hours] open: expected HH:MM, got '9am'"),
        ("[general]\npublic_number = 12", "[general] public_number: "),
        ("[hours]\nclose = 08:00", "[hours] close: must be after open (09:00)"),
    ],
)
def test_every_value_has_its_range(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text + "\n")
    [found] = problems(path)
    assert found.startswith(f"{path}:2: {message}"), found


def test_every_problem_is_listed_in_line_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[general]\nmax_calls = 0\ntimezone = Mars/Olympus\n[menu]\ntries = 99\n[gaurd]\n",
    )
    assert [message.split(": ")[1] for message in problems(path)] == [
        "[general] max_calls",
        "[general] timezone",
        "[menu] tries",
        "[gaurd]",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[general]\nlisten\n", ":2: cannot read 'listen'; expected KEY = VALUE or [SECTION]"),
        ("[menu]\ntries = 2\ntries = 3\n", ":3: [menu] tries: given twice in this section"),
        ("tries = 2\n", ":1: a setting before any [SECTION]"),
    ],
)
def test_a_file_that_does_not_parse_names_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert problems(path) == [f"{path}{message}"]


# ---- secrets from a file or the environment ------------------------------------------------


def test_a_secret_may_come_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "trunk.secret").write_text("s3cret;#%\n", encoding="utf-8")
    (tmp_path / "db.secret").write_text(f"sqlite:///{tmp_path}/from-file.db\n", encoding="utf-8")
    path = write(
        tmp_path,
        "[general]\ndatabase_file = db.secret\n[trunk]\npassword_file = trunk.secret\n",
    )
    config = load_config(path, environ={})
    assert config.trunk.password == "s3cret;#%"
    assert config.database_url == f"sqlite:///{tmp_path}/from-file.db"


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[trunk]\npassword = in-the-file\n")
    environ = {"IVR_TRUNK_PASSWORD": "from-env", "IVR_DATABASE_URL": f"sqlite:///{tmp_path}/e.db"}
    config = load_config(path, environ=environ)
    assert config.trunk.password == "from-env"
    assert config.database_url == f"sqlite:///{tmp_path}/e.db"


def test_secret_mistakes_are_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[trunk]\npassword = x\npassword_file = missing.secret\n",
    )
    assert problems(path) == [
        f"{path}:3: [trunk] password_file: give password or password_file, not both",
        f"{path}:3: [trunk] password_file: cannot read {tmp_path}/missing.secret: "
        "No such file or directory",
    ]
    environ = {"IVR_DATABASE_URL": "bogus://"}
    assert problems(write(tmp_path, "[general]\n"), environ) == [
        f"{path}: [general] database: from $IVR_DATABASE_URL: unknown kind of database 'bogus'; "
        "expected sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/NAME"
    ]


def test_unknown_callers_and_after_hours_are_choices(tmp_path: Path) -> None:
    defaults = load_config(write(tmp_path, "[general]\n"), environ={})
    assert defaults.menu.unknown_callers is UnknownCallers.PIN
    assert defaults.hours.after_hours is AfterHours.CRITICAL_ONLY
    chosen = load_config(
        write(tmp_path, "[menu]\nunknown_callers = refuse\n[hours]\nafter_hours = ALL\n"),
        environ={},
    )
    assert chosen.menu.unknown_callers is UnknownCallers.REFUSE
    assert chosen.hours.after_hours is AfterHours.ALL
    path = write(tmp_path, "[menu]\nunknown_callers = ask\n[hours]\nafter_hours = some\n")
    assert problems(path) == [
        f"{path}:2: [menu] unknown_callers: expected pin or refuse, got 'ask'",
        f"{path}:4: [hours] after_hours: expected critical_only or all, got 'some'",
    ]
