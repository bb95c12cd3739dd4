"""Channels of arconnect's own, for what a package cannot do through its API (docs/architecture.md §5).

* :mod:`connector.actions.channels.email`: the reminder e-mail over SMTP, at most once per idempotency key;
* :mod:`connector.actions.channels.calls`: the call list (table and CSV) for ``call_task``;
* :mod:`connector.actions.channels.handover`: the hand-over file (CSV and JSON, the whole claim) for
  ``collection_handover``;
* :mod:`connector.actions.channels.outbox`: letters to print and post (text and HTML files).
"""
