// Package testhook lets package sendiventtest set what package sendivent
// keeps unexported, without widening the SDK's public surface.
package testhook

// ScaleWaits returns a sendivent.Option (typed any to avoid an import
// cycle) that makes a client's waits (retry backoff, Retry-After, Wait's
// polls) last 1/factor of their time. Every decision (what is retried, the
// waits recorded in Attempt, whether a wait fits before a deadline) stays
// as in production. Package sendivent sets it in its init.
var ScaleWaits func(factor float64) any
