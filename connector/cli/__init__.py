"""The ``arconnect`` command line: one module per command group (typer + rich).

``main.py`` assembles the app and is the console-script entry; every other module adds its
commands through ``register(app)``. A new command group is a new module here, registered in
``main.py``. Commands call the core (``connector.runtime``), ``connector.actions`` and
``connector.serve``; nothing below the CLI imports it.
"""
