package inboxtest

import (
	"bytes"
	"image/png"
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sendivent/sendivent-go"
)

// TestInboxScreenshot takes README's picture of the inbox: an email, an
// SMS and a push, rendered from the catalogue of examples/typed. It checks
// the picture is a PNG; with SENDIVENT_INBOX_SCREENSHOT=FILE it writes it
// there:
//
//	SENDIVENT_INBOX_SCREENSHOT=$PWD/docs/inbox.png go -C cmd/sendivent/internal/inboxtest test -run TestInboxScreenshot -count=1 .
func TestInboxScreenshot(t *testing.T) {
	t.Parallel()
	f := startFake(t, "--catalog", "../../../../examples/typed/catalog")
	ctx := tab(t)
	do(t, ctx, chromedp.EmulateViewport(1100, 940))
	openInbox(t, ctx, f)
	c := f.client(t)
	ids := []string{
		send(t, c, "cart-reminder", sendivent.Contact{Name: "Ada Lovelace", PushTokens: []string{"ExponentPushToken[xxxxxxxxxxxxxxxx]"}},
			sendivent.Payload{"item_count": 3, "first_item": "Sencha, 100 g"}),
		send(t, c, "login-code", sendivent.Address("+46701234567"), sendivent.Payload{"code": "482913", "minutes": 10}),
		send(t, c, "order-shipped", sendivent.Contact{Email: "ada@example.com", Name: "Ada Lovelace"}, sendivent.Payload{
			"order_id": "A-1042", "currency": "EUR", "tracking_url": "https://track.example.com/A-1042",
			"lines": []any{
				map[string]any{"quantity": 2, "name": "Darjeeling, 100 g", "price": "12.00"},
				map[string]any{"quantity": 1, "name": "Cast-iron teapot", "price": "34.50"},
			},
		}),
	}
	for _, id := range ids {
		until(t, ctx, bound, `document.querySelector('`+card(id)+`')?.dataset.status === 'completed'`, "completed")
	}
	until(t, ctx, bound, `document.fonts.status === 'loaded' && document.querySelector('iframe.email-frame')?.dataset.loaded === 'yes'`,
		"fonts and the email's body loaded")
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	t.Logf("%dx%d, %d bytes", img.Bounds().Dx(), img.Bounds().Dy(), len(shot))
	if out := os.Getenv("SENDIVENT_INBOX_SCREENSHOT"); out != "" {
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
