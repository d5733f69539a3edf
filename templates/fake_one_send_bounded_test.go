package templates_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

// TestFakeIsNotHeldByOneSend: a fake on a port whose event loops over its
// payload (nested, as a digest does) gets a send with a 100,000-item
// array: the send is answered and recorded with a template error, and
// the fake goes on serving. (It rendered 10^10 items under its lock:
// hours, with every other request waiting.)
func TestFakeIsNotHeldByOneSend(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(
		sendiventtest.WithAddr("127.0.0.1:0"),
		sendiventtest.WithTemplateEngine(templates.Handlebars()),
		sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "digest", Templates: []sendiventtest.Template{{
			Channel: "email", Subject: "Digest",
			HTML: "{{#each items}}{{#each @root.items}}{{/each}}{{/each}}",
		}}}),
	)
	defer srv.Close()
	items := make([]any, 100_000)
	for i := range items {
		items[i] = 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hours before
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := srv.Client().Event("digest").To(sendivent.Address("ann@example.com")).
			Payload(sendivent.Payload{"items": items}).Send(ctx)
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatalf("the send: %v", err)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Get(srv.URL + "/_fake/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	probs := srv.TemplateProblems()
	if len(probs) != 1 || !strings.Contains(probs[0].Err, "loops ran more than 10000 times") {
		t.Errorf("problems %+v", probs)
	}
}
