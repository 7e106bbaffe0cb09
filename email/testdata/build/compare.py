"""Builds and describes messages with Python's email package, for
build_python_test.go.

Reads a JSON object on stdin:
  {"build": [[op, ...], ...], "describe": ["<base64 message>", ...],
   "decode": ["<base64 message>", ...]}
and writes {"built": [{"bytes": b64, "error": str}, ...],
            "described": [tree, ...],
            "decoded": [[[name, [value, ...]], ...], ...]}.

Each op is a dict: {"op": "read"|"set_content"|"add_alternative"|
"add_related"|"add_attachment"|"header", "path": [i, ...] (the part to call it on,
through get_payload()), and the call's arguments}. Messages are built as
EmailMessage(policy=policy.SMTP.clone(cte_type='7bit')), or parsed from
the bytes of a "read" op under that policy, and flattened with as_bytes();
they are described after parsing with policy.default, text payloads with
get_content() (decoded from their charset, then UTF-8), others with
get_payload(decode=True). The messages to decode are parsed with
policy.default too, and each field name is given with the str of every
value get_all returns for it (decoded, as msg[name] gives it).
"""
import base64
import json
import sys
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

POLICY = policy.SMTP.clone(cte_type='7bit')


def build(ops):
    msg = EmailMessage(policy=POLICY)
    for op in ops:
        if op["op"] == "read":
            msg = BytesParser(policy=POLICY).parsebytes(base64.b64decode(op["data"]))
            continue
        target = msg
        for i in op.get("path") or []:
            target = target.get_payload()[i]
        kind = op["op"]
        if kind == "header":
            target[op["name"]] = op["value"]
        elif kind == "set_content":
            target.set_content(op.get("text", ""), subtype=op.get("subtype") or "plain")
        elif kind == "add_alternative":
            target.add_alternative(op.get("text", ""), subtype=op.get("subtype") or "plain")
        elif kind == "add_related":
            target.add_related(base64.b64decode(op.get("data", "")), op["maintype"],
                               op.get("subtype"), cid=op.get("cid") or None)
        elif kind == "add_attachment":
            target.add_attachment(base64.b64decode(op.get("data", "")), op["maintype"],
                                  op.get("subtype"), filename=op.get("filename") or None)
        else:
            raise SystemExit("unknown op " + kind)
    return msg.as_bytes()


def path_of(root, part):
    """The index path from root to part, or None."""
    if root is part:
        return []
    if root.is_multipart():
        for i, sub in enumerate(root.get_payload()):
            p = path_of(sub, part)
            if p is not None:
                return [i] + p
    return None


def tree(part):
    ct = part.get('content-type')
    params = {}
    if ct is not None:
        params = {k.lower(): v for k, v in ct.params.items() if k.lower() != 'boundary'}
    cd = part.get('content-disposition')
    node = {
        "type": part.get_content_type(),
        "params": params,
        "disposition": cd.content_disposition if cd is not None else "",
        "filename": part.get_filename() or "",
        "cte": (part.get('content-transfer-encoding') or "").lower(),
        "cid": str(part.get('content-id') or ""),
        "multipart": part.is_multipart(),
    }
    if part.is_multipart():
        node["parts"] = [tree(p) for p in part.iter_parts()]
    else:
        if part.get_content_maintype() == 'text':
            payload = part.get_content().encode('utf-8')  # from its charset
        else:
            payload = part.get_payload(decode=True)
        if payload:
            node["payload"] = base64.b64encode(payload).decode()
    return node


def describe(data):
    msg = BytesParser(policy=policy.default).parsebytes(data)
    desc = tree(msg)
    body = msg.get_body()
    desc["body"] = path_of(msg, body) if body is not None else None
    desc["plain"] = None
    plain = msg.get_body(preferencelist=('plain',))
    if plain is not None:
        desc["plain"] = path_of(msg, plain)
    desc["attachments"] = [path_of(msg, a) for a in msg.iter_attachments()]
    headers = {}
    for name in ("Subject", "From", "To", "Cc"):
        h = msg.get(name)
        if h is None:
            continue
        if hasattr(h, "addresses"):
            headers[name] = [[a.display_name, a.addr_spec] for a in h.addresses]
        else:
            headers[name] = str(h)
    desc["headers"] = headers
    return desc


def decoded(data):
    msg = BytesParser(policy=policy.default).parsebytes(data)
    names = dict.fromkeys(k.lower() for k in msg.keys())
    return [[name, [str(v) for v in msg.get_all(name)]] for name in names]


def main():
    req = json.load(sys.stdin)
    built = []
    for ops in req.get("build", []):
        try:
            built.append({"bytes": base64.b64encode(build(ops)).decode(), "error": ""})
        except Exception as e:  # the Go side checks that it errs too
            built.append({"bytes": "", "error": "%s: %s" % (type(e).__name__, e)})
    described = [describe(base64.b64decode(m)) for m in req.get("describe", [])]
    decodes = [decoded(base64.b64decode(m)) for m in req.get("decode", [])]
    json.dump({"built": built, "described": described, "decoded": decodes}, sys.stdout)


main()
