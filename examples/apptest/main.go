// Apptest is a tiny signup service that welcomes new users, and its test
// (signup_test.go) shows how an application tests its use of Sendivent with
// sendiventtest: run it with
//
//	go test ./examples/apptest/
//
// The program itself signs one user up: against the Sendivent API when
// SENDIVENT_API_KEY is set, otherwise against an in-process fake server.
// Copy the folder anywhere: it needs only the module
// github.com/sendivent/sendivent-go (and testify and goleak for the test).
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func main() {
	client, stop := connect()
	defer stop()
	svc := &Signup{Notify: client}
	id, err := svc.SignUp(context.Background(), User{ID: "u_42", Email: "test@example.com", Name: "Alice"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("welcome sent:", id)
}

// connect returns a client of the Sendivent API when SENDIVENT_API_KEY is
// set, and otherwise one of a fake server, with the function that stops it.
func connect() (*sendivent.Client, func()) {
	if os.Getenv("SENDIVENT_API_KEY") != "" {
		c, err := sendivent.NewClient("") // the key from $SENDIVENT_API_KEY
		if err != nil {
			log.Fatal(err)
		}
		return c, func() {}
	}
	srv := sendiventtest.NewServer()
	fmt.Println("using the built-in fake server (set SENDIVENT_API_KEY to use the real API)")
	return srv.Client(), srv.Close
}
