package sendivent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sendivent/sendivent-go/internal/retry"
)

// Fuzz targets. The seeds in testdata/fuzz/<FuzzName>/ and the f.Add calls
// run with plain go test; go test -run '^$' -fuzz '^FuzzX$' . explores.

// fuzzStatus maps any int to an HTTP status from 200 to 599.
func fuzzStatus(s int) int { return 200 + int(uint(s)%400) }

const fuzzKey = "test_fuzzkey"

func fuzzClient(tb testing.TB, opts ...Option) *Client {
	tb.Helper()
	c, err := NewClient(fuzzKey, append([]Option{WithBaseURL("http://fuzz.invalid")}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// fuzzRT answers every request with one status and body, in memory.
type fuzzRT struct {
	status int
	body   []byte
}

func (rt fuzzRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: rt.status, Status: strconv.Itoa(rt.status) + " " + http.StatusText(rt.status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(rt.body)),
		ContentLength: int64(len(rt.body)), Request: r,
	}, nil
}

var errorBodySeeds = []string{
	`{"error":"Phone number must be in E.164 format","field":"to","code":"INVALID_PHONE"}`,
	`{"error":{"code":"EVENT_NOT_FOUND","message":"Event not found"}}`,
	`{"message":"Unauthorized"}`,
	`{"error":"Quota exceeded","current":"1000","limit":1000.5}`,
	`{"success":false,"errors":[{"code":"X","message":"m","field":"to"}, 3]}`,
	`{"status":"rejected","error":null,"errors":{}}`,
	`<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>`,
	`<html><title>` + strings.Repeat("é", 100) + `</title>`,
	strings.Repeat("ü", 100),
	``, `null`, `[]`, `"x"`, `{"error":`, `{"error":{"message":{"a":1}}}`,
}

// FuzzAPIErrorDecode: any error body decodes without panic into an APIError
// that keeps its status and raw body, directly and through outcome.
func FuzzAPIErrorDecode(f *testing.F) {
	for i, b := range errorBodySeeds {
		f.Add(400+i, []byte(b))
	}
	f.Add(200, []byte(`{"status":"rejected"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		st := fuzzStatus(status)
		e := &APIError{StatusCode: st}
		e.decodeBody(body)
		if e.StatusCode != st || !bytes.Equal(e.Body, body) {
			t.Fatalf("decodeBody changed the status or body: %d %q", e.StatusCode, e.Body)
		}
		_ = e.Error()
		_ = e.Temporary()
		if st >= 400 && !errors.Is(e, sentinelFor(st)) && sentinelFor(st) != nil {
			t.Fatalf("status %d does not match its sentinel", st)
		}

		if st >= 300 && st < 400 {
			st += 100 // redirects without a Location are net/http's business
		}
		c := fuzzClient(t, WithHTTPClient(&http.Client{Transport: fuzzRT{st, body}}), WithMaxRetries(0))
		_, err := c.GetNotification(context.Background(), "x")
		if st < 300 {
			return // FuzzGetNotification covers 2xx answers
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != st {
			t.Fatalf("status %d gave %T %v", st, err, err)
		}
		if strings.Contains(ae.Error(), fuzzKey) {
			t.Fatalf("the key in %q", ae.Error())
		}
	})
}

// FuzzGetNotification: any answer to GET /v1/notifications/{id}, through the
// whole request path, gives a notification or a typed error with the status.
func FuzzGetNotification(f *testing.F) {
	f.Add(200, []byte(`{"id":"n1","event":"welcome","contact":{"email":"a@example.com"},"status":"completed",`+
		`"started_at":"2024-01-01T00:00:00Z","completed_at":"2024-01-01T00:00:01Z",`+
		`"messages":[{"id":"m1","channel":"email","status":"delivered","sent_at":null,"delivered_at":"2024-01-01T00:00:01Z","error":""}]}`))
	f.Add(200, []byte(`{"id":"n1","status":"brand_new","extra":{"x":[1,2]},"messages":null}`))
	f.Add(200, []byte(`{"id":"n1","started_at":"yesterday"}`))
	f.Add(200, []byte(`{"id":"n1","completed_at":"2024-13-45T99:00:00Z"}`))
	f.Add(200, []byte(`{"messages":[{"channel":7}]}`))
	f.Add(200, []byte(`{"id":"5f0c`))
	f.Add(200, []byte(`null`))
	f.Add(200, []byte(`[]`))
	f.Add(200, []byte(``))
	f.Add(404, []byte(`{"error":"Notification not found","code":"NOT_FOUND"}`))
	f.Add(502, []byte(`<html><title>Bad Gateway</title></html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		st := fuzzStatus(status)
		if st >= 300 && st < 400 {
			st += 100 // redirects without a Location are net/http's business
		}
		c := fuzzClient(t, WithHTTPClient(&http.Client{Transport: fuzzRT{st, body}}), WithMaxRetries(0))
		n, err := c.GetNotification(context.Background(), "n1")
		var ae *APIError
		var te *TransportError
		switch {
		case err == nil:
			if st >= 300 || n == nil || !bytes.Equal(n.Raw, body) {
				t.Fatalf("status %d: accepted %+v", st, n)
			}
			_ = n.Terminal()
			_ = n.Delivered()
			_ = n.FailedMessage()
		case errors.As(err, &ae):
			if ae.StatusCode != st || st < 300 {
				t.Fatalf("status %d gave %v", st, err)
			}
		case errors.As(err, &te):
			if te.StatusCode != st || !errors.Is(err, ErrMalformed) || st >= 300 {
				t.Fatalf("status %d gave %v", st, err)
			}
		default:
			t.Fatalf("status %d: untyped error %T %v", st, err, err)
		}
	})
}

// FuzzDecodeSend: any body of a send's answer (one object, an array, a
// wrapper) decodes without panic; an error keeps the HTTP status.
func FuzzDecodeSend(f *testing.F) {
	for _, b := range []string{
		`{"id":"n1","event":"welcome","status":"accepted"}`,
		`[{"id":"n1","event":"welcome","status":"accepted"},{"id":"n2","event":"welcome","status":"accepted"}]`,
		`{"id":"n1","event":"welcome","status":"accepted","notifications":[{"id":"n1"},{"id":"n2","status":"rejected"}]}`,
		`{"success":true,"deliveries":[]}`,
		`{"success":false,"errors":[{"code":"X","message":"no"}]}`,
		`{"status":"rejected","error":"no"}`,
		`[]`, `[null, 1]`, `{"notifications":"x"}`, `{"success":"yes"}`, ` [{"id":1}]`, `null`, `"x"`, `{"id":`,
	} {
		f.Add(200, []byte(b))
	}
	f.Add(201, []byte(`{"id":"n1"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		st := 200 + int(uint(status)%100)
		c := fuzzClient(t, WithHTTPClient(&http.Client{Transport: fuzzRT{st, body}}), WithMaxRetries(0))
		res, err := c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}, IdempotencyKey: "k1"})
		var ae *APIError
		var te *TransportError
		switch {
		case err == nil:
			if res == nil || res.IdempotencyKey != "k1" || !bytes.Equal(res.Raw, body) || res.ID == "" ||
				(res.Status != SendAccepted && res.Status != "") {
				t.Fatalf("accepted %+v", res)
			}
			if len(res.Notifications) > 0 && res.ID == "" && res.Notifications[0].ID != "" {
				t.Fatalf("ID not the first notification's: %+v", res)
			}
		case errors.As(err, &ae):
			if ae.StatusCode != st || !errors.Is(err, ErrRejected) || res == nil || res.Status == SendAccepted || res.Status == "" {
				t.Fatalf("status %d: rejection %v with %+v", st, err, res)
			}
			if strings.Contains(ae.Error(), fuzzKey) {
				t.Fatalf("the key in %q", ae.Error())
			}
		case errors.As(err, &te):
			if te.StatusCode != st || !errors.Is(err, ErrMalformed) || res != nil || te.IdempotencyKey != "k1" {
				t.Fatalf("status %d: %v with %+v", st, err, res)
			}
		default:
			t.Fatalf("untyped error %T %v", err, err)
		}
	})
}

var plainSeconds = regexp.MustCompile(`^[0-9]{1,9}$`)

// FuzzParseAfter: any Retry-After value parses without panic to a duration
// that is never negative and never beyond the bound.
func FuzzParseAfter(f *testing.F) {
	for _, v := range []string{"0", "1", "120", "1.5", "-5", "garbage", "NaN", "Inf", "1e400", "1e30", ".5", "0x10",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", " 7 ", "", "99999999999999999999999"} {
		f.Add(v, int64(1_700_000_000), int64(0))
	}
	f.Add("Fri, 31 Dec 9999 23:59:59 GMT", int64(-62135596800), int64(0))
	f.Add("Mon, 01 Jan 0001 00:00:00 GMT", int64(253402300799), int64(999999999))
	const bound = 100 * 365 * 24 * time.Hour
	f.Fuzz(func(t *testing.T, v string, sec, nsec int64) {
		d, ok := retry.ParseAfter(v, time.Unix(sec, nsec))
		if d < 0 || d > bound {
			t.Fatalf("ParseAfter(%q) = %v", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseAfter(%q) = %v, false", v, d)
		}
		if s := strings.TrimSpace(v); plainSeconds.MatchString(s) {
			n, _ := strconv.Atoi(s)
			if !ok || d != time.Duration(n)*time.Second {
				t.Fatalf("ParseAfter(%q) = %v, %v", v, d, ok)
			}
		}
	})
}

// FuzzRecipient: validating any Address or Contact does not panic, a
// recipient that validates always encodes (alone and in a send body), and its
// log form does not panic.
func FuzzRecipient(f *testing.F) {
	f.Add("alice@example.com", "bob@example.com", "+46701234567", "user-1", "Bob", "U123ABC", "tok1,tok2")
	f.Add("+46701234567", "", "", "", "", "", "")
	f.Add("+0123", "", "+1", "", "", "", ",")
	f.Add("#general", "", "", "", "Only a name", "", "")
	f.Add("a\x00b", "\xff@\xfe", "+1234567890123456", "", "", "", "")
	f.Add("\u2028", "é@é", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, addr, email, phone, id, name, slack, tokens string) {
		check := func(r Recipient, label string) {
			err := checkRecipient(r, "to")
			_ = r.logValue().Resolve().String()
			if err != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) || !strings.HasPrefix(ve.Field, "to") {
					t.Fatalf("%s: %T %v", label, err, err)
				}
				return
			}
			raw, err := json.Marshal(r)
			if err != nil {
				t.Fatalf("%s %#v validated but does not encode: %v", label, r, err)
			}
			if !json.Valid(raw) {
				t.Fatalf("%s: invalid JSON %s", label, raw)
			}
			var buf bytes.Buffer
			body := sendBody{To: r, Payload: Payload{}, From: r}
			if err := json.NewEncoder(&buf).Encode(&body); err != nil {
				t.Fatalf("%s: send body does not encode: %v", label, err)
			}
			if err := json.NewEncoder(&buf).Encode(&sendBody{To: []Recipient{r, r}, Payload: Payload{}}); err != nil {
				t.Fatalf("%s: several recipients do not encode: %v", label, err)
			}
		}

		a := Address(addr)
		check(a, "Address")
		if checkRecipient(a, "to") == nil {
			if addr[0] == '+' && !isE164(addr) {
				t.Fatalf("Address %q validated but is not E.164", addr)
			}
			if utf8.ValidString(addr) {
				var back string
				raw, _ := json.Marshal(a)
				if err := json.Unmarshal(raw, &back); err != nil || back != addr {
					t.Fatalf("Address %q encodes as %s", addr, raw)
				}
			}
		}

		var toks []string
		if tokens != "" {
			toks = strings.Split(tokens, ",")
		}
		c := Contact{ID: id, Email: email, Phone: phone, Name: name, Slack: slack, PushTokens: toks,
			Meta: map[string]any{"name": name}}
		check(c, "Contact")
		check(&c, "*Contact")
		if checkRecipient(c, "to") == nil {
			if phone != "" && !isE164(phone) {
				t.Fatalf("Contact phone %q validated but is not E.164", phone)
			}
			for _, tok := range toks {
				if tok == "" {
					t.Fatalf("Contact with an empty push token validated: %q", toks)
				}
			}
		}
	})
}
