"""The task schemas: the one snake_case vocabulary every model is spoken to in."""
