package main

import (
	"bytes"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/sendivent/sendivent-go/internal/redact"
)

// Every byte the command writes, to stdout or to stderr, goes through one
// scrubber: cobra's usage, help and errors, the SDK's debug log, results,
// and the command's own errors. It removes the API key as the SDK does
// (internal/redact: the key, any run of 8 or more of its characters, and
// their percent, hex and base64 forms). The keys are found before cobra
// parses anything (see argvKeys), so that an error about a misplaced flag,
// which may quote the key as a command name, is scrubbed too.

// scrubber holds the secrets and makes the writers that remove them.
type scrubber struct {
	mu      sync.Mutex // guards secrets and every writer's pending bytes
	secrets []string
	// short holds, for each secret shorter than redact.MinRun, the pattern
	// of it as a word of its own: removing each of its occurrences inside
	// words (a key "ab" in "about") would garble every message, and a
	// short key is no secret the rest of a word reveals.
	short map[string]*regexp.Regexp
}

// newScrubber scrubs each non-empty secret that is not public.
func newScrubber(secrets ...string) *scrubber {
	s := &scrubber{}
	for _, k := range secrets {
		s.add(k)
	}
	return s
}

// publicKeys are keys that this program's own source and help publish: no
// secret, and scrubbing them would cut "sendivent" out of every message.
var publicKeys = []string{defaultFakeKey}

func (s *scrubber) add(k string) {
	if k == "" || slices.Contains(publicKeys, k) || slices.Contains(s.secrets, k) {
		return
	}
	s.secrets = append(s.secrets, k)
	if len(k) < redact.MinRun {
		if s.short == nil {
			s.short = map[string]*regexp.Regexp{}
		}
		s.short[k] = regexp.MustCompile(`(^|[^A-Za-z0-9_.~-])` + regexp.QuoteMeta(k) + `($|[^A-Za-z0-9_.~-])`)
	}
}

// allow stops scrubbing k: "sendivent fake" prints the key its fake
// accepts, which it was given to publish.
func (s *scrubber) allow(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = slices.DeleteFunc(s.secrets, func(v string) bool { return v == k })
}

// scrub removes every secret from b.
func (s *scrubber) scrub(b []byte) []byte {
	if len(s.secrets) == 0 {
		return b
	}
	out := string(b)
	for _, k := range s.secrets {
		if re := s.short[k]; re != nil {
			// Twice: a match takes the character after it, which may
			// start the next one.
			out = re.ReplaceAllString(re.ReplaceAllString(out, "$1[redacted]$2"), "$1[redacted]$2")
			continue
		}
		out = redact.Secret(out, k)
	}
	return []byte(out)
}

// maxPending is how much of a line without an end a scrubWriter holds
// before it writes part of it. A key (at most 1024 bytes, see the SDK's
// checkKey) or one of its encoded forms split across two writes is whole
// in the pending bytes unless a single line runs longer than this.
const maxPending = 64 << 10

// scrubWriter writes to w what the scrubber lets through, a line at a time
// ("\n" or "\r" ends one), so that a key split across writes is scrubbed
// whole. Flush writes what is left.
type scrubWriter struct {
	s       *scrubber
	w       io.Writer
	pending []byte
}

func (s *scrubber) writer(w io.Writer) *scrubWriter { return &scrubWriter{s: s, w: w} }

func (sw *scrubWriter) Write(p []byte) (int, error) {
	sw.s.mu.Lock()
	defer sw.s.mu.Unlock()
	sw.pending = append(sw.pending, p...)
	end := bytes.LastIndexAny(sw.pending, "\n\r") + 1
	if end == 0 && len(sw.pending) > maxPending {
		// A long line: write it up to its last space, which no key holds.
		end = bytes.LastIndexAny(sw.pending[:len(sw.pending)-maxPending/2], " \t") + 1
		if end == 0 {
			end = len(sw.pending) - maxPending/2
		}
	}
	if end == 0 {
		return len(p), nil
	}
	err := sw.emit(end)
	return len(p), err
}

// emit scrubs and writes the first n pending bytes.
func (sw *scrubWriter) emit(n int) error {
	out := sw.s.scrub(sw.pending[:n])
	rest := copy(sw.pending, sw.pending[n:])
	sw.pending = sw.pending[:rest]
	if cap(sw.pending) > maxPending*2 {
		sw.pending = slices.Clone(sw.pending)
	}
	_, err := sw.w.Write(out)
	return err
}

// Flush writes what is pending: the end of output that did not end a line.
func (sw *scrubWriter) Flush() error {
	sw.s.mu.Lock()
	defer sw.s.mu.Unlock()
	if len(sw.pending) == 0 {
		return nil
	}
	return sw.emit(len(sw.pending))
}

// argvKeys returns the secrets that args hold: the value of every
// --api-key and --webhook-secret, wherever it stands (before or after the
// command's name, after "--"), as "--api-key KEY" or "--api-key=KEY",
// spelt with one dash or more, "_" for "-", in any case, or without the
// dash ("--apikey"): forms that are errors still show in their error
// messages; and every argument that is a signing secret (whsec_…), given
// without its flag. It looks before cobra parses anything, as a secret
// may be in the message that says the command line is wrong.
func argvKeys(args []string) []string {
	var keys []string
	for i, a := range args {
		if strings.HasPrefix(a, "whsec_") {
			keys = append(keys, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if len(a) == len(strings.TrimLeft(a, "-")) || !isKeyFlagName(name) {
			continue
		}
		switch {
		case hasValue:
			keys = append(keys, value)
		case i+1 < len(args):
			keys = append(keys, args[i+1])
		}
	}
	return keys
}

func isKeyFlagName(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	return n == "api-key" || n == "apikey" || n == "webhook-secret" || n == "webhooksecret"
}
