// The Go reference verifier of the signed state feed (docs/state-feed.md, version 1).
//
//	go run . <vectors-dir>
//
// It reads every *.json file of the directory (sorted by name), each one test vector
// (docs/state-feed.md §8), verifies its token as §3 says (the checks in their order, stopping at
// the first that fails) without looking at its expect, and prints one JSON object per vector on
// stdout:
//
//	{"name":…,"valid":true,"seq":…,"allowed":…,"status":…,"version":…,"validForSeconds":…}
//	{"name":…,"valid":false,"error":"…"}
//
// Exit status 0 when every vector was processed, whatever its outcome; 2 on a usage or input error
// (with a message on stderr). Standard library only.
package main

import (
	"bufio"
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	stateDocumentType          = "killswitch-state+jws"
	maxValiditySeconds         = 3600
	defaultMaxClockSkewSeconds = 60
	globalScope                = "*"
	// Integers are compared with the TypeScript verifier's: a JSON number is exact only up to 2^53 - 1.
	maxSafeInteger = 1<<53 - 1
)

var (
	programIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	scopePattern     = regexp.MustCompile(`^(\*|[a-z][a-z0-9-]{0,31}#[A-Za-z0-9._-]{1,64})$`)
)

// rejection is a document that fails a check of §3.
type rejection struct{ reason, detail string }

func (r *rejection) Error() string { return r.reason + ": " + r.detail }

func reject(reason, format string, args ...any) *rejection {
	return &rejection{reason, fmt.Sprintf(format, args...)}
}

// b64urlDecode decodes base64url without padding (RFC 7515 §2): only the URL-safe alphabet, no
// '=', no whitespace (the base64 package itself would skip '\r' and '\n').
func b64urlDecode(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, errors.New("not base64url without padding")
		}
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// decodeJSON parses one JSON text, numbers kept as their literals (json.Number).
func decodeJSON(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var value any
	if err := dec.Decode(&value); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return value, nil
}

func decodeJSONObject(part, what string) (map[string]any, error) {
	data, err := b64urlDecode(part)
	if err != nil {
		return nil, reject("MALFORMED", "%s is not base64url", what)
	}
	value, err := decodeJSON(data)
	if err != nil {
		return nil, reject("MALFORMED", "%s is not JSON: %v", what, err)
	}
	object, ok := value.(map[string]any)
	if !ok {
		return nil, reject("MALFORMED", "%s is not a JSON object", what)
	}
	return object, nil
}

// isIntegerLiteral: a JSON number without a fraction or an exponent.
func isIntegerLiteral(n json.Number) bool { return !strings.ContainsAny(string(n), ".eE") }

// hasNonInteger: whether the value has, anywhere, a number with a fraction or an exponent.
func hasNonInteger(value any) bool {
	switch v := value.(type) {
	case json.Number:
		return !isIntegerLiteral(v)
	case map[string]any:
		for _, member := range v {
			if hasNonInteger(member) {
				return true
			}
		}
	case []any:
		for _, item := range v {
			if hasNonInteger(item) {
				return true
			}
		}
	}
	return false
}

// asInt: the value as an integer, if it is a JSON integer (no fraction, no exponent) in the safe range.
func asInt(value any) (int64, bool) {
	n, ok := value.(json.Number)
	if !ok || !isIntegerLiteral(n) {
		return 0, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || i > maxSafeInteger || i < -maxSafeInteger {
		return 0, false
	}
	return i, true
}

// selectKey is check 3: the key of the set with that kid, usable for ES256; never one from the document.
func selectKey(jwks any, kid any) (*ecdsa.PublicKey, error) {
	id, ok := kid.(string)
	if !ok {
		return nil, reject("UNKNOWN_KID", "the header has no kid")
	}
	var key map[string]any
	if set, ok := jwks.(map[string]any); ok {
		if keys, ok := set["keys"].([]any); ok {
			for _, k := range keys {
				if candidate, ok := k.(map[string]any); ok {
					if s, ok := candidate["kid"].(string); ok && s == id {
						key = candidate
						break
					}
				}
			}
		}
	}
	if key == nil {
		return nil, reject("UNKNOWN_KID", "no key of the set has kid %q", id)
	}
	x, xOK := key["x"].(string)
	y, yOK := key["y"].(string)
	if key["kty"] != any("EC") || key["crv"] != any("P-256") || !xOK || !yOK {
		return nil, reject("UNKNOWN_KID", "key %s is not an EC P-256 public key", id)
	}
	if use, present := key["use"]; present && use != any("sig") {
		return nil, reject("UNKNOWN_KID", "key %s is not for signatures", id)
	}
	if alg, present := key["alg"]; present && alg != any("ES256") {
		return nil, reject("UNKNOWN_KID", "key %s is not for ES256", id)
	}
	xb, errX := b64urlDecode(x)
	yb, errY := b64urlDecode(y)
	// RFC 7518 §6.2.1.2: a coordinate is the full 32 bytes of P-256.
	if errX != nil || errY != nil || len(xb) != 32 || len(yb) != 32 {
		return nil, reject("UNKNOWN_KID", "key %s does not have 32-byte base64url coordinates", id)
	}
	// crypto/ecdh checks the point: coordinates below the field prime, on the curve.
	if _, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, xb...), yb...)); err != nil {
		return nil, reject("UNKNOWN_KID", "key %s is not a valid P-256 point", id)
	}
	return &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(xb), Y: new(big.Int).SetBytes(yb)}, nil
}

type scopeState struct {
	status  string
	version int64
}

type document struct {
	programID     string
	seq, iat, exp int64
	scopes        map[string]scopeState
}

// checkPayload is check 5: the members and types of §2.
func checkPayload(payload map[string]any) (*document, error) {
	bad := func(format string, args ...any) (*document, error) {
		return nil, reject("BAD_PAYLOAD", format, args...)
	}
	if hasNonInteger(payload) {
		return bad("numbers must be integers (no fraction, no exponent)")
	}
	if v, ok := asInt(payload["v"]); !ok || v != 1 {
		return bad("v must be 1")
	}
	programID, ok := payload["programId"].(string)
	if !ok || !programIDPattern.MatchString(programID) {
		return bad("programId is not a program id")
	}
	doc := &document{programID: programID, scopes: map[string]scopeState{}}
	for _, m := range []struct {
		name string
		to   *int64
	}{{"seq", &doc.seq}, {"iat", &doc.iat}, {"exp", &doc.exp}} {
		i, ok := asInt(payload[m.name])
		if !ok {
			return bad("%s must be an integer", m.name)
		}
		*m.to = i
	}
	if doc.seq < 0 {
		return bad("seq must be 0 or more")
	}
	if doc.exp <= doc.iat {
		return bad("exp must be after iat")
	}
	if doc.exp > doc.iat+maxValiditySeconds {
		return bad("exp may be at most %d s after iat", maxValiditySeconds)
	}
	entries, ok := payload["scopes"].([]any)
	if !ok {
		return bad("scopes must be an array")
	}
	for i, e := range entries {
		entry, ok := e.(map[string]any)
		if !ok {
			return bad("scopes[%d] is not an object", i)
		}
		scope, ok := entry["scope"].(string)
		if !ok || !scopePattern.MatchString(scope) {
			return bad("scopes[%d].scope is not a scope", i)
		}
		status, ok := entry["status"].(string)
		if !ok || (status != "ACTIVE" && status != "PAUSED") {
			return bad("scopes[%d].status must be ACTIVE or PAUSED", i)
		}
		version, ok := asInt(entry["version"])
		if !ok || version < 1 {
			return bad("scopes[%d].version must be an integer of 1 or more", i)
		}
		if _, seen := doc.scopes[scope]; seen {
			return bad("scope %s appears twice", scope)
		}
		doc.scopes[scope] = scopeState{status, version}
	}
	if _, ok := doc.scopes[globalScope]; !ok {
		return bad(`the "*" scope is missing`)
	}
	return doc, nil
}

// lessUTF16 compares strings by their UTF-16 code units, as JavaScript's sort does.
func lessUTF16(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

type decision struct {
	allowed bool
	status  string
	version int64
}

// decide is the rule at the end of §3: the first paused scope of "*", then the agent's scopes in
// their order (or, when it declares none, every scope sorted), else ACTIVE with "*"'s version.
func decide(scopes map[string]scopeState, agentScopes []string) decision {
	others := agentScopes
	if len(others) == 0 {
		for scope := range scopes {
			if scope != globalScope {
				others = append(others, scope)
			}
		}
		sort.Slice(others, func(i, j int) bool { return lessUTF16(others[i], others[j]) })
	}
	for _, scope := range append([]string{globalScope}, others...) {
		if s, ok := scopes[scope]; ok && s.status == "PAUSED" {
			return decision{false, "PAUSED", s.version}
		}
	}
	return decision{true, "ACTIVE", scopes[globalScope].version}
}

type options struct {
	programID           string
	serverTime          int64
	highestSeq          int64
	maxClockSkewSeconds int64
	scopes              []string
}

type accepted struct {
	seq             int64
	decision        decision
	validForSeconds int64
}

// verify applies the checks of §3 in their order; the error is a *rejection.
func verify(token string, jwks any, opt options) (*accepted, error) {
	// 1. MALFORMED: three base64url parts; header and payload JSON objects.
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, reject("MALFORMED", "a compact JWS has three parts")
	}
	header, err := decodeJSONObject(parts[0], "the header")
	if err != nil {
		return nil, err
	}
	payload, err := decodeJSONObject(parts[1], "the payload")
	if err != nil {
		return nil, err
	}
	signature, err := b64urlDecode(parts[2])
	if err != nil {
		return nil, reject("MALFORMED", "the signature is not base64url")
	}
	// 2. UNSUPPORTED_ALG.
	if alg, ok := header["alg"].(string); !ok || alg != "ES256" {
		return nil, reject("UNSUPPORTED_ALG", "alg %v is not ES256", header["alg"])
	}
	if typ, ok := header["typ"].(string); !ok || typ != stateDocumentType {
		return nil, reject("UNSUPPORTED_ALG", "typ is not %s", stateDocumentType)
	}
	if _, ok := header["crit"]; ok {
		return nil, reject("UNSUPPORTED_ALG", "crit is not supported")
	}
	// 3. UNKNOWN_KID.
	key, err := selectKey(jwks, header["kid"])
	if err != nil {
		return nil, err
	}
	// 4. BAD_SIGNATURE: the 64-byte R || S over the ASCII signing input.
	if len(signature) != 64 {
		return nil, reject("BAD_SIGNATURE", "an ES256 signature is 64 bytes")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(signature[:32]), new(big.Int).SetBytes(signature[32:])
	if !ecdsa.Verify(key, digest[:], r, s) {
		return nil, reject("BAD_SIGNATURE", "the signature does not verify")
	}
	// 5. BAD_PAYLOAD.
	doc, err := checkPayload(payload)
	if err != nil {
		return nil, err
	}
	// 6. WRONG_PROGRAM.
	if doc.programID != opt.programID {
		return nil, reject("WRONG_PROGRAM", "the document is for %s", doc.programID)
	}
	// 7. NOT_YET_VALID.
	if doc.iat > opt.serverTime+opt.maxClockSkewSeconds {
		return nil, reject("NOT_YET_VALID", "signed at %d, %d s after the server's time", doc.iat, doc.iat-opt.serverTime)
	}
	// 8. EXPIRED.
	if opt.serverTime >= doc.exp {
		return nil, reject("EXPIRED", "expired at %d, %d s before the server's time", doc.exp, opt.serverTime-doc.exp)
	}
	// 9. ROLLBACK.
	if doc.seq < opt.highestSeq {
		return nil, reject("ROLLBACK", "seq %d is lower than %d, already accepted", doc.seq, opt.highestSeq)
	}
	return &accepted{
		seq:             doc.seq,
		decision:        decide(doc.scopes, opt.scopes),
		validForSeconds: min(doc.exp-opt.serverTime, doc.exp-doc.iat),
	}, nil
}

type vector struct {
	Name                *string  `json:"name"`
	Token               *string  `json:"token"`
	Jwks                any      `json:"jwks"`
	ProgramID           *string  `json:"programId"`
	ServerTime          *int64   `json:"serverTime"`
	HighestSeq          *int64   `json:"highestSeq"`
	MaxClockSkewSeconds *int64   `json:"maxClockSkewSeconds"`
	Scopes              []string `json:"scopes"`
}

type acceptedLine struct {
	Name            string `json:"name"`
	Valid           bool   `json:"valid"`
	Seq             int64  `json:"seq"`
	Allowed         bool   `json:"allowed"`
	Status          string `json:"status"`
	Version         int64  `json:"version"`
	ValidForSeconds int64  `json:"validForSeconds"`
}

type rejectedLine struct {
	Name  string `json:"name"`
	Valid bool   `json:"valid"`
	Error string `json:"error"`
}

func runVector(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v vector
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch {
	case v.Name == nil:
		return nil, errors.New("name must be a string")
	case v.Token == nil:
		return nil, errors.New("token must be a string")
	case v.ProgramID == nil:
		return nil, errors.New("programId must be a string")
	case v.ServerTime == nil:
		return nil, errors.New("serverTime must be an integer")
	}
	opt := options{programID: *v.ProgramID, serverTime: *v.ServerTime, maxClockSkewSeconds: defaultMaxClockSkewSeconds, scopes: v.Scopes}
	if v.HighestSeq != nil {
		opt.highestSeq = *v.HighestSeq
	}
	if v.MaxClockSkewSeconds != nil {
		opt.maxClockSkewSeconds = *v.MaxClockSkewSeconds
	}
	result, err := verify(*v.Token, v.Jwks, opt)
	if err != nil {
		var r *rejection
		if !errors.As(err, &r) {
			return nil, err
		}
		return rejectedLine{Name: *v.Name, Valid: false, Error: r.reason}, nil
	}
	return acceptedLine{
		Name:            *v.Name,
		Valid:           true,
		Seq:             result.seq,
		Allowed:         result.decision.allowed,
		Status:          result.decision.status,
		Version:         result.decision.version,
		ValidForSeconds: result.validForSeconds,
	}, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: verify <vectors-dir>")
		os.Exit(2)
	}
	dir := os.Args[1]
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		fmt.Fprintf(os.Stderr, "verify: %v\n", err)
		os.Exit(2)
	}
	var lines []any
	for _, entry := range entries {
		if entry.IsDir() || !strings.HasSuffix(entry.Name(), ".json") {
			continue
		}
		path := filepath.Join(dir, entry.Name())
		line, err := runVector(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "verify: %s: %v\n", path, err)
			os.Exit(2)
		}
		lines = append(lines, line)
	}
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for _, line := range lines {
		if err := enc.Encode(line); err != nil {
			fmt.Fprintf(os.Stderr, "verify: %v\n", err)
			os.Exit(2)
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "verify: %v\n", err)
		os.Exit(2)
	}
}
