#!/usr/bin/env bash
# Regenerates docs/vectors/v1/ — the netid reference-protocol v1 test vectors — from scratch.
#
# This is an implementation of the protocol that shares no code with the Rust crate:
#   * every cryptographic operation (key generation, SM3, HMAC-SM3, SM2 signing and verification,
#     SM2 encryption and decryption) is done by the `openssl` 3.x command line;
#   * python3 (standard library only) does base64url, JSON assembly, DER <-> raw conversions,
#     and orchestration.
#
# Usage:   bash docs/vectors/make-vectors.sh
# Output:  docs/vectors/v1/  (replaced atomically; keys and signatures are fresh on every run,
#          the structure, case names and expected outcomes are not)
#
# The keys written to v1/keys/ are TEST KEYS. They are public. Never use them for anything else.

set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/v1"

die() { echo "make-vectors: FATAL: $*" >&2; exit 1; }

command -v openssl >/dev/null 2>&1 || die "openssl not found"
command -v python3 >/dev/null 2>&1 || die "python3 not found"

GENERATOR="$(openssl version)"
case "$GENERATOR" in
  "OpenSSL 3."*) ;;
  *) die "need OpenSSL 3.x (SM2 distid support); found: $GENERATOR" ;;
esac

TMP="$(mktemp -d "${TMPDIR:-/tmp}/netid-vectors.XXXXXX")"
NEW="$OUT.new.$$"
cleanup() { rm -rf "$TMP" "$NEW"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$NEW/keys"

# ---------------------------------------------------------------------------------------------
# 1. Keys (OpenSSL). PKCS#8 private keys, SubjectPublicKeyInfo public keys.
# ---------------------------------------------------------------------------------------------
for name in platform-sign other-sign rp-sign rp-enc; do
  openssl genpkey -algorithm SM2 -out "$NEW/keys/$name.private.pem" 2>"$TMP/err" \
    || { cat "$TMP/err" >&2; die "genpkey $name"; }
  openssl pkey -in "$NEW/keys/$name.private.pem" -pubout -out "$NEW/keys/$name.public.pem" 2>"$TMP/err" \
    || { cat "$TMP/err" >&2; die "pubout $name"; }
done

# ---------------------------------------------------------------------------------------------
# 2. Everything else: python orchestrates, openssl computes.
# ---------------------------------------------------------------------------------------------
python3 - "$NEW" "$TMP" "$GENERATOR" <<'PY'
import base64
import json
import os
import subprocess
import sys

OUT, TMP, GENERATOR = sys.argv[1], sys.argv[2], sys.argv[3]
KEYDIR = os.path.join(OUT, "keys")

# ----------------------------------------------------------------------------- constants
DEFAULT_ID = "1234567812345678"
CURVE = {
    "name": "SM2 recommended curve (GB/T 32918.5-2017), OID 1.2.156.10197.1.301",
    "p":  "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF",
    "a":  "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
    "b":  "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
    "n":  "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123",
    "gx": "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
    "gy": "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
    "h": 1,
}
N = int(CURVE["n"], 16)
OID_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")   # 1.2.840.10045.2.1
OID_SM2 = bytes.fromhex("06082a811ccf5501822d")           # 1.2.156.10197.1.301

PLATFORM_KID = "platform-2026-01"
KEYS = {
    # file stem      kid                 use    alg
    "platform-sign": ("platform-2026-01", "sig", "SM2-SM3"),
    "other-sign":    ("other-2026-01",    "sig", "SM2-SM3"),
    "rp-sign":       ("rp-sign-1",        "sig", "SM2-SM3"),
    "rp-enc":        ("rp-enc-1",         "enc", "SM2-C1C3C2"),
}


def die(msg):
    print("make-vectors: FATAL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        die(msg)


# ----------------------------------------------------------------------------- openssl plumbing
_n = [0]


def tmpfile(data: bytes) -> str:
    _n[0] += 1
    path = os.path.join(TMP, "f%05d" % _n[0])
    with open(path, "wb") as f:
        f.write(data)
    return path


def ossl(*args, ok=(0,)):
    r = subprocess.run(["openssl", *args], stdin=subprocess.DEVNULL, capture_output=True)
    if r.returncode not in ok:
        die("openssl %s failed (rc=%d): %s" % (" ".join(args), r.returncode,
                                               r.stderr.decode(errors="replace").strip()))
    return r


def sm3(data: bytes) -> bytes:
    out = ossl("dgst", "-sm3", "-binary", tmpfile(data)).stdout
    check(len(out) == 32, "sm3 output length")
    return out


def hmac_sm3(key: bytes, msg: bytes) -> bytes:
    f = tmpfile(msg)
    a = ossl("mac", "-digest", "SM3", "-macopt", "hexkey:" + key.hex(), "-in", f, "HMAC").stdout
    a = bytes.fromhex(a.decode().strip())
    # second, independent OpenSSL code path as a cross-check
    b = ossl("dgst", "-sm3", "-mac", "HMAC", "-macopt", "hexkey:" + key.hex(), "-binary", f).stdout
    check(a == b and len(a) == 32, "HMAC-SM3: `openssl mac` and `openssl dgst -mac` disagree")
    return a


def priv_path(stem):
    return os.path.join(KEYDIR, stem + ".private.pem")


def pub_path(stem):
    return os.path.join(KEYDIR, stem + ".public.pem")


def sign_der(stem: str, msg: bytes, distid) -> bytes:
    """SM2-SM3 signature by OpenSSL. distid=None means: no -sigopt (OpenSSL's empty default)."""
    sig = os.path.join(TMP, "sig%05d" % (_n[0] + 1))
    args = ["dgst", "-sm3", "-sign", priv_path(stem)]
    if distid is not None:
        args += ["-sigopt", "distid:" + distid]
    args += ["-out", sig, tmpfile(msg)]
    ossl(*args)
    with open(sig, "rb") as f:
        der = f.read()
    check(verify_der(pub_path(stem), msg, der, distid), "fresh signature does not verify")
    return der


def verify_der(pub_pem_path: str, msg: bytes, der: bytes, distid, keyform="PEM") -> bool:
    args = ["dgst", "-sm3", "-verify", pub_pem_path, "-keyform", keyform]
    if distid is not None:
        args += ["-sigopt", "distid:" + distid]
    args += ["-signature", tmpfile(der), tmpfile(msg)]
    r = ossl(*args, ok=(0, 1))
    return r.returncode == 0 and b"Verified OK" in r.stdout


def encrypt_der(stem: str, pt: bytes) -> bytes:
    out = os.path.join(TMP, "ct%05d" % (_n[0] + 1))
    ossl("pkeyutl", "-encrypt", "-pubin", "-inkey", pub_path(stem), "-in", tmpfile(pt), "-out", out)
    with open(out, "rb") as f:
        return f.read()


def decrypt_der(stem: str, der: bytes):
    out = os.path.join(TMP, "pt%05d" % (_n[0] + 1))
    r = ossl("pkeyutl", "-decrypt", "-inkey", priv_path(stem), "-in", tmpfile(der), "-out", out,
             ok=(0, 1))
    if r.returncode != 0:
        return None
    with open(out, "rb") as f:
        return f.read()


# ----------------------------------------------------------------------------- encodings
def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_dec(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jdump(obj) -> bytes:
    """Compact JSON, UTF-8, no escaping of non-ASCII: the exact bytes that get base64url'd."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag: int, val: bytes) -> bytes:
    return bytes([tag]) + der_len(len(val)) + val


def der_uint(v: int) -> bytes:
    b = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if b[0] & 0x80:
        b = b"\x00" + b
    return tlv(0x02, b)


def der_items(buf: bytes):
    """Strict DER reader for one level: list of (tag, value). Definite short/long lengths only."""
    items, i = [], 0
    while i < len(buf):
        check(i + 2 <= len(buf), "DER: truncated header")
        tag, l = buf[i], buf[i + 1]
        i += 2
        if l & 0x80:
            k = l & 0x7F
            check(1 <= k <= 2 and i + k <= len(buf), "DER: bad length")
            l = int.from_bytes(buf[i:i + k], "big")
            check(l >= 0x80 and (k == 1 or l >= 0x100), "DER: non-minimal length")
            i += k
        check(i + l <= len(buf), "DER: truncated value")
        items.append((tag, buf[i:i + l]))
        i += l
    return items


def der_one(buf: bytes, tag: int) -> bytes:
    items = der_items(buf)
    check(len(items) == 1 and items[0][0] == tag, "DER: expected a single tag %#x" % tag)
    return items[0][1]


def der_int_value(v: bytes) -> int:
    check(len(v) >= 1, "DER: empty INTEGER")
    check(not (v[0] & 0x80), "DER: negative INTEGER")
    check(not (len(v) > 1 and v[0] == 0 and not (v[1] & 0x80)), "DER: non-minimal INTEGER")
    return int.from_bytes(v, "big")


def der_sig_to_raw(der: bytes) -> bytes:
    items = der_items(der_one(der, 0x30))
    check(len(items) == 2 and all(t == 0x02 for t, _ in items), "DER sig: not SEQUENCE{INT,INT}")
    r, s = (der_int_value(v) for _, v in items)
    check(0 < r < N and 0 < s < N, "DER sig: r or s out of range")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def raw_sig_to_der(raw: bytes) -> bytes:
    check(len(raw) == 64, "raw sig length")
    return tlv(0x30, der_uint(int.from_bytes(raw[:32], "big")) + der_uint(int.from_bytes(raw[32:], "big")))


def pem(label: str, der: bytes) -> str:
    b = base64.b64encode(der).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        label, "\n".join(b[i:i + 64] for i in range(0, len(b), 64)), label)


def pem_der(path: str) -> bytes:
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip() and not l.startswith("-----")]
    return base64.b64decode("".join(lines))


def spki_from_point(point: bytes, legacy=None) -> bytes:
    """SubjectPublicKeyInfo for an uncompressed SM2 point.
    legacy=None:   AlgorithmIdentifier{id-ecPublicKey, sm2}            (the normal form)
    legacy="absent": AlgorithmIdentifier{1.2.156.10197.1.301}          (old toolkits)
    legacy="null":   AlgorithmIdentifier{1.2.156.10197.1.301, NULL}    (old toolkits)"""
    check(len(point) == 65 and point[0] == 4, "point encoding")
    if legacy is None:
        alg = tlv(0x30, OID_EC_PUBLIC_KEY + OID_SM2)
    elif legacy == "absent":
        alg = tlv(0x30, OID_SM2)
    else:
        alg = tlv(0x30, OID_SM2 + b"\x05\x00")
    return tlv(0x30, alg + tlv(0x03, b"\x00" + point))


def point_from_spki(der: bytes) -> bytes:
    alg, bits = der_items(der_one(der, 0x30))
    check(alg == (0x30, OID_EC_PUBLIC_KEY + OID_SM2), "SPKI: unexpected AlgorithmIdentifier")
    check(bits[0] == 0x03 and bits[1][0] == 0, "SPKI: bad BIT STRING")
    point = bits[1][1:]
    check(len(point) == 65 and point[0] == 4, "SPKI: not an uncompressed point")
    return point


def scalar_and_point_from_pkcs8(der: bytes):
    ver, alg, octets = der_items(der_one(der, 0x30))[:3]
    check(ver == (0x02, b"\x00"), "PKCS#8: version")
    check(alg == (0x30, OID_EC_PUBLIC_KEY + OID_SM2), "PKCS#8: unexpected AlgorithmIdentifier")
    check(octets[0] == 0x04, "PKCS#8: privateKey not OCTET STRING")
    ec = der_items(der_one(octets[1], 0x30))
    check(ec[0] == (0x02, b"\x01") and ec[1][0] == 0x04, "ECPrivateKey: header")
    d = ec[1][1]
    check(len(d) == 32, "ECPrivateKey: scalar is not 32 bytes")
    point = None
    for tag, val in ec[2:]:
        if tag == 0xA1:
            bits = der_one(val, 0x03)
            check(bits[0] == 0, "ECPrivateKey: BIT STRING")
            point = bits[1:]
    return d, point


def pkcs8_from_scalar(d: bytes) -> bytes:
    """PKCS#8 with only the private scalar (OpenSSL derives the public point when reading it)."""
    ec = tlv(0x30, der_uint(1) + tlv(0x04, d))
    return tlv(0x30, der_uint(0) + tlv(0x30, OID_EC_PUBLIC_KEY + OID_SM2) + tlv(0x04, ec))


def point_of_scalar(d: bytes) -> bytes:
    """[d]G computed by OpenSSL (reads a scalar-only PKCS#8, writes the SPKI)."""
    spki = ossl("pkey", "-inform", "DER", "-in", tmpfile(pkcs8_from_scalar(d)),
                "-pubout", "-outform", "DER").stdout
    return point_from_spki(spki)


def za(point: bytes, distid: bytes) -> bytes:
    """ZA = SM3(ENTL || ID || a || b || xG || yG || xA || yA), hashed by OpenSSL."""
    entl = (len(distid) * 8).to_bytes(2, "big")
    data = (entl + distid + bytes.fromhex(CURVE["a"] + CURVE["b"] + CURVE["gx"] + CURVE["gy"])
            + point[1:])
    return sm3(data)


def write_json(rel: str, obj):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


# ============================================================================= curve sanity
params = ossl("ecparam", "-name", "SM2", "-param_enc", "explicit", "-outform", "DER").stdout
ver, field, curve, base, order, cof = der_items(der_one(params, 0x30))
check(der_int_value(der_items(field[1])[1][1]) == int(CURVE["p"], 16), "curve p differs from OpenSSL")
ab = der_items(curve[1])
check(ab[0][1].hex().upper() == CURVE["a"] and ab[1][1].hex().upper() == CURVE["b"], "curve a/b")
check(base[1].hex().upper() == "04" + CURVE["gx"] + CURVE["gy"], "curve G")
check(der_int_value(order[1]) == N, "curve n")
check(der_int_value(cof[1]) == 1, "curve h")
check(point_of_scalar((1).to_bytes(32, "big")).hex().upper() == "04" + CURVE["gx"] + CURVE["gy"], "[1]G != G")

# ============================================================================= keys
keyinfo = {}
for stem, (kid, use, alg) in KEYS.items():
    d, point = scalar_and_point_from_pkcs8(pem_der(priv_path(stem)))
    spki_point = point_from_spki(pem_der(pub_path(stem)))
    check(point is not None and point == spki_point, stem + ": private/public mismatch")
    check(point_of_scalar(d) == point, stem + ": [d]G != public key")
    jwk = {"kty": "EC", "crv": "SM2", "x": b64u(point[1:33]), "y": b64u(point[33:]),
           "kid": kid, "use": use, "alg": alg}
    jwk_private = dict(jwk)
    jwk_private["d"] = b64u(d)
    keyinfo[stem] = {"d": d, "point": point, "jwk": jwk, "jwk_private": jwk_private, "kid": kid}

# legacy-OID re-encodings of the platform public key (python DER; OpenSSL 3.0 cannot read them)
pp = keyinfo["platform-sign"]["point"]
legacy_absent = spki_from_point(pp, "absent")
legacy_null = spki_from_point(pp, "null")
with open(os.path.join(KEYDIR, "platform-sign.public.legacy-oid.pem"), "w") as f:
    f.write(pem("PUBLIC KEY", legacy_absent))
with open(os.path.join(KEYDIR, "platform-sign.public.legacy-oid-null.pem"), "w") as f:
    f.write(pem("PUBLIC KEY", legacy_null))
check(spki_from_point(pp) == pem_der(pub_path("platform-sign")), "SPKI re-encoding differs from OpenSSL's")
openssl_reads_legacy = ossl("pkey", "-pubin", "-inform", "DER", "-in", tmpfile(legacy_absent),
                            "-noout", ok=(0, 1)).returncode == 0

write_json("keys/jwks.json", {"keys": [keyinfo["platform-sign"]["jwk"]]})

keys_json = {
    "generator": GENERATOR,
    "description": "Test keys (public, never use elsewhere). private_hex = 32-byte scalar d; "
                   "public_hex = 04||x||y (65 bytes); public_hex_no_prefix = x||y (64 bytes, the "
                   "form Python gmssl wants); jwks.json holds only the platform signing key.",
    "keys": [],
}
for stem, (kid, use, alg) in KEYS.items():
    k = keyinfo[stem]
    entry = {
        "name": stem,
        "kid": kid,
        "use": use,
        "alg": alg,
        "private_pem": "keys/%s.private.pem" % stem,
        "public_pem": "keys/%s.public.pem" % stem,
        "private_hex": k["d"].hex(),
        "public_hex": k["point"].hex(),
        "public_hex_no_prefix": k["point"][1:].hex(),
        "jwk": k["jwk"],
        "jwk_private": k["jwk_private"],
    }
    if stem == "platform-sign":
        entry["public_pem_legacy_oid"] = "keys/platform-sign.public.legacy-oid.pem"
        entry["public_pem_legacy_oid_null"] = "keys/platform-sign.public.legacy-oid-null.pem"
        entry["legacy_oid_note"] = (
            "Same point; AlgorithmIdentifier is {1.2.156.10197.1.301} with parameters absent "
            "(legacy-oid) or NULL (legacy-oid-null), as some older toolkits write it. "
            "Implementations MUST import both as this key. %s reads them: %s."
            % (GENERATOR.split(" (")[0], "yes" if openssl_reads_legacy else "no"))
    keys_json["keys"].append(entry)
write_json("keys/keys.json", keys_json)

# ============================================================================= sm3.json
published_sm3 = [
    {"source": "GB/T 32905-2016, Annex A, example 1", "message_ascii": "abc",
     "digest": "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
    {"source": "GB/T 32905-2016, Annex A, example 2", "message_ascii": "abcd" * 16,
     "digest": "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
]
for v in published_sm3:
    got = sm3(v["message_ascii"].encode()).hex()
    check(got == v["digest"], "OpenSSL SM3 disagrees with %s: %s" % (v["source"], got))
    v["openssl_agrees"] = True

msg1000 = bytes(i % 256 for i in range(1000))
sm3_vectors = []
for name, m in [("abc", b"abc"), ("abcd_x16", b"abcd" * 16), ("empty", b""),
                ("bytes_0_to_255_repeated_1000", msg1000),
                ("utf8_chinese", "国家网络身份认证".encode())]:
    sm3_vectors.append({"name": name, "message_hex": m.hex(), "message_len": len(m),
                        "digest": sm3(m).hex()})
    try:
        sm3_vectors[-1]["message_utf8"] = m.decode("ascii" if name != "utf8_chinese" else "utf-8")
    except UnicodeDecodeError:
        pass
    if len(m) > 64 and name.startswith("bytes"):
        sm3_vectors[-1].pop("message_utf8", None)
        sm3_vectors[-1]["message_rule"] = "byte i = i mod 256, for i in 0..1000"

hmac_vectors = []
hmac_inputs = [
    ("key1_abc", bytes([0x0B]), b"abc"),
    ("key1_empty_message", bytes([0x0B]), b""),
    ("key4_jefe", b"Jefe", b"what do ya want for nothing?"),
    ("key16_hi_there", bytes(range(16)), b"Hi There"),
    ("key64_block_size", bytes(range(64)), b"abc"),
    ("key64_long_message", bytes(range(64)), msg1000),
    ("key100_longer_than_block", bytes(range(100)), b"abc"),
    ("key100_hi_there", bytes(range(100)), b"Hi There"),
]
for name, key, msg in hmac_inputs:
    e = {"name": name, "key_hex": key.hex(), "key_len": len(key), "message_hex": msg.hex(),
         "message_len": len(msg), "mac": hmac_sm3(key, msg).hex()}
    if msg is msg1000:
        e["message_rule"] = "byte i = i mod 256, for i in 0..1000"
    else:
        e["message_ascii"] = msg.decode()
    hmac_vectors.append(e)

write_json("sm3.json", {
    "generator": GENERATOR,
    "description": "SM3 (GB/T 32905) digests computed by `openssl dgst -sm3`; HMAC-SM3 (RFC 2104, "
                   "block size 64 bytes, keys longer than 64 bytes are first hashed with SM3) "
                   "computed by `openssl mac -digest SM3 -macopt hexkey:... HMAC` and cross-checked "
                   "with `openssl dgst -sm3 -mac HMAC`. All hex is lowercase.",
    "published": published_sm3,
    "published_note": "Written literally from the standard; the generator checked that OpenSSL agrees.",
    "sm3": sm3_vectors,
    "hmac_sm3": hmac_vectors,
})

# ============================================================================= sm2-sign.json
# --- GB/T 32918.5-2017 Annex A, written literally, then verified by OpenSSL
A = {
    "private": "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8",
    "x": "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
    "y": "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13",
    "message": "message digest",
    "distid": DEFAULT_ID,
    "e": "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640",
    "k": "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21",
    "r": "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3",
    "s": "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA",
}
a_point = bytes.fromhex("04" + A["x"] + A["y"])
a_spki = spki_from_point(a_point)
a_raw = bytes.fromhex(A["r"] + A["s"])
a_der = raw_sig_to_der(a_raw)
check(der_sig_to_raw(a_der) == a_raw, "Annex A: DER round trip")
a_pub = tmpfile(a_spki)
if not verify_der(a_pub, A["message"].encode(), a_der, DEFAULT_ID, keyform="DER"):
    die("OpenSSL does NOT verify the GB/T 32918.5 Annex A signature — refusing to write vectors")
check(not verify_der(a_pub, A["message"].encode(), a_der, None, keyform="DER"),
      "Annex A signature verifies under the EMPTY id too?!")
check(point_of_scalar(bytes.fromhex(A["private"])) == a_point, "Annex A: [d]G != published public key")
a_za = za(a_point, DEFAULT_ID.encode())
a_e = sm3(a_za + A["message"].encode())
check(a_e.hex().upper() == A["e"], "Annex A: OpenSSL-computed e differs from the published e")
# arithmetic cross-check of r and s (the point [k]G is computed by OpenSSL)
x1 = int.from_bytes(point_of_scalar(bytes.fromhex(A["k"]))[1:33], "big")
e_int, d_int, k_int = int(A["e"], 16), int(A["private"], 16), int(A["k"], 16)
r_int = (e_int + x1) % N
s_int = (pow(1 + d_int, -1, N) * (k_int - r_int * d_int)) % N
check(r_int == int(A["r"], 16) and s_int == int(A["s"], 16), "Annex A: r/s do not follow from k")

annex_a = {
    "source": "GB/T 32918.5-2017 Annex A (signature example on the recommended curve)",
    "private_hex": A["private"].lower(),
    "public_hex": a_point.hex(),
    "public_x": A["x"].lower(),
    "public_y": A["y"].lower(),
    "public_spki_pem": pem("PUBLIC KEY", a_spki),
    "message_ascii": A["message"],
    "message_hex": A["message"].encode().hex(),
    "distid": A["distid"],
    "za": a_za.hex(),
    "e": A["e"].lower(),
    "k": A["k"].lower(),
    "r": A["r"].lower(),
    "s": A["s"].lower(),
    "signature_raw_hex": a_raw.hex(),
    "signature_der_hex": a_der.hex(),
    "signature_b64url": b64u(a_raw),
    "checks": [
        "openssl dgst -sm3 -verify <spki> -sigopt distid:1234567812345678 accepts (r,s) over the message",
        "the same signature is rejected with OpenSSL's default (empty) distinguishing id",
        "OpenSSL derives the published public key from the published private key",
        "ZA and e recomputed with openssl dgst -sm3 equal the published e",
        "r = (e + x1) mod n and s = ((1+d)^-1 (k - r d)) mod n with [k]G from OpenSSL",
    ],
}


def sign_vector(name, stem, msg: bytes, distid, description, also_check=()):
    der = sign_der(stem, msg, distid)
    raw = der_sig_to_raw(der)
    pub = pub_path(stem)
    point = keyinfo[stem]["point"]
    ids = [DEFAULT_ID, ""] + [i for i in also_check if i not in (DEFAULT_ID, "")]
    verifies = {}
    for i in ids:
        verifies[i] = verify_der(pub, msg, der, None if i == "" else i)
    used = "" if distid is None else distid
    check(verifies[used], name + ": does not verify under its own id")
    v = {
        "name": name,
        "description": description,
        "key": stem,
        "kid": keyinfo[stem]["kid"],
        "public_hex": point.hex(),
        "message_hex": msg.hex(),
        "distid": used,
        "distid_hex": used.encode().hex(),
        "signed_with": "openssl dgst -sm3 -sign keys/%s.private.pem%s" % (
            stem, "" if distid is None else " -sigopt distid:" + distid),
        "za": za(point, used.encode()).hex(),
        "e": sm3(za(point, used.encode()) + msg).hex(),
        "signature_der_hex": der.hex(),
        "signature_raw_hex": raw.hex(),
        "signature_b64url": b64u(raw),
        "verifies_with_distid": verifies,
    }
    try:
        v["message_utf8"] = msg.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return v


sign_vectors = [
    sign_vector("default_id_ascii", "platform-sign", b"netid test message", DEFAULT_ID,
                "Signed with the protocol's default distinguishing id. expect: valid."),
    sign_vector("default_id_empty_message", "platform-sign", b"", DEFAULT_ID,
                "Empty message, default id. expect: valid."),
    sign_vector("default_id_utf8", "rp-sign", "网号网证 验证".encode(), DEFAULT_ID,
                "UTF-8 message, RP signing key, default id. expect: valid."),
    sign_vector("default_id_1000_bytes", "platform-sign", msg1000, DEFAULT_ID,
                "1000-byte message (byte i = i mod 256). expect: valid."),
    sign_vector("empty_distid_trap", "platform-sign", b"netid test message", None,
                "INTEROP TRAP: signed by `openssl dgst -sm3 -sign` WITHOUT -sigopt distid, i.e. "
                "with OpenSSL's default EMPTY distinguishing id (ENTL = 0). Under the protocol's "
                "default id 1234567812345678 it MUST FAIL to verify (expect_default_id: "
                "invalid); it verifies only when the verifier is told the id is empty."),
    sign_vector("custom_distid", "platform-sign", b"netid test message", "ALICE123@YAHOO.COM",
                "Signed with the custom distinguishing id ALICE123@YAHOO.COM. Verifies only with "
                "that id configured; invalid under the default id.",
                also_check=("ALICE123@YAHOO.COM",)),
]
for v in sign_vectors:
    v["expect_default_id"] = "valid" if v["verifies_with_distid"][DEFAULT_ID] else "invalid"
check(sign_vectors[4]["expect_default_id"] == "invalid", "empty-id trap verified under default id")
check(sign_vectors[5]["expect_default_id"] == "invalid", "custom-id vector verified under default id")

# DER conversion cases (for DER -> raw importers; crypto.signature_der)
good = bytes.fromhex(sign_vectors[0]["signature_raw_hex"])
r_b, s_b = good[:32], good[32:]
r_i, s_i = int.from_bytes(r_b, "big"), int.from_bytes(s_b, "big")
der_cases = [
    {"name": "canonical", "der_hex": raw_sig_to_der(good).hex(), "expect": "ok",
     "raw_hex": good.hex()},
    {"name": "small_r_needs_left_padding",
     "der_hex": tlv(0x30, der_uint(0x1234) + der_uint(s_i)).hex(), "expect": "ok",
     "raw_hex": ((0x1234).to_bytes(32, "big") + s_b).hex(),
     "description": "r is 2 bytes in DER; raw form left-pads to 32 bytes (signature not valid, conversion only)"},
    {"name": "r_high_bit_with_leading_zero",
     "der_hex": tlv(0x30, der_uint((1 << 255) | 5) + der_uint(s_i)).hex(), "expect": "ok",
     "raw_hex": (((1 << 255) | 5).to_bytes(32, "big") + s_b).hex(),
     "description": "r has its top bit set so DER needs a 0x00 prefix (33 content bytes)"},
    {"name": "non_minimal_integer",
     "der_hex": tlv(0x30, tlv(0x02, b"\x00" + der_uint(r_i)[2:]) + der_uint(s_i)).hex(),
     "expect": "crypto.signature_der", "description": "superfluous leading 0x00 in r (BER, not DER)"},
    {"name": "negative_integer",
     "der_hex": tlv(0x30, tlv(0x02, b"\x80" + r_b[1:]) + der_uint(s_i)).hex(),
     "expect": "crypto.signature_der", "description": "r encoded as a negative INTEGER"},
    {"name": "trailing_bytes",
     "der_hex": (raw_sig_to_der(good) + b"\x00").hex(),
     "expect": "crypto.signature_der", "description": "a byte after the SEQUENCE"},
    {"name": "three_integers",
     "der_hex": tlv(0x30, der_uint(r_i) + der_uint(s_i) + der_uint(1)).hex(),
     "expect": "crypto.signature_der", "description": "SEQUENCE with a third INTEGER"},
    {"name": "r_zero",
     "der_hex": tlv(0x30, der_uint(0) + der_uint(s_i)).hex(),
     "expect": "crypto.signature_der", "description": "r = 0 (out of range 1..n-1)"},
    {"name": "s_equals_n",
     "der_hex": tlv(0x30, der_uint(r_i) + der_uint(N)).hex(),
     "expect": "crypto.signature_der", "description": "s = n (out of range 1..n-1)"},
    {"name": "indefinite_length",
     "der_hex": (b"\x30\x80" + der_uint(r_i) + der_uint(s_i) + b"\x00\x00").hex(),
     "expect": "crypto.signature_der", "description": "BER indefinite length"},
]

write_json("sm2-sign.json", {
    "generator": GENERATOR,
    "description": "SM2 signatures with SM3 (GB/T 32918.2), made by `openssl dgst -sm3 -sign`. "
                   "signature_raw_hex = r||s (32+32 bytes big-endian), signature_der_hex = "
                   "SEQUENCE{INTEGER r, INTEGER s} as OpenSSL writes and reads it. "
                   "za = SM3(ENTL||ID||a||b||xG||yG||xA||yA), e = SM3(za||M). "
                   "verifies_with_distid records what `openssl dgst -sm3 -verify` said for each "
                   "distinguishing id (\"\" = OpenSSL's empty default).",
    "curve": CURVE,
    "default_distid": DEFAULT_ID,
    "published": annex_a,
    "vectors": sign_vectors,
    "der_conversion": der_cases,
})

# ============================================================================= sm2-encrypt.json
def c1c3c2_from_der(der: bytes) -> bytes:
    items = der_items(der_one(der, 0x30))
    check(len(items) == 4 and [t for t, _ in items] == [2, 2, 4, 4], "SM2Cipher shape")
    x, y = der_int_value(items[0][1]), der_int_value(items[1][1])
    c3, c2 = items[2][1], items[3][1]
    check(len(c3) == 32, "C3 length")
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big") + c3 + c2


def der_from_c1c3c2(raw: bytes) -> bytes:
    check(len(raw) > 97 and raw[0] == 4, "C1C3C2 too short or no 04")
    x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:65], "big")
    return tlv(0x30, der_uint(x) + der_uint(y) + tlv(0x04, raw[65:97]) + tlv(0x04, raw[97:]))


FIELDS_PLAINTEXT = {"name": "张三", "id_number": "11010519491231002X"}
fields_pt_bytes = jdump(FIELDS_PLAINTEXT)


def enc_vector(name, pt: bytes, description):
    der = encrypt_der("rp-enc", pt)
    raw = c1c3c2_from_der(der)
    check(decrypt_der("rp-enc", der) == pt, name + ": OpenSSL cannot decrypt its own ciphertext")
    check(der_from_c1c3c2(raw) == der, name + ": DER <-> C1C3C2 round trip")
    check(decrypt_der("rp-enc", der_from_c1c3c2(raw)) == pt, name + ": raw->DER decrypt")
    check(len(raw) == 97 + len(pt), name + ": length")
    v = {
        "name": name,
        "description": description,
        "plaintext_hex": pt.hex(),
        "plaintext_len": len(pt),
        "ciphertext_der_hex": der.hex(),
        "ciphertext_c1c3c2_hex": raw.hex(),
        "ciphertext_c1c3c2_b64url": b64u(raw),
        "c1_hex": raw[:65].hex(),
        "c3_hex": raw[65:97].hex(),
        "c2_hex": raw[97:].hex(),
    }
    try:
        v["plaintext_utf8"] = pt.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return v, raw, der


enc_vectors = []
v, _, _ = enc_vector("one_byte", b"a", "1-byte plaintext")
enc_vectors.append(v)
v, _, _ = enc_vector("ascii", b"encryption standard", "ASCII plaintext (the GB/T 32918.4 example message)")
enc_vectors.append(v)
v, fields_raw, fields_der = enc_vector(
    "fields_json_utf8", fields_pt_bytes,
    "The plaintext-fields JSON object exactly as it is carried in a result token's fields.ct "
    "(compact UTF-8 JSON). tokens.json case valid_fields_with_consent carries THIS ciphertext.")
enc_vectors.append(v)
v, _, _ = enc_vector("multi_block_100", bytes((i * 7 + 3) % 256 for i in range(100)),
                     "100 bytes: KDF output spans 4 SM3 blocks (byte i = (7i+3) mod 256)")
enc_vectors.append(v)

# rejections: every one of these must fail to decrypt (crypto.decrypt)
tampered_c2 = bytearray(fields_raw); tampered_c2[-1] ^= 0x01
tampered_c3 = bytearray(fields_raw); tampered_c3[70] ^= 0x80
enc_rejects = []
for name, raw, desc, openssl_checkable in [
    ("c2_bit_flipped", bytes(tampered_c2), "last byte of C2 flipped: C3 check fails", True),
    ("c3_bit_flipped", bytes(tampered_c3), "a byte of C3 flipped", True),
    ("truncated_to_97_bytes", fields_raw[:97], "no C2 at all (empty message is not allowed)", False),
    ("c1_without_04_prefix", fields_raw[1:],
     "gmssl/sm-crypto style C1 without the 04 prefix; the protocol requires 04, no guessing", False),
    ("c1c2c3_order", fields_raw[:65] + fields_raw[97:] + fields_raw[65:97],
     "old C1||C2||C3 order; the protocol is C1||C3||C2", True),
]:
    if openssl_checkable:
        check(decrypt_der("rp-enc", der_from_c1c3c2(raw)) is None, name + ": OpenSSL decrypted it")
    enc_rejects.append({"name": name, "description": desc, "ciphertext_c1c3c2_hex": raw.hex(),
                        "expect": "crypto.decrypt"})
# wrong key
check(decrypt_der("platform-sign", fields_der) is None, "decrypts under the wrong key")
enc_rejects.append({"name": "wrong_private_key", "description":
                    "fields_json_utf8 ciphertext decrypted with the platform-sign private key",
                    "ciphertext_c1c3c2_hex": fields_raw.hex(), "decrypt_with": "platform-sign",
                    "expect": "crypto.decrypt"})

write_json("sm2-encrypt.json", {
    "generator": GENERATOR,
    "description": "SM2 public-key encryption with SM3 (GB/T 32918.4) by `openssl pkeyutl -encrypt "
                   "-pubin -inkey keys/rp-enc.public.pem`. OpenSSL emits DER SM2Cipher "
                   "SEQUENCE{INTEGER x1, INTEGER y1, OCTET STRING C3, OCTET STRING C2}; the protocol "
                   "carries raw C1||C3||C2 with C1 = 04||x1||y1 (x1, y1 left-padded to 32 bytes). "
                   "Every vector was decrypted again by OpenSSL from both forms. Decrypt with "
                   "keys/rp-enc.private.pem unless decrypt_with says otherwise.",
    "key": "rp-enc",
    "kid": KEYS["rp-enc"][0],
    "private_hex": keyinfo["rp-enc"]["d"].hex(),
    "public_hex": keyinfo["rp-enc"]["point"].hex(),
    "vectors": enc_vectors,
    "rejections": enc_rejects,
})

# ============================================================================= tokens.json
NOW = 1767229200                     # 2026-01-01T01:00:00Z
ISS = "https://sandbox.netid.example"
APP = "app_4f9d2c"
NONCE = "n-0S6_WzA2Mj"
LEEWAY = 60
TYP = "netid-result+jwt"
AUTHZ = "Q7bX2kP9mZ4vR8tW1nY6cH3sJ5dF0gLa"
SUB = "pw_3Jk8Qm2ZxV7nR4tYw9LbC1Ae6Ud0Hs"
check(len(AUTHZ) == 32 and AUTHZ.isalnum() and AUTHZ.isascii(), "authz id format")

HEADER = {"alg": "SM2-SM3", "kid": PLATFORM_KID, "typ": TYP}
MAX_TOKEN = 16384


def claims(name, **over):
    c = {
        "iss": ISS, "aud": APP, "iat": NOW - 20, "exp": NOW - 20 + 120,
        "jti": "jti." + name, "nonce": NONCE, "authz_id": AUTHZ, "sub": SUB,
        "result": {"status": "verified"}, "acr": 3, "amr": ["cred", "face"],
    }
    for k, v in over.items():
        if v is DROP:
            c.pop(k, None)
        else:
            c[k] = v
    return c


DROP = object()


def sign_input(h_seg: str, p_seg: str) -> bytes:
    return (h_seg + "." + p_seg).encode("ascii")


def sig_raw(h_seg, p_seg, stem="platform-sign", distid=DEFAULT_ID) -> bytes:
    return der_sig_to_raw(sign_der(stem, sign_input(h_seg, p_seg), distid))


def token_from_bytes(hb: bytes, pb: bytes, stem="platform-sign", distid=DEFAULT_ID):
    h, p = b64u(hb), b64u(pb)
    return h, p, sig_raw(h, p, stem, distid)


def compact(h, p, raw: bytes) -> str:
    return "%s.%s.%s" % (h, p, b64u(raw))


def json_depth(v, d=0):
    if isinstance(v, dict):
        return max([d + 1] + [json_depth(x, d + 1) for x in v.values()])
    if isinstance(v, list):
        return max([d + 1] + [json_depth(x, d + 1) for x in v])
    return d


STAGES = ["size", "structure", "header_base64", "header_json", "header_members", "key_lookup",
          "signature_decoding", "signature_scalars", "signature_verification", "payload_base64",
          "payload_json", "claims", "iss", "aud", "time", "nonce", "consistency"]

cases = []


def add(name, description, token, expect, stage, claims_obj=None, sig_ok=True, **extra):
    check(stage in STAGES or stage == "accepted", name + ": bad stage")
    check(all(c["name"] != name for c in cases), name + ": duplicate case name")
    # isolation guarantee: unless the fault IS the signature, the signature verifies (OpenSSL)
    # over the exact signing input that was sent.
    if sig_ok:
        parts = token.split(".")
        check(len(parts) >= 3, name + ": sig_ok needs 3 segments")
        raw = b64u_dec(parts[2].rstrip("=").rstrip("\n"))
        check(len(raw) == 64, name + ": sig_ok needs a 64-byte signature")
        check(verify_der(pub_path("platform-sign"), sign_input(parts[0], parts[1]),
                         raw_sig_to_der(raw), DEFAULT_ID),
              name + ": signature does not verify over the signing input (isolation broken)")
    c = {"name": name, "description": description, "token": token, "expect": expect,
         "stage": stage}
    if claims_obj is not None:
        c["claims"] = claims_obj
    c.update(extra)
    cases.append(c)


def std(name, description, expect, stage, header=None, payload=None, **extra):
    hb = jdump(header if header is not None else HEADER)
    pobj = payload if payload is not None else claims(name)
    pb = pobj if isinstance(pobj, bytes) else jdump(pobj)
    h, p, raw = token_from_bytes(hb, pb)
    tok = compact(h, p, raw)
    add(name, description, tok, expect, stage,
        claims_obj=(pobj if expect == "valid" else None), **extra)
    return tok


# ---- valid ------------------------------------------------------------------------------------
VALID_MINIMAL = std("valid_verify_only",
    "Minimal verify-only result: verified, acr 3 (credential + face), amr [cred, face]. "
    "iat = now-20, exp = iat+120.", "valid", "accepted")
std("valid_age_tag_adult", "Age-tag request answered: age_tag adult (no guardian_consent).",
    "valid", "accepted", payload=claims("valid_age_tag_adult", age_tag="adult"))
std("valid_under_14_guardian_consent",
    "age_tag under_14 with guardian_consent true.",
    "valid", "accepted", payload=claims("valid_under_14_guardian_consent",
                                         age_tag="under_14", guardian_consent=True))
std("valid_under_14_guardian_consent_false",
    "age_tag under_14 with guardian_consent false: the TOKEN is well-formed and valid (platforms "
    "before the reason guardian_consent_required sent it); a platform now answers "
    "not_verified/guardian_consent_required instead, and an RP MUST refuse the login either way.",
    "valid", "accepted", payload=claims("valid_under_14_guardian_consent_false",
                                         age_tag="under_14", guardian_consent=False))
std("valid_age_14_to_17", "age_tag age_14_to_17 without guardian_consent (optional in this band).",
    "valid", "accepted", payload=claims("valid_age_14_to_17", age_tag="age_14_to_17"))
std("valid_senior", "age_tag senior.", "valid", "accepted",
    payload=claims("valid_senior", age_tag="senior"))
std("valid_not_verified_face_mismatch",
    "result not_verified with reason face_mismatch (acr/amr still describe the attempted method).",
    "valid", "accepted", payload=claims("valid_not_verified_face_mismatch",
        result={"status": "not_verified", "reason": "face_mismatch"}))
std("valid_aud_array", "aud is an array that contains the app id.", "valid", "accepted",
    payload=claims("valid_aud_array", aud=["app_other", APP]))
std("valid_acr_1", "acr 1 (credential only, R01) with amr [cred].", "valid", "accepted",
    payload=claims("valid_acr_1", acr=1, amr=["cred"]))
std("valid_acr_4_amr_order_free", "acr 4 with amr in a different order: [face, pin, cred].",
    "valid", "accepted", payload=claims("valid_acr_4_amr_order_free", acr=4,
                                         amr=["face", "pin", "cred"]))
std("valid_with_nbf", "Optional nbf present (= iat).", "valid", "accepted",
    payload=claims("valid_with_nbf", nbf=NOW - 20))
std("valid_lifetime_300", "exp - iat = 300, the maximum.", "valid", "accepted",
    payload=claims("valid_lifetime_300", iat=NOW - 20, exp=NOW - 20 + 300))
std("valid_at_exp_plus_leeway",
    "Boundary: exp = now - 60, so now = exp + leeway. Rule: expired iff now > exp + leeway; "
    "this token is still valid.", "valid", "accepted",
    payload=claims("valid_at_exp_plus_leeway", iat=NOW - 60 - 120, exp=NOW - 60))
std("valid_iat_in_future_within_leeway",
    "Boundary: iat = now + 60 (= now + leeway). Rule: not yet valid iff iat > now + leeway.",
    "valid", "accepted", payload=claims("valid_iat_in_future_within_leeway",
                                         iat=NOW + 60, exp=NOW + 60 + 120))

fields_obj = {"alg": "SM2-C1C3C2", "kid": KEYS["rp-enc"][0], "names": ["name", "id_number"],
              "ct": b64u(fields_raw)}
consent_obj = {"id": "cst_7Hq2Lw9Xp4", "purpose": "网络游戏实名登记",
               "legal_basis": "《网络安全法》第二十四条", "fields": ["name", "id_number"],
               "granted_at": NOW - 25}
std("valid_fields_with_consent",
    "Plaintext fields released with consent. fields.ct is the raw C1C3C2 (base64url) of the "
    "UTF-8 JSON in fields_plaintext, encrypted by OpenSSL to keys/rp-enc.public.pem (kid "
    "rp-enc-1); the same ciphertext is sm2-encrypt.json vector fields_json_utf8. consent "
    "purpose/legal_basis are UTF-8 (Chinese) in the payload.", "valid", "accepted",
    payload=claims("valid_fields_with_consent", fields=fields_obj, consent=consent_obj),
    fields_plaintext=FIELDS_PLAINTEXT, fields_plaintext_hex=fields_pt_bytes.hex(),
    decrypt_with="rp-enc")

# ---- 1 size -----------------------------------------------------------------------------------
def sized(name, target):
    hb = jdump(HEADER)
    for padlen in range(1, MAX_TOKEN):
        pobj = claims(name)
        pobj["pad"] = "A" * padlen
        pb = jdump(pobj)
        if len(b64u(hb)) + 1 + len(b64u(pb)) + 1 + 86 == target:
            h, p, raw = token_from_bytes(hb, pb)
            tok = compact(h, p, raw)
            check(len(tok) == target, "sized token length")
            return tok
    die("cannot size a token to %d bytes" % target)


add("too_large_16385_bytes",
    "16385 bytes (limit 16384) because of a huge unknown claim \"pad\". The size check comes "
    "first, so the code is too_large, not claim_unknown.",
    sized("too_large_16385_bytes", MAX_TOKEN + 1), "token.too_large", "size")
add("at_size_limit_16384_bytes",
    "Exactly 16384 bytes: passes the size check; then fails on the unknown claim \"pad\".",
    sized("at_size_limit_16384_bytes", MAX_TOKEN), "token.claim_unknown", "claims")

# ---- 2 structure ------------------------------------------------------------------------------
add("empty_string", "The empty string.", "", "token.malformed", "structure", sig_ok=False)
add("two_segments", "header.payload with no second dot (no signature segment).",
    VALID_MINIMAL.rsplit(".", 1)[0], "token.malformed", "structure", sig_ok=False)
add("trailing_fourth_segment", "A valid token followed by \".xyz\" (a fourth segment).",
    VALID_MINIMAL + ".xyz", "token.trailing_data", "structure", sig_ok=False)
add("trailing_newline", "A valid token followed by LF (0x0a).",
    VALID_MINIMAL + "\n", "token.trailing_data", "structure", sig_ok=False)

# ---- 3 header base64 / size ------------------------------------------------------------------
big_header = dict(HEADER)
big_header["foo"] = "x" * 1000
std("header_over_1024_bytes",
    "Header JSON is %d bytes (limit 1024; its segment is longer than 1366 characters). Checked "
    % len(jdump(big_header)) +
    "when the header segment is decoded, before JSON parsing and member checks, so too_large "
    "(not header_unknown).", "token.too_large", "header_base64", header=big_header)
# header segment non-canonical: flip unused bits of the last char of the header segment
h0, p0, s0 = VALID_MINIMAL.split(".")
ALPH = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
check(len(h0) % 4 in (2, 3), "header segment length")
h_bad = h0[:-1] + ALPH[ALPH.index(h0[-1]) | 1]
check(b64u_dec(h_bad) == b64u_dec(h0), "lenient decode differs")
raw = sig_raw(h_bad, p0)
add("header_base64_noncanonical",
    "Last character of the header segment has a non-zero unused bit (decodes to the same bytes "
    "under a lenient decoder). Signature is valid over the segments as sent.",
    compact(h_bad, p0, raw), "token.base64", "header_base64")

# ---- 4 header JSON ----------------------------------------------------------------------------
std("header_not_an_object", "Header is the JSON array [\"SM2-SM3\"].", "token.json",
    "header_json", header=["SM2-SM3"])
hb = b'{"alg":"SM2-SM3","kid":"platform-2026-01","typ":"netid-result+jwt",}'
h, p, raw = token_from_bytes(hb, jdump(claims("header_invalid_json")))
add("header_invalid_json", "Header JSON has a trailing comma.", compact(h, p, raw),
    "token.json", "header_json")
hb = b'{"alg":"SM2-SM3","alg":"SM2-SM3","kid":"platform-2026-01","typ":"netid-result+jwt"}'
h, p, raw = token_from_bytes(hb, jdump(claims("header_duplicate_alg")))
add("header_duplicate_alg", "Header has \"alg\" twice (same value).", compact(h, p, raw),
    "token.json_duplicate_key", "header_json")

# ---- 5 header members ------------------------------------------------------------------------
hb = jdump({"alg": "none", "kid": PLATFORM_KID, "typ": TYP})
h, p = b64u(hb), b64u(jdump(claims("alg_none_empty_signature")))
add("alg_none_empty_signature",
    "alg \"none\" and an empty signature segment (\"h.p.\"). The header is checked before the "
    "signature, so the code is alg, not signature_length.",
    h + "." + p + ".", "token.alg", "header_members", sig_ok=False)
for name, alg in [("alg_hs256", "HS256"), ("alg_es256", "ES256")]:
    std(name, "alg \"%s\" (signature is a valid SM2-SM3 signature over what was sent)." % alg,
        "token.alg", "header_members", header={"alg": alg, "kid": PLATFORM_KID, "typ": TYP})
std("alg_missing", "Header without alg.", "token.alg", "header_members",
    header={"kid": PLATFORM_KID, "typ": TYP})
std("alg_lowercase", "alg \"sm2-sm3\" (comparison is exact, case-sensitive).", "token.alg",
    "header_members", header={"alg": "sm2-sm3", "kid": PLATFORM_KID, "typ": TYP})
other_jwk_pub = {k: keyinfo["other-sign"]["jwk"][k] for k in ("kty", "crv", "x", "y")}
for name, member, value, code in [
    ("header_crit", "crit", ["exp"], "token.header_crit"),
    ("header_jku", "jku", "https://attacker.example/jwks.json", "token.header_jku"),
    ("header_jwk", "jwk", other_jwk_pub, "token.header_jwk"),
    ("header_x5u", "x5u", "https://attacker.example/cert.pem", "token.header_x5u"),
    ("header_x5c", "x5c", [base64.b64encode(pem_der(pub_path("other-sign"))).decode()], "token.header_x5c"),
    ("header_unknown_member", "foo", "bar", "token.header_unknown"),
]:
    hdr = dict(HEADER)
    hdr[member] = value
    std(name, "Header carries \"%s\" (otherwise valid; signed by the platform key)." % member,
        code, "header_members", header=hdr)
std("typ_wrong", "typ \"JWT\".", "token.typ", "header_members",
    header={"alg": "SM2-SM3", "kid": PLATFORM_KID, "typ": "JWT"})
std("typ_missing", "Header without typ.", "token.typ", "header_members",
    header={"alg": "SM2-SM3", "kid": PLATFORM_KID})
std("kid_missing", "Header without kid.", "token.kid", "header_members",
    header={"alg": "SM2-SM3", "typ": TYP})
std("kid_bad_syntax", "kid \"platform 2026/01\" (space and slash are outside [A-Za-z0-9._-]).",
    "token.kid", "header_members", header={"alg": "SM2-SM3", "kid": "platform 2026/01", "typ": TYP})

# ---- 6 key lookup ----------------------------------------------------------------------------
std("unknown_kid", "kid \"platform-2025-07\" is well-formed but not in the key set (jwks.json).",
    "token.unknown_kid", "key_lookup", header={"alg": "SM2-SM3", "kid": "platform-2025-07", "typ": TYP})

# ---- 7 signature decoding --------------------------------------------------------------------
h, p, raw = token_from_bytes(jdump(HEADER), jdump(claims("signature_base64_noncanonical")))
s = b64u(raw)
check(len(s) == 86 and ALPH.index(s[-1]) & 0x0F == 0, "sig last char")
add("signature_base64_noncanonical",
    "Last character of the 86-character signature segment has non-zero unused bits (a lenient "
    "decoder would get the right 64 bytes).",
    h + "." + p + "." + s[:-1] + ALPH[ALPH.index(s[-1]) | 0x01], "token.base64",
    "signature_decoding", sig_ok=False)
h, p, raw = token_from_bytes(jdump(HEADER), jdump(claims("signature_base64_padding")))
add("signature_base64_padding", "\"==\" appended to the signature segment.",
    compact(h, p, raw) + "==", "token.base64", "signature_decoding", sig_ok=False)
for attempt in range(200):
    h, p, raw = token_from_bytes(jdump(HEADER), jdump(claims("signature_standard_alphabet")))
    s = b64u(raw)
    if "-" in s or "_" in s:
        break
else:
    die("no signature with - or _ in 200 tries")
s_std = s.replace("-", "+").replace("_", "/")
add("signature_standard_alphabet",
    "Signature segment uses the standard base64 alphabet (\"+\" / \"/\" instead of \"-\" / \"_\"); "
    "a lenient decoder would get a valid signature.",
    h + "." + p + "." + s_std, "token.base64", "signature_decoding", sig_ok=False)
h, p, raw = token_from_bytes(jdump(HEADER), jdump(claims("signature_63_bytes")))
add("signature_63_bytes", "Signature segment decodes to 63 bytes (last byte dropped).",
    h + "." + p + "." + b64u(raw[:63]), "token.signature_length", "signature_decoding", sig_ok=False)
h, p, raw = token_from_bytes(jdump(HEADER), jdump(claims("signature_65_bytes")))
add("signature_65_bytes", "Signature segment decodes to 65 bytes (0x00 appended).",
    h + "." + p + "." + b64u(raw + b"\x00"), "token.signature_length", "signature_decoding", sig_ok=False)
h, p, raw = token_from_bytes(jdump(HEADER), jdump(claims("signature_der_encoded")))
add("signature_der_encoded",
    "INTEROP TRAP: the signature segment carries OpenSSL's DER signature (%d bytes) instead of raw r||s."
    % len(raw_sig_to_der(raw)),
    h + "." + p + "." + b64u(raw_sig_to_der(raw)), "token.signature_length", "signature_decoding", sig_ok=False)

# ---- 8 signature scalars ---------------------------------------------------------------------
def scalar_case(name, desc, mutate):
    h, p, raw = token_from_bytes(jdump(HEADER), jdump(claims(name)))
    r, s_ = raw[:32], raw[32:]
    r, s_ = mutate(r, s_)
    add(name, desc, h + "." + p + "." + b64u(r + s_), "token.signature_scalar",
        "signature_scalars", sig_ok=False)


n_bytes = N.to_bytes(32, "big")
scalar_case("signature_r_zero", "r = 0.", lambda r, s: (bytes(32), s))
scalar_case("signature_s_zero", "s = 0.", lambda r, s: (r, bytes(32)))
scalar_case("signature_r_equals_n", "r = n (the group order).", lambda r, s: (n_bytes, s))
scalar_case("signature_s_greater_than_n", "s = n + 1.", lambda r, s: (r, (N + 1).to_bytes(32, "big")))
scalar_case("signature_s_all_ff", "s = 2^256 - 1.", lambda r, s: (r, b"\xff" * 32))

# ---- 9 signature verification ----------------------------------------------------------------
h, p = b64u(jdump(HEADER)), b64u(jdump(claims("signature_other_key")))
raw = sig_raw(h, p, stem="other-sign")
add("signature_other_key",
    "Signed by keys/other-sign (not in the key set) but the header names the platform kid.",
    compact(h, p, raw), "token.signature_invalid", "signature_verification", sig_ok=False)
h, p = b64u(jdump(HEADER)), b64u(jdump(claims("signature_empty_distid")))
raw = sig_raw(h, p, distid=None)
add("signature_empty_distid",
    "INTEROP TRAP: signed by the platform key with OpenSSL's default EMPTY distinguishing id "
    "(no -sigopt distid). Invalid under the default id 1234567812345678.",
    compact(h, p, raw), "token.signature_invalid", "signature_verification", sig_ok=False)
h, p = b64u(jdump(HEADER)), b64u(jdump(claims("signature_custom_distid")))
raw = sig_raw(h, p, distid="ALICE123@YAHOO.COM")
add("signature_custom_distid",
    "Signed by the platform key with distinguishing id ALICE123@YAHOO.COM; the verifier uses "
    "the default id.", compact(h, p, raw), "token.signature_invalid", "signature_verification",
    sig_ok=False)
h, p, raw = token_from_bytes(jdump(HEADER), jdump(claims("payload_modified_after_signing")))
p2 = b64u(jdump(claims("payload_modified_after_signing", sub="pw_SomeoneElse0000000000000000000")))
add("payload_modified_after_signing",
    "Payload replaced after signing (different sub; the new payload is itself well-formed).",
    h + "." + p2 + "." + b64u(raw), "token.signature_invalid", "signature_verification", sig_ok=False)
h, p, raw = token_from_bytes(jdump(HEADER), jdump(claims("signature_bit_flip")))
raw2 = bytearray(raw); raw2[40] ^= 0x01
add("signature_bit_flip", "One bit of s flipped (s stays in range).",
    h + "." + p + "." + b64u(bytes(raw2)), "token.signature_invalid", "signature_verification",
    sig_ok=False)

# ---- 10 payload base64 -----------------------------------------------------------------------
h = b64u(jdump(HEADER))
p = b64u(jdump(claims("payload_base64_padding")))
p_pad = p + ("=" * (-len(p) % 4) or "=")
raw = sig_raw(h, p_pad)
add("payload_base64_padding",
    "Payload segment ends with base64 padding \"=\". The signature is valid over the segments AS "
    "SENT, so this fails only when the payload is decoded (after signature verification).",
    compact(h, p_pad, raw), "token.base64", "payload_base64")

# ---- 11 payload JSON -------------------------------------------------------------------------
def raw_payload_case(name, desc, pb: bytes, expect, stage):
    h, p, raw = token_from_bytes(jdump(HEADER), pb)
    add(name, desc, compact(h, p, raw), expect, stage)


base = jdump(claims("payload_duplicate_sub")).decode()
dup = base.replace('"sub":"%s"' % SUB, '"sub":"%s","sub":"pw_Other000000000000000000000000"' % SUB)
check(dup != base, "dup sub replace")
raw_payload_case("payload_duplicate_sub", "Payload has \"sub\" twice (two different, well-formed values).",
                 dup.encode(), "token.json_duplicate_key", "payload_json")
base = jdump(claims("payload_duplicate_key_in_result")).decode()
dup = base.replace('"result":{"status":"verified"}', '"result":{"status":"verified","status":"verified"}')
check(dup != base, "dup result replace")
raw_payload_case("payload_duplicate_key_in_result",
                 "The nested \"result\" object has \"status\" twice.",
                 dup.encode(), "token.json_duplicate_key", "payload_json")


def nested(levels):
    v = {}
    for _ in range(levels - 1):
        v = {"a": v}
    return v


deep9 = claims("payload_json_depth_9", result={"status": "verified", "x": nested(7)})
check(json_depth(deep9) == 9, "depth 9")
raw_payload_case("payload_json_depth_9",
                 "JSON nesting depth 9 (the payload object is depth 1, result 2, then 7 nested "
                 "objects inside result). Limit is 8; depth is checked while parsing, before claims.",
                 jdump(deep9), "token.json_too_deep", "payload_json")
deep8 = claims("payload_json_depth_8", result={"status": "verified", "x": nested(6)})
check(json_depth(deep8) == 8, "depth 8")
raw_payload_case("payload_json_depth_8",
                 "Boundary: depth exactly 8 passes the JSON layer; it then fails because result "
                 "has an unknown member \"x\" (members of nested claim objects are claim_invalid, "
                 "not claim_unknown).", jdump(deep8), "token.claim_invalid", "claims")
raw_payload_case("payload_trailing_bytes",
                 "Payload JSON object followed by the byte \"x\".",
                 jdump(claims("payload_trailing_bytes")) + b"x", "token.json", "payload_json")
raw_payload_case("payload_two_objects", "Payload is two JSON objects back to back.",
                 jdump(claims("payload_two_objects")) + b"{}", "token.json", "payload_json")
raw_payload_case("payload_not_an_object", "Payload is a JSON array.",
                 b'["iss","aud"]', "token.json", "payload_json")
bad_utf8 = jdump(claims("payload_invalid_utf8")).replace(SUB.encode(), b"pw_\xff\xfe" + SUB[3:].encode())
raw_payload_case("payload_invalid_utf8", "Payload contains bytes 0xff 0xfe inside the sub string (not UTF-8).",
                 bad_utf8, "token.json", "payload_json")

# ---- 12 claims --------------------------------------------------------------------------------
def pcase(name, desc, expect, stage, **over):
    std(name, desc, expect, stage, payload=claims(name, **over))


pcase("exp_missing", "No exp claim.", "token.claim_missing", "claims", exp=DROP)
pcase("sub_missing", "No sub claim.", "token.claim_missing", "claims", sub=DROP)
pcase("result_missing", "No result claim.", "token.claim_missing", "claims", result=DROP)
pcase("exp_string", "exp is the string \"%d\"." % (NOW + 100), "token.claim_invalid", "claims",
      exp=str(NOW + 100))
raw_payload_case("iat_fraction", "iat is %d.5 (a fraction)." % (NOW - 20),
                 jdump(claims("iat_fraction")).replace(b'"iat":%d' % (NOW - 20), b'"iat":%d.5' % (NOW - 20)),
                 "token.claim_invalid", "claims")
raw_payload_case("iat_exponent", "iat written with an exponent (1.76722918E9 = now-20).",
                 jdump(claims("iat_exponent")).replace(b'"iat":%d' % (NOW - 20), b'"iat":1.76722918E9'),
                 "token.claim_invalid", "claims")
check(1.76722918E9 == NOW - 20, "exponent literal")
raw_payload_case("iat_integer_with_dot_zero", "iat is %d.0." % (NOW - 20),
                 jdump(claims("iat_integer_with_dot_zero")).replace(b'"iat":%d' % (NOW - 20), b'"iat":%d.0' % (NOW - 20)),
                 "token.claim_invalid", "claims")
pcase("exp_negative", "exp = -1 (NumericDate must be 0..2^53-1).", "token.claim_invalid", "claims", exp=-1)
pcase("claim_unknown_email", "Unknown top-level claim \"email\".", "token.claim_unknown", "claims",
      email="zhangsan@example.com")
pcase("age_tag_unknown_value", "age_tag \"child\".", "token.claim_invalid", "claims", age_tag="child")
pcase("authz_id_31_chars", "authz_id has 31 characters (must be exactly 32 [A-Za-z0-9]).",
      "token.claim_invalid", "claims", authz_id=AUTHZ[:31])
pcase("authz_id_bad_char", "authz_id has 32 characters but one is \"-\".",
      "token.claim_invalid", "claims", authz_id=AUTHZ[:31] + "-")
pcase("acr_5", "acr 5 (must be 1..4).", "token.claim_invalid", "claims", acr=5,
      amr=["cred", "pin", "face"])
pcase("acr_string", "acr \"3\" (a string).", "token.claim_invalid", "claims", acr="3")
pcase("amr_unknown_method", "amr [cred, otp].", "token.claim_invalid", "claims", amr=["cred", "otp"])
pcase("amr_duplicate", "amr [cred, face, face] (duplicates are not allowed).",
      "token.claim_invalid", "claims", amr=["cred", "face", "face"])
pcase("result_unknown_status", "result {\"status\":\"maybe\"}.", "token.claim_invalid", "claims",
      result={"status": "maybe"})
pcase("result_unknown_reason", "result not_verified with reason \"bad_luck\".",
      "token.claim_invalid", "claims", result={"status": "not_verified", "reason": "bad_luck"})
pcase("result_not_verified_without_reason", "result {\"status\":\"not_verified\"} (reason required).",
      "token.claim_invalid", "claims", result={"status": "not_verified"})
pcase("result_verified_with_reason", "result verified with a reason member.",
      "token.claim_invalid", "claims", result={"status": "verified", "reason": "face_mismatch"})
pcase("result_as_string", "result \"verified\" (a string, not the object).",
      "token.claim_invalid", "claims", result="verified")
pcase("nonce_too_short", "nonce \"abc\" (must be 8..128 [A-Za-z0-9_-]); the syntax check precedes "
      "the comparison, so claim_invalid, not nonce.", "token.claim_invalid", "claims", nonce="abc")
pcase("jti_with_space", "jti contains a space (must be printable ASCII 0x21..0x7e).",
      "token.claim_invalid", "claims", jti="jti with space")
pcase("aud_empty_array", "aud [] (array must hold 1..8 strings).", "token.claim_invalid", "claims", aud=[])
pcase("aud_array_of_9", "aud array of 9 strings including the app id (max 8).",
      "token.claim_invalid", "claims", aud=[APP] + ["app_%d" % i for i in range(8)])
pcase("guardian_consent_string", "guardian_consent \"true\" (a string).", "token.claim_invalid",
      "claims", age_tag="under_14", guardian_consent="true")
pcase("fields_unknown_name", "fields.names contains \"address\" (not a FieldName).",
      "token.claim_invalid", "claims",
      fields=dict(fields_obj, names=["name", "address"]),
      consent=dict(consent_obj, fields=["name", "address"]))
pcase("fields_wrong_alg", "fields.alg \"SM2-C1C2C3\".", "token.claim_invalid", "claims",
      fields=dict(fields_obj, alg="SM2-C1C2C3"), consent=consent_obj)

# ---- 13 iss ----------------------------------------------------------------------------------
pcase("iss_wrong", "iss \"https://sandbox.netid.example/\" (trailing slash; comparison is exact).",
      "token.iss", "iss", iss=ISS + "/")
pcase("iss_other", "iss \"https://netid.example\".", "token.iss", "iss", iss="https://netid.example")
# ---- 14 aud ----------------------------------------------------------------------------------
pcase("aud_wrong_string", "aud \"app_9x9x9x\".", "token.aud", "aud", aud="app_9x9x9x")
pcase("aud_array_without_app_id", "aud [\"app_other\", \"app_4f9d2c_x\"].", "token.aud", "aud",
      aud=["app_other", APP + "_x"])
pcase("aud_case_differs", "aud \"APP_4F9D2C\" (comparison is exact).", "token.aud", "aud",
      aud=APP.upper())
# ---- 15 time ---------------------------------------------------------------------------------
pcase("expired", "exp = now - 61 (one second past exp + leeway).", "token.expired", "time",
      iat=NOW - 61 - 120, exp=NOW - 61)
pcase("iat_in_future", "iat = now + 61 (one second past now + leeway).", "token.not_yet_valid",
      "time", iat=NOW + 61, exp=NOW + 61 + 120)
pcase("nbf_in_future", "nbf = now + 61, iat = now - 20.", "token.not_yet_valid", "time",
      nbf=NOW + 61)
pcase("lifetime_301", "exp - iat = 301 (max 300); the token is otherwise current.",
      "token.lifetime", "time", iat=NOW - 20, exp=NOW - 20 + 301)
pcase("lifetime_zero", "exp = iat = now (exp - iat must be > 0).", "token.lifetime", "time",
      iat=NOW, exp=NOW)
pcase("exp_before_iat", "exp = iat - 10 (both within leeway of now).", "token.lifetime", "time",
      iat=NOW + 5, exp=NOW - 5)
# ---- 16 nonce --------------------------------------------------------------------------------
pcase("nonce_wrong", "nonce \"n-0S6_WzA2Mk\" (one character differs from the request nonce).",
      "token.nonce", "nonce", nonce="n-0S6_WzA2Mk")
# ---- 17 consistency --------------------------------------------------------------------------
pcase("acr3_with_pin_amr", "acr 3 (credential + face) but amr [cred, pin].",
      "token.inconsistent", "consistency", amr=["cred", "pin"])
pcase("acr1_with_face_amr", "acr 1 but amr [cred, face].", "token.inconsistent", "consistency",
      acr=1)
pcase("guardian_consent_with_adult", "guardian_consent true with age_tag adult.",
      "token.inconsistent", "consistency", age_tag="adult", guardian_consent=True)
pcase("guardian_consent_without_age_tag", "guardian_consent true and no age_tag.",
      "token.inconsistent", "consistency", guardian_consent=True)
pcase("under_14_without_guardian_consent", "age_tag under_14 and no guardian_consent.",
      "token.inconsistent", "consistency", age_tag="under_14")
pcase("fields_without_consent", "fields present, consent absent.", "token.inconsistent",
      "consistency", fields=fields_obj)
pcase("consent_without_fields", "consent present, fields absent.", "token.inconsistent",
      "consistency", consent=consent_obj)
pcase("consent_fields_mismatch", "consent.fields [name] but fields.names [name, id_number].",
      "token.inconsistent", "consistency", fields=fields_obj,
      consent=dict(consent_obj, fields=["name"]))
pcase("not_verified_with_age_tag", "result not_verified together with age_tag adult.",
      "token.inconsistent", "consistency",
      result={"status": "not_verified", "reason": "liveness_failed"}, age_tag="adult")

# ---- Art. 5 §2 and Art. 2 (PROTOCOL.md 4.3.1, 4.3.2). Kept last, so these cases were appended
# ---- to an existing tokens.json without regenerating the cases above.
std("valid_not_verified_guardian_consent_required",
    "Under 14 and no parent or guardian consented (Art. 5 §2): result not_verified with reason "
    "guardian_consent_required, whatever was requested, and no age_tag or guardian_consent. The "
    "RP MUST refuse the login.", "valid", "accepted",
    payload=claims("valid_not_verified_guardian_consent_required",
                   result={"status": "not_verified", "reason": "guardian_consent_required"}))
pcase("guardian_consent_required_with_age_data",
      "result not_verified/guardian_consent_required together with age_tag under_14 and "
      "guardian_consent false: the answer for such a child carries no age data.",
      "token.inconsistent", "consistency",
      result={"status": "not_verified", "reason": "guardian_consent_required"},
      age_tag="under_14", guardian_consent=False)
pcase("sub_resident_id_number",
      "sub is the resident ID number 11010519491231002X (GB 11643's example): a pseudonym of a "
      "网号 holds no plaintext identity data (Art. 2).", "token.claim_invalid", "claims",
      sub="11010519491231002X")
pcase("sub_embedded_id_number",
      "sub pw_110105-19491231-002X: with - and _ deleted it holds an 18-character number whose "
      "check character is right.", "token.claim_invalid", "claims",
      sub="pw_110105-19491231-002X")
pcase("sub_id_number_any_birth_date",
      "sub pw_110105209912310010: check character right, birth date 2099-12-31. There is no date "
      "test, so the verdict does not depend on the day.", "token.claim_invalid", "claims",
      sub="pw_110105209912310010")
std("valid_sub_digits_with_wrong_check_character",
    "sub pw_110105194912310021: 18 digits whose last is not their check character (X would be), "
    "so not an identity number.", "valid", "accepted",
    payload=claims("valid_sub_digits_with_wrong_check_character", sub="pw_110105194912310021"))

# ---- self-check: an independent reference verifier (PROTOCOL.md 4.8) must reach every
# ---- expected outcome; signature verification is done by OpenSSL.
import re as _re

RE_KID = _re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
RE_NONCE = _re.compile(r"[A-Za-z0-9_-]{8,128}\Z")
RE_AUTHZ = _re.compile(r"[A-Za-z0-9]{32}\Z")
RE_SUB = _re.compile(r"[A-Za-z0-9_-]{1,128}\Z")
RE_CONSENT_ID = _re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
FIELD_NAMES = {"name", "id_number", "id_type", "birth_date"}
REASONS = {"credential_invalid", "credential_revoked", "pin_mismatch", "face_mismatch",
           "liveness_failed", "identity_mismatch", "guardian_consent_required"}
MOD11_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def holds_id_number(sub: str) -> bool:
    # PROTOCOL.md 4.3.2: after deleting - and _, a maximal run of 18 digits, or of 17 followed by
    # X/x and no further digit, whose last character is the GB 11643 MOD 11-2 check character.
    t = sub.replace("-", "").replace("_", "")
    digits = "0123456789"
    for m in _re.finditer(r"[0-9]+", t):
        run, end = m.group(), m.end()
        if len(run) == 18:
            first, last = run[:17], run[17]
        elif len(run) == 17 and t[end:end + 1] in ("X", "x") and not (
                end + 1 < len(t) and t[end + 1] in digits):
            first, last = run, "X"
        else:
            continue
        check_char = "10X98765432"[sum(int(d) * w for d, w in zip(first, MOD11_WEIGHTS)) % 11]
        if check_char == last:
            return True
    return False


check(holds_id_number("11010519491231002X") and not holds_id_number("110105194912310021")
      and holds_id_number("440524188001010014"), "GB 11643 check characters")
AGE_TAGS = {"under_14", "age_14_to_17", "adult", "senior"}
AMR_FOR_ACR = {1: {"cred"}, 2: {"cred", "pin"}, 3: {"cred", "face"}, 4: {"cred", "pin", "face"}}
KNOWN = {"iss", "aud", "iat", "exp", "nbf", "jti", "nonce", "authz_id", "sub", "result", "acr",
         "amr", "age_tag", "guardian_consent", "fields", "consent"}
REQUIRED = {"iss", "aud", "iat", "exp", "jti", "nonce", "authz_id", "sub", "result", "acr", "amr"}


class Reject(Exception):
    pass


class _Float(str):
    pass


def strict_b64u(seg: str):
    if any(ch not in ALPH for ch in seg) or len(seg) % 4 == 1:
        return None
    data = b64u_dec(seg)
    return data if b64u(data) == seg else None


def strict_json(b: bytes):
    try:
        text = b.decode("utf-8")
    except UnicodeDecodeError:
        raise Reject("token.json")

    def pairs(ps):
        seen = set()
        for k, _ in ps:
            if k in seen:
                raise Reject("token.json_duplicate_key")
            seen.add(k)
        return dict(ps)

    def bad_constant(_):
        raise Reject("token.json")

    dec = json.JSONDecoder(object_pairs_hook=pairs, parse_float=_Float, parse_constant=bad_constant)
    try:
        obj, end = dec.raw_decode(text)
    except ValueError:
        raise Reject("token.json")
    if text[end:].strip(" \t\r\n") != "":
        raise Reject("token.json")
    if not isinstance(obj, dict):
        raise Reject("token.json")
    if json_depth(obj) > 8:
        raise Reject("token.json_too_deep")
    return obj


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_numeric_date(v):
    return is_int(v) and 0 <= v <= 2 ** 53 - 1


def is_str(v, lo, hi):
    return isinstance(v, str) and lo <= len(v) <= hi


def is_name_list(v):
    return (isinstance(v, list) and 1 <= len(v) <= 4 and all(isinstance(x, str) for x in v)
            and all(x in FIELD_NAMES for x in v) and len(set(v)) == len(v))


def claim_ok(name, v):
    if name == "iss":
        return is_str(v, 1, 256)
    if name == "aud":
        if isinstance(v, list):
            return 1 <= len(v) <= 8 and all(is_str(x, 1, 128) for x in v)
        return is_str(v, 1, 128)
    if name in ("iat", "exp", "nbf"):
        return is_numeric_date(v)
    if name == "jti":
        return is_str(v, 1, 128) and all(0x21 <= ord(ch) <= 0x7E for ch in v)
    if name == "nonce":
        return isinstance(v, str) and RE_NONCE.match(v) is not None
    if name == "authz_id":
        return isinstance(v, str) and RE_AUTHZ.match(v) is not None
    if name == "sub":
        return isinstance(v, str) and RE_SUB.match(v) is not None and not holds_id_number(v)
    if name == "result":
        if not isinstance(v, dict):
            return False
        if v.get("status") == "verified":
            return set(v) == {"status"}
        if v.get("status") == "not_verified":
            return set(v) == {"status", "reason"} and v["reason"] in REASONS
        return False
    if name == "acr":
        return is_int(v) and 1 <= v <= 4
    if name == "amr":
        return (isinstance(v, list) and 1 <= len(v) <= 3 and all(isinstance(x, str) for x in v)
                and all(x in {"cred", "pin", "face"} for x in v) and len(set(v)) == len(v))
    if name == "age_tag":
        return isinstance(v, str) and v in AGE_TAGS
    if name == "guardian_consent":
        return isinstance(v, bool)
    if name == "fields":
        if not (isinstance(v, dict) and set(v) == {"alg", "kid", "names", "ct"}):
            return False
        ct = strict_b64u(v["ct"]) if isinstance(v["ct"], str) else None
        return (v["alg"] == "SM2-C1C3C2" and isinstance(v["kid"], str)
                and RE_KID.match(v["kid"]) is not None and is_name_list(v["names"])
                and ct is not None and len(ct) >= 98 and ct[0] == 4)
    if name == "consent":
        if not (isinstance(v, dict) and set(v) == {"id", "purpose", "legal_basis", "fields", "granted_at"}):
            return False
        return (isinstance(v["id"], str) and RE_CONSENT_ID.match(v["id"]) is not None
                and is_str(v["purpose"], 1, 256) and is_str(v["legal_basis"], 1, 256)
                and is_name_list(v["fields"]) and is_numeric_date(v["granted_at"]))
    raise AssertionError(name)


JWKS = json.load(open(os.path.join(OUT, "keys", "jwks.json")))


def reference_verify(tok: str):
    # 1 size
    if len(tok.encode("utf-8")) > MAX_TOKEN:
        raise Reject("token.too_large")
    # 2 structure
    if tok[-1:] in (" ", "\t", "\r", "\n") and tok:
        raise Reject("token.trailing_data")
    dots = tok.count(".")
    if dots < 2:
        raise Reject("token.malformed")
    if dots > 2:
        raise Reject("token.trailing_data")
    h, p, s = tok.split(".")
    if h == "" or p == "":
        raise Reject("token.malformed")
    # 3 header segment
    if len(h) > 1366:
        raise Reject("token.too_large")
    hb = strict_b64u(h)
    if hb is None:
        raise Reject("token.base64")
    # 4 header JSON
    hdr = strict_json(hb)
    # 5 header members
    for m in ("crit", "jku", "jwk", "x5u", "x5c"):
        if m in hdr:
            raise Reject("token.header_" + m)
    if set(hdr) - {"alg", "kid", "typ"}:
        raise Reject("token.header_unknown")
    if hdr.get("alg") != "SM2-SM3":
        raise Reject("token.alg")
    if hdr.get("typ") != TYP:
        raise Reject("token.typ")
    if not (isinstance(hdr.get("kid"), str) and RE_KID.match(hdr["kid"])):
        raise Reject("token.kid")
    # 6 key lookup
    keys = [k for k in JWKS["keys"] if k["kid"] == hdr["kid"] and k["use"] == "sig"
            and k["alg"] == "SM2-SM3"]
    if len(keys) != 1:
        raise Reject("token.unknown_kid")
    point = b"\x04" + b64u_dec(keys[0]["x"]) + b64u_dec(keys[0]["y"])
    # 7 signature segment
    sig = strict_b64u(s)
    if sig is None:
        raise Reject("token.base64")
    if len(sig) != 64:
        raise Reject("token.signature_length")
    # 8 scalars
    r_, s_ = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (1 <= r_ < N and 1 <= s_ < N):
        raise Reject("token.signature_scalar")
    # 9 signature (OpenSSL)
    if not verify_der(tmpfile(spki_from_point(point)), sign_input(h, p), raw_sig_to_der(sig),
                      DEFAULT_ID, keyform="DER"):
        raise Reject("token.signature_invalid")
    # 10 payload base64
    pb = strict_b64u(p)
    if pb is None:
        raise Reject("token.base64")
    # 11 payload JSON
    c = strict_json(pb)
    # 12 claims
    if set(c) - KNOWN:
        raise Reject("token.claim_unknown")
    if REQUIRED - set(c):
        raise Reject("token.claim_missing")
    for k, v in c.items():
        if not claim_ok(k, v):
            raise Reject("token.claim_invalid")
    # 13 iss, 14 aud
    if c["iss"] != ISS:
        raise Reject("token.iss")
    if (APP not in c["aud"]) if isinstance(c["aud"], list) else (c["aud"] != APP):
        raise Reject("token.aud")
    # 15 time
    if NOW > c["exp"] + LEEWAY:
        raise Reject("token.expired")
    if c["iat"] > NOW + LEEWAY or ("nbf" in c and c["nbf"] > NOW + LEEWAY):
        raise Reject("token.not_yet_valid")
    if not (0 < c["exp"] - c["iat"] <= 300):
        raise Reject("token.lifetime")
    # 16 nonce
    if c["nonce"] != NONCE:
        raise Reject("token.nonce")
    # 17 consistency
    if set(c["amr"]) != AMR_FOR_ACR[c["acr"]]:
        raise Reject("token.inconsistent")
    if c["result"]["status"] == "not_verified" and any(
            k in c for k in ("age_tag", "guardian_consent", "fields", "consent")):
        raise Reject("token.inconsistent")
    if "guardian_consent" in c and c.get("age_tag") not in ("under_14", "age_14_to_17"):
        raise Reject("token.inconsistent")
    if c.get("age_tag") == "under_14" and "guardian_consent" not in c:
        raise Reject("token.inconsistent")
    if ("fields" in c) != ("consent" in c):
        raise Reject("token.inconsistent")
    if "fields" in c and set(c["fields"]["names"]) != set(c["consent"]["fields"]):
        raise Reject("token.inconsistent")
    return c


for c in cases:
    try:
        got_claims = reference_verify(c["token"])
        got = "valid"
    except Reject as e:
        got = str(e)
    check(got == c["expect"], "reference verifier: case %s gives %s, expected %s"
          % (c["name"], got, c["expect"]))
    if got == "valid":
        check(got_claims == c["claims"], c["name"] + ": claims differ")
        if "fields" in got_claims:
            ct = b64u_dec(got_claims["fields"]["ct"])
            pt = decrypt_der(c["decrypt_with"], der_from_c1c3c2(ct))
            check(pt is not None and json.loads(pt) == c["fields_plaintext"], "fields decrypt")
            check(sorted(json.loads(pt)) == sorted(got_claims["fields"]["names"]), "field names")

for c in cases:
    if c["expect"] != "valid":
        check(c["expect"].startswith("token."), c["name"] + ": expect")
    check(len(c["token"].encode()) <= MAX_TOKEN or c["expect"] == "token.too_large",
          c["name"] + ": unexpectedly large")

write_json("tokens.json", {
    "generator": GENERATOR,
    "description": "Result-token cases. Verify every token with: key set keys/jwks.json, "
                   "distinguishing id 1234567812345678, the validation block below, and the clock "
                   "at `now`. expect is \"valid\" or the stable error code; stage names the check "
                   "(PROTOCOL.md 4.8) that must fail. Each rejected case has exactly one fault; "
                   "unless the fault concerns the signature itself, the signature is a valid "
                   "SM2-SM3 signature (checked by OpenSSL) over the segments as sent. Rules: "
                   "expired iff now > exp + leeway; not yet valid iff iat > now + leeway or "
                   "nbf > now + leeway; 0 < exp - iat <= 300.",
    "now": NOW,
    "validation": {"issuer": ISS, "audience": APP, "nonce": NONCE, "leeway": LEEWAY, "typ": TYP,
                   "max_token_bytes": MAX_TOKEN, "distid": DEFAULT_ID, "jwks": "keys/jwks.json"},
    "check_order": STAGES,
    "cases": cases,
})

# ============================================================================= request-signature.json
RP_NONCE = "rq_5Tg8Wm2Kx7Pz4Lc9"
check(16 <= len(RP_NONCE) <= 64, "rp nonce length")
request_examples = []


def rp_request(name, method, path, body: bytes, timestamp, nonce, app_id=APP, kid="rp-sign-1"):
    body_hex = sm3(body).hex()
    sts = "\n".join(["NETID-SM2-SM3", method, path, app_id, str(timestamp), nonce, body_hex])
    raw = der_sig_to_raw(sign_der("rp-sign", sts.encode(), DEFAULT_ID))
    sig = b64u(raw)
    auth = 'NETID-SM2-SM3 app_id="%s",kid="%s",timestamp="%d",nonce="%s",signature="%s"' % (
        app_id, kid, timestamp, nonce, sig)
    e = {
        "name": name,
        "method": method,
        "path": path,
        "app_id": app_id,
        "kid": kid,
        "timestamp": timestamp,
        "nonce": nonce,
        "body_hex": body.hex(),
        "body_sm3_hex": body_hex,
        "string_to_sign": sts,
        "string_to_sign_hex": sts.encode().hex(),
        "signature_raw_hex": raw.hex(),
        "signature_b64url": sig,
        "authorization": auth,
        "verify_with": "keys/rp-sign.public.pem",
    }
    if body:
        e["body_utf8"] = body.decode("utf-8")
    return e


auth_body = jdump({
    "request": {"kind": "verify_only", "min_assurance": 3, "purpose": "账号实名登记"},
    "nonce": NONCE,
    "callback_url": "https://rp.example/netid/callback",
})
request_examples.append(rp_request("create_authorization", "POST", "/v1/authorizations",
                                   auth_body, NOW, RP_NONCE))
request_examples[-1]["headers"] = {
    "Content-Type": "application/json",
    "Idempotency-Key": "idem_8Kq3Zr5Xw1",
    "Authorization": request_examples[-1]["authorization"],
}
request_examples.append(rp_request("poll_authorization", "GET", "/v1/authorizations/" + AUTHZ,
                                   b"", NOW + 2, "rq_9Hd2Lp6Vb3Nx8Qs1"))
request_examples[-1]["headers"] = {"Authorization": request_examples[-1]["authorization"]}
check(request_examples[-1]["body_sm3_hex"] == sm3(b"").hex(), "empty body hash")

# a request whose signature was made with OpenSSL's empty default distinguishing id
trap = rp_request("create_authorization_empty_distid", "POST", "/v1/authorizations", auth_body,
                  NOW, "rq_3Fw7Yc1Nd8Mh5Bt2")
trap_raw = der_sig_to_raw(sign_der("rp-sign", trap["string_to_sign"].encode(), None))
trap["signature_raw_hex"] = trap_raw.hex()
trap["signature_b64url"] = b64u(trap_raw)
trap["authorization"] = 'NETID-SM2-SM3 app_id="%s",kid="%s",timestamp="%d",nonce="%s",signature="%s"' % (
    APP, "rp-sign-1", NOW, trap["nonce"], b64u(trap_raw))
trap["description"] = ("INTEROP TRAP: signed with `openssl dgst -sm3 -sign` without -sigopt distid "
                       "(empty distinguishing id). The platform must reject it.")
request_examples.append(trap)
tampered_body = auth_body.replace(b'"min_assurance":3', b'"min_assurance":1')
check(tampered_body != auth_body, "tamper")
platform_checks = [
    {"name": "fresh", "requests": ["create_authorization"], "platform_now": NOW + 3,
     "expect": ["ok"]},
    {"name": "staleness_boundary_past", "requests": ["create_authorization"],
     "platform_now": NOW + 300, "expect": ["ok"], "description": "|now - timestamp| = 300 is accepted"},
    {"name": "stale_past", "requests": ["create_authorization"], "platform_now": NOW + 301,
     "expect": ["netid.request_stale"]},
    {"name": "stale_future", "requests": ["create_authorization"], "platform_now": NOW - 301,
     "expect": ["netid.request_stale"], "description": "timestamp 301 s ahead of the platform clock"},
    {"name": "replayed", "requests": ["create_authorization", "create_authorization"],
     "platform_now": NOW + 3, "expect": ["ok", "netid.request_replayed"],
     "description": "the same signed request sent twice; the nonce was seen within 600 s"},
    {"name": "body_tampered", "requests": ["create_authorization"], "platform_now": NOW + 3,
     "replace_body_hex": tampered_body.hex(), "expect": ["netid.signature_invalid"],
     "description": "body changed after signing (min_assurance 3 -> 1)"},
    {"name": "empty_distid", "requests": ["create_authorization_empty_distid"],
     "platform_now": NOW + 3, "expect": ["netid.signature_invalid"]},
    {"name": "poll_empty_body", "requests": ["poll_authorization"], "platform_now": NOW + 3,
     "expect": ["ok"], "description": "empty body: the last line is SM3(\"\")"},
]
for ex in request_examples:
    der = raw_sig_to_der(bytes.fromhex(ex["signature_raw_hex"]))
    ok = verify_der(pub_path("rp-sign"), ex["string_to_sign"].encode(), der, DEFAULT_ID)
    check(ok == (ex["name"] != "create_authorization_empty_distid"), ex["name"] + ": verify")
check(not verify_der(pub_path("rp-sign"),
                     request_examples[0]["string_to_sign"].replace(
                         request_examples[0]["body_sm3_hex"], sm3(tampered_body).hex()).encode(),
                     raw_sig_to_der(bytes.fromhex(request_examples[0]["signature_raw_hex"])),
                     DEFAULT_ID), "tampered body verifies")

write_json("request-signature.json", {
    "generator": GENERATOR,
    "description": "RP request authentication (PROTOCOL.md section 7). string_to_sign = the seven "
                   "lines NETID-SM2-SM3, METHOD, path-and-query, app_id, timestamp, nonce, "
                   "lowercase hex SM3(body), joined by LF with no trailing LF. The signature is "
                   "SM2-SM3 by keys/rp-sign.private.pem with distinguishing id 1234567812345678, "
                   "made by `openssl dgst -sm3 -sign ... -sigopt distid:1234567812345678` and "
                   "converted from DER to raw r||s, base64url. A platform verifying at "
                   "platform_now accepts both examples.",
    "platform_now": NOW + 3,
    "rp_public_key": {"kid": "rp-sign-1", "pem": "keys/rp-sign.public.pem",
                      "jwk": keyinfo["rp-sign"]["jwk"]},
    "examples": request_examples,
    "platform_checks": platform_checks,
    "platform_checks_note": "Each check starts from an empty nonce store. requests are sent in "
                            "order (same example twice = byte-identical replay); expect lists the "
                            "outcome of each.",
})

# ============================================================================= webhook-signature.json
WEBHOOK_ID = "wh_2Mv9Qx4Tn7Lk1Rz8"
wh_body = jdump({"id": WEBHOOK_ID, "event": "authorization.approved", "authz_id": AUTHZ,
                 "token": VALID_MINIMAL})
wh_ts = NOW - 5
wh_sts = "\n".join(["NETID-WEBHOOK-SM2-SM3", WEBHOOK_ID, str(wh_ts), sm3(wh_body).hex()])
wh_raw = der_sig_to_raw(sign_der("platform-sign", wh_sts.encode(), DEFAULT_ID))
wh_sig_header = 'kid="%s",timestamp="%d",signature="%s"' % (PLATFORM_KID, wh_ts, b64u(wh_raw))
write_json("webhook-signature.json", {
    "generator": GENERATOR,
    "description": "Webhook signature (PROTOCOL.md section 8): string_to_sign = "
                   "\"NETID-WEBHOOK-SM2-SM3\\n{webhook_id}\\n{timestamp}\\n{hex(sm3(body))}\", "
                   "signed by the platform key (kid platform-2026-01, keys/jwks.json) with the "
                   "default distinguishing id. The embedded token is tokens.json case "
                   "valid_verify_only.",
    "receiver_now": NOW,
    "webhook_id": WEBHOOK_ID,
    "timestamp": wh_ts,
    "body_utf8": wh_body.decode(),
    "body_sm3_hex": sm3(wh_body).hex(),
    "string_to_sign": wh_sts,
    "signature_raw_hex": wh_raw.hex(),
    "signature_b64url": b64u(wh_raw),
    "headers": {"Content-Type": "application/json", "NetID-Webhook-Id": WEBHOOK_ID,
                "NetID-Signature": wh_sig_header},
    "receiver_checks": [
        {"receiver_now": wh_ts + 300, "expect": "ok"},
        {"receiver_now": wh_ts + 301, "expect": "stale"},
        {"receiver_now": wh_ts - 301, "expect": "stale"},
        {"receiver_now": NOW, "replace_body_utf8": wh_body.decode().replace(
            "authorization.approved", "authorization.denied"), "expect": "signature_invalid"},
    ],
})
check(verify_der(pub_path("platform-sign"), wh_sts.encode(), raw_sig_to_der(wh_raw), DEFAULT_ID),
      "webhook signature")

print("make-vectors: %d token cases (%d valid), %d sm2 sign vectors, %d encrypt vectors"
      % (len(cases), sum(c["expect"] == "valid" for c in cases), len(sign_vectors), len(enc_vectors)),
      file=sys.stderr)
PY

# ---------------------------------------------------------------------------------------------
# 3. Swap in atomically.
# ---------------------------------------------------------------------------------------------
rm -rf "$OUT"
mv "$NEW" "$OUT"
echo "make-vectors: wrote $OUT ($GENERATOR)" >&2
