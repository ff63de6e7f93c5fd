"""Procedural images for the emulator: codecs, seeded synthesis and edits, all numpy-vectorised.

Every function is pure and deterministic in its arguments, so the same request body always gives
byte-identical images and tests can assert on pixels.
"""
