"""Judging facts: rule packs (validated on load), the rules engine, waivers and the release-date table."""
