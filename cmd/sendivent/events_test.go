package main

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestTemplatesOf reads the API's templates in the forms they may take,
// and keeps what it does not understand.
func TestTemplatesOf(t *testing.T) {
	t.Parallel()
	type T = sendiventtest.Template
	tests := []struct {
		name, raw string
		want      []T
		notes     map[string]string
	}{
		{"null", `null`, nil, map[string]string{}},
		{"list, as the fake serves it", `[{"channel":"email","language":"sv","subject":"S","html":"H","text":"X"},{"channel":"sms","text":"T"}]`,
			[]T{{Channel: "email", Language: "sv", Subject: "S", HTML: "H", Text: "X"}, {Channel: "sms", Text: "T"}}, map[string]string{}},
		{"other field names", `[{"type":"email","locale":"de","subject":"S","body_html":"H","body_text":"X"},{"channel":"push","title":"A","message":"B"},{"channel":"slack","content":"C","lang":null}]`,
			[]T{{Channel: "email", Language: "de", Subject: "S", HTML: "H", Text: "X"}, {Channel: "push", Title: "A", Body: "B"}, {Channel: "slack", Text: "C"}}, map[string]string{}},
		{"unknown fields are kept", `[{"channel":"email","subject":"S","amp":"<amp/>","id":7,"meta":{"a":1},"updated_at":null}]`,
			[]T{{Channel: "email", Subject: "S", Extra: map[string]string{"x-amp": "<amp/>", "x-id": "7", "x-meta": `{"a":1}`}}}, map[string]string{}},
		{"by channel", `{"email":{"subject":"S"},"sms":{"text":"T"}}`,
			[]T{{Channel: "email", Subject: "S"}, {Channel: "sms", Text: "T"}}, map[string]string{}},
		{"by channel and language", `{"email":{"en":{"subject":"E"},"sv":{"subject":"S"}}}`,
			[]T{{Channel: "email", Language: "en", Subject: "E"}, {Channel: "email", Language: "sv", Subject: "S"}}, map[string]string{}},
		{"by channel, lists", `{"sms":[{"language":"en","text":"E"}]}`,
			[]T{{Channel: "sms", Language: "en", Text: "E"}}, map[string]string{}},
		{"unknown channel and shapes", `[{"channel":"fax","text":"F"},"odd"]`,
			nil, map[string]string{"x-template-1": `{"channel":"fax","text":"F"}`, "x-template-2": `"odd"`}},
		{"unknown channel by name", `{"fax":{"text":"F"},"sms":7}`,
			nil, map[string]string{"x-templates-fax": `{"text":"F"}`, "x-templates-sms": `7`}},
		{"not understood at all", `"templates are elsewhere"`, nil, map[string]string{"x-templates": `"templates are elsewhere"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, notes := templatesOf(json.RawMessage(tt.raw))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("templates\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(notes, tt.notes) {
				t.Errorf("notes %v, want %v", notes, tt.notes)
			}
		})
	}
}

func TestCatalogFileOf(t *testing.T) {
	t.Parallel()
	f := catalogFileOf(&sendivent.EventInfo{Identifier: "order-shipped", Name: "Order\n shipped", Channels: []sendivent.Channel{"email", "carrier-pigeon"},
		Templates: json.RawMessage(`[{"channel":"email","subject":"S"}]`)})
	want := sendiventtest.CatalogFile{
		EventConfig: sendiventtest.EventConfig{Name: "order-shipped", Title: "Order shipped",
			Steps: []sendiventtest.Step{sendiventtest.Send("email")}, Templates: []sendiventtest.Template{{Channel: "email", Subject: "S"}}},
		Notes: map[string]string{"x-channels": "carrier-pigeon"},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got %+v\nwant %+v", f, want)
	}
}
