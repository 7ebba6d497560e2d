// Package exchange_test runs several kurodenwa exchanges side by side on
// 127.0.0.1 and follows calls between them: each exchange publishes its
// mantela.json over HTTP, walks the others' documents, and routes by
// FastAGI, as the dialplan's fallback would. A call from A for C's
// preferred prefix reaches C through B with a composed hop number; a call
// sent back to where it came from, or past the hop limit, is refused.
//
// hopheader_test.go checks the hop header itself against a real Asterisk.
package exchange_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/ari-app/fastagi"
	"github.com/kurodenwa/kurodenwa/ari-app/httpapi"
	"github.com/kurodenwa/kurodenwa/internal/directory"
	"github.com/kurodenwa/kurodenwa/internal/mantela"
	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

// node is one exchange: what ari-app serve builds, minus Asterisk.
type node struct {
	name    string
	site    *site.Site
	dir     *directory.Directory
	router  *route.Router
	web     *httptest.Server // the app's HTTP API
	fastagi string           // the FastAGI route handler's address
	seen    chan routed      // what the route handler decided
}

func (n *node) mantelaURL() string { return n.web.URL + httpapi.MantelaPath }

// exchangeSite is the site file of one exchange; peers are appended.
const exchangeSite = `
exchange:
  name: Exchange %[1]s
  identifier: %[2]s
  preferred_prefix: "%[3]s"
  hop_prefix: "99"
  sip:
    udp: %[4]s
  moh_directory: %[6]s
extensions:
  desk:
    number: "%[5]s"
    kind: blackphone
    public: true
    # sipp registers for the phone, then leaves: ask it nothing.
    qualify_frequency: 0s
ari:
  bind: %[7]s
  fastagi: %[8]s
peers:
`

// exchangeSpec describes one exchange of a test network.
type exchangeSpec struct {
	identifier, preferred, extension string
	// sip, ari and fastagi are the addresses Asterisk and the route
	// handler listen on; only the FastAGI one is opened without Asterisk.
	sip, ari, fastagi string
	peers             []peerSpec
}

// peerSpec is a peer entry; host is the peer's SIP address.
type peerSpec struct {
	name, identifier, prefix, host, mantela string
}

const peerSite = `  %[1]s:
    identifier: %[2]s
    prefix: "%[3]s"
    host: %[4]s
    mantela: %[5]s
    transit: true
`

// startNode builds an exchange whose site is known only once every web
// server is up, since the sites name each other's mantela URLs.
func startNode(t *testing.T, name string) *node {
	t.Helper()
	n := &node{name: name, seen: make(chan routed, 64)}
	mux := http.NewServeMux()
	// Handlers are added by configure; until then every path is 404.
	n.web = httptest.NewServer(mux)
	t.Cleanup(n.web.Close)
	return n
}

func (n *node) configure(t *testing.T, spec exchangeSpec) {
	t.Helper()
	yaml := fmt.Sprintf(exchangeSite, n.name, spec.identifier, spec.preferred, spec.sip, spec.extension, t.TempDir(), spec.ari, spec.fastagi)
	for _, p := range spec.peers {
		yaml += fmt.Sprintf(peerSite, p.name, p.identifier, p.prefix, p.host, p.mantela)
	}
	secrets := map[string]string{"KURODENWA_ARI_PASSWORD": "AriSecret2026x", "KURODENWA_EXTENSIONS_DESK_PASSWORD": deskPassword}
	s, err := site.Parse([]byte(yaml), "exchange "+n.name, site.Options{LookupEnv: func(k string) (string, bool) {
		v, ok := secrets[k]
		return v, ok
	}})
	require.NoError(t, err)
	n.site = s
	n.dir, err = directory.New(s, directory.Config{CostModel: "pulse10", CacheDir: t.TempDir()})
	require.NoError(t, err)
	n.router, err = route.New(s, route.WithDirectory(n.dir))
	require.NoError(t, err)

	mux := n.web.Config.Handler.(*http.ServeMux)
	doc, err := httpapi.MantelaDocument(n.dir.Document())
	require.NoError(t, err)
	mux.Handle("GET "+httpapi.MantelaPath, doc)
	mux.Handle("GET /mantela/status", httpapi.MantelaStatus(n.dir))
	mux.Handle("GET /routes", httpapi.Routes(n.dir))

	l, err := net.Listen("tcp", s.ARI.FastAGI)
	require.NoError(t, err)
	n.fastagi = l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fastagi.NewServer(recordingRouter{Router: n.router, seen: n.seen}, nil).Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("FastAGI server of exchange " + n.name + " did not stop")
		}
	})
}

func (n *node) refresh(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, n.dir.Refresh(ctx))
}

// answer is what the FastAGI route handler set on the channel.
type answer map[string]string

// route plays the dialplan asking the exchange's route handler, as
// kd-agi does: AGI(route,<endpoint>,<number>,<hops header>,<Max-Forwards>).
func (n *node) route(t *testing.T, endpoint, dialled string, hops int) answer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", n.fastagi, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	header := ""
	if hops > 0 {
		header = strconv.Itoa(hops)
	}
	fmt.Fprintf(conn, "agi_network: yes\nagi_network_script: route\nagi_channel: PJSIP/%s-00000001\nagi_uniqueid: 1.1\n"+
		"agi_arg_1: %s\nagi_arg_2: %s\nagi_arg_3: %s\nagi_arg_4: 70\n\n", endpoint, endpoint, dialled, header)
	got := answer{}
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			return got
		}
		require.NoError(t, err)
		name, value, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "SET VARIABLE "), " ")
		require.True(t, ok, "unexpected AGI command %q", line)
		got[name], err = strconv.Unquote(value)
		require.NoError(t, err)
		_, err = conn.Write([]byte("200 result=1\n"))
		require.NoError(t, err)
	}
}

// peerLeg reads the dial string of a peer route: the trunk's endpoint and
// the number dialled there.
func peerLeg(t *testing.T, a answer) (endpoint, number string) {
	t.Helper()
	require.Equal(t, "peer", a[fastagi.VarRoute], a[fastagi.VarReason])
	target, ok := strings.CutPrefix(a[fastagi.VarDial], "PJSIP/")
	require.True(t, ok, a[fastagi.VarDial])
	number, trunk, ok := strings.Cut(target, "@")
	require.True(t, ok, a[fastagi.VarDial])
	return trunk, number
}

// deskPassword is every test exchange's desk phone's SIP password.
const deskPassword = "Rotary-Line-2026"

const (
	idA = "a0a0a0a0-1111-4111-8111-000000000001"
	idB = "b0b0b0b0-2222-4222-8222-000000000002"
	idC = "c0c0c0c0-3333-4333-8333-000000000003"
	idD = "d0d0d0d0-4444-4444-8444-000000000004"
)

// network: A — B — C in a line, each on its own 127.0.0.x address for
// SIP. Each knows only its neighbours; C also lists an exchange D whose
// document is missing.
func network(t *testing.T) (a, b, c *node) {
	a, b, c = startNode(t, "A"), startNode(t, "B"), startNode(t, "C")
	addr := func(ip string) string { return fmt.Sprintf("%s:%d", ip, freePort(t)) }
	sipA, sipB, sipC := addr("127.0.0.11"), addr("127.0.0.12"), addr("127.0.0.13")
	a.configure(t, exchangeSpec{identifier: idA, preferred: "0110", extension: "201",
		sip: sipA, ari: addr("127.0.0.1"), fastagi: addr("127.0.0.1"),
		peers: []peerSpec{{name: "b", identifier: idB, prefix: "71", host: sipB, mantela: b.mantelaURL()}}})
	b.configure(t, exchangeSpec{identifier: idB, preferred: "0120", extension: "202",
		sip: sipB, ari: addr("127.0.0.1"), fastagi: addr("127.0.0.1"),
		peers: []peerSpec{
			{name: "a", identifier: idA, prefix: "71", host: sipA, mantela: a.mantelaURL()},
			{name: "c", identifier: idC, prefix: "72", host: sipC, mantela: c.mantelaURL()},
		}})
	c.configure(t, exchangeSpec{identifier: idC, preferred: "0130", extension: "300",
		sip: sipC, ari: addr("127.0.0.1"), fastagi: addr("127.0.0.1"),
		peers: []peerSpec{
			{name: "b", identifier: idB, prefix: "71", host: sipB, mantela: b.mantelaURL()},
			{name: "d", identifier: idD, prefix: "73", host: addr("127.0.0.14"), mantela: c.web.URL + "/missing/mantela.json"},
		}})
	for _, n := range []*node{a, b, c} {
		n.refresh(t)
	}
	return a, b, c
}

// freePort returns a port free on 127.0.0.1 for TCP and UDP; the other
// loopback addresses share the port space in practice.
func freePort(t *testing.T) int {
	t.Helper()
	return asterisktest.FreePort(t)
}

func TestCallReachesAnExchangeBeyondThePeers(t *testing.T) {
	a, b, c := network(t)

	// A's black phone dials C's preferred prefix and C's desk.
	atA := a.route(t, "desk", "0130300", 0)
	trunk, number := peerLeg(t, atA)
	assert.Equal(t, "peer-b", trunk)
	assert.Equal(t, "9972300", number, "B's self prefix, B's prefix for C, the extension")
	assert.Equal(t, "1", atA[fastagi.VarHops])
	assert.Contains(t, atA[fastagi.VarReason], "Mantela: prefix 0130 is Exchange C")

	// B takes it as transit by its hop prefix and passes it to C.
	atB := b.route(t, "peer-a", number, 1)
	trunk, number = peerLeg(t, atB)
	assert.Equal(t, "peer-c", trunk)
	assert.Equal(t, "300", number)
	assert.Equal(t, "2", atB[fastagi.VarHops])

	// C rings its desk.
	atC := c.route(t, "peer-b", number, 2)
	assert.Equal(t, "local", atC[fastagi.VarRoute], atC[fastagi.VarReason])
	assert.Equal(t, "PJSIP/desk", atC[fastagi.VarDial])
	assert.Empty(t, atC[fastagi.VarHops])
}

func TestLoopsAndHopLimitAreRefused(t *testing.T) {
	a, b, _ := network(t)

	// A → B → A: B refuses to send the call straight back.
	atA := a.route(t, "desk", "719971201", 0)
	_, number := peerLeg(t, atA)
	atB := b.route(t, "peer-a", number, 1)
	assert.Equal(t, "reject", atB[fastagi.VarRoute])
	assert.Equal(t, strconv.Itoa(route.CauseNoRoute), atB[fastagi.VarCause])
	assert.Contains(t, atB[fastagi.VarReason], "would return to peer a")

	// B asked by A for A's own prefix through the directory: the only way
	// leads back to A, so there is none.
	atB = b.route(t, "peer-a", "990110201", 1)
	assert.Equal(t, "reject", atB[fastagi.VarRoute], atB[fastagi.VarReason])

	// A call that has crossed the limit already stops at B.
	atB = b.route(t, "peer-a", "9972300", route.DefaultMaxHops)
	assert.Equal(t, "reject", atB[fastagi.VarRoute])
	assert.Equal(t, strconv.Itoa(route.CauseExchangeRouting), atB[fastagi.VarCause])
}

func TestPublishedDocumentsAndStatus(t *testing.T) {
	a, _, c := network(t)

	resp, err := http.Get(c.mantelaURL())
	require.NoError(t, err)
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	doc, err := mantela.Parse(data, c.mantelaURL())
	require.NoError(t, err)
	assert.Equal(t, idC, doc.AboutMe.Identifier)
	assert.Equal(t, []string{"99"}, doc.SelfPrefixes())

	// C's missing neighbour is reported at A, with who referenced it, and
	// routing goes on.
	var status directory.Status
	getJSON(t, a.web.URL+"/mantela/status", &status)
	assert.Equal(t, 3, status.Exchanges, "A (its published copy), B and C")
	require.Len(t, status.Problems, 1)
	assert.Equal(t, c.web.URL+"/missing/mantela.json", status.Problems[0].URL)
	assert.Contains(t, status.Problems[0].ReferencedBy[0], idC)
	assert.Contains(t, status.Problems[0].Error, "404")

	var report directory.RouteReport
	getJSON(t, a.web.URL+"/routes?to=0130&ext=300&model=hops", &report)
	assert.Equal(t, "719972300", report.Best.Number)
	assert.Equal(t, "9972300", report.Best.Send)
	assert.Equal(t, "peer-b", report.Best.Trunk)
	assert.Equal(t, int64(2), report.Best.Cost)
	assert.True(t, report.Best.Listed)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}
