#!/usr/bin/env python3
"""Plays two Telegram users against Herald through telegram-test-api (a real Bot API emulator).

The owner opens the owner link Herald logged, creates a conference and issues an invite; a second user
joins with it. Checks what each user received. Standard library only.
"""
import json
import re
import sys
import time
import urllib.request

API, TOKEN, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
OWNER = {"id": 1001, "is_bot": False, "first_name": "Olga", "username": "olga"}
BEA = {"id": 1002, "is_bot": False, "first_name": "Bea", "username": "bea"}


def post(path, body):
    request = urllib.request.Request(API + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def command(user, text):
    word = text.split()[0]
    post("/sendCommand", {
        "botToken": TOKEN, "from": user, "date": int(time.time()), "text": text,
        "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(word)}],
    })


received = {OWNER["id"]: [], BEA["id"]: []}


def wait_for(user, pattern, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        answer = post("/getUpdates", {"token": TOKEN, "chatId": user["id"]})
        for update in answer.get("result", []):
            text = update.get("message", {}).get("text", "")
            received[user["id"]].append(text)
        for text in received[user["id"]]:
            if re.search(pattern, text):
                return text
        time.sleep(0.3)
    raise SystemExit(f"FAIL: {user['first_name']} never received /{pattern}/; got {received[user['id']]}")


def owner_link(timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(LOG, encoding="utf-8", errors="replace") as f:
            match = re.search(r"https://t\.me/TestNameBot\?start=([A-Za-z0-9_-]+)", f.read())
        if match:
            return match.group(1)
        time.sleep(0.3)
    raise SystemExit("FAIL: Herald did not log an owner link")


token = owner_link()
command(OWNER, f"/start {token}")
wait_for(OWNER, r"now the <b>owner</b>")
command(OWNER, "/conference new peer-2027 Europe/Berlin 2027-03-01 2027-03-02 Peer Conf 2027")
wait_for(OWNER, r"Created <b>Peer Conf 2027</b>")
command(OWNER, "/invite attendee Bea")
invite = wait_for(OWNER, r"start=")
invite_token = re.search(r"start=([A-Za-z0-9_-]+)", invite).group(1)
command(BEA, f"/start {invite_token}")
wait_for(BEA, r"You are now <b>attendee</b> at <b>Peer Conf 2027</b>")
command(BEA, f"/start {invite_token}")
wait_for(BEA, r"already been used")
print("telegram-test-api scenario passed")
for user, texts in received.items():
    print(f"  user {user} received {len(texts)} message(s)")
