package bridge

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/molbridge/molbridge/packets"
)

// The params validator checks params against schemas in fastest-validator's
// notation, with its rules, messages and error shapes, so that a JS caller
// gets from a Go action the ValidationError it would get from a JS one.
// It covers the rule types a service's params use: any, string, number,
// boolean, object, array, equal, enum, forbidden, email, url, uuid and
// multi (alternatives), with shorthands ("number|optional|min:1") and the
// root keys $$strict and $$root.

// rule is one compiled schema rule.
type rule struct {
	typ                         string
	optional, nullable, convert bool
	def                         any
	hasDefault                  bool
	min, max, length            *float64
	integer, positive, negative bool
	notEmpty                    bool
	pattern                     *regexp.Regexp
	patternSrc                  string
	enum                        []any
	equal                       any
	hasEqual, strictEqual       bool
	props                       map[string]*rule
	propOrder                   []string
	strict                      any // object: true, "remove" or nil
	items                       *rule
	rules                       []*rule // multi
	values                      []any   // enum type
}

// validator checks a whole params object.
type validator struct {
	root *rule
}

// compileSchema compiles a params schema; an unknown type is an error, as
// JS refuses it when the service is created.
func compileSchema(s Schema) (*validator, error) {
	if root, ok := s["$$root"].(bool); ok && root {
		props := maps.Clone(s)
		delete(props, "$$root")
		r, err := parseRule(map[string]any(props))
		return &validator{root: r}, err
	}
	r := &rule{typ: "object", props: map[string]*rule{}, strict: s["$$strict"]}
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if strings.HasPrefix(k, "$$") {
			continue
		}
		pr, err := parseRule(s[k])
		if err != nil {
			return nil, err
		}
		r.props[k] = pr
		r.propOrder = append(r.propOrder, k)
	}
	return &validator{root: r}, nil
}

var knownTypes = []string{"any", "string", "number", "boolean", "object", "array", "equal", "enum",
	"forbidden", "email", "url", "uuid", "multi", "custom"}

func parseRule(v any) (*rule, error) {
	switch x := v.(type) {
	case string:
		return parseShorthand(x)
	case []any:
		r := &rule{typ: "multi", optional: true}
		for _, item := range x {
			sub, err := parseRule(item)
			if err != nil {
				return nil, err
			}
			r.rules = append(r.rules, sub)
			r.optional = r.optional && sub.optional
		}
		return r, nil
	case map[string]any:
		return parseRuleObject(x)
	}
	return nil, fmt.Errorf("invalid rule in validator schema: %v", v)
}

func parseShorthand(s string) (*rule, error) {
	parts := strings.Split(s, "|")
	obj := map[string]any{}
	typ := strings.TrimSpace(parts[0])
	if strings.HasSuffix(typ, "[]") {
		obj["items"] = strings.TrimSuffix(typ, "[]")
		typ = "array"
	}
	obj["type"] = typ
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if k, val, ok := strings.Cut(p, ":"); ok {
			obj[strings.TrimSpace(k)] = shorthandValue(strings.TrimSpace(val))
		} else if k, ok := strings.CutPrefix(p, "no-"); ok {
			obj[k] = false
		} else {
			obj[p] = true
		}
	}
	return parseRuleObject(obj)
}

func shorthandValue(s string) any {
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}

func parseRuleObject(m map[string]any) (*rule, error) {
	if t, ok := m["$$type"].(string); ok {
		r, err := parseShorthand(t)
		if err != nil {
			return nil, err
		}
		props := maps.Clone(m)
		delete(props, "$$type")
		return r, r.setProps(props)
	}
	typ, _ := m["type"].(string)
	if typ == "" {
		return nil, fmt.Errorf("invalid '%v' type in validator schema", m["type"])
	}
	if !slices.Contains(knownTypes, typ) {
		return nil, fmt.Errorf("invalid '%s' type in validator schema", typ)
	}
	r := &rule{typ: typ}
	r.optional, _ = m["optional"].(bool)
	r.nullable, _ = m["nullable"].(bool)
	r.convert, _ = m["convert"].(bool)
	r.def, r.hasDefault = m["default"]
	num := func(k string) *float64 {
		if f, ok := toFloat(m[k]); ok {
			return &f
		}
		return nil
	}
	r.min, r.max, r.length = num("min"), num("max"), num("length")
	r.integer, _ = m["integer"].(bool)
	r.positive, _ = m["positive"].(bool)
	r.negative, _ = m["negative"].(bool)
	if e, ok := m["empty"].(bool); ok && !e {
		r.notEmpty = true
	}
	if p, ok := m["pattern"].(string); ok {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("invalid pattern %q: %w", p, err)
		}
		r.pattern, r.patternSrc = re, "/"+p+"/"
	}
	if e, ok := m["enum"].([]any); ok {
		r.enum = e
	}
	if vals, ok := m["values"].([]any); ok {
		r.values = vals
	}
	r.equal, r.hasEqual = m["value"]
	r.strictEqual, _ = m["strict"].(bool)
	if typ == "object" {
		r.strict = m["strict"]
		props, _ := m["props"].(map[string]any)
		if props == nil {
			props, _ = m["properties"].(map[string]any)
		}
		if err := r.setProps(props); err != nil {
			return nil, err
		}
	}
	if items, ok := m["items"]; ok && typ == "array" {
		ir, err := parseRule(items)
		if err != nil {
			return nil, err
		}
		r.items = ir
	}
	if rules, ok := m["rules"].([]any); ok && typ == "multi" {
		for _, item := range rules {
			sub, err := parseRule(item)
			if err != nil {
				return nil, err
			}
			r.rules = append(r.rules, sub)
		}
	}
	return r, nil
}

func (r *rule) setProps(props map[string]any) error {
	if props == nil {
		return nil
	}
	r.props = map[string]*rule{}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		pr, err := parseRule(props[k])
		if err != nil {
			return err
		}
		r.props[k] = pr
		r.propOrder = append(r.propOrder, k)
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float32:
		return float64(x), true
	}
	return 0, false
}

var messages = map[string]string{
	"required": "The '{field}' field is required.", "string": "The '{field}' field must be a string.",
	"stringEmpty":   "The '{field}' field must not be empty.",
	"stringMin":     "The '{field}' field length must be greater than or equal to {expected} characters long.",
	"stringMax":     "The '{field}' field length must be less than or equal to {expected} characters long.",
	"stringLength":  "The '{field}' field length must be {expected} characters long.",
	"stringPattern": "The '{field}' field fails to match the required pattern.",
	"stringEnum":    "The '{field}' field does not match any of the allowed values.",
	"number":        "The '{field}' field must be a number.",
	"numberMin":     "The '{field}' field must be greater than or equal to {expected}.",
	"numberMax":     "The '{field}' field must be less than or equal to {expected}.",
	"numberInteger": "The '{field}' field must be an integer.", "numberPositive": "The '{field}' field must be a positive number.",
	"numberNegative": "The '{field}' field must be a negative number.", "array": "The '{field}' field must be an array.",
	"arrayEmpty":  "The '{field}' field must not be an empty array.",
	"arrayMin":    "The '{field}' field must contain at least {expected} items.",
	"arrayMax":    "The '{field}' field must contain less than or equal to {expected} items.",
	"arrayLength": "The '{field}' field must contain {expected} items.",
	"arrayEnum":   "The '{actual}' value in '{field}' field does not match any of the '{expected}' values.",
	"boolean":     "The '{field}' field must be a boolean.",
	"enumValue":   "The '{field}' field value '{expected}' does not match any of the allowed values.",
	"equalValue":  "The '{field}' field value must be equal to '{expected}'.",
	"forbidden":   "The '{field}' field is forbidden.", "email": "The '{field}' field must be a valid e-mail.",
	"object":       "The '{field}' must be an Object.",
	"objectStrict": "The object '{field}' contains forbidden keys: '{actual}'.",
	"url":          "The '{field}' field must be a valid URL.", "uuid": "The '{field}' field must be a valid UUID.",
}

// absent marks a missing value (JS undefined) during validation.
type absent struct{}

type checker struct {
	errs []map[string]any
}

func (c *checker) fail(typ, field string, expected, actual any) {
	msg := messages[typ]
	msg = strings.ReplaceAll(msg, "{field}", field)
	msg = strings.ReplaceAll(msg, "{expected}", jsString(expected))
	msg = strings.ReplaceAll(msg, "{actual}", jsString(actual))
	e := map[string]any{"type": typ, "message": msg}
	if field != "" {
		e["field"] = field
	}
	if expected != nil {
		e["expected"] = expected
	}
	if _, isAbsent := actual.(absent); !isAbsent {
		e["actual"] = actual
	}
	c.errs = append(c.errs, e)
}

// jsString formats a value as JS's String() would inside a message.
func jsString(v any) string {
	switch x := v.(type) {
	case nil, absent:
		return ""
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e21 {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = jsString(p)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return "[object Object]"
	}
	return fmt.Sprint(v)
}

// check validates v (absent{} when missing) at field; it returns the value
// to store (defaults and conversions applied).
func (c *checker) check(r *rule, v any, field string) any {
	_, isAbsent := v.(absent)
	if isAbsent || v == nil {
		if r.hasDefault && !(v == nil && !isAbsent && r.nullable) {
			return r.def
		}
		if r.optional || (!isAbsent && r.nullable) || r.typ == "forbidden" {
			return v
		}
		c.fail("required", field, nil, v)
		return v
	}
	switch r.typ {
	case "any", "custom":
	case "forbidden":
		c.fail("forbidden", field, nil, v)
	case "number":
		f, ok := v.(float64)
		if !ok && r.convert {
			f, ok = convertNumber(v)
			if ok {
				v = f
			}
		}
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			c.fail("number", field, nil, v)
			return v
		}
		if r.min != nil && f < *r.min {
			c.fail("numberMin", field, *r.min, v)
		}
		if r.max != nil && f > *r.max {
			c.fail("numberMax", field, *r.max, v)
		}
		if r.integer && f != math.Trunc(f) {
			c.fail("numberInteger", field, nil, v)
		}
		if r.positive && f <= 0 {
			c.fail("numberPositive", field, nil, v)
		}
		if r.negative && f >= 0 {
			c.fail("numberNegative", field, nil, v)
		}
	case "string", "email", "url", "uuid":
		s, ok := v.(string)
		if !ok && r.convert && r.typ == "string" {
			s, ok = jsString(v), true
			v = s
		}
		if !ok {
			c.fail(map[string]string{"string": "string", "email": "email", "url": "url", "uuid": "uuid"}[r.typ], field, nil, v)
			return v
		}
		c.checkString(r, s, field, v)
	case "boolean":
		bv, ok := v.(bool)
		if !ok && r.convert {
			switch v {
			case 1.0, "true", "1", "on":
				bv, ok = true, true
			case 0.0, "false", "0", "off":
				bv, ok = false, true
			}
			if ok {
				v = bv
			}
		}
		if !ok {
			c.fail("boolean", field, nil, v)
		}
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			c.fail("object", field, nil, v)
			return v
		}
		return c.checkObject(r, m, field)
	case "array":
		a, ok := v.([]any)
		if !ok {
			c.fail("array", field, nil, v)
			return v
		}
		n := float64(len(a))
		if r.notEmpty && len(a) == 0 {
			c.fail("arrayEmpty", field, nil, v)
		}
		if r.min != nil && n < *r.min {
			c.fail("arrayMin", field, *r.min, n)
		}
		if r.max != nil && n > *r.max {
			c.fail("arrayMax", field, *r.max, n)
		}
		if r.length != nil && n != *r.length {
			c.fail("arrayLength", field, *r.length, n)
		}
		for i, item := range a {
			if r.enum != nil && !slices.Contains(r.enum, item) {
				c.fail("arrayEnum", field, jsJoin(r.enum), item)
			}
			if r.items != nil {
				a[i] = c.check(r.items, item, fmt.Sprintf("%s[%d]", field, i))
			}
		}
	case "equal":
		if r.hasEqual && !looseEqual(v, r.equal, r.strictEqual) {
			c.fail("equalValue", field, r.equal, v)
		}
	case "enum":
		if !slices.Contains(r.values, v) {
			c.fail("enumValue", field, jsJoin(r.values), v)
		}
	case "multi":
		var all []map[string]any
		for _, sub := range r.rules {
			sc := &checker{}
			nv := sc.check(sub, v, field)
			if len(sc.errs) == 0 {
				return nv
			}
			all = append(all, sc.errs...)
		}
		c.errs = append(c.errs, all...)
	}
	return v
}

func (c *checker) checkString(r *rule, s, field string, v any) {
	n := float64(len([]rune(s)))
	switch r.typ {
	case "email":
		if !emailRe.MatchString(s) {
			c.fail("email", field, nil, v)
		}
		return
	case "url":
		if !urlRe.MatchString(s) {
			c.fail("url", field, nil, v)
		}
		return
	case "uuid":
		if !uuidRe.MatchString(strings.ToLower(s)) {
			c.fail("uuid", field, nil, v)
		}
		return
	}
	if r.notEmpty && s == "" {
		c.fail("stringEmpty", field, nil, v)
	}
	if r.min != nil && n < *r.min {
		c.fail("stringMin", field, *r.min, n)
	}
	if r.max != nil && n > *r.max {
		c.fail("stringMax", field, *r.max, n)
	}
	if r.length != nil && n != *r.length {
		c.fail("stringLength", field, *r.length, n)
	}
	if r.pattern != nil && !r.pattern.MatchString(s) {
		c.fail("stringPattern", field, r.patternSrc, v)
	}
	if r.enum != nil && !slices.Contains(r.enum, any(s)) {
		c.fail("stringEnum", field, jsJoin(r.enum), v)
	}
}

func (c *checker) checkObject(r *rule, m map[string]any, field string) any {
	if r.props == nil {
		return m
	}
	prefix := field
	if prefix != "" {
		prefix += "."
	}
	for _, k := range r.propOrder {
		cur, ok := m[k]
		var in any = absent{}
		if ok {
			in = cur
		}
		out := c.check(r.props[k], in, prefix+k)
		if _, isAbsent := out.(absent); !isAbsent && (ok || out != nil || r.props[k].hasDefault) {
			m[k] = out
		}
	}
	if r.strict == true || r.strict == "remove" {
		var extra []string
		for k := range m {
			if _, known := r.props[k]; !known {
				extra = append(extra, k)
			}
		}
		slices.Sort(extra)
		if len(extra) > 0 {
			if r.strict == "remove" {
				for _, k := range extra {
					delete(m, k)
				}
			} else {
				c.fail("objectStrict", field, strings.Join(r.propOrder, ", "), strings.Join(extra, ", "))
			}
		}
	}
	return m
}

func jsJoin(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = jsString(v)
	}
	return strings.Join(parts, ", ")
}

func convertNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			return 0, true
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func looseEqual(a, b any, strict bool) bool {
	if a == b {
		return true
	}
	if strict {
		return false
	}
	return jsString(a) == jsString(b)
}

var (
	emailRe = regexp.MustCompile(`^(([^<>()[\]\\.,;:\s@"]+(\.[^<>()[\]\\.,;:\s@"]+)*)|(".+"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$`)
	urlRe   = regexp.MustCompile(`^https?://\S+$`)
	uuidRe  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// validate checks params and returns them with defaults and conversions
// applied, or a ValidationError.
func (v *validator) validate(params Value, nodeID, action string) (Value, error) {
	var plain any = map[string]any{}
	wasNull := params.IsUndefined() || params.IsNull()
	if !wasNull {
		var err error
		if plain, err = plainValue(params); err != nil {
			return params, NewValidationError("Parameters validation error!", "", []any{
				map[string]any{"type": "object", "message": err.Error(), "nodeID": nodeID, "action": action}})
		}
	}
	c := &checker{}
	out := c.check(v.root, plain, "")
	if len(c.errs) > 0 {
		items := make([]any, len(c.errs))
		for i, e := range c.errs {
			e["nodeID"], e["action"] = nodeID, action
			items[i] = e
		}
		return params, NewValidationError("Parameters validation error!", "", items)
	}
	if wasNull {
		return params, nil // JS leaves null params null
	}
	return packets.ValueOf(out), nil
}

// plainValue returns a value as plain JSON-like Go data, decoding or
// converting it as needed.
func plainValue(v Value) (any, error) {
	if g, ok := v.Go(); ok {
		if p, ok := plain(g); ok {
			return p, nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		var out any
		return out, json.Unmarshal(b, &out)
	}
	return v.Interface()
}

// plain returns v as encoding/json would decode its JSON form, for the
// values made of maps, slices, strings, booleans and numbers; ok is false
// for the others (structs, ...), which take the JSON round trip. Maps are
// copied only when something in them changes.
func plain(v any) (any, bool) {
	switch x := v.(type) {
	case string, float64, bool, nil:
		return v, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case float32:
		return float64(x), true
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			p, ok := plain(e)
			if !ok {
				return nil, false
			}
			if out == nil && !samePlain(p, e) {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			if out != nil {
				out[k] = p
			}
		}
		if out == nil {
			return x, true
		}
		return out, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			p, ok := plain(e)
			if !ok {
				return nil, false
			}
			out[i] = p
		}
		return out, true
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, true
	}
	return nil, false
}

// samePlain reports whether plain returned e itself.
func samePlain(p, e any) bool {
	switch e.(type) {
	case string, float64, bool, nil:
		return true
	case map[string]any:
		pm, ok := p.(map[string]any)
		return ok && reflect.ValueOf(pm).UnsafePointer() == reflect.ValueOf(e).UnsafePointer()
	}
	return false
}

// validating wraps a handler with params validation.
func validating(v *validator, next Handler) Handler {
	return func(ctx *Context) (any, error) {
		p, err := v.validate(ctx.Params, ctx.NodeID, ctx.Action)
		if err != nil {
			return nil, err
		}
		ctx.Params = p
		return next(ctx)
	}
}
