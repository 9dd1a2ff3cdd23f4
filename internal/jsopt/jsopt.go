// Package jsopt reads values out of a JS options object (a transporter's,
// a strategy's, ...) or a gossip row, as they arrive in Go: decoded from JSON (numbers are float64) or written by hand
// in Go (ints, bools, strings, nested maps).
package jsopt

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Number returns v as a float64: JSON numbers, Go integers and floats, and
// numeric strings (JS coerces those where it does arithmetic).
func Number(v any) (float64, bool) {
	if s, ok := v.(string); ok {
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	return GoNumber(v)
}

// GoNumber returns v as a float64 when it is a number: a JSON number
// (float64 or json.Number) or any Go integer or float. Strings are not
// numbers here.
func GoNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// Int returns v as an int when it is a whole number.
func Int(v any) (int, bool) {
	f, ok := Number(v)
	if !ok || f != math.Trunc(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return int(f), true
}

// String returns v as a string: strings as they are, numbers formatted as
// JS formats them.
func String(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case nil:
		return "", false
	}
	if f, ok := Number(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return "", false
}

// Truthy returns v's truth value as JS computes it for an options flag:
// false, 0, "", null and undefined are false; everything else is true.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	}
	if f, ok := Number(v); ok {
		return f != 0 && !math.IsNaN(f)
	}
	return true
}

// Map returns v as an options object.
func Map(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

// Strings returns v as a list of strings: one string, or an array of them.
func Strings(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, true
	case []string:
		return x, true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := String(e)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// TLSConfig builds a TLS configuration from the Node.js tls.connect options
// found in m: rejectUnauthorized (default true), ca (PEM, one string or a
// list), cert and key (PEM), servername. serverName is used when m names
// none. Options that only Node.js understands (pfx, passphrase, ...) are
// not supported and make TLSConfig fail rather than connect differently
// from the JS node.
func TLSConfig(m map[string]any, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: serverName}
	for k, v := range m {
		switch k {
		case "rejectUnauthorized":
			cfg.InsecureSkipVerify = !Truthy(v)
		case "servername":
			s, ok := String(v)
			if !ok {
				return nil, fmt.Errorf("tls option servername: want a string, got %T", v)
			}
			cfg.ServerName = s
		case "ca":
			pems, ok := Strings(v)
			if !ok {
				return nil, fmt.Errorf("tls option ca: want PEM text or a list of them, got %T", v)
			}
			pool := x509.NewCertPool()
			for _, p := range pems {
				if !pool.AppendCertsFromPEM([]byte(p)) {
					return nil, fmt.Errorf("tls option ca: no PEM certificate found")
				}
			}
			cfg.RootCAs = pool
		case "cert", "key":
			// Read together below.
		case "pfx", "passphrase":
			return nil, fmt.Errorf("tls option %s is not supported; give cert and key as PEM", k)
		}
	}
	if m["cert"] != nil || m["key"] != nil {
		cert, ok1 := String(m["cert"])
		key, ok2 := String(m["key"])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("tls options cert and key: want both, as PEM text")
		}
		pair, err := tls.X509KeyPair([]byte(cert), []byte(key))
		if err != nil {
			return nil, fmt.Errorf("tls options cert and key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
