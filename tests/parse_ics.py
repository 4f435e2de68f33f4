#!/usr/bin/python3
"""Parses an iCalendar file with Debian's python3-icalendar and prints its
events as JSON: [{"uid", "date", "summary", "alarms": [{"trigger_days", "description"}]}]."""
import json
import sys

import icalendar

with open(sys.argv[1], "rb") as f:
    cal = icalendar.Calendar.from_ical(f.read())
events = []
for e in cal.walk("VEVENT"):
    alarms = []
    for a in e.walk("VALARM"):
        alarms.append({"trigger_days": a.decoded("TRIGGER").days, "description": str(a.get("DESCRIPTION"))})
    events.append({
        "uid": str(e.get("UID")),
        "date": e.decoded("DTSTART").isoformat(),
        "summary": str(e.get("SUMMARY")),
        "alarms": alarms,
    })
print(json.dumps(events, ensure_ascii=False))
