"""Facts of the platform: the OS, JDKs, OpenSSL builds, accounts and homes, services, cron and login environments."""
