package route

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/internal/site/sitetest"
)

func exampleSite(t testing.TB, extra map[string]string) *site.Site {
	t.Helper()
	return sitetest.Load(t, "../../asterisk-conf/examples/site.yaml", extra)
}

func newRouter(t testing.TB, extra map[string]string) *Router {
	t.Helper()
	r, err := New(exampleSite(t, extra))
	require.NoError(t, err)
	return r
}

func TestRoute(t *testing.T) {
	r := newRouter(t, nil)
	tests := []struct {
		name     string
		endpoint string
		dialled  string
		kind     Kind
		target   string
		number   string
		cause    int
		reason   string
	}{
		// Our own phones.
		{"extension", "blackphone", "202", Local, "linphone", "", 0, "202 is linphone"},
		{"ring group", "linphone", "200", Local, "home", "", 0, ""},
		{"national 0ABJ", "blackphone", "0312345678", PSTN, "twilio", "+81312345678", 0, ""},
		{"mobile 0A0", "blackphone", "09012345678", PSTN, "twilio", "+819012345678", 0, ""},
		{"IP phone 050", "linphone", "05011112222", PSTN, "twilio", "+815011112222", 0, ""},
		{"free dial 0120", "blackphone", "0120123456", PSTN, "twilio", "+81120123456", 0, ""},
		{"free dial 0800", "blackphone", "08001234567", PSTN, "twilio", "+818001234567", 0, ""},
		{"international 010", "blackphone", "01014155550123", PSTN, "twilio", "+14155550123", 0, ""},
		{"E.164 from a softphone", "linphone", "+442071234567", PSTN, "twilio", "+442071234567", 0, ""},
		{"service code with a number", "blackphone", "117", PSTN, "twilio", "+81311770000", 0, ""},
		{"emergency not available", "blackphone", "119", Reject, "", "", CauseNoRoute, "service code 119 is not available"},
		{"national too short", "blackphone", "031234567", Reject, "", "", CauseInvalidNumber, "031234567 has 9 digits; national numbers starting 0 have 10"},
		{"mobile too long", "blackphone", "090123456789", Reject, "", "", CauseInvalidNumber, "have 11"},
		{"international too short", "blackphone", "0101", Reject, "", "", CauseInvalidNumber, "international number"},
		{"peer prefix", "blackphone", "712680", Peer, "shibuya", "2680", 0, "prefix 71 is peer shibuya"},
		{"other peer prefix", "agephone", "72100", Peer, "minato", "100", 0, ""},
		{"peer prefix alone", "blackphone", "71", Reject, "", "", CauseInvalidNumber, "nothing dialled after the prefix 71"},
		{"unallocated", "blackphone", "555", Reject, "", "", CauseUnallocated, "not a number of this exchange"},
		{"letters", "blackphone", "20a", Reject, "", "", CauseInvalidNumber, `character 'a' at position 3`},
		{"empty", "blackphone", "", Reject, "", "", CauseInvalidNumber, "no digits dialled"},
		{"plus alone", "blackphone", "+", Reject, "", "", CauseInvalidNumber, "no digits after +"},
		{"too long", "blackphone", strings.Repeat("1", 40), Reject, "", "", CauseInvalidNumber, "more than 32"},
		{"star in a national number", "blackphone", "03*2345678", Reject, "", "", CauseInvalidNumber, "cannot be sent to the PSTN"},

		// Twilio: DIDs only, never out again.
		{"DID", "twilio", "+815012345678", Local, "blackphone", "", 0, "DID +815012345678 rings blackphone"},
		{"DID without plus", "twilio", "815087654321", Local, "home", "", 0, ""},
		{"not a DID", "twilio", "+81312345678", Reject, "", "", CauseUnallocated, "not one of our DIDs"},
		{"Twilio cannot dial out", "twilio", "0312345678", Reject, "", "", CauseUnallocated, ""},
		{"Twilio cannot reach an extension", "twilio", "201", Reject, "", "", CauseUnallocated, ""},

		// Peers.
		{"peer to extension", "peer-shibuya", "201", Local, "blackphone", "", 0, ""},
		{"peer transit to other peer", "peer-shibuya", "9972100", Peer, "minato", "100", 0, ""},
		{"peer transit to our extension", "peer-shibuya", "99201", Local, "blackphone", "", 0, ""},
		{"peer transit straight back", "peer-shibuya", "99712680", Reject, "", "", CauseNoRoute, "would return to peer shibuya"},
		{"peer transit to PSTN refused", "peer-shibuya", "990312345678", Reject, "", "", CauseUnallocated, ""},
		{"peer direct PSTN refused", "peer-minato", "0312345678", Reject, "", "", CauseUnallocated, "not a number of this exchange"},
		{"peer plus refused", "peer-minato", "+81312345678", Reject, "", "", CauseInvalidNumber, "position 1"},
		{"peer hop prefix alone", "peer-minato", "99", Reject, "", "", CauseInvalidNumber, "nothing dialled after the hop prefix"},
		{"peer other peer without hop", "peer-shibuya", "72100", Reject, "", "", CauseUnallocated, ""},

		// Strangers.
		{"unknown endpoint", "anonymous", "201", Reject, "", "", CauseRejected, `unknown caller "anonymous"`},
		{"unknown peer", "peer-nobody", "201", Reject, "", "", CauseRejected, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.Route(Request{Endpoint: tt.endpoint, Dialled: tt.dialled})
			assert.Equal(t, tt.kind, d.Kind, "decision %+v", d)
			if tt.target != "" {
				assert.Equal(t, tt.target, d.Target)
			}
			if tt.number != "" {
				assert.Equal(t, tt.number, d.Number)
			}
			if tt.kind == Reject {
				assert.Equal(t, tt.cause, d.Cause, d.Reason)
				assert.Equal(t, "congestion", d.Tone)
				assert.Empty(t, d.DialString())
			}
			if tt.reason != "" {
				assert.Contains(t, d.Reason, tt.reason)
			}
		})
	}
}

func TestDialStrings(t *testing.T) {
	r := newRouter(t, nil)
	d := r.Route(Request{Endpoint: "blackphone", Dialled: "200"})
	assert.Equal(t, "PJSIP/blackphone&PJSIP/linphone&PJSIP/agephone", d.DialString())
	assert.Equal(t, site.StrategyRingAll, d.Strategy)
	assert.Equal(t, 20*time.Second, d.Timeout)

	d = r.Route(Request{Endpoint: "blackphone", Dialled: "0312345678"})
	assert.Equal(t, "PJSIP/+81312345678@twilio", d.DialString())
	assert.Equal(t, "+815012345678", d.CallerID)
	assert.Equal(t, 60*time.Second, d.Timeout)

	d = r.Route(Request{Endpoint: "blackphone", Dialled: "712680"})
	assert.Equal(t, "PJSIP/2680@peer-shibuya", d.DialString())
	assert.Equal(t, Origin{Class: FromExtension, Name: "blackphone"}, d.Origin)
}

func TestPolicies(t *testing.T) {
	t.Run("peer allowed to the PSTN", func(t *testing.T) {
		r := newRouter(t, map[string]string{"KURODENWA_PEERS_SHIBUYA_ALLOW_PSTN": "true"})
		d := r.Route(Request{Endpoint: "peer-shibuya", Dialled: "0312345678"})
		assert.Equal(t, PSTN, d.Kind, d.Reason)
		assert.Contains(t, d.Reason, "allowed for peer shibuya")
		d = r.Route(Request{Endpoint: "peer-shibuya", Dialled: "990312345678"})
		assert.Equal(t, PSTN, d.Kind, d.Reason)
		assert.True(t, d.Transit)
		d = r.Route(Request{Endpoint: "peer-minato", Dialled: "0312345678"})
		assert.Equal(t, Reject, d.Kind, "only the peer allowed")
	})
	t.Run("transit without the hop prefix, by policy", func(t *testing.T) {
		r := newRouter(t, map[string]string{"KURODENWA_PEERS_SHIBUYA_TRANSIT_WITHOUT_HOP": "true"})
		d := r.Route(Request{Endpoint: "peer-shibuya", Dialled: "72100"})
		assert.Equal(t, Peer, d.Kind, d.Reason)
		assert.Equal(t, "minato", d.Target)
		assert.True(t, d.Transit)
		d = r.Route(Request{Endpoint: "peer-shibuya", Dialled: "712680"})
		assert.Equal(t, Reject, d.Kind, "never straight back")
		d = r.Route(Request{Endpoint: "peer-minato", Dialled: "712680"})
		assert.Equal(t, Reject, d.Kind, "only the peer with the policy")
	})
	t.Run("transit refused", func(t *testing.T) {
		r := newRouter(t, map[string]string{"KURODENWA_PEERS_MINATO_TRANSIT": "false"})
		d := r.Route(Request{Endpoint: "peer-minato", Dialled: "99712680"})
		assert.Equal(t, Reject, d.Kind)
		assert.Contains(t, d.Reason, "may not pass through")
	})
	t.Run("no Twilio", func(t *testing.T) {
		s := exampleSite(t, nil)
		s.Twilio.Enabled = false
		r, err := New(s)
		require.NoError(t, err)
		d := r.Route(Request{Endpoint: "blackphone", Dialled: "0312345678"})
		assert.Equal(t, Reject, d.Kind)
		assert.Contains(t, d.Reason, "no Twilio trunk")
		assert.Equal(t, FromUnknown, r.OriginOf("twilio").Class, "a disabled trunk is nobody")
	})
}

// The longest peer prefix wins.
func TestLongestPrefix(t *testing.T) {
	s := exampleSite(t, nil)
	p := s.Peers["minato"]
	p.Prefix = "715"
	s.Peers["minato"] = p
	r, err := New(s)
	require.NoError(t, err)
	assert.Equal(t, "minato", r.Route(Request{Endpoint: "blackphone", Dialled: "7151234"}).Target)
	assert.Equal(t, "shibuya", r.Route(Request{Endpoint: "blackphone", Dialled: "7161234"}).Target)
}

// FuzzRoute: any dialled string from any origin gets a decision, never a
// panic; anything dialled onward holds only digits (and a leading "+").
func FuzzRoute(f *testing.F) {
	r := newRouter(f, map[string]string{"KURODENWA_PEERS_SHIBUYA_ALLOW_PSTN": "true"})
	for _, s := range []string{"201", "0312345678", "+81312345678", "01014155550123", "712680", "99712680", "119", "", "+", "20a", "99", "*#0"} {
		for _, e := range []string{"blackphone", "twilio", "peer-shibuya", "peer-minato", "x"} {
			f.Add(e, s)
		}
	}
	f.Fuzz(func(t *testing.T, endpoint, dialled string) {
		d := r.Route(Request{Endpoint: endpoint, Dialled: dialled})
		switch d.Kind {
		case Reject:
			if d.Cause == 0 || d.Reason == "" {
				t.Fatalf("rejection without cause or reason: %+v", d)
			}
		case PSTN:
			if !site.IsE164(d.Number) {
				t.Fatalf("PSTN number %q is not E.164", d.Number)
			}
			if d.Origin.Class == FromTwilio {
				t.Fatalf("a Twilio call routed to the PSTN: %+v", d)
			}
		case Peer:
			if strings.Trim(d.Number, "0123456789*#") != "" || d.Number == "" {
				t.Fatalf("peer number %q", d.Number)
			}
			if d.Origin.Class == FromTwilio {
				t.Fatalf("a Twilio call routed to a peer: %+v", d)
			}
		case Local:
			if len(d.Endpoints) == 0 {
				t.Fatalf("local decision without endpoints")
			}
		}
	})
}

func BenchmarkRoute(b *testing.B) {
	r := newRouter(b, nil)
	reqs := []Request{
		{Endpoint: "blackphone", Dialled: "0312345678"},
		{Endpoint: "peer-shibuya", Dialled: "9972100"},
		{Endpoint: "twilio", Dialled: "+815012345678"},
		{Endpoint: "blackphone", Dialled: "202"},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Route(reqs[i%len(reqs)])
	}
}
