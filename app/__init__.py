"""The Bedrock image gateway: one HTTP API in front of Amazon Bedrock's image models."""
