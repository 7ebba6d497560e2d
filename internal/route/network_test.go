package route

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	shibuyaID = "2c7b9d0e-5a41-4f3b-8e62-9d1a7c3f0b58"
	minatoID  = "5e0c1d2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
	farID     = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
)

// tableDirectory is a Directory from a fixed list; the first route whose
// prefix and extension make up the digits and that passes no avoided
// exchange wins, unless ignoreAvoid plays a directory that gets it wrong.
type tableDirectory struct {
	routes      []DirectoryRoute
	ignoreAvoid bool
	asked       *[][]string // avoid lists received
}

func (d tableDirectory) Lookup(digits string, avoid []string) (DirectoryRoute, bool) {
	if d.asked != nil {
		*d.asked = append(*d.asked, avoid)
	}
	for _, r := range d.routes {
		if r.Prefix+r.Extension != digits {
			continue
		}
		if !d.ignoreAvoid && slices.ContainsFunc(r.Via, func(id string) bool { return slices.Contains(avoid, id) }) {
			continue
		}
		return r, true
	}
	return DirectoryRoute{}, false
}

// farRoutes: the far exchange (prefix 0150) is reached through shibuya
// (our prefix 71, its self prefix 9, its prefix 3 for far), or through
// minato (72, self 8, 4) when shibuya is to be avoided.
var farRoutes = []DirectoryRoute{
	{Exchange: farID, Name: "Far", Prefix: "0150", Extension: "1058", Number: "71931058",
		Via: []string{shibuyaID, farID}, Names: []string{"Shibuya", "Far"}},
	{Exchange: farID, Name: "Far", Prefix: "0150", Extension: "1058", Number: "72841058",
		Via: []string{minatoID, farID}, Names: []string{"Minato", "Far"}},
	// A prefix that looks like a national number, and one like a service
	// code: the PSTN and the service codes win.
	{Exchange: farID, Name: "Far", Prefix: "03", Extension: "12345678", Number: "719312345678", Via: []string{shibuyaID, farID}},
	{Exchange: farID, Name: "Far", Prefix: "1", Extension: "19", Number: "719319", Via: []string{shibuyaID, farID}},
	// Our own extension and peer prefixes come first too.
	{Exchange: farID, Name: "Far", Prefix: "2", Extension: "01", Number: "719301", Via: []string{shibuyaID, farID}},
	{Exchange: farID, Name: "Far", Prefix: "7", Extension: "12680", Number: "71931", Via: []string{shibuyaID, farID}},
	// A directory that starts at an exchange we have no trunk to.
	{Exchange: farID, Name: "Far", Prefix: "0160", Extension: "1", Number: "8811", Via: []string{farID}},
	// A way of four links.
	{Exchange: farID, Name: "Far", Prefix: "0170", Extension: "1", Number: "7191919191",
		Via: []string{shibuyaID, "x", "y", farID}},
}

func directoryRouter(t testing.TB, dir Directory, opts ...Option) *Router {
	t.Helper()
	s := exampleSite(t, map[string]string{"KURODENWA_PEERS_MINATO_IDENTIFIER": minatoID})
	r, err := New(s, append([]Option{WithDirectory(dir)}, opts...)...)
	require.NoError(t, err)
	return r
}

func TestDirectoryRoutes(t *testing.T) {
	r := directoryRouter(t, tableDirectory{routes: farRoutes})
	tests := []struct {
		name     string
		endpoint string
		dialled  string
		hops     int
		kind     Kind
		target   string
		number   string
		sendHops int
		cause    int
		reason   string
	}{
		{"beyond the peers", "blackphone", "01501058", 0, Peer, "shibuya", "931058", 1, 0, "Mantela: prefix 0150 is Far; dial 931058 at peer shibuya (via Shibuya → Far)"},
		{"hops counted from the request", "blackphone", "01501058", 3, Peer, "shibuya", "931058", 4, 0, ""},
		{"own extension first", "blackphone", "201", 0, Local, "blackphone", "", 0, 0, "201 is blackphone"},
		{"peer prefix first", "blackphone", "712680", 0, Peer, "shibuya", "2680", 1, 0, "prefix 71 is peer shibuya"},
		{"a PSTN number stays on the PSTN", "blackphone", "0312345678", 0, PSTN, "twilio", "+81312345678", 0, 0, ""},
		{"service codes are never looked up", "blackphone", "119", 0, Reject, "", "", 0, CauseNoRoute, "service code 119"},
		{"no match keeps the PSTN's answer", "blackphone", "01509999", 0, Reject, "", "", 0, CauseInvalidNumber, "has 8 digits"},
		{"first exchange not a peer", "blackphone", "01601", 0, Reject, "", "", 0, CauseNoRoute, "not a peer"},
		{"transit through us", "peer-minato", "9901501058", 0, Peer, "shibuya", "931058", 1, 0, "Mantela"},
		{"transit avoids the origin", "peer-shibuya", "9901501058", 2, Peer, "minato", "841058", 3, 0, "via Minato → Far"},
		{"peers need the hop prefix", "peer-minato", "01501058", 0, Reject, "", "", 0, CauseUnallocated, "not a number of this exchange"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.Route(Request{Endpoint: tt.endpoint, Dialled: tt.dialled, Hops: tt.hops})
			assert.Equal(t, tt.kind, d.Kind, "decision %+v", d)
			assert.Equal(t, tt.target, d.Target)
			assert.Equal(t, tt.number, d.Number)
			assert.Equal(t, tt.sendHops, d.Hops)
			if tt.kind == Reject {
				assert.Equal(t, tt.cause, d.Cause, d.Reason)
			}
			if tt.reason != "" {
				assert.Contains(t, d.Reason, tt.reason)
			}
		})
	}
}

func TestDirectoryAvoidsTheOrigin(t *testing.T) {
	var asked [][]string
	r := directoryRouter(t, tableDirectory{routes: farRoutes[:1], asked: &asked})
	d := r.Route(Request{Endpoint: "peer-shibuya", Dialled: "9901501058"})
	assert.Equal(t, Reject, d.Kind, "the only way starts where the call came from")
	assert.Equal(t, CauseUnallocated, d.Cause, d.Reason)
	assert.Equal(t, [][]string{{shibuyaID}}, asked)

	// A directory that ignores avoid is caught by the router.
	r = directoryRouter(t, tableDirectory{routes: farRoutes[:1], ignoreAvoid: true})
	d = r.Route(Request{Endpoint: "peer-shibuya", Dialled: "9901501058"})
	assert.Equal(t, Reject, d.Kind)
	assert.Equal(t, CauseNoRoute, d.Cause)
	assert.Contains(t, d.Reason, "would return the call to peer shibuya")

	// Transit policy holds for directory routes too.
	s := exampleSite(t, map[string]string{"KURODENWA_PEERS_MINATO_IDENTIFIER": minatoID, "KURODENWA_PEERS_MINATO_TRANSIT": "false"})
	r, err := New(s, WithDirectory(tableDirectory{routes: farRoutes}))
	require.NoError(t, err)
	d = r.Route(Request{Endpoint: "peer-minato", Dialled: "9901501058"})
	assert.Equal(t, Reject, d.Kind)
	assert.Contains(t, d.Reason, "may not pass through")
}

func TestHopLimit(t *testing.T) {
	r := directoryRouter(t, tableDirectory{routes: farRoutes})
	tests := []struct {
		name     string
		endpoint string
		dialled  string
		hops     int
		kind     Kind
		sendHops int
	}{
		{"peer within the limit", "blackphone", "712680", DefaultMaxHops - 1, Peer, DefaultMaxHops},
		{"peer past the limit", "blackphone", "712680", DefaultMaxHops, Reject, 0},
		{"transit past the limit", "peer-shibuya", "9972100", DefaultMaxHops, Reject, 0},
		{"directory path counted whole", "blackphone", "01501058", DefaultMaxHops - 2, Peer, DefaultMaxHops - 1},
		{"directory path past the limit", "blackphone", "01501058", DefaultMaxHops - 1, Reject, 0},
		{"four links", "blackphone", "01701", DefaultMaxHops - 4, Peer, DefaultMaxHops - 3},
		{"four links too many", "blackphone", "01701", DefaultMaxHops - 3, Reject, 0},
		{"local calls never count", "peer-shibuya", "201", 100, Local, 0},
		{"negative hops are zero", "blackphone", "712680", -5, Peer, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.Route(Request{Endpoint: tt.endpoint, Dialled: tt.dialled, Hops: tt.hops})
			assert.Equal(t, tt.kind, d.Kind, d.Reason)
			assert.Equal(t, tt.sendHops, d.Hops)
			if tt.kind == Reject {
				assert.Equal(t, CauseExchangeRouting, d.Cause)
				assert.Contains(t, d.Reason, "limit of 8")
			}
		})
	}

	r = directoryRouter(t, nil, WithMaxHops(1))
	assert.Equal(t, Peer, r.Route(Request{Endpoint: "blackphone", Dialled: "712680"}).Kind)
	assert.Equal(t, Reject, r.Route(Request{Endpoint: "peer-minato", Dialled: "99712680", Hops: 1}).Kind)
	assert.Equal(t, Reject, r.Route(Request{Endpoint: "blackphone", Dialled: "01501058"}).Kind, "a nil directory finds nothing")
}

func TestParseHops(t *testing.T) {
	tests := []struct {
		header, maxForwards string
		want                int
	}{
		{"", "", 0},
		{"3", "", 3},
		{"3", "70", 3},
		{"", "66", 4},             // another PBX counted down Max-Forwards
		{"2", "66", 4},            // the floor wins
		{"5", "69", 5},            // the header wins
		{"x", "70", 0},            // malformed header
		{"2", "y", 2},             // malformed Max-Forwards
		{"", "0", 70},             // Max-Forwards exhausted: past any limit
		{"-4", "", 0},             // negative
		{"", "200", 0},            // above the usual start
		{"99999999999", "", 1000}, // capped
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ParseHops(tt.header, tt.maxForwards), "header %q, Max-Forwards %q", tt.header, tt.maxForwards)
	}
	assert.Equal(t, "PJSIP_HEADER(add,X-Kurodenwa-Hops)", HopsVariable)
	assert.True(t, strings.HasPrefix(HopsHeader, "X-"))
}

// FuzzRouteThroughDirectory: with a directory and any hop count, a peer
// decision stays within the hop limit, never goes back where the call came
// from, and sends only digits.
func FuzzRouteThroughDirectory(f *testing.F) {
	r := directoryRouter(f, tableDirectory{routes: farRoutes})
	for _, s := range []string{"01501058", "9901501058", "712680", "99712680", "01701", "0312345678", "119"} {
		for _, e := range []string{"blackphone", "peer-shibuya", "peer-minato"} {
			f.Add(e, s, 0)
			f.Add(e, s, DefaultMaxHops-1)
		}
	}
	f.Fuzz(func(t *testing.T, endpoint, dialled string, hops int) {
		d := r.Route(Request{Endpoint: endpoint, Dialled: dialled, Hops: hops})
		switch d.Kind {
		case Reject:
			if d.Cause == 0 || d.Reason == "" {
				t.Fatalf("rejection without cause or reason: %+v", d)
			}
		case Peer:
			if d.Hops != max(hops, 0)+1 || max(hops, 0)+max(len(d.Via), 1) > DefaultMaxHops {
				t.Fatalf("hop count %d for a request with %d and a path of %d: %+v", d.Hops, hops, len(d.Via), d)
			}
			if d.Origin.Class == FromPeer && d.Target == d.Origin.Name {
				t.Fatalf("sent back to %s: %+v", d.Target, d)
			}
			if strings.Trim(d.Number, "0123456789*#") != "" || d.Number == "" {
				t.Fatalf("peer number %q", d.Number)
			}
		default:
			if d.Hops != 0 {
				t.Fatalf("hop count on a %v decision", d.Kind)
			}
		}
	})
}

// A call that comes back to an exchange on its path is refused, however
// many exchanges the loop has; a peer leg carries the path on.
func TestPathStopsLoops(t *testing.T) {
	r := newRouter(t, nil)
	self := pathID(r.site.Exchange.Identifier)
	other1, other2 := strings.Repeat("a", 32), strings.Repeat("b", 32)

	d := r.Route(Request{Endpoint: "peer-shibuya", Dialled: "9972100", Path: other1 + "." + self + "." + other2})
	assert.Equal(t, Reject, d.Kind)
	assert.Equal(t, CauseExchangeRouting, d.Cause)
	assert.Contains(t, d.Reason, "loop")

	d = r.Route(Request{Endpoint: "peer-shibuya", Dialled: "9972100", Path: other1 + "." + other2})
	require.Equal(t, Peer, d.Kind, d.Reason)
	assert.Equal(t, other1+"."+other2+"."+self, d.Path)

	d = r.Route(Request{Endpoint: "blackphone", Dialled: "712680"})
	assert.Equal(t, self, d.Path, "our own call starts the path")

	// Junk in the header is dropped, never trusted to refuse a call.
	d = r.Route(Request{Endpoint: "peer-shibuya", Dialled: "9972100", Path: "zz." + strings.ToUpper(other1) + ".;x"})
	require.Equal(t, Peer, d.Kind, d.Reason)
	assert.Equal(t, other1+"."+self, d.Path)
	assert.Empty(t, r.Route(Request{Endpoint: "blackphone", Dialled: "202"}).Path, "no path on a local call")
}
