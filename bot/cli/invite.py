"""`matchbot invite company REF_OR_NAME`: a single-use link that makes its user a contact of a
company, for the programme office to e-mail to the company's imported contact."""

from __future__ import annotations

import httpx
import typer

from bot.cli import database, fail, settings
from kooperation.config import Settings
from kooperation.dates import format_date
from kooperation.db import session_scope
from kooperation.services import membership

invite_app = typer.Typer(help="Single-use invite links.", no_args_is_help=True)


def _bot_username(loaded: Settings) -> str | None:
    """The bot's @username from Telegram (getMe), or None without a token or connection."""
    if not loaded.telegram_bot_token:
        return None
    url = f"{loaded.telegram_api_base_url}{loaded.telegram_bot_token}/getMe"
    try:
        answer = httpx.get(url, timeout=5.0).json()
    except (httpx.HTTPError, ValueError):
        return None
    result = answer.get("result") if isinstance(answer, dict) else None
    return result.get("username") if isinstance(result, dict) else None


@invite_app.command("company")
def invite_company(
    ref_or_name: str = typer.Argument(
        ..., help="A listing ref from the CSV import, the company's id as #ID, or its name."
    ),
) -> None:
    """Creates a single-use link (valid 14 days) that makes its first user a contact of the
    company; send it by e-mail to the contact you know from your records."""
    loaded = settings()
    with session_scope(database(loaded)) as session:
        try:
            company = membership.find_company(session=session, ref_or_name=ref_or_name)
        except membership.CompanyNotFound as error:
            if error.candidates:
                names = "; ".join(error.candidates)
                raise fail(f"{ref_or_name!r} matches several companies: {names}") from None
            raise fail(f"no company matches {ref_or_name!r}") from None
        invite = membership.create_company_invite(
            session=session,
            settings=loaded,
            actor=None,
            organization_id=company.id or 0,
            operator=True,
        )
        name, contact = company.name, company.contact_email or company.contact_name
    payload = membership.company_invite_payload(invite)
    username = _bot_username(loaded)
    link = f"https://t.me/{username or '<bot username>'}?start={payload}"
    until = format_date(invite.expires_at, "en", loaded.tz)
    typer.echo(f"Invite link for {name} (single use, valid until {until}):")
    typer.echo(link)
    if contact:
        typer.echo(f"Imported contact to send it to: {contact}")


def register(app: typer.Typer) -> None:
    app.add_typer(invite_app, name="invite")
