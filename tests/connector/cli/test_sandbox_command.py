"""``arconnect sandbox <package>`` comes from each package's PackageSpec: declaring a simulator is enough."""

from __future__ import annotations

from typer.testing import CliRunner

from connector.cli.main import app
from connector.packages import known_packages, package_spec


def test_sandbox_help_lists_every_package_that_declares_a_simulator() -> None:
    declared = [name for name in known_packages() if package_spec(name).sandbox is not None]
    assert {"exact", "moneybird"} <= set(declared)
    shown = CliRunner().invoke(app, ["sandbox", "--help"], terminal_width=200)
    assert shown.exit_code == 0
    listed = {line.strip("│ ").split()[0] for line in shown.output.splitlines()
              if line.startswith("│ ") and line.strip("│ ") and not line.strip("│ ").startswith("-")}
    assert listed == set(declared)


def test_each_sandbox_command_takes_its_defaults_from_the_spec() -> None:
    for name in known_packages():
        spec = package_spec(name)
        if spec.sandbox is None:
            continue
        shown = CliRunner().invoke(app, ["sandbox", name, "--help"], terminal_width=200)
        assert shown.exit_code == 0
        assert f"[default: {spec.sandbox.default_port}]" in shown.output
        assert spec.title in shown.output


def test_known_packages_are_the_folders_under_adapters() -> None:
    assert {"exact", "moneybird"} <= set(known_packages())
    assert all(name.isidentifier() for name in known_packages())
