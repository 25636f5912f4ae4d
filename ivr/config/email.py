"""sip.conf `[email]`: the SMTP server the customers' e-mails go through.

The section is optional: without it nothing is sent (`ivr serve` says so
once). With it, the server and the From address are required, and a user
name and password come together or not at all.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr

from ivr.config.model import EmailConfig
from ivr.config.source import Invalid, Section
from ivr.config.values import boolean, decimal, host_port, text, whole, yes_no

SMTP_PASSWORD_ENV = "IVR_SMTP_PASSWORD"


def _optional_host_port(raw: str) -> tuple[str, int] | None:
    return host_port(raw) if raw else None


def _show_host_port(value: tuple[str, int] | None) -> str:
    if value is None:
        return ""
    host, port = value
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def mailbox(raw: str) -> str:
    """An address as a mail server takes it: `name@domain`, optionally with a display name."""
    name, address = parseaddr(raw)
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise Invalid(f"expected an e-mail address such as faults@example.com, got {raw!r}")
    try:
        Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError) as exc:
        raise Invalid(f"{raw!r} is not an e-mail address: {exc}") from None
    return raw.strip()


def _optional_mailbox(raw: str) -> str:
    return mailbox(raw) if raw else ""


def email_config(section: Section, present: bool) -> EmailConfig | None:
    """The `[email]` settings, or None when the file has no such section."""
    if not present:
        return None
    defaults = EmailConfig(smtp_host="", smtp_port=0, sender="")
    server = section.get("smtp", "", _optional_host_port, show=_show_host_port)
    sender = section.get("from", "", _optional_mailbox)
    username = section.get("username", "", text)
    password = section.get("password", "", text, secret_env=SMTP_PASSWORD_ENV)
    config = EmailConfig(
        smtp_host=server[0] if server else "",
        smtp_port=server[1] if server else 0,
        sender=sender,
        starttls=section.get("starttls", yes_no(defaults.starttls), boolean, show=yes_no),
        username=username,
        password=password,
        timeout_seconds=section.get("timeout_seconds", "30", decimal(1, 600, " seconds")),
        retry_first_seconds=section.get(
            "retry_first_seconds", "30", decimal(0.1, 86400, " seconds")
        ),
        retry_max_seconds=section.get("retry_max_seconds", "3600", decimal(0.1, 86400, " seconds")),
        max_attempts=section.get("max_attempts", "8", whole(1, 100)),
        poll_seconds=section.get("poll_seconds", "5", decimal(0.1, 3600, " seconds")),
    )
    if server is None and section.ok("smtp"):
        section.problem(
            "smtp", "required: the mail server as HOST:PORT (e.g. mail.example.com:587)"
        )
    if not sender and section.ok("from"):
        section.problem("from", "required: the address the e-mails come from")
    if bool(username) != bool(password) and section.ok("password", "password_file"):
        missing = "password (or password_file)" if username else "username"
        section.problem("password" if username else "username", f"give {missing} as well")
    if config.retry_max_seconds < config.retry_first_seconds and section.ok(
        "retry_first_seconds", "retry_max_seconds"
    ):
        section.problem("retry_max_seconds", "must not be shorter than retry_first_seconds")
    return config
