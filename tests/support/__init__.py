"""Tests of the gateway (app/)."""
