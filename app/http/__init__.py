"""The HTTP layer every surface shares: the services as dependencies, body reading, JSON and
problem rendering. Surfaces import from here and from the services, never from each other."""
