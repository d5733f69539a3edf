package templates_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

// data is what the fake gives a template: the payload at the root and
// under payload, the contact, and system variables.
func data() map[string]any {
	payload := map[string]any{
		"order_id": "A-17", "credits": 150.0, "count": 1.0, "zero": 0.0, "name": "Root name",
		"currency": "EUR", "vip": true, "note": nil, "empty": "", "html": `<b>"Tom" & Jerry</b>`,
		"lines": []any{
			map[string]any{"name": "Tea", "qty": 2.0},
			map[string]any{"name": "Cup", "qty": 1.0},
		},
		"tags":     []any{"new", "sale"},
		"sizes":    map[string]any{"s": "small", "m": "medium", "l": "large"},
		"customer": map[string]any{"tier": "gold", "address": map[string]any{"city": "Malmö"}},
		"price":    "12.50",
		"op":       "=~",
	}
	d := map[string]any{}
	for k, v := range payload {
		d[k] = v
	}
	d["payload"] = payload
	d["contact"] = map[string]any{"email": "ann@example.com", "name": "Ann Lee", "firstName": "Ann", "lastName": "Lee",
		"id": "c-1", "externalId": "u_42", "avatar": "https://a.example/ann.png", "meta": map[string]any{"plan": "pro"}}
	for k, v := range sendiventtest.DefaultSystemVariables() {
		d[k] = v
	}
	return d
}

func names(ms []sendiventtest.MissingVariable) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.String())
	}
	return out
}

// TestRender checks each construct against output worked out by hand.
func TestRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		text      bool // render as a text part: no HTML escaping
		want      string
		missing   []string
	}{
		// Variables: payload at the root and under payload., contact, system.
		{"root key", `Order {{order_id}}`, false, `Order A-17`, nil},
		{"payload. key", `Order {{payload.order_id}}`, false, `Order A-17`, nil},
		{"nested", `{{customer.address.city}} {{payload.customer.tier}}`, false, `Malmö gold`, nil},
		{"contact", `{{contact.email}} {{contact.name}} {{contact.firstName}}/{{contact.lastName}} {{contact.id}} {{contact.externalId}} {{contact.avatar}} {{contact.meta.plan}}`, false,
			`ann@example.com Ann Lee Ann/Lee c-1 u_42 https://a.example/ann.png pro`, nil},
		{"system", `{{app.name}} {{app.domain}} {{sender.email}} {{platform.name}} {{cdn}}`, false,
			`Example App example.com noreply@example.com Sendivent https://cdn.example.com`, nil},
		{"numbers and booleans", `{{credits}} {{zero}} {{vip}} {{price}}`, false, `150 0 true 12.50`, nil},
		// Escaping: HTML parts escape {{x}}, never {{{x}}} or {{&x}}; text parts never.
		{"html escapes", `{{html}}`, false, `&lt;b&gt;&quot;Tom&quot; &amp; Jerry&lt;/b&gt;`, nil},
		{"triple stash", `{{{html}}} {{& html}}`, false, `<b>"Tom" & Jerry</b> <b>"Tom" & Jerry</b>`, nil},
		{"text part", `{{html}}`, true, `<b>"Tom" & Jerry</b>`, nil},
		{"text part helper", `{{uppercase html}}`, true, `<B>"TOM" & JERRY</B>`, nil},
		// Loops: the item's fields, @root, ../, @index, @first, @last, this, block params.
		{"each", `{{#each lines}}{{qty}}×{{name}} {{/each}}`, false, `2×Tea 1×Cup `, nil},
		{"@root in a loop", `{{#each lines}}{{name}} of {{@root.order_id}}; {{/each}}`, false, `Tea of A-17; Cup of A-17; `, nil},
		{"../ in a loop", `{{#each lines}}{{../currency}} {{/each}}`, false, `EUR EUR `, nil},
		{"@index @first @last", `{{#each tags}}{{@index}}:{{this}}{{#if @first}}(first){{/if}}{{#if @last}}(last){{/if}} {{/each}}`, false, `0:new(first) 1:sale(last) `, nil},
		{"block param", `{{#each lines as |line|}}{{line.name}}{{/each}}`, false, `TeaCup`, nil},
		{"each over an object, sorted", `{{#each sizes}}{{@key}}={{this}} {{/each}}`, false, `l=large m=medium s=small `, nil},
		{"each else", `{{#each nothing}}x{{else}}none{{/each}}`, false, `none`, nil},
		{"with", `{{#with customer}}{{tier}} in {{address.city}}{{/with}}`, false, `gold in Malmö`, nil},
		// Conditions, and the variables they test are optional.
		{"if else", `{{#if vip}}VIP{{else}}regular{{/if}} {{#if nobody}}x{{else}}y{{/if}}`, false, `VIP y`, nil},
		{"else if", `{{#if nobody}}a{{else if vip}}b{{else}}c{{/if}}`, false, `b`, nil},
		{"unless", `{{#unless nobody}}shown{{/unless}}`, false, `shown`, nil},
		{"section", `{{#vip}}yes {{order_id}}{{/vip}}`, false, `yes A-17`, nil},
		// The service's fallback.
		{"fallback literal", `Hi {{contact.nickname | "Guest"}}, {{contact.firstName | "Guest"}}`, false, `Hi Guest, Ann`, nil},
		{"fallback single quotes", `{{contact.nickname | 'Guest'}}`, false, `Guest`, nil},
		{"fallback variable", `{{contact.nickname | app.domain}}`, false, `example.com`, nil},
		{"fallback unquoted literal", `{{contact.nickname | friend}}`, false, `friend`, nil},
		{"fallback words", `{{contact.nickname | dear customer}}`, false, `dear customer`, nil},
		{"fallback number", `{{nothing | 0}}`, false, `0`, nil},
		{"fallback on empty and null", `{{empty | "e"}} {{note | "n"}}`, false, `e n`, nil},
		{"fallback whitespace control", `a {{~nothing | "x"~}} b`, false, `axb`, nil},
		{"fallback escapes", `{{nothing | "<i>"}}`, false, `&lt;i&gt;`, nil},
		// compare, with every operator, as a block, inline and in a sub-expression.
		{"compare >", `{{#compare credits ">" 100}}rich{{else}}poor{{/compare}}`, false, `rich`, nil},
		{"compare <", `{{#compare credits "<" 100}}rich{{else}}poor{{/compare}}`, false, `poor`, nil},
		{"compare >= <=", `{{#compare credits ">=" 150}}a{{/compare}}{{#compare credits "<=" 149}}b{{/compare}}`, false, `a`, nil},
		{"compare == loose", `{{#compare price "==" 12.5}}eq{{else}}ne{{/compare}}`, false, `eq`, nil},
		{"compare === strict", `{{#compare price "===" 12.5}}eq{{else}}ne{{/compare}}`, false, `ne`, nil},
		{"compare != !==", `{{#compare count "!=" 1}}a{{/compare}}{{#compare count "!==" "1"}}b{{/compare}}`, false, `b`, nil},
		{"compare strings", `{{#compare order_id "<" "B"}}before{{/compare}}`, false, `before`, nil},
		{"compare typeof", `{{#compare credits "typeof" "number"}}n{{/compare}}`, false, `n`, nil},
		{"compare inline", `{{compare credits ">" 100}}`, false, `true`, nil},
		{"compare in if", `{{#if (compare credits ">" 1000)}}x{{else}}y{{/if}}`, false, `y`, nil},
		{"compare inside each", `{{#each lines}}{{#compare qty ">" 1}}{{name}}{{/compare}}{{/each}}`, false, `Tea`, nil},
		// The other helpers.
		{"eq is isnt", `{{#eq count 1}}a{{/eq}}{{#is price 12.5}}b{{/is}}{{#isnt order_id "A-17"}}c{{/isnt}}`, false, `ab`, nil},
		{"gt gte lt lte", `{{#gt credits 100}}a{{/gt}}{{#gte count 1}}b{{/gte}}{{#lt zero 1}}c{{/lt}}{{#lte credits 100}}d{{/lte}}`, false, `abc`, nil},
		{"and or not", `{{#and vip count}}a{{/and}}{{#or nobody zero}}b{{else}}B{{/or}}{{#not zero}}c{{/not}}`, false, `aBc`, nil},
		{"contains", `{{#contains tags "sale"}}on sale{{/contains}} {{#contains order_id "17"}}17{{/contains}}`, false, `on sale 17`, nil},
		{"ifEven ifOdd", `{{#ifEven credits}}even{{/ifEven}} {{#ifOdd count}}odd{{/ifOdd}}`, false, `even odd`, nil},
		{"default", `{{default nickname "friend"}} {{default order_id "x"}}`, false, `friend A-17`, nil},
		{"strings", `{{uppercase order_id}} {{lowercase currency}} {{capitalize "ann"}} {{capitalizeAll "ann lee"}} [{{trim "  x "}}]`, false, `A-17 eur Ann Ann Lee [x]`, nil},
		{"append prepend replace", `{{append order_id "!"}} {{prepend order_id "#"}} {{replace order_id "-" "/"}}`, false, `A-17! #A-17 A/17`, nil},
		{"truncate", `{{truncate "Hello world" 5}} {{truncate "Hello world" 8 suffix="…"}} {{truncate "Hi" 5}}`, false, `Hello Hello w… Hi`, nil},
		{"math", `{{add credits 1}} {{subtract credits 50}} {{multiply count 3}} {{divide credits 4}} {{round 2.5}}`, false, `151 100 3 37.5 3`, nil},
		{"lookup", `{{lookup sizes "m"}}`, false, `medium`, nil},
		{"comments and whitespace control", "{{! a comment }}{{!-- another --}}a  {{~order_id~}}  b", false, `aA-17b`, nil},
		{"escaped mustache", `\{{order_id}} {{order_id}}`, false, `{{order_id}} A-17`, nil},
		// Missing variables: rendered blank and reported.
		{"missing", `Track: {{tracking_url}}.`, false, `Track: .`, []string{"tracking_url"}},
		{"missing once, in order", `{{b}}{{a}}{{b}}`, false, ``, []string{"b", "a"}},
		{"missing nested", `{{customer.email}} {{payload.coupon}}`, false, ` `, []string{"customer.email", "payload.coupon"}},
		{"null is missing", `[{{note}}]`, false, `[]`, []string{"note"}},
		{"empty is not missing", `[{{empty}}]`, false, `[]`, nil},
		{"missing contact field", `{{contact.phone}}`, false, ``, []string{"contact.phone"}},
		{"missing system field", `{{app.supportEmail}}`, false, ``, []string{"app.supportEmail"}},
		{"missing in a loop item", `{{#each lines}}{{sku}}{{/each}}`, false, ``, []string{"sku"}},
		{"payload key in a loop without @root", `{{#each lines}}{{order_id}}{{/each}}`, false, ``,
			[]string{"order_id (inside a block, a name is looked up in the block's item, not in the payload: write @root.order_id)"}},
		{"this.x in a loop", `{{#each lines}}{{this.currency}}{{/each}}`, false, ``,
			[]string{"this.currency (inside a block, a name is looked up in the block's item, not in the payload: write @root.currency)"}},
		{"missing @root", `{{#each lines}}{{@root.coupon}}{{/each}}`, false, ``, []string{"@root.coupon"}},
		{"missing compared", `{{#compare score ">" 1}}x{{/compare}}`, false, ``, []string{"score"}},
		{"missing in a helper", `{{uppercase nickname}}`, false, ``, []string{"nickname"}},
		{"missing in a sub-expression", `{{#if (gt score 1)}}x{{/if}}`, false, ``, []string{"score"}},
		{"missing in a taken branch only", `{{#if vip}}{{gift}}{{else}}{{coupon}}{{/if}}`, false, ``, []string{"gift"}},
		{"tested is not missing", `{{#if coupon}}{{coupon}}{{/if}}{{#each none}}{{x}}{{/each}}{{#with nobody}}{{x}}{{/with}}{{#and a b}}{{/and}}`, false, ``, nil},
	}
	e := templates.Handlebars()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, e.Check(tt.src))
			got, missing, err := e.Render(tt.src, data(), !tt.text)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.missing, names(missing))
		})
	}
}

// TestRenderErrors checks that a template that cannot render says where
// and why, at Check and at Render alike.
func TestRenderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"unclosed mustache", "Hi {{name", `line 1: unclosed expression`},
		{"unclosed block", "{{#if vip}}\nx", `line 2: `},
		{"mismatched block", "a\n{{#if vip}}x{{/each}}", `line 2: if doesn't match each`},
		{"unknown helper", `{{formatDate created "YYYY"}}`, `line 1: unknown helper "formatDate" (the helpers: if, unless, each`},
		{"unknown block helper", "\n\n{{#ifGt a 1}}x{{/ifGt}}", `line 3: unknown helper "ifGt"`},
		{"unknown helper in a sub-expression", `{{#if (isEmpty x)}}x{{/if}}`, `unknown helper "isEmpty"`},
		{"unknown helper as a hash value", `{{truncate x 3 suffix=(ellipsis)}}`, `unknown helper "ellipsis"`},
		{"partial", `{{> footer}}`, `line 1: partials ({{> name}}) are not supported`},
		{"fallback without a variable", `{{"a" | "b"}}`, `line 1: a fallback is {{variable | "literal"}}`},
		{"fallback with a sub-expression", `{{x | (uppercase y)}}`, `line 1: after '|' a fallback is`},
		{"fallback with two bars", `{{x | "a" | "b"}}`, `after '|' a fallback is`},
		{"unknown compare operator", `{{#compare credits "~" 1}}x{{/compare}}`, `line 1: compare: unknown operator "~" (want ==, ===, !=, !==, <, >, <=, >=, typeof)`},
		{"too many arguments", `{{#and a b c}}x{{/and}}`, `line 1: helper "and" takes 2 arguments, not 3`},
		{"too few arguments", `{{compare a ">"}}`, `line 1: helper "compare" takes 3 arguments, not 2`},
		{"second block parameter", `{{#each lines as |line i|}}{{i}}{{/each}}`, `a second block parameter is not supported; write @index`},
	}
	e := templates.Handlebars()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := e.Check(tt.src)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
			_, _, rerr := e.Render(tt.src, data(), true)
			require.Error(t, rerr)
			assert.Equal(t, err.Error(), rerr.Error())
		})
	}
	// Errors that only the data shows come from Render.
	for _, tt := range []struct{ name, src, want string }{
		{"compare operator from the data", `{{#compare credits op 1}}x{{/compare}}`, `compare: unknown operator "=~"`},
		{"arithmetic on text", `{{add order_id 1}}`, `arithmetic on "A-17" and "1": not numbers`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, e.Check(tt.src))
			_, _, err := e.Render(tt.src, data(), true)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "Current node")
		})
	}
}

// TestRenderConcurrent renders one template from many goroutines: each
// render reports its own missing variables.
func TestRenderConcurrent(t *testing.T) {
	t.Parallel()
	e := templates.Handlebars()
	src := `{{greeting}}, {{name}}`
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := map[string]any{"greeting": "Hi"}
			if i%2 == 0 {
				d["name"] = "Ann"
			}
			out, missing, err := e.Render(src, d, false)
			assert.NoError(t, err)
			if i%2 == 0 {
				assert.Equal(t, "Hi, Ann", out)
				assert.Empty(t, missing)
			} else {
				assert.Equal(t, "Hi, ", out)
				assert.Equal(t, []string{"name"}, names(missing))
			}
		}()
	}
	wg.Wait()
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	h := templates.Helpers()
	assert.Equal(t, []string{"if", "unless", "each", "with", "lookup", "log"}, h[:6])
	assert.Contains(t, h, "compare")
	assert.True(t, strings.Contains(strings.Join(h, ","), "truncate"))
}
