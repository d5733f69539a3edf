// Package sendivent is the Go client for Sendivent, which sends one event
// (welcome, password-reset, order-shipped…) to a person over email, SMS,
// Slack, push, Telegram, WhatsApp or Discord.
//
// # Tour
//
// Make one [Client] and share it: it is safe for concurrent use.
//
//	client, err := sendivent.NewClient("") // "" reads $SENDIVENT_API_KEY
//
// Send an event. The service picks the channel unless you force one.
//
//	res, err := client.Event("welcome").
//		To(sendivent.Address("alice@example.com")).
//		Payload(sendivent.Payload{"company": "ACME"}).
//		Send(ctx)
//
// Sending is asynchronous: res.ID names the notification. Follow it to its
// end with [Client.Wait], or see each change with [Client.Watch]:
//
//	n, err := client.Wait(ctx, res.ID) // polls until completed, failed or stopped
//
// Cancel what has not gone out yet with [Client.Cancel].
//
// Send to the listeners configured on an event, rather than to recipients,
// with Broadcast:
//
//	res, err := client.Event("deploy").Broadcast().Send(ctx)
//
// # Contacts and the rest of the API
//
// The other endpoints hang off the client as services. [ContactsService]
// keeps the people notifications go to, and their push tokens:
//
//	ada, err := client.Contacts.Upsert(ctx, sendivent.Contact{Email: "ada@example.com", Name: "Ada"})
//	err = client.Contacts.AddPushToken(ctx, "ada@example.com", deviceToken)
//	for c, err := range client.Contacts.List(ctx, sendivent.ContactListParams{Search: "ada"}) {
//
// [EventsService], [DeliveriesService] and [IntegrationsService] read what
// the dashboard configures and what was delivered; one source only
// documents them. A field the SDK does not model goes in the Extra map of
// [SendRequest], [Overrides] or [Contact].
//
// # Webhooks
//
// Instead of polling, let the service push delivery events to your server:
// make the endpoint once with [WebhooksService] (Create returns its signing
// secret), and receive the events with package webhook, whose Handler
// verifies each signature and calls your function once per event. An event
// carries the request id of the send it is about ([SendResponse].RequestID):
// keep it with your record when you send.
//
//	hook, err := client.Webhooks.Create(ctx, sendivent.WebhookConfig{
//		URL:           publicURL + "/webhooks/sendivent", // https; plain http only for localhost
//		EnabledEvents: []webhook.EventType{webhook.DeliveryDelivered, webhook.DeliveryFailed, webhook.DeliveryBounced},
//	})
//	secret := string(hook.SigningSecret) // the service shows it once: keep it in your secret store
//
// # Errors
//
// A call's error is one of six types:
//   - [*ValidationError]: bad input, found before anything was sent;
//   - [*APIError]: the service answered with an error, or with a 2xx that
//     did not accept the send; match it with [errors.Is] against
//     [ErrRateLimited], [ErrNotFound], [ErrRejected] and the other sentinels;
//   - [*TransportError]: no usable answer: the connection failed, an attempt
//     or the context timed out, or the body could not be read or was not
//     what the service sends ([ErrMalformed], [ErrTooLarge]);
//   - [*WaitTimeoutError]: Wait ran out of time, with the last state seen;
//   - [*BatchError]: SendBatch's items that did not succeed, each with its
//     own error of the types above, or matching [ErrNotAttempted] when the
//     context ended before the item was sent;
//   - [*PagingError]: a listing (Contacts.List, Deliveries.List) whose pages
//     do not add up, ended rather than repeat or skip items.
//
// A call on a nil *Client, or one not made by [NewClient], returns an error
// saying so rather than panicking.
//
// # Retries and duplicates
//
// Connection errors, timeouts, and 408, 429, 500, 502, 503 and 504 answers
// (and a 409 for a request still in flight) are retried twice by default,
// with jittered exponential backoff. A Retry-After is honoured, plus up to
// a quarter more so that clients told the same wait do not come back
// together ("0" retries at once). Every send carries an X-Idempotency-Key,
// made once and reused by every retry, so a retry after a lost answer
// cannot send the notification twice. Use [IdempotencyKeyFrom] to derive
// the key from your own data, so that a job that runs again re-sends the
// same key.
//
// # Testing
//
// Package sendiventtest is an in-process fake Sendivent: point a client at
// it and assert on what was sent, with no network and no mocks to write.
package sendivent

import "github.com/sendivent/sendivent-go/internal/idem"

// Version is this SDK's release, sent in the User-Agent header.
const Version = "0.3.0"

// The service's base URLs. A key starting with live_ goes to ProductionURL,
// one starting with test_ to SandboxURL.
const (
	ProductionURL = "https://api.sendivent.com"
	SandboxURL    = "https://api-sandbox.sendivent.com"
)

// Channel is a delivery channel. The zero value means "let the service route".
type Channel string

// The channels the service knows.
const (
	ChannelEmail    Channel = "email"
	ChannelSMS      Channel = "sms"
	ChannelSlack    Channel = "slack"
	ChannelPush     Channel = "push"
	ChannelTelegram Channel = "telegram"
	ChannelWhatsApp Channel = "whatsapp"
	ChannelDiscord  Channel = "discord"
)

// Valid reports whether c is one of the known channels.
func (c Channel) Valid() bool {
	switch c {
	case ChannelEmail, ChannelSMS, ChannelSlack, ChannelPush,
		ChannelTelegram, ChannelWhatsApp, ChannelDiscord:
		return true
	}
	return false
}

// SendStatus is the service's answer to a send.
type SendStatus string

// Send statuses. A send that is not accepted is returned as an error
// matching [ErrRejected].
const (
	SendAccepted SendStatus = "accepted"
	SendRejected SendStatus = "rejected"
)

// NotificationStatus is where a notification is in its life. Values the SDK
// does not know are kept as they came.
type NotificationStatus string

// Notification statuses.
const (
	StatusRunning   NotificationStatus = "running"
	StatusWaiting   NotificationStatus = "waiting" // in a WAIT step of a sequence
	StatusCompleted NotificationStatus = "completed"
	StatusFailed    NotificationStatus = "failed"
	StatusStopped   NotificationStatus = "stopped" // cancelled
)

// Terminal reports whether the status is final: completed, failed or stopped.
func (s NotificationStatus) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusStopped
}

// MessageStatus is where one message (one channel attempt) is.
type MessageStatus string

// Message statuses.
const (
	MessageQueued     MessageStatus = "queued"
	MessageSent       MessageStatus = "sent"      // handed to the provider
	MessageDelivered  MessageStatus = "delivered" // the provider confirmed it
	MessageFailed     MessageStatus = "failed"
	MessageSuppressed MessageStatus = "suppressed" // opted out or bounced
)

// IdempotencyKeyFrom derives a stable idempotency key from business data,
// such as an order id and an event name. A job that runs again with the same
// parts sends the same key, so the service does not send twice. The parts
// are hashed; they are not sent.
func IdempotencyKeyFrom(parts ...string) string { return idem.From(parts...) }

// Ptr returns a pointer to v, for the optional fields of an update, such as
// WebhookUpdate{Active: sendivent.Ptr(false)}.
func Ptr[T any](v T) *T { return &v }
