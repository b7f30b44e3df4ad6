"""The trust-store stage: the ATS anchors, store formats, which store each client uses, distrust, and the store
book that reads each store once and links it to its users."""
