// Package signup is a tiny service that welcomes new users, to show how an
// application tests its use of Sendivent with sendiventtest.
package signup

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

// Service signs users up.
type Service struct {
	Notify *sendivent.Client
}

// SignUp welcomes u and returns the welcome notification's id. The
// idempotency key comes from the user's id, so signing the same user up
// again, or a retry after a lost answer, never sends a second welcome.
func (s *Service) SignUp(ctx context.Context, u User) (string, error) {
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
