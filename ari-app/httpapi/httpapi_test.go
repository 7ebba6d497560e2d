package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/ari-app/call"
)

type stream struct{ up bool }

func (s stream) Connected() bool     { return s.up }
func (s stream) Connects() int64     { return 2 }
func (s stream) Failures() int64     { return 1 }
func (s stream) Events() int64       { return 40 }
func (s stream) DecodeErrors() int64 { return 0 }

func fixture() Snapshot {
	t0 := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	return Snapshot{
		Live: []call.CallRecord{{ID: "kd-call1", Direction: call.Inbound, Dialled: "+815012345678", Target: "blackphone", Created: t0,
			Parties: []call.PartyRecord{{Channel: "c1", Endpoint: "twilio", Role: call.RoleCaller}}}},
		Recent: []call.CallRecord{{ID: "kd-call0", Direction: call.Outbound, Created: t0, Answered: t0.Add(3 * time.Second),
			Ended: t0.Add(63 * time.Second), Result: call.ResultCompleted}},
		Stats: call.Stats{Active: 1, Queued: 2, Started: map[call.Direction]uint64{call.Inbound: 5},
			Setup: call.Histogram{Bounds: []time.Duration{time.Second}, Counts: []uint64{3, 1}, Sum: 2 * time.Second, Count: 4}},
	}
}

func server(t *testing.T, up bool, fail bool) *httptest.Server {
	src := func(context.Context) (Snapshot, error) {
		if fail {
			return Snapshot{}, errors.New("stuck")
		}
		return fixture(), nil
	}
	m := NewMetrics(src, stream{up: up})
	m.CallEnded(call.CallRecord{Direction: call.Outbound, Result: call.ResultBusy})
	srv := httptest.NewServer(New(src, Health{Connected: func() bool { return up }, Version: func() string { return "22.10.1" },
		Transfers: func() string { return "application" }, Started: time.Now()}, m))
	t.Cleanup(srv.Close)
	return srv
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
	code, body := get(t, server(t, true, false).URL+"/health")
	assert.Equal(t, http.StatusOK, code)
	var h map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &h))
	assert.Equal(t, true, h["ari_connected"])
	assert.Equal(t, "22.10.1", h["asterisk_version"])
	assert.Equal(t, "application", h["transfers"])

	code, body = get(t, server(t, false, false).URL+"/health")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "ari-disconnected")
}

func TestCalls(t *testing.T) {
	srv := server(t, true, false)
	code, body := get(t, srv.URL+"/calls")
	require.Equal(t, http.StatusOK, code)
	var out struct{ Live, Recent []callJSON }
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	require.Len(t, out.Live, 1)
	assert.Equal(t, "inbound", out.Live[0].Direction)
	assert.Equal(t, "caller", out.Live[0].Parties[0].Role)
	require.Len(t, out.Recent, 1)
	assert.Equal(t, "completed", out.Recent[0].Result)
	assert.Equal(t, 63.0, out.Recent[0].Seconds)

	code, body = get(t, srv.URL+"/calls/kd-call0")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"id": "kd-call0"`)
	code, _ = get(t, srv.URL+"/calls/nope")
	assert.Equal(t, http.StatusNotFound, code)

	code, _ = get(t, server(t, true, true).URL+"/calls")
	assert.Equal(t, http.StatusServiceUnavailable, code)
}

func TestMetrics(t *testing.T) {
	code, body := get(t, server(t, true, false).URL+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		"kurodenwa_calls_active 1",
		"kurodenwa_queue_length 2",
		`kurodenwa_calls_started_total{direction="inbound"} 5`,
		`kurodenwa_calls_ended_total{direction="outbound",result="busy"} 1`,
		`kurodenwa_call_setup_seconds_bucket{le="1"} 3`,
		"kurodenwa_call_setup_seconds_count 4",
		"kurodenwa_ari_connected 1",
		"kurodenwa_ari_reconnects_total 1",
	} {
		assert.True(t, strings.Contains(body, want), "metrics lack %q", want)
	}
}
