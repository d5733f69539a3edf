package templates_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

// outline writes fields as "name:kind[uses]{children}" for comparison.
func outline(fs []*templates.Field) string {
	var parts []string
	for _, f := range fs {
		s := fmt.Sprintf("%s:%d", f.Name, f.Kind)
		if len(f.Fields) > 0 {
			s += "{" + outline(f.Fields) + "}"
		}
		if f.Item != nil {
			s += "[" + fmt.Sprintf("%d", f.Item.Kind)
			if len(f.Item.Fields) > 0 {
				s += "{" + outline(f.Item.Fields) + "}"
			}
			s += "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestPayloadFields(t *testing.T) {
	t.Parallel()
	const (
		b = templates.KindBool
		x = templates.KindText
		n = templates.KindNumber
		o = templates.KindObject
		l = templates.KindList
	)
	tests := []struct {
		name, src, want string
	}{
		{"root and payload. are one", `{{order_id}} {{payload.order_id}}`, fmt.Sprintf("order_id:%d", x)},
		{"system and contact are not fields", `{{contact.name}} {{app.name}} {{sender.email}} {{platform.name}} {{cdn}} {{contact.meta.plan}}`, ""},
		{"dotted is nested", `{{customer.address.city}} {{customer.name}}`,
			fmt.Sprintf("customer:%d{address:%d{city:%d} name:%d}", o, o, x, x)},
		{"each of objects", `{{#each lines}}{{qty}} {{name}} {{@root.currency}} {{../order_id}}{{/each}}`,
			fmt.Sprintf("currency:%d lines:%d[%d{name:%d qty:%d}] order_id:%d", x, l, o, x, x, x)},
		{"each of values", `{{#each tags}}{{this}}{{/each}}`, fmt.Sprintf("tags:%d[%d]", l, x)},
		{"each with a block param", `{{#each lines as |line|}}{{line.sku}}{{/each}}`, fmt.Sprintf("lines:%d[%d{sku:%d}]", l, o, x)},
		{"nested each", `{{#each orders}}{{#each lines}}{{sku}}{{/each}}{{/each}}`,
			fmt.Sprintf("orders:%d[%d{lines:%d[%d{sku:%d}]}]", l, o, l, o, x)},
		{"with", `{{#with customer}}{{name}}{{/with}}`, fmt.Sprintf("customer:%d{name:%d}", o, x)},
		{"if only is a condition", `{{#if vip}}x{{/if}}{{#unless gift}}y{{/unless}}`, fmt.Sprintf("gift:%d vip:%d", b, b)},
		{"if then shown is text", `{{#if coupon}}{{coupon}}{{/if}}`, fmt.Sprintf("coupon:%d", x)},
		{"if then each is a list", `{{#if lines}}{{#each lines}}{{sku}}{{/each}}{{/if}}`, fmt.Sprintf("lines:%d[%d{sku:%d}]", l, o, x)},
		{"compared with a number", `{{#compare credits ">" 100}}x{{/compare}} {{gt score 1}}`, fmt.Sprintf("credits:%d score:%d", n, n)},
		{"compared with a string", `{{#compare plan "==" "pro"}}x{{/compare}}`, fmt.Sprintf("plan:%d", x)},
		{"shown and compared is a number", `{{credits}} {{#compare credits ">" 100}}x{{/compare}}`, fmt.Sprintf("credits:%d", n)},
		{"arithmetic", `{{add price tax}}`, fmt.Sprintf("price:%d tax:%d", n, n)},
		{"section of fields", `{{#customer}}{{name}}{{/customer}}`, fmt.Sprintf("customer:%d{name:%d}", o, x)},
		{"fallback", `{{nickname | "friend"}} {{contact.name | greeting}}`, fmt.Sprintf("greeting:%d nickname:%d", x, x)},
		{"data variables are not fields", `{{#each lines}}{{@index}}{{@key}}{{/each}}`, fmt.Sprintf("lines:%d[%d]", l, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, err := templates.PayloadFields(sendiventtest.EventConfig{Name: "e", Templates: []sendiventtest.Template{
				{Channel: sendivent.ChannelEmail, HTML: tt.src},
			}})
			require.NoError(t, err)
			assert.Equal(t, tt.want, outline(fs))
		})
	}
}

// TestPayloadFieldsAcrossTemplates merges every channel and language, and
// records where each field is used.
func TestPayloadFieldsAcrossTemplates(t *testing.T) {
	t.Parallel()
	fs, err := templates.PayloadFields(sendiventtest.EventConfig{Name: "order-shipped", Templates: []sendiventtest.Template{
		{Channel: sendivent.ChannelEmail, Subject: "Order {{order_id}}", HTML: "{{#each lines}}{{sku}}{{/each}}"},
		{Channel: sendivent.ChannelEmail, Language: "sv", Subject: "Order {{order_id}} {{eta}}"},
		{Channel: sendivent.ChannelSMS, Text: "{{order_id}}: {{tracking_url}}"},
		{Channel: sendivent.ChannelPush, Title: "{{order_id}}", Body: "{{#each lines}}{{qty}}{{/each}}"},
	}})
	require.NoError(t, err)
	require.Len(t, fs, 4)
	assert.Equal(t, []string{"email subject (sv)"}, fs[0].Uses) // eta
	assert.Equal(t, "lines", fs[1].Name)
	assert.Equal(t, []string{"email html", "push body"}, fs[1].Uses)
	assert.Equal(t, "qty sku", fs[1].Item.Fields[0].Name+" "+fs[1].Item.Fields[1].Name)
	assert.Equal(t, []string{"email subject", "email subject (sv)", "push title", "sms text"}, fs[2].Uses) // order_id
	assert.Equal(t, []string{"sms text"}, fs[3].Uses)
}

func TestPayloadFieldsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"text and object", `{{customer}} {{customer.name}}`, `variable "customer" is used as text and as an object`},
		{"object and list", `{{customer.name}} {{#each customer}}x{{/each}}`, `variable "customer" is used as an object and as a list`},
		{"malformed", `{{#if x}}`, `event "e", email html: line 1:`},
		{"unknown helper", `{{money price}}`, `unknown helper "money"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := templates.PayloadFields(sendiventtest.EventConfig{Name: "e", Templates: []sendiventtest.Template{
				{Channel: sendivent.ChannelEmail, HTML: tt.src},
			}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
