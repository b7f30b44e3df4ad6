"""auditor: will your software still trust AWS endpoints that use Amazon Trust Services certificates?"""

__version__ = "0.1.0"
