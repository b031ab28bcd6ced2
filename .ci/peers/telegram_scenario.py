#!/usr/bin/env python3
"""Plays two Telegram users against Herald through telegram-test-api (a real Bot API emulator).

The owner opens the owner link Herald logged, creates a conference and issues an invite; a second user
joins with it. Then the moderation group: bound with `/bind <code>` sent as a command in the group, a
volunteer's post shows there with its buttons, and the owner's Approve press is answered with a callback
answer and an edit of that message, posting nothing new in the group. Checks what each chat received.
Standard library only.
"""
import json
import re
import sys
import time
import urllib.request

API, TOKEN, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
OWNER = {"id": 1001, "is_bot": False, "first_name": "Olga", "username": "olga"}
BEA = {"id": 1002, "is_bot": False, "first_name": "Bea", "username": "bea"}
VIC = {"id": 1003, "is_bot": False, "first_name": "Vic", "username": "vic"}
GROUP = {"id": -1009001, "type": "supergroup", "title": "Peer Conf moderators"}


def post(path, body):
    request = urllib.request.Request(API + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def command(user, text, chat=None):
    word = text.split()[0]
    chat = chat or {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    post("/sendCommand", {
        "botToken": TOKEN, "from": user, "date": int(time.time()), "text": text, "chat": chat,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(word)}],
    })


received = {OWNER["id"]: [], BEA["id"]: [], VIC["id"]: [], GROUP["id"]: []}
# The group's messages as stored (id, text, buttons), to press their buttons and count them.
group_messages = []


def fetch(chat):
    answer = post("/getUpdates", {"token": TOKEN, "chatId": chat["id"]})
    for update in answer.get("result", []):
        text = update.get("message", {}).get("text", "")
        received[chat["id"]].append(text)
        if chat is GROUP:
            group_messages.append(update)


def wait_for(user, pattern, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        fetch(user)
        for text in reversed(received[user["id"]]):
            if re.search(pattern, text):
                return text
        time.sleep(0.3)
    name = user.get("first_name") or user.get("title")
    raise SystemExit(f"FAIL: {name} never received /{pattern}/; got {received[user['id']]}")


def history_text(message_id):
    """The text of the bot's message `message_id` as the emulator holds it now (after edits)."""
    for item in post("/getUpdatesHistory", {"token": TOKEN}).get("result", []):
        message = item.get("message", {})
        if item.get("messageId") == message_id and str(message.get("chat_id")) == str(GROUP["id"]):
            return message.get("text", "")
    return ""


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
# The moderation group, bound by a command in the group (a bot in privacy mode sees no plain text).
command(OWNER, "/conference policy 2")
wait_for(OWNER, r"Posting policy")
command(OWNER, "/bind moderation")
code = re.search(r"<code>(\S+)</code>", wait_for(OWNER, r"To bind the <b>moderation</b> chat")).group(1)
command(OWNER, f"/bind {code}", chat=GROUP)
wait_for(GROUP, r"now the <b>moderation</b> chat")
command(OWNER, "/invite volunteer Vic")
invite = wait_for(OWNER, r"(?s)volunteer.*start=")
command(VIC, f"/start {re.search(r'start=([A-Za-z0-9_-]+)', invite).group(1)}")
wait_for(VIC, r"You are now <b>volunteer</b>")
command(VIC, "/post Doors open at nine")
wait_for(GROUP, r"Doors open at nine")
moderation = next(m for m in group_messages if "Doors open at nine" in m["message"].get("text", ""))
buttons = [b["callback_data"] for row in moderation["message"]["reply_markup"]["inline_keyboard"] for b in row]
approve = next(b for b in buttons if b.startswith("post:approve:"))
posted = len(group_messages)
post("/sendCallback", {
    "botToken": TOKEN, "from": OWNER, "data": approve,
    "message": {"message_id": moderation["messageId"], "chat": GROUP, "date": int(time.time()),
                "text": moderation["message"]["text"]},
})
deadline = time.time() + 20
while time.time() < deadline:
    text = history_text(moderation["messageId"])
    if "approved by Olga" in text:
        break
    time.sleep(0.3)
else:
    raise SystemExit(f"FAIL: the moderation message was not edited to show the approval: {text!r}")
time.sleep(1.5)
fetch(GROUP)
if len(group_messages) != posted:
    raise SystemExit(f"FAIL: the press posted in the group: {[m['message'].get('text') for m in group_messages[posted:]]}")
print("telegram-test-api scenario passed")
for user, texts in received.items():
    print(f"  user {user} received {len(texts)} message(s)")
