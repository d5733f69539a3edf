package templates

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mailgun/raymond/v2"
)

// The helpers of the npm package handlebars-helpers that the fake knows,
// with that package's semantics (JavaScript's comparisons and truthiness),
// besides Handlebars' own (if, unless, each, with, lookup, log). A block
// helper renders its block when its answer is true and its {{else}}
// otherwise; called inline or in a sub-expression it answers the value.
var helpers = map[string]any{
	// comparison
	"compare": compareHelper,
	"eq":      func(a, b any, o *raymond.Options) any { return answer(strictEqual(a, b), o) },
	"is":      func(a, b any, o *raymond.Options) any { return answer(looseEqual(a, b), o) },
	"isnt":    func(a, b any, o *raymond.Options) any { return answer(!looseEqual(a, b), o) },
	"gt":      func(a, b any, o *raymond.Options) any { return answer(jsLess(b, a), o) },
	"gte":     func(a, b any, o *raymond.Options) any { return answer(jsLessEq(b, a), o) },
	"lt":      func(a, b any, o *raymond.Options) any { return answer(jsLess(a, b), o) },
	"lte":     func(a, b any, o *raymond.Options) any { return answer(jsLessEq(a, b), o) },
	"and":     func(a, b any, o *raymond.Options) any { return answer(truthy(a) && truthy(b), o) },
	"or":      func(a, b any, o *raymond.Options) any { return answer(truthy(a) || truthy(b), o) },
	"not":     func(a any, o *raymond.Options) any { return answer(!truthy(a), o) },
	"contains": func(coll, v any, o *raymond.Options) any {
		return answer(contains(coll, v), o)
	},
	"ifEven": func(n any, o *raymond.Options) any {
		f, ok := toNumber(n)
		return answer(ok && math.Mod(f, 2) == 0, o)
	},
	"ifOdd": func(n any, o *raymond.Options) any {
		f, ok := toNumber(n)
		return answer(ok && math.Abs(math.Mod(f, 2)) == 1, o)
	},
	"default": func(v, def any) any {
		if v == nil {
			return def
		}
		return v
	},
	// strings
	"uppercase":     func(s any) any { return strings.ToUpper(str(s)) },
	"upcase":        func(s any) any { return strings.ToUpper(str(s)) },
	"lowercase":     func(s any) any { return strings.ToLower(str(s)) },
	"downcase":      func(s any) any { return strings.ToLower(str(s)) },
	"capitalize":    func(s any) any { return capitalize(str(s)) },
	"capitalizeAll": capitalizeAll,
	"trim":          func(s any) any { return strings.TrimSpace(str(s)) },
	"append":        func(s, suffix any) any { return str(s) + str(suffix) },
	"prepend":       func(s, prefix any) any { return str(prefix) + str(s) },
	"replace":       replace,
	"truncate":      truncate,
	// math
	"add":      func(a, b any) any { return arith(a, b, func(x, y float64) float64 { return x + y }) },
	"subtract": func(a, b any) any { return arith(a, b, func(x, y float64) float64 { return x - y }) },
	"multiply": func(a, b any) any { return arith(a, b, func(x, y float64) float64 { return x * y }) },
	"divide":   func(a, b any) any { return arith(a, b, func(x, y float64) float64 { return x / y }) },
	"round": func(a any) any {
		f, ok := toNumber(a)
		if !ok {
			panic(fmt.Errorf("round: %v is not a number", a))
		}
		return math.Floor(f + 0.5)
	},
}

// arity is the number of arguments each helper takes (hash arguments
// aside). raymond's own check misses a helper given one argument too many,
// so the rewrite checks it first.
var arity = map[string]int{
	"if": 1, "unless": 1, "each": 1, "with": 1, "lookup": 2, "log": 1,
	"compare": 3, "eq": 2, "is": 2, "isnt": 2, "gt": 2, "gte": 2, "lt": 2, "lte": 2,
	"and": 2, "or": 2, "not": 1, "contains": 2, "ifEven": 1, "ifOdd": 1, "default": 2,
	"uppercase": 1, "upcase": 1, "lowercase": 1, "downcase": 1, "capitalize": 1, "capitalizeAll": 1,
	"trim": 1, "append": 2, "prepend": 2, "replace": 3, "truncate": 2,
	"add": 2, "subtract": 2, "multiply": 2, "divide": 2, "round": 1,
	fallbackHelper: 3,
}

// presenceHelpers test whether their arguments are there: a missing one is
// not reported.
var presenceHelpers = []string{"default", "and", "or", "not", fallbackHelper}

// handlebarsOwn are Handlebars' own helpers (raymond's, or ours in their
// place).
var handlebarsOwn = []string{"if", "unless", "each", "with", "lookup", "log"}

func knownHelper(name string) bool {
	_, ok := helpers[name]
	return ok || slices.Contains(handlebarsOwn, name) || name == fallbackHelper
}

// helperNames lists the helpers a template may call, for error messages.
func helperNames() []string {
	names := slices.Clone(handlebarsOwn)
	for n := range helpers {
		names = append(names, n)
	}
	sort.Strings(names[len(handlebarsOwn):])
	return names
}

// Helpers returns the names of the helpers a template may call: Handlebars'
// own, then those of handlebars-helpers that this package implements.
func Helpers() []string { return helperNames() }

// answer is a helper's result: a block renders its block or its inverse,
// an inline call answers the boolean.
func answer(ok bool, o *raymond.Options) any {
	if b, _ := o.HashProp(blockMarker).(bool); b {
		if ok {
			return o.Fn()
		}
		return o.Inverse()
	}
	return ok
}

// compareOps are compare's operators.
var compareOps = []string{"==", "===", "!=", "!==", "<", ">", "<=", ">=", "typeof"}

func compareHelper(a, op, b any, o *raymond.Options) any {
	var ok bool
	switch op {
	case "==":
		ok = looseEqual(a, b)
	case "===":
		ok = strictEqual(a, b)
	case "!=":
		ok = !looseEqual(a, b)
	case "!==":
		ok = !strictEqual(a, b)
	case "<":
		ok = jsLess(a, b)
	case ">":
		ok = jsLess(b, a)
	case "<=":
		ok = jsLessEq(a, b)
	case ">=":
		ok = jsLessEq(b, a)
	case "typeof":
		ok = jsTypeof(a) == str(b)
	default:
		panic(fmt.Errorf("compare: unknown operator %q (want ==, ===, !=, !==, <, >, <=, >= or typeof)", str(op)))
	}
	return answer(ok, o)
}

// toNumber converts as JavaScript's Number() does for the values JSON
// has: numbers, numeric strings, booleans; ok is false for NaN.
func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case nil:
		return 0, true
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, true
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	if n, ok := v.(interface{ Float64() (float64, error) }); ok {
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func isNumber(v any) bool {
	switch v.(type) {
	case float64, int, int64:
		return true
	}
	return false
}

// strictEqual is JavaScript's ===, for JSON values (objects and arrays are
// never equal unless the same one).
func strictEqual(a, b any) bool {
	if isNumber(a) && isNumber(b) {
		x, _ := toNumber(a)
		y, _ := toNumber(b)
		return x == y
	}
	switch a.(type) {
	case string, bool, nil:
		return a == b
	}
	return false
}

// looseEqual is JavaScript's ==, for JSON values.
func looseEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	_, as := a.(string)
	_, bs := b.(string)
	if as && bs {
		return a == b
	}
	if (isNumber(a) || as || isBool(a)) && (isNumber(b) || bs || isBool(b)) {
		x, okx := toNumber(a)
		y, oky := toNumber(b)
		return okx && oky && x == y
	}
	return strictEqual(a, b)
}

func isBool(v any) bool { _, ok := v.(bool); return ok }

// jsLess is JavaScript's a < b: two strings compare as strings, anything
// else as numbers (false when either is not one).
func jsLess(a, b any) bool {
	sa, as := a.(string)
	sb, bs := b.(string)
	if as && bs {
		return sa < sb
	}
	x, okx := toNumber(a)
	y, oky := toNumber(b)
	return okx && oky && x < y
}

func jsLessEq(a, b any) bool {
	sa, as := a.(string)
	sb, bs := b.(string)
	if as && bs {
		return sa <= sb
	}
	x, okx := toNumber(a)
	y, oky := toNumber(b)
	return okx && oky && x <= y
}

func jsTypeof(v any) string {
	switch v.(type) {
	case nil:
		return "undefined"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64, int, int64:
		return "number"
	}
	return "object"
}

// truthy is JavaScript's truthiness: false, 0, "", null and NaN are
// false; every object and array is true, even an empty one.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0 && !math.IsNaN(x)
	case int:
		return x != 0
	}
	return true
}

func contains(coll, v any) bool {
	if s, ok := coll.(string); ok {
		return strings.Contains(s, str(v))
	}
	rv := reflect.ValueOf(coll)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		for i := 0; i < rv.Len(); i++ {
			if strictEqual(rv.Index(i).Interface(), v) {
				return true
			}
		}
	}
	return false
}

// str is a value as a template shows it.
func str(v any) string { return raymond.Str(v) }

func capitalize(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func capitalizeAll(s any) any {
	words := strings.Split(str(s), " ")
	for i, w := range words {
		words[i] = capitalize(w)
	}
	return strings.Join(words, " ")
}

// truncate is handlebars-helpers' truncate: a string longer than limit
// characters is cut to limit, the suffix (default none) included.
func truncate(s, limit any, o *raymond.Options) any {
	n, ok := toNumber(limit)
	if !ok {
		panic(fmt.Errorf("truncate: the limit %v is not a number", limit))
	}
	suffix, _ := o.HashProp("suffix").(string)
	r := []rune(str(s))
	if float64(len(r)) <= n {
		return string(r)
	}
	n = max(n, 0) // -1e300 would wrap in int()
	keep := max(int(n)-len([]rune(suffix)), 0)
	return string(r[:keep]) + suffix
}

// arith applies f to two numbers; anything else is an error that names
// the value.
func arith(a, b any, f func(x, y float64) float64) any {
	x, okx := toNumber(a)
	y, oky := toNumber(b)
	if !okx || !oky {
		panic(fmt.Errorf("arithmetic on %q and %q: not numbers", str(a), str(b)))
	}
	return f(x, y)
}

// replace is handlebars-helpers' replace: every a in s becomes b, unless
// the result would be over MaxRenderBytes ("" for a repeats b between
// every character).
func replace(s, a, b any) any {
	ss, as, bs := str(s), str(a), str(b)
	n := utf8.RuneCountInString(ss) + 1 // what ReplaceAll does with ""
	if as != "" {
		n = strings.Count(ss, as)
	}
	if len(bs) > len(as) && n > 0 && (len(bs)-len(as)) > (MaxRenderBytes-len(ss))/n {
		panic(fmt.Errorf("replace: the result would be over 1 MiB"))
	}
	return strings.ReplaceAll(ss, as, bs)
}

// each replaces raymond's each: it walks an object's keys in sorted order
// (raymond's order is Go's map order, a different one each time), and sets
// @index, @key, @first and @last. It counts toward the render's bounds.
func (st *renderState) each(ctx any, o *raymond.Options) any {
	v := reflect.ValueOf(ctx)
	var b strings.Builder
	item := func(x any, f *raymond.DataFrame) {
		if st.loops++; st.loops > MaxLoopItems {
			panic(fmt.Errorf("#each: the message's loops ran more than %d times", MaxLoopItems))
		}
		out := o.FnCtxData(x, f)
		if st.looped += len(out); st.looped > MaxRenderBytes {
			panic(fmt.Errorf("#each: the message's loops made more than 1 MiB"))
		}
		b.WriteString(out)
	}
	frame := func(i, n int, key any) *raymond.DataFrame {
		f := o.NewDataFrame()
		f.Set("index", i)
		f.Set("key", key)
		f.Set("first", i == 0)
		f.Set("last", i == n-1)
		return f
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			return o.Inverse()
		}
		for i := 0; i < v.Len(); i++ {
			item(v.Index(i).Interface(), frame(i, v.Len(), i))
		}
	case reflect.Map:
		if v.Len() == 0 {
			return o.Inverse()
		}
		if st.loops+v.Len() > MaxLoopItems { // before sorting its keys
			panic(fmt.Errorf("#each: the message's loops ran more than %d times", MaxLoopItems))
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i].Interface()) < fmt.Sprint(keys[j].Interface()) })
		for i, k := range keys {
			item(v.MapIndex(k).Interface(), frame(i, len(keys), k.Interface()))
		}
	default:
		return o.Inverse()
	}
	return raymond.SafeString(b.String())
}
