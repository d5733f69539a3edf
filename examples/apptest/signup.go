package main

import (
	"context"
	"fmt"

	"github.com/sendivent/sendivent-go"
)

// User is a new account.
type User struct {
	ID    string
	Email string
	Name  string
}

// Signup signs users up.
type Signup struct {
	Notify *sendivent.Client
}

// SignUp welcomes u and returns the welcome notification's id. The
// idempotency key comes from the user's id, so signing the same user up
// again, or a retry after a lost answer, never sends a second welcome.
func (s *Signup) SignUp(ctx context.Context, u User) (string, error) {
	res, err := s.Notify.Send(ctx, "welcome", sendivent.SendRequest{
		To:             []sendivent.Recipient{sendivent.Contact{ID: u.ID, Email: u.Email, Name: u.Name}},
		Payload:        sendivent.Payload{"name": u.Name},
		IdempotencyKey: sendivent.IdempotencyKeyFrom("signup-welcome", u.ID),
	})
	if err != nil {
		return "", fmt.Errorf("welcome %s: %w", u.ID, err)
	}
	return res.ID, nil
}

// SignUpAndConfirm signs u up and waits until the welcome is delivered or
// has failed, for flows that must not go on before the user has their mail.
func (s *Signup) SignUpAndConfirm(ctx context.Context, u User) (*sendivent.Notification, error) {
	id, err := s.SignUp(ctx, u)
	if err != nil {
		return nil, err
	}
	return s.Notify.Wait(ctx, id)
}
