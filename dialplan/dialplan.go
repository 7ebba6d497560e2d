// Package dialplan renders extensions.conf from a site: the contexts each
// kind of caller enters, the hand-off to the ARI application and the FastAGI
// fallback for when it is not connected.
package dialplan

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

//go:embed extensions.conf.tmpl
var extensionsTmpl string

// Contexts of the rendered dialplan, each documented in the file.
const (
	ContextTwilio          = "from-twilio"
	ContextBlackPhone      = "from-blackphone"
	ContextSoftphones      = "from-softphones"
	ContextPeers           = "from-peers"
	ContextUnauthenticated = "kd-unauthenticated"
)

// Contexts lists every context callers can enter, for checks and tests.
func Contexts() []string {
	return []string{ContextTwilio, ContextBlackPhone, ContextSoftphones, ContextPeers, ContextUnauthenticated}
}

// ContextFor is the context of an extension's endpoint.
func ContextFor(e site.Extension) string {
	if e.Kind == site.KindBlackPhone {
		return ContextBlackPhone
	}
	return ContextSoftphones
}

type did struct {
	Name, Number, Bare, Destination string
}

type view struct {
	ExchangeName    string
	App             string
	FastAGI         string
	HangupToneLimit int
	DIDs            []did
}

// Render returns extensions.conf for s.
func Render(s *site.Site) ([]byte, error) {
	v := view{
		ExchangeName:    commentSafe(s.Exchange.Name),
		App:             s.ARI.App,
		FastAGI:         s.ARI.FastAGI,
		HangupToneLimit: int(s.Exchange.HangupToneLimit / time.Second),
	}
	if s.Twilio.Enabled {
		for name, d := range s.Twilio.DIDs {
			v.DIDs = append(v.DIDs, did{Name: name, Number: d.Number, Bare: strings.TrimPrefix(d.Number, "+"), Destination: d.Destination})
		}
		sort.Slice(v.DIDs, func(i, j int) bool { return v.DIDs[i].Number < v.DIDs[j].Number })
	}
	t, err := template.New("extensions.conf").Option("missingkey=error").Parse(extensionsTmpl)
	if err != nil {
		return nil, fmt.Errorf("dialplan: template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("dialplan: render: %w", err)
	}
	return b.Bytes(), nil
}

// commentSafe keeps free text (names) on one comment line.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
