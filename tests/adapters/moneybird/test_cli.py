"""``arconnect sandbox moneybird``: serves the simulator on loopback; bad options are one line."""

from __future__ import annotations

import subprocess
import sys

import httpx

from connector.cli.demo import free_port
from connector.sandbox import wait_for_port

CLI = [sys.executable, "-c", "from connector.cli.main import main; main()"]


def test_the_sandbox_command_serves_moneybird_on_loopback() -> None:
    port = free_port()
    process = subprocess.Popen([*CLI, "sandbox", "moneybird", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, timeout=30)
        response = httpx.get(f"http://127.0.0.1:{port}/api/v2/administrations.json", timeout=10)
        assert response.status_code == 401  # the real API without a token
        assert response.json()["error"] == "Invalid access token"
        page = httpx.get(f"http://127.0.0.1:{port}/oauth/authorize", params={
            "client_id": "arconnect-demo", "redirect_uri": "http://127.0.0.1:8765/callback", "response_type": "code",
        }, timeout=10)
        assert page.status_code == 200 and "<form" in page.text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_bad_size_is_one_line_and_a_config_exit_code() -> None:
    done = subprocess.run([*CLI, "sandbox", "moneybird", "--size", "lots"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --size: use small, medium, large or a positive number, not 'lots'"
    assert "Traceback" not in done.stderr
