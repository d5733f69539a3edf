// Package templates renders Sendivent's message templates as the service
// does, for the fake of package sendiventtest, and finds the payload
// variables they use, for "sendivent gen".
//
// It is a module of its own (github.com/sendivent/sendivent-go/templates)
// so that an application that only sends, and tests with sendiventtest,
// does not get a template engine in its build. A test that wants the
// fake to render its events adds it:
//
//	srv := sendiventtest.New(t,
//		sendiventtest.WithCatalog("testdata/catalog"), // sendivent events pull --dir testdata/catalog
//		sendiventtest.WithTemplateEngine(templates.Handlebars()))
//	// … the application sends, then:
//	n := srv.Notifications()[0]
//	// n.Rendered[0].Subject == "Your order A-17 has shipped"
//
// A variable that a message shows and neither the payload, the contact
// nor the system provides fails that test, naming the event, channel,
// language, part and variable.
//
// # What a template may use
//
// Templates are Handlebars, rendered by github.com/mailgun/raymond/v2, with
// what the service's docs add:
//
//   - the payload's keys at the root ({{order_id}}) and under payload.
//     ({{payload.order_id}}): the docs show both;
//   - contact.email, .name, .firstName, .lastName, .avatar, .externalId,
//     .id, .meta.*; and the system variables app, sender, platform, cdn;
//   - {{#each}}, with @index, @key, @first, @last, this, a block
//     parameter (as |item|), ../ and @root to reach the payload from
//     inside a loop; {{#if}}, {{else if}}, {{#unless}}, {{#with}},
//     sections {{#x}}, comments, whitespace control {{~x~}}, {{{raw}}};
//   - the fallback {{contact.name | "Guest"}}: a quoted literal, a number,
//     or unquoted, a variable if there is one by that name, else the words
//     as a literal; used when the value is missing, null or "";
//   - the helpers of Helpers: compare (==, ===, !=, !==, <, >, <=, >=,
//     typeof), and others of the npm package handlebars-helpers, with its
//     JavaScript semantics.
//
// What it refuses, with an error that names the line: a malformed
// template; a helper that is not one of Helpers (raymond's own extras,
// such as ifGt or equal, included: the service does not have them); a
// helper given the wrong number of arguments; partials {{> x}}; the
// second block parameter of each (as |item i|: write @index); blocks,
// sub-expressions or a variable's names nested more than 64 deep.
//
// A render is bounded, as a payload comes from whoever sends: loops walk
// at most MaxLoopItems items in all and, with replace, make at most
// MaxRenderBytes; past that, and when a helper fails on the data (such as
// lookup with a negative index), Render returns an error.
//
// Where it differs from Handlebars.js, knowingly: numbers print as Go
// prints them (1e21 as 1000000000000000000000); an empty object is false
// in {{#if}} (raymond's rule); an object printed whole is not "[object
// Object]"; #each walks an object's keys in sorted order (JSON objects
// reach it as Go maps, which have no order). Text parts (everything but an
// email's HTML) are not HTML-escaped: the fake's choice for SMS, push and
// chat, whose readers would see "&amp;".
package templates
