// Package inboxtest holds the browser tests of the inbox page that
// "sendivent fake" serves at its root: they build the command, start it on
// a free port and drive Debian's Chromium, headless, through chromedp. It
// is a module of its own so that neither the SDK's nor the command's
// module requires chromedp (and its Go 1.25). Nothing here is for import.
package inboxtest
