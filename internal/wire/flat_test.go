package wire

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

var flatKeys = []string{"id", "event", "status"}

type flatWant struct {
	ID     string `json:"id"`
	Event  string `json:"event"`
	Status string `json:"status"`
}

func decodeFlat(body []byte) (flatWant, bool) {
	var v [3][]byte
	ok := DecodeFlat(body, flatKeys, v[:])
	return flatWant{string(v[0]), string(v[1]), string(v[2])}, ok
}

func TestDecodeFlat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		ok   bool
		want flatWant
	}{
		{"seed answer", `{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`, true,
			flatWant{"550e8400-e29b-41d4-a716-446655440000", "welcome", "accepted"}},
		{"white space everywhere", " \n{ \"id\" :\t\"n1\" ,\r\n\"status\": \"queued\" } \n", true, flatWant{ID: "n1", Status: "queued"}},
		{"empty object", `{}`, true, flatWant{}},
		{"empty object with space", ` { } `, true, flatWant{}},
		{"empty string value", `{"id":""}`, true, flatWant{}},
		{"later duplicate wins", `{"id":"a","id":"b"}`, true, flatWant{ID: "b"}},
		{"unknown key", `{"id":"a","extra":"b"}`, false, flatWant{}},
		{"key in other case", `{"ID":"a"}`, false, flatWant{}},
		{"null value", `{"id":null}`, false, flatWant{}},
		{"number value", `{"id":1}`, false, flatWant{}},
		{"nested value", `{"id":{"a":"b"}}`, false, flatWant{}},
		{"escape in value", `{"id":"a\"b"}`, false, flatWant{}},
		{"escape in key", `{"i\u0064":"a"}`, false, flatWant{}},
		{"non-ASCII value", `{"event":"välkommen"}`, false, flatWant{}},
		{"control byte", "{\"id\":\"a\x01\"}", false, flatWant{}},
		{"DEL byte", "{\"id\":\"a\x7f\"}", false, flatWant{}},
		{"trailing data", `{"id":"a"} x`, false, flatWant{}},
		{"two objects", `{"id":"a"}{"id":"b"}`, false, flatWant{}},
		{"trailing comma", `{"id":"a",}`, false, flatWant{}},
		{"missing colon", `{"id" "a"}`, false, flatWant{}},
		{"missing comma", `{"id":"a" "event":"b"}`, false, flatWant{}},
		{"cut short in value", `{"id":"a`, false, flatWant{}},
		{"cut short after value", `{"id":"a"`, false, flatWant{}},
		{"cut short after brace", `{`, false, flatWant{}},
		{"array", `[{"id":"a"}]`, false, flatWant{}},
		{"empty", ``, false, flatWant{}},
		{"string", `"id"`, false, flatWant{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := decodeFlat([]byte(tt.body))
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
			if ok {
				var std flatWant
				assert.NoError(t, json.Unmarshal([]byte(tt.body), &std))
				assert.Equal(t, std, got, "encoding/json decodes it the same")
			}
		})
	}
}

func TestDecodeFlatLeavesValsOnFailure(t *testing.T) {
	t.Parallel()
	v := [][]byte{[]byte("kept"), nil, nil}
	ok := DecodeFlat([]byte(`{"id":"new","x":1}`), flatKeys, v)
	assert.False(t, ok)
	assert.Equal(t, "kept", string(v[0]))
}

func TestDecodeFlatBadArguments(t *testing.T) {
	t.Parallel()
	assert.False(t, DecodeFlat([]byte(`{}`), flatKeys, make([][]byte, 1)), "vals shorter than keys")
	assert.False(t, DecodeFlat([]byte(`{}`), make([]string, 9), make([][]byte, 9)), "more keys than it handles")
}

func TestDecodeFlatDoesNotAllocate(t *testing.T) {
	body := []byte(`{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`)
	var v [3][]byte
	allocs := testing.AllocsPerRun(100, func() { DecodeFlat(body, flatKeys, v[:]) })
	assert.Zero(t, allocs)
	assert.Equal(t, "accepted", string(v[2]))
}

// FuzzDecodeFlat: whatever the fast path accepts, encoding/json accepts and
// decodes to the same values.
func FuzzDecodeFlat(f *testing.F) {
	for _, s := range []string{
		`{"id":"n1","event":"welcome","status":"accepted"}`, `{}`, ` {"id" : "a" , "id":"b"} `,
		`{"ID":"a"}`, `{"id":"a\u0041"}`, `{"id":1}`, `{"id":"a"} `, `{"id":"a"}}`, "{\"id\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := decodeFlat(body)
		if !ok {
			if got != (flatWant{}) {
				t.Fatalf("refused but wrote %+v", got)
			}
			return
		}
		var std flatWant
		if err := json.Unmarshal(body, &std); err != nil {
			t.Fatalf("fast path took %q, encoding/json refuses it: %v", body, err)
		}
		if std != got {
			t.Fatalf("%q: fast %+v, encoding/json %+v", body, got, std)
		}
	})
}
