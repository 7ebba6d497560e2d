package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/ari-app/asterisk"
	"github.com/kurodenwa/kurodenwa/ari-app/fastagi"
	asteriskconf "github.com/kurodenwa/kurodenwa/asterisk-conf"
	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/internal/site/sitetest"
	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

// recordingRouter passes requests to the real router and reports them.
type recordingRouter struct {
	*route.Router
	seen chan routed
}

type routed struct {
	req route.Request
	d   route.Decision
}

func (r recordingRouter) Route(req route.Request) route.Decision {
	d := r.Router.Route(req)
	select {
	case r.seen <- routed{req, d}:
	default: // nobody is watching this many calls; routing must not wait
	}
	return d
}

func (r recordingRouter) next(t *testing.T) routed {
	t.Helper()
	select {
	case got := <-r.seen:
		return got
	case <-time.After(20 * time.Second):
		t.Fatal("the dialplan never asked the FastAGI route handler")
		return routed{}
	}
}

// testPhone is a context in which a Local channel calls as the phone with
// endpoint would: a Local channel has no PJSIP endpoint for kd-outbound to
// name.
func testPhone(endpoint string) string {
	return "\n[kd-test-phone]\nexten => _X.,1,Gosub(kd-outbound,s,1(" + endpoint + ",${EXTEN}))\n same => n,Hangup()\n"
}

// TestHopHeaderInAsterisk checks the hop count against a real Asterisk with
// the rendered example site, its two peers played on 127.0.0.1 (shibuya)
// and 127.0.0.2 (minato), and no ARI application, so calls take the FastAGI
// path: the header a peer sends reaches the router, and peer legs carry the
// next count, whether the dialplan dials them (pre-dial handler) or ARI
// creates them (channel variable set between create and dial).
func TestHopHeaderInAsterisk(t *testing.T) {
	if bin, why := asterisktest.Binary(); bin == "" {
		t.Skip("skipping: " + why)
	}
	shibuya := startSIPPeer(t, "127.0.0.1")
	minato := startSIPPeer(t, "127.0.0.2")
	sipPort, httpPort, agiPort := asterisktest.FreePort(t), asterisktest.FreePort(t), asterisktest.FreePort(t)
	env := sitetest.Env(map[string]string{
		"KURODENWA_EXCHANGE_SIP_UDP":       fmt.Sprintf("127.0.0.1:%d", sipPort),
		"KURODENWA_EXCHANGE_SIP_TCP":       fmt.Sprintf("127.0.0.1:%d", sipPort),
		"KURODENWA_ARI_BIND":               fmt.Sprintf("127.0.0.1:%d", httpPort),
		"KURODENWA_ARI_FASTAGI":            fmt.Sprintf("127.0.0.1:%d", agiPort),
		"KURODENWA_EXCHANGE_MOH_DIRECTORY": t.TempDir(),
		// Host names would be looked up; the test has no DNS.
		"KURODENWA_EXCHANGE_NAT_EXTERNAL_SIGNALING_ADDRESS": "192.0.2.1",
		"KURODENWA_EXCHANGE_NAT_EXTERNAL_MEDIA_ADDRESS":     "192.0.2.1",
		"KURODENWA_PEERS_SHIBUYA_HOST":                      shibuya.addr().String(),
		"KURODENWA_PEERS_MINATO_HOST":                       minato.addr().String(),
		"KURODENWA_PEERS_MINATO_AUTH":                       site.AuthIP,
	})
	s := sitetest.Load(t, "../../asterisk-conf/examples/site.yaml", env)
	rendered, err := asteriskconf.Render(s)
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, f := range rendered {
		files[f.Name] = f.Data
	}
	files["extensions.conf"] = append(files["extensions.conf"], testPhone("blackphone")...)
	ast := asterisktest.Start(t, files)

	router, err := route.New(s)
	require.NoError(t, err)
	rec := recordingRouter{Router: router, seen: make(chan routed, 8)}
	l, err := net.Listen("tcp", s.ARI.FastAGI)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fastagi.NewServer(rec, nil).Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	exchangeAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sipPort}

	t.Run("our phone's call leaves with hop 1", func(t *testing.T) {
		ast.CLI(t, "channel originate Local/712680@kd-test-phone application Wait 5")
		got := rec.next(t)
		assert.Equal(t, route.Peer, got.d.Kind, got.d.Reason)
		assert.Equal(t, 1, got.d.Hops)
		invite := shibuya.nextInvite(t, 20*time.Second)
		assert.Equal(t, "2680", invite.user())
		assert.Equal(t, "1", invite.header(route.HopsHeader))
	})

	t.Run("transit adds one to the peer's count", func(t *testing.T) {
		shibuya.call(exchangeAddr, "9972100", route.HopsHeader+": 3")
		got := rec.next(t)
		assert.Equal(t, route.Request{Endpoint: "peer-shibuya", Dialled: "9972100", Hops: 3}, got.req)
		assert.Equal(t, route.Peer, got.d.Kind, got.d.Reason)
		invite := minato.nextInvite(t, 20*time.Second)
		assert.Equal(t, "100", invite.user())
		assert.Equal(t, "4", invite.header(route.HopsHeader))
	})

	t.Run("Max-Forwards is the floor without the header", func(t *testing.T) {
		// A proxy on the way counted Max-Forwards down to 66: 4 links.
		shibuya.call(exchangeAddr, "9972100", "Max-Forwards: 66")
		got := rec.next(t)
		assert.Equal(t, 4, got.req.Hops)
		assert.Equal(t, "5", minato.nextInvite(t, 20*time.Second).header(route.HopsHeader))
	})

	t.Run("the hop limit refuses the call", func(t *testing.T) {
		shibuya.call(exchangeAddr, "9972100", fmt.Sprintf("%s: %d", route.HopsHeader, route.DefaultMaxHops))
		got := rec.next(t)
		assert.Equal(t, route.Reject, got.d.Kind)
		assert.Equal(t, route.CauseExchangeRouting, got.d.Cause)
		ast.WaitLog(t, "limit of 8", 20*time.Second)
	})

	t.Run("an ARI-created channel carries the header set before dial", func(t *testing.T) {
		app := startARIApp(t, fmt.Sprintf("http://127.0.0.1:%d/ari", httpPort), s.ARI.User, s.ARI.Password)
		endpoint := "PJSIP/100@" + site.PeerEndpoint("minato")

		// The race-free way: the variable in the body of POST
		// /channels/create, set before the channel exists for anyone.
		app.post(t, "/channels/create", url.Values{"endpoint": {endpoint}, "app": {app.name}, "channelId": {"kd-hops-test-1"}},
			map[string]any{"variables": map[string]string{route.HopsVariable: "5"}})
		app.waitStasisStart(t, "kd-hops-test-1")
		app.post(t, "/channels/kd-hops-test-1/dial", url.Values{"timeout": {"10"}}, nil)
		invite := minato.nextInvite(t, 20*time.Second)
		assert.Equal(t, "100", invite.user())
		assert.Equal(t, "5", invite.header(route.HopsHeader))

		// Create, then set the variable once the channel is in the
		// application (before StasisStart the request may fail with 409),
		// then dial.
		app.post(t, "/channels/create", url.Values{"endpoint": {endpoint}, "app": {app.name}, "channelId": {"kd-hops-test-2"}}, nil)
		app.waitStasisStart(t, "kd-hops-test-2")
		app.post(t, "/channels/kd-hops-test-2/variable", url.Values{"variable": {route.HopsVariable}, "value": {"6"}}, nil)
		app.post(t, "/channels/kd-hops-test-2/dial", url.Values{"timeout": {"10"}}, nil)
		assert.Equal(t, "6", minato.nextInvite(t, 20*time.Second).header(route.HopsHeader))
	})
}

// ariApp is a bare Stasis application: the project's event stream and
// plain REST requests.
type ariApp struct {
	name, base, user, password string
	started                    chan string // IDs of channels that entered
}

func startARIApp(t *testing.T, base, user, password string) *ariApp {
	t.Helper()
	a := &ariApp{name: "kd-hops-test", base: base, user: user, password: password, started: make(chan string, 16)}
	stream, err := asterisk.NewStream(asterisk.StreamConfig{URL: base, App: a.name, User: user, Password: password}, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	connected := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- stream.Run(ctx, ariHandler{app: a, connected: connected}) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-connected:
	case <-time.After(20 * time.Second):
		t.Fatal("the test application never connected to ARI")
	}
	return a
}

func (a *ariApp) post(t *testing.T, path string, query url.Values, body any) {
	t.Helper()
	var data []byte
	if body != nil {
		var err error
		data, err = json.Marshal(body)
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path+"?"+query.Encode(), bytes.NewReader(data))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(a.user, a.password)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, "POST %s: %s %s", path, resp.Status, reply)
}

// waitStasisStart waits, bounded, until channel id has entered the
// application.
func (a *ariApp) waitStasisStart(t *testing.T, id string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case got := <-a.started:
			if got == id {
				return
			}
		case <-timeout:
			t.Fatalf("channel %s never entered the application", id)
		}
	}
}

type ariHandler struct {
	app       *ariApp
	connected chan struct{}
}

func (h ariHandler) Connected(context.Context, bool) {
	select {
	case <-h.connected:
	default:
		close(h.connected)
	}
}

func (h ariHandler) Event(_ context.Context, e ari.Event) {
	if s, ok := e.(*ari.StasisStart); ok {
		select {
		case h.app.started <- s.Channel.ID:
		default: // never hold up the stream
		}
	}
}

func (h ariHandler) Disconnected(error) {}
