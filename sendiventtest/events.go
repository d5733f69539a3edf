package sendiventtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sendivent/sendivent-go"
)

// defaultChannelOrder is the routing order of events that were not declared
// with steps.
var defaultChannelOrder = []sendivent.Channel{
	sendivent.ChannelEmail,
	sendivent.ChannelSMS,
	sendivent.ChannelWhatsApp,
	sendivent.ChannelSlack,
	sendivent.ChannelTelegram,
	sendivent.ChannelDiscord,
	sendivent.ChannelPush,
}

// knownChannels are the channel names the service accepts in a path.
var knownChannels = map[sendivent.Channel]bool{
	sendivent.ChannelEmail: true, sendivent.ChannelSMS: true, sendivent.ChannelSlack: true,
	sendivent.ChannelPush: true, sendivent.ChannelTelegram: true,
	sendivent.ChannelWhatsApp: true, sendivent.ChannelDiscord: true,
}

type stepKind int

const (
	stepSend stepKind = iota + 1
	stepWait
)

// Step is one step of a declared event: Send on a channel or Wait for a
// duration. Its text form, used by JSON and by ParseEvent, is the channel's
// name ("email") or "wait:" and a Go duration ("wait:1h").
type Step struct {
	kind    stepKind
	channel sendivent.Channel
	wait    time.Duration
}

// Send is a step that sends the event's message on channel ch.
func Send(ch sendivent.Channel) Step { return Step{kind: stepSend, channel: ch} }

// Wait is a step that pauses the notification (status "waiting") for d of
// the fake's time: d divided by the time scale (see WithTimeScale) in real
// time, so an hour lasts 3.6 s by default. Server.Advance skips it.
func Wait(d time.Duration) Step { return Step{kind: stepWait, wait: d} }

// String returns the step's text form: "email" or "wait:1h0m0s".
func (s Step) String() string {
	switch s.kind {
	case stepSend:
		return string(s.channel)
	case stepWait:
		return "wait:" + s.wait.String()
	}
	return "invalid step"
}

// MarshalText returns the step's text form.
func (s Step) MarshalText() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("sendiventtest: %w", err)
	}
	return []byte(s.String()), nil
}

// UnmarshalText parses a step's text form: a channel's name or
// "wait:DURATION" with a positive Go duration.
func (s *Step) UnmarshalText(b []byte) error {
	st, err := parseStep(string(b))
	if err != nil {
		return fmt.Errorf("sendiventtest: %w", err)
	}
	*s = st
	return nil
}

func parseStep(text string) (Step, error) {
	text = strings.TrimSpace(text)
	st := Send(sendivent.Channel(text))
	if d, ok := strings.CutPrefix(text, "wait:"); ok {
		w, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			return Step{}, fmt.Errorf("step %q: %w", text, err)
		}
		st = Wait(w)
	}
	return st, st.check()
}

// check reports what makes a step unusable.
func (s Step) check() error {
	switch {
	case s.kind == stepSend && !knownChannels[s.channel]:
		return fmt.Errorf("step %q: unknown channel (want one of email, sms, whatsapp, slack, telegram, discord, push, or wait:DURATION)", s.channel)
	case s.kind == stepWait && s.wait <= 0:
		return fmt.Errorf("step %q: the wait must be positive", s.String())
	case s.kind == 0:
		return errors.New("the zero Step is not a step")
	}
	return nil
}

// EventConfig declares one event, as WithEvent does, in a form that a JSON
// file or a flag can fill: {"name": "drip", "steps": ["email", "wait:1h",
// "sms"]}. An event without steps routes in the default channel order.
//
// Listeners are who a broadcast (a send without "to") of the event goes to,
// as the event listeners configured in the dashboard: each a
// sendivent.Address or a sendivent.Contact; in JSON, a string or a contact
// object, {"name": "deploy", "steps": ["slack"], "listeners": ["#ops"]}. A
// broadcast of an event without listeners answers 400, as a send without
// "to" does.
//
// Templates are the event's templates, which the fake renders (see
// Template, WithTemplateEngine, WithCatalog); an event with templates and no
// steps routes over the channels that have one.
type EventConfig struct {
	Name string `json:"name"`
	// Title is the event's display name, as the dashboard shows it ("Order
	// shipped"); the catalogue (GET /v1/events) serves it as "name".
	Title     string                `json:"title,omitempty"`
	Steps     []Step                `json:"steps,omitempty"`
	Listeners []sendivent.Recipient `json:"listeners,omitempty"`
	Templates []Template            `json:"templates,omitempty"`
}

// UnmarshalJSON decodes an event and checks it has a name; its steps check
// themselves, and each listener is read as a string (an Address) or an
// object (a Contact).
func (e *EventConfig) UnmarshalJSON(b []byte) error {
	var p struct {
		Name      string            `json:"name"`
		Title     string            `json:"title,omitempty"`
		Steps     []Step            `json:"steps,omitempty"`
		Listeners []json.RawMessage `json:"listeners,omitempty"`
		Templates []Template        `json:"templates,omitempty"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if strings.TrimSpace(p.Name) == "" {
		return errors.New("sendiventtest: event without a name")
	}
	*e = EventConfig{Name: p.Name, Title: p.Title, Steps: p.Steps, Templates: p.Templates}
	for i, raw := range p.Listeners {
		var addr string
		if json.Unmarshal(raw, &addr) == nil {
			e.Listeners = append(e.Listeners, sendivent.Address(addr))
			continue
		}
		var c sendivent.Contact
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("sendiventtest: event %q: listener %d is neither a string nor a contact object", p.Name, i)
		}
		e.Listeners = append(e.Listeners, c)
	}
	return nil
}

// ParseEvent parses the flag form of an event: "NAME" or
// "NAME=STEP,STEP,…", such as "welcome=email,sms" or "drip=email,wait:1h,sms".
func ParseEvent(s string) (EventConfig, error) {
	name, steps, hasSteps := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if name == "" {
		return EventConfig{}, fmt.Errorf("sendiventtest: event %q: no name before '='", s)
	}
	e := EventConfig{Name: name}
	if !hasSteps {
		return e, nil
	}
	for _, part := range strings.Split(steps, ",") {
		st, err := parseStep(part)
		if err != nil {
			return EventConfig{}, fmt.Errorf("sendiventtest: event %q: %w", name, err)
		}
		e.Steps = append(e.Steps, st)
	}
	return e, nil
}

// WithEvent declares an event and its steps. Once at least one event is
// declared, sends to any other event answer 404 EVENT_NOT_FOUND (and a
// server made by New reports them on the test); with none declared every
// event exists and routes in the order email, sms, whatsapp, slack,
// telegram, discord, push.
//
// An event made only of Send steps is auto-routed: its one message goes on
// the first Send channel for which the recipient has an identifier. An event
// with a Wait step is a sequence: every step runs in order, a Send step whose
// identifier the recipient lacks is skipped. Without steps the event routes
// like an undeclared one. Declaring the same name twice keeps the last steps.
func WithEvent(name string, steps ...Step) Option {
	return WithEvents(EventConfig{Name: name, Steps: steps})
}

// WithEvents declares each event as WithEvent does; it takes what a config
// file or ParseEvent gives.
func WithEvents(events ...EventConfig) Option {
	return func(c *config) {
		if c.events == nil {
			c.events, c.listeners = map[string][]Step{}, map[string][]sendivent.Recipient{}
		}
		for _, e := range events {
			steps := append([]Step(nil), e.Steps...)
			if len(steps) == 0 {
				steps = templateSteps(e.Templates)
			}
			if len(steps) == 0 {
				for _, ch := range defaultChannelOrder {
					steps = append(steps, Send(ch))
				}
			}
			c.events[e.Name] = steps
			c.listeners[e.Name] = append([]sendivent.Recipient(nil), e.Listeners...)
			c.tpl.setTemplates(e.Name, e.Title, e.Templates)
		}
	}
}

// eventSteps returns the steps of event, and whether it exists.
func (s *Server) eventSteps(event string) ([]Step, bool) {
	if len(s.events) == 0 {
		steps := make([]Step, 0, len(defaultChannelOrder))
		for _, ch := range defaultChannelOrder {
			steps = append(steps, Send(ch))
		}
		return steps, true
	}
	steps, ok := s.events[event]
	return steps, ok
}

// parseListeners parses the listeners of each event as `to` entries;
// an invalid one is an error.
func parseListeners(ls map[string][]sendivent.Recipient) (map[string][]recipient, error) {
	out := map[string][]recipient{}
	for name, rs := range ls {
		for i, r := range rs {
			raw, err := json.Marshal(r)
			if err != nil {
				return nil, fmt.Errorf("event %q: listener %d: %v", name, i, err)
			}
			rc, aerr := parseRecipient(decodeJSON(raw, true), decodeJSON(raw, false), fmt.Sprintf("listeners[%d]", i))
			if aerr != nil {
				return nil, fmt.Errorf("event %q: listener %d: %s", name, i, aerr.Error)
			}
			out[name] = append(out[name], rc)
		}
	}
	return out, nil
}
