"""Facts of Python: environments, installed distributions, archives, vendored copies, lockfiles and declared
dependencies."""
