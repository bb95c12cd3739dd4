"""Acting on a plan: plan → apply → dispatch → write-back, journaled (docs/architecture.md §3, §9).

* ``planning``: store snapshot + rules file + run date → planned actions (the rules engine is pure);
* ``applying``: one connection's apply run (lease, plan, journal, dispatch, summary);
* ``dispatch``: routes each planned action to the package or to one of our own ``channels``;
* ``writeback``: journaled, idempotent execution of actions through an adapter;
* ``channels/``: what arconnect sends itself (e-mail over SMTP, letters, call lists, hand-over files).

A new channel is a module in ``channels/`` that ``dispatch`` routes to.
"""
