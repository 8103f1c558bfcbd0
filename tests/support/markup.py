"""The web UI's markup rules, checked on any page: strict CSP headers, no inline script/style/handlers, landmarks,
and a label for every visible form control."""

from __future__ import annotations

import re

import httpx


def lint_page(resp: httpx.Response) -> None:
    assert resp.status_code == 200, resp.url
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["x-frame-options"] == "DENY" and resp.headers["referrer-policy"] == "no-referrer"
    assert resp.headers["cache-control"] == "no-store"
    html = resp.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), resp.url
    assert not re.search(r"\son[a-z]+\s*=", html), resp.url
    assert not re.search(r"\sstyle\s*=|<style", html), resp.url
    # Landmarks, and a label for every input that is not hidden.
    assert "<main" in html and 'role="banner"' in html and "<h1" in html
    ids = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag:
            continue
        ident = re.search(r'\bid="([^"]+)"', tag)
        assert ident and ident.group(1) in ids, (resp.url, tag)
