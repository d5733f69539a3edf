// Package fakehook holds what the SDK's own tests set on the fake server
// (package sendiventtest) that applications have no use for, so that it
// stays off sendiventtest's public surface.
package fakehook

// ArrayShape chooses how the fake answers a send whose `to` is an array.
// The service does not document this answer, so the SDK's tests try every
// shape.
type ArrayShape int

// The shapes.
const (
	// ArrayList answers a JSON array with one {id, event, status} object per
	// recipient, in request order. It is the default.
	ArrayList ArrayShape = iota
	// ArrayWrapped answers one object: the first recipient's id, event and
	// status, plus "notifications" listing every recipient's object.
	ArrayWrapped
	// ArrayFirst answers a single {id, event, status} object for the first
	// recipient only; the other notifications are still created.
	ArrayFirst
)

// ArrayAnswer returns a sendiventtest.Option (typed any: sendiventtest
// imports this package) that makes the fake answer array sends in shape.
// Package sendiventtest sets it in its init.
var ArrayAnswer func(shape ArrayShape) any
