"""The Bedrock-compatible surface: InvokeModel for clients that already speak Bedrock's schemas."""
