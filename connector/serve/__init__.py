"""Running headless (``arconnect serve``): scheduling, jobs, Celery, observability (docs/architecture.md §1).

* ``scheduling``: APScheduler jobs per connection, leadership through a database or file lock;
* ``jobs``: the work one job does (sync, plan + apply, keep-alive), each under the connection's lease;
* ``distributed``: the same jobs as Celery tasks for several machines;
* ``observability``: JSON logs, run records, problems reported once a day.

A new scheduled job is a function in ``jobs`` that ``scheduling`` (and ``distributed``) name.
"""
