"""The roadmap item's fields and rows, and the validation of every value a phone or a form
may send for them. Pure: no I/O, no framework, no database.

Each ``clean_*`` returns the value as it is stored and revised (JSON: text, a key or None,
``{"amount": "1200.50", "currency": "PEN"}`` for a budget, a bool, an int), or raises
``Invalid`` with a translated message keyed by the field, before anything is written.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from server.activities.values import whole_in
from server.errors import Invalid
from server.i18n import N_, Message

ITEM_FIELDS = (
    "title",
    "description",
    "horizon",
    "phase",
    "lead_organization",
    "budget",
    "funding_source",
    "pilot",
    "status",
    "progress",
)
ROW_KINDS = ("partner", "milestone", "indicator")
ROW_FIELDS = {
    "partner": ("organization",),
    "milestone": ("text", "date"),
    "indicator": ("name", "baseline", "target", "unit"),
}

HORIZONS = ("short", "medium", "long")
HORIZON_LABELS = {"short": N_("Short term"), "medium": N_("Medium term"), "long": N_("Long term")}
STATUSES = ("proposed", "agreed", "under_way", "done", "dropped")
STATUS_LABELS = {
    "proposed": N_("Proposed"),
    "agreed": N_("Agreed"),
    "under_way": N_("Under way"),
    "done": N_("Done"),
    "dropped": N_("Dropped"),
}
ROLES = ("lead", "partner", "funder", "other")
ROLE_LABELS = {"lead": N_("Lead"), "partner": N_("Partner"), "funder": N_("Funder"), "other": N_("Other")}
FIELD_LABELS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "horizon": N_("Horizon"),
    "phase": N_("Phase"),
    "lead_organization": N_("Lead organization"),
    "budget": N_("Budget"),
    "funding_source": N_("Funding source"),
    "pilot": N_("Pilot project"),
    "status": N_("Status"),
    "progress": N_("Progress"),
    "partner": N_("Partner"),
    "milestone": N_("Milestone"),
    "indicator": N_("Indicator"),
}

# Longest texts (the columns of models/roadmap.py).
MAX = {
    "title": 300,
    "description": 4000,
    "lead_organization": 200,
    "funding_source": 200,
    "organization": 200,
    "text": 300,
    "name": 200,
    "baseline": 100,
    "target": 100,
    "unit": 60,
    "note": 500,
    "comment": 1000,
}
BUDGET_MAX = Decimal("999999999999.99")
_AMOUNT = re.compile(r"^[0-9]{1,15}([.,][0-9]+)?$")
# ISO 4217 codes in use.
_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW
    ZWL
"""
CURRENCIES = frozenset(_CODES.split())
TRUE, FALSE = ("1", "on", "true", "yes"), ("", "0", "off", "false", "no")


def refuse(field: str, message: str, **params) -> Invalid:
    return Invalid({field: Message(message, **params)})


def clean_text(field: str, raw, *, required: bool = False, max_length: int | None = None) -> str:
    """A text as sent (a string), stripped; never NUL (PostgreSQL refuses it), never longer
    than its column."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise refuse(field, N_("Write a text."))
    value = raw.strip()
    limit = max_length or MAX[field]
    if "\x00" in value:
        raise refuse(field, N_("Write a text."))
    if required and not value:
        raise refuse(field, N_("This field is required."))
    if len(value) > limit:
        raise refuse(field, N_("At most %(n)s characters."), n=limit)
    return value


def clean_choice(field: str, raw, choices, *, optional: bool = True) -> str | None:
    if raw is None or raw == "":
        if optional:
            return None
        raise refuse(field, N_("Choose one of the options."))
    if not isinstance(raw, str) or raw not in choices:
        raise refuse(field, N_("Choose one of the options."))
    return raw


def clean_amount(raw) -> Decimal:
    """A non-negative amount with at most two decimals (a comma or a point), at most
    ``BUDGET_MAX``: never a float (a form's text, a JSON integer or a string)."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise refuse("budget", N_("Write the amount as a number, for example 15000.50."))
    text = str(raw).strip().replace(" ", "")
    if text.startswith("-"):
        raise refuse("budget", N_("The budget cannot be negative."))
    if not _AMOUNT.match(text):
        raise refuse("budget", N_("Write the amount as a number, for example 15000.50."))
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise refuse("budget", N_("Write the amount as a number, for example 15000.50.")) from None
    if amount != amount.quantize(Decimal("0.01")):
        raise refuse("budget", N_("At most two decimals."))
    if amount > BUDGET_MAX:
        raise refuse("budget", N_("At most %(n)s."), n="999,999,999,999.99")
    return amount.quantize(Decimal("0.01"))


def clean_budget(raw) -> dict | None:
    """``{"amount": ..., "currency": ...}`` (or None, no budget): the amount as text with two
    decimals, the currency an ISO 4217 code."""
    if raw is None or raw == "" or raw == {}:
        return None
    if not isinstance(raw, dict) or set(raw) - {"amount", "currency"}:
        raise refuse("budget", N_("Write the amount as a number, for example 15000.50."))
    amount, currency = raw.get("amount"), raw.get("currency")
    if amount in (None, ""):
        if currency in (None, ""):
            return None
        raise refuse("budget", N_("Write the amount as a number, for example 15000.50."))
    value = clean_amount(amount)
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if code not in CURRENCIES:
        raise refuse("budget", N_("Choose a currency (an ISO code such as PEN or USD)."))
    return {"amount": f"{value:.2f}", "currency": code}


def clean_bool(field: str, raw) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw is None:
        return False
    if isinstance(raw, str) and raw.strip().lower() in TRUE + FALSE:
        return raw.strip().lower() in TRUE
    raise refuse(field, N_("Choose one of the options."))


def clean_progress(raw) -> int:
    value = whole_in(raw, 0, 100)
    if value is None:
        raise refuse("progress", N_("Progress is a whole number from 0 to 100."))
    return value


def clean_field(field: str, raw, phases) -> object:
    """The stored value of one of ``ITEM_FIELDS``; ``phases`` are the keys one may choose."""
    if field in ("title",):
        return clean_text(field, raw, required=True)
    if field in ("description", "lead_organization", "funding_source"):
        return clean_text(field, raw)
    if field == "horizon":
        return clean_choice(field, raw, HORIZONS)
    if field == "phase":
        return clean_choice(field, raw, phases)
    if field == "status":
        return clean_choice(field, raw, STATUSES, optional=False)
    if field == "budget":
        return clean_budget(raw)
    if field == "pilot":
        return clean_bool(field, raw)
    if field == "progress":
        return clean_progress(raw)
    raise refuse("field", N_("This field does not exist."))


def clean_date(raw) -> str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            day = dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
        else:
            if 2000 <= day.year <= 2100:
                return day.isoformat()
    raise refuse("date", N_("Write a date such as 2027-03-31."))


def clean_row(kind: str, raw) -> dict:
    """A list row's values (``ROW_FIELDS[kind]``), all of them."""
    if kind not in ROW_FIELDS:
        raise refuse("field", N_("This field does not exist."))
    if not isinstance(raw, dict) or set(raw) - set(ROW_FIELDS[kind]):
        raise refuse(kind, N_("Fill in the row's fields."))
    if kind == "partner":
        return {"organization": clean_text("organization", raw.get("organization"), required=True)}
    if kind == "milestone":
        return {"text": clean_text("text", raw.get("text"), required=True), "date": clean_date(raw.get("date"))}
    return {
        "name": clean_text("name", raw.get("name"), required=True),
        "baseline": clean_text("baseline", raw.get("baseline")),
        "target": clean_text("target", raw.get("target")),
        "unit": clean_text("unit", raw.get("unit")),
    }


def clean_version(raw) -> int:
    """The version an editor started from, as sent."""
    value = whole_in(raw, 0, 2**31 - 1)
    if value is None:
        raise refuse("__all__", N_("Your phone sent an incomplete answer; please try again."))
    return value


# The item's columns for each field (budget: two).


def field_columns(field: str) -> tuple[str, ...]:
    return ("budget_amount", "budget_currency") if field == "budget" else (field,)


def to_columns(field: str, value) -> dict:
    """The columns an item's field value is stored in."""
    if field == "budget":
        if value is None:
            return {"budget_amount": None, "budget_currency": None}
        return {"budget_amount": Decimal(value["amount"]), "budget_currency": value["currency"]}
    return {field: value}


def from_columns(field: str, row) -> object:
    """An item's field value, as JSON, from its row (a model or a mapping)."""
    get = row.get if isinstance(row, dict) else lambda c: getattr(row, c)
    if field == "budget":
        amount = get("budget_amount")
        if amount is None:
            return None
        return {"amount": f"{Decimal(amount):.2f}", "currency": get("budget_currency")}
    return get(field)
