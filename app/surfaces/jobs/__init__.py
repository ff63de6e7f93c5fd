"""The jobs surface: /v1/jobs (submit, status, cancel) and /v1/files (signed result URLs)."""
