"""A container health check without curl: ``python deploy/healthcheck.py URL``
exits 0 when URL answers 200 within 5 s, 1 otherwise (and says why).
The web replicas are checked on /healthz (the process answers); the
balancer's check goes to /readyz through it (database, Redis, storage and a
live conversion worker)."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def main(url: str) -> int:
    if not url.startswith(("http://", "https://")):
        print(f"{url}: not an http(s) URL", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (checked above)
            status = response.status
    except urllib.error.HTTPError as exc:
        print(f"{url}: {exc.code} {exc.read()[:300]!r}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
