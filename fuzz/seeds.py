#!/usr/bin/env python3
"""Writes the hand-made seed inputs into fuzz/corpus/<target>/seed-*.

Seeds come from docs/vectors/v1 (tokens, JWKS) and from the request shapes of issue 11 (the
attack classes: compound field names, bracket forms, separators, JSON in JSON, headers, cookies,
path segments). Run from the repository root; existing seed files are overwritten, the fuzzers'
own files are left alone.
"""
import base64
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
ID = "11010519491231002X"  # GB 11643's worked example, check digit X
ID15 = "110105491231002"
PASSPORT = "E12345678"


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


JSON = {
    "empty-object": "{}",
    "scalars": '[1, -2.5e10, true, false, null, "x", ""]',
    "id-under-idno": '{"user":{"name":"张三","idNo":"%s"}}' % ID,
    "id-in-text": '{"note":"我的身份证号是 %s 谢谢"}' % ID,
    "compound-names": '{"fullName":"张伟","userRealName":"李四","passportNumber":"%s","identityNo":"%s"}'
    % (PASSPORT, ID15),
    "birth-dates": '{"birthday":"1990-01-01","dateOfBirth":"1990/01/01","dob":"19900101","csrq":"1990-01-01"}',
    "escapes": '{"id\\u004eo":"\\u0031\\u0031010519491231002X","k":"\\ud83d\\ude00\\n\\t\\"\\\\"}',
    "fullwidth": '{"v":"１１０１０５１９４９１２３１００２Ｘ"}',
    "separators": '{"a":"110105 1949 1231 002X","b":"110105-19491231-002X","c":"110105.1949.1231.002X","d":"110105\\t19491231\\n002X"}',
    "masked": '{"idNo":"110101********1233","creditCode":"91350100M000100Y43"}',
    "json-in-json": '{"payload":"{\\"realName\\":\\"张伟\\",\\"idCard\\":\\"%s\\"}"}' % ID,
    "array-forms": '{"realName[]":["张伟"],"items":[{"cert":"%s"},{"certNo":""}]}' % ID,
    "nested-under-id": '{"idCard":{"front":"data:image/png;base64,AAAA","back":["x"]}}',
    "chinese-keys": '{"身份证号":"%s","姓名":"王五","手机":"13800138000"}' % ID,
    "number-value": '{"idNo":110105194912310020,"amount":1.1010519491231e17}',
    "exponent": '{"x":1.10105194912310E+17}',
    "deep": "[" * 31 + "1" + "]" * 31,
    "too-deep": "[" * 40 + "]" * 40,
    "long-key": '{"%s":"%s"}' % ("k" * 200, ID),
    "digits-in-key": '{"%s":"x","u123456":"y"}' % ID,
    "whitespace": ' \r\n\t{ "idNo" : "%s" } \n' % ID,
    "duplicate-keys": '{"idNo":"1","idNo":"%s"}' % ID,
    "invalid-trailing": '{"a":1} x',
    "invalid-utf8": b'{"a":"\xff\xfe"}',
    "bom": "\ufeff{}",
    "hk-permit": '{"permitNo":"H12345678","txz":"C12345678"}',
    "other-scripts": '{"idNo":"١١٠١٠٥١٩٤٩١٢٣١٠٠٢X"}',
    "zero-width": '{"v":"1101\u200b0519491231002X"}',
}

FORM = {
    "empty": "",
    "simple": "a=1&b=2",
    "id": "name=%E5%BC%A0%E4%B8%89&idNo=" + ID,
    "plus-space": "note=id+" + ID + "&x=y",
    "brackets": "user[idNo]=%s&realName[]=a&realName[0]=b&user.certNo=1" % ID,
    "percent": "a=%31%31%30%31%30%35%31%39%34%39%31%32%33%31%30%30%32%58",
    "bad-percent": "a=%zz&b=%4",
    "semicolon": "a=1;idNo=%s" % ID,
    "no-equals": "idNo&%s&&=" % ID,
    "query": "?q=1&idNo=" + ID,
    "chinese": "姓名=王五&身份证号=" + ID,
    "fullwidth": "v=%EF%BC%91%EF%BC%91%EF%BC%90%EF%BC%91",
    "invalid-utf8": "a=%FF%FE",
    "raw-invalid-utf8": b"a=\xff",
    "json-in-form": "data=%7B%22realName%22%3A%22%E5%BC%A0%E4%BC%9F%22%7D",
    "repeated": "&".join("idNo=%s" % ID for _ in range(20)),
    "birth": "birthday=1990-01-01&dob=19900101",
    "passport": "passportNo=" + PASSPORT + "&hzhm=G12345678",
}


def part(name, body, filename=None, ctype=None, extra=""):
    disp = 'form-data; name="%s"' % name
    if filename is not None:
        disp += '; filename="%s"' % filename
    h = "Content-Disposition: " + disp + "\r\n"
    if ctype:
        h += "Content-Type: " + ctype + "\r\n"
    return h + extra + "\r\n" + body


def multipart(boundary, parts, end=True):
    out = ""
    for p in parts:
        out += "--" + boundary + "\r\n" + p + "\r\n"
    if end:
        out += "--" + boundary + "--\r\n"
    return boundary + "\n" + out


MULTIPART = {
    "empty": "B\n",
    "one-field": multipart("B", [part("nickname", "bob")]),
    "id-field": multipart("X-b0undary", [part("idNo", ID), part("name", "张三")]),
    "csv-file": multipart("B", [part("roster", "name,id\r\nZhang San,%s\r\n" % ID, "staff.csv", "text/csv")]),
    "json-part": multipart("B", [part("meta", '{"user":{"idNo":"%s"}}' % ID, "m.json", "application/json")]),
    "form-part": multipart("B", [part("f", "idNo=%s&a=1" % ID, None, "application/x-www-form-urlencoded")]),
    "binary-file": multipart("B", [part("photo", "\x89PNG\r\n\x1a\n\x00\x00", "a.png", "image/png")]),
    "utf16-file": "B\n--B\r\n" + part("t", "", "t.txt", "text/plain") + "\r\n",
    "filename-id": multipart("B", [part("f", "x", ID + ".txt", "text/plain")]),
    "transfer-encoding": multipart("B", [part("a", "x", None, None, "Content-Transfer-Encoding: base64\r\n")]),
    "no-end": multipart("B", [part("a", "x")], end=False),
    "preamble": "B\npreamble\r\n--B\r\n" + part("a", "1") + "\r\n--B--\r\nepilogue",
    "long-boundary": multipart("b" * 70, [part("a", "1")]),
    "quoted-names": multipart("B", [part('we\\"ird', "1"), part("身份证号", ID)]),
    "lf-only": "B\n--B\nContent-Disposition: form-data; name=\"a\"\n\n1\n--B--\n",
    "invalid-utf8-text": b"B\n--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\xfe\r\n--B--\r\n",
}
# A UTF-16 file with a byte order mark, holding an ID number.
utf16 = ("id," + ID).encode("utf-16")
MULTIPART["utf16-file"] = (
    b"B\n--B\r\n"
    + part("t", "", "t.txt", "text/plain").encode()
    + utf16
    + b"\r\n--B--\r\n"
)


def request(first, headers, body=""):
    return first + "\n" + "".join(h + "\n" for h in headers) + "\n" + body


PLACES = {
    "get": request("GET /", []),
    "path-id": request("GET /users/%s/orders" % ID, []),
    "path-encoded": request("GET /users/%31%31%30%31%30%35%31%39%34%39%31%32%33%31%30%30%32%58", []),
    "query-id": request("GET /search?q=x&idNo=" + ID, []),
    "header-id": request("GET /", ["X-Id-Card: " + ID, "Accept: */*"]),
    "header-name": request("GET /", ["X-Real-Name: %E5%BC%A0%E4%B8%89", "X-Trace: abc"]),
    "cookies": request("GET /", ["Cookie: a=1; realName=%E5%BC%A0%E4%B8%89; netid_session=abc; idNo=" + ID]),
    "unscanned": request("GET /", ["Authorization: Bearer " + ID, "Sec-Fetch-Mode: " + ID, "Content-Length: 0"]),
    "json-body": request("POST /profile", ["Content-Type: application/json"], '{"realName":"张伟","idNo":"%s"}' % ID),
    "text-json": request("POST /profile", ["Content-Type: text/json"], '{"realName":"张伟"}'),
    "plain-json": request("POST /profile", ["Content-Type: text/plain"], '{"realName":"张伟"}'),
    "form-body": request("POST /profile", ["Content-Type: application/x-www-form-urlencoded"], "idNo=" + ID),
    "multipart-body": request(
        "POST /profile",
        ['Content-Type: multipart/form-data; boundary="B"'],
        multipart("B", [part("idNo", ID)]).split("\n", 1)[1],
    ),
    "gzip": request("POST /profile", ["Content-Type: application/json", "Content-Encoding: gzip"], "\x1f\x8b"),
    "no-type": request("POST /profile", [], "身份证 " + ID),
    "redact-json": request("POST /redact/notes", ["Content-Type: application/json"], '{"a":{"idNo":"%s"},"n":"x"}' % ID),
    "redact-form": request("POST /redact/notes", ["Content-Type: application/x-www-form-urlencoded"], "a=1&idNo=" + ID),
    "redact-query": request("POST /redact/notes?idNo=" + ID, ["Content-Type: application/json"], "{}"),
    "consent": request("POST /consent/vip", ["Content-Type: application/json"], '{"realName":"张伟"}'),
    "law": request("POST /law/kyc", ["Content-Type: application/json"], '{"realName":"张伟","idNo":"%s"}' % ID),
    "upload-image": request("POST /upload/a", ["Content-Type: image/png"], "\x89PNG" + ID),
    "upload-svg": request("POST /upload/a", ["Content-Type: image/svg+xml"], "<svg>%s</svg>" % ID),
    "octet": request("POST /x", ["Content-Type: application/octet-stream"], ID),
    "two-types": request("POST /x", ["Content-Type: text/plain", "Content-Type: application/json"], '{"idNo":"%s"}' % ID),
    "many": request(
        "POST /x?" + "&".join("idNo%d=%s" % (i, ID) for i in range(30)),
        ["X-Id-%d: %s" % (i, ID) for i in range(30)],
        "",
    ),
    "crlf": "GET /a HTTP/1.1\r\nX-Id: %s\r\n\r\n" % ID,
}

write("json", "vectors-jwks", open(os.path.join(ROOT, "docs/vectors/v1/keys/jwks.json"), "rb").read())
for k, v in JSON.items():
    write("json", k, v)
for k, v in FORM.items():
    write("form", k, v)
for k, v in MULTIPART.items():
    write("multipart", k, v)
for k, v in PLACES.items():
    write("places", k, v)

tokens = json.load(open(os.path.join(ROOT, "docs/vectors/v1/tokens.json")))
seen_headers = set()
for case in tokens["cases"]:
    tok = case.get("token", "")
    if len(tok) > 4096:
        continue
    name = case["name"]
    write("token", "T-" + name, "T" + tok)
    parts = tok.split(".")
    if len(parts) >= 2:
        try:
            header, payload = unb64(parts[0]), unb64(parts[1])
        except Exception:
            continue
        if header not in seen_headers:
            seen_headers.add(header)
            write("token", "H-" + name, b"H" + header)
        if name.startswith("valid_") or case.get("stage") in ("claims", "iss", "aud", "time", "nonce", "consistency", "payload_json"):
            write("token", "P-" + name, b"P" + payload)
write("token", "J-jwks", b"J" + open(os.path.join(ROOT, "docs/vectors/v1/keys/jwks.json"), "rb").read())
write("token", "J-keys", b"J" + open(os.path.join(ROOT, "docs/vectors/v1/keys/keys.json"), "rb").read())
