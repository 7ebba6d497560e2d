package fastagi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/route"
)

// fixedRouter answers every request with one decision and records requests.
type fixedRouter struct {
	d    route.Decision
	reqs chan route.Request
}

func (f *fixedRouter) Route(r route.Request) route.Decision {
	f.reqs <- r
	return f.d
}

// startServer serves on a free 127.0.0.1 port until the test ends.
func startServer(t *testing.T, r Router, timeout time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := NewServer(r, nil)
	srv.SessionTimeout = timeout
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled)
		case <-time.After(5 * time.Second):
			t.Error("server did not stop")
		}
	})
	return l.Addr().String()
}

// asterisk plays Asterisk's side of a FastAGI session: it sends the AGI
// environment, answers every command with 200 and returns the commands.
func asterisk(t *testing.T, addr string, env map[string]string) []string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
	var b strings.Builder
	for _, k := range []string{"agi_network", "agi_network_script", "agi_request", "agi_channel", "agi_uniqueid", "agi_arg_1", "agi_arg_2", "agi_arg_3", "agi_arg_4", "agi_arg_5"} {
		if v, ok := env[k]; ok {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	_, err = conn.Write([]byte(b.String()))
	require.NoError(t, err)
	var cmds []string
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return cmds // the server closed the session
		}
		cmds = append(cmds, strings.TrimRight(line, "\n"))
		_, err = conn.Write([]byte("200 result=1\n"))
		require.NoError(t, err)
	}
}

func env(script, endpoint, dialled string) map[string]string {
	return map[string]string{
		"agi_network": "yes", "agi_network_script": script, "agi_request": "agi://127.0.0.1/" + script,
		"agi_channel": "PJSIP/blackphone-00000001", "agi_uniqueid": "1700000000.1",
		"agi_arg_1": endpoint, "agi_arg_2": dialled,
	}
}

func TestRouteSetsVariables(t *testing.T) {
	r := &fixedRouter{reqs: make(chan route.Request, 1), d: route.Decision{
		Kind: route.PSTN, Target: "twilio", Trunk: "twilio", Number: "+81312345678",
		CallerID: "+815012345678", Timeout: 60 * time.Second, Reason: `03 is "Tokyo"`,
	}}
	addr := startServer(t, r, 5*time.Second)
	cmds := asterisk(t, addr, env("route", "blackphone", "0312345678"))
	assert.Equal(t, route.Request{Endpoint: "blackphone", Dialled: "0312345678"}, <-r.reqs)
	assert.Equal(t, []string{
		`SET VARIABLE KD_DIAL "PJSIP/+81312345678@twilio"`,
		`SET VARIABLE KD_TIMEOUT "60"`,
		`SET VARIABLE KD_CALLERID "+815012345678"`,
		`SET VARIABLE KD_TARGET "twilio"`,
		`SET VARIABLE KD_CAUSE ""`,
		`SET VARIABLE KD_TONE ""`,
		`SET VARIABLE KD_REASON "03 is \"Tokyo\""`,
		`SET VARIABLE KD_HOPS ""`,
		`SET VARIABLE KD_PATH ""`,
		`SET VARIABLE KD_ROUTE "pstn"`,
	}, cmds, "KD_ROUTE comes last so a cut session never looks routed")
}

// A call from a peer brings its hop count; a peer leg takes the next one.
func TestRoutePassesHops(t *testing.T) {
	r := &fixedRouter{reqs: make(chan route.Request, 1), d: route.Decision{
		Kind: route.Peer, Target: "minato", Trunk: "peer-minato", Number: "100", Hops: 3, Path: "aa.bb", Timeout: 60 * time.Second,
	}}
	addr := startServer(t, r, 5*time.Second)
	e := env("route", "peer-shibuya", "9972100")
	e["agi_arg_3"], e["agi_arg_4"], e["agi_arg_5"] = "2", "70", "aa"
	cmds := asterisk(t, addr, e)
	assert.Equal(t, route.Request{Endpoint: "peer-shibuya", Dialled: "9972100", Hops: 2, Path: "aa"}, <-r.reqs)
	assert.Contains(t, cmds, `SET VARIABLE KD_DIAL "PJSIP/100@peer-minato"`)
	assert.Contains(t, cmds, `SET VARIABLE KD_HOPS "3"`)
	assert.Contains(t, cmds, `SET VARIABLE KD_PATH "aa.bb"`)
	assert.Equal(t, `SET VARIABLE KD_ROUTE "peer"`, cmds[len(cmds)-1])
}

func TestRejectAndBadRequests(t *testing.T) {
	r := &fixedRouter{reqs: make(chan route.Request, 4), d: route.Decision{Kind: route.Reject, Cause: 1, Tone: "congestion", Reason: "no\nsuch number"}}
	addr := startServer(t, r, 5*time.Second)

	cmds := asterisk(t, addr, env("route", "blackphone", "555"))
	assert.Contains(t, cmds, `SET VARIABLE KD_CAUSE "1"`)
	assert.Contains(t, cmds, `SET VARIABLE KD_REASON "no such number"`, "control characters never reach the protocol")
	assert.Equal(t, `SET VARIABLE KD_ROUTE "reject"`, cmds[len(cmds)-1])

	for _, tc := range []struct{ script, endpoint, want string }{
		{"other", "blackphone", `unknown AGI script`},
		{"route", "", `argument 1 (the calling endpoint) is missing`},
	} {
		cmds := asterisk(t, addr, env(tc.script, tc.endpoint, "201"))
		require.NotEmpty(t, cmds)
		assert.Equal(t, `SET VARIABLE KD_ROUTE "reject"`, cmds[len(cmds)-1])
		assert.Contains(t, strings.Join(cmds, "\n"), tc.want)
	}
	assert.Len(t, r.reqs, 1, "bad requests never reach the router")
}

// A peer that connects and says nothing is dropped at the deadline instead
// of holding a goroutine forever.
func TestSilentPeerTimesOut(t *testing.T) {
	r := &fixedRouter{reqs: make(chan route.Request, 1)}
	addr := startServer(t, r, 200*time.Millisecond)
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = conn.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the server closes the session itself, before our own 5 s deadline")
}

func TestParseRequest(t *testing.T) {
	req, err := parseRequest(map[string]string{"agi_network_script": "/route?x=1", "agi_arg_1": "linphone", "agi_arg_2": "+81312345678"})
	require.NoError(t, err)
	assert.Equal(t, route.Request{Endpoint: "linphone", Dialled: "+81312345678"}, req)
	req, err = parseRequest(map[string]string{"agi_network_script": "route", "agi_arg_1": "peer-b", "agi_arg_2": "1", "agi_arg_3": "", "agi_arg_4": "67"})
	require.NoError(t, err)
	assert.Equal(t, 3, req.Hops, "Max-Forwards is the floor when the header is missing")
	_, err = parseRequest(nil)
	assert.ErrorContains(t, err, "no AGI environment")
}

func TestQuote(t *testing.T) {
	assert.Equal(t, `"a b"`, quote("a b"))
	assert.Equal(t, `"x\\y \"z\""`, quote(`x\y "z"`))
	assert.Equal(t, `"a  b"`, quote("a\r\nb"))
}
