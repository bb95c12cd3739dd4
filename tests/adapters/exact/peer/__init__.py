"""Peer check: an unmodified public Exact Online client (PyPI ``exactonline``) against our Exact sandbox."""
