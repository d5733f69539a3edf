// Apptest runs the signup service of package signup once. Its test, in
// signup/signup_test.go, is the point of this example: run it with
//
//	go test ./examples/apptest/...
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/sendivent/sendivent-go/examples/apptest/signup"
	"github.com/sendivent/sendivent-go/examples/internal/demo"
)

func main() {
	env, err := demo.Connect()
	if err != nil {
		log.Fatal(err)
	}
	defer env.Close()
	svc := &signup.Service{Notify: env.Client}
	id, err := svc.SignUp(context.Background(), signup.User{ID: "u_42", Email: demo.Recipient(), Name: "Alice"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("welcome sent:", id)
}
