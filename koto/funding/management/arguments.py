"""Arguments the funding commands share."""

import argparse

from koto.funding.compensation import FIRST_AMOUNT_YEAR, LAST_YEAR


def year(text: str) -> int:
    """`--year`: a year the amounts are known for, as the pages and the API take it
    (argparse turns the error into a CommandError naming the argument)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a year: {text!r}") from None
    if not FIRST_AMOUNT_YEAR <= value <= LAST_YEAR:
        raise argparse.ArgumentTypeError(
            f"{value} is not a year from {FIRST_AMOUNT_YEAR} to {LAST_YEAR}"
        )
    return value
