package status_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/status"
)

// TestClient reads the real server with the client both the demo and the
// daemon's tests use.
func TestClient(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		reg  string
		ok   bool
	}{{"registered", status.RegRegistered, true}, {"failed (503)", status.RegFailed, false}} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, fakeSIP{reg: status.Registration{State: tt.reg}})
			c := status.Client{Base: ts.URL}
			require.NoError(t, c.Wait(ctx, time.Second))
			h, err := c.Health(ctx)
			require.NoError(t, err)
			assert.Equal(t, tt.ok, h.OK)
			assert.Equal(t, tt.reg, h.Registration.State)
			assert.Equal(t, "connected", h.Line.State)
		})
	}

	ts := newServer(t, fakeSIP{reg: status.Registration{State: status.RegRegistered}})
	m, err := status.Client{Base: ts.URL, HTTP: ts.Client()}.Metrics(ctx)
	require.NoError(t, err)
	for key, want := range map[string]float64{
		status.MetricRegistered: 1,
		status.Labelled(status.MetricRegState, "state", status.RegRegistered):            1,
		status.Labelled(status.MetricPhoneState, "state", phone.StateConnected.String()): 1,
		status.Labelled(status.MetricPhoneState, "state", phone.StateIdle.String()):      0,
		status.Labelled(status.MetricCalls, "result", phone.ResultAnswered.String()):     3,
		status.Labelled(status.MetricCalls, "result", phone.ResultBusy.String()):         1,
		status.MetricActiveCalls: 0,
		status.SampleRTPSent:     500,
		status.SampleRTPReceived: 498,
		status.MetricRTPLost:     2,
		status.MetricRTPLate:     1,
		status.MetricRTPJitter:   0.004,
	} {
		v, ok := m.Values[key]
		assert.True(t, ok, "%s missing from %v", key, m.Values)
		assert.Equal(t, want, v, key)
	}
	assert.NotContains(t, m.Values, "go_goroutines", "only the gateway's own samples")
	assert.Contains(t, m.Lines, status.SampleRTPSent+" 500")
}

func TestClientUntypedAndErrors(t *testing.T) {
	ctx := context.Background()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "# TYPE kurodenwa_gateway_x untyped\nkurodenwa_gateway_x{b=\"2\",a=\"1\"} 7\nother 1\n")
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "teapot", http.StatusTeapot)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	c := status.Client{Base: ts.URL}

	m, err := c.Metrics(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{`kurodenwa_gateway_x{a="1",b="2"}`: 7}, m.Values)

	_, err = c.Health(ctx)
	assert.ErrorContains(t, err, "status 418: teapot")

	bad := status.Client{Base: ts.URL + "/nothing"}
	_, err = bad.Metrics(ctx)
	assert.ErrorContains(t, err, "status 404")
}

func TestClientWaitGivesUp(t *testing.T) {
	// A port that was free a moment ago: nothing answers there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := status.Client{Base: "http://" + addr}
	err = c.Wait(context.Background(), 50*time.Millisecond)
	assert.ErrorContains(t, err, "not answering within 50ms")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, c.Wait(ctx, time.Minute), context.Canceled)
}
