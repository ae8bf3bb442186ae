"""Listing sources for `track`: the proxy contract, SeatGeek event stats, CSV imports.

Protocol only: response parsers and small clients taking an injectable ``httpx`` client.
"""
