"""The Content Security Policy on every response (settings.SECURE_CSP); the browser tests
check that no page needs anything it refuses (tests/e2e/conftest.py)."""

import re


def test_page__policy_with_the_nonce_its_scripts_carry(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'",
                      "form-action 'self'", "frame-ancestors 'none'"):  # fmt: skip
        assert directive in policy
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script[^>]*>", response.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert client.get("/accounts/login/")["Content-Security-Policy"] != policy  # new each time


def test_response_without_scripts__policy_without_a_nonce(client):
    policy = client.get("/healthz")["Content-Security-Policy"]
    assert "nonce" not in policy and "script-src 'self'" in policy
