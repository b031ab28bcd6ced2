#!/usr/bin/env python3
"""Checks every calendar invitation, update and cancellation a real SMTP server received (a Maildir, as
.ci/peer-smtp's aiosmtpd stores it) with three independent readers:

- Python's `icalendar` and `vobject` 0.9.9 (PyPI, in the peer venv that runs this script);
- libical's iTIP rules (Debian `gir1.2-ical-3.0 python3-gi`, loaded as ICalGLib in Debian's
  /usr/bin/python3, which this script re-runs itself under with `--libical FILE...`):
  `ICalGLib.restriction_check` must answer 1 and no X-LIC-ERROR property may appear.

Then, per event (UID): the MIME part's `method` equals the calendar's METHOD, SEQUENCE rises with each
message received, a REQUEST names ORGANIZER and an ATTENDEE with RSVP=TRUE and carries a VALARM, a
CANCEL says STATUS:CANCELLED. At least one event must have gone through invitation, update and
cancellation, so a run that mailed nothing fails.

Usage: check_itip.py MAILDIR
"""

import email
import email.policy
import os
import subprocess
import sys
import tempfile

LIBICAL_PYTHON = "/usr/bin/python3"


def libical_check(paths):
    """Runs under Debian's python3: each file must pass libical's restriction check cleanly."""
    import gi

    gi.require_version("ICalGLib", "3.0")
    from gi.repository import ICalGLib

    failed = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        comp = ICalGLib.Component.new_from_string(text)
        if comp is None:
            print(f"libical: {path}: does not parse")
            failed += 1
            continue
        verdict = ICalGLib.restriction_check(comp)
        errors = []
        stack = [comp]
        while stack:
            c = stack.pop()
            p = c.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
            while p is not None:
                errors.append(p.as_ical_string().strip())
                p = c.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
            child = c.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
            while child is not None:
                stack.append(child)
                child = c.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)
        if verdict != 1 or errors:
            print(f"libical: {path}: restriction_check={verdict} {errors}")
            failed += 1
    print(f"libical: {len(paths) - failed} of {len(paths)} calendars pass the iTIP restrictions")
    return 1 if failed else 0


def calendars(maildir):
    """(received order, recipient, MIME method, ICS text) of every text/calendar part."""
    found = []
    folder = os.path.join(maildir, "new")
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            message = email.message_from_binary_file(f, policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() != "text/calendar":
                continue
            found.append(
                (
                    (os.stat(path).st_mtime_ns, name),
                    message.get("X-RcptTo", ""),
                    part.get_param("method"),
                    part.get_content(),
                )
            )
    found.sort(key=lambda item: item[0])
    return found


def check(maildir):
    import icalendar
    import vobject

    problems = []
    events = {}
    received = calendars(maildir)
    if not received:
        print(f"no calendar in {maildir}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for n, (_, to, mime_method, text) in enumerate(received):
            where = f"calendar {n} to {to}"
            path = os.path.join(tmp, f"{n}.ics")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            paths.append(path)

            cal = icalendar.Calendar.from_ical(text)
            method = str(cal.get("METHOD"))
            if mime_method != method:
                problems.append(f"{where}: part method={mime_method}, calendar METHOD:{method}")
            vevents = [c for c in cal.walk() if c.name == "VEVENT"]
            if len(vevents) != 1:
                problems.append(f"{where}: {len(vevents)} VEVENTs")
                continue
            event = vevents[0]
            uid = str(event.get("UID"))
            sequence = int(event.get("SEQUENCE", 0))
            for prop in ("DTSTAMP", "DTSTART", "DTEND", "ORGANIZER", "SUMMARY"):
                if event.get(prop) is None:
                    problems.append(f"{where}: no {prop}")
            start = event.decoded("DTSTART")
            if start.utcoffset() is None or start.utcoffset().total_seconds() != 0:
                problems.append(f"{where}: DTSTART {start} is not UTC")
            attendee = event.get("ATTENDEE")
            if attendee is None or attendee.params.get("RSVP") != "TRUE":
                problems.append(f"{where}: no ATTENDEE with RSVP=TRUE")
            alarms = [c for c in event.walk() if c.name == "VALARM"]
            if method == "REQUEST" and not alarms:
                problems.append(f"{where}: a REQUEST without VALARM")
            if method == "CANCEL" and str(event.get("STATUS")) != "CANCELLED":
                problems.append(f"{where}: a CANCEL without STATUS:CANCELLED")

            v = vobject.readOne(text)
            if v.method.value != method or v.vevent.uid.value != uid:
                problems.append(f"{where}: vobject reads {v.method.value} {v.vevent.uid.value}")
            if int(v.vevent.sequence.value) != sequence:
                problems.append(f"{where}: vobject reads SEQUENCE {v.vevent.sequence.value}")

            events.setdefault(uid, []).append((sequence, method))
        print(f"icalendar, vobject: read {len(received)} calendars of {len(events)} events")

        complete = 0
        for uid, revisions in events.items():
            sequences = [s for s, _ in revisions]
            if sequences != sorted(set(sequences)):
                problems.append(f"{uid}: SEQUENCE does not rise: {sequences}")
            methods = [m for _, m in revisions]
            if "CANCEL" in methods[:-1]:
                problems.append(f"{uid}: mail after its CANCEL: {methods}")
            if methods[:2] == ["REQUEST", "REQUEST"] and methods[-1] == "CANCEL":
                complete += 1
        if complete == 0:
            problems.append("no event went through invitation, update and cancellation")

        libical = subprocess.run([LIBICAL_PYTHON, __file__, "--libical", *paths])
        if libical.returncode != 0:
            problems.append("libical refused some calendars (above)")

    for p in problems:
        print(p)
    print("iTIP check:", "FAILED" if problems else f"ok ({complete} complete invitation histories)")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--libical":
        sys.exit(libical_check(sys.argv[2:]))
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(check(sys.argv[1]))
