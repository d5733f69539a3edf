// Package sendiventotel sends the traces and metrics of a sendivent.Client
// to OpenTelemetry, named by the semantic conventions for HTTP clients,
// and those of a webhook.Handler (see Webhooks below).
//
//	client, err := sendivent.NewClient(key, sendiventotel.Observe())
//
// uses the global tracer and meter providers and propagator (otel.SetTracerProvider
// and the like); WithTracerProvider, WithMeterProvider and WithPropagators
// give others.
//
// # Spans
//
// Each call is an INTERNAL span named "sendivent " and the operation
// ("sendivent send", "sendivent contacts.get"), with attributes
// sendivent.operation, sendivent.event and sendivent.channel (a send's),
// sendivent.notification.id and sendivent.notification.status (as the
// service answered), sendivent.attempt_count, and error.type when it
// failed. Each HTTP attempt is a CLIENT span under it, named
// "{method} {url.template}" ("POST /v1/send/{event}"), with
// http.request.method, url.template, url.full (its identifiers redacted:
// "https://api.sendivent.com/v1/contacts/REDACTED"), server.address,
// server.port, http.response.status_code, http.request.resend_count from
// the second attempt on, error.type on failure, and the retry policy's
// decision: sendivent.retry.reason and sendivent.retry.wait (seconds). The
// attempt's request carries its trace context through the propagator, so
// the service's own spans join the trace. Wait and Watch are spans whose
// polls (each a get_notification span) are their children, and each poll
// an event; SendBatch is a span over its sends. A rate-limiter wait of a
// millisecond or more is an event on its operation's span.
//
// A span's status is Error when its call or attempt failed (a 4xx or 5xx
// answer included); its description is the error's class, never its
// message. The classes (error.type) are those of sendivent.Observer:
// the HTTP status ("503"), "rejected", "malformed", "too_large",
// "timeout", "canceled", "rate_limiter", "connection", "tls",
// "validation", "_OTHER".
//
// # Metrics
//
//   - http.client.request.duration (s, the conventions' advised buckets):
//     each attempt, by http.request.method, url.template, server.address,
//     server.port, http.response.status_code and error.type;
//   - sendivent.client.operation.duration (s): each call, by
//     sendivent.operation and error.type;
//   - sendivent.client.operation.attempts ({attempt}): the attempts of
//     each call that makes HTTP requests, by the same;
//   - sendivent.client.rate_limiter.wait_time (s): each wait for the rate
//     limiter, by sendivent.operation;
//   - sendivent.client.wait.polls ({poll}): the polls of each Wait and
//     Watch, by sendivent.operation and error.type.
//
// # Webhooks
//
//	http.Handle("/webhooks/sendivent", webhook.Handler(secret, fn, sendiventotel.ObserveWebhooks()))
//
// Each delivery is an INTERNAL span named "sendivent webhook" and the
// event's type ("sendivent webhook delivery.bounced"; "sendivent webhook"
// alone for a refused request, whose type is not to be trusted), and the
// handler's function runs under it: its ctx carries the span. A verified
// delivery has sendivent.webhook.event_type, sendivent.event,
// sendivent.channel and sendivent.delivery.id (the delivery's UUID); every
// one has sendivent.webhook.outcome ("handled", "duplicate",
// "in_progress", "refused", "failed"), http.response.status_code, and
// error.type when refused or failed, the span's status then Error with the
// class as its description: "no_valid_signature",
// "timestamp_out_of_range", "callback_error", "dedupe_store"… (those of
// webhook.Observer). sendivent.webhook.dedupe_error says when the Deduper
// failed after the function ran ("not_recorded": a later delivery of the
// event would run it again).
//
// The span is INTERNAL, not SERVER: the HTTP request belongs to the
// application's server, whose own instrumentation (otelhttp.NewHandler
// around the mux) makes the SERVER span, named by the route the handler is
// mounted on. A second SERVER span would count the request twice, and the
// HTTP server conventions' url.path would export the endpoint's path,
// which often holds a token. Under otelhttp the delivery's span is a child
// of its SERVER span; without it, of the trace context the propagator
// finds in the request's header (the service sends none; a proxy may), or
// the root of a trace. To start a new trace at a public endpoint instead,
// as any peer can send a traceparent, wrap the handler in
// otelhttp.NewHandler with otelhttp.WithPublicEndpoint.
//
// Metrics: sendivent.webhook.deliveries ({delivery}, a counter) and
// sendivent.webhook.delivery.duration (s, from the request's arrival to
// the answer), by sendivent.webhook.outcome, sendivent.webhook.event_type
// (of a verified delivery) and error.type.
//
// # Personal data
//
// None is exported: the SDK hands its observers no address, phone number,
// push token, contact identifier, payload, key, secret or error message,
// nor a webhook's body, signature or signing secret, and this package
// exports only what it is handed.
//
// # Try it
//
// go -C sendiventotel run ./example runs a send, with a retry, and a Wait
// against the fake server, which delivers the notification's webhook
// events to a handler, and prints the spans as JSON.
package sendiventotel
