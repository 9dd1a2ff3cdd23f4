package bridge

import (
	"regexp"
	"strings"
	"sync"
)

// matchEvent reports whether an event name matches a pattern with
// moleculer's rules: "*" matches within one dot-separated part, "**"
// matches across parts, "?" matches one character. The quirks of JS are
// kept: a pattern ending in one "*" checks for a dot only after the prefix,
// and "." in a pattern matches any character.
func matchEvent(text, pattern string) bool {
	if !strings.ContainsAny(pattern, "?*") {
		return text == pattern
	}
	n := len(pattern)
	if n > 2 && strings.HasSuffix(pattern, "**") && strings.IndexByte(pattern[:n-2], '*') < 0 && strings.IndexByte(pattern, '?') < 0 {
		return strings.HasPrefix(text, pattern[:n-2])
	}
	if n > 1 && pattern[n-1] == '*' && strings.IndexByte(pattern[:n-1], '*') < 0 && strings.IndexByte(pattern, '?') < 0 {
		prefix := pattern[:n-1]
		if !strings.HasPrefix(text, prefix) {
			return false
		}
		// JS searches for a dot from index len(pattern), one past the prefix.
		if n > len(text) {
			return true
		}
		return strings.IndexByte(text[n:], '.') < 0
	}
	if pattern == "**" {
		return true
	}
	if pattern == "*" {
		return strings.IndexByte(text, '.') < 0
	}
	re := patternRegexp(pattern)
	return re != nil && re.MatchString(text)
}

var patternCache sync.Map // pattern -> *regexp.Regexp (nil if invalid)

// patternRegexp builds the regular expression JS builds for a pattern.
func patternRegexp(pattern string) *regexp.Regexp {
	if re, ok := patternCache.Load(pattern); ok {
		return re.(*regexp.Regexp)
	}
	p := pattern
	if strings.HasPrefix(p, "$") {
		p = `\` + p
	}
	p = strings.ReplaceAll(p, "?", ".")
	p = strings.ReplaceAll(p, "**", "\x00")
	p = strings.ReplaceAll(p, "*", "[^.]*")
	p = strings.ReplaceAll(p, "\x00", ".*")
	re, err := regexp.Compile("^" + p + "$")
	if err != nil {
		re = nil
	}
	patternCache.Store(pattern, re)
	return re
}
