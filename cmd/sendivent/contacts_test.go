package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go"
)

// The flags of contacts upsert and update make the contact the SDK sends.
func TestContactFlags(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "ada.json")
	if err := os.WriteFile(file, []byte(`{"email":"ada@example.com","meta":{"seats":3}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    sendivent.Contact
		wantErr string
	}{
		{name: "none", args: nil, want: sendivent.Contact{}},
		{name: "every field", args: []string{
			"--id", "u1", "--email", "a@example.com", "--phone", "+46701234567", "--name", "Ada L",
			"--avatar", "https://example.com/a.png", "--username", "ada", "--slack", "U1", "--telegram", "7",
			"--discord", "9", "--push", "t1", "--push", "t2", "--language", "sv",
		}, want: sendivent.Contact{
			ID: "u1", Email: "a@example.com", Phone: "+46701234567", Name: "Ada L",
			Avatar: "https://example.com/a.png", Username: "ada", Slack: "U1", Telegram: "7",
			Discord: "9", PushTokens: []string{"t1", "t2"}, Language: "sv",
		}},
		{name: "contact pairs and flags", args: []string{"--contact", "email=a@example.com,push=t1", "--name", "Ada", "--push", "t2"},
			want: sendivent.Contact{Email: "a@example.com", Name: "Ada", PushTokens: []string{"t1", "t2"}}},
		{name: "contact JSON and meta", args: []string{"--contact", `{"email":"a@example.com","meta":{"n":1}}`, "--meta", "plan=pro", "--meta", "x=a=b"},
			want: sendivent.Contact{Email: "a@example.com", Meta: map[string]any{"n": json.Number("1"), "plan": "pro", "x": "a=b"}}},
		{name: "contact file", args: []string{"--contact", "@" + file},
			want: sendivent.Contact{Email: "ada@example.com", Meta: map[string]any{"seats": json.Number("3")}}},
		{name: "contact stdin", args: []string{"--contact", "@-"}, stdin: `{"phone":"+46701234567"}`,
			want: sendivent.Contact{Phone: "+46701234567"}},
		{name: "extra", args: []string{"--email", "a@example.com", "--extra-json", `{"account_credits":100,"tags":["a"]}`},
			want: sendivent.Contact{Email: "a@example.com", Extra: map[string]any{"account_credits": json.Number("100"), "tags": []any{"a"}}}},
		{name: "meta only", args: []string{"--meta", "a=1"}, want: sendivent.Contact{Meta: map[string]any{"a": "1"}}},

		{name: "flag twice", args: []string{"--name", "A", "--name", "B"}, wantErr: "--name given twice"},
		{name: "flag and contact", args: []string{"--contact", `{"name":"A"}`, "--name", "B"}, wantErr: "--name: --contact gives name already"},
		{name: "empty flag", args: []string{"--phone="}, wantErr: "--phone has no value"},
		{name: "contact address", args: []string{"--contact", "a@example.com"}, wantErr: "--contact: neither key=value contact fields"},
		{name: "contact unknown key", args: []string{"--contact", "email=a@example.com,nmae=A"}, wantErr: `--contact: pair 2: unknown contact key (contact keys: id, email,`},
		{name: "contact bad JSON", args: []string{"--contact", `{"email":1}`}, wantErr: "--contact: line 1, column 10: field email wants a string, got a number"},
		{name: "contact empty stdin", args: []string{"--contact", "@-"}, wantErr: "--contact @-: neither key=value contact fields"},
		{name: "meta bad", args: []string{"--meta", "novalue"}, wantErr: `--meta value 1: want key=value`},
		{name: "meta twice", args: []string{"--meta", "a=1", "--meta", "a=2"}, wantErr: `--meta: values 1 and 2 set the same key`},
		{name: "meta in contact", args: []string{"--contact", `{"meta":{"a":1}}`, "--meta", "b=1", "--meta", "a=2"}, wantErr: `--meta value 2: its key is in the meta of --contact too`},
		{name: "extra null", args: []string{"--extra-json", "null"}, wantErr: "--extra-json: want a JSON object, got null"},
		{name: "extra two values", args: []string{"--extra-json", "{}{}"}, wantErr: "--extra-json: line 1, column 3: more after the JSON value ends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _ := parseContactFlags(t, tt.args...)
			got, err := f.build(context.Background(), &stdinReader{r: strings.NewReader(tt.stdin)})
			checkUsageErr(t, err, tt.wantErr)
			if tt.wantErr == "" && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// parseContactFlags parses args as the contact flags of upsert and update.
func parseContactFlags(t *testing.T, args ...string) (*contactFlags, *cobra.Command) {
	t.Helper()
	f := &contactFlags{}
	cmd := &cobra.Command{Use: "x"}
	f.add(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return f, cmd
}

// Every contact field is a flag of upsert and a key of the key=value form,
// and both set the same field.
func TestContactFieldsFlagsAndPairsAgree(t *testing.T) {
	t.Parallel()
	for _, cf := range contactFieldList {
		t.Run(cf.key, func(t *testing.T) {
			t.Parallel()
			f, cmd := parseContactFlags(t, "--"+cf.key, "v1")
			byFlag, err := f.build(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			byPair, err := parseRecipient(cf.key + "=v1")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(byFlag, byPair) || reflect.DeepEqual(byFlag, sendivent.Contact{}) {
				t.Errorf("--%s gives %#v, %s=v1 gives %#v", cf.key, byFlag, cf.key, byPair)
			}
			if !strings.Contains(cmd.Flags().Lookup(cf.key).Usage, "`") {
				t.Errorf("--%s: usage names no value: %q", cf.key, cf.usage)
			}
		})
	}
}

func TestContactOutput(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
	full := &sendivent.StoredContact{
		UUID: "c-1", ExternalID: "user-42", Email: "ada@example.com", Name: "Ada\x1b[31m\tLovelace",
		Language: "sv", PushTokens: []string{"t1"}, Meta: map[string]any{"plan": "<pro>"}, CreatedAt: created,
	}
	bare := &sendivent.StoredContact{UUID: "c-2", Phone: "+46701234567"}
	tests := []struct {
		name      string
		tty, json bool
		print     func(a *app)
		want      string
	}{
		{name: "get", print: func(a *app) { a.printContact(full) }, want: "" +
			"uuid        c-1\n" +
			"id          user-42\n" +
			"email       ada@example.com\n" +
			"name        Ada [31m Lovelace\n" +
			"language    sv\n" +
			"push token  t1\n" +
			`meta        {"plan":"<pro>"}` + "\n" +
			"created     2026-03-30T12:00:00Z\n"},
		// No timestamp, no meta, no tokens: left out rather than zero or null.
		{name: "get json", json: true, print: func(a *app) { a.printContact(bare) },
			want: `{"uuid":"c-2","phone":"+46701234567"}` + "\n"},
		{name: "list piped", print: listOf(full, bare), want: "" +
			"c-1\tuser-42\tada@example.com\t\tAda [31m Lovelace\tsv\n" +
			"c-2\t\t\t+46701234567\t\t\n"},
		{name: "list tty", tty: true, print: listOf(full, bare), want: "" +
			"UUID  ID       EMAIL            PHONE         NAME               LANGUAGE\n" +
			"c-1   user-42  ada@example.com  -             Ada [31m Lovelace  sv\n" +
			"c-2   -        -                +46701234567  -                  -\n" +
			"contacts 1–2 of 2\n"},
		{name: "list json", json: true, tty: true, print: listOf(bare, bare), want: "" +
			`{"uuid":"c-2","phone":"+46701234567"}` + "\n" + `{"uuid":"c-2","phone":"+46701234567"}` + "\n"},
		{name: "list tty empty", tty: true, print: listOf(), want: "no contacts\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := printed(tt.tty, tt.json, tt.print); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// listOf prints cs as one page of a listing that has them all.
func listOf(cs ...*sendivent.StoredContact) func(a *app) {
	return func(a *app) {
		page := &sendivent.Page[sendivent.StoredContact]{Total: len(cs), HasTotal: true}
		l := a.newContactLister(0)
		for _, c := range cs {
			page.Items = append(page.Items, *c)
			l.add(c)
		}
		l.end(pageFooter(page, listFlags{}))
	}
}

func TestListFooters(t *testing.T) {
	t.Parallel()
	page := func(offset, n, total int, hasTotal bool) *sendivent.Page[sendivent.StoredContact] {
		return &sendivent.Page[sendivent.StoredContact]{
			Items: make([]sendivent.StoredContact, n), Offset: offset, Total: total, HasTotal: hasTotal,
		}
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"all on one page", pageFooter(page(0, 3, 3, true), listFlags{}), "contacts 1–3 of 3"},
		{"more", pageFooter(page(50, 50, 142, true), listFlags{offset: 50}), "contacts 51–100 of 142; --all lists every one, --offset 100 the next page"},
		{"no total", pageFooter(page(0, 50, 0, false), listFlags{}), "contacts 1–50"},
		{"none", pageFooter(page(0, 0, 0, true), listFlags{}), "no contacts"},
		{"none found", pageFooter(page(0, 0, 0, true), listFlags{search: "zed"}), `no contacts match "zed"`},
		{"past the end", pageFooter(page(10, 0, 3, true), listFlags{offset: 10}), "no contacts after the first 10 (of 3)"},
		{"count one", countFooter(1, "ada"), `1 contact matches "ada"`},
		{"count many", countFooter(142, ""), "142 contacts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// On a terminal, a long --all listing is aligned and flushed a page at a
// time: the first rows show before the listing ends.
func TestContactListerFlushesEachChunk(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	a := &app{stdout: &buf, stdoutTTY: true}
	l := a.newContactLister(2)
	c := &sendivent.StoredContact{UUID: "c"}
	for range 3 {
		l.add(c)
	}
	if got := strings.Count(buf.String(), "\n"); got != 3 { // header and one page
		t.Fatalf("after 3 rows of pages of 2, %d lines shown: %q", got, buf.String())
	}
	l.end("")
	if got := strings.Count(buf.String(), "\n"); got != 4 {
		t.Fatalf("after end, %d lines: %q", got, buf.String())
	}
}
