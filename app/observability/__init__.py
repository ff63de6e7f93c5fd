"""What operators see: metrics, one log line per request, Server-Timing, readiness.

A lower layer: it imports nothing from surfaces, tasks or families, so any of them (and the
Bedrock client) may report to it.
"""
