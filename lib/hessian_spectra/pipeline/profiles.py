"""Scales at which a notebook runs: ``smoke``, ``default``, ``paper``.

Every notebook keeps a table ``PROFILES = {"smoke": {...}, "default": {...}, "paper": {...}}`` in its
own second cell, beside the comments that say which values the paper states and which are ours.
"""

from __future__ import annotations

from typing import Any, Mapping

PROFILE_NAMES: tuple[str, ...] = ("smoke", "default", "paper")


def resolve_profile(
    profiles: Mapping[str, Mapping[str, Any]], profile: str, **overrides: Any
) -> dict[str, Any]:
    """Settings of ``profile``, with every override that is not ``None`` applied on top.

    Raises ``ValueError`` for an unknown profile and for an override that names no setting
    (a typo must not be ignored silently).
    """
    if profile not in PROFILE_NAMES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILE_NAMES)}")
    if profile not in profiles:
        raise ValueError(f"this notebook defines no settings for profile {profile!r}")
    settings = dict(profiles[profile])
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in settings:
            raise ValueError(
                f"override {key!r} names no setting of profile {profile!r}; known: {', '.join(sorted(settings))}"
            )
        settings[key] = value
    settings["profile"] = profile
    return settings
