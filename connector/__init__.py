"""arconnect core: what every accounting package's adapter shares."""
