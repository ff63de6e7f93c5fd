"""API keys: who may call the gateway, and what each key may use."""
