#!/usr/bin/env python3
"""Feeds one e-mail (read from stdin) to mentiond's HTTP intake as one post.

Use it as a mail filter: a Postfix pipe transport, a procmail or maildrop recipe, or
a `.forward` line such as `"|/usr/local/bin/mail-to-intake.py"`. The Message-ID is
the post's id, so a message delivered twice is stored once.

Environment: MENTIOND_INTAKE_URL (default http://127.0.0.1:8080/api/v1/posts) and
MENTIOND_INTAKE_TOKEN or MENTIOND_INTAKE_TOKEN_FILE (the `email` channel's token).
Exit status 75 (EX_TEMPFAIL) when mentiond cannot take the message now, so the
mail system queues it and tries again; 0 once it was accepted (stored or not).
"""

import email
import email.policy
import email.utils
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

URL = os.environ.get("MENTIOND_INTAKE_URL", "http://127.0.0.1:8080/api/v1/posts")


def token():
    path = os.environ.get("MENTIOND_INTAKE_TOKEN_FILE")
    if path:
        with open(path, encoding="utf-8") as file:
            return file.read().strip()
    return os.environ["MENTIOND_INTAKE_TOKEN"]


def post_of(raw):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    subject = str(message.get("Subject", ""))
    # No Message-ID: a hash of the message keeps retries idempotent all the same.
    id_ = str(message.get("Message-ID", "")).strip() or hashlib.sha256(raw).hexdigest()
    name, address = email.utils.parseaddr(str(message.get("From", "")))
    post = {"id": id_, "text": f"{subject}\n\n{text}".strip(), "kind": "ticket",
            "author": {"id": address, "name": name or address}}
    date = message.get("Date")
    if date:
        try:
            post["created_at"] = email.utils.parsedate_to_datetime(str(date)).isoformat()
        except (TypeError, ValueError):
            pass
    return post


def main():
    post = post_of(sys.stdin.buffer.read())
    request = urllib.request.Request(
        URL, data=json.dumps(post).encode(), method="POST",
        headers={"Authorization": f"Bearer {token()}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            print(response.read().decode(), file=sys.stderr)
            return 0
    except urllib.error.HTTPError as err:
        print(f"mentiond answered {err.code}: {err.read().decode()}", file=sys.stderr)
        # 400/401/413 will not get better by retrying: let the mail go on.
        return 75 if err.code >= 500 else 0
    except OSError as err:
        print(f"mentiond unreachable: {err}", file=sys.stderr)
        return 75


if __name__ == "__main__":
    sys.exit(main())
