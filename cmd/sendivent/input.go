package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// What the command reads from a flag, a file or stdin may hold secrets: a
// --contact @.env by mistake, a payload with a token. Its errors say where
// the input is wrong (the flag, the file, a line and column, which pair)
// and what kind of error it is, and never quote the input itself.

// maxJSONInput caps a flag's input read from a file or standard input.
const maxJSONInput = 1 << 20

// input is what a flag gave: its value, or the content of the file it
// names after "@".
type input struct {
	flag string // "--payload-json"
	arg  string // the flag's value: the content, or "@FILE", "@-"; a file's name for readFile
	file bool   // arg names a file (readFile)
	data []byte
}

// name is how errors name the input: "--payload-json", or
// "--payload-json @FILE" when it came from a file or stdin.
func (in input) name() string {
	if in.fromFile() {
		return in.flag + " " + in.arg
	}
	return in.flag
}

func (in input) fromFile() bool { return in.file || strings.HasPrefix(in.arg, "@") }

// errorf is a usage error about the input.
func (in input) errorf(format string, args ...any) error {
	return usagef("%s: %s", in.name(), fmt.Sprintf(format, args...))
}

// stdinReader is the command's stdin, which one flag at most reads ("@-").
type stdinReader struct {
	r    io.Reader
	used string // the flag that read it
}

// readArg returns the input of flag: arg itself, or the content of the
// file it names after "@" ("@-" is stdin), up to maxJSONInput bytes. A
// file that is not there, a directory, one larger than the cap: an error
// that names it. Reading ends with ctx, as a FIFO without a writer or a
// terminal's stdin can block for ever.
func readArg(ctx context.Context, flag, arg string, stdin *stdinReader) (input, error) {
	in := input{flag: flag, arg: arg}
	name, isFile := strings.CutPrefix(arg, "@")
	if !isFile {
		in.data = []byte(arg)
		return in, nil
	}
	return readInput(ctx, in, name, stdin)
}

// readFile returns the content of file name, the value of flag (--config),
// as readArg reads "@FILE".
func readFile(ctx context.Context, flag, name string) (input, error) {
	if name == "-" {
		name = "./-" // a file named "-", as for "@./-"
	}
	return readInput(ctx, input{flag: flag, arg: name, file: true}, name, nil)
}

// readInput reads in's content from file name ("-": stdin).
func readInput(ctx context.Context, in input, name string, stdin *stdinReader) (input, error) {
	flag := in.flag
	var open func() (io.ReadCloser, error)
	switch name {
	case "":
		return in, usagef("%s @: want @FILE, or @- for stdin", flag)
	case "-":
		if stdin == nil || stdin.r == nil {
			return in, usagef("%s @-: this command reads no stdin", flag)
		}
		if stdin.used != "" {
			return in, usagef("%s @-: %s reads stdin already; give one of them a file", flag, stdin.used)
		}
		stdin.used = flag
		open = func() (io.ReadCloser, error) { return io.NopCloser(stdin.r), nil }
	default:
		open = func() (io.ReadCloser, error) { return openRegular(name) }
	}
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		f, err := open()
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxJSONInput+1))
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		switch {
		case r.err != nil:
			return in, usagef("%s: %s", in.name(), fileProblem(r.err))
		case len(r.data) > maxJSONInput:
			return in, in.errorf("larger than %d bytes", maxJSONInput)
		}
		in.data = r.data
		return in, nil
	case <-ctx.Done():
		// The goroutine stays blocked; the command is ending.
		return in, fmt.Errorf("%s: still reading when the command ended: %w", in.name(), context.Cause(ctx))
	}
}

// openRegular opens a file to read, refusing a directory. Other special
// files (a FIFO, /dev/stdin, a process substitution) are read as they come.
func openRegular(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, errors.New("is a directory, not a file")
	}
	return f, nil
}

// fileProblem says why a file could not be read, without its name (the
// caller says it) where the error is an *os.PathError.
func fileProblem(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// decodeStrict decodes in's data as one JSON value into v: unknown fields
// of a struct are errors, numbers stay json.Number, and anything after the
// value is an error. The error says where and what, not the content.
func decodeStrict(in input, v any) error {
	dec := json.NewDecoder(bytes.NewReader(in.data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return in.errorf("empty, where a JSON value belongs")
		}
		return in.errorf("%s", jsonProblem(in.data, err, v))
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		rest := in.data[end:]
		end += int64(len(rest) - len(bytes.TrimLeft(rest, " \t\r\n")))
		return in.errorf("%s: more after the JSON value ends", position(in.data, end))
	}
	return nil
}

// jsonProblem says what is wrong with data, where, as err (from decoding
// data into v) found it: the position, the kind of error, and the fields
// that v takes for an unknown one; never the data.
func jsonProblem(data []byte, err error, v any) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		// Offset counts the bytes read, the wrong one included.
		return position(data, syn.Offset-1) + ": not valid JSON: " + syntaxKind(syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return position(data, int64(len(data))) + ": not valid JSON: it ends too soon"
	case errors.As(err, &typ):
		got, _, _ := strings.Cut(typ.Value, " ") // "number 1e999": the kind only
		at := position(data, typ.Offset-1)       // a byte of the value: its end, or its bracket
		field := fieldPath(typ.Field)
		if field == "" {
			return fmt.Sprintf("%s: want a JSON %s, got %s %s", at, jsonKind(typ.Type), article(got), got)
		}
		return fmt.Sprintf("%s: field %s wants %s %s, got %s %s", at, field,
			article(jsonKind(typ.Type)), jsonKind(typ.Type), article(got), got)
	}
	if field, ok := unknownField(err); ok {
		where := "unknown field"
		if off := keyOffset(data, field); off >= 0 {
			where = position(data, off) + ": unknown field"
		}
		if names := fieldNames(v); names != "" {
			where += " (it takes " + names + ")"
		}
		return where
	}
	return "not valid JSON"
}

// position is "line L, column C" of byte offset off in data (columns count
// bytes, from 1).
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// syntaxKind is encoding/json's description of a syntax error without the
// character it quotes: "invalid character 'x' after object key" is
// "unexpected character after object key".
func syntaxKind(msg string) string {
	if msg == "exceeded max depth" { // Go 1.27 says it without a character
		return "nested too deeply"
	}
	rest, ok := strings.CutPrefix(msg, "invalid character ")
	if !ok {
		return msg // "unexpected end of JSON input" and the like hold no input
	}
	// The character is quoted as '…' (a quote itself as '\'').
	if strings.HasPrefix(rest, `'\''`) {
		rest = rest[4:]
	} else if i := strings.Index(rest[min(1, len(rest)):], "'"); i >= 0 {
		rest = rest[i+2:]
	} else {
		rest = ""
	}
	rest = strings.TrimSpace(rest)
	if rest == "exceeded max depth" {
		return "nested too deeply"
	}
	return strings.TrimSpace("unexpected character " + rest)
}

// fieldPath is encoding/json's field path without array indices, which
// Go 1.27 adds ("push_tokens.0"), so that the message is the same on every
// Go the command supports.
func fieldPath(f string) string {
	parts := strings.Split(f, ".")
	kept := parts[:0]
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}

// unknownField is the field name in encoding/json's "json: unknown field
// \"x\"" error.
func unknownField(err error) (string, bool) {
	q, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(q)
	return name, uerr == nil
}

// keyOffset is the offset of the object key name in data, -1 if it cannot
// be found as written.
func keyOffset(data []byte, name string) int64 {
	quoted, _ := json.Marshal(name)
	for from := 0; ; {
		i := bytes.Index(data[from:], quoted)
		if i < 0 {
			return -1
		}
		at := from + i
		rest := bytes.TrimLeft(data[at+len(quoted):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			return int64(at)
		}
		from = at + len(quoted)
	}
}

// fieldNames lists the JSON names of the fields of the struct v points to.
func fieldNames(v any) string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}

// jsonKind names the JSON kind that a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "value"
}

func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
