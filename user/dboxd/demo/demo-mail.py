#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate a demo mailbox: realistic messages (plain, HTML alternatives,
attachments, forwarded messages, threads, non-ASCII) for a few users, and
deliver them over LMTP to a running dboxd. Deterministic (seeded).

usage: demo-mail.py HOST:PORT USER... [--count N] [--seed S]"""

import argparse
import base64
import datetime
import email.utils
import random
import smtplib
from email.message import EmailMessage

PEOPLE = [("Ada Lovelace", "ada@example.org"),
          ("Grace Hopper", "grace@example.net"),
          ("Linus Ikonen", "linus@example.com"),
          ("Zoë Åberg", "zoe@example.se"),
          ("Ren Takahashi", "ren@example.jp"),
          ("Mailing List", "list@lists.example.org"),
          ("Billing", "billing@shop.example.com")]
TOPICS = ["Quarterly report", "Lunch on Friday?", "Build failure on main",
          "Holiday photos", "Invoice 2026-%04d", "Re: design review",
          "Meeting notes", "Ticket #%d: cannot log in", "Weekly digest",
          "Grüße aus Köln", "Your order has shipped", "Patch v%d"]
WORDS = ("the a of to and in that it with as for was on be by this are "
         "mail server worker merge page kernel memory group storage index "
         "message folder review draft release schedule budget").split()


def paragraph(rnd, n):
    return " ".join(rnd.choice(WORDS) for _ in range(n)).capitalize() + "."


def body_text(rnd):
    return "\n\n".join(paragraph(rnd, rnd.randint(12, 60))
                       for _ in range(rnd.randint(1, 5))) + "\n"


def make_message(rnd, i, to, date, threads):
    sender = rnd.choice(PEOPLE)
    topic = rnd.choice(TOPICS)
    if "%" in topic:
        topic = topic % rnd.randint(1, 9999)
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr(sender)
    msg["To"] = to
    msg["Date"] = email.utils.format_datetime(date)
    msg["Message-ID"] = "<demo-%d-%d@example.org>" % (i, rnd.randint(0, 1 << 30))
    if threads and rnd.random() < 0.3:
        parent_id, parent_subject = rnd.choice(threads)
        msg["In-Reply-To"] = parent_id
        msg["References"] = parent_id
        topic = "Re: " + parent_subject
    msg["Subject"] = topic
    text = body_text(rnd)
    msg.set_content(text)
    kind = rnd.random()
    if kind < 0.25:
        msg.add_alternative("<html><body><p>%s</p></body></html>" %
                            text.replace("\n\n", "</p><p>"), subtype="html")
    elif kind < 0.45:
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(2000,
                                                                   60000)))
        name = rnd.choice(["report.pdf", "photo.jpg", "data.bin",
                           "slides.odp"])
        maintype, subtype = {"pdf": ("application", "pdf"),
                             "jpg": ("image", "jpeg"),
                             "bin": ("application", "octet-stream"),
                             "odp": ("application", "vnd.oasis."
                                     "opendocument.presentation")}[
            name.rsplit(".", 1)[1]]
        msg.add_attachment(data, maintype=maintype, subtype=subtype,
                           filename=name)
    elif kind < 0.5:
        inner = EmailMessage()
        inner["From"] = email.utils.formataddr(rnd.choice(PEOPLE))
        inner["Subject"] = "Original message"
        inner.set_content(body_text(rnd))
        msg.add_attachment(inner)
    threads.append((msg["Message-ID"], topic.replace("Re: ", "")))
    return msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("users", nargs="+")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    rnd = random.Random(a.seed)
    start = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.timezone.utc)
    lmtp = smtplib.LMTP(host, int(port), timeout=60)
    threads = []
    for i in range(a.count):
        user = a.users[i % len(a.users)]
        date = start + datetime.timedelta(minutes=97 * i + rnd.randint(0, 90))
        msg = make_message(rnd, i, "%s@example.org" % user, date, threads)
        refused = lmtp.sendmail(msg["From"], ["%s@example.org" % user],
                                msg.as_bytes())
        if refused:
            raise SystemExit("refused: %r" % refused)
    lmtp.quit()
    print("delivered %d messages to %s" % (a.count, ", ".join(a.users)))


if __name__ == "__main__":
    main()
