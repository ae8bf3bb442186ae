"""Vivenu protocol: the tickets API (read-only), webhook envelopes and their signatures."""
