"""Channels of arconnect's own, for what a package cannot do through its API (DESIGN.md §5).

* :mod:`connector.channels.email`: the reminder e-mail over SMTP, at most once per idempotency key;
* :mod:`connector.channels.calls`: the call list (table and CSV) for ``call_task``;
* :mod:`connector.channels.handover`: the hand-over file (CSV and JSON, the whole claim) for
  ``collection_handover``;
* :mod:`connector.channels.outbox`: letters to print and post (text and HTML files).
"""
