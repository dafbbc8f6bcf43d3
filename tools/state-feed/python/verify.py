#!/usr/bin/env python3
"""The Python reference verifier of the signed state feed (docs/state-feed.md, version 1).

    python verify.py <vectors-dir>

Reads every ``*.json`` file of the directory (sorted by name), each one test vector
(docs/state-feed.md §8), verifies its token as §3 says (the checks in their order, stopping at the
first that fails) without looking at its ``expect``, and prints one JSON object per vector on
stdout:

    {"name": …, "valid": true, "seq": …, "allowed": …, "status": …, "version": …, "validForSeconds": …}
    {"name": …, "valid": false, "error": "…"}

Exit status 0 when every vector was processed, whatever its outcome; 2 on a usage or input error
(with a message on stderr). Python 3.11, the standard library and ``cryptography`` only.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

STATE_DOCUMENT_TYPE = "killswitch-state+jws"
MAX_VALIDITY_SECONDS = 3600
DEFAULT_MAX_CLOCK_SKEW_SECONDS = 60
GLOBAL = "*"

# re.fullmatch: a pattern's `$` would also match before a trailing newline.
PROGRAM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
SCOPE = re.compile(r"\*|[a-z][a-z0-9-]{0,31}#[A-Za-z0-9._-]{1,64}")
B64URL = re.compile(r"[A-Za-z0-9_-]*")
# Integers are compared with the TypeScript verifier's: a JSON number is exact only up to 2**53 - 1.
MAX_SAFE_INTEGER = 2**53 - 1
# The P-256 field prime: a coordinate must be below it.
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1


class Rejection(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def b64url_decode(part: str) -> bytes:
    """Base64url without padding (RFC 7515 §2): only the URL-safe alphabet, no `=`, no whitespace."""
    if not B64URL.fullmatch(part) or len(part) % 4 == 1:
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class _JsonText:
    """JSON parsing that notes numbers with a fraction or an exponent instead of failing on them."""

    def __init__(self) -> None:
        self.has_non_integer = False

    def _float(self, text: str) -> float:
        self.has_non_integer = True
        return float(text)

    @staticmethod
    def _constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    def loads(self, text: str) -> Any:
        return json.loads(text, parse_float=self._float, parse_constant=self._constant)


def decode_json_object(part: str, what: str) -> tuple[dict[str, Any], bool]:
    """The part as a JSON object, and whether it has a number with a fraction or an exponent."""
    try:
        text = b64url_decode(part).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise Rejection("MALFORMED", f"{what} is not base64url-encoded UTF-8") from None
    parser = _JsonText()
    try:
        value = parser.loads(text)
    except (ValueError, RecursionError):
        raise Rejection("MALFORMED", f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Rejection("MALFORMED", f"{what} is not a JSON object")
    return value, parser.has_non_integer


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER


def select_key(jwks: Any, kid: Any) -> ec.EllipticCurvePublicKey:
    """Check 3: the key of the set with that kid, usable for ES256; never a key from the document."""
    if not isinstance(kid, str):
        raise Rejection("UNKNOWN_KID", "the header has no kid")
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    key = next((k for k in keys if isinstance(k, dict) and k.get("kid") == kid), None) if isinstance(keys, list) else None
    if key is None:
        raise Rejection("UNKNOWN_KID", f"no key of the set has kid {json.dumps(kid)}")
    if key.get("kty") != "EC" or key.get("crv") != "P-256" or not isinstance(key.get("x"), str) or not isinstance(key.get("y"), str):
        raise Rejection("UNKNOWN_KID", f"key {kid} is not an EC P-256 public key")
    if ("use" in key and key["use"] != "sig") or ("alg" in key and key["alg"] != "ES256"):
        raise Rejection("UNKNOWN_KID", f"key {kid} is not for ES256 signatures")
    try:
        x, y = (b64url_decode(key[c]) for c in ("x", "y"))
        # RFC 7518 §6.2.1.2: a coordinate is the full 32 bytes of P-256.
        if len(x) != 32 or len(y) != 32:
            raise ValueError("a P-256 coordinate is 32 bytes")
        xi, yi = int.from_bytes(x, "big"), int.from_bytes(y, "big")
        if xi >= P256_P or yi >= P256_P:
            raise ValueError("a coordinate is not below the field prime")
        return ec.EllipticCurvePublicNumbers(xi, yi, ec.SECP256R1()).public_key()
    except ValueError:
        raise Rejection("UNKNOWN_KID", f"key {kid} is not a valid P-256 point") from None


def check_payload(payload: dict[str, Any], has_non_integer: bool) -> dict[str, Any]:
    """Check 5: the members and types of §2."""

    def bad(detail: str) -> Rejection:
        return Rejection("BAD_PAYLOAD", detail)

    if has_non_integer:
        raise bad("numbers must be integers (no fraction, no exponent)")
    if not is_int(payload.get("v")) or payload["v"] != 1:
        raise bad("v must be 1")
    program_id = payload.get("programId")
    if not isinstance(program_id, str) or not PROGRAM_ID.fullmatch(program_id):
        raise bad("programId is not a program id")
    for member in ("seq", "iat", "exp"):
        if not is_int(payload.get(member)):
            raise bad(f"{member} must be an integer")
    seq, iat, exp = payload["seq"], payload["iat"], payload["exp"]
    if seq < 0:
        raise bad("seq must be 0 or more")
    if exp <= iat:
        raise bad("exp must be after iat")
    if exp > iat + MAX_VALIDITY_SECONDS:
        raise bad(f"exp may be at most {MAX_VALIDITY_SECONDS} s after iat")
    entries = payload.get("scopes")
    if not isinstance(entries, list):
        raise bad("scopes must be an array")
    scopes: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise bad(f"scopes[{i}] is not an object")
        scope, status, version = entry.get("scope"), entry.get("status"), entry.get("version")
        if not isinstance(scope, str) or not SCOPE.fullmatch(scope):
            raise bad(f"scopes[{i}].scope is not a scope")
        if status not in ("ACTIVE", "PAUSED") or not isinstance(status, str):
            raise bad(f"scopes[{i}].status must be ACTIVE or PAUSED")
        if not is_int(version) or version < 1:
            raise bad(f"scopes[{i}].version must be an integer of 1 or more")
        if scope in scopes:
            raise bad(f"scope {scope} appears twice")
        scopes[scope] = {"scope": scope, "status": status, "version": version}
    if GLOBAL not in scopes:
        raise bad('the "*" scope is missing')
    return {"programId": program_id, "seq": seq, "iat": iat, "exp": exp, "scopes": scopes}


def utf16_key(s: str) -> bytes:
    """Sort key: UTF-16 code units (big-endian bytes compare as the units do)."""
    return s.encode("utf-16-be", "surrogatepass")


def decide(scopes: dict[str, dict[str, Any]], agent_scopes: list[str]) -> dict[str, Any]:
    """The decision of §3: the first paused scope of "*", then the agent's (or, without any, all sorted)."""
    others = agent_scopes if agent_scopes else sorted((s for s in scopes if s != GLOBAL), key=utf16_key)
    for scope in [GLOBAL, *others]:
        state = scopes.get(scope)
        if state is not None and state["status"] == "PAUSED":
            return {"allowed": False, "status": "PAUSED", "version": state["version"]}
    return {"allowed": True, "status": "ACTIVE", "version": scopes[GLOBAL]["version"]}


def verify(
    token: Any,
    jwks: Any,
    *,
    program_id: str,
    server_time: int,
    highest_seq: int = 0,
    max_clock_skew_seconds: int = DEFAULT_MAX_CLOCK_SKEW_SECONDS,
    scopes: list[str] | None = None,
) -> dict[str, Any]:
    """Verify a state document (§3). Never raises for a bad document: the result says why."""
    try:
        return _verify(token, jwks, program_id, server_time, highest_seq, max_clock_skew_seconds, scopes or [])
    except Rejection as rejection:
        return {"valid": False, "error": rejection.reason, "detail": str(rejection)}


def _verify(
    token: Any, jwks: Any, program_id: str, server_time: int, highest_seq: int, skew: int, agent_scopes: list[str]
) -> dict[str, Any]:
    # 1. MALFORMED: three base64url parts; header and payload JSON objects.
    if not isinstance(token, str):
        raise Rejection("MALFORMED", "the document is not a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise Rejection("MALFORMED", "a compact JWS has three parts")
    h, p, s = parts
    header, _ = decode_json_object(h, "the header")
    payload, has_non_integer = decode_json_object(p, "the payload")
    try:
        signature = b64url_decode(s)
    except ValueError:
        raise Rejection("MALFORMED", "the signature is not base64url without padding") from None
    # 2. UNSUPPORTED_ALG.
    if header.get("alg") != "ES256" or not isinstance(header.get("alg"), str):
        raise Rejection("UNSUPPORTED_ALG", f"alg {json.dumps(header.get('alg'))} is not ES256")
    if header.get("typ") != STATE_DOCUMENT_TYPE or not isinstance(header.get("typ"), str):
        raise Rejection("UNSUPPORTED_ALG", f"typ is not {STATE_DOCUMENT_TYPE}")
    if "crit" in header:
        raise Rejection("UNSUPPORTED_ALG", "crit is not supported")
    # 3. UNKNOWN_KID.
    key = select_key(jwks, header.get("kid"))
    # 4. BAD_SIGNATURE: the 64-byte R || S over the ASCII signing input.
    if len(signature) != 64:
        raise Rejection("BAD_SIGNATURE", "an ES256 signature is 64 bytes")
    r, s_ = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s_), f"{h}.{p}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Rejection("BAD_SIGNATURE", "the signature does not verify") from None
    # 5. BAD_PAYLOAD.
    doc = check_payload(payload, has_non_integer)
    # 6. WRONG_PROGRAM.
    if doc["programId"] != program_id:
        raise Rejection("WRONG_PROGRAM", f"the document is for {doc['programId']}")
    seq, iat, exp = doc["seq"], doc["iat"], doc["exp"]
    # 7. NOT_YET_VALID.
    if iat > server_time + skew:
        raise Rejection("NOT_YET_VALID", f"signed at {iat}, {iat - server_time} s after the server's time")
    # 8. EXPIRED.
    if server_time >= exp:
        raise Rejection("EXPIRED", f"expired at {exp}, {server_time - exp} s before the server's time")
    # 9. ROLLBACK.
    if seq < highest_seq:
        raise Rejection("ROLLBACK", f"seq {seq} is lower than {highest_seq}, already accepted")
    return {
        "valid": True,
        "seq": seq,
        **decide(doc["scopes"], agent_scopes),
        "validForSeconds": min(exp - server_time, exp - iat),
    }


class VectorError(Exception):
    pass


def _vector_int(vector: dict[str, Any], member: str, default: int | None = None) -> int:
    value = vector.get(member)
    if value is None:  # absent or null: the default, if there is one
        value = default
    if not isinstance(value, int) or isinstance(value, bool):
        raise VectorError(f"{member} must be an integer")
    return value


def run_vector(vector: Any) -> dict[str, Any]:
    if not isinstance(vector, dict):
        raise VectorError("a vector is a JSON object")
    name = vector.get("name")
    if not isinstance(name, str):
        raise VectorError("name must be a string")
    if not isinstance(vector.get("token"), str):
        raise VectorError("token must be a string")
    if not isinstance(vector.get("programId"), str):
        raise VectorError("programId must be a string")
    scopes = vector.get("scopes")
    if scopes is None:
        scopes = []
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise VectorError("scopes must be an array of strings")
    result = verify(
        vector["token"],
        vector.get("jwks"),
        program_id=vector["programId"],
        server_time=_vector_int(vector, "serverTime"),
        highest_seq=_vector_int(vector, "highestSeq", 0),
        max_clock_skew_seconds=_vector_int(vector, "maxClockSkewSeconds", DEFAULT_MAX_CLOCK_SKEW_SECONDS),
        scopes=scopes,
    )
    if result["valid"]:
        keys = ("valid", "seq", "allowed", "status", "version", "validForSeconds")
        return {"name": name, **{k: result[k] for k in keys}}
    return {"name": name, "valid": False, "error": result["error"]}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: verify.py <vectors-dir>", file=sys.stderr)
        return 2
    directory = Path(argv[1])
    if not directory.is_dir():
        print(f"verify.py: {directory} is not a directory", file=sys.stderr)
        return 2
    lines = []
    for path in sorted(directory.glob("*.json"), key=lambda f: f.name):
        try:
            vector = json.loads(path.read_text(encoding="utf-8"))
            lines.append(json.dumps(run_vector(vector), ensure_ascii=False))
        except (OSError, ValueError, VectorError) as error:
            print(f"verify.py: {path}: {error}", file=sys.stderr)
            return 2
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
