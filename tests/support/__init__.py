"""What many test folders share: a throwaway PostgreSQL database (``pg``) and paths (``paths``).

Fixtures every folder may use live in ``tests/conftest.py``.
"""
