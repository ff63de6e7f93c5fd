"""The gateway's own pages: the API reference (/docs, /redoc) and the image playground."""
