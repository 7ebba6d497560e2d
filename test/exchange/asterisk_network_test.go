package exchange_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	asteriskconf "github.com/kurodenwa/kurodenwa/asterisk-conf"
	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/test/asterisktest"
)

// startAsterisk runs the exchange's rendered configuration in a real
// Asterisk, with the test phone context added.
func (n *node) startAsterisk(t *testing.T) *asterisktest.Instance {
	t.Helper()
	rendered, err := asteriskconf.Render(n.site)
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, f := range rendered {
		files[f.Name] = f.Data
	}
	files["extensions.conf"] = append(files["extensions.conf"], testPhone("desk")...)
	return asterisktest.Start(t, files)
}

// TestCallThroughThreeAsterisks places a call on A's Asterisk for C's
// preferred prefix and follows it over SIP: A's route handler sends it to
// B with the composed number and hop 1, B's passes it on to C with hop 2,
// and C rings its desk phone, registered by sipp and played by a fake SIP
// phone that is busy.
func TestCallThroughThreeAsterisks(t *testing.T) {
	if bin, why := asterisktest.Binary(); bin == "" {
		t.Skip("skipping: " + why)
	}
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("skipping: no sipp on PATH (Debian package sip-tester)")
	}
	a, b, c := network(t)
	astA := a.startAsterisk(t)
	b.startAsterisk(t)
	c.startAsterisk(t)

	// The desk registers from the port its stand-in will answer on
	// (Asterisk rewrites the contact to the source address).
	port := asterisktest.FreePort(t)
	scenario, err := filepath.Abs("testdata/register.xml")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, sipp, "-sf", scenario, "-s", "desk", "-au", "desk", "-ap", deskPassword,
		"-key", "contact_port", fmt.Sprint(port), "-i", "127.0.0.1", "-p", fmt.Sprint(port), "-m", "1", "-nostdin",
		"-timeout", "20s", "-trace_err", "-error_file", filepath.Join(t.TempDir(), "sipp.err"), c.site.Exchange.SIP.UDP).CombinedOutput()
	require.NoError(t, err, "sipp register: %s", out)
	desk := startSIPPeerOn(t, "127.0.0.1", port)

	astA.CLI(t, "channel originate Local/0130300@kd-test-phone application Wait 5")

	atA := a.next(t)
	assert.Equal(t, route.Request{Endpoint: "desk", Dialled: "0130300"}, atA.req)
	require.Equal(t, route.Peer, atA.d.Kind, atA.d.Reason)
	assert.Equal(t, "PJSIP/9972300@peer-b", atA.d.DialString())

	atB := b.next(t)
	pathA := strings.ReplaceAll(a.site.Exchange.Identifier, "-", "")
	pathB := strings.ReplaceAll(b.site.Exchange.Identifier, "-", "")
	assert.Equal(t, route.Request{Endpoint: "peer-a", Dialled: "9972300", Hops: 1, Path: pathA}, atB.req,
		"the hop and path headers crossed A → B")
	require.Equal(t, route.Peer, atB.d.Kind, atB.d.Reason)
	assert.True(t, atB.d.Transit)
	assert.Equal(t, "PJSIP/300@peer-c", atB.d.DialString())

	atC := c.next(t)
	assert.Equal(t, route.Request{Endpoint: "peer-b", Dialled: "300", Hops: 2, Path: pathA + "." + pathB}, atC.req, "and B → C")
	assert.Equal(t, route.Local, atC.d.Kind, atC.d.Reason)
	assert.Equal(t, []string{"desk"}, atC.d.Endpoints)

	invite := desk.nextInvite(t, 20*time.Second)
	assert.Equal(t, "desk", invite.user())
	assert.Empty(t, invite.header(route.HopsHeader), "a phone gets no hop count")
}

func (n *node) next(t *testing.T) routed {
	t.Helper()
	select {
	case got := <-n.seen:
		return got
	case <-time.After(20 * time.Second):
		t.Fatalf("exchange %s's route handler was never asked", n.name)
		return routed{}
	}
}
