#!/usr/bin/python3
"""Reads the messages smtp_sink.py stored in DIR and prints them as JSON:
[{"file", "envelope_to", "to", "subject" (decoded), "message_id", "text"}]."""
import email
import email.header
import email.policy
import json
import os
import sys

out = []
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    if not name.endswith(".eml"):
        continue
    with open(os.path.join(d, name), "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out.append({
        "file": name,
        "envelope_to": msg["X-Envelope-To"],
        "to": str(msg["To"]),
        "subject": str(msg["Subject"]),
        "message_id": str(msg["Message-ID"]),
        "text": msg.get_content(),
    })
print(json.dumps(out, ensure_ascii=False))
