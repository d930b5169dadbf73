"""Claims: the record of one checked paper claim, and the generic comparisons claim rules are made of.

A claim rule (in ``hessian_spectra/papers/<key>/claims.py``) is a small tested function: the numbers a
notebook computed in, a :class:`Claim` out, with the verdict decided by the rule and the rule stated
in ``note``. Its threshold is the inventory's unless its docstring says why not, and it never changes
after the number was seen. This module holds what every paper's rules share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["VERDICTS", "Claim", "verdict_within", "verdict_at_most", "combine_verdicts", "verdict_nearest"]

VERDICTS: tuple[str, ...] = ("agree", "disagree", "paper_erratum", "not_checkable")


@dataclass
class Claim:
    """One checkable claim of the paper and our verdict on it.

    Attributes:
        id: the inventory scoreboard id (e.g. ``"S1a"``).
        statement: what the paper claims, quoted or closely paraphrased.
        paper_value: the paper's number or qualitative statement, as printed.
        ours: our number or observation.
        verdict: ``agree``, ``disagree``, ``paper_erratum`` (the paper's printed value is wrong and we
            say why in ``note``) or ``not_checkable`` (``note`` says why).
        note: the decision rule applied, or the reason for the verdict.
    """

    id: str
    statement: str
    paper_value: Any
    ours: Any
    verdict: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: unknown verdict {self.verdict!r}; known: {', '.join(VERDICTS)}")
        if self.verdict == "not_checkable" and not self.note:
            raise ValueError(f"claim {self.id}: a not_checkable verdict needs a note saying why")


def verdict_within(ours: float, target: float, rel_tol: float) -> str:
    """``agree`` if ``|ours - target| <= rel_tol * |target|`` else ``disagree``."""
    return "agree" if abs(ours - target) <= rel_tol * abs(target) else "disagree"


def verdict_at_most(value: float, limit: float) -> str:
    """``agree`` if ``value <= limit`` else ``disagree``; ``ValueError`` for a NaN value or limit (a rule
    must decide what a missing number means before calling this)."""
    if value != value or limit != limit:
        raise ValueError(f"verdict_at_most needs numbers, got value={value!r}, limit={limit!r}")
    return "agree" if value <= limit else "disagree"


def combine_verdicts(verdicts: Iterable[str]) -> str:
    """The verdict of a claim that holds iff all of its parts hold (e.g. an abstract's summary of several
    figures): ``disagree`` if any part disagrees, else ``not_checkable`` if any part is not checkable,
    else ``agree``. A part that is a ``paper_erratum`` counts as not holding (``disagree``)."""
    parts = list(verdicts)
    if not parts:
        raise ValueError("combine_verdicts needs at least one verdict")
    unknown = [v for v in parts if v not in VERDICTS]
    if unknown:
        raise ValueError(f"unknown verdicts {unknown}; known: {', '.join(VERDICTS)}")
    if any(v in ("disagree", "paper_erratum") for v in parts):
        return "disagree"
    if "not_checkable" in parts:
        return "not_checkable"
    return "agree"


def verdict_nearest(ours: float, paper: float, corrected: float) -> str:
    """Which of two candidate values a measurement supports, with no tolerance to choose: ``agree`` if
    ``ours`` is nearer the paper's value, ``paper_erratum`` if nearer the corrected one, ``not_checkable``
    if the two candidates coincide or ``ours`` is equidistant (the caller's note must then say why).
    ``ValueError`` for a NaN."""
    if ours != ours or paper != paper or corrected != corrected:
        raise ValueError(f"verdict_nearest needs numbers, got ours={ours!r}, paper={paper!r}, corrected={corrected!r}")
    d_paper, d_corrected = abs(ours - paper), abs(ours - corrected)
    if d_paper == d_corrected:
        return "not_checkable"
    return "agree" if d_paper < d_corrected else "paper_erratum"
