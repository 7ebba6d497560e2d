// Package pbx_test runs the rendered configuration in a real Asterisk: it
// must load, show every endpoint and context, answer ARI, and route a call
// through the FastAGI fallback when the ARI application is not connected.
package pbx_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/ari-app/fastagi"
	asteriskconf "github.com/kurodenwa/kurodenwa/asterisk-conf"
	"github.com/kurodenwa/kurodenwa/dialplan"
	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/internal/site/sitetest"
	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

// recordingRouter passes requests to the real router and reports them.
type recordingRouter struct {
	*route.Router
	seen chan route.Decision
}

func (r recordingRouter) Route(req route.Request) route.Decision {
	d := r.Router.Route(req)
	r.seen <- d
	return d
}

func TestRenderedConfigurationRuns(t *testing.T) {
	if bin, why := asterisktest.Binary(); bin == "" {
		t.Skip("skipping: " + why)
	}
	sipPort := asterisktest.FreePort(t)
	httpPort := asterisktest.FreePort(t)
	agiPort := asterisktest.FreePort(t)
	s := sitetest.Load(t, "../../asterisk-conf/examples/site.yaml", map[string]string{
		// Everything on loopback, on ports free now.
		"KURODENWA_EXCHANGE_SIP_UDP": fmt.Sprintf("127.0.0.1:%d", sipPort),
		"KURODENWA_EXCHANGE_SIP_TCP": fmt.Sprintf("127.0.0.1:%d", sipPort),
		"KURODENWA_ARI_BIND":         fmt.Sprintf("127.0.0.1:%d", httpPort),
		"KURODENWA_ARI_FASTAGI":      fmt.Sprintf("127.0.0.1:%d", agiPort),
		// Host names would be looked up; the test has no DNS.
		"KURODENWA_EXCHANGE_NAT_EXTERNAL_SIGNALING_ADDRESS": "192.0.2.1",
		"KURODENWA_EXCHANGE_NAT_EXTERNAL_MEDIA_ADDRESS":     "192.0.2.1",
		"KURODENWA_PEERS_MINATO_HOST":                       "192.0.2.20",
		"KURODENWA_EXCHANGE_MOH_DIRECTORY":                  t.TempDir(),
	})
	rendered, err := asteriskconf.Render(s)
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, f := range rendered {
		files[f.Name] = f.Data
	}
	ast := asterisktest.Start(t, files)

	t.Run("endpoints", func(t *testing.T) {
		out := ast.CLI(t, "pjsip show endpoints")
		for name, e := range s.Extensions {
			assert.Contains(t, out, " "+e.Endpoint()+"/"+e.Number+" ", "extension %s", name)
		}
		for name := range s.Peers {
			assert.Contains(t, out, " "+site.PeerEndpoint(name)+" ")
		}
		assert.Contains(t, out, " twilio ")
		assert.NotContains(t, out, "anonymous")
		tw := ast.CLI(t, "pjsip show endpoint twilio")
		for _, c := range s.Twilio.SignalingCIDRs {
			assert.Contains(t, tw, "Match: "+c)
		}
		assert.Regexp(t, `context\s+: from-twilio`, tw)
		assert.Regexp(t, `direct_media\s+: false`, tw)
		tr := ast.CLI(t, "pjsip show transports")
		assert.Contains(t, tr, fmt.Sprintf("127.0.0.1:%d", sipPort))
	})

	t.Run("dialplan", func(t *testing.T) {
		for _, ctx := range append(dialplan.Contexts(), "kd-outbound", "kd-inbound-twilio", "kd-inbound-peer", "kd-agi", "kd-dial", "kd-hangup-tone", "kd-refuse") {
			out := ast.CLI(t, "dialplan show "+ctx)
			assert.Contains(t, out, "[ Context '"+ctx+"' created by 'pbx_config' ]", ctx)
		}
		tw := ast.CLI(t, "dialplan show from-twilio")
		for _, d := range s.Twilio.DIDs {
			assert.Contains(t, tw, "'"+d.Number+"' =>")
		}
		assert.NotContains(t, ast.Log(), "extensions.conf: ", "the dialplan parses without complaint")
	})

	t.Run("tones", func(t *testing.T) {
		out := ast.CLI(t, "indication show jp")
		assert.Regexp(t, `jp\s+ring\s+400\*16/1000,0/2000`, out)
		assert.Regexp(t, `jp\s+hangup\s+400/500,0/500`, out)
	})

	t.Run("no AMI and no chan_sip", func(t *testing.T) {
		assert.Regexp(t, `Manager \(AMI\):\s+No`, ast.CLI(t, "manager show settings"))
		assert.NotContains(t, ast.CLI(t, "module show like chan_sip.so"), "chan_sip.so ")
		assert.Contains(t, ast.CLI(t, "logger show channels"), "SECURITY")
	})

	t.Run("ARI answers", func(t *testing.T) {
		url := fmt.Sprintf("http://127.0.0.1:%d/ari/asterisk/info", httpPort)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.SetBasicAuth(s.ARI.User, s.ARI.Password)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)

		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "ARI without credentials")
	})

	t.Run("FastAGI fallback", func(t *testing.T) {
		router, err := route.New(s)
		require.NoError(t, err)
		rec := recordingRouter{Router: router, seen: make(chan route.Decision, 4)}
		l, err := net.Listen("tcp", s.ARI.FastAGI)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- fastagi.NewServer(rec, nil).Serve(ctx, l) }()
		defer func() { cancel(); <-done }()

		// No ARI application is connected, so Stasis() fails and the
		// dialplan asks the route handler.
		ast.CLI(t, "channel originate Local/+815012345678@from-twilio application Wait 1")
		select {
		case d := <-rec.seen:
			assert.Equal(t, route.Local, d.Kind, d.Reason)
			assert.Equal(t, "blackphone", d.Target)
			assert.Equal(t, route.FromTwilio, d.Origin.Class)
		case <-time.After(20 * time.Second):
			t.Fatal("the dialplan never asked the FastAGI route handler")
		}
		// The black phone is not registered: Dial fails and the caller is
		// refused rather than left in silence.
		ast.WaitLog(t, "Could not create dialog to invalid URI 'blackphone'", 20*time.Second)

		ast.CLI(t, "channel originate Local/+81399999999@from-twilio application Wait 1")
		ast.WaitLog(t, "not one of our DIDs", 20*time.Second)
		select {
		case d := <-rec.seen:
			t.Fatalf("an unknown DID reached the route handler: %+v", d)
		default:
		}
	})

	t.Run("unauthenticated INVITE is challenged", func(t *testing.T) {
		sipp, err := exec.LookPath("sipp")
		if err != nil {
			t.Skip("skipping: no sipp on PATH (Debian package sip-tester)")
		}
		scenario, err := filepath.Abs("testdata/unauthenticated_invite.xml")
		require.NoError(t, err)
		for _, number := range []string{"0312345678", "+815012345678", "201"} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			local := asterisktest.FreePort(t)
			cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-s", number, "-m", "1", "-i", "127.0.0.1",
				"-p", fmt.Sprint(local), "-mp", fmt.Sprint(asterisktest.FreePort(t)), "-nostdin", "-timeout", "20s",
				"-trace_err", "-error_file", filepath.Join(t.TempDir(), "sipp.err"),
				fmt.Sprintf("127.0.0.1:%d", sipPort))
			out, err := cmd.CombinedOutput()
			cancel()
			require.NoError(t, err, "sipp for %s: the INVITE must be answered 401\n%s", number, out)
			// fail2ban reads this line.
			waitFile(t, filepath.Join(ast.Dir(), "log", "security.log"),
				`SecurityEvent="ChallengeSent"`, fmt.Sprintf(`RemoteAddress="IPV4/UDP/127.0.0.1/%d"`, local))
		}
		assert.Contains(t, ast.CLI(t, "core show channels count"), "0 active calls", "no channel was created for the stranger")
	})
}

// waitFile waits, bounded, until one line of path holds every fragment.
func waitFile(t *testing.T, path string, fragments ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		for _, line := range strings.Split(string(data), "\n") {
			all := true
			for _, f := range fragments {
				all = all && strings.Contains(line, f)
			}
			if all {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no line with %q within 10 s:\n%s", path, fragments, data)
		}
		time.Sleep(50 * time.Millisecond) // the logger writes from its own thread
	}
}
