"""Container images read without a daemon: an OCI image layout (a folder or a tar of one) or a `docker save` archive,
one image chosen from it (`source.py`), its layers applied virtually into one read-only tree (`layers.py`) that the
collectors read as they read an unpacked root (`view.py`). No layer is unpacked to disk."""
