package status_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/status"
)

type fakeSIP struct {
	reg   status.Registration
	calls []status.Call
}

func (f fakeSIP) Registration() status.Registration { return f.reg }
func (f fakeSIP) Calls() []status.Call              { return f.calls }

type fakeMedia struct{}

func (fakeMedia) Media() status.Media {
	return status.Media{PacketsSent: 500, PacketsReceived: 498, PacketsLost: 2, PacketsLate: 1, JitterSeconds: 0.004}
}

type fakeLine struct{}

func (fakeLine) Status() string { return "serial /dev/ttyACM0: ready" }

type fakePhone struct{}

func (fakePhone) Snapshot() phone.Snapshot {
	return phone.Snapshot{State: phone.StateConnected, Call: "out-1", Digits: "117"}
}
func (fakePhone) Results() map[phone.Result]uint64 {
	return map[phone.Result]uint64{phone.ResultAnswered: 3, phone.ResultBusy: 1}
}

func newServer(t *testing.T, sip status.SIP) *httptest.Server {
	t.Helper()
	s, err := status.New(status.Options{SIP: sip, Media: fakeMedia{}, Line: fakeLine{}, Phone: fakePhone{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestHealth(t *testing.T) {
	since := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		sip  fakeSIP
		code int
		ok   bool
	}{
		{"registered", fakeSIP{reg: status.Registration{State: status.RegRegistered, Registrar: "pbx.local"},
			calls: []status.Call{{ID: "out-1", Direction: "out", Remote: "117", State: "connected", Since: since}}}, 200, true},
		{"failed", fakeSIP{reg: status.Registration{State: status.RegFailed, Detail: "403 Forbidden"}}, 503, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, tt.sip)
			code, body := get(t, ts.URL+"/health")
			assert.Equal(t, tt.code, code)
			var h status.Health
			require.NoError(t, json.Unmarshal([]byte(body), &h))
			assert.Equal(t, tt.ok, h.OK)
			assert.Equal(t, "serial /dev/ttyACM0: ready", h.Line.Backend)
			assert.Equal(t, "connected", h.Line.State)
			assert.Equal(t, uint64(2), h.Media.PacketsLost)
			assert.Equal(t, tt.sip.reg.State, h.Registration.State)
			assert.NotNil(t, h.Calls)
		})
	}
}

func TestMetrics(t *testing.T) {
	ts := newServer(t, fakeSIP{reg: status.Registration{State: status.RegRegistered}, calls: []status.Call{{ID: "c"}}})
	code, body := get(t, ts.URL+"/metrics")
	assert.Equal(t, 200, code)
	for _, want := range []string{
		"kurodenwa_gateway_sip_registered 1",
		`kurodenwa_gateway_sip_registration_state{state="failed"} 0`,
		`kurodenwa_gateway_phone_state{state="connected"} 1`,
		`kurodenwa_gateway_phone_state{state="idle"} 0`,
		`kurodenwa_gateway_calls_total{result="answered"} 3`,
		`kurodenwa_gateway_calls_total{result="missed"} 0`,
		"kurodenwa_gateway_sip_calls 1",
		`kurodenwa_gateway_rtp_packets_total{direction="received"} 498`,
		"kurodenwa_gateway_rtp_packets_lost_total 2",
		"kurodenwa_gateway_rtp_packets_late_total 1",
		"kurodenwa_gateway_rtp_jitter_seconds 0.004",
		"go_goroutines",
	} {
		assert.Contains(t, body, want)
	}
	code, _ = get(t, ts.URL+"/nothing")
	assert.Equal(t, 404, code)
}

func TestNoSources(t *testing.T) {
	s, err := status.New(status.Options{})
	require.NoError(t, err)
	h := s.Health()
	assert.True(t, h.OK)
	assert.Nil(t, h.Line)
	assert.Empty(t, h.Calls)
}

func TestServeAndShutdown(t *testing.T) {
	s, err := status.New(status.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	code, body := get(t, "http://"+ln.Addr().String()+"/health")
	assert.Equal(t, 200, code)
	assert.True(t, strings.Contains(body, `"ok": true`))
	cancel()
	require.NoError(t, <-done)

	err = s.ListenAndServe(context.Background(), "256.0.0.1:1")
	assert.ErrorContains(t, err, "listen 256.0.0.1:1")
}
