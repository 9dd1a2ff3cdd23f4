package bridge

import (
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/molbridge/molbridge/internal/jsopt"
)

// This file finds and prints shard keys the way JS does: lodash's _.get
// for the path, JS's toString for the key.

// jsGet returns the value at path in obj as lodash's _.get(obj, path)
// does: a key of obj when obj has it or the path is a plain name, else
// the path's parts ("a.b", "a[0].b", `a["x.y"]`) followed one by one.
// Go values that are not JSON-like (structs, typed maps and slices) are
// seen as JSON shows them. Nil stands for null and undefined.
func jsGet(obj any, path string) any { return compileJSPath(path)(obj) }

// compileJSPath returns jsGet for one path, with the path parsed once.
func compileJSPath(path string) func(obj any) any {
	deep := reDeepProp.MatchString(path)
	parts := jsPath(path)
	return func(obj any) any {
		obj = jsonLike(obj)
		if obj == nil {
			return nil
		}
		if !deep || hasKey(obj, path) {
			return jsProp(obj, path)
		}
		for _, part := range parts {
			obj = jsProp(jsonLike(obj), part)
			if obj == nil {
				return nil
			}
		}
		return obj
	}
}

// reDeepProp is lodash's test for a path with more than one part.
var reDeepProp = regexp.MustCompile(`\.|\[(?:[^\[\]]*|"(?:[^"\\]|\\.)*?"|'(?:[^'\\]|\\.)*?')\]`)

// hasKey reports whether JS's `key in obj` holds for obj's own data.
func hasKey(obj any, key string) bool {
	switch o := obj.(type) {
	case map[string]any:
		_, ok := o[key]
		return ok
	case []any:
		i, ok := arrayIndex(key)
		return key == "length" || ok && i < len(o)
	}
	return false
}

// jsProp returns obj[key], nil when obj has no such key.
func jsProp(obj any, key string) any {
	switch o := obj.(type) {
	case map[string]any:
		return o[key]
	case []any:
		if key == "length" {
			return float64(len(o))
		}
		if i, ok := arrayIndex(key); ok && i < len(o) {
			return o[i]
		}
	case string:
		u := utf16.Encode([]rune(o))
		if key == "length" {
			return float64(len(u))
		}
		if i, ok := arrayIndex(key); ok && i < len(u) {
			return string(utf16.Decode(u[i : i+1]))
		}
	}
	return nil
}

// arrayIndex parses a canonical array index ("0", "12", not "012").
func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil && i >= 0 && s[0] != '+'
}

// jsPath splits a path into its parts as lodash's stringToPath does.
func jsPath(s string) []string {
	var parts []string
	if strings.HasPrefix(s, ".") {
		parts = append(parts, "")
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c != '.' && c != '[' && c != ']':
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' && s[j] != ']' {
				j++
			}
			parts = append(parts, s[i:j])
			i = j
			continue
		case c == '[':
			if part, n, ok := bracketPart(s[i:]); ok {
				parts = append(parts, part)
				i += n
				continue
			}
		}
		// An empty part where a '.' or "[]" is followed by another or
		// ends the path.
		if sep := sepLen(s[i:]); sep > 0 && (i+sep == len(s) || sepLen(s[i+sep:]) > 0) {
			parts = append(parts, "")
		}
		i++
	}
	return parts
}

// sepLen is the length of the '.' or "[]" that s starts with, or 0.
func sepLen(s string) int {
	switch {
	case strings.HasPrefix(s, "."):
		return 1
	case strings.HasPrefix(s, "[]"):
		return 2
	}
	return 0
}

// bracketPart reads "[12]", "[-1.5]", `["a\"b"]` or "['x']" at the start
// of s: the part and the length read.
func bracketPart(s string) (string, int, bool) {
	if len(s) < 3 {
		return "", 0, false
	}
	if q := s[1]; q == '"' || q == '\'' {
		for i := 2; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 >= len(s) || s[i+1] == '\n' || s[i+1] == '\r' {
					return "", 0, false
				}
				i++
			case q:
				if i+1 < len(s) && s[i+1] == ']' {
					return unescapePath(s[2:i]), i + 2, true
				}
				return "", 0, false
			}
		}
		return "", 0, false
	}
	if m := reNumberPart.FindStringSubmatch(s); m != nil {
		return m[1], len(m[0]), true
	}
	return "", 0, false
}

var reNumberPart = regexp.MustCompile(`^\[(-?[0-9]+(?:\.[0-9]+)?)\]`)

// unescapePath drops the backslashes of a quoted part, "\\" giving one.
func unescapePath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			if i+1 < len(s) && s[i+1] == '\\' {
				b.WriteByte('\\')
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// jsonLike returns x as JSON-like data: maps, slices, strings, bools,
// float64 numbers. Other Go values go through JSON; numbers become
// float64, as a JS node would see them.
func jsonLike(x any) any {
	switch v := x.(type) {
	case nil, map[string]any, []any, string, bool, float64, []byte:
		return x
	case Value:
		y, err := v.Interface()
		if err != nil {
			return nil
		}
		return jsonLike(y)
	}
	if f, ok := jsopt.GoNumber(x); ok {
		return f
	}
	switch reflect.ValueOf(x).Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct, reflect.Pointer:
		b, err := json.Marshal(x)
		if err != nil {
			return nil
		}
		var out any
		if json.Unmarshal(b, &out) != nil {
			return nil
		}
		return out
	}
	return x
}

// keyString converts a shard key to a string as JS's key.toString() does.
func keyString(key any) string {
	switch k := jsonLike(key).(type) {
	case nil:
		return ""
	case string:
		return k
	case bool:
		return strconv.FormatBool(k)
	case float64:
		return jsNumber(k)
	case []byte: // a Buffer: its bytes as UTF-8
		return strings.ToValidUTF8(string(k), "\uFFFD")
	case []any: // Array.prototype.join(","): null and undefined are empty
		parts := make([]string, len(k))
		for i, e := range k {
			parts[i] = keyString(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return "[object Object]"
	default:
		return "[object Object]"
	}
}

// jsNumber formats a number as JS's Number.prototype.toString does.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	case f < 0:
		return "-" + jsNumber(-f)
	}
	// The shortest digits that read back as f, and n, the position of the
	// decimal point relative to them.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1
	switch {
	case k <= n && n <= 21:
		return digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return "0." + strings.Repeat("0", -n) + digits
	}
	sign := "+"
	if n-1 < 0 {
		sign = "-"
	}
	out := digits[:1]
	if k > 1 {
		out += "." + digits[1:]
	}
	return out + "e" + sign + strconv.Itoa(abs(n-1))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
