"""Idempotency-Key on every POST (the IETF httpapi draft): the first answer is stored for a
retention window and a retry of the same request gets it back, without a second Bedrock call."""
