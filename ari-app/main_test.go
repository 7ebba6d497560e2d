package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/site"
	"github.com/kurodenwa/kurodenwa/internal/site/sitetest"
)

const example = "../asterisk-conf/examples/site.yaml"

func setSecrets(t *testing.T) {
	for k, v := range sitetest.Secrets() {
		t.Setenv(k, v)
	}
}

func runCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheck(t *testing.T) {
	setSecrets(t)
	code, out, _ := runCmd("check", "--site", example)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, `valid site "Kurodenwa Home Exchange": 3 extension(s), 1 ring group(s), 2 peer(s), Twilio enabled`)

	t.Setenv("KURODENWA_TWILIO_PASSWORD", "")
	os.Unsetenv("KURODENWA_TWILIO_PASSWORD")
	code, _, errOut := runCmd("check", "--site", example)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "twilio.password: missing secret: set the environment variable KURODENWA_TWILIO_PASSWORD")

	code, _, errOut = runCmd("check", "--site", "does-not-exist.yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "read site file")
}

func TestRender(t *testing.T) {
	setSecrets(t)
	dir := filepath.Join(t.TempDir(), "asterisk")
	code, out, errOut := runCmd("render", "--site", example, "--out", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "wrote "+dir+"/pjsip.conf")
	st, err := os.Stat(filepath.Join(dir, "ari.conf"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())

	assert.Contains(t, out, "wrote "+dir+"/mantela.json")
	data, err := os.ReadFile(filepath.Join(dir, "mantela.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"identifier": "6f1c8a52-0d2b-4a8e-9a55-3f0d1c2b7e41"`)

	elsewhere := filepath.Join(t.TempDir(), "www", "mantela.json")
	code, out, errOut = runCmd("render", "--site", example, "--out", dir, "--mantela", elsewhere)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "wrote "+elsewhere)
	st, err = os.Stat(elsewhere)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "published, no secret in it")

	code, _, errOut = runCmd("render", "--site", example)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--out DIR is required")
}

func TestRoute(t *testing.T) {
	setSecrets(t)
	code, out, _ := runCmd("route", "--site", example, "0312345678", "119")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "from blackphone")
	assert.Contains(t, out, "Dial(PJSIP/+81312345678@twilio)")
	assert.Contains(t, out, "refused: cause 3")

	code, out, _ = runCmd("route", "--site", example, "--from", "twilio", "0312345678")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "not one of our DIDs")
}

func TestUsage(t *testing.T) {
	code, _, errOut := runCmd("frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)
	code, out, _ := runCmd("help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "ari-app render")
	code, _, errOut = runCmd("check", "--log-level", "loud")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--log-level")
}

// serve runs the FastAGI handler until its context ends.
func TestServeStops(t *testing.T) {
	setSecrets(t)
	addr, api, ari := freeAddr(t), freeAddr(t), freeAddr(t)
	t.Setenv("KURODENWA_ARI_FASTAGI", addr)
	t.Setenv("KURODENWA_ARI_API", api)
	t.Setenv("KURODENWA_ARI_BIND", ari) // nothing answers there: the app keeps retrying
	// The peer's document is unusable: reported, never fatal.
	peer := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(peer.Close)
	t.Setenv("KURODENWA_PEERS_SHIBUYA_MANTELA", peer.URL+"/mantela.json")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--site", example, "--state-dir", t.TempDir(), "--cost-model", "push"}, &out, &errOut)
	}()
	// Bounded wait until the handler accepts connections.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		require.True(t, time.Now().Before(deadline), "serve never listened on %s", addr)
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get("http://" + api + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "no Asterisk: ARI is disconnected")

	resp, err = http.Get("http://" + api + "/.well-known/mantela.json")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `"preferredPrefix": [`)
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + api + "/mantela/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), "404 Not Found") && strings.Contains(string(body), `"cost_model": "push-button"`)
	}, 10*time.Second, 20*time.Millisecond, "the fetch problem is reported")
	resp, err = http.Get("http://" + api + "/routes?to=9203&ext=201")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "our own exchange is always known")
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, errOut.String())
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func TestAppTransfersDecision(t *testing.T) {
	for _, tc := range []struct {
		mode, version string
		want          bool
	}{
		{site.TransferAuto, "22.10.1", false}, // has ari-only, not the Refer-Sub fix
		{site.TransferAuto, "22.11.0", true},
		{site.TransferAuto, "22.2.0", false},
		{site.TransferAuto, "", false}, // version unknown
		{site.TransferApplication, "22.10.1", true},
		{site.TransferApplication, "22.2.0", false},
		{site.TransferCore, "22.10.1", false},
		{site.TransferCore, "22.11.0", false},
	} {
		assert.Equal(t, tc.want, appTransfers(tc.mode, tc.version), "%s on %q", tc.mode, tc.version)
	}
}
