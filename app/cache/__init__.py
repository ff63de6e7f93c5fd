"""The result cache (GATEWAY_CACHE): a reproducible request (an explicit seed, a deterministic
tool) made again is answered from what the first one produced, without a Bedrock call."""
