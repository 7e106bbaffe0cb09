#!/usr/bin/env python3
"""Print the expected results of address parsing as JSON.

Run with Python 3.11.7 (the lenient email.utils, without the "strict"
parameter) and redirect to testdata/address_cases.json:

    python3 testdata/gen_address_cases.py > testdata/address_cases.json
"""
import json
import smtplib
import sys
from email.utils import getaddresses, parseaddr

SINGLE = [
    "",
    " ",
    "\t\r\n",
    "user@example.com",
    "  user@example.com  ",
    "<user@example.com>",
    " <user@example.com> ",
    "<>",
    " <> ",
    "<",
    ">",
    "@",
    "user",
    "user@",
    "@example.com",
    "user@@example.com",
    "a@evil.example@good.example",
    "<a@evil.example@good.example>",
    "John Doe <john@example.com>",
    "John Q. Public <jqp@example.com>",
    '"Doe, John" <john@example.com>',
    '"Doe, John" <john@example.com>, other@example.com',
    '"Joe \\"the\\" Q." <joe@example.com>',
    '"back\\\\slash" <b@example.com>',
    "john@example.com (John Doe)",
    "(comment) john@example.com",
    "john(c1)@(c2)example.com(c3)",
    "a (c) @b",
    "(x)a(y)@b(z)",
    "John (the man) <john@example.com>",
    "John <john@example.com> (trailing)",
    "(nested (comment) here) a@b",
    "(unclosed comment a@b",
    '"x> ORCPT=rfc822;y"@example.com',
    '<"x> ORCPT=rfc822;y"@example.com>',
    "a@b> NOTIFY=NEVER",
    "<a@b> NOTIFY=NEVER",
    "a@b>\r\nRCPT TO:<evil@example.com",
    '"quoted local"@example.com',
    '"quoted local" @ example.com',
    '"unterminated@example.com',
    '"a\\\\b"@example.com',
    "first . last @ example . com",
    "first.last@example.com",
    ".leading@example.com",
    "trailing.@example.com",
    "a..b@example.com",
    "undisclosed-recipients:;",
    "undisclosed-recipients: ;",
    "team: a@b, c@d;",
    "team: Alice <a@b>, \"Bob, B\" <c@d>;, e@f",
    "outer: inner: x@y;;",
    "group: a@b",
    ":;",
    "<@relay1.example,@relay2.example:user@example.com>",
    "Name <@relay.example:user@example.com>",
    "<@relay.example user@example.com>",
    "user@[192.0.2.1]",
    "user@[IPv6:2001:db8::1]",
    "<user@[192.0.2.1]>",
    "user@[unterminated",
    "müller@bä.de",
    "Jörg Müller <müller@bä.de>",
    "用户@例子.广告",
    "\"用户\" <用户@例子.广告>",
    "用户 <用户@例子.广告>",
    "josé@example.com",
    "ǅ@ǅ.example",
    "a\u3000b@example.com",
    "a\x1cb@example.com",
    "a \x1c.b@example.com",
    "a\u00a0.b@example.com",
    "\x1c<a@b>",
    "\u3000<a@b>",
    "a\x00b@example.com",
    "a@b\x00c",
    ",",
    ",,a@b",
    "a@b,",
    "a@b,,c@d",
    ";",
    "[",
    "]",
    ")",
    "(",
    '"',
    "\\",
    "<<a@b>>",
    "<a@b",
    "a@b>",
    "< a @ b >",
    "Name <>",
    "Name <",
    "Name: <a@b>",
    "a@b c@d",
    "phrase only here",
    "foo bar <>",
    "@:x",
    "<@>",
    "<:>",
    "garbage!#$%&'*+/=?^_`{|}~@example.com",
    "\r\n a@b",
    "John\r\n Doe <a@b>",
    "a@b\r\n c@d",
    "=?utf-8?q?J=C3=B6rg?= <j@example.com>",
    "a.b.c",
    "[a]@b",
    "a@[b]c",
    "a@b.c.",
    "a@.b",
    "\"\"@example.com",
    "\"\" <a@b>",
]

FIELDS = [
    [],
    [""],
    ["a@b"],
    ["a@b", "c@d"],
    ["", "a@b"],
    ["a@b", ""],
    ["John <j@example.com>, \"Doe, Jane\" <jane@example.com>", "bcc@example.com"],
    ["undisclosed-recipients:;"],
    ["team: a@b, c@d;", "x@y"],
    ["To One <one@example.com>", "two@example.com (Two)", "three@example.com"],
    ["müller@bä.de", "用户@例子.广告"],
    ["a@b,", ",c@d"],
    ["garbage", "<>"],
    ["(only a comment)"],
    ["a@evil.example@good.example, ok@example.com"],
    ["group: a@b", "c@d"],
]


def main():
    single = []
    for s in SINGLE:
        name, addr = parseaddr(s)
        single.append({
            "in": s,
            "name": name,
            "addr": addr,
            "all": [list(p) for p in getaddresses([s])],
            "quote": smtplib.quoteaddr(s),
            "addr_only": smtplib._addr_only(s),
        })
    fields = []
    for f in FIELDS:
        fields.append({"in": f, "out": [list(p) for p in getaddresses(f)]})
    json.dump({"python": sys.version.split()[0], "single": single,
               "fields": fields}, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
