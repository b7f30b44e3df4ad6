"""Container images read without a daemon: an OCI image layout (a folder or a tar of one) or a `docker save` archive,
one image chosen from it (`source.py`); each layer's tar read in place (`layers.py`: its headers by `tar.py`, its
bytes through `streams.py`: gzip, zstd or none, its digest checked as it is listed), the layers applied virtually
into one read-only tree of names kept in a temporary file (`tree.py`) that the collectors read as they read an
unpacked root (`view.py`). No layer is unpacked to disk."""
