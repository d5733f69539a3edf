package sendiventtest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
)

func TestStepText(t *testing.T) {
	t.Parallel()
	for _, st := range []Step{Send(sendivent.ChannelEmail), Send(sendivent.ChannelPush), Wait(90 * time.Minute)} {
		b, err := st.MarshalText()
		require.NoError(t, err)
		var back Step
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, st, back, "%s", b)
	}
	assert.Equal(t, "wait:1h30m0s", Wait(90*time.Minute).String())
	assert.Equal(t, "sms", Send(sendivent.ChannelSMS).String())
	assert.Equal(t, "invalid step", Step{}.String())

	bad := []struct{ text, want string }{
		{"fax", `step "fax": unknown channel`},
		{"", `step "": unknown channel`},
		{"wait:soon", `step "wait:soon": time: invalid duration "soon"`},
		{"wait:-1s", `step "wait:-1s": the wait must be positive`},
		{"wait:0s", `step "wait:0s": the wait must be positive`},
	}
	for _, b := range bad {
		st := Send(sendivent.ChannelEmail)
		err := st.UnmarshalText([]byte(b.text))
		require.Error(t, err, b.text)
		assert.Contains(t, err.Error(), b.want)
		assert.Equal(t, Send(sendivent.ChannelEmail), st, "a failed parse leaves the step as it was")
	}
	_, err := Step{}.MarshalText()
	assert.EqualError(t, err, "sendiventtest: the zero Step is not a step")
	_, err = Send("fax").MarshalText()
	assert.Error(t, err)
}

func TestParseEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want EventConfig
		err  string
	}{
		{"welcome", EventConfig{Name: "welcome"}, ""},
		{" welcome = email , sms ", EventConfig{Name: "welcome", Steps: []Step{Send(sendivent.ChannelEmail), Send(sendivent.ChannelSMS)}}, ""},
		{"drip=email,wait:1h,sms", EventConfig{Name: "drip", Steps: []Step{Send(sendivent.ChannelEmail), Wait(time.Hour), Send(sendivent.ChannelSMS)}}, ""},
		{"order/shipped=push", EventConfig{Name: "order/shipped", Steps: []Step{Send(sendivent.ChannelPush)}}, ""},
		{"=email", EventConfig{}, `sendiventtest: event "=email": no name before '='`},
		{"", EventConfig{}, `sendiventtest: event "": no name before '='`},
		{"drip=email,,sms", EventConfig{}, `sendiventtest: event "drip": step "": unknown channel`},
		{"drip=", EventConfig{}, `sendiventtest: event "drip": step "": unknown channel`},
		{"drip=email,wait:1x", EventConfig{}, `sendiventtest: event "drip": step "wait:1x"`},
	}
	for _, tt := range tests {
		got, err := ParseEvent(tt.in)
		if tt.err != "" {
			require.Error(t, err, tt.in)
			assert.Contains(t, err.Error(), tt.err)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestEventConfigJSON(t *testing.T) {
	t.Parallel()
	var cfg []EventConfig
	require.NoError(t, json.Unmarshal([]byte(`[
		{"name": "welcome", "steps": ["email", "sms"]},
		{"name": "drip", "steps": ["email", "wait:1h", "sms"]},
		{"name": "any"}
	]`), &cfg))
	assert.Equal(t, []EventConfig{
		{Name: "welcome", Steps: []Step{Send(sendivent.ChannelEmail), Send(sendivent.ChannelSMS)}},
		{Name: "drip", Steps: []Step{Send(sendivent.ChannelEmail), Wait(time.Hour), Send(sendivent.ChannelSMS)}},
		{Name: "any"},
	}, cfg)
	out, err := json.Marshal(cfg[1])
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"drip","steps":["email","wait:1h0m0s","sms"]}`, string(out))

	for in, want := range map[string]string{
		`{"steps":["email"]}`:          "sendiventtest: event without a name",
		`{"name":" ","steps":[]}`:      "sendiventtest: event without a name",
		`{"name":"x","steps":["fax"]}`: `step "fax": unknown channel`,
		`{"name":"x","steps":[5]}`:     "cannot unmarshal number",
		`{"name":"x","steps":"email"}`: "cannot unmarshal string",
	} {
		var e EventConfig
		err := json.Unmarshal([]byte(in), &e)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}

	// The events it declares behave as WithEvent's.
	srv := newTestServer(t, WithEvents(cfg...), WithManualLifecycle())
	a := do(t, srv, call{path: "/v1/send/nope", body: `{"to":"a@example.com"}`})
	assert.Equal(t, http.StatusNotFound, a.status)
	send(t, srv, "any", map[string]any{"to": "+46701234567"})
	send(t, srv, "welcome", map[string]any{"to": map[string]any{"email": "a@example.com", "phone": "+46701234567"}})
	ns := srv.Notifications()
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelSMS}, ns[0].Channels)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelEmail}, ns[1].Channels)
}

func TestInvalidEventPanics(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, `sendiventtest: WithEvent("x"): step "fax": unknown channel (want one of email, sms, whatsapp, slack, telegram, discord, push, or wait:DURATION)`,
		func() { NewServer(WithEvent("x", Send("fax"))) })
	assert.PanicsWithValue(t, `sendiventtest: WithEvent("x"): the zero Step is not a step`,
		func() { NewServer(WithEvent("x", Step{})) })
	assert.PanicsWithValue(t, "sendiventtest: WithEvent: an event without a name",
		func() { NewServer(WithEvent("")) })
}
