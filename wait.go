package sendivent

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/sendivent/sendivent-go/internal/redact"
	"github.com/sendivent/sendivent-go/internal/retry"
)

// Polling defaults, each changed by a WaitOption.
const (
	DefaultPollMin    = time.Second
	DefaultPollMax    = 30 * time.Second
	DefaultWaitAtMost = 10 * time.Minute
)

// WaitOption configures Wait, WaitFor and Watch.
type WaitOption func(*waitConfig)

type waitConfig struct {
	min, max, atMost time.Duration
}

// PollEvery sets the delay between polls: it starts at min and doubles up
// to max, with up to a quarter taken off at random so that many waiters do
// not poll in step. Defaults 1 s and 30 s. Values that are not positive, or
// a max below min, are ignored.
func PollEvery(min, max time.Duration) WaitOption {
	return func(w *waitConfig) {
		if min > 0 && max >= min {
			w.min, w.max = min, max
		}
	}
}

// WaitAtMost bounds the whole wait, polls included. Default 10 minutes. The
// context's deadline, when earlier, wins.
func WaitAtMost(d time.Duration) WaitOption {
	return func(w *waitConfig) {
		if d > 0 {
			w.atMost = d
		}
	}
}

// Wait polls the notification until its status is terminal (completed,
// failed or stopped) and returns it. A failed notification is returned with
// a nil error: the call worked, and n.Failed and n.FailedMessage say what
// happened.
//
// A transient error while polling (network, 429, 5xx) is retried under the
// client's rules and polling goes on. An error that polling cannot fix (401,
// 403, 404…) is returned at once, as the *APIError. Running out of time
// returns a *WaitTimeoutError holding the last state seen.
func (c *Client) Wait(ctx context.Context, id string, opts ...WaitOption) (*Notification, error) {
	return c.WaitFor(ctx, id, (*Notification).Terminal, opts...)
}

// WaitFor polls the notification until done returns true for it, and
// returns it: for example "until the email is delivered". It stops too when
// the notification is terminal and done is false for it, returning it with
// a nil error, since nothing will change any more. Errors are as for Wait.
func (c *Client) WaitFor(ctx context.Context, id string, done func(*Notification) bool, opts ...WaitOption) (*Notification, error) {
	var found *Notification
	ctx, ob := c.startWait(ctx, "wait")
	err := c.poll(ctx, id, opts, func(n *Notification) bool {
		if done(n) || n.Terminal() {
			found = n
			return false
		}
		return true
	})
	ob.endWait(err)
	return found, err
}

// Watch polls the notification and yields its first state, then each
// change (of its status or of any message's status), and ends after
// yielding a terminal state. Breaking out of the loop stops polling. An
// error that ends the watch (as for Wait) is yielded last, with a nil
// notification.
func (c *Client) Watch(ctx context.Context, id string, opts ...WaitOption) iter.Seq2[*Notification, error] {
	return func(yield func(*Notification, error) bool) {
		var prev *Notification
		stopped := false
		ctx, ob := c.startWait(ctx, "watch")
		err := c.poll(ctx, id, opts, func(n *Notification) bool {
			if prev != nil && sameState(prev, n) {
				return true
			}
			prev = n
			if !yield(n, nil) {
				stopped = true
				return false
			}
			return !n.Terminal()
		})
		ob.endWait(err)
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

func sameState(a, b *Notification) bool {
	if a.Status != b.Status || len(a.Messages) != len(b.Messages) {
		return false
	}
	for i := range a.Messages {
		if a.Messages[i].Status != b.Messages[i].Status {
			return false
		}
	}
	return true
}

// poll gets the notification, hands each state to next, and sleeps between
// polls until next returns false or time runs out.
func (c *Client) poll(ctx context.Context, id string, opts []WaitOption, next func(*Notification) bool) error {
	cfg := waitConfig{min: DefaultPollMin, max: DefaultPollMax, atMost: DefaultWaitAtMost}
	for _, o := range opts {
		o(&cfg)
	}
	if err := c.usable(); err != nil {
		return err
	}
	if err := checkIdentifier("id", id); err != nil {
		return err
	}
	// The bound counts the client's time: its waits at their full length
	// (they last less under WithTimeScale) plus the time polls take.
	var spent time.Duration
	// The real-time bound keeps a hung poll from outliving WaitAtMost.
	pctx, cancel := context.WithTimeout(ctx, cfg.atMost)
	defer cancel()

	var last *Notification
	var lastErr error // the last poll's, if it failed
	polls, final, byCtx := 0, false, false
	timeout := func() error {
		err := ctx.Err()
		if err == nil && byCtx { // the end was the context's deadline, as good as passed
			err = context.DeadlineExceeded
		}
		e := &WaitTimeoutError{ID: id, Last: last, Polls: polls, Err: err, LastErr: lastErr}
		if last != nil { // the service's text, shown in the message
			e.lastStatus = redact.Secret(printable(string(last.Status), 64), c.cred.key)
		}
		return e
	}
	var slowest time.Duration // the longest poll so far
	for i := 0; ; i++ {
		began := c.clock.Now()
		n, err := c.GetNotification(pctx, id)
		now := c.clock.Now()
		spent += now.Sub(began)
		slowest = max(slowest, now.Sub(began))
		polls++
		lastErr = err
		c.observePoll(ctx, polls, n, err)
		switch {
		case err == nil:
			last = n
			if !next(n) {
				return nil
			}
		case ctx.Err() != nil || pctx.Err() != nil:
			if errors.Is(ctx.Err(), context.Canceled) {
				return err
			}
			return timeout()
		case !transient(err):
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				return apiErr
			}
			return err
		}
		// Which end is nearer can change from poll to poll: under
		// WithTimeScale, spent grows faster than the deadline nears.
		left := cfg.atMost - spent
		byCtx = false
		if dl, ok := ctx.Deadline(); ok {
			if l := dl.Sub(now); l < left {
				left, byCtx = l, true
			}
		}
		if final || left <= 0 {
			return timeout()
		}
		d := pollDelay(i, cfg.min, cfg.max, c.jitter())
		var asked time.Duration // what the service asked for, if it did
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			// As the client does: what was asked, plus jitter so that many
			// waiters told the same do not poll together.
			asked = apiErr.RetryAfter
			d = max(d, retry.AfterJitter(asked, c.jitter()))
		}
		// The last poll goes as late as it can and still end before the end:
		// it has twice the time of the slowest poll so far (at least
		// minPollRoom), never more than the poll interval or half of what
		// is left. A larger room gave up early: --timeout 2s polled at 0 and
		// 1 s, then returned at 1 s.
		room := min(cfg.min, left/2, max(2*slowest, minPollRoom))
		if d >= left-room {
			// The last sleep, trimmed to leave that room, unless that would
			// cut short a wait the service asked for.
			d, final = left-room, true
			if d < asked {
				return timeout()
			}
		}
		if err := c.sleep(pctx, d); err != nil {
			return timeout() // its Err says whether the context was cancelled
		}
		spent += d
	}
}

// transient reports whether a failed poll is worth following with another,
// by the rule the client retries by (see retry.Retryable).
func transient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Temporary()
	}
	var te *TransportError
	return errors.As(err, &te) && te.Temporary()
}

// minPollRoom is the least time Wait leaves its last poll before its end.
const minPollRoom = 10 * time.Millisecond

// pollDelay is min·2ⁱ capped at max, less up to a quarter at random, and
// never under min.
func pollDelay(i int, min, max time.Duration, r float64) time.Duration {
	d := max
	if i < 32 && min<<i > 0 && min<<i < max {
		d = min << i
	}
	d -= time.Duration(float64(d) * 0.25 * r)
	if d < min {
		d = min
	}
	return d
}
