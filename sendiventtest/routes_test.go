package sendiventtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRouter(t *testing.T) {
	t.Parallel()
	var rt router[string]
	rt.add("GET", "/v1/things/{id}", "get thing")
	rt.add("DELETE", "/v1/things/{id}", "delete thing")
	rt.add("GET", "/v1/things/count", "count")
	rt.add("POST", "/v1/things/{id}/{action}", "act")
	rt.add("POST", "/v1/things/{id}/archive", "archive")
	assert.PanicsWithValue(t, "sendiventtest: route GET /v1/things/{id} registered twice",
		func() { rt.add("GET", "/v1/things/{id}", "again") })

	tests := []struct {
		method, path string
		want         string
		p            params
		allow        []string
	}{
		{"GET", "/v1/things/42", "get thing", params{"id": "42"}, nil},
		{"DELETE", "/v1/things/42", "delete thing", params{"id": "42"}, nil},
		{"GET", "/v1/things/count", "count", nil, nil},
		{"DELETE", "/v1/things/count", "delete thing", params{"id": "count"}, nil}, // the literal takes only GET
		{"PUT", "/v1/things/count", "", nil, []string{"DELETE", "GET"}},
		{"PUT", "/v1/things/42", "", nil, []string{"DELETE", "GET"}},
		{"GET", "/v1/things/a%2Fb", "get thing", params{"id": "a/b"}, nil},
		{"POST", "/v1/things/7/archive", "archive", params{"id": "7"}, nil},
		{"POST", "/v1/things/7/restore", "act", params{"id": "7", "action": "restore"}, nil},
		{"GET", "/v1/things/", "", nil, nil},      // an empty segment matches nothing
		{"GET", "/v1/things//x", "", nil, nil},    // nor inside
		{"GET", "/v1/things/%zz", "", nil, nil},   // badly escaped
		{"GET", "v1/things/1", "", nil, nil},      // not absolute
		{"GET", "/v1/things/1/2/3", "", nil, nil}, // too long
	}
	for _, tt := range tests {
		h, p, allow, found := rt.find(tt.method, tt.path)
		assert.Equal(t, tt.want != "", found, "%s %s", tt.method, tt.path)
		assert.Equal(t, tt.want, h, "%s %s", tt.method, tt.path)
		assert.Equal(t, tt.p, p, "%s %s", tt.method, tt.path)
		assert.Equal(t, tt.allow, allow, "%s %s", tt.method, tt.path)
	}
}

func TestEveryEndpointIsRouted(t *testing.T) {
	t.Parallel()
	for _, e := range []Endpoint{EndpointSend, EndpointNotification, EndpointCancel,
		EndpointContacts, EndpointEvents, EndpointDeliveries, EndpointIntegrations} {
		assert.True(t, knownEndpoint(e), e)
	}
	assert.True(t, knownEndpoint(EndpointAll))
	assert.False(t, knownEndpoint("nope"))
}
